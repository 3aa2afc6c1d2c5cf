#!/usr/bin/env bash
# Real login(1) on a pseudo-terminal, like a console or serial login, with
# conf/pam.d/login as /etc/pam.d/login: user name, password, Telegram code.
# shellcheck disable=SC2016 # $((...)) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin login

PW=Tgotp-test-pw-1
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest3 "$PW"
sys_config
sys_pam login login

sys_case "console login with the right code"
# After the code: a shell; the person types a command and logs out.
sys_drive -e 'login: ' -s tgotptest1 -e 'Password: ' -s "$PW" \
	-e 'A Telegram code was sent to \+44 •••• ••58\.' -e 'Telegram code: ' "${CODE[@]}" \
	-e '[$] ' -s 'echo LOGGEDIN-$((6 * 7)); exit' -e 'LOGGEDIN-42' \
	-- login
check "login: the code prompt appears after the password" said 'Telegram code: '
check "login: the masked number is shown on the console" said 'A Telegram code was sent to +44 •••• ••58.'
check "login: right code logs in, the shell runs the command" said 'LOGGEDIN-42'
check "login: login ends normally after exit" rc_is 0
check "login: one code sent" sends_are 1
check "login: logged with service login" logged 'user=tgotptest1 service=login'
check "login: outcome=success" logged 'outcome=success result=PAM_SUCCESS'
check "login: a session was opened" logged 'session opened for user tgotptest1'

sys_case "console login with a wrong code twice"
sys_drive -e 'login: ' -s tgotptest1 -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' -e 'Maximum number of tries exceeded' \
	-- login
# The module ends with PAM_MAXTRIES; login(1) takes that as the end of all
# tries, says so and exits - with status 0 (shadow's login does that), so the
# proof of the refusal is that no session was opened.
check "login: wrong code is refused: login says tries are exhausted" \
	said 'Maximum number of tries exceeded'
check "login: wrong code: no session was opened" not_logged 'session opened for user tgotptest1'
check "login: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "console login with a wrong password"
sys_drive -e 'login: ' -s tgotptest1 -e 'Password: ' -s "not-$PW" -e 'Login incorrect' -e 'login: ' -q \
	-- login
check "login: wrong password is refused" said 'Login incorrect'
check "login: wrong password: no code prompt" not_said 'Telegram code'
check "login: wrong password: no code sent" sends_are 0

# PAM_IGNORE: common-auth has already decided (the password).
sys_group tgotp-pilot tgotptest1
sys_config 'groups = {"tgotp-pilot"}'
sys_case "groups = pilot: a user outside the pilot logs in with the password alone"
sys_drive -e 'login: ' -s tgotptest3 -e 'Password: ' -s "$PW" \
	-e '[$] ' -s 'echo LOGGEDIN-$((6 * 7)); exit' -e 'LOGGEDIN-42' -- login
check "login ignore: outside the pilot: logged in, the shell ran the command" said 'LOGGEDIN-42'
check "login ignore: outside the pilot: no code asked, none sent" sends_are 0
check "login ignore: outside the pilot: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=login rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_case "groups = pilot: a pilot member with a wrong code is refused"
sys_drive -e 'login: ' -s tgotptest1 -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram code: ' "${WRONG[@]}" -e 'Maximum number of tries exceeded' -- login
check "login ignore: pilot member, wrong code: no session was opened" \
	not_logged 'session opened for user tgotptest1'
check "login ignore: pilot member, wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'
sys_config

# A screen locker (xscreensaver, i3lock, swaylock, ...) runs PAM as the
# logged-in user, usually through common-auth. The module then cannot read
# the root-only token (and config), so it answers PAM_SERVICE_ERR and the
# screen stays locked. Simulated with the tree's PAM client run as the user,
# on a stack like common-auth with the module added.
LOCKER=$(dirname "$TGOTP_MODULE")/tools/tgotp-login
if [ -x "$LOCKER" ]; then
	printf '@include common-auth\nauth required pam_tgotp.so\n' >/etc/pam.d/tgotptest-locker
	sys_case "a screen locker: PAM run as the user, not root"
	sys_drive -e 'Password: ' -s "$PW" -e 'pam_authenticate: ' \
		-- setpriv --reuid=tgotptest1 --regid=tgotptest1 --init-groups -- \
		"$LOCKER" /etc/pam.d tgotptest-locker tgotptest1
	check "locker: the right password alone does not unlock" rc_is 1
	check "locker: no code prompt, no code sent" sends_are 0
	# (tgotp-login shows the module's log lines on its terminal)
	check "locker: the module cannot open its root-only configuration" \
		said 'pam_tgotp.conf: cannot open: Permission denied'
	check "locker: the module answers PAM_SERVICE_ERR" said 'result=PAM_SERVICE_ERR'
else
	fail "locker: no $LOCKER (make tests builds it)"
fi

sys_end
