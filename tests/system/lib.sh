# shellcheck shell=bash
# Common code of the system tests (tests/system/test_*.sh): real programs
# (sshd, ssh, sudo, login) with pam_tgotp in their PAM stack, against the
# mock Gateway, without touching the machine's own configuration.
#
# How: the test re-runs itself in a private mount namespace (unshare -m,
# propagation private) and lays a throw-away overlay (upper layer on a tmpfs)
# over /etc, /var, /run, /dev and the PAM module directory. Inside, it writes
# /etc/pam.d/<service> from conf/pam.d, /etc/security/pam_tgotp.conf, the test
# users (useradd), installs the built module as <moduledir>/pam_tgotp.so and
# puts a syslog catcher on /dev/log. Nothing of it is visible outside the
# namespace, and all of it vanishes with the namespace's last process.
#
# Environment (exported by tests/run-tests.sh): TGOTP_MOCK_PORTS (ports file
# of the running mock), TGOTP_CERTS (its CA), TGOTP_MODULE (the built module).
# Without them the test starts its own mock and uses build/pam_tgotp.so.
# TGOTP_INSTALLED=1 (tests/package/test_package.sh): the installed package's
# module instead, as dpkg put it in the PAM module directory (the stacks
# load it by name), its /etc/security/pam_tgotp.conf as the start of the
# test's configuration and its examples (/usr/share/doc/libpam-tgotp/
# examples) as the PAM and sshd files.
#
# SYS_KEEP=DIR keeps the terminal transcripts and logs there for a look.
#
# Output: "PASS: ..." / "FAIL: ..." lines, then "N passed, N failed"; exit 1
# on any failure; exit 77 after "SKIP: reason" when it cannot run here (no
# root, a program missing, no mount namespace, tmpfs or overlayfs). The
# module's log is a precondition, never a skip: without a syslog catcher
# the script fails at once ("FAIL: ..." and exit 1).

set -uo pipefail
SYS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP=$(cd "$SYS_DIR/../.." && pwd)
SYS_TIME_LIMIT=${SYS_TIME_LIMIT:-100} # seconds for one whole test script
SYS_PASSED=0
SYS_FAILED=0
SYS_USERS=()
SYS_CASE=0
SYS_RC=0
SYS_LOG=/dev/null # transcript of the current case
SYS_SYSLOG_MARK=0
SYS_SYSLOG_PID=
SYS_SYNC=0
T=
SYS_CONF=$TOP/conf # pam.d/, sshd_config.d/
SYS_CONF_FILE=$TOP/conf/pam_tgotp.conf
[ "${TGOTP_INSTALLED:-}" != 1 ] || SYS_CONF=/usr/share/doc/libpam-tgotp/examples

skip() {
	echo "SKIP: $*"
	exit 77
}

# abort TEXT: the test cannot be run as it should (a broken precondition,
# not a missing feature of the machine): one FAIL line and exit 1.
abort() {
	echo "FAIL: $*"
	exit 1
}

pass() {
	echo "PASS: $*"
	SYS_PASSED=$((SYS_PASSED + 1))
}

# fail TEXT: one failure, with the case's transcript and module log for
# whoever reads the test output.
fail() {
	echo "FAIL: $*"
	SYS_FAILED=$((SYS_FAILED + 1))
	if [ -s "$SYS_LOG" ]; then
		echo "  --- terminal of case $SYS_CASE ($SYS_LOG):"
		tr -d '\r' <"$SYS_LOG" | tail -n 25 | sed 's/^/  | /'
	fi
	echo "  --- syslog since the case began:"
	sys_syslog_since_case | tail -n 15 | sed 's/^/  | /'
}

# check DESCRIPTION COMMAND...: PASS when COMMAND succeeds; else FAIL and
# status 1 ("check ... || show more").
check() {
	local what=$1
	shift
	if "$@"; then pass "$what"; else fail "$what"; return 1; fi
}

# ---------------------------------------------------------------- set-up

