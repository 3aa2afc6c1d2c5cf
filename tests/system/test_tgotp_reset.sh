#!/usr/bin/env bash
# The administrator's command on a real machine: a user rate-limited by
# real sudo logins is let in again by "tgotp reset", which says so in the
# system log (authpriv), as faillock --reset does for pam_faillock.
# shellcheck disable=SC2016 # $((...)) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin sudo

TGOTP=${TGOTP_CLI:-$(dirname "$TGOTP_MODULE")/tgotp}
[ -x "$TGOTP" ] || abort "$TGOTP is not built (make builds it)"
PW=Tgotp-test-pw-1
sys_useradd tgotptest1 "$PW"
sys_config
# one code per window: the second login is rate limited
sed -i 's/^rate_limit = 100$/rate_limit = 1/' /etc/security/pam_tgotp.conf
sys_pam sudo sudo
printf 'Defaults timestamp_timeout=0\ntgotptest1 ALL=(ALL:ALL) ALL\n' >/etc/sudoers.d/tgotptest
chmod 0440 /etc/sudoers.d/tgotptest
AS_USER=(setpriv --reuid=tgotptest1 --regid=tgotptest1 --init-groups --reset-env --)
RUN=(sudo /bin/sh -c 'echo RAN-$((6 * 7))')

sys_case "the one code of the window: the command runs"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "reset: first login runs the command (exit 0)" rc_is 0
check "reset: first login: one code sent" sends_are 1

sys_case "a second login in the window: rate limited, nothing sent"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Too many Telegram codes were requested.' \
	-e 'Sorry, try again.' -e 'password for tgotptest1: ' -r '\x03' -- "${AS_USER[@]}" "${RUN[@]}"
check "reset: second login refused (exit 1)" rc_is 1
check "reset: second login: no command ran" not_said 'RAN-42'
check "reset: second login: no code sent" sends_are 0
check "reset: second login: outcome=rate_limited" logged 'outcome=rate_limited'

sys_case "tgotp state shows the code, tgotp reset clears it and logs it"
"$TGOTP" state tgotptest1 --json >"$T/state.json" 2>"$T/state.err"
check "reset: tgotp state: one code in the window" "$SYS_PY" -c \
	'import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if "1" in json.dumps(j) else 1)' \
	"$T/state.json"
"$TGOTP" reset tgotptest1 >"$SYS_LOG" 2>&1
SYS_RC=$?
check "reset: tgotp reset exits 0" rc_is 0
check "reset: logged to syslog with the user" logged 'tgotp reset: user=tgotptest1'
check "reset: logged at authpriv" logged_at authpriv.notice 'tgotp reset: user=tgotptest1'

sys_case "after the reset: a code again, the command runs"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "reset: login after the reset runs the command (exit 0)" rc_is 0
check "reset: login after the reset: one code sent" sends_are 1
check "reset: login after the reset: outcome=success" logged 'outcome=success result=PAM_SUCCESS'
sys_end
