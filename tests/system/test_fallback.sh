#!/usr/bin/env bash
# The shipped fallback stanza (conf/pam.d/fallback-oath) with a real second
# module, pam_oath (libpam-oath), TOTP codes from oathtool, through real sudo:
# conf/pam.d/sudo with its module line replaced by "@include fallback-oath", as
# the file documents. pam_oath is reached when Telegram cannot be used (not
# on Telegram; no number and unmapped = fallback; Gateway down and failmode =
# secure), never after a wrong Telegram code.
# shellcheck disable=SC2016 # $((...)) in single quotes is for the far side
. "$(dirname "$0")/lib.sh"
sys_begin sudo oathtool

PW=Tgotp-test-pw-1
for u in tgotptest1 tgotptest2 tgotptest3; do sys_useradd "$u" "$PW"; done
sys_oath_users tgotptest1 tgotptest2 tgotptest3
cp "$SYS_CONF/pam.d/fallback-oath" /etc/pam.d/fallback-oath
chmod 0644 /etc/pam.d/fallback-oath
sys_pam sudo sudo 's/^auth[[:space:]]+required[[:space:]]+pam_tgotp\.so$/@include fallback-oath/'
check "the sudo stack includes the fallback stanza" grep -qx '@include fallback-oath' /etc/pam.d/sudo
# Only inside the namespace; no cached timestamps, every sudo asks.
{
	echo 'Defaults timestamp_timeout=0'
	for u in tgotptest1 tgotptest2 tgotptest3; do echo "$u ALL=(ALL:ALL) ALL"; done
} >/etc/sudoers.d/tgotptest
chmod 0440 /etc/sudoers.d/tgotptest
RUN=(sudo /bin/sh -c 'echo RAN-$((6 * 7))')
as_user() { AS_USER=(setpriv --reuid="$1" --regid="$1" --init-groups --reset-env --); }
OATH_PROMPT='One-time password \(OATH\) for .tgotptest'

sys_config
sys_case "number not on Telegram: pam_oath asks, the TOTP code works"
as_user tgotptest2
sys_drive -e 'password for tgotptest2: ' -s "$PW" -e "$OATH_PROMPT" "${OATH[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: not on Telegram: the TOTP code lets the command run" rc_is 0
check "fallback: not on Telegram: no Telegram code prompt" not_said 'Telegram code'
check "fallback: not on Telegram: the user is told Telegram is not available" \
	said 'Telegram verification is not available.'
check "fallback: not on Telegram: nothing sent" sends_are 0
check "fallback: not on Telegram: module result PAM_AUTHINFO_UNAVAIL" \
	logged 'outcome=not_on_telegram result=PAM_AUTHINFO_UNAVAIL'

sys_case "no number, unmapped = deny (the default): refused, pam_oath not asked"
as_user tgotptest3
sys_drive -e 'password for tgotptest3: ' -s "$PW" -e 'Sorry, try again.' \
	-e 'password for tgotptest3: ' -r '\x03' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: unmapped = deny: refused" rc_is 1
check "fallback: unmapped = deny: no OATH prompt" not_said 'OATH'
check "fallback: unmapped = deny: the command did not run" not_said 'RAN-42'

sys_config 'unmapped = "fallback"'
sys_case "no number, unmapped = fallback: pam_oath asks"
sys_drive -e 'password for tgotptest3: ' -s "$PW" -e "$OATH_PROMPT" "${OATH[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: unmapped = fallback: the TOTP code lets the command run" rc_is 0
check "fallback: unmapped = fallback: module result PAM_AUTHINFO_UNAVAIL" \
	logged 'outcome=unmapped result=PAM_AUTHINFO_UNAVAIL'

sys_config
sys_case "on Telegram, wrong code twice: refused, pam_oath never asked"
as_user tgotptest1
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram code: ' "${WRONG[@]}" -e 'Sorry, try again.' \
	-e 'password for tgotptest1: ' -r '\x03' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: wrong Telegram code: refused" rc_is 1
check "fallback: wrong Telegram code: no OATH prompt" not_said 'OATH'
check "fallback: wrong Telegram code: the command did not run" not_said 'RAN-42'
check "fallback: wrong Telegram code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "on Telegram, right code: done, pam_oath not asked"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: right Telegram code: the command runs" rc_is 0
check "fallback: right Telegram code: no OATH prompt" not_said 'OATH'
check "fallback: right Telegram code: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

# The Gateway down: nothing listens on 127.0.0.1:1.
SYS_API_URL=https://127.0.0.1:1 sys_config
sys_case "Gateway down, failmode = secure: pam_oath asks"
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e "$OATH_PROMPT" "${OATH[@]}" -e 'RAN-42' \
	-- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: Gateway down (secure): the TOTP code lets the command run" rc_is 0
check "fallback: Gateway down (secure): no Telegram code prompt" not_said 'Telegram code'
check "fallback: Gateway down (secure): module result PAM_AUTHINFO_UNAVAIL" \
	logged 'outcome=gateway_unavailable result=PAM_AUTHINFO_UNAVAIL'

SYS_API_URL=https://127.0.0.1:1 sys_config 'failmode = "safe"'
sys_case "Gateway down, failmode = safe, under sudo: safe is not applied, pam_oath asks"
# sudo is setuid: its caller controls signals (Ctrl-Z past the timeout) and
# the environment, so "unreachable" may be their doing. The module does not
# apply safe mode there (see README): the fallback asks instead.
# pam_oath refuses a TOTP code twice: the previous case used this window's,
# so answer with the next window's (within pam_oath's default window).
NEXT_OATH=(-c "oathtool --totp --now=@\$((\$(date +%s) + 30)) $SYS_OATH_KEY")
sys_drive -e 'password for tgotptest1: ' -s "$PW" -e "$OATH_PROMPT" "${NEXT_OATH[@]}" \
	-e 'RAN-42' -- "${AS_USER[@]}" "${RUN[@]}"
check "fallback: Gateway down (safe, sudo): the TOTP code lets the command run" rc_is 0
check "fallback: Gateway down (safe, sudo): module result PAM_AUTHINFO_UNAVAIL" \
	logged 'outcome=gateway_unavailable result=PAM_AUTHINFO_UNAVAIL'
check "fallback: Gateway down (safe, sudo): why, at authpriv.warning" \
	logged_at authpriv.warning 'failmode = safe is not applied in a setuid program'

sys_end
