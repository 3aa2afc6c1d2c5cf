#!/usr/bin/env bash
# Real su(1) with conf/pam.d/su as /etc/pam.d/su and conf/pam.d/su-l as
# /etc/pam.d/su-l: "su -" (service su-l, whose auth stack includes su's) and
# plain "su" (service su). su asks for the TARGET user's password, and the
# code goes to the TARGET user's number, not the caller's: the caller here
# has a number of its own that must never get it.
# shellcheck disable=SC2016 # $(...) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin su

PW=Tgotp-test-pw-1
ROOT_PW=Tgotp-test-root-pw
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest4 "$PW"
sys_root_password "$ROOT_PW"
sys_config 'user root { phone = "+44 20 7946 0999" }
user tgotptest4 { phone = "+44 20 7946 0444" }'
# The caller: an ordinary user on a terminal. The shell su starts prints
# the uid it runs as.
AS_CALLER=(setpriv --reuid=tgotptest4 --regid=tgotptest4 --init-groups --reset-env --)
SHOW_UID='echo UID-IS-$(id -u)'
UID1=$(id -u tgotptest1)

check "su: /etc/pam.d/su is Debian's, without the module" not_grep_module /etc/pam.d/su
sys_case "side door: Debian's own su and su-l: the root password alone gives root"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'UID-IS-0' -- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su -, Debian's files: root with the password alone (exit 0)" rc_is 0
check "su -, Debian's files: no code asked, none sent" sends_are 0

sys_pam su su
sys_pam su-l su-l

sys_case "su - (su-l): root's password, right code: a root login shell"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Telegram code: ' "${CODE[@]}" -e 'UID-IS-0' \
	-- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su -: right code: the shell runs as uid 0 (exit 0)" rc_is 0
check "su -: the code went to the target's (root's) number, not the caller's" sent_to +442079460999
check "su -: the masked number shown is root's" said 'A Telegram code was sent to +44 •••• ••99.'
check "su -: one code sent" sends_are 1
check "su -: logged for user root under service su-l" \
	logged 'user=root service=su-l rhost=- phone=+44 •••• ••99'
check "su -: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "su -: right password, wrong code twice: no shell"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' -- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su -: wrong code is refused (exit 1)" rc_is 1
check "su -: wrong code: no shell ran" not_said 'UID-IS-'
check "su -: wrong code: logged for root under su-l" \
	logged 'user=root service=su-l rhost=- phone=+44 •••• ••99'
check "su -: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "su -: wrong password: refused before any code is sent"
sys_drive -e 'Password: ' -s "not-$ROOT_PW" -e 'Authentication failure' \
	-- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su -: wrong password is refused (exit 1)" rc_is 1
check "su -: wrong password: no code sent" sends_are 0

sys_case "su USER (service su): the target's password, the code to the target's number"
sys_drive -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e "UID-IS-$UID1" \
	-- "${AS_CALLER[@]}" su tgotptest1 -c "$SHOW_UID"
check "su tgotptest1: right code: the shell runs as tgotptest1 (exit 0)" rc_is 0
check "su tgotptest1: the code went to the target's number (+442079460958)" sent_to +442079460958
check "su tgotptest1: logged for the target under service su" \
	logged 'user=tgotptest1 service=su rhost=- phone=+44 •••• ••58'
check "su tgotptest1: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "su (service su) to root: right code"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Telegram code: ' "${CODE[@]}" -e 'UID-IS-0' \
	-- "${AS_CALLER[@]}" su -c "$SHOW_UID"
check "su: right code: the shell runs as uid 0 (exit 0)" rc_is 0
check "su: logged for root under service su" logged 'user=root service=su rhost=- phone=+44 •••• ••99'
check "su: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "su USER, wrong code twice: refused"
sys_drive -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' -- "${AS_CALLER[@]}" su tgotptest1 -c "$SHOW_UID"
check "su tgotptest1: wrong code is refused (exit 1)" rc_is 1
check "su tgotptest1: wrong code: no shell ran" not_said 'UID-IS-'

sys_case "root su to a user: pam_rootok, neither password nor code"
sys_drive -e "UID-IS-$UID1" -- su tgotptest1 -c "$SHOW_UID"
check "root su tgotptest1: runs at once (exit 0)" rc_is 0
check "root su tgotptest1: no code asked, none sent" sends_are 0

# PAM_IGNORE: common-auth has already decided (the password). groups is
# checked for the user being authenticated, which for su is the TARGET: root
# outside the listed groups needs only root's password for "su -" (see the
# README's break-glass section). The wrong-code cases above are the failing
# side of the same stack.
sys_group tgotp-pilot tgotptest1
sys_config 'groups = {"tgotp-pilot"}
user root { phone = "+44 20 7946 0999" }'
sys_case "su -, groups = pilot: root (outside the pilot) with its password alone"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'UID-IS-0' -- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su - ignore: target outside the pilot: root shell with the password alone (exit 0)" rc_is 0
check "su - ignore: target outside the pilot: nothing sent" sends_are 0
check "su - ignore: target outside the pilot: the module said PAM_IGNORE for root" \
	logged 'user=root service=su-l rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_end