# sys_begin PROGRAM...: skips unless root with every PROGRAM; then re-runs
# the calling script inside a private mount namespace and prepares it.
sys_begin() {
	local p err
	[ "$(id -u)" = 0 ] || skip "needs root (test users, a private mount namespace); CI runs it as root"
	for p in unshare mount umount useradd userdel chpasswd setpriv python3 logger "$@"; do
		command -v "$p" >/dev/null 2>&1 ||
			skip "$p is not installed (scripts/install-deps.sh installs what these tests need)"
	done
	if [ "${TGOTP_SYS_NS:-}" != 1 ]; then
		err=$(unshare -m --propagation private true 2>&1) ||
			skip "cannot create a private mount namespace here (unshare -m needs CAP_SYS_ADMIN): $err"
		exec unshare -m --propagation private env TGOTP_SYS_NS=1 bash "$0"
	fi
	SYS_T0=${EPOCHREALTIME/,/.}
	SYS_PY=$(command -v python3)
	SYSTOOL=("$SYS_PY" "$SYS_DIR/systool.py")
	sys_steps
	T=$(mktemp -d /tmp/tgotp-system.XXXXXX) || exit 2
	trap sys_cleanup EXIT
	trap 'exit 143' TERM INT HUP
	err=$(mount -t tmpfs -o mode=0755,size=64m tgotp-system "$T" 2>&1) ||
		skip "cannot mount a tmpfs on $T: $err"
	mkdir -p "$T/home" "$T/cases" "$T/ovl" "$T/keep"
	sys_watchdog &
	SYS_PAMDIR=$(sys_pam_moduledir) || skip "no PAM module directory (pam_unix.so not found)"
	local d
	for d in /etc /var /run "$SYS_PAMDIR"; do
		sys_overlay "$d" 2>"$T/mount.err" ||
			skip "cannot lay an overlay over $d (overlayfs): $(tr '\n' ' ' <"$T/mount.err")"
	done
	sys_start_syslog
	sys_start_mock
	# Our own copy: another run-tests.sh on the same build directory would
	# replace the file while we run.
	cp "$TGOTP_MOCK_PORTS" "$T/ports.json" && export TGOTP_MOCK_PORTS=$T/ports.json
	if [ "${TGOTP_INSTALLED:-}" = 1 ]; then
		sys_installed
	else
		install -m 0644 "$TGOTP_MODULE" "$SYS_PAMDIR/pam_tgotp.so"
	fi
	printf 'test-token\n' >/etc/security/pam_tgotp.token
	chmod 0600 /etc/security/pam_tgotp.token
	mkdir -p /run/sshd /run/sudo
	chmod 0755 /run/sshd
}

# sys_installed: the package's module is the one in the PAM module directory,
# unmodified (dpkg --verify); its configuration is kept as the test's base.
sys_installed() {
	local so bad
	so=$(dpkg -L libpam-tgotp 2>/dev/null | grep '/security/pam_tgotp\.so$') ||
		abort "TGOTP_INSTALLED=1 but libpam-tgotp is not installed (or ships no pam_tgotp.so)"
	[ "$(readlink -f "$so")" = "$SYS_PAMDIR/pam_tgotp.so" ] ||
		abort "the package's $so is not $SYS_PAMDIR/pam_tgotp.so"
	bad=$(dpkg --verify libpam-tgotp 2>&1 | grep -v ' c /etc/') &&
		abort "dpkg --verify libpam-tgotp: $bad"
	SYS_CONF_FILE=$T/pam_tgotp.conf.installed
	cp /etc/security/pam_tgotp.conf "$SYS_CONF_FILE" || abort "no /etc/security/pam_tgotp.conf"
	echo "# the installed package's module: $so"
}

sys_pam_moduledir() {
	local d
	for d in /lib/*/security /usr/lib/*/security /lib64/security /usr/lib64/security /lib/security; do
		[ -e "$d/pam_unix.so" ] && { readlink -f "$d"; return 0; }
	done
	return 1
}

