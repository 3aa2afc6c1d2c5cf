#!/usr/bin/env bash
# Break-glass: root at the console (real login(1), conf/pam.d/login) when
# root has no number, or the directory and the Gateway are down.
# With the defaults root is locked out (shown first). The documented
# pattern: "groups" lists a LOCAL group (in /etc/group, so that it resolves
# with the directory down) holding the people to challenge; root is not in
# it, so the module ignores root and root's password alone opens the console.
# Members are still refused when Telegram or the directory cannot be used.
# shellcheck disable=SC2016 # $(...) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin login

PW=Tgotp-test-pw-1
ROOT_PW=Tgotp-test-root-pw
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest3 "$PW"
sys_root_password "$ROOT_PW"
sys_pam login login
# The people to challenge: a local group, not one served by the directory.
sys_group tgotp-2fa tgotptest1 tgotptest3
check "break-glass: tgotp-2fa is a local group (in /etc/group)" grep -q '^tgotp-2fa:' /etc/group
check "break-glass: root is not a member of it" sh -c 'g=$(id -nG root) && ! echo "$g" | grep -qw tgotp-2fa'
# A directory that is down: nothing listens on 127.0.0.1:1 (connect refused).
DIRECTORY_DOWN='ldap {
  uri = "ldap://127.0.0.1:1"
  base = "dc=example,dc=org"
  timeout = 2
}'
GATEWAY_DOWN=https://127.0.0.1:1
# login_as USER PASSWORD STEP...: the console login; after the shell prompt
# (# or $) print the uid and log out.
login_as() {
	local user=$1 pw=$2
	shift 2
	sys_drive -e 'login: ' -s "$user" -e 'Password: ' -s "$pw" "$@" -- login
}
SHELL_UID=(-e '[#$] ' -s 'echo UID-IS-$(id -u); exit')
REFUSED=(-e 'Login incorrect' -e 'login: ' -q)

sys_config
sys_case "defaults: root without a number at the console is refused"
login_as root "$ROOT_PW" "${REFUSED[@]}"
check "defaults, root without a number: Login incorrect, no shell" not_said 'UID-IS-'
check "defaults, root without a number: login said Login incorrect" said 'Login incorrect'
check "defaults, root without a number: the module said PAM_AUTH_ERR (unmapped = deny)" \
	logged 'user=root service=login rhost=- phone=- request_id=- outcome=unmapped result=PAM_AUTH_ERR'
check "defaults, root without a number: no session opened" not_logged 'session opened for user root'

SYS_API_URL=$GATEWAY_DOWN sys_config 'user root { phone = "+44 20 7946 0999" }'
sys_case "defaults: root with a number, the Gateway down (failmode = secure): refused"
login_as root "$ROOT_PW" "${REFUSED[@]}"
check "defaults, Gateway down: Login incorrect, no shell" not_said 'UID-IS-'
check "defaults, Gateway down: login said Login incorrect" said 'Login incorrect'
check "defaults, Gateway down: the module said PAM_AUTHINFO_UNAVAIL" \
	logged 'user=root service=login rhost=- phone=+44 •••• ••99 request_id=- outcome=gateway_unavailable result=PAM_AUTHINFO_UNAVAIL'

sys_config 'groups = {"tgotp-2fa"}'
sys_case "break-glass: root (outside tgotp-2fa, no number) logs in with its password"
login_as root "$ROOT_PW" "${SHELL_UID[@]}" -e 'UID-IS-0'
check "break-glass, root: a root shell at the console (login exit 0)" rc_is 0
check "break-glass, root: the shell ran as uid 0" said 'UID-IS-0'
check "break-glass, root: nothing sent" sends_are 0
check "break-glass, root: the module said PAM_IGNORE" \
	logged 'user=root service=login rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'
check "break-glass, root: a session was opened" logged 'session opened for user root'

sys_case "break-glass: root's wrong password is still refused"
login_as root "not-$ROOT_PW" "${REFUSED[@]}"
check "break-glass, root, wrong password: Login incorrect, no shell" not_said 'UID-IS-'
check "break-glass, root, wrong password: login said Login incorrect" said 'Login incorrect'

SYS_API_URL=$GATEWAY_DOWN sys_config "groups = {\"tgotp-2fa\"}
$DIRECTORY_DOWN"
sys_case "break-glass: the directory and the Gateway down: root still logs in"
login_as root "$ROOT_PW" "${SHELL_UID[@]}" -e 'UID-IS-0'
check "break-glass, all down, root: the shell ran as uid 0" said 'UID-IS-0'
check "break-glass, all down, root: the module said PAM_IGNORE (nothing was asked)" \
	logged 'user=root service=login rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_case "break-glass: the directory down: a member without a number in the file is refused"
login_as tgotptest3 "$PW" "${REFUSED[@]}"
check "break-glass, all down, member: Login incorrect, no shell" not_said 'UID-IS-'
check "break-glass, all down, member: login said Login incorrect" said 'Login incorrect'
check "break-glass, all down, member: the directory could not be reached" \
	logged 'ldap: ldap://127.0.0.1:1: cannot connect'
check "break-glass, all down, member: the module said PAM_AUTHINFO_UNAVAIL" \
	logged 'user=tgotptest3 service=login rhost=- phone=- request_id=- outcome=directory_unavailable result=PAM_AUTHINFO_UNAVAIL'

sys_case "break-glass: the Gateway down: a member with a number is refused"
login_as tgotptest1 "$PW" "${REFUSED[@]}"
check "break-glass, Gateway down, member: Login incorrect, no shell" not_said 'UID-IS-'
check "break-glass, Gateway down, member: login said Login incorrect" said 'Login incorrect'
check "break-glass, Gateway down, member: the module said PAM_AUTHINFO_UNAVAIL" \
	logged 'user=tgotptest1 service=login rhost=- phone=+44 •••• ••58 request_id=- outcome=gateway_unavailable result=PAM_AUTHINFO_UNAVAIL'

sys_config 'groups = {"tgotp-2fa"}'
sys_case "break-glass: a member with the right code still logs in"
login_as tgotptest1 "$PW" -e 'Telegram code: ' "${CODE[@]}" "${SHELL_UID[@]}" -e "UID-IS-$(id -u tgotptest1)"
check "break-glass, member, right code: logged in (login exit 0)" rc_is 0
check "break-glass, member, right code: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_end
