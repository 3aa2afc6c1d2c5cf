#!/usr/bin/env bash
# Installs what building, testing and the demo need on Debian/Ubuntu.
# As root it runs apt-get; otherwise it says what to run. Quiet when all is there.
set -euo pipefail
pkgs=(
	make gcc pkg-config
	libpam0g-dev libcurl4-openssl-dev libcjson-dev libconfuse-dev libldap-dev
	libcmocka-dev libpam-modules
	python3 openssl ca-certificates valgrind
	clang libclang-rt-14-dev
	openssh-server openssh-client sudo login passwd util-linux libpam-oath oathtool
	pkexec polkitd dbus-daemon
	slapd ldap-utils
	mandoc groff-base
)
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
