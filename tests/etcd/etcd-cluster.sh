#!/usr/bin/env bash
# etcd-cluster.sh DIR CERTS start - a throwaway etcd cluster of three members
# on loopback for the store tests, TLS everywhere and client certificates
# required (--client-cert-auth), with the certificates of
# tests/certs/gen-certs.sh in CERTS. Members m1..m3 keep their data and logs
# under DIR (new or made by this script before). Prints, for the tests:
#   TGOTP_ETCD_ENDPOINTS  "https://127.0.0.1:P1 https://127.0.0.1:P2 https://127.0.0.1:P3"
#   TGOTP_ETCD_DEAD       an https:// loopback port nothing listens on
# or TGOTP_ETCD_SKIP when etcd is not installed.
#
# etcd-cluster.sh DIR - stop|kill N|start N|pid N
#   stop      stops every member and removes DIR
#   kill N    stops member N (SIGTERM, then waits)
#   start N   starts member N again on its data
#   pid N     prints member N's pid (the tests stall it with SIGSTOP)
set -euo pipefail
dir=${1:?usage: etcd-cluster.sh DIR CERTS start | DIR - stop|kill N|start N|pid N}
certs=${2:-}
cmd=${3:-start}
PATH=$PATH:/usr/sbin:/sbin

member_pid() { cat "$dir/m$1/pid" 2>/dev/null || true; }

# alive PID: running or stopped, not gone and not a zombie. The members'
# parent (this script) has exited, so the dead wait as zombies until the
# system's init reaps them, which may take seconds: kill -0 would count them.
alive() {
	local state
	state=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

kill_member() {
	local pid
	pid=$(member_pid "$1")
	[ -n "$pid" ] || return 0
	kill -CONT "$pid" 2>/dev/null || true # a stalled member dies too
	kill "$pid" 2>/dev/null || true
	for _ in $(seq 100); do alive "$pid" || break; sleep 0.05; done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$dir/m$1/pid"
}

# start_member N: in the background, its flags from DIR/cluster.
start_member() {
	local n=$1 client peer
	# shellcheck source=/dev/null
	. "$dir/cluster"
	client=${clients[$((n - 1))]} peer=${peers[$((n - 1))]}
	# Short heartbeats: a stopped member is noticed (and a leader elected)
	# within a second. No fsync worth waiting for: DIR is a test's.
	etcd --name "m$n" --data-dir "$dir/m$n/data" \
		--listen-client-urls "https://127.0.0.1:$client" \
		--advertise-client-urls "https://127.0.0.1:$client" \
		--listen-peer-urls "https://127.0.0.1:$peer" \
		--initial-advertise-peer-urls "https://127.0.0.1:$peer" \
		--initial-cluster "$initial" --initial-cluster-state new \
		--initial-cluster-token tgotp-tests \
		--cert-file "$certs/etcd-server.pem" --key-file "$certs/etcd-server.key" \
		--trusted-ca-file "$certs/ca.pem" --client-cert-auth \
		--peer-cert-file "$certs/etcd-server.pem" --peer-key-file "$certs/etcd-server.key" \
		--peer-trusted-ca-file "$certs/ca.pem" --peer-client-cert-auth \
		--heartbeat-interval 50 --election-timeout 500 \
		--logger zap --log-outputs stderr --log-level warn \
		</dev/null >>"$dir/m$n/log" 2>&1 &
	echo $! >"$dir/m$n/pid"
}

case $cmd in
stop)
	[ -f "$dir/.tgotp-etcd" ] || exit 0 # only a directory of ours
	for n in 1 2 3; do kill_member "$n"; done
	rm -rf "$dir"
	exit 0 ;;
kill) kill_member "${4:?member}"; exit 0 ;;
pid) member_pid "${4:?member}"; exit 0 ;;
start)
	if [ -n "${4:-}" ]; then
		certs=$(sed -n 's/^certs=//p' "$dir/cluster")
		start_member "$4"
		exit 0
	fi ;;
*) echo "etcd-cluster.sh: unknown command $cmd" >&2; exit 2 ;;
esac

if ! command -v etcd >/dev/null; then
	echo "export TGOTP_ETCD_SKIP='etcd-server not installed'"
	exit 0
fi
certs=$(cd "${certs:?CERTS}" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/.tgotp-etcd" ]; then
	echo "etcd-cluster.sh: $dir is not empty and not ours" >&2
	exit 2
fi
touch "$dir/.tgotp-etcd"
# Free loopback ports, picked by the kernel: three client, three peer, one dead.
read -r c1 c2 c3 p1 p2 p3 dead < <(python3 -c '
import socket
s = [socket.socket() for _ in range(7)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')
cat >"$dir/cluster" <<EOF
certs=$certs
clients=($c1 $c2 $c3)
peers=($p1 $p2 $p3)
initial=m1=https://127.0.0.1:$p1,m2=https://127.0.0.1:$p2,m3=https://127.0.0.1:$p3
EOF
for n in 1 2 3; do
	mkdir -p "$dir/m$n"
	start_member "$n"
done
# Ready when a write goes through (a leader was elected).
for _ in $(seq 200); do
	if ETCDCTL_API=3 etcdctl --endpoints "https://127.0.0.1:$c1" --cacert "$certs/ca.pem" \
		--cert "$certs/etcd-client.pem" --key "$certs/etcd-client.key" \
		--dial-timeout 1s --command-timeout 2s put /tgotp-ready 1 >/dev/null 2>&1; then
		echo "export TGOTP_ETCD_ENDPOINTS='https://127.0.0.1:$c1 https://127.0.0.1:$c2 https://127.0.0.1:$c3'"
		echo "export TGOTP_ETCD_DEAD=https://127.0.0.1:$dead"
		exit 0
	fi
	sleep 0.1
done
echo "etcd did not start:" >&2
tail -n 20 "$dir"/m*/log >&2
"$0" "$dir" - stop
exit 1
