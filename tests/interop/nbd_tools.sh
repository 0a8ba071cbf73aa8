#!/bin/sh
# Standard NBD clients against `handler nbd IMAGE` behind superservers,
# one handler process per connection: unixserver (ucspi-unix) for
# nbdinfo --list/--json/--map, nbdcopy out and in (several connections at
# once: the export says CAN_MULTI_CONN), qemu-img info/map/convert/compare
# and qemu-io patterns, discard, write -z, flush; socat UNIX-LISTEN,fork
# for a read-only export; tcpserver on 127.0.0.1 for nbd://. Every session
# must end with exit 0.
. tests/lib.sh
for t in nbdinfo nbdcopy qemu-img qemu-io unixserver socat tcpserver; do
	if ! command -v $t >/dev/null 2>&1; then
		fail nbd_tools "$t missing (make deps installs it)"
		finish
	fi
done
if [ ! -x "$BIN/handler" ]; then
	fail nbd_tools "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
PY=/usr/bin/python3
MiB=1048576
IMG=$T/disk.img
LOG=$T/server.log

# 64 MiB: random data at [1M, 3M) and [40M, 40M+64K), holes elsewhere.
truncate -s 64M "$IMG"
head -c 2M /dev/urandom | dd of="$IMG" bs=1M seek=1 conv=notrunc 2>/dev/null
head -c 64K /dev/urandom | dd of="$IMG" bs=64K seek=640 conv=notrunc 2>/dev/null

