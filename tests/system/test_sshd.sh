#!/usr/bin/env bash
# Real sshd on a loopback port and the real ssh client on a terminal, with
# conf/pam.d/sshd + conf/sshd_config.d/pam_tgotp.conf (key, then code), then
# conf/pam.d/sshd-password + conf/sshd_config.d/pam_tgotp-password.conf
# (password, then code, both through PAM), and the fallback stanza. The
# drop-in is installed as 00-pam_tgotp.conf; its Match block for service
# accounts and the PAM_IGNORE line of conf/pam.d/sshd are tested too.
# shellcheck disable=SC2016 # $((...)) in single quotes is for the far side
# The longest system test (about 40 s alone): more room than lib.sh's 100 s
# on a loaded machine.
SYS_TIME_LIMIT=${SYS_TIME_LIMIT:-150}
. "$(dirname "$0")/lib.sh"
SSHD=/usr/sbin/sshd
sys_begin "$SSHD" ssh ssh-keygen oathtool

PW=Tgotp-test-pw-1
for u in tgotptest1 tgotptest2 tgotptest3; do sys_useradd "$u" "$PW"; done
sys_config
sys_oath_users tgotptest1 tgotptest2 tgotptest3
cp "$SYS_CONF/pam.d/fallback-oath" /etc/pam.d/fallback-oath
chmod 0644 /etc/pam.d/fallback-oath

# Keys: the host's, and one client key that every test user accepts.
mkdir -p "$T/ssh/sshd_config.d"
ssh-keygen -q -t ed25519 -N '' -C tgotptest-host -f "$T/ssh/host_ed25519_key" || skip "ssh-keygen failed"
ssh-keygen -q -t ed25519 -N '' -C tgotptest-client -f "$T/ssh/client_key" || skip "ssh-keygen failed"
for u in tgotptest1 tgotptest2 tgotptest3; do
	install -d -m 0700 -o "$u" -g "$u" "$T/home/$u/.ssh"
	install -m 0600 -o "$u" -g "$u" "$T/ssh/client_key.pub" "$T/home/$u/.ssh/authorized_keys"
done

