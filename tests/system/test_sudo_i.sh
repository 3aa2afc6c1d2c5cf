#!/usr/bin/env bash
# Real "sudo -i" with conf/pam.d/sudo-i as /etc/pam.d/sudo-i: the user's
# password, then the Telegram code, then a root login shell. sudo runs the
# PAM service "sudo-i" for login shells, not "sudo": /etc/pam.d/sudo stays
# Debian's own here, so every code prompt comes from the sudo-i file.
# shellcheck disable=SC2016 # $(...) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin sudo

PW=Tgotp-test-pw-1
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest3 "$PW"
sys_config
# Only inside the namespace: tgotptest1 may run anything as root, and every
# sudo asks (no timestamp carried from one case to the next).
printf 'Defaults timestamp_timeout=0\ntgotptest1 ALL=(ALL:ALL) ALL\ntgotptest3 ALL=(ALL:ALL) ALL\n' \
	>/etc/sudoers.d/tgotptest
chmod 0440 /etc/sudoers.d/tgotptest
AS_USER=(setpriv --reuid=tgotptest1 --regid=tgotptest1 --init-groups --reset-env --)
# The login shell prints the uid it runs as: UID-IS-0 only in a root shell.
LOGIN_SHELL=(sudo -i sh -c 'echo UID-IS-$(id -u)')

check "sudo: /etc/pam.d/sudo is Debian's, without the module" not_grep_module /etc/pam.d/sudo
sys_case "side door: Debian's own sudo-i file: the password alone gives a root shell"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'UID-IS-0' -- "${AS_USER[@]}" "${LOGIN_SHELL[@]}"
check "sudo -i, Debian's sudo-i: root shell with the password alone (exit 0)" rc_is 0
check "sudo -i, Debian's sudo-i: no code asked, none sent" sends_are 0

sys_pam sudo-i sudo-i
sys_case "sudo -i: right password, right code: a root login shell"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'UID-IS-0' \
	-- "${AS_USER[@]}" "${LOGIN_SHELL[@]}"
check "sudo -i: right code: the login shell runs as uid 0 (exit 0)" rc_is 0
check "sudo -i: right code: one code sent, to the user's number" sent_to +442079460958
check "sudo -i: right code: the module logged success under service sudo-i" \
	logged 'user=tgotptest1 service=sudo-i rhost=- phone=+44 •••• ••58'
check "sudo -i: right code: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "sudo -i: right password, wrong code twice: no shell"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Sorry, try again.' -e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" "${LOGIN_SHELL[@]}"
check "sudo -i: wrong code is refused (exit 1)" rc_is 1
check "sudo -i: wrong code: no shell ran" not_said 'UID-IS-'
check "sudo -i: wrong code: logged" logged 'service=sudo-i rhost=- phone=+44 •••• ••58'
check "sudo -i: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "sudo -i: wrong password: refused before any code is sent"
sys_drive -e 'password for tgotptest1: ' -s "not-$PW" -e 'Sorry, try again.' \
	-e 'password for tgotptest1: ' -r '\x03' -- "${AS_USER[@]}" "${LOGIN_SHELL[@]}"
check "sudo -i: wrong password is refused (exit 1)" rc_is 1
check "sudo -i: wrong password: no code sent" sends_are 0

sys_case "sudo --login: the same service"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'UID-IS-0' \
	-- "${AS_USER[@]}" sudo --login sh -c 'echo UID-IS-$(id -u)'
check "sudo --login: right code: root login shell (exit 0)" rc_is 0
check "sudo --login: logged under service sudo-i" logged 'user=tgotptest1 service=sudo-i'
check "sudo --login: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

# PAM_IGNORE: common-auth has already decided (the password). The wrong-code
# cases above are the failing side of the same stack.
sys_group tgotp-pilot tgotptest1
sys_config 'groups = {"tgotp-pilot"}'
sys_case "sudo -i, groups = pilot: a sudoer outside the pilot gets the shell with the password alone"
sys_drive -e 'password for tgotptest3: ' -s "$PW" -e 'UID-IS-0' \
	-- setpriv --reuid=tgotptest3 --regid=tgotptest3 --init-groups --reset-env -- "${LOGIN_SHELL[@]}"
check "sudo -i ignore: outside the pilot: root login shell (exit 0)" rc_is 0
check "sudo -i ignore: outside the pilot: nothing sent" sends_are 0
check "sudo -i ignore: outside the pilot: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=sudo-i rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_end