# Waits until no superserver has a child left, so every session so far
# has logged its end (each runs in its own process group: bg in lib.sh).
settle() {
	_i=0
	while [ $_i -lt 100 ]; do
		_left=0
		for g in $GROUPS_; do
			_left=$((_left + $(pgrep -g "$g" | grep -vcx "$g")))
		done
		[ $_left -eq 0 ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}

SOCK=$T/nbd.sock
bg unixserver "$SOCK" "$BIN/handler" nbd "$IMG" 2>>"$LOG"
GROUPS_=$T_LASTPID
wait_sock "$SOCK" || fail unixserver_listens
U="nbd+unix:///?socket=$SOCK"

run_ok nbdinfo_list nbdinfo --list "$U"
check nbdinfo_list_export grep -q 'export="disk.img"' "$T/out"
check nbdinfo_list_multi_conn grep -q 'can_multi_conn: true' "$T/out"

run_ok nbdinfo_json nbdinfo --json "$U"
check nbdinfo_json_fields "$PY" -c '
import json, sys
j = json.load(open(sys.argv[1]))
e = j["exports"][0]
assert j["protocol"] == "newstyle-fixed" and j["structured"], j
assert e["export-size"] == 64 << 20, e
assert "base:allocation" in e["contexts"], e
assert e["block_size_maximum"] == 32 << 20 and e["can_fast_zero"], e
' "$T/out"

run_ok nbdinfo_map nbdinfo --map "$U"
# offset length type: data exactly where it was written.
awk '{print $1, $2, $3}' "$T/out" >"$T/map"
printf '0 1048576 3\n1048576 2097152 0\n3145728 38797312 3\n41943040 65536 0\n42008576 25100288 3\n' >"$T/map.want"
check nbdinfo_map_extents cmp -s "$T/map" "$T/map.want"

run_ok qemu_img_info qemu-img info --output=json "$U"
check qemu_img_info_size grep -q '"virtual-size": 67108864' "$T/out"
run_ok qemu_img_map qemu-img map --output=json -f raw "$U"
check qemu_img_map_data sh -c "grep -c '\"data\": true' '$T/out' | grep -qx 2"

# nbdcopy out and back in, with hashes; nbdcopy opens 4 connections to a
# multi-conn export (connections are capped by threads, which default to
# the number of CPUs).
settle
before=$(grep -c 'protocol=nbd' "$LOG")
run_ok nbdcopy_out nbdcopy --threads=4 --connections=4 "$U" "$T/out.raw"
check nbdcopy_out_hash [ "$(sha "$T/out.raw")" = "$(sha "$IMG")" ]
settle
conns=$(($(grep -c 'protocol=nbd' "$LOG") - before))
check "nbdcopy_used_several_connections ($conns)" [ "$conns" -ge 4 ]
truncate -s 64M "$T/src.raw"
head -c 5M /dev/urandom | dd of="$T/src.raw" bs=1M seek=20 conv=notrunc 2>/dev/null
run_ok nbdcopy_in nbdcopy "$T/src.raw" "$U"
check nbdcopy_in_hash [ "$(sha "$T/src.raw")" = "$(sha "$IMG")" ]

run_ok qemu_img_convert_out qemu-img convert -f raw -O raw "$U" "$T/conv.raw"
run_ok qemu_img_compare_out qemu-img compare -f raw -F raw "$T/conv.raw" "$U"
head -c 3M /dev/urandom | dd of="$T/src.raw" bs=1M seek=50 conv=notrunc 2>/dev/null
run_ok qemu_img_convert_in qemu-img convert -n -f raw -O raw "$T/src.raw" "$U"
run_ok qemu_img_compare_in qemu-img compare -f raw -F raw "$T/src.raw" "$U"
check qemu_img_convert_in_hash [ "$(sha "$T/src.raw")" = "$(sha "$IMG")" ]

run_ok qemu_io_patterns qemu-io -f raw "$U" \
	-c 'write -P 0xab 0 1M' -c 'read -P 0xab 0 1M' \
	-c 'write -P 0xcd -f 3M 64k' -c 'read -P 0xcd 3M 64k' \
	-c 'discard 1M 1M' -c 'write -z 2M 1M' -c 'read -P 0 2M 1M' \
	-c 'write -z -u 5M 1M' -c 'read -P 0 5M 1M' -c 'flush'
check qemu_io_file_bytes [ "$(od -An -tx1 -j 4096 -N 2 "$IMG" | tr -d ' ')" = abab ]
check qemu_io_file_zeroes [ "$(head -c 3M "$IMG" | tail -c 1M | tr -d '\0' | wc -c)" -eq 0 ]

# Read-only behind socat: reads work, writes are refused, file unchanged.
SOCK2=$T/ro.sock
bg socat UNIX-LISTEN:"$SOCK2",fork EXEC:"$BIN/handler nbd -r $IMG" 2>>"$LOG"
GROUPS_="$GROUPS_ $T_LASTPID"
wait_sock "$SOCK2" || fail socat_listens
U2="nbd+unix:///?socket=$SOCK2"
sum=$(sha "$IMG")
run_ok socat_ro_info nbdinfo "$U2"
check socat_ro_flag grep -q 'is_read_only: true' "$T/out"
run_ok socat_ro_read qemu-io -r -f raw "$U2" -c 'read -P 0xab 0 64k'
if limit 30 qemu-io -f raw "$U2" -c 'write -P 1 0 4k' >"$T/out" 2>&1 &&
	! grep -qi 'permission\|read-only\|denied' "$T/out"; then
	fail socat_ro_write_refused "$(tr '\n' ' ' <"$T/out")"
else
	ok socat_ro_write_refused
fi
check socat_ro_unchanged [ "$(sha "$IMG")" = "$sum" ]

# TCP on loopback through tcpserver: nbd://HOST:PORT.
PORT=$(free_port)
bg tcpserver -q -R -H -l 0 127.0.0.1 "$PORT" "$BIN/handler" nbd "$IMG" 2>>"$LOG"
GROUPS_="$GROUPS_ $T_LASTPID"
wait_tcp "$PORT" || fail tcpserver_listens
run_ok tcpserver_qemu_img_info qemu-img info "nbd://127.0.0.1:$PORT"
check tcpserver_size grep -q '67108864 bytes' "$T/out"
run_ok tcpserver_nbdinfo nbdinfo "nbd://127.0.0.1:$PORT"
check tcpserver_peer_logged grep -q 'via=TCP' "$LOG"

# libnbd's "[ SERVER ]" form: the tool starts handler with a listening
# socket (systemd socket activation, LISTEN_FDS), handler serves it.
run_ok activation_nbdinfo nbdinfo -- [ "$BIN/handler" nbd "$IMG" ]
check activation_nbdinfo_size grep -q 'export-size: 67108864' "$T/out"
run_ok activation_nbdcopy nbdcopy -- [ "$BIN/handler" nbd -r "$IMG" ] "$T/act.raw"
check activation_nbdcopy_hash [ "$(sha "$T/act.raw")" = "$(sha "$IMG")" ]

settle
# wait_tcp's readiness probe connects and leaves without a byte (in=0);
# every real client sends at least its flags.
grep 'protocol=nbd' "$LOG" | grep -v ' in=0 ' >"$T/sessions"
n=$(wc -l <"$T/sessions")
bad=$(grep -vc 'exit=0$' "$T/sessions")
if [ "$n" -gt 10 ] && [ "$bad" -eq 0 ]; then
	ok "all $n sessions ended with exit 0"
else
	fail "all sessions ended with exit 0" "$bad of $n did not: $(grep -v 'exit=0$' "$T/sessions" | head -3 | tr '\n' ' ')"
fi
if grep -q 'AddressSanitizer\|runtime error' "$LOG"; then
	fail nbd_tools_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$LOG" | tr '\n' ' ')"
fi
finish
