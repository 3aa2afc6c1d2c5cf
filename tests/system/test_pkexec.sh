#!/usr/bin/env bash
# Real pkexec with conf/pam.d/polkit-1 as /etc/pam.d/polkit-1: a system
# D-Bus and polkitd of the test's own (inside its namespace), polkit's text
# agent on the terminal, and the module in the stack polkit-agent-helper-1
# runs. Debian's admins for polkit are group "sudo"
# (/usr/share/polkit-1/rules.d/50-default.rules): the code goes to the number
# of the admin who authenticates, whoever called pkexec.
# shellcheck disable=SC2016 # $(...) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
POLKITD=/usr/lib/polkit-1/polkitd
sys_begin pkexec pkttyagent dbus-daemon "$POLKITD"

PW=Tgotp-test-pw-1
sys_useradd tgotptest1 "$PW"
sys_useradd tgotptest4 "$PW"
usermod -aG sudo tgotptest1 || skip "usermod -aG sudo failed"
sys_config 'user tgotptest4 { phone = "+44 20 7946 0444" }'
check "polkit: no /etc/pam.d/polkit-1 yet (Debian's is /usr/lib/pam.d/polkit-1)" \
	[ ! -e /etc/pam.d/polkit-1 ]

# The system bus and polkitd, as systemd would start them, but ours: the
# overlay on /run hides a bus socket of the host's. polkitd says on syslog
# when it is ready.
rm -f /run/dbus/system_bus_socket /run/dbus/pid
mkdir -p /run/dbus
dbus-daemon --system --nofork --nopidfile 2>>"$T/dbus.err" &
for _ in $(seq 50); do [ -S /run/dbus/system_bus_socket ] && break; sleep 0.1; done
[ -S /run/dbus/system_bus_socket ] || skip "the system bus did not start: $(cat "$T/dbus.err")"
"$POLKITD" --no-debug >>"$T/polkitd.err" 2>&1 &
for _ in $(seq 50); do grep -q 'Acquired the name org.freedesktop.PolicyKit1' "$T/syslog" && break; sleep 0.1; done
grep -q 'Acquired the name org.freedesktop.PolicyKit1' "$T/syslog" ||
	skip "polkitd did not start: $(cat "$T/polkitd.err")"

# What the person runs: polkit's text agent for this shell, then pkexec.
# pkexec of polkit 122 (Debian 12) also has an agent of its own, used when
# none is registered, but it registers as root and its answer is then
# refused ("No session for cookie"; fixed in polkit 124): a terminal user
# needs pkttyagent, as a desktop user has the desktop's agent.
cat >"$T/pkexec-with-agent" <<-'EOS'
	#!/bin/bash
	# The agent closes fd 4 once it is registered for this shell, the
	# subject pkexec asks about (its parent).
	exec 3< <(exec pkttyagent --process $$ --notify-fd 4 4>&1 >/dev/tty 2>&1)
	agent=$!
	cat <&3 >/dev/null
	pkexec /bin/sh -c 'echo UID-IS-$(id -u)'
	echo "PKEXEC-RC=$?"
	kill "$agent"
EOS
chmod 0755 "$T/pkexec-with-agent"
as_user() { AS_USER=(setpriv --reuid="$1" --regid="$1" --init-groups --reset-env -- "$T/pkexec-with-agent"); }
as_user tgotptest1

sys_case "side door: Debian's own polkit-1: the password alone gives root"
sys_drive -e 'Authenticating as: tgotptest1' -e 'Password: ' -s "$PW" -e 'UID-IS-0' -e 'PKEXEC-RC=0' \
	-- "${AS_USER[@]}"
check "pkexec, Debian's polkit-1: root with the password alone (pkexec exit 0)" said 'PKEXEC-RC=0'
check "pkexec, Debian's polkit-1: no code asked, none sent" sends_are 0

sys_pam polkit-1 polkit-1
sys_case "pkexec: right password, right code: the command runs as root"
sys_drive -e 'Authenticating as: tgotptest1' -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" \
	-e 'UID-IS-0' -e 'PKEXEC-RC=0' -- "${AS_USER[@]}"
check "pkexec: right code: the command ran as uid 0, pkexec exit 0" said 'PKEXEC-RC=0'
check "pkexec: right code: one code sent, to the admin's number" sent_to +442079460958
check "pkexec: right code: logged under service polkit-1" \
	logged 'user=tgotptest1 service=polkit-1 rhost=- phone=+44 •••• ••58'
check "pkexec: right code: outcome=success" logged 'outcome=success result=PAM_SUCCESS'
check "pkexec: right code: polkitd saw the authentication succeed" \
	logged 'successfully authenticated as unix-user:tgotptest1'

sys_case "pkexec: right password, wrong code twice: refused"
sys_drive -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" -e 'Wrong code. Tries left: 1.' \
	-e 'Telegram code: ' "${WRONG[@]}" -e 'AUTHENTICATION FAILED' -e 'PKEXEC-RC=127' -- "${AS_USER[@]}"
check "pkexec: wrong code: not authorized (pkexec exit 127)" said 'PKEXEC-RC=127'
check "pkexec: wrong code: the command did not run" not_said 'UID-IS-'
check "pkexec: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "pkexec: wrong password: refused before any code is sent"
sys_drive -e 'Password: ' -s "not-$PW" -e 'AUTHENTICATION FAILED' -e 'PKEXEC-RC=127' -- "${AS_USER[@]}"
check "pkexec: wrong password: not authorized (pkexec exit 127)" said 'PKEXEC-RC=127'
check "pkexec: wrong password: no code sent" sends_are 0

as_user tgotptest4
sys_case "pkexec by a user outside sudo: the admin authenticates, the admin's number gets the code"
sys_drive -e 'Authenticating as: tgotptest1' -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" \
	-e 'UID-IS-0' -e 'PKEXEC-RC=0' -- "${AS_USER[@]}"
check "pkexec by tgotptest4: the admin's password and code run the command" said 'PKEXEC-RC=0'
check "pkexec by tgotptest4: the code went to the admin's number, not the caller's" sent_to +442079460958
check "pkexec by tgotptest4: logged for the admin" logged 'user=tgotptest1 service=polkit-1'
check "pkexec by tgotptest4: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

# PAM_IGNORE: common-auth has already decided (the password). The wrong-code
# case above is the failing side of the same stack.
sys_group tgotp-pilot tgotptest4
sys_config 'groups = {"tgotp-pilot"}'
as_user tgotptest1
sys_case "pkexec, groups = pilot: an admin outside the pilot with the password alone"
sys_drive -e 'Authenticating as: tgotptest1' -e 'Password: ' -s "$PW" -e 'UID-IS-0' -e 'PKEXEC-RC=0' \
	-- "${AS_USER[@]}"
check "pkexec ignore: outside the pilot: the command ran as root (pkexec exit 0)" said 'PKEXEC-RC=0'
check "pkexec ignore: outside the pilot: nothing sent" sends_are 0
check "pkexec ignore: outside the pilot: the module said PAM_IGNORE" \
	logged 'user=tgotptest1 service=polkit-1 rhost=- phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_end
