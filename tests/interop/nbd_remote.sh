#!/bin/sh
# A remote export reached with an encrypted, authenticated link, as README
# ("Block devices with nbd") shows it, each side one process per
# connection, qemu-img, qemu-io and nbdinfo as the clients:
#   - CurveCP: curvecpserver + msgpipe runs `handler nbd IMG`; locally a
#     unixserver socket runs curvecpclient + `msgpipe -c` per connection;
#   - the secure layer: tcpserver runs `handler -s -f CONF nbd` (exports
#     from nbd-export items); locally a unixserver socket runs tcpclient +
#     `handler-client ... tunnel` per connection; alice (nbd:rw) writes,
#     bob (nbd:ro:iso) reads one export only.
# Every handler must end with exit 0. (unixserver permutes its arguments
# as GNU getopt does: `--` keeps the client's options its own.)
. tests/lib.sh
for t in qemu-img qemu-io nbdinfo unixserver tcpserver tcpclient \
	curvecpserver curvecpclient curvecpmakekey curvecpprintkey; do
	if ! command -v $t >/dev/null 2>&1; then
		fail nbd_remote "$t missing (make deps installs it)"
		finish
	fi
done
H=$BIN/handler
HC=$BIN/handler-client
MP=$BIN/msgpipe
Z=00000000000000000000000000000000
MiB=1048576

# 16 MiB: data at [1M, 2M) and [9M, 9M+64K), holes elsewhere.
image() {
	truncate -s 16M "$1"
	head -c 1M /dev/urandom | dd of="$1" bs=1M seek=1 conv=notrunc 2>/dev/null
	head -c 64K /dev/urandom | dd of="$1" bs=64K seek=144 conv=notrunc 2>/dev/null
}
# refused NAME WHAT CMD...: ok when CMD fails within 60 s saying WHAT.
refused() {
	_n=$1 _w=$2
	shift 2
	if limit 60 "$@" >"$T/out" 2>&1; then
		fail "$_n" "it succeeded"
	elif grep -q -e "$_w" "$T/out"; then
		ok "$_n"
	else
		fail "$_n" "not \"$_w\": $(tail -n 3 "$T/out" | tr '\n' ' ')"
	fi
}
# The bytes [OFF, OFF+LEN) of FILE hold only byte value HEX.
pattern() { # FILE OFF LEN HEX
	[ "$(dd if="$1" bs=64K skip=$(($2 / 65536)) count=$(($3 / 65536)) \
		2>/dev/null | od -An -v -tx1 | tr -s ' \n' '\n\n' | sort -u |
		grep -v '^$')" = "$4" ]
}

# --- CurveCP: curvecpserver + msgpipe on the server, msgpipe -c locally --
image "$T/ccp.img"
cp "$T/ccp.img" "$T/ccp.orig"
curvecpmakekey "$T/curvecp" || { fail "curvecpmakekey"; finish; }
PK=$(curvecpprintkey "$T/curvecp")
UDP=$(free_port)
bg curvecpserver nbd.local "$T/curvecp" 127.0.0.1 "$UDP" $Z \
	"$MP" "$H" nbd "$T/ccp.img" 2>"$T/ccp-server.log"
# CurveCP's client repeats its Hello until the server answers: no wait.
S1=$T/ccp.sock
bg unixserver -- "$S1" curvecpclient nbd.local "$PK" 127.0.0.1 "$UDP" $Z \
	"$MP" -c sh -c 'exec socat - FD:6!!FD:7' 2>"$T/ccp-client.log"
wait_sock "$S1" || fail "curvecp: local socket never appeared"
U1="nbd+unix:///?socket=$S1"
run_ok "curvecp: qemu-img compare with the original" \
	qemu-img compare -f raw -F raw "$T/ccp.orig" "$U1"
run_ok "curvecp: qemu-io write pattern and flush" \
	qemu-io -f raw "$U1" -c "write -P 0xab $((4 * MiB)) 256k" -c flush
check "curvecp: the pattern is in the file" \
	pattern "$T/ccp.img" $((4 * MiB)) 262144 ab
run_ok "curvecp: nbdinfo --map" nbdinfo --map "$U1"
check "curvecp: the map shows the data and the holes" \
	grep -q "1048576 *1048576 *0 *data" "$T/out"
check "curvecp: three sessions, each ended with exit 0" \
	wait_lines "$T/ccp-server.log" "done .*protocol=nbd.* exit=0" 3

# --- the secure layer: tcpserver + handler -s, handler-client tunnel -----
for k in server alice bob; do newkey $k; done
image "$T/vm.img"
cp "$T/vm.img" "$T/vm.orig"
image "$T/iso.img"
cat >"$T/conf" <<EOF
server-key $T/server
user alice nbd:rw $(publine "$T/alice.pub")
user bob nbd:ro:iso $(publine "$T/bob.pub")
nbd-export vm $T/vm.img rw the virtual machine's disk
nbd-export iso $T/iso.img ro
EOF
"$H" -n -s -f "$T/conf" 2>"$T/n.log" || fail "secure: handler -n refuses the conf: $(cat "$T/n.log")"
TCP=$(free_port)
bg tcpserver -R -H -l 0 127.0.0.1 "$TCP" "$H" -s -f "$T/conf" nbd \
	2>"$T/sec-server.log"
wait_tcp "$TCP"
# One local socket per user: a tunnel authenticates as one user.
for u in alice bob; do
	bg unixserver -- "$T/$u.sock" tcpclient 127.0.0.1 "$TCP" \
		"$HC" -q -k "$T/$u" -u "$u" -p "$T/server.pub" tunnel \
		2>"$T/$u-tunnel.log"
	wait_sock "$T/$u.sock" || fail "secure: $u's socket never appeared"
done
UA="nbd+unix:///vm?socket=$T/alice.sock"
UB="nbd+unix:///iso?socket=$T/bob.sock"
run_ok "secure: nbdinfo --list shows alice both exports" \
	nbdinfo --list "nbd+unix:///?socket=$T/alice.sock"
check "secure: ...with the description" \
	grep -q "the virtual machine's disk" "$T/out"
run_ok "secure: qemu-img compare vm with the original" \
	qemu-img compare -f raw -F raw "$T/vm.orig" "$UA"
run_ok "secure: alice writes and flushes" \
	qemu-io -f raw "$UA" -c "write -P 0xcd $((6 * MiB)) 128k" -c flush
check "secure: alice's pattern is in the file" \
	pattern "$T/vm.img" $((6 * MiB)) 131072 cd
run_ok "secure: qemu-img convert iso for bob" \
	qemu-img convert -f raw -O raw "$UB" "$T/iso.copy"
check "secure: bob's copy equals the export" cmp -s "$T/iso.copy" "$T/iso.img"
refused "secure: bob cannot write (read-only export and permission)" \
	"Permission denied" qemu-io -f raw "$UB" -c "write -P 1 0 4k"
check "secure: bob's write never reached the file" \
	pattern "$T/iso.img" 0 65536 00
refused "secure: bob may not open vm" "not permitted" \
	qemu-img info "nbd+unix:///vm?socket=$T/bob.sock"
check "secure: every session ended with exit 0" \
	wait_lines "$T/sec-server.log" "done .*protocol=nbd.* exit=0" 6
# wait_tcp's probe connected and left during the handshake: exit 111.
check "secure: no other session failed" \
	test "$(grep 'done .*protocol=nbd' "$T/sec-server.log" | grep -v 'exit=0' |
		grep -vc 'user=- .*in=0 out=0 .*refused exit=111')" -eq 0
finish
