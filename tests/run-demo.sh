#!/bin/sh
# `make run`: starts every protocol of handler on loopback and prints what
# to try (each printed command works when pasted into a shell):
#   - handler sftp (read-only) behind tcpserver on 127.0.0.1
#   - the same behind curvecpserver + msgpipe (CurveCP on UDP 127.0.0.1)
#   - handler -s cmd (the secure layer) behind tcpserver, with demo keys and
#     a demo conf made under build/demo, for handler-client under tcpclient
#   - handler nbd -r on a 64 MiB sparse demo image behind tcpserver
# Runs until interrupted. With --check it runs the printed commands itself
# and exits non-zero if one fails (tests/shell/demo.sh uses that, so the
# README's demo stays true).
cd "$(dirname "$0")/.." || exit 111
B=$(cd "${1:-build}" && pwd) || exit 111
mode=${2:-}
D=$B/demo
rm -rf "$D"
mkdir -p "$D/root/docs" "$D/log" || exit 111
echo "hello from handler" >"$D/root/hello.txt"
cp README.md docs/*.md "$D/root/docs/" 2>/dev/null
head -c 1048576 /dev/urandom >"$D/root/random.bin"

# q WORD: WORD quoted for pasting into a shell (as is when that is safe).
q() {
	case $1 in
	*[!A-Za-z0-9_./:=@%+,-]*) printf "'%s'" "$(printf %s "$1" | sed "s/'/'\\\\''/g")" ;;
	*) printf %s "$1" ;;
	esac
}
port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# listening tcp|udp PORT: something is bound to 127.0.0.1:PORT (asks the
# kernel, so the probe starts no handler).
listening() {
	awk -v p="$(printf '%04X' "$2")" -v st="$([ "$1" = tcp ] && echo 0A || echo 07)" \
		'NR > 1 && $2 ~ (":" p "$") && $4 == st { f = 1 } END { exit !f }' \
		"/proc/net/$1" 2>/dev/null
}
# wait_for CMD...: polls CMD until it succeeds (10 s at most).
wait_for() {
	_i=0
	while [ $_i -lt 200 ]; do
		"$@" && return 0
		_i=$((_i + 1))
		sleep 0.05
	done
	echo "run-demo: timed out waiting for: $*" >&2
	return 1
}
TCP=$(port)
UDP=$(port)
CMDP=$(port)
NBDP=$(port)
pids=""
cleanup() {
	_rc=$?
	trap - INT TERM EXIT
	for p in $pids; do kill -TERM "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
	exit $_rc
}
trap cleanup EXIT
trap 'exit 0' INT TERM

# sftp over TCP and over CurveCP + msgpipe.
setsid tcpserver -v -R -H -l 0 127.0.0.1 "$TCP" \
	"$B/bin/handler" sftp -R "$D/root" 2>>"$D/log/tcpserver.log" &
pids="$pids $!"
curvecpmakekey "$D/curvecp" 2>/dev/null
PK=$(curvecpprintkey "$D/curvecp")
EXT=00000000000000000000000000000000
setsid curvecpserver demo.local "$D/curvecp" 127.0.0.1 "$UDP" "$EXT" \
	"$B/bin/msgpipe" "$B/bin/handler" sftp -R "$D/root" \
	2>>"$D/log/curvecpserver.log" &
pids="$pids $!"

# cmd over the secure layer: demo keys (0600) and a demo conf.
"$B/bin/handler-client" keygen "$D/server_key" >/dev/null 2>&1 &&
	"$B/bin/handler-client" keygen "$D/id_demo" >/dev/null 2>&1 &&
	chmod 600 "$D/server_key" "$D/id_demo" || { echo "run-demo: keygen failed" >&2; exit 111; }
cat >"$D/handler.conf" <<CONF
# handler demo (made by tests/run-demo.sh; see docs/conf.md)
server-key $D/server_key
user demo run,sftp:ro $(cat "$D/id_demo.pub")
command echo perm=run args=4 -- /bin/echo
command date perm=run -- /bin/date
command uname perm=run args=1 -- /bin/uname
sftp-root $D/root ro
CONF
"$B/bin/handler" -n -f "$D/handler.conf" >"$D/log/conf-check.log" 2>&1 ||
	{ echo "run-demo: $D/handler.conf does not check:" >&2; cat "$D/log/conf-check.log" >&2; exit 111; }
setsid tcpserver -v -R -H -l 0 127.0.0.1 "$CMDP" \
	"$B/bin/handler" -s -f "$D/handler.conf" cmd 2>>"$D/log/tcpserver-cmd.log" &
pids="$pids $!"

# nbd: a 64 MiB sparse image with a little data, read-only.
IMG=$D/disk.img
truncate -s 64M "$IMG" || exit 111
printf 'handler nbd demo image\n' | dd of="$IMG" bs=1 seek=1048576 conv=notrunc 2>/dev/null
head -c 65536 /dev/urandom | dd of="$IMG" bs=65536 seek=256 conv=notrunc 2>/dev/null
setsid tcpserver -v -R -H -l 0 127.0.0.1 "$NBDP" \
	"$B/bin/handler" nbd -r "$IMG" 2>>"$D/log/tcpserver-nbd.log" &
pids="$pids $!"

wait_for listening tcp "$TCP" && wait_for listening udp "$UDP" &&
	wait_for listening tcp "$CMDP" && wait_for listening tcp "$NBDP" || exit 111

SFTP_TCP="sftp -D 'socat - TCP:127.0.0.1:$TCP'"
CCP="curvecpclient demo.local $PK 127.0.0.1 $UDP $EXT $B/bin/msgpipe -c"
SFTP_CCP="sftp -D '$CCP sh -c \"socat - FD:6\\!\\!FD:7\"'"
HC="tcpclient 127.0.0.1 $CMDP $(q "$B/bin/handler-client") -k $(q "$D/id_demo") -u demo -p $(q "$D/server_key.pub")"
NBDINFO="nbdinfo nbd://127.0.0.1:$NBDP"
QEMU="qemu-img info nbd://127.0.0.1:$NBDP"
QEMU_CONV="qemu-img convert -O qcow2 nbd://127.0.0.1:$NBDP /tmp/demo.qcow2"
cat <<INFO
handler demo, all on 127.0.0.1 (files under $D):
  sftp over TCP      tcpserver 127.0.0.1 $TCP handler sftp -R root
  sftp over CurveCP  curvecpserver ... 127.0.0.1 $UDP ... msgpipe handler sftp -R root
  cmd, secure layer  tcpserver 127.0.0.1 $CMDP handler -s -f handler.conf cmd
  nbd (read-only)    tcpserver 127.0.0.1 $NBDP handler nbd -r disk.img  (64 MiB)
Logs: $D/log/

Try, in another terminal:
  $SFTP_TCP
      (then: ls -l, get hello.txt, put anything -> permission denied)
  echo 'get random.bin /tmp/r.bin' | $SFTP_TCP -b -
  $SFTP_CCP
  $HC run echo hello
  $HC run date
  $HC caps
      (user demo, key id_demo; the server key and conf are in $D)
  $NBDINFO
  $QEMU
  $QEMU_CONV
Press Ctrl-C to stop.
INFO
if [ "$mode" = --check ]; then
	rc=0
	# One "ok"/"FAIL" line per protocol on stderr, for tests/shell/demo.sh.
	res() { if [ "$2" = 0 ]; then echo "demo-check ok $1" >&2; else echo "demo-check FAIL $1" >&2; rc=1; fi; }
	r=0
	echo "get hello.txt $D/got-tcp.txt" | timeout 20 sh -c "$SFTP_TCP -b -" >/dev/null 2>&1 || r=1
	cmp -s "$D/got-tcp.txt" "$D/root/hello.txt" || r=1
	echo "put $D/root/hello.txt x" | timeout 20 sh -c "$SFTP_TCP -b -" >/dev/null 2>&1 && r=1
	[ -e "$D/root/x" ] && r=1
	res sftp-tcp $r
	r=0
	echo "get random.bin $D/got-ccp.bin" | timeout 30 sh -c "$SFTP_CCP -b -" >/dev/null 2>&1 || r=1
	cmp -s "$D/got-ccp.bin" "$D/root/random.bin" || r=1
	res sftp-curvecp $r
	r=0
	[ "$(timeout 20 sh -c "$HC run echo hello" 2>"$D/log/check-cmd.err")" = hello ] || r=1
	timeout 20 sh -c "$HC run date" >/dev/null 2>>"$D/log/check-cmd.err" || r=1
	res cmd $r
	r=0
	timeout 20 sh -c "$NBDINFO" 2>&1 | grep -q 67108864 || r=1
	timeout 20 sh -c "$QEMU" >/dev/null 2>"$D/log/check-qemu.err" || r=1
	res nbd $r
	exit $rc
fi
wait
