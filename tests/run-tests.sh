#!/usr/bin/env bash
# Runs every test program of one build flavour against a fresh mock Gateway.
#   tests/run-tests.sh plain|asan|valgrind BUILD_DIR
# Prints one line per program and "MODE: N passed, N failed, N skipped
# (names)"; writes the same counts and the skipped names to
# BUILD_DIR/results-MODE (tests/summary.sh adds them up). Exits non-zero on
# any failure unless TGOTP_KEEP_GOING=1 (make check sums all flavours first).
# TGOTP_ONLY='PATTERN' (a shell pattern, e.g. 'integration/test_store|system-*'
# with | between patterns) runs only the programs whose names match.
# A program that exits 77 (or a case that prints "SKIP: ...") is skipped;
# under CI=true it is a failure: the CI machine has all the tests need. A
# program still running after its mode's limit is killed and fails.
set -uo pipefail
mode=${1:?mode}
build=${2:?build dir}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && cd "$build" && pwd)
out="$build/test-output/$mode"
certs="$build/certs"
mkdir -p "$out/unit" "$out/integration"

[ -f "$certs/etcd-client.pem" ] || "$top/tests/certs/gen-certs.sh" "$certs" || exit 2

# A ports file of this run's own: several runs may share a build directory.
ports=$(mktemp /tmp/tgotp-mock-ports.XXXXXX)
rm -f "$ports"
python3 "$top/tests/mock/mock_gateway.py" --certs "$certs" --ports-file "$ports" --quiet --max-attempts 5 \
	>"$out/mock.log" 2>&1 &
mock=$!
ldapdir=$(mktemp -d /tmp/tgotp-slapd.XXXXXX) # slapd for test_ldap (tests/ldap/)
trap 'kill $mock 2>/dev/null; wait $mock 2>/dev/null; rm -f "$ports"; "$top/tests/ldap/slapd-stop.sh" "$ldapdir"' EXIT
for _ in $(seq 100); do [ -s "$ports" ] && break; sleep 0.1; done
if [ ! -s "$ports" ]; then
	echo "mock Gateway did not start:"; cat "$out/mock.log"; exit 2
fi

export TGOTP_MOCK_PORTS="$ports" TGOTP_CERTS="$certs" TGOTP_MODULE="$build/pam_tgotp.so"
ldapenv=$("$top/tests/ldap/slapd-start.sh" "$ldapdir" "$certs" "$out") || exit 2
eval "$ldapenv"
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=98"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=98"

case $mode in
valgrind)
	wrap=(valgrind -q --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99
		--track-fds=no --suppressions="$top/tests/valgrind.supp") ;;
*) wrap=() ;;
esac
# How much slower than plain a flavour runs: tests that bound a time (a lock's
# deadline, an LDAP timeout) widen their margin, never the deadline itself.
case $mode in plain) scale=1 ;; asan) scale=2 ;; *) scale=4 ;; esac
export TGOTP_TIME_SCALE=${TGOTP_TIME_SCALE:-$scale}

# Seconds a program may take before it counts as hung: 5 to 6 times the
# slowest one measured on two shared cores (test_pam: plain 21 s, asan 26 s,
# valgrind 46 s; system-test_sshd 54 s).
case $mode in
plain) limit=120 ;;
asan) limit=180 ;;
valgrind) limit=300 ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
system_limit=300
# TGOTP_TEST_TIMEOUT=SECONDS: one limit for every program (a slow machine).
limit=${TGOTP_TEST_TIMEOUT:-$limit} system_limit=${TGOTP_TEST_TIMEOUT:-$system_limit}

