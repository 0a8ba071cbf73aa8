#!/bin/sh
# The nbd recipes in conf/, as shipped but with this test's paths, each
# reached by qemu-img, qemu-io or nbdcopy: unixserver (conf/unixserver-nbd.run),
# tcpserver (conf/tcpserver.run with PROTOCOL=nbd) and a systemd socket
# with Accept=no (conf/systemd/handler-nbd.service under
# systemd-socket-activate: handler accepts and forks itself).
. tests/lib.sh
for t in qemu-img qemu-io nbdcopy unixserver tcpserver systemd-socket-activate; do
	if ! command -v $t >/dev/null 2>&1; then
		fail nbd_recipes "$t missing (make deps installs it)"
		finish
	fi
done
H=$BIN/handler
MiB=1048576
IMG=$T/vm.img
truncate -s 8M "$IMG"
head -c 1M /dev/urandom | dd of="$IMG" bs=1M seek=2 conv=notrunc 2>/dev/null
: >"$T/conf"

# The 64 KiB at OFF of the image hold only byte value HEX.
pattern() { # OFF HEX
	[ "$(dd if="$IMG" bs=64K skip=$(($1 / 65536)) count=1 2>/dev/null |
		od -An -v -tx1 | tr -s ' \n' '\n\n' | grep -v '^$' | sort -u)" = "$2" ]
}

# --- unixserver, from conf/unixserver-nbd.run ---------------------------
S1=$T/u.sock
SOCKET=$S1 HANDLER=$H HANDLER_OPTS="-f $T/conf" NBD_ARGS=$IMG \
	bg sh conf/unixserver-nbd.run >"$T/u.log"
wait_sock "$S1" || fail "unixserver: socket never appeared"
run_ok "unixserver: qemu-io writes a pattern and flushes" \
	qemu-io -f raw "nbd+unix:///?socket=$S1" -c "write -P 0x5a $MiB 64k" -c flush
check "unixserver: the pattern is in the image" pattern $MiB 5a
run_ok "unixserver: qemu-img compare" \
	qemu-img compare -f raw -F raw "$IMG" "nbd+unix:///?socket=$S1"
check "unixserver: both sessions ended with exit 0" \
	wait_lines "$T/u.log" "done .*protocol=nbd .*exit=0" 2

# --- tcpserver, from conf/tcpserver.run --------------------------------
port=$(free_port)
IP=127.0.0.1 PORT=$port HANDLER=$H HANDLER_OPTS="-f $T/conf" \
	PROTOCOL=nbd PROTOCOL_ARGS=$IMG bg sh conf/tcpserver.run >"$T/t.log"
wait_tcp "$port"
run_ok "tcpserver: qemu-io over nbd://" \
	qemu-io -f raw "nbd://127.0.0.1:$port" -c "write -P 0xa5 $((3 * MiB)) 64k" \
	-c "read -P 0xa5 $((3 * MiB)) 64k" -c flush
check "tcpserver: the pattern is in the image" pattern $((3 * MiB)) a5
check "tcpserver: the done line names the TCP peer" \
	wait_lines "$T/t.log" "done peer=127.0.0.1:[0-9]* via=TCP protocol=nbd .*exit=0" 1

# --- systemd Accept=no, from conf/systemd/handler-nbd.service ----------
S3=$T/s.sock
exec_start=$(sed -n 's/^ExecStart=//p' conf/systemd/handler-nbd.service |
	sed -e "s|/usr/local/bin/handler|$H|" -e "s|/etc/handler/handler.conf|$T/conf|" \
		-e "s|/srv/handler/vm.img|$IMG|")
# shellcheck disable=SC2086
bg systemd-socket-activate -l "$S3" $exec_start 2>"$T/s.log"
SA=$T_LASTPID
wait_sock "$S3" || fail "systemd: socket never appeared"
# nbdcopy opens several connections (two for an image this small): one
# child each.
run_ok "systemd: nbdcopy out over several connections" \
	nbdcopy -C 4 "nbd+unix:///?socket=$S3" "$T/copy.img"
check "systemd: the copy equals the image" cmp -s "$T/copy.img" "$IMG"
check "systemd: a child per connection, each ended with exit 0" \
	wait_lines "$T/s.log" "done peer=- via=unix protocol=nbd .*exit=0" 2
check "systemd: no child failed" \
	test "$(grep -c "done .* exit=[1-9]" "$T/s.log")" -eq 0
kill -TERM "$SA"
wait_until sh -c "! kill -0 $SA 2>/dev/null"
check "systemd: SIGTERM stops the listener" sh -c "! kill -0 $SA 2>/dev/null"
finish