# sys_overlay DIR: a writable overlay on DIR whose upper layer lives in the
# test's tmpfs. Mounts below DIR (e.g. /dev/pts, /etc/hosts in a container)
# are moved back on top, so they keep working.
sys_overlay() {
	local dir=$1 key i=0 m
	local -a subs=()
	key=$(printf '%s' "$dir" | tr / _)
	mapfile -t subs < <(awk -v d="$dir/" 'index($5, d) == 1 && !seen[$5]++ { print $5 }' \
		/proc/self/mountinfo)
	for m in "${subs[@]}"; do
		mkdir -p "$T/keep/$key.$i"
		[ -d "$m" ] || { rmdir "$T/keep/$key.$i"; touch "$T/keep/$key.$i"; }
		mount --bind "$m" "$T/keep/$key.$i" || return 1
		i=$((i + 1))
	done
	mkdir -p "$T/ovl/$key/upper" "$T/ovl/$key/work"
	mount -t overlay tgotp-overlay \
		-o "lowerdir=$dir,upperdir=$T/ovl/$key/upper,workdir=$T/ovl/$key/work" "$dir" || return 1
	i=0
	for m in "${subs[@]}"; do
		mount --move "$T/keep/$key.$i" "$m" || return 1
		i=$((i + 1))
	done
}

# The module logs through syslog(3), i.e. /dev/log: an overlay on /dev gives
# the namespace its own /dev/log, read by systool.py into $T/syslog.
# When /dev cannot be overlaid, a /dev/log that exists (a syslog daemon's)
# can still be covered with a bind mount of ours. Some checks are the only
# proof of a refusal ("no session was opened"), so without the catcher the
# test fails here; once started, a marker sent through /dev/log must come
# back (sys_syslog_sync).
sys_start_syslog() {
	local sock=/dev/log _ err
	: >"$T/syslog"
	if sys_overlay /dev 2>"$T/mount.err"; then
		rm -f /dev/log
	elif [ -S /dev/log ]; then
		sock=$T/log.sock
	else
		abort "cannot capture the module's log: no overlay on /dev ($(tr '\n' ' ' <"$T/mount.err"))" \
			"and no /dev/log to cover"
	fi
	"${SYSTOOL[@]}" syslog "$sock" "$T/syslog" 2>>"$T/syslog.err" &
	SYS_SYSLOG_PID=$!
	for _ in $(seq 100); do
		[ -S "$sock" ] && break
		kill -0 "$SYS_SYSLOG_PID" 2>/dev/null || break
		sleep 0.1
	done
	[ -S "$sock" ] || abort "the syslog catcher did not start: $(tr '\n' ' ' <"$T/syslog.err")"
	if [ "$sock" != /dev/log ]; then
		err=$(mount --bind "$sock" /dev/log 2>&1) ||
			abort "cannot bind the syslog catcher's socket on /dev/log: $err"
	fi
	sys_syslog_sync
}

# sys_syslog_sync: a marker sent through /dev/log now comes back in
# $T/syslog, so the catcher is alive and holds everything logged before
# (one socket, read in order). Otherwise the test ends: no check of the log
# could mean anything.
sys_syslog_sync() {
	local mark _
	SYS_SYNC=$((SYS_SYNC + 1))
	mark="tgotp-system-sync-$$-$SYS_SYNC"
	if logger -d -u /dev/log -t tgotp-system -- "$mark" 2>>"$T/syslog.err"; then
		for _ in $(seq 100); do
			grep -qF -- "$mark" "$T/syslog" && return 0
			sleep 0.05
		done
	fi
	abort "the syslog catcher on /dev/log does not answer (pid $SYS_SYSLOG_PID," \
		"$(kill -0 "$SYS_SYSLOG_PID" 2>/dev/null && echo running || echo gone))" \
		"$(tail -n 3 "$T/syslog.err" | tr '\n' ' ')"
}

sys_syslog_since_case() {
	tail -c +"$((SYS_SYSLOG_MARK + 1))" "$T/syslog" 2>/dev/null
}

