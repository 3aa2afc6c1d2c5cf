#!/usr/bin/env bash
# The packages as an administrator gets them (issue 13):
#   tests/package/test_package.sh [BUILD_DIR]
# builds the .deb (make deb) and the .rpm (make rpm) from the working tree,
# lints both (lintian, rpmlint), compares their file lists, then installs
# the .deb with dpkg and logs in through the installed module (debian/tests/
# login with pamtester; the system tests sshd, sudo, login and fallback with
# TGOTP_INSTALLED=1), runs "tgotp check" on the installed files, installs
# the package over itself and a newer version over it (the administrator's
# files must not change), removes and purges it (nothing of it may be left).
#
# Run by tests/run-tests.sh (plain) with the mock Gateway of the run
# (TGOTP_MOCK_PORTS, TGOTP_CERTS); by hand it starts its own. Root only.
#
# The machine is never changed: the script re-runs itself in a private
# mount namespace with throw-away overlays (upper layers on a tmpfs) over
# /etc, /usr and /var, so dpkg installs, upgrades and purges there only,
# and whatever is left vanishes with the namespace's last process.
#
# What is packed: the working tree as it is (uncommitted and untracked files
# included, ignored ones not): a tree object written with a temporary index,
# passed to make deb/rpm as PKG_TREE. In a clean checkout (CI) that is HEAD.
#
# Output: PASS:/FAIL: lines, "LINT: ..." (the lint counts, shown by
# run-tests.sh), "N passed, N failed"; exit 1 on a failure, 77 after
# "SKIP: reason" when it cannot run here.

# sys_overlay, sys_start_mock, sys_kill_namespace, skip, abort, pass and
# check from the system tests.
# shellcheck source=tests/system/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/../system/lib.sh"
BUILD=${1:-$TOP/build}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
PKG=$BUILD/pkg
SECONDS=0
W=
# pass and check from lib.sh; fail without the system tests' transcripts.
fail() {
	echo "FAIL: $*"
	SYS_FAILED=$((SYS_FAILED + 1))
}
# same WHAT EXPECTED ACTUAL: PASS when equal, else both shown.
same() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1: expected \"$2\", got \"$3\""; fi
}
not_in() { ! grep -q -- "$2" "$1"; }
# show LOG: the end of a log under a failure.
show() { tail -n "${2:-20}" "$1" | sed 's/^/  | /'; }

[ "$(id -u)" = 0 ] || skip "needs root (dpkg -i, a private mount namespace); CI runs it as root"
for p in git make dpkg-buildpackage dh dpkg-deb lintian rpmbuild rpmlint rpm pamtester unshare \
	python3 sha256sum findmnt; do
	command -v "$p" >/dev/null 2>&1 ||
		skip "$p is not installed (scripts/install-deps.sh installs what these tests need)"
done
if [ "${TGOTP_PKG_NS:-}" != 1 ]; then
	err=$(unshare -m --propagation private true 2>&1) ||
		skip "cannot create a private mount namespace here (unshare -m needs CAP_SYS_ADMIN): $err"
	exec unshare -m --propagation private env TGOTP_PKG_NS=1 bash "$0" "$BUILD"
fi

