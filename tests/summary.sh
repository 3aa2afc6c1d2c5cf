#!/usr/bin/env bash
# Adds up the results files of tests/run-tests.sh into the closing line.
p=0 f=0 s=0
for r in "$@"; do
	if [ ! -f "$r" ]; then echo "missing results: $r"; f=$((f + 1)); continue; fi
	read -r a b c <"$r"
	p=$((p + a)) f=$((f + b)) s=$((s + c))
done
echo "total: $p passed, $f failed, $s skipped"
[ "$f" = 0 ]
