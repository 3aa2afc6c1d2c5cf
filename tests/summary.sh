#!/usr/bin/env bash
# Adds up the results files of tests/run-tests.sh and tests/fuzz/run-fuzz.sh
# ("PASSED FAILED SKIPPED [SKIPPED NAME...]") into the closing line, with
# the names of what was skipped. Under CI=true a skip fails it too.
p=0 f=0 s=0 names=()
for r in "$@"; do
	if [ ! -f "$r" ]; then echo "missing results: $r"; f=$((f + 1)); continue; fi
	read -r a b c skipped <"$r"
	p=$((p + a)) f=$((f + b)) s=$((s + c))
	[ -z "$skipped" ] || names+=("${r##*/results-}: $skipped")
done
line="total: $p passed, $f failed, $s skipped"
if [ ${#names[@]} -gt 0 ]; then
	line+=" ($(printf '%s; ' "${names[@]}"))" && line=${line/%; )/)}
fi
echo "$line"
if [ "$s" != 0 ] && [ "${CI:-}" = true ]; then
	echo "a skip is a failure under CI=true"
	exit 1
fi
[ "$f" = 0 ]