cleanup() {
	local rc=$?
	trap - EXIT TERM INT HUP
	set +e
	# Only inside this namespace's overlays; gone with them anyway.
	[ -z "$W" ] || dpkg --purge libpam-tgotp >/dev/null 2>&1
	sys_kill_namespace "$$"
	cd /
	if [ -n "$W" ]; then
		umount -l "$W" 2>/dev/null
		rmdir "$W" 2>/dev/null
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 143' TERM INT HUP
T=$(mktemp -d /tmp/tgotp-package.XXXXXX) || exit 2
err=$(mount -t tmpfs -o mode=0700,size=512m tgotp-package "$T" 2>&1) || skip "cannot mount a tmpfs on $T: $err"
W=$T
mkdir -p "$T/keep" "$T/ovl"
for d in /etc /usr /var; do
	sys_overlay "$d" 2>"$T/mount.err" ||
		skip "cannot lay an overlay over $d (overlayfs): $(tr '\n' ' ' <"$T/mount.err")"
done
for d in /etc/security /usr/lib /var/lib/dpkg; do
	[ "$(findmnt -n -o FSTYPE,SOURCE --target "$d")" = "overlay tgotp-overlay" ] ||
		abort "$d is not on this test's overlay: refusing to install anything"
done
SYS_PY=$(command -v python3)
SYSTOOL=("$SYS_PY" "$TOP/tests/system/systool.py")
sys_start_mock
MA=$(dpkg-architecture -qDEB_HOST_MULTIARCH)
cd "$TOP" || exit 2

# ---------------------------------------------------------------- versions
v=$(sed -n 's/^VERSION *:= *//p' Makefile)
same "debian/changelog's version is the Makefile's" "$v" "$(dpkg-parsechangelog -S Version)"
same "the spec's version is the Makefile's" "$v" "$(sed -n 's/^Version: *//p' rpm/pam_tgotp.spec)"
same "the spec's last %changelog entry is this version" "$v-1" \
	"$(sed -n '/^%changelog/,$ s/^\*.* - \([^ ]*\)$/\1/p' rpm/pam_tgotp.spec | head -n 1)"
same "NEWS's newest version is the Makefile's" "$v" \
	"$(grep -m1 -oE '^[0-9]+\.[0-9]+\.[0-9]+' NEWS)"

# ---------------------------------------------------------------- build, lint
export GIT_INDEX_FILE=$T/index
tree=$(git read-tree HEAD && git add -A . && git write-tree) || abort "cannot write the working tree's tree object"
unset GIT_INDEX_FILE
[ "$tree" = "$(git rev-parse 'HEAD^{tree}')" ] ||
	echo "# packing the working tree ($tree), which differs from HEAD: uncommitted changes included"
rm -rf "$PKG"
DEB_BUILD_OPTIONS="nocheck parallel=2" make -s deb BUILD="$BUILD" PKG_TREE="$tree" >"$T/deb.log" 2>&1
check "make deb builds the package" [ $? = 0 ] || show "$T/deb.log"
DEB=$PKG/libpam-tgotp_${v}_$(dpkg --print-architecture).deb
[ -f "$DEB" ] || abort "no $DEB: $(tail -n 5 "$T/deb.log")"
make -s rpm BUILD="$BUILD" PKG_TREE="$tree" >"$T/rpm.log" 2>&1
check "make rpm builds the package (rpmbuild --nodeps)" [ $? = 0 ] || show "$T/rpm.log"
RPM=$(find "$PKG/rpmbuild/RPMS" -name "pam_tgotp-$v-1.*.rpm" 2>/dev/null | head -n 1)
[ -f "$RPM" ] || abort "no pam_tgotp-$v-1 rpm: $(tail -n 5 "$T/rpm.log")"

# lintian on the .changes: both .debs (the -dbgsym too) and the upload's
# files. Overrides only in debian/libpam-tgotp.lintian-overrides, each with
# its reason; an unused one is an I: tag (-I shows it).
lintian -I --pedantic --show-overrides "$PKG/pam-tgotp_${v}_$(dpkg --print-architecture).changes" \
	>"$T/lintian.log" 2>&1
lerr=$(grep -c '^E: ' "$T/lintian.log") lwarn=$(grep -c '^W: ' "$T/lintian.log")
lover=$(grep -c '^O: ' "$T/lintian.log")
check "lintian: no errors, no warnings" [ "$lerr $lwarn" = "0 0" ] || show "$T/lintian.log"
check "lintian: every override is used" not_in "$T/lintian.log" 'unused-override\|mismatched-override' ||
	grep 'unused-override\|mismatched-override' "$T/lintian.log" | sed 's/^/  | /'
rpmlint -r rpm/pam_tgotp.rpmlintrc "$RPM" rpm/pam_tgotp.spec >"$T/rpmlint.log" 2>&1
rerr=$(grep -c ': E: ' "$T/rpmlint.log") rwarn=$(grep -c ': W: ' "$T/rpmlint.log")
check "rpmlint: no errors" [ "$rerr" = 0 ] || show "$T/rpmlint.log"
echo "LINT: lintian: $lerr errors, $lwarn warnings ($lover overridden); rpmlint: $rerr errors, $rwarn warnings"
grep ': W: ' "$T/rpmlint.log" | sed 's/^/  rpmlint | /'

# ---------------------------------------------------------------- the two lists
# "MODE PATH" of every file, link and non-0755 directory, with each
# distribution's own places mapped to one name. Left out, each for its
# reason: dpkg's changelog (the spec's %changelog is in the rpm header),
# lintian's overrides and rpm's /usr/lib/.build-id links (Debian puts them in
# the -dbgsym package).
# The license is /usr/share/doc/libpam-tgotp/copyright on Debian.
normalise() {
	awk '$1 != "drwxr-xr-x"' | sed -E \
		-e 's#^([^ ]+) (/usr)?/lib/[^/]+-linux-gnu/security/#\1 PAMDIR/#' \
		-e 's#^([^ ]+) /usr/lib64/security/#\1 PAMDIR/#' \
		-e 's#^([^ ]+) /usr/share/doc/(libpam-tgotp|pam_tgotp)/#\1 DOC/#' \
		-e 's#^([^ ]+) /usr/share/licenses/pam_tgotp/LICENSE$#\1 DOC/copyright#' \
		-e 's#\.(gz|bz2|xz|zst)$##' \
		-e '\#^[^ ]+ DOC/changelog$#d' -e '\#^[^ ]+ /usr/share/lintian/overrides/#d' \
		-e '\#^[^ ]+ /usr/lib/\.build-id(/|$)#d' | sort
}
dpkg-deb -c "$DEB" | awk '{ p = $6; sub(/^\./, "", p); sub(/\/$/, "", p); print $1, p }' \
	>"$T/deb.all"
normalise <"$T/deb.all" >"$T/deb.list"
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$RPM" | normalise >"$T/rpm.list"
if diff -u "$T/deb.list" "$T/rpm.list" >"$T/lists.diff"; then
	pass "the .deb and the .rpm hold the same $(wc -l <"$T/deb.list") files, modes and places"
else
	fail "the .deb (-) and the .rpm (+) differ:"
	sed 's/^/  | /' "$T/lists.diff"
fi
for f in "PAMDIR/pam_tgotp.so" /usr/sbin/tgotp /usr/share/man/man5/pam_tgotp.conf.5 \
	/usr/share/man/man8/pam_tgotp.8 /usr/share/man/man8/tgotp.8 /etc/security/pam_tgotp.conf \
	/var/lib/pam_tgotp DOC/examples/pam.d/sshd DOC/examples/sshd_config.d/pam_tgotp.conf \
	DOC/examples/pam_tgotp.users; do
	check "both packages ship $f" grep -q " $f\$" "$T/deb.list"
done
same "the configuration is root's alone (0600) in both" "-rw------- /etc/security/pam_tgotp.conf" \
	"$(grep ' /etc/security/pam_tgotp.conf$' "$T/rpm.list")"
same "the state directory is root's alone (0700) in both" "drwx------ /var/lib/pam_tgotp" \
	"$(grep ' /var/lib/pam_tgotp$' "$T/rpm.list")"

# ---------------------------------------------------------------- install
echo "# built and linted at $SECONDS s"
# The machine's PAM stacks and sshd configuration: no package step may edit them.
stacks() { sha256sum /etc/pam.d/* /etc/ssh/sshd_config /etc/ssh/sshd_config.d/* 2>/dev/null; }
stacks >"$T/stacks.before"
# What was there before (/etc/security, /usr/share/man/man8...) stays after
# the purge; everything else of the package must be gone then.
while read -r _ f; do
	[ -n "$f" ] && { [ -e "$f" ] || [ -L "$f" ]; } && echo "$f"
done <"$T/deb.all" >"$T/preexisting"
dpkg -i "$DEB" </dev/null >"$T/dpkg.log" 2>&1
check "dpkg -i installs the package" [ $? = 0 ] || show "$T/dpkg.log"
same "dpkg: libpam-tgotp $v installed" "install ok installed $v" \
	"$(dpkg-query -W -f '${Status} ${Version}' libpam-tgotp 2>&1)"
CONF=/etc/security/pam_tgotp.conf STATE=/var/lib/pam_tgotp
same "the module is in /lib/$MA/security, root's, 0644" "644 root:root" \
	"$(stat -c '%a %U:%G' "/lib/$MA/security/pam_tgotp.so" 2>&1)"
same "tgotp is /usr/sbin/tgotp, 0755" "755 root:root" "$(stat -c '%a %U:%G' /usr/sbin/tgotp 2>&1)"
same "$CONF: root's, 0600" "600 root:root" "$(stat -c '%a %U:%G' "$CONF" 2>&1)"
same "$STATE: root's, 0700" "700 root:root" "$(stat -c '%a %U:%G' "$STATE" 2>&1)"
check "$CONF is a conffile" grep -q "^ $CONF " <(dpkg-query -W -f '${Conffiles}\n' libpam-tgotp)
check "$CONF is the shipped example (conf/pam_tgotp.conf)" cmp -s "$CONF" conf/pam_tgotp.conf
for m in pam_tgotp.conf.5 pam_tgotp.8 tgotp.8; do
	check "the man page $m" [ -f "/usr/share/man/man${m##*.}/$m.gz" ]
done
for f in pam.d/sshd pam.d/sudo sshd_config.d/pam_tgotp.conf pam_tgotp.users; do
	check "the example $f" cmp -s "conf/$f" "/usr/share/doc/libpam-tgotp/examples/$f"
done
stacks >"$T/stacks.after"
check "no PAM stack nor sshd configuration was edited by the package" cmp -s "$T/stacks.before" \
	"$T/stacks.after"
same "tgotp --version is the package's" "$v" "$(/usr/sbin/tgotp --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"

# ---------------------------------------------------------------- logins
bash debian/tests/login >"$T/autopkgtest.log" 2>&1
check "debian/tests/login (autopkgtest): pamtester logs in through the installed module" [ $? = 0 ] ||
	show "$T/autopkgtest.log"
# The real programs with the installed module, as the system tests drive
# them (their own namespaces and overlays, inside this one).
for t in sshd sudo login fallback; do
	start=$SECONDS
	TGOTP_INSTALLED=1 SYS_SHOW_SYSLOG=0 bash "tests/system/test_$t.sh" >"$T/system-$t.log" 2>&1
	rc=$?
	n=$(grep -c '^PASS:' "$T/system-$t.log")
	case $rc in
	0) pass "installed package: tests/system/test_$t.sh, $n checks passed in $((SECONDS - start)) s" ;;
	77) echo "SKIP: installed-$t: $(grep -m1 '^SKIP' "$T/system-$t.log" | sed 's/^SKIP: //')" ;;
	*) fail "installed package: tests/system/test_$t.sh exit $rc"
		grep -E '^FAIL' "$T/system-$t.log" | head -n 10 | sed 's/^/  | /' ;;
	esac
done
check "the system tests ran the installed module (their log says so)" \
	grep -q "^# the installed package's module: /lib/$MA/security/pam_tgotp.so" "$T/system-sshd.log"

# ---------------------------------------------------------------- the administrator's files
echo "# logins done at $SECONDS s"
# As README's Install section has it: the token, a number in the users
# file, the Gateway (here the mock) in the configuration, made read-only.
printf 'test-token\n' >/etc/security/pam_tgotp.token
chmod 0600 /etc/security/pam_tgotp.token
printf 'root +44 20 7946 0958\n' >/etc/security/pam_tgotp.users
chmod 0600 /etc/security/pam_tgotp.users
cat >>"$CONF" <<EOC
api_url = "https://127.0.0.1:$("${SYSTOOL[@]}" mock port gateway)"
ca_file = "$TGOTP_CERTS/ca.pem"
EOC
chmod 0400 "$CONF"
/usr/sbin/tgotp check >"$T/check.log" 2>&1
check "tgotp check: the installed configuration, token, users file and state: no error, no warning" \
	grep -qx '0 errors, 0 warnings' "$T/check.log" || show "$T/check.log"
/usr/sbin/tgotp check --online >"$T/check.log" 2>&1
check "tgotp check --online: the Gateway accepts the token" grep -q 'the token is accepted' "$T/check.log" ||
	show "$T/check.log"

# A login with the installed configuration at its own path (no config=):
# the module's state lands in $STATE.
SERVICE=/etc/pam.d/tgotp-package-test
printf 'auth required pam_tgotp.so\naccount required pam_permit.so\n' >"$SERVICE"
login_root() {
	rm -f "$T/login.log"
	"${SYSTOOL[@]}" mock reset &&
		"${SYSTOOL[@]}" pty --timeout 30 --log "$T/login.log" -e 'Telegram code: ' \
			-c "$(printf '%q ' "${SYSTOOL[@]}") mock code" -e 'successfully authenticated' \
			-- pamtester "${SERVICE##*/}" root authenticate >/dev/null 2>&1
}
login_root
check "pamtester: root logs in with $CONF and the users file" [ $? = 0 ] || show "$T/login.log"
check "the module's state is in $STATE" [ -n "$(ls -A "$STATE" 2>/dev/null)" ]

