#!/usr/bin/env bash
# What an administrator might hook in with pam_exec instead of the module:
# the same three Gateway calls as pam_tgotp (checkSendAbility, then
# sendVerificationMessage with its request_id, then checkVerificationStatus),
# one curl process each, TLS verified against CA_FILE. make bench times it.
#   curl-login.sh API_URL CA_FILE TOKEN_FILE PHONE CONTROL_PORT
# The code is read from the mock Gateway's /last on CONTROL_PORT (bash's
# /dev/tcp: no extra process), as the person would read it off the phone.
set -euo pipefail
url=$1 ca=$2 phone=$4 control=$5
IFS= read -r token <"$3"
# The token goes in through stdin (-H @file), never on a command line.
call() { # method json -> the answer on stdout, or exit 1
	local out
	out=$(curl -sS --proto =https --cacert "$ca" --max-time 10 -H @/dev/stdin \
		-H 'Content-Type: application/json' --data-binary "$2" "$url/$1" \
		<<<"Authorization: Bearer $token")
	[[ $out == *'"ok":true'* ]] || { echo "$1: $out" >&2; exit 1; }
	printf '%s' "$out"
}
request_id() { [[ $1 =~ \"request_id\":\"([0-9]+)\" ]] && printf '%s' "${BASH_REMATCH[1]}"; }

ability=$(call checkSendAbility "{\"phone_number\":\"$phone\"}")
rid=$(request_id "$ability")
sent=$(call sendVerificationMessage "{\"phone_number\":\"$phone\",\"request_id\":\"$rid\",\"code_length\":6,\"ttl\":300,\"payload\":\"sshd bench@host from 192.0.2.7\"}")
rid=$(request_id "$sent")

exec 3<>"/dev/tcp/127.0.0.1/$control"
printf 'GET /last HTTP/1.0\r\n\r\n' >&3
last=
while IFS= read -r -u 3 line || [ -n "$line" ]; do last+=$line; done
exec 3<&-
[[ $last =~ \"code\":\"([0-9]+)\" ]] || { echo "no code from the mock" >&2; exit 1; }
code=${BASH_REMATCH[1]}

status=$(call checkVerificationStatus "{\"request_id\":\"$rid\",\"code\":\"$code\"}")
[[ $status == *'"status":"code_valid"'* ]] || { echo "not verified: $status" >&2; exit 1; }
