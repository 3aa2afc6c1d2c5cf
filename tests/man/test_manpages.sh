#!/usr/bin/env bash
# The man pages: lint-clean for mandoc and groff, and pam_tgotp.conf(5)
# documents exactly the keys the module accepts.
#   tests/man/test_manpages.sh [BUILD_DIR]
# BUILD_DIR holds tests/print_config_keys (make man-check builds it).
# Output: "PASS: ..." / "FAIL: ..." lines; exit 1 on any failure.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
pages=("$top"/man/*.[1-8])
failed=0

pass() { echo "PASS: $*"; }
fail() {
	echo "FAIL: $*"
	failed=1
}

# Any message is a failure: what the checkers print is what a reader of the
# page would stumble on. Style messages are left out: "referenced manual not
# found" depends on the manuals installed on the machine.
lint() { # name, command...
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" = 0 ] && [ -z "$out" ]; then
		pass "$name"
	else
		fail "$name (exit $rc)"
		printf '%s\n' "$out" | sed 's/^/    /'
	fi
}

for page in "${pages[@]}"; do
	name=man/$(basename "$page")
	if command -v mandoc >/dev/null; then
		lint "$name: mandoc -T lint -W warning" mandoc -T lint -W warning "$page"
	else
		fail "$name: mandoc is not installed (scripts/install-deps.sh)"
	fi
	if command -v groff >/dev/null; then
		lint "$name: groff -ww -z -mdoc" groff -ww -z -mdoc "$page"
	else
		fail "$name: groff is not installed (scripts/install-deps.sh)"
	fi
done

# The keys pam_tgotp.conf(5) documents: between the comments
# '.\" tgotp-keys: SECTION' and '.\" tgotp-keys: end', each ".It Cm KEY" of an
# outermost list; "top" is the top level, any other SECTION prints
# "SECTION|KEY", as print_config_keys does.
documented_keys() {
	awk '
	$1 == ".\\\"" && $2 == "tgotp-keys:" {
		region = ($3 == "end") ? "" : $3
		depth = 0
		next
	}
	region == "" { next }
	$1 == ".Bl" { depth++; next }
	$1 == ".El" { depth--; next }
	depth == 1 && $1 == ".It" && $2 == "Cm" {
		print (region == "top" ? "" : region "|") $3
	}' "$1"
}

conf="$top/man/pam_tgotp.conf.5"
keys_bin="$build/tests/print_config_keys"
if [ ! -x "$keys_bin" ]; then
	fail "pam_tgotp.conf(5) keys: $keys_bin is missing (make man-check builds it)"
else
	module=$("$keys_bin" | LC_ALL=C sort) || fail "pam_tgotp.conf(5) keys: $keys_bin failed"
	page=$(documented_keys "$conf" | LC_ALL=C sort)
	dups=$(printf '%s\n' "$page" | uniq -d)
	missing=$(LC_ALL=C comm -23 <(printf '%s\n' "$module") <(printf '%s\n' "$page" | uniq))
	extra=$(LC_ALL=C comm -13 <(printf '%s\n' "$module") <(printf '%s\n' "$page" | uniq))
	if [ -z "$module" ]; then
		fail "pam_tgotp.conf(5) keys: the module lists no keys"
	elif [ -z "$missing$extra$dups" ]; then
		pass "pam_tgotp.conf(5) documents the module's $(printf '%s\n' "$module" | wc -l) keys, no more"
	fi
	for k in $missing; do fail "pam_tgotp.conf(5) keys: the module accepts $k, the page does not document it"; done
	for k in $extra; do fail "pam_tgotp.conf(5) keys: the page documents $k, the module does not accept it"; done
	for k in $dups; do fail "pam_tgotp.conf(5) keys: the page documents $k more than once"; done
fi

exit $failed