# The main configuration is laid out like Debian's: the drop-in directory
# first, then "KbdInteractiveAuthentication no", which the drop-in must beat.
# The drop-in is installed as the README says: 00-pam_tgotp.conf.
PORT=$("${SYSTOOL[@]}" freeport)
DROPIN=$T/ssh/sshd_config.d/00-pam_tgotp.conf
write_sshd_config() { # DROPIN-FILE [EXTRA-LINES [SED-SCRIPT-FOR-THE-DROPIN]]
	rm -f "$T/ssh/sshd_config.d/"*
	sed -E "${3:-}" "$SYS_CONF/sshd_config.d/$1" >"$DROPIN"
	if [ -n "${3:-}" ] && cmp -s "$SYS_CONF/sshd_config.d/$1" "$DROPIN"; then
		fail "the edit \"$3\" changed nothing in conf/sshd_config.d/$1"
	fi
	cat >"$T/ssh/sshd_config" <<-EOF
		Include $T/ssh/sshd_config.d/*.conf
		Port $PORT
		ListenAddress 127.0.0.1
		HostKey $T/ssh/host_ed25519_key
		PidFile none
		LogLevel VERBOSE
		KbdInteractiveAuthentication no
		UsePAM yes
		PrintMotd no
		UseDNS no
		${2:-}
	EOF
	# OpenSSH 9.8 and later penalise a source address after failed logins;
	# the tests fail logins from 127.0.0.1 on purpose.
	if "$SSHD" -t -f "$T/ssh/sshd_config" -o PerSourcePenalties=no 2>/dev/null; then
		echo "PerSourcePenalties no" >>"$T/ssh/sshd_config"
	fi
}

SSHD_PID=
start_sshd() {
	stop_sshd
	"$SSHD" -D -e -f "$T/ssh/sshd_config" 2>>"$T/sshd.log" &
	SSHD_PID=$!
	local _
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.1
	done
	fail "sshd did not start: $(tail -5 "$T/sshd.log")"
	return 1
}
stop_sshd() {
	[ -n "$SSHD_PID" ] || return 0
	kill "$SSHD_PID" 2>/dev/null
	wait "$SSHD_PID" 2>/dev/null
	SSHD_PID=
}

# sshd -T: the value sshd will use for KEY (lower case) [for USER's login].
effective() {
	"$SSHD" -T -f "$T/ssh/sshd_config" -C "user=${2:-tgotptest1},host=localhost,addr=127.0.0.1" 2>&1 |
		awk -v k="$1" '$1 == k { $1 = ""; sub(/^ /, ""); print }'
}

# ssh_as USER [SSH-OPTION...] -- STEP...: the real client, as a person would
# run it (its own known_hosts, no ~/.ssh/config, no agent), running a command
# that prints LOGGEDIN-42 only on the server.
ssh_as() {
	local user=$1
	shift
	local -a opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	# ssh keeps the first value of an option: the caller's come first.
	sys_drive --timeout 20 "$@" -- env -u SSH_AUTH_SOCK ssh -F /dev/null "${opts[@]}" \
		-p "$PORT" -i "$T/ssh/client_key" -o IdentitiesOnly=yes \
		-o UserKnownHostsFile="$T/ssh/known_hosts" -o StrictHostKeyChecking=no \
		-o BatchMode=no -o NumberOfPasswordPrompts=1 -o ConnectTimeout=5 \
		"$user@127.0.0.1" 'echo LOGGEDIN-$((6 * 7))'
}

# After the last wrong code the module returns PAM_MAXTRIES. sshd then turns
# keyboard-interactive (and password) off for the connection and answers with
# an empty list of methods; the OpenSSH client reads an empty list as "try
# everything" and asks "user@host's password:". Nothing typed there can get in:
# the person types the right password and is refused.
DEAD_END=(-e "tgotptest1@127.0.0.1's password: " -s "$PW")
ROOT_DEAD_END=(-e "root@127.0.0.1's password: " -s "not-the-root-password")

# ---- 1. The key, then the code (conf/pam.d/sshd, sshd_config.d/pam_tgotp.conf)
sys_pam sshd sshd
write_sshd_config pam_tgotp.conf

sys_case "sshd -T: the drop-in, as 00-pam_tgotp.conf, wins over sshd_config"
check "sshd -T: kbdinteractiveauthentication yes (the drop-in beats the main file's no)" \
	[ "$(effective kbdinteractiveauthentication)" = yes ]
check "sshd -T: usepam yes" [ "$(effective usepam)" = yes ]
check "sshd -T: authenticationmethods publickey,keyboard-interactive" \
	[ "$(effective authenticationmethods)" = publickey,keyboard-interactive ]
# Another drop-in says no (cloud images ship some): 00- is read first and wins.
printf 'KbdInteractiveAuthentication no\n' >"$T/ssh/sshd_config.d/10-local.conf"
check "sshd -T: 00-pam_tgotp.conf is read before 10-local.conf (which says no) and wins" \
	[ "$(effective kbdinteractiveauthentication)" = yes ]
# The pitfall of any later name: the other drop-in is read first, and sshd
# refuses the whole configuration (it would not start, or not reload).
mv "$DROPIN" "$T/ssh/sshd_config.d/pam_tgotp.conf"
check "sshd -t: named pam_tgotp.conf, the earlier 10-local.conf's no makes sshd refuse to start" \
	sh -c '! "$1" -t -f "$2" 2>"$3" && grep -q "AuthenticationMethods cannot be satisfied" "$3"' \
	- "$SSHD" "$T/ssh/sshd_config" "$T/sshd-t.err"
write_sshd_config pam_tgotp.conf

start_sshd
sys_case "key + right code"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${CODE[@]}" -e 'LOGGEDIN-42'
check "sshd key+code: right code logs in and runs the command" rc_is 0
check "sshd key+code: the masked-number text reaches the client" said 'A Telegram code was sent to'
check "sshd key+code: the text is the masked number, bullets intact" \
	said 'A Telegram code was sent to +44 •••• ••58.'
check "sshd key+code: the full number never reaches the client" not_said '2079460958'
check "sshd key+code: one code sent" sends_are 1
check "sshd key+code: logged with service sshd and rhost 127.0.0.1" \
	logged 'user=tgotptest1 service=sshd rhost=127.0.0.1'
check "sshd key+code: outcome=success" logged 'outcome=success result=PAM_SUCCESS'

sys_case "key + wrong code, then the right one (two keyboard-interactive rounds)"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${WRONG[@]}" -e 'Wrong code. Tries left: 1.' \
	-e 'Telegram code: ' "${CODE[@]}" -e 'LOGGEDIN-42'
check "sshd key+code: wrong then right code logs in" rc_is 0
check "sshd key+code: still one code for both tries" sends_are 1

sys_case "key + wrong code twice"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' "${DEAD_END[@]}" -e 'Permission denied'
check "sshd key+code: wrong code is refused (ssh exit 255)" rc_is 255
check "sshd key+code: wrong code: the command did not run" not_said 'LOGGEDIN-42'
check "sshd key+code: wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "Enter on the empty prompt: the client tries again, each time a new code"
# An empty answer is PAM_AUTH_ERR; sshd lets the client retry keyboard-
# interactive (NumberOfPasswordPrompts, 3 by default) and each retry is a new
# PAM run: someone pressing Enter while waiting for the message costs 3 codes.
ssh_as tgotptest1 -o NumberOfPasswordPrompts=3 -- -e 'Telegram code: ' -s '' -e 'Telegram code: ' -s '' \
	-e 'Telegram code: ' -s '' -e 'Permission denied'
check "sshd key+code: empty answers are refused" rc_is 255
check "sshd key+code: three empty answers, three codes sent" sends_are 3
check "sshd key+code: empty answer logged" logged 'outcome=empty_answer result=PAM_AUTH_ERR'

sys_case "no key: no code is sent"
ssh_as tgotptest1 -o PubkeyAuthentication=no -- -e 'Permission denied'
check "sshd key+code: without the key the login is refused" rc_is 255
check "sshd key+code: without the key nothing is sent (mock: 0 sends)" sends_are 0
check "sshd key+code: without the key no code prompt" not_said 'Telegram code'

# Service accounts: the drop-in's commented Match block, uncommented as it
# says, exempts the members of a local group from the code (key alone).
stop_sshd
sys_group tgotp-keyonly tgotptest3
write_sshd_config pam_tgotp.conf "" 's/^#(Match Group tgotp-keyonly)$/\1/; s/^#([[:space:]]+AuthenticationMethods publickey)$/\1/'
sys_case "Match Group tgotp-keyonly: sshd -T per user"
check "sshd -t: the Match block ends with the drop-in (sshd_config's later lines stay global)" \
	"$SSHD" -t -f "$T/ssh/sshd_config"
check "sshd -T: a member of tgotp-keyonly: authenticationmethods publickey" \
	[ "$(effective authenticationmethods tgotptest3)" = publickey ]
check "sshd -T: a non-member: still publickey,keyboard-interactive" \
	[ "$(effective authenticationmethods tgotptest1)" = publickey,keyboard-interactive ]
start_sshd
sys_case "Match Group tgotp-keyonly: a member logs in with the key alone"
ssh_as tgotptest3 -- -e 'LOGGEDIN-42'
check "sshd keyonly: member: the key alone logs in" rc_is 0
check "sshd keyonly: member: no code asked" not_said 'Telegram code'
check "sshd keyonly: member: nothing sent" sends_are 0
check "sshd keyonly: member: the PAM auth stack never ran (no module line)" not_logged 'pam_tgotp('
sys_case "Match Group tgotp-keyonly: a member without the key is refused"
ssh_as tgotptest3 -o PubkeyAuthentication=no -- -e 'Permission denied'
check "sshd keyonly: member without the key: refused (ssh exit 255)" rc_is 255
sys_case "Match Group tgotp-keyonly: a non-member still needs the code"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${CODE[@]}" -e 'LOGGEDIN-42'
check "sshd keyonly: non-member: asked for the code, logs in with it" rc_is 0
check "sshd keyonly: non-member: one code sent" sends_are 1
check "sshd keyonly: non-member: outcome=success" logged 'outcome=success result=PAM_SUCCESS'
stop_sshd
write_sshd_config pam_tgotp.conf
start_sshd

# The pitfall: without the AuthenticationMethods line a key alone is enough;
# sshd runs PAM's auth stack only for keyboard-interactive (and password).
stop_sshd
write_sshd_config pam_tgotp.conf "" '/^AuthenticationMethods/d'
start_sshd
sys_case "drop-in without AuthenticationMethods: the key alone logs in"
ssh_as tgotptest1 -- -e 'LOGGEDIN-42'
check "sshd pitfall: without AuthenticationMethods the key alone logs in" rc_is 0
check "sshd pitfall: ... and no code is asked or sent" sends_are 0
stop_sshd
write_sshd_config pam_tgotp.conf
start_sshd

sys_case "key, number not on Telegram, plain stack: refused"
ssh_as tgotptest2 -- -e 'Permission denied'
check "sshd key+code: not on Telegram, no fallback: refused" rc_is 255
check "sshd key+code: not on Telegram: nothing sent" sends_are 0
check "sshd key+code: not on Telegram: logged" logged 'outcome=not_on_telegram result=PAM_AUTHINFO_UNAVAIL'

# PAM_IGNORE lets the rest of the stack decide: conf/pam.d/sshd holds
# "auth required pam_permit.so" after the module, or a user the module
# ignores (outside a pilot group; unmapped = "ignore") could not get in.
sys_group tgotp-pilot tgotptest1
sys_config 'groups = {"tgotp-pilot"}'
sys_case "key-first, groups = pilot: a user outside the pilot gets in with the key alone"
ssh_as tgotptest3 -- -e 'LOGGEDIN-42'
check "sshd ignore: outside the pilot group: the key alone logs in" rc_is 0
check "sshd ignore: outside the pilot group: no code asked, none sent" sends_are 0
check "sshd ignore: outside the pilot group: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=sshd rhost=127.0.0.1 phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_case "key-first, groups = pilot: a pilot member with a wrong code is refused"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' "${DEAD_END[@]}" -e 'Permission denied'
check "sshd ignore: pilot member, wrong code: refused (ssh exit 255)" rc_is 255
check "sshd ignore: pilot member, wrong code: the command did not run" not_said 'LOGGEDIN-42'
check "sshd ignore: pilot member, wrong code: outcome=wrong_code" logged 'outcome=wrong_code result=PAM_MAXTRIES'

sys_case "key-first, groups = pilot: a user outside the pilot without the key is refused"
ssh_as tgotptest3 -o PubkeyAuthentication=no -- -e 'Permission denied'
check "sshd ignore: outside the pilot, no key: refused (the key still decides)" rc_is 255
check "sshd ignore: outside the pilot, no key: the PAM stack never ran" not_logged 'pam_tgotp('

# What pam_permit costs: the stack is safe only with the drop-in's
# AuthenticationMethods. Without the drop-in (removed before the PAM file,
# say) Debian's "PasswordAuthentication yes" runs this stack for the
# password method, and a user the module ignores gets in with ANY password.
# Hence the README's removal order: /etc/pam.d/sshd first.
stop_sshd
write_sshd_config pam_tgotp.conf "" '/^[A-Z]/d'
start_sshd
sys_case "key-first stack WITHOUT its drop-in: an ignored user gets in with any password"
ssh_as tgotptest3 -o PubkeyAuthentication=no -- -e "tgotptest3@127.0.0.1's password: " -s 'not-the-password' \
	-e 'LOGGEDIN-42'
check "sshd pitfall: key-first stack without the drop-in: any password gets an ignored user in" rc_is 0
stop_sshd
write_sshd_config pam_tgotp.conf
start_sshd

# The lock-out the pam_permit line prevents.
sys_pam sshd sshd '/^auth[[:space:]]+required[[:space:]]+pam_permit\.so$/d'
sys_case "key-first without the pam_permit line: the user outside the pilot is locked out"
ssh_as tgotptest3 -- -e 'Permission denied'
check "sshd pitfall: without pam_permit an ignored user is refused even with the key" rc_is 255
check "sshd pitfall: ... though the module only said PAM_IGNORE" logged 'outcome=not_in_groups result=PAM_IGNORE'
sys_pam sshd sshd

sys_config 'unmapped = "ignore"'
sys_case "key-first, unmapped = ignore: a user without a number gets in with the key alone"
ssh_as tgotptest3 -- -e 'LOGGEDIN-42'
check "sshd ignore: unmapped = ignore: the key alone logs in" rc_is 0
check "sshd ignore: unmapped = ignore: nothing sent" sends_are 0
check "sshd ignore: unmapped = ignore: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=sshd rhost=127.0.0.1 phone=- request_id=- outcome=unmapped result=PAM_IGNORE'

sys_case "key-first, unmapped = ignore: a user with a number and a wrong code is refused"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' "${DEAD_END[@]}" -e 'Permission denied'
check "sshd ignore: unmapped = ignore, wrong code: refused (ssh exit 255)" rc_is 255
check "sshd ignore: unmapped = ignore, wrong code: outcome=wrong_code" \
	logged 'outcome=wrong_code result=PAM_MAXTRIES'
sys_config

# The documented alternative: "@include fallback-oath" for the module line.
sys_pam sshd sshd 's/^auth[[:space:]]+required[[:space:]]+pam_tgotp\.so$/@include fallback-oath/'
sys_case "key, number not on Telegram, fallback stack: the TOTP code"
ssh_as tgotptest2 -- -e 'One-time password \(OATH\) for .tgotptest2' "${OATH[@]}" -e 'LOGGEDIN-42'
check "sshd fallback: not on Telegram falls back to pam_oath and logs in" rc_is 0
check "sshd fallback: the client was told Telegram is not available" \
	said 'Telegram verification is not available.'
check "sshd fallback: no Telegram code prompt" not_said 'Telegram code'

sys_case "key, on Telegram, fallback stack: wrong code never reaches pam_oath"
ssh_as tgotptest1 -- -e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram verification failed.' "${DEAD_END[@]}" -e 'Permission denied'
check "sshd fallback: wrong Telegram code is refused" rc_is 255
check "sshd fallback: wrong Telegram code: no OATH prompt" not_said 'OATH'

sys_case "key, user with no number, fallback stack, unmapped = deny"
ssh_as tgotptest3 -- -e 'Permission denied'
check "sshd fallback: no number and unmapped = deny: refused without OATH" rc_is 255
check "sshd fallback: unmapped = deny: no OATH prompt" not_said 'OATH'
stop_sshd

# ---- 2. The password, then the code, both through PAM
sys_pam sshd sshd-password
write_sshd_config pam_tgotp-password.conf
start_sshd

sys_case "password + right code"
ssh_as tgotptest1 -- -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${CODE[@]}" -e 'LOGGEDIN-42'
check "sshd password+code: right password and code log in" rc_is 0
check "sshd password+code: the masked-number text reaches the client" said 'A Telegram code was sent to'
check "sshd password+code: one code sent" sends_are 1

sys_case "wrong password: no code at all"
ssh_as tgotptest1 -- -e 'Password: ' -s "not-$PW" -e 'Permission denied'
check "sshd password+code: wrong password is refused" rc_is 255
check "sshd password+code: wrong password: no code prompt" not_said 'Telegram code'
check "sshd password+code: wrong password: no sendVerificationMessage (mock /stats)" sends_are 0
check "sshd password+code: wrong password: no Gateway request at all" \
	[ "$("${SYSTOOL[@]}" mock get /stats | "$SYS_PY" -c 'import json,sys; print(json.load(sys.stdin)["requests"])')" = 0 ]

sys_case "unknown user: no code at all"
ssh_as tgotptest-nosuchuser -- -e 'Password: ' -s "$PW" -e 'Permission denied'
check "sshd password+code: unknown user is refused" rc_is 255
check "sshd password+code: unknown user: nothing sent" sends_are 0

sys_config 'groups = {"tgotp-pilot"}'
sys_case "password stack, groups = pilot: a user outside the pilot gets in with the password alone"
ssh_as tgotptest3 -- -e 'Password: ' -s "$PW" -e 'LOGGEDIN-42'
check "sshd-password ignore: outside the pilot: the password alone logs in" rc_is 0
check "sshd-password ignore: outside the pilot: nothing sent" sends_are 0
check "sshd-password ignore: outside the pilot: the module said PAM_IGNORE" \
	logged 'user=tgotptest3 service=sshd rhost=127.0.0.1 phone=- request_id=- outcome=not_in_groups result=PAM_IGNORE'

sys_case "password stack, groups = pilot: a pilot member with a wrong code is refused"
ssh_as tgotptest1 -- -e 'Password: ' -s "$PW" -e 'Telegram code: ' "${WRONG[@]}" \
	-e 'Telegram code: ' "${WRONG[@]}" -e 'Telegram verification failed.' "${DEAD_END[@]}" \
	-e 'Permission denied'
check "sshd-password ignore: pilot member, wrong code: refused (ssh exit 255)" rc_is 255
check "sshd-password ignore: pilot member, wrong code: outcome=wrong_code" \
	logged 'outcome=wrong_code result=PAM_MAXTRIES'
sys_config

sys_case "sshd's password method cannot get in"
ssh_as tgotptest1 -o PreferredAuthentications=password -- -e 'Permission denied'
check "sshd password+code: the password method is refused" rc_is 255
check "sshd password+code: the password method sends nothing" sends_are 0
stop_sshd

# ---- 3. root with the key and the code
# sshd hands PAM the real keyboard-interactive answers of root only with
# "PermitRootLogin yes"; with the default prohibit-password it replaces each
# one with its "wrong password" marker. The code goes to root's phone, but
# whatever root types arrives as a wrong code.
sys_pam sshd sshd
sys_config 'user root { phone = "+44 20 7946 0999" }'
install -d -m 0755 "$T/keys"
install -m 0644 "$T/ssh/client_key.pub" "$T/keys/root"
# Test-only: root's key from the tmpfs (/tmp above it is world-writable).
ROOT_KEYS="AuthorizedKeysFile .ssh/authorized_keys $T/keys/%u
StrictModes no"
write_sshd_config pam_tgotp.conf "$ROOT_KEYS"
start_sshd
sys_case "root, PermitRootLogin prohibit-password (the default): never gets in"
ssh_as root -- -e 'A Telegram code was sent to \+44 •••• ••99\.' -e 'Telegram code: ' "${CODE[@]}" \
	-e 'Wrong code. Tries left: 1.' -e 'Telegram code: ' "${CODE[@]}" \
	-e 'Telegram verification failed.' "${ROOT_DEAD_END[@]}" -e 'Permission denied'
check "sshd root (prohibit-password): the right code is refused" rc_is 255
check "sshd root (prohibit-password): sshd turned the right code into a wrong one" \
	logged 'outcome=wrong_code result=PAM_MAXTRIES'
check "sshd root (prohibit-password): a code was sent all the same" sends_are 1
stop_sshd
write_sshd_config pam_tgotp.conf "$ROOT_KEYS
PermitRootLogin yes"
start_sshd
sys_case "root, PermitRootLogin yes (with AuthenticationMethods still key + code)"
ssh_as root -- -e 'Telegram code: ' "${CODE[@]}" -e 'LOGGEDIN-42'
check "sshd root (PermitRootLogin yes): key + right code logs in" rc_is 0
stop_sshd

sys_end