# ---------------------------------------------------------------- upgrades
# Contents, modes and owners of every file of the administrator's.
admin_files() {
	local f
	for f in "$CONF" /etc/security/pam_tgotp.users /etc/security/pam_tgotp.token "$STATE" \
		"$STATE"/* "$STATE"/.[!.]*; do
		[ -e "$f" ] || continue
		printf '%s %s\n' "$(stat -c '%a %U:%G %s' "$f")" "$f"
		[ -d "$f" ] || sha256sum "$f"
	done
}
# same_admin_files WHAT: PASS when they are as before, else the difference.
same_admin_files() {
	admin_files >"$T/admin.after"
	if cmp -s "$T/admin.before" "$T/admin.after"; then
		pass "$1 keeps the administrator's files: contents, modes, owners"
	else
		fail "$1 changed the administrator's files:"
		diff "$T/admin.before" "$T/admin.after" | sed 's/^/  | /'
	fi
}
admin_files >"$T/admin.before"
dpkg -i "$DEB" </dev/null >"$T/dpkg.log" 2>&1
check "dpkg -i the same package again (no conffile question)" [ $? = 0 ] || show "$T/dpkg.log"
same_admin_files "reinstalling"

# A newer version: the same files under a higher version number.
v2=$v+upgradetest1
if ! { dpkg-deb -R "$DEB" "$T/v2" && sed -i "s/^Version: .*/Version: $v2/" "$T/v2/DEBIAN/control" &&
	dpkg-deb -b "$T/v2" "$T/libpam-tgotp_$v2.deb" >/dev/null 2>&1; }; then
	abort "cannot build version $v2"
