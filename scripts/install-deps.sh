#!/usr/bin/env bash
# Installs what one use of the tree needs on Debian/Ubuntu:
#   scripts/install-deps.sh [build|demo|test]
#     build  the compiler, pkg-config and the -dev libraries (make)
#     demo   build, and python3 and openssl for the mock Gateway (make demo)
#     test   everything make check and CI use: the test tools, valgrind,
#            clang, clang-format, sshd, sudo, slapd, ... (the default)
# As root it runs apt-get; otherwise it says what to run. Quiet when all is there.
set -euo pipefail
profile=${1:-test}
build=(
	make gcc pkg-config
	libpam0g-dev libcurl4-openssl-dev libcjson-dev libconfuse-dev libldap-dev libcrypt-dev
)
# libpam-modules: pam_deny.so of the demo's service file.
demo=(python3 openssl ca-certificates libpam-modules)
test=(
	libcmocka-dev valgrind
	clang libclang-rt-14-dev clang-format
	openssh-server openssh-client sudo login passwd util-linux libpam-oath oathtool
	pkexec polkitd dbus-daemon
	slapd ldap-utils
	mandoc groff-base
	dpkg-dev debhelper lintian rpm rpmlint pamtester
	python3-requests
	etcd-server etcd-client
)
case $profile in
build) pkgs=("${build[@]}") ;;
demo) pkgs=("${build[@]}" "${demo[@]}") ;;
test) pkgs=("${build[@]}" "${demo[@]}" "${test[@]}") ;;
*)
	echo "usage: $0 [build|demo|test]" >&2
	exit 2
	;;
esac
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "missing packages: ${missing[*]}" >&2
	echo "run as root:  apt-get install ${missing[*]}" >&2
	exit 1
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
