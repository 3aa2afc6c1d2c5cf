#!/usr/bin/env bash
# slapd-start.sh DIR CERTS [LOGDIR] - starts the throwaway directory servers of
# the LDAP tests on loopback, each with its own slapd.conf and mdb database
# under DIR (new or made by this script before), loaded from data.ldif, their messages in
# LOGDIR/slapd-NAME.log (default DIR). Prints the shell lines that export
# where they listen, for the test programs:
#   TGOTP_LDAP_URI, TGOTP_LDAPS_URI   StartTLS and ldaps:// of the main server
#                                     (certificate ldap.pem from the test CA)
#   TGOTP_LDAPS_WRONGHOST_URI         the same on 127.0.0.2, an address its
#                                     certificate does not name
#   TGOTP_LDAPI_URI                   the main server's local socket (ldapi://
#                                     with the URL-encoded path of DIR/main/ldapi)
#   TGOTP_LDAP_PID                    its pid (the tests stall it with SIGSTOP)
#   TGOTP_LDAP_LOCKOUT_DN             a bind account of the main server (from
#                                     lockout.ldif, in a database of its own
#                                     with the ppolicy overlay) that three
#                                     failed binds lock for good
#   TGOTP_LDAP_OTHER_URI, TGOTP_LDAPS_OTHER_URI, TGOTP_LDAP_OTHER_PID
#                                     the same data behind other-server.pem,
#                                     from a CA the tests do not trust
#   TGOTP_LDAP_DEAD_URI               a loopback port nothing listens on
# or TGOTP_LDAP_SKIP when slapd cannot run here. CERTS is what
# tests/certs/gen-certs.sh produced. Stop them with slapd-stop.sh DIR.
set -euo pipefail
dir=${1:?usage: slapd-start.sh DIR CERTS [LOGDIR]}
certs=$(cd "${2:?usage: slapd-start.sh DIR CERTS [LOGDIR]}" && pwd)
logs=${3:-$dir}
here=$(cd "$(dirname "$0")" && pwd)
PATH=$PATH:/usr/sbin:/sbin
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
if [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/.tgotp-slapd" ]; then
	echo "slapd-start.sh: $dir is not empty and not ours" >&2
	exit 2
fi
"$here/slapd-stop.sh" "$dir" # servers of an earlier start, if any
mkdir -p "$dir"
touch "$dir/.tgotp-slapd" # slapd-stop.sh removes only such a directory
mkdir -p "$logs"

skip() {
	printf 'export TGOTP_LDAP_SKIP=%q\n' "$1"
	exit 0
}
[ "$(id -u)" = 0 ] || skip "the slapd tests run as root"
command -v slapd >/dev/null && command -v slapadd >/dev/null && command -v ldapsearch >/dev/null ||
	skip "slapd or ldap-utils is not installed"

# Free loopback ports, picked by the kernel.
read -r p_ldap p_ldaps p_oldap p_oldaps p_dead < <(python3 -c '
import socket
s = [socket.socket() for _ in range(5)]
for x in s: x.bind(("127.0.0.1", 0))
print(*[x.getsockname()[1] for x in s])')

# The database of lockout.ldif, added to the main server only: its overlay
# and policy stay away from the accounts the other tests bind with.
lockout_db() {
	cat <<CONF

database mdb
maxsize 16777216
suffix "o=lockout"
directory $1/lockdb
# ppolicy records failures and the lock as this DN: without it, its
# write of pwdAccountLockedTime fails the ACLs and nothing is ever locked.
# No rootpw: nobody can bind as it.
rootdn "cn=ppolicy,o=lockout"
overlay ppolicy
ppolicy_default "cn=default policy,o=lockout"
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by * read
CONF
}

# start NAME CERT PORT_LDAP PORT_LDAPS [MORE_URLS]: one slapd in the foreground (-d 0
# keeps it attached and its messages on stderr), pid in NAME/pid.
start() {
	local d="$dir/$1" cert=$2 log="$logs/slapd-$1.log" i
	mkdir -p "$d/db" "$d/lockdb"
	cat >"$d/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
moduleload ppolicy
pidfile $d/slapd.pid
argsfile $d/slapd.args
TLSCACertificateFile $certs/ca.pem
TLSCertificateFile $certs/$cert.pem
TLSCertificateKeyFile $certs/$cert.key

database mdb
maxsize 16777216
suffix "dc=example,dc=org"
directory $d/db
access to attrs=userPassword
	by anonymous auth
	by * none
access to attrs=telephoneNumber
	by dn.exact="cn=reader,dc=example,dc=org" read
	by * none
access to dn.exact="uid=lena,ou=people,dc=example,dc=org" attrs=mobile
	by dn.exact="cn=reader,dc=example,dc=org" read
	by * none
access to *
	by * read
CONF
	[ "$1" = main ] && lockout_db "$d" >>"$d/slapd.conf"
	slapadd -q -f "$d/slapd.conf" -b "dc=example,dc=org" -l "$here/data.ldif" \
		>"$d/slapadd.log" 2>&1 || { cat "$d/slapadd.log" >&2; return 1; }
	if [ "$1" = main ]; then
		slapadd -q -f "$d/slapd.conf" -b "o=lockout" -l "$here/lockout.ldif" \
			>>"$d/slapadd.log" 2>&1 || { cat "$d/slapadd.log" >&2; return 1; }
	fi
	slapd -d 0 -h "ldap://127.0.0.1:$3/ ldaps://127.0.0.1:$4/ ${5:-}" -f "$d/slapd.conf" \
		</dev/null >"$log" 2>&1 &
	echo $! >"$d/pid"
	for i in $(seq 100); do
		LDAPNOINIT=1 ldapsearch -x -H "ldap://127.0.0.1:$3" -b "" -s base -LLL \
			>/dev/null 2>&1 && return 0
		kill -0 "$(cat "$d/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "slapd $1 did not start:" >&2
	cat "$log" >&2
	return 1
}

# ldapi:// takes the socket's path URL-encoded in the host part.
ldapi="ldapi://$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$dir/main/ldapi")"
if ! start main ldap "$p_ldap" "$p_ldaps" "ldaps://127.0.0.2:$p_ldaps/ $ldapi" || ! start other other-server "$p_oldap" "$p_oldaps"
then
	"$here/slapd-stop.sh" "$dir"
	exit 1
fi
cat <<ENV
export TGOTP_LDAP_URI=ldap://127.0.0.1:$p_ldap TGOTP_LDAPS_URI=ldaps://127.0.0.1:$p_ldaps
export TGOTP_LDAPS_WRONGHOST_URI=ldaps://127.0.0.2:$p_ldaps
export TGOTP_LDAPI_URI=$ldapi
export TGOTP_LDAP_PID=$(cat "$dir/main/pid")
export TGOTP_LDAP_LOCKOUT_DN="cn=lockable,o=lockout"
export TGOTP_LDAP_OTHER_URI=ldap://127.0.0.1:$p_oldap TGOTP_LDAPS_OTHER_URI=ldaps://127.0.0.1:$p_oldaps
export TGOTP_LDAP_OTHER_PID=$(cat "$dir/other/pid")
export TGOTP_LDAP_DEAD_URI=ldap://127.0.0.1:$p_dead
ENV
