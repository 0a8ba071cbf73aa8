#!/bin/sh
# Installs the Debian packages the build and the tests need, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
PKGS="gcc make clang libclang-rt-14-dev pkg-config libsodium-dev check
 nacl-tools ucspi-tcp openbsd-inetd socat time procps python3
 openssh-client openssh-server openssh-sftp-server gesftpserver
 python3-paramiko sshfs libnbd-bin python3-libnbd qemu-utils nbdkit nbd-client
 fio ucspi-unix valgrind liburing-dev
 strace libwrap0 libtirpc3 haproxy jq groff-base iproute2 systemd"
# xinetd's package conflicts with openbsd-inetd's (both provide
# inet-superserver), so it is unpacked here instead of installed (its
# libraries are in PKGS); tests/shell/handler_xinetd.sh looks here too.
XINETD_DIR=/opt/handler-tests/xinetd

missing=""
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)
	[ "$st" = installed ] || missing="$missing $p"
done
xinetd=""
[ -x /usr/sbin/xinetd ] || [ -x "$XINETD_DIR/usr/sbin/xinetd" ] || xinetd=yes
[ -z "$missing$xinetd" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "deps: missing packages; run as root:" >&2
	[ -n "$missing" ] && echo "apt-get install -y$missing" >&2
	[ -n "$xinetd" ] && echo "sh tests/deps.sh  # unpacks xinetd into $XINETD_DIR" >&2
	exit 100
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null || exit 111
if [ -n "$missing" ]; then
	echo "deps: installing:$missing" >&2
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing </dev/null >/dev/null || exit 111
	# Packaged daemons must not hold ports or run jobs behind the tests' backs.
	for svc in openbsd-inetd ssh nbd-server; do
		command -v service >/dev/null 2>&1 && service "$svc" stop >/dev/null 2>&1
	done
fi
if [ -n "$xinetd" ]; then
	echo "deps: unpacking xinetd into $XINETD_DIR" >&2
	d=$(mktemp -d) || exit 111
	mkdir -p "$XINETD_DIR" &&
		(cd "$d" && apt-get download -q xinetd </dev/null >/dev/null 2>&1) &&
		dpkg-deb -x "$d"/xinetd_*.deb "$XINETD_DIR"
	rc=$?
	rm -rf "$d"
	[ $rc -eq 0 ] || exit 111
fi
exit 0
