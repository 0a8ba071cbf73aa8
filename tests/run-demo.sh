#!/bin/sh
# `make run`: starts handler's main job on loopback with the embedded default
# configuration and prints what to try.
#   - handler sftp (read-only) behind tcpserver on 127.0.0.1
#   - the same behind curvecpserver + msgpipe (CurveCP on UDP 127.0.0.1)
# Runs until interrupted. With --check it tries the printed commands itself
# and exits (tests/shell/demo.sh uses that, so the README's demo stays true).
cd "$(dirname "$0")/.." || exit 111
B=$(cd "${1:-build}" && pwd) || exit 111
mode=${2:-}
D=$B/demo
rm -rf "$D"
mkdir -p "$D/root/docs" "$D/log"
echo "hello from handler" >"$D/root/hello.txt"
cp README.md docs/*.md "$D/root/docs/" 2>/dev/null
head -c 1048576 /dev/urandom >"$D/root/random.bin"

port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
TCP=$(port)
UDP=$(port)
pids=""
cleanup() {
	for p in $pids; do kill -TERM "-$p" 2>/dev/null || kill "$p" 2>/dev/null; done
	exit 0
}
trap cleanup INT TERM EXIT

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
sleep 0.3

SFTP_TCP="sftp -D 'socat - TCP:127.0.0.1:$TCP'"
CCP="curvecpclient demo.local $PK 127.0.0.1 $UDP $EXT $B/bin/msgpipe -c"
SFTP_CCP="sftp -D '$CCP sh -c \"socat - FD:6\\!\\!FD:7\"'"
cat <<INFO
handler demo: read-only SFTP of $D/root
  over TCP      tcpserver 127.0.0.1 $TCP handler sftp -R ROOT
  over CurveCP  curvecpserver ... 127.0.0.1 $UDP ... msgpipe handler sftp -R ROOT
Logs: $D/log/

Try, in another terminal:
  $SFTP_TCP
      (then: ls -l, get hello.txt, put anything -> permission denied)
  echo 'get random.bin /tmp/r.bin' | $SFTP_TCP -b -
  $SFTP_CCP
The cmd protocol needs keys and users: see README.md, "Commands over the
secure layer". Press Ctrl-C to stop.
INFO
if [ "$mode" = --check ]; then
	rc=0
	echo "get hello.txt $D/got-tcp.txt" | timeout 20 sh -c "$SFTP_TCP -b -" >/dev/null 2>&1 || rc=1
	cmp -s "$D/got-tcp.txt" "$D/root/hello.txt" || rc=1
	echo "get random.bin $D/got-ccp.bin" | timeout 30 sh -c "$SFTP_CCP -b -" >/dev/null 2>&1 || rc=1
	cmp -s "$D/got-ccp.bin" "$D/root/random.bin" || rc=1
	echo "put $D/root/hello.txt x" | timeout 20 sh -c "$SFTP_TCP -b -" >/dev/null 2>&1 && rc=1
	[ -e "$D/root/x" ] && rc=1
	exit $rc
fi
wait
