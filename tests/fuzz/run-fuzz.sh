#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for a fixed time.
#   tests/fuzz/run-fuzz.sh BUILD_DIR SECONDS [JOBS]
# JOBS targets run at once (default 2: one core each). Each one starts from
# its seed corpus (tests/fuzz/corpus/NAME, read only) plus what earlier runs
# found (BUILD_DIR/corpus/NAME). Prints one line per target with libFuzzer's
# execution count, then "fuzz: N passed, N failed". Any finding (crash,
# sanitizer report, leak, timeout, out of memory, broken invariant) fails the
# target; the input is in BUILD_DIR/artifacts/NAME/ and the log in
# BUILD_DIR/logs/NAME.log. So does a target that hangs as a whole or was not
# built: nothing is ever skipped.
set -uo pipefail
build=${1:?build dir}
seconds=${2:?seconds}
jobs=${3:-2}
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$top" && cd "$build" && pwd)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# One target; writes its result line to BUILD_DIR/results/NAME.
run_one() {
	local name=$1 bin="$build/fuzz_$1" log="$build/logs/$1.log" dict=() seeds=() rc execs
	local limit=$((seconds + 300)) how
	mkdir -p "$build/corpus/$name" "$build/artifacts/$name"
	[ -f "$top/tests/fuzz/$name.dict" ] && dict=(-dict="$top/tests/fuzz/$name.dict")
	[ -d "$top/tests/fuzz/corpus/$name" ] && seeds=("$top/tests/fuzz/corpus/$name")
	# -timeout: one input that takes 25 s is a hang, not a slow machine;
	# timeout(1): a target that hangs outside libFuzzer's loop.
	timeout --kill-after=30 "$limit" "$bin" -max_total_time="$seconds" -print_final_stats=1 \
		-timeout=25 -rss_limit_mb=2048 -max_len=4096 -artifact_prefix="$build/artifacts/$name/" "${dict[@]}" \
		"$build/corpus/$name" "${seeds[@]}" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ "$rc" = 0 ] && [ -n "$execs" ]; then
		printf 'ok   %-14s %10s executions in %s s\n' "$name" "$execs" "$seconds"
	else
		how="exit $rc"
		case $rc in 124 | 137) how="timed out after $limit s (exit $rc)" ;; esac
		printf 'FAIL %-14s %s after %s executions; log %s\n' "$name" "$how" \
			"${execs:-?}" "$log"
		grep -E '^(==[0-9]+==ERROR|SUMMARY|.*invariant broken|artifact_prefix|Test unit written)' \
			"$log" | head -8 | sed 's/^/     /'
	fi >"$build/results/$name"
}

rm -rf "$build/results"
mkdir -p "$build/results" "$build/logs"
# Every target of tests/fuzz: one not built fails, it is not left out.
names=()
for src in "$top"/tests/fuzz/fuzz_*.c; do
	name=${src##*/fuzz_} name=${name%.c}
	names+=("$name")
	[ -x "$build/fuzz_$name" ] ||
		echo "FAIL $name: not built ($build/fuzz_$name; make fuzz-build)" >"$build/results/$name"
done
if [ ${#names[@]} = 0 ]; then
	echo "fuzz: no tests/fuzz/fuzz_*.c"
	exit 2
fi

echo "fuzz: ${#names[@]} targets, $seconds s each, $jobs at a time"
running=0
for name in "${names[@]}"; do
	[ -e "$build/results/$name" ] && continue
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
	run_one "$name" &
	running=$((running + 1))
done
wait

passed=0 failed=0
for name in "${names[@]}"; do
	cat "$build/results/$name"
	if grep -q '^ok ' "$build/results/$name"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
done
echo "$passed $failed 0" >"$build/results-fuzz" # a target never skips
echo "fuzz: $passed passed, $failed failed"
[ "$failed" = 0 ] || [ "${TGOTP_KEEP_GOING:-0}" = 1 ]