passed=0 failed=0 skipped=0 skipnames=()
wanted() { # name: whether TGOTP_ONLY lets it run
	local p IFS='|'
	[ -n "${TGOTP_ONLY:-}" ] || return 0
	for p in $TGOTP_ONLY; do
		# shellcheck disable=SC2053 # a pattern on purpose
		[[ $1 == $p ]] && return 0
	done
	return 1
}
# A skip: counted, or under CI=true a failure ($bad of the caller).
skip() { # name, reason
	if [ "${CI:-}" = true ]; then
		bad=$((bad + 1)); echo "  $1: skipped, a failure under CI=true: $2"
	else
		skipped=$((skipped + 1)) skipnames+=("$1"); echo "SKIP $1: $2"
	fi
}
run() { # seconds, name, command...
	local limit=$1 name=$2; shift 2
	wanted "$name" || return 0
	local log="$out/$name.log" rc ok bad start=$SECONDS line
	# Counted from stdout alone: stderr lines could split a result line.
	# --kill-after: a program that ignores SIGTERM, and what it forked.
	timeout --kill-after=30 "$limit" "${wrap[@]}" "$@" >"$log" 2>"$log.stderr"
	rc=$?
	ok=$(grep -cE '^\[       OK \]|^PASS:' "$log")
	bad=$(grep -cE '^FAIL:' "$log")
	case $rc in
	0) ;;
	77) ok=0 line=$(grep -hm1 '^SKIP' "$log" "$log.stderr"); skip "$name" "${line#SKIP: }" ;;
	98) bad=$((bad + 1)); echo "  $name: sanitizer report (see $log)" ;;
	99) bad=$((bad + 1)); echo "  $name: valgrind errors (see $log)" ;;
	*) if [ "$rc" = 124 ] || { [ "$rc" = 137 ] && [ $((SECONDS - start)) -ge "$limit" ]; }; then
		bad=$((bad + 1)); echo "  $name: timed out after $limit s (see $log)"
	elif [ "$rc" -lt 77 ] && grep -q '^\[==========\]' "$log"; then bad=$((bad + rc)); else
		[ "$bad" -gt 0 ] || bad=1; echo "  $name: exit $rc (see $log)"; fi ;;
	esac
	# cases a program skipped while the rest of it ran: "SKIP: case: reason"
	[ "$rc" = 77 ] || while IFS= read -r line; do
		line=${line#SKIP: }
		skip "$name:${line%%: *}" "${line#*: }"
	done < <(grep '^SKIP:' "$log")
	if [ "$rc" = 77 ] && [ "$bad" = 0 ]; then return; fi
	passed=$((passed + ok)) failed=$((failed + bad))
	printf '%-4s %-28s %3d passed, %d failed in %d s\n' "$([ "$bad" = 0 ] && echo ok || echo FAIL)" \
		"$name" "$ok" "$bad" $((SECONDS - start))
	[ "$bad" = 0 ] || grep -hE '^\[  (FAILED|ERROR)  \]|^FAIL|ERROR SUMMARY|SUMMARY:|^==.*(lost|Invalid)' \
		"$log" "$log.stderr" | head -20 | sed 's/^/     /'
}

# Unit tests first, then integration tests: each kind has its own build
# directory (Makefile), named in the results as unit/test_X, integration/test_X.
for t in "$build"/tests/unit/test_* "$build"/tests/integration/test_*; do
	name=$(basename "$(dirname "$t")")/$(basename "$t")
	case $name in
	integration/test_exports) run "$limit" "$name" "$t" "$build/pam_tgotp.so" ;;
	*) run "$limit" "$name" "$t" ;;
	esac
done

# The mock's own tests (Python, one PASS:/FAIL: line per case) and real
# programs (sshd, sudo, login, pam_oath) on loopback: they test the mock and
# the stacks, not our memory, so plain mode only. Root only; SKIP elsewhere.
if [ "$mode" = plain ]; then
	run "$limit" mock-selftest python3 "$top/tests/mock/test_mock_gateway.py"
	for t in "$top"/tests/system/test_*.sh; do
		run "$system_limit" "system-$(basename "$t" .sh)" bash "$t"
	done
	run "$limit" man-pages bash "$top/tests/man/test_manpages.sh" "$build"
	# The .deb and .rpm built, linted, installed, logged in through, upgraded
	# and purged (146 s measured); its lint counts shown here.
	run "${TGOTP_TEST_TIMEOUT:-480}" package bash "$top/tests/package/test_package.sh" "$build"
	[ ! -f "$out/package.log" ] || sed -n 's/^LINT: /     /p' "$out/package.log"
	run "$limit" bench-quick python3 "$top/bench/bench.py" "$build" --quick # make bench, small
fi

# The administrator's command, run for real (tests/cli/); the script runs
# each tgotp itself (under valgrind with TGOTP_CLI_VALGRIND=1).
if [ "$mode" != valgrind ]; then
	for t in "$top"/tests/cli/test_*.py; do
		run "$limit" "cli-$(basename "$t" .py)" python3 "$t" "$build"
	done
fi

echo "$passed $failed $skipped ${skipnames[*]}" >"$build/results-$mode"
echo "$mode: $passed passed, $failed failed, $skipped skipped${skipnames:+ (${skipnames[*]})}"
[ "$failed" = 0 ] || [ "${TGOTP_KEEP_GOING:-0}" = 1 ] || exit 1
