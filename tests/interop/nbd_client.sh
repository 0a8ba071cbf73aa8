#!/bin/sh
# nbd-client (Debian's, the kernel's NBD client) against handler nbd behind
# tcpserver. Listing exports (-l) needs no kernel: it always runs. Serving
# /dev/nbdX needs the nbd kernel module; where it cannot be loaded here
# that case is skipped with the reason in the output.
. tests/lib.sh
for t in nbd-client tcpserver; do
	if ! command -v $t >/dev/null 2>&1; then
		fail nbd_client "$t missing (make deps installs it)"
		finish
	fi
done
H=$BIN/handler
IMG=$T/disk.img
truncate -s 16M "$IMG"
cat >"$T/conf" <<EOF2
nbd-export vm $IMG rw the virtual machine
nbd-export iso $IMG ro
EOF2
port=$(free_port)
bg tcpserver -R -H -l 0 127.0.0.1 "$port" "$H" -f "$T/conf" nbd "$IMG" \
	2>"$T/server.log"
wait_tcp "$port"

limit 30 nbd-client -l 127.0.0.1 "$port" >"$T/list" 2>&1
check "nbd-client -l: exit 0" test $? -eq 0
check "nbd-client -l: the command line's file" grep -qx "disk.img" "$T/list"
check "nbd-client -l: a conf export with its description" \
	grep -qx "vm: the virtual machine" "$T/list"
check "nbd-client -l: a conf export without one" grep -qx "iso" "$T/list"

# The kernel side: /dev/nbd0 exists once the module is in.
if [ ! -e /dev/nbd0 ] && command -v modprobe >/dev/null 2>&1; then
	modprobe nbd >"$T/modprobe.err" 2>&1
fi
if [ ! -b /dev/nbd0 ]; then
	why=$(cat "$T/modprobe.err" 2>/dev/null | tr '\n' ' ')
	[ -d "/lib/modules/$(uname -r)" ] || why="no /lib/modules/$(uname -r)"
	if [ -r /proc/config.gz ] && zcat /proc/config.gz | grep -q '^# CONFIG_BLK_DEV_NBD is not set'; then
		why="the kernel is built without CONFIG_BLK_DEV_NBD"
	fi
	ok "nbd-client block device # SKIP no nbd kernel module on $(uname -r): ${why:-/dev/nbd0 missing}"
	finish
fi
head -c 1M /dev/urandom >"$T/data"
if limit 30 nbd-client -N vm 127.0.0.1 "$port" /dev/nbd0 >"$T/nc.log" 2>&1; then
	ok "nbd-client: /dev/nbd0 connected"
	dd if="$T/data" of=/dev/nbd0 bs=64K oflag=direct 2>/dev/null
	sync
	check "nbd-client: what was written through /dev/nbd0 is in the image" \
		cmp -n 1048576 "$T/data" "$IMG"
	limit 30 nbd-client -d /dev/nbd0 >/dev/null 2>&1
	check "nbd-client: disconnected" test $? -eq 0
else
	fail "nbd-client: /dev/nbd0 connected" "$(tail -n 3 "$T/nc.log" | tr '\n' ' ')"
fi
finish