fi
dpkg -i "$T/libpam-tgotp_$v2.deb" </dev/null >"$T/dpkg.log" 2>&1
check "dpkg -i version $v2 over $v (no conffile question)" [ $? = 0 ] || show "$T/dpkg.log"
same "dpkg: libpam-tgotp $v2 installed" "install ok installed $v2" \
	"$(dpkg-query -W -f '${Status} ${Version}' libpam-tgotp 2>&1)"
same_admin_files "upgrading"
login_root
check "after the upgrade root still logs in" [ $? = 0 ] || show "$T/login.log"
rm -f "$SERVICE"

# ---------------------------------------------------------------- remove, purge
dpkg --remove libpam-tgotp </dev/null >"$T/dpkg.log" 2>&1
check "dpkg --remove" [ $? = 0 ] || show "$T/dpkg.log"
check "removed: the module is gone" [ ! -e "/lib/$MA/security/pam_tgotp.so" ]
check "removed: tgotp is gone" [ ! -e /usr/sbin/tgotp ]
check "removed, not purged: the configuration stays" [ -f "$CONF" ]
check "removed, not purged: the state stays" [ -n "$(ls -A "$STATE" 2>/dev/null)" ]
dpkg --purge libpam-tgotp </dev/null >"$T/dpkg.log" 2>&1
check "dpkg --purge" [ $? = 0 ] || show "$T/dpkg.log"
not_known() { ! dpkg-query -W -f '${Status}\n' libpam-tgotp 2>/dev/null | grep -qv 'not-installed'; }
check "purged: dpkg no longer knows libpam-tgotp" not_known
left=() gone=()
while read -r _ f; do
	[ -n "$f" ] || continue
	if grep -qxF -- "$f" "$T/preexisting"; then
		[ -e "$f" ] || gone+=("$f")
	elif [ -e "$f" ] || [ -L "$f" ]; then
		left+=("$f")
	fi
done <"$T/deb.all"
for f in /var/lib/dpkg/info/libpam-tgotp.*; do
	[ -e "$f" ] && left+=("$f")
done
same "purged: nothing of the package is left ($(wc -l <"$T/deb.all") paths, the state and conffile too)" \
	"" "${left[*]}"
same "purged: what was there before the package still is" "" "${gone[*]}"
check "purged: the administrator's own token stays" [ -f /etc/security/pam_tgotp.token ]
check "purged: the administrator's own users file stays" [ -f /etc/security/pam_tgotp.users ]
stacks >"$T/stacks.after"
check "the PAM stacks and sshd configuration are as before" cmp -s "$T/stacks.before" "$T/stacks.after"

echo "# done in $SECONDS s"
echo "$SYS_PASSED passed, $SYS_FAILED failed"
[ "$SYS_FAILED" = 0 ]