sys_start_mock() {
	if [ -n "${TGOTP_MOCK_PORTS:-}" ]; then
		[ -s "$TGOTP_MOCK_PORTS" ] || skip "TGOTP_MOCK_PORTS=$TGOTP_MOCK_PORTS is empty"
		[ -f "${TGOTP_MODULE:-}" ] || skip "TGOTP_MODULE is not a file"
		return 0
	fi
	# Run by hand: our own mock, certificates and the default build.
	export TGOTP_MODULE=${TGOTP_MODULE:-$TOP/build/pam_tgotp.so}
	[ -f "$TGOTP_MODULE" ] || skip "no $TGOTP_MODULE: run make first"
	export TGOTP_CERTS=$T/certs TGOTP_MOCK_PORTS=$T/mock.ports
	"$TOP/tests/certs/gen-certs.sh" "$TGOTP_CERTS" || skip "gen-certs.sh failed"
	"$SYS_PY" "$TOP/tests/mock/mock_gateway.py" --certs "$TGOTP_CERTS" \
		--ports-file "$TGOTP_MOCK_PORTS" --quiet --max-attempts 5 >"$T/mock.log" 2>&1 &
	local _
	for _ in $(seq 100); do [ -s "$TGOTP_MOCK_PORTS" ] && return 0; sleep 0.1; done
	skip "the mock Gateway did not start: $(cat "$T/mock.log")"
}

# Whatever happens, the script ends within SYS_TIME_LIMIT seconds.
sys_watchdog() {
	trap - EXIT TERM INT HUP
	sleep "$SYS_TIME_LIMIT" &
	wait $!
	echo "FAIL: time limit of ${SYS_TIME_LIMIT}s reached"
	sys_kill_namespace "$$" "$BASHPID"
	kill -TERM "$$" 2>/dev/null
}

