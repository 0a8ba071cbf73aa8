#!/bin/sh
# Scale-out: conf/haproxy.cfg's recipe on loopback, sftp and cmd: HAProxy
# (mode tcp, leastconn, health checks, redispatch) in front of two hosts,
# a and b, each a tcpserver running handler sftp and one running handler
# -s cmd over one shared root. scaleout.py drives the uploads and reads
# HAProxy's log (one line per connection: client port, server) to know
# which host each session was on.
#  1. 25 sftp uploads and 25 cmd uploads (256 KiB each) in flight at
#     once, spread over both hosts, each with its first 64 KiB sent; host
#     a is SIGKILLed mid-run; then each sends the rest. Exactly the
#     sessions on a fail (the client sees an error), every one on b ends
#     ok; every upload that said ok is whole on disk, every cut one a
#     prefix of its bytes (sftp: with all it had acknowledged).
#  2. 25 + 25 new sessions: all go to b and succeed, files whole.
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
HC=$BIN/handler-client
if ! command -v haproxy >/dev/null 2>&1; then
	fail "haproxy missing (make deps installs it)"
	finish
fi
mkdir -p "$T/root"
newkey server
newkey alice
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command up perm=run payload=yes args=1 -- /bin/sh -c "exec 3>\\"$T/root/\$0\\" && echo in && cat >&3 && echo ok"
CONF
pa=$(free_port)
pb=$(free_port)
pca=$(free_port)
pcb=$(free_port)
pf=$(free_port)
pcf=$(free_port)
host() { # NAME SFTP-PORT CMD-PORT: one host's two tcpservers ($S $C)
	bg tcpserver -R -H -l 0 -c 100 127.0.0.1 "$2" "$HD" -f "$T/conf" sftp "$T/root" 2>"$T/$1.log"
	S=$T_LASTPID
	bg tcpserver -R -H -l 0 -c 100 127.0.0.1 "$3" "$HD" -s -f "$T/conf" cmd 2>"$T/$1.cmd.log"
	C=$T_LASTPID
}
host a "$pa" "$pca"
AS=$S AC=$C
host b "$pb" "$pcb"
# The recipe with this test's ports, and a log line per connection as
# soon as it reaches a server: "CLIENT-IP:PORT FRONTEND BACKEND/SERVER".
sed -e "s/127.0.0.1:2222/127.0.0.1:$pf/" -e "s/127.0.0.1:2223/127.0.0.1:$pcf/" \
	-e "s/127.0.0.1:2301/127.0.0.1:$pa/" -e "s/127.0.0.1:2302/127.0.0.1:$pb/" \
	-e "s/127.0.0.1:2311/127.0.0.1:$pca/" -e "s/127.0.0.1:2312/127.0.0.1:$pcb/" \
	-e '/^global/a\	log stdout format raw local0 info' \
	-e '/^defaults/a\	log global\n\toption logasap\n\tlog-format "%ci:%cp %ft %b/%s"' \
	conf/haproxy.cfg >"$T/haproxy.cfg"
bg haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>"$T/haproxy.err"
for p in "$pa" "$pb" "$pca" "$pcb" "$pf" "$pcf"; do
	wait_tcp "$p" || fail "port $p listening"
done
val() { sed -n "s/^$1 //p" "$2"; }
spread() { # FILE KIND: "a/b" sessions of KIND
	echo "$(val "spread $2 a" "$1")/$(val "spread $2 b" "$1")"
}
run() { # TAG [PORT:PGID...]
	_t=$1
	shift
	limit 60 "$PY" tests/shell/scaleout.py "$T/haproxy.log" "$pf" "$pcf" 25 25 \
		"$T/root" "$_t" "$HC" "$T/alice" "$T/server.pub" "$@" >"$T/$_t.out" 2>&1
}
why() { grep -v '^session .* whole ok$' "$1" | grep '^session\|^#' | head -n 3 | tr '\n' ' '; }

run one "$pa:$AS" "$pca:$AC"
set -- $(val on_a "$T/one.out")
na=${1:-0} fa=${3:-x}
set -- $(val on_b "$T/one.out")
nb=${1:-0} ob=${3:-x}
if grep -q '^killed$' "$T/one.out" && [ "$(val unmapped "$T/one.out")" = 0 ] &&
	[ "$(val "spread sftp a" "$T/one.out")" -gt 0 ] 2>/dev/null &&
	[ "$(val "spread sftp b" "$T/one.out")" -gt 0 ] 2>/dev/null &&
	[ "$(val "spread cmd a" "$T/one.out")" -gt 0 ] 2>/dev/null &&
	[ "$(val "spread cmd b" "$T/one.out")" -gt 0 ] 2>/dev/null; then
	ok "haproxy: 25 sftp + 25 cmd uploads in flight over two hosts (sftp $(spread "$T/one.out" sftp), cmd $(spread "$T/one.out" cmd) on a/b), host a killed mid-run"
else
	fail "haproxy: in flight: $(grep -v '^session' "$T/one.out" | tr '\n' ' ')"
fi
if [ "$fa" = "$na" ] && [ "$ob" = "$nb" ] && [ $((na + nb)) -eq 50 ]; then
	ok "haproxy: exactly the $na sessions on a failed (client saw the error), the $nb on b ended ok"
else
	fail "haproxy: on a $na, failed $fa; on b $nb, ok $ob: $(why "$T/one.out")"
fi
if [ "$(val disk_consistent "$T/one.out")" = 50/50 ]; then
	ok "haproxy: nothing corrupted: the $nb ok uploads whole on disk, the $na cut ones a prefix (sftp's with every acknowledged byte)"
else
	fail "haproxy: on disk: $(val disk_consistent "$T/one.out") consistent: $(grep ' corrupt ' "$T/one.out" | head -n 3 | tr '\n' ' ')"
fi

run two
if [ "$(val sessions "$T/two.out")" = 50/50 ] && [ "$(val on_b "$T/two.out")" = "50 ok 50" ] &&
	[ "$(val disk_consistent "$T/two.out")" = 50/50 ]; then
	ok "haproxy: after a died, 25 sftp + 25 cmd new sessions all went to b and succeeded, files whole"
else
	fail "haproxy: after a died: sessions $(val sessions "$T/two.out"), on b $(val on_b "$T/two.out"), disk $(val disk_consistent "$T/two.out"): $(why "$T/two.out")"
fi
finish
