#!/usr/bin/env bash
# Real sudo with conf/pam.d/sudo as /etc/pam.d/sudo: the user's password, then
# the Telegram code, typed on a terminal. Also what sudo's timestamp does.
# shellcheck disable=SC2016 # $((...)) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin sudo

PW=Tgotp-test-pw-1
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest3 "$PW"
sys_config
sys_pam sudo sudo
# Only inside the namespace: tgotptest1 may run anything as root.
printf 'tgotptest%s ALL=(ALL:ALL) ALL\n' 1 3 >/etc/sudoers.d/tgotptest
chmod 0440 /etc/sudoers.d/tgotptest
# What the user runs: sh prints RAN-42 only when sudo really ran it.
AS_USER=(setpriv --reuid=tgotptest1 --regid=tgotptest1 --init-groups --reset-env --)
RUN=(sudo /bin/sh -c 'echo RAN-$((6 * 7))')
SUDO_VERSION=$(sudo -V | sed -n '1s/^Sudo version //p')

sys_case "right password, right code: the command runs"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "sudo: right code runs the command (exit 0)" rc_is 0
check "sudo: exactly one code was sent" sends_are 1
check "sudo: logged for tgotptest1 under service sudo" \
	logged 'user=tgotptest1 service=sudo rhost=- phone=+44 •••• ••58'
check "sudo: the module logged outcome=success" logged 'outcome=success result=PAM_SUCCESS'
# sudo 1.8 and 1.9 call pam_authenticate with PAM_SILENT (from 1.9.16 by
# default: "Defaults !pam_silent" turns it off), and the module honours it
# for informational text (README, sudo): the masked number is not shown.
case $SUDO_VERSION in
1.8.* | 1.9.*)
	check "sudo $SUDO_VERSION: the masked number is not shown (sudo passes PAM_SILENT)" \
		not_said 'A Telegram code was sent to'
	check "sudo $SUDO_VERSION: no part of the number is shown" not_said '+44'
	;;
*) fail "sudo $SUDO_VERSION: unknown version; which masked-number behaviour (PAM_SILENT) does it have?" ;;
esac

sys_case "right password, wrong code twice: refused, the command does not run"
# After the failed try sudo asks again from the start (passwd_tries, 3 by
# default): the person gives up with Ctrl-C.
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Sorry, try again.' -e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "sudo: wrong code is refused (exit 1)" rc_is 1
check "sudo: wrong code: the command did not run" not_said 'RAN-42'
check "sudo: wrong code: the module logged it" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "wrong password: refused before any code is sent"
sys_drive -e 'password for tgotptest1: ' -s "not-$PW" -e 'Sorry, try again.' \
	-e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "sudo: wrong password is refused" rc_is 1
check "sudo: wrong password: no code prompt" not_said 'Telegram code'
check "sudo: wrong password: no code sent (mock: 0 sendVerificationMessage)" sends_are 0

sys_case "the timestamp: a second sudo on the same terminal asks nothing"
# Two sudo in one terminal session. The second finds a valid timestamp
# (timestamp_timeout, 15 min on Debian) and never calls PAM: no password, no
# code. sudo -k removes the timestamp: then both are asked again.
printf '%s\n' "sudo /bin/sh -c 'echo FIRST-\$((6 * 7))'" \
	"sudo /bin/sh -c 'echo SECOND-\$((6 * 7))'" \
	"sudo -k" \
	"sudo /bin/sh -c 'echo THIRD-\$((6 * 7))'" >"$T/twice.sh"
chmod 0755 "$T/twice.sh"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" \
	-e 'FIRST-42' -e 'SECOND-42' -e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" /bin/sh "$T/twice.sh"
check "sudo: timestamp: the first sudo ran" said 'FIRST-42'
check "sudo: timestamp: the second ran without a prompt" [ "$(count_said 'Telegram code: ')" = 1 ]
check "sudo: timestamp: one code for both" sends_are 1
check "sudo: timestamp: after sudo -k the password is asked again" \
	[ "$(count_said 'password for tgotptest1')" = 2 ]
check "sudo: timestamp: the third (refused) did not run" not_said 'THIRD-42'

sys_case "the timestamp belongs to the terminal: another terminal is asked again"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "sudo: new terminal: password and code asked again, command ran" rc_is 0
check "sudo: new terminal: a new code was sent" sends_are 1

# PAM_IGNORE: common-auth has already decided (the password), so a user the
# module ignores gets in with the password alone, and a failing one is not.
sys_group tgotp-pilot tgotptest1
sys_config 'groups = {"tgotp-pilot"}'
sys_case "groups = pilot: a sudoer outside the pilot runs sudo with the password alone"
sys_drive -e 'password for tgotptest3: ' -s "$PW" -e 'RAN-42' \
	-- setpriv --reuid=tgotptest3 --regid=tgotptest3 --init-groups --reset-env -- "${RUN[@]}"
check "sudo ignore: outside the pilot: the command runs (exit 0)" rc_is 0
check "sudo ignore: outside the pilot: nothing sent" sends_are 0
check "sudo ignore: outside the pilot: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=sudo rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_case "groups = pilot: a pilot member with a wrong code is refused"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram code: ' "${WRONG[@]}" -e 'Sorry, try again.' -e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "sudo ignore: pilot member, wrong code: refused (exit 1)" rc_is 1
check "sudo ignore: pilot member, wrong code: the command did not run" not_said 'RAN-42'
check "sudo ignore: pilot member, wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_end
