#!/usr/bin/env bash
# Real su(1) with user_source = "ruser": the CALLER of su is asked for the
# code, on the caller's own number; the target's password is still the
# first factor. /etc/pam.d/su is conf/pam.d/su with the alternative that
# file documents (config= naming a configuration of su's own), and
# /etc/pam.d/su-l is conf/pam.d/su-l ("su -" takes su's auth stack).
# shellcheck disable=SC2016 # $(...) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin su

PW=Tgotp-test-pw-1
ROOT_PW=Tgotp-test-root-pw
SU_CONF=/etc/security/pam_tgotp-su.conf
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest4 "$PW"
sys_useradd tgotptest3 "$PW" # no number
sys_root_password "$ROOT_PW"
# su's own configuration: the caller is asked. root and tgotptest1 have
# numbers too, which must never get a code from su's callers here.
sys_config 'user_source = "ruser"
user root { phone = "+44 20 7946 0999" }
user tgotptest4 { phone = "+44 20 7946 0444" }'
mv /etc/security/pam_tgotp.conf "$SU_CONF"
AS_CALLER=(setpriv --reuid=tgotptest4 --regid=tgotptest4 --init-groups --reset-env --)
AS_UNMAPPED=(setpriv --reuid=tgotptest3 --regid=tgotptest3 --init-groups --reset-env --)
SHOW_UID='echo UID-IS-$(id -u)'
UID1=$(id -u tgotptest1)

sys_pam su su "s|^(auth +required +pam_tgotp\.so)\$|\1 config=$SU_CONF|"
sys_pam su-l su-l
check "su ruser: /etc/pam.d/su names su's own configuration" \
	grep -qE "^auth +required +pam_tgotp\.so config=$SU_CONF\$" /etc/pam.d/su

sys_case "su - (su-l) as tgotptest4: root's password, the code to the caller's number"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Telegram code: ' "${CODE[@]}" -e 'UID-IS-0' \
	-- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su - ruser: right code: the shell runs as uid 0 (exit 0)" rc_is 0
check "su - ruser: the code went to the caller's number, not root's" sent_to +442079460444
check "su - ruser: the masked number shown is the caller's" \
	said 'A Telegram code was sent to +44 •••• ••44.'
check "su - ruser: one code sent" sends_are 1
check "su - ruser: logged for root, asked of tgotptest4, under su-l" \
	logged 'user=root ruser=tgotptest4 service=su-l rhost=- phone=+44 •••• ••44'
check "su - ruser: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "su tgotptest1 as tgotptest4: the code to the caller's number, not the target's"
sys_drive -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e "UID-IS-$UID1" \
	-- "${AS_CALLER[@]}" su tgotptest1 -c "$SHOW_UID"
check "su tgotptest1 ruser: right code: runs as tgotptest1 (exit 0)" rc_is 0
check "su tgotptest1 ruser: the code went to the caller's number" sent_to +442079460444
check "su tgotptest1 ruser: logged for tgotptest1, asked of tgotptest4" \
	logged 'user=tgotptest1 ruser=tgotptest4 service=su rhost=- phone=+44 •••• ••44'

sys_case "su - as tgotptest4, wrong code twice: no shell"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' -- "${AS_CALLER[@]}" su - -c "$SHOW_UID"
check "su - ruser: wrong code is refused (exit 1)" rc_is 1
check "su - ruser: wrong code: no shell ran" not_said 'UID-IS-'
check "su - ruser: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

# SECURITY: a caller without a number gets no code, and root's number
# (which has one) is never asked in their place.
sys_case "su - as tgotptest3 (no number): refused, nothing sent, root not asked"
sys_drive -e 'Password: ' -s "$ROOT_PW" -e 'Authentication failure' \
	-- "${AS_UNMAPPED[@]}" su - -c "$SHOW_UID"
check "su - ruser unmapped: refused (exit 1)" rc_is 1
check "su - ruser unmapped: no shell ran" not_said 'UID-IS-'
check "su - ruser unmapped: nothing sent" sends_are 0
check "su - ruser unmapped: logged as unmapped for the caller" \
	logged 'user=root ruser=tgotptest3 service=su-l rhost=- phone=- request_id=- outcome=unmapped'

sys_case "root su to a user: pam_rootok, neither password nor code"
sys_drive -e "UID-IS-$UID1" -- su tgotptest1 -c "$SHOW_UID"
check "root su tgotptest1 ruser: runs at once (exit 0)" rc_is 0
check "root su tgotptest1 ruser: no code asked, none sent" sends_are 0

sys_end
