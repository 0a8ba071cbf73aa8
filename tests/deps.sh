#!/bin/sh
# Installs the Debian packages the build and the tests need, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
PKGS="gcc make clang libclang-rt-14-dev pkg-config libsodium-dev check
 nacl-tools ucspi-tcp openbsd-inetd socat time procps python3
 openssh-client openssh-server openssh-sftp-server gesftpserver
 python3-paramiko sshfs libnbd-bin qemu-utils nbdkit nbd-client valgrind
 strace"

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages; run as root:" >&2
	echo "apt-get install -y$missing" >&2
	exit 100
fi
echo "deps: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || exit 111
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing </dev/null >/dev/null || exit 111
# Packaged daemons must not hold ports or run jobs behind the tests' backs.
for svc in openbsd-inetd ssh nbd-server; do
	command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1
done
exit 0
