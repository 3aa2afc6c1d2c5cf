#!/usr/bin/env bash
# make demo: a real PAM login (libpam, the built module, TLS) for user "demo".
#   against the bundled mock Gateway:   make demo
#   against the real Telegram Gateway:  make demo TOKEN_FILE=/path/to/token PHONE=+4420...
# Nothing outside a temporary directory is touched (but the test CA in
# build/certs): the PAM service file is read from there through
# pam_start_confdir, and the module keeps its rate limits there (state_dir).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"
if [ "$(id -u)" != 0 ]; then
	echo "make demo must run as root (sudo make demo): the module accepts only" >&2
	echo "root-owned configuration and token files, as it will on a server." >&2
	exit 1
fi
dir=$(mktemp -d /tmp/tgotp-demo.XXXXXX)
mock=
cleanup() {
	[ -n "$mock" ] && kill "$mock" 2>/dev/null && wait "$mock" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
mkdir "$dir/pam.d"

if [ -n "${TOKEN_FILE:-}" ] || [ -n "${PHONE:-}" ]; then
	if [ -z "${TOKEN_FILE:-}" ] || [ -z "${PHONE:-}" ]; then
		echo "give both TOKEN_FILE and PHONE for the real Gateway" >&2
		exit 2
	fi
	install -m 0600 -o root -g root "$TOKEN_FILE" "$dir/token"
	# API_URL and CA_FILE point the demo at another Gateway (a stand-in).
	api_url=${API_URL:-https://gatewayapi.telegram.org} ca_file=${CA_FILE:-} phone=$PHONE
	echo "== ${API_URL:-Real Telegram Gateway}: the code goes to $PHONE (free when it is your own number)."
else
	"$top/tests/certs/gen-certs.sh" "$build/certs" >/dev/null
	printf 'demo-token\n' >"$dir/token"
	chmod 0600 "$dir/token"
	python3 "$top/tests/mock/mock_gateway.py" --certs "$build/certs" --token demo-token \
		--ports-file "$dir/ports" 2>/dev/null &
	mock=$!
	for _ in $(seq 100); do [ -s "$dir/ports" ] && break; sleep 0.1; done
	port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["gateway"])' "$dir/ports")
	api_url=https://127.0.0.1:$port ca_file=$build/certs/ca.pem phone="+44 20 7946 0958"
	echo "== Mock Telegram Gateway on https://127.0.0.1:$port (TLS, test CA)."
	echo "== The 'Telegram message' the mock delivers is printed below; type its code."
fi
cat >"$dir/pam_tgotp.conf" <<CONF
api_url = "$api_url"
ca_file = "$ca_file"
token_file = "$dir/token"
users_file = "$dir/users"
state_dir = "$dir/state"
user demo { phone = "$phone" }
CONF
chmod 0600 "$dir/pam_tgotp.conf"
echo "auth required $build/pam_tgotp.so config=$dir/pam_tgotp.conf" >"$dir/pam.d/tgotp-demo"
echo "auth required pam_deny.so" >"$dir/pam.d/other"
echo "== PAM service file: auth required pam_tgotp.so config=..."
echo "== Logging in as 'demo'..."
echo
set +e
"$build/tools/tgotp-login" "$dir/pam.d" tgotp-demo demo demo-client.example
rc=$?
set -e
echo
[ $rc = 0 ] && echo "== Login succeeded." || echo "== Login refused (exit $rc)."
exit $rc
