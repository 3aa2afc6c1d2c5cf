#!/usr/bin/env bash
# slapd-stop.sh DIR - stops the servers slapd-start.sh DIR started (also one a
# test left stalled with SIGSTOP, or already stopped) and removes DIR.
set -uo pipefail
dir=${1:?usage: slapd-stop.sh DIR}
for f in "$dir"/*/pid; do
	[ -f "$f" ] || continue
	pid=$(cat "$f")
	rm -f "$f"
	kill -0 "$pid" 2>/dev/null || continue
	kill -CONT "$pid" 2>/dev/null
	kill -TERM "$pid" 2>/dev/null
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$pid" 2>/dev/null
done
[ -f "$dir/.tgotp-slapd" ] && rm -rf "$dir"
exit 0