# sys_kill_namespace PID...: ends every process of this private mount
# namespace (all of them were started by this test) except the PIDs given:
# SIGTERM, up to 2 s to go, then SIGKILL.
sys_kill_namespace() {
	local self ns p pid _
	local -a pids=()
	self=$(readlink /proc/self/ns/mnt)
	for p in /proc/[0-9]*; do
		pid=${p#/proc/}
		[[ " $* $BASHPID " == *" $pid "* ]] && continue
		ns=$(readlink "$p/ns/mnt" 2>/dev/null) || continue
		[ "$ns" = "$self" ] && pids+=("$pid")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null
	for _ in $(seq 40); do
		kill -0 "${pids[@]}" 2>/dev/null || return 0
		sleep 0.05
	done
	kill -KILL "${pids[@]}" 2>/dev/null
}

sys_cleanup() {
	local rc=$? u
	trap - EXIT TERM INT HUP
	set +e
	for u in "${SYS_USERS[@]}"; do
		userdel -f -r "$u" >/dev/null 2>&1
	done
	sys_kill_namespace "$$"
	if [ -n "${SYS_KEEP:-}" ] && [ -n "$T" ]; then
		mkdir -p "$SYS_KEEP" && cp -r "$T/cases" "$T"/*.log "$T"/*.err "$T/syslog" "$SYS_KEEP/" 2>/dev/null
	fi
	cd /
	if [ -n "$T" ]; then
		umount -l "$T" 2>/dev/null
		rmdir "$T" 2>/dev/null
	fi
	exit "$rc"
}

# sys_end: the summary line and the exit status.
sys_end() {
	if [ -s "$T/syslog" ] && [ "${SYS_SHOW_SYSLOG:-1}" = 1 ]; then
		echo "--- module log (syslog inside the test's namespace):"
		grep -a 'pam_tgotp\|pam_oath\|sshd\|sudo' "$T/syslog" | sed 's/^/  | /'
	fi
	echo "# done at $(sys_elapsed) s"
	echo "$SYS_PASSED passed, $SYS_FAILED failed"
	[ "$SYS_FAILED" = 0 ] && exit 0
	exit 1
}

# ---------------------------------------------------------------- the machine inside

# sys_useradd NAME PASSWORD: a test user (names start "tgotptest") with a
# home in the tmpfs, removed again at the end.
sys_useradd() {
	local name=$1 pw=$2
	case $name in tgotptest*) ;; *) echo "bad test user name $name" >&2; exit 2 ;; esac
	useradd -m -d "$T/home/$name" -s /bin/bash "$name" || { fail "useradd $name"; return 1; }
	SYS_USERS+=("$name")
	printf '%s:%s\n' "$name" "$pw" | chpasswd || fail "chpasswd $name"
}

# sys_config [TEXT]: /etc/security/pam_tgotp.conf = the shipped example
# (conf/pam_tgotp.conf, or the installed one; all comments) + the settings
# pointing at the mock + TEXT. The numbers: tgotptest1 on Telegram,
# tgotptest2 on a number the mock says is not on Telegram (999...),
# tgotptest3 has none.
# shellcheck disable=SC2120 # TEXT is optional
sys_config() {
	local api
	api="https://127.0.0.1:$("${SYSTOOL[@]}" mock port gateway)"
	{
		cat "$SYS_CONF_FILE"
		cat <<-EOF

			# ---- the system tests
			api_url = "${SYS_API_URL:-$api}"
			ca_file = "$TGOTP_CERTS/ca.pem"
			timeout = 3
			max_tries = 2
			rate_limit = 100
			rate_window = 86400
			user tgotptest1 { phone = "+44 20 7946 0958" }
			user tgotptest2 { phone = "+999 555 0100 12" }
			${1:-}
		EOF
	} >/etc/security/pam_tgotp.conf
	chmod 0600 /etc/security/pam_tgotp.conf
}

# sys_pam SERVICE FILE [SED-SCRIPT]: /etc/pam.d/SERVICE = $SYS_CONF/pam.d/FILE,
# optionally edited by SED-SCRIPT (only to switch to an alternative that
# the file itself documents).
sys_pam() {
	local service=$1 file=$2 script=${3:-}
	if [ -n "$script" ]; then
		sed -E "$script" "$SYS_CONF/pam.d/$file" >"/etc/pam.d/$service"
		if cmp -s "$SYS_CONF/pam.d/$file" "/etc/pam.d/$service"; then
			fail "the edit \"$script\" changed nothing in conf/pam.d/$file"
		fi
	else
		cp "$SYS_CONF/pam.d/$file" "/etc/pam.d/$service"
	fi
	chmod 0644 "/etc/pam.d/$service"
}

# sys_root_password PASSWORD: root's password, inside the namespace only
# (the overlay on /etc takes the change; checked first, never the host's).
sys_root_password() {
	if [ "$(findmnt -n -o FSTYPE,SOURCE --target /etc/shadow)" != "overlay tgotp-overlay" ]; then
		echo "refusing to set root's password: /etc is not this test's overlay" >&2
		exit 2
	fi
	printf 'root:%s\n' "$1" | chpasswd || fail "chpasswd root"
}

# sys_group NAME USER...: a local group (/etc/group, inside the namespace)
# with these members.
sys_group() {
	local name=$1
	shift
	groupadd "$name" || { fail "groupadd $name"; return 1; }
	[ $# -eq 0 ] || gpasswd -M "$(IFS=,; echo "$*")" "$name" >/dev/null || fail "gpasswd -M $name"
}

# The TOTP secret of every test user in /etc/users.oath (pam_oath).
SYS_OATH_KEY=3132333435363738393031323334353637383930
sys_oath_users() {
	local u
	: >/etc/users.oath
	chmod 0600 /etc/users.oath
	for u in "$@"; do
		printf 'HOTP/T30/6\t%s\t-\t%s\n' "$u" "$SYS_OATH_KEY" >>/etc/users.oath
	done
}
SYS_OATH_CODE="oathtool --totp $SYS_OATH_KEY"

# ---------------------------------------------------------------- one case

# sys_case TITLE: a fresh mock (no messages, counters at zero) and transcript.
sys_case() {
	SYS_CASE=$((SYS_CASE + 1))
	SYS_LOG="$T/cases/$SYS_CASE.txt"
	: >"$SYS_LOG"
	SYS_SYSLOG_MARK=$(stat -c %s "$T/syslog" 2>/dev/null || echo 0)
	"${SYSTOOL[@]}" mock reset || fail "mock reset"
	echo "# case $SYS_CASE (at $(sys_elapsed) s): $*"
}

sys_elapsed() {
	awk -v a="$SYS_T0" -v b="${EPOCHREALTIME/,/.}" 'BEGIN { printf "%.1f", b - a }'
}

# sys_drive [--timeout S] STEP... -- COMMAND...: COMMAND on a pseudo-terminal
# driven by systool.py; its exit status in SYS_RC, its output in SYS_LOG.
sys_drive() {
	"${SYSTOOL[@]}" pty --timeout 15 --log "$SYS_LOG" "$@" 2>>"$T/drive.err"
	SYS_RC=$?
}

# Steps typing the code the mock just sent, a wrong one, a TOTP code.
# shellcheck disable=SC2034 # used by the test scripts
sys_steps() {
	local tool
	tool=$(printf '%q ' "${SYSTOOL[@]}")
	CODE=(-c "$tool mock code")
	WRONG=(-c "$tool mock wrong")
	OATH=(-c "$SYS_OATH_CODE")
}

# The checks read their text into a variable first: in "PRODUCER | grep -q"
# grep may leave at the first match and the producer die of SIGPIPE, and
# under pipefail that failure would make not_said and not_logged pass.
said() {
	local text
	text=$(tr -d '\r' <"$SYS_LOG") && grep -qF -- "$1" <<<"$text"
}
# not_said TEXT: the program wrote something (it ran), but not TEXT.
not_said() { [ -s "$SYS_LOG" ] && ! said "$1"; }
rc_is() { [ "$SYS_RC" = "$1" ]; }
rc_is_not() { [ "$SYS_RC" != "$1" ]; }
sends_are() { [ "$("${SYSTOOL[@]}" mock sends)" = "$1" ]; }
# sys_log_re TEXT: an extended regular expression for the fixed TEXT. TEXT
# that starts with a field of the module's line (user=..., outcome=...)
# matches whole fields: "outcome=success" not "outcome=success_grace",
# "user=root" not "given_user=root".
sys_log_re() {
	local re
	re=$(printf '%s' "$1" | sed 's/[][\.*^$+?(){}|]/\\&/g')
	if [[ $1 =~ ^[a-z_]+= ]]; then re="(^| )$re( |\$)"; fi
	printf '%s' "$re"
}
logged() {
	local text
	sys_syslog_sync
	text=$(sys_syslog_since_case) && grep -aqE -- "$(sys_log_re "$1")" <<<"$text"
}
not_logged() { ! logged "$1"; }
# logged_at FACILITY.LEVEL TEXT: a line with TEXT at that level.
logged_at() {
	local text
	sys_syslog_sync
	text=$(sys_syslog_since_case) || return 1
	text=$(grep -aE -- "$(sys_log_re "$2")" <<<"$text" | cut -d ' ' -f 1)
	grep -qxF -- "$1" <<<"$text"
}
count_said() { tr -d '\r' <"$SYS_LOG" | grep -cF -- "$1"; }
# sent_to +E164: the last code went to this number (the mock's /last).
sent_to() {
	[ "$("${SYSTOOL[@]}" mock get /last |
		"$SYS_PY" -c 'import json,sys; print(json.load(sys.stdin)["phone_number"])')" = "$1" ]
}
# not_grep_module FILE: FILE does not load pam_tgotp.so.
not_grep_module() { [ -s "$1" ] && ! grep -q 'pam_tgotp' "$1"; }
