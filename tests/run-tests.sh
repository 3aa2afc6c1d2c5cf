#!/usr/bin/env bash
# Runs every test program of one build flavour against a fresh mock Gateway.
#   tests/run-tests.sh plain|asan|valgrind BUILD_DIR
# Prints one line per program and "MODE: N passed, N failed, N skipped";
# writes the same counts to BUILD_DIR/results-MODE. Exits non-zero on any
# failure unless TGOTP_KEEP_GOING=1 (make check sums all flavours first).
set -uo pipefail
mode=${1:?mode}
build=${2:?build dir}
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$top" && cd "$build" && pwd)
out="$build/test-output/$mode"
certs="$build/certs"
mkdir -p "$out"

[ -f "$certs/ca.pem" ] || "$top/tests/certs/gen-certs.sh" "$certs" || exit 2

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

passed=0 failed=0 skipped=0
run() { # name, command...
	local name=$1; shift
	local log="$out/$name.log" rc ok bad
	# Counted from stdout alone: stderr lines could split a result line.
	"${wrap[@]}" "$@" >"$log" 2>"$log.stderr"
	rc=$?
	ok=$(grep -cE '^\[       OK \]|^PASS:' "$log")
	bad=$(grep -cE '^FAIL:' "$log")
	case $rc in
	0) ;;
	77) skipped=$((skipped + 1)); echo "SKIP $name: $(grep -hm1 '^SKIP' "$log" "$log.stderr")"; return ;;
	98) bad=$((bad + 1)); echo "  $name: sanitizer report (see $log)" ;;
	99) bad=$((bad + 1)); echo "  $name: valgrind errors (see $log)" ;;
	*) if [ "$rc" -lt 77 ] && grep -q '^\[==========\]' "$log"; then bad=$((bad + rc)); else
		bad=$((bad + 1)); echo "  $name: exit $rc (see $log)"; fi ;;
	esac
	passed=$((passed + ok)) failed=$((failed + bad))
	printf '%-4s %-24s %3d passed, %d failed\n' "$([ "$bad" = 0 ] && echo ok || echo FAIL)" \
		"$name" "$ok" "$bad"
	[ "$bad" = 0 ] || grep -hE '^\[  (FAILED|ERROR)  \]|^FAIL|ERROR SUMMARY|SUMMARY:|^==.*(lost|Invalid)' \
		"$log" "$log.stderr" | head -20 | sed 's/^/     /'
}

for t in "$build"/tests/test_*; do
	case $(basename "$t") in
	test_exports) run test_exports "$t" "$build/pam_tgotp.so" ;;
	*) run "$(basename "$t")" "$t" ;;
	esac
done

# Real programs (sshd, sudo, login, pam_oath) on loopback: they test the
# stacks, not our memory, so plain mode only. Root only; SKIP elsewhere.
if [ "$mode" = plain ]; then
	for t in "$top"/tests/system/test_*.sh; do
		run "system-$(basename "$t" .sh)" bash "$t"
	done
	run man-pages bash "$top/tests/man/test_manpages.sh" "$build"
fi

# The administrator's command, run for real (tests/cli/); the script runs
# each tgotp itself (under valgrind with TGOTP_CLI_VALGRIND=1).
if [ "$mode" != valgrind ]; then
	for t in "$top"/tests/cli/test_*.py; do
		run "cli-$(basename "$t" .py)" python3 "$t" "$build"
	done
fi

echo "$passed $failed $skipped" >"$build/results-$mode"
echo "$mode: $passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] || [ "${TGOTP_KEEP_GOING:-0}" = 1 ] || exit 1
