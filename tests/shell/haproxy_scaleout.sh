#!/bin/sh
# Scale-out: conf/haproxy.cfg's recipe on loopback: HAProxy (mode tcp,
# leastconn, health checks) in front of two tcpserver backends running
# handler sftp. 50 concurrent sessions spread over both; backend a is
# killed; 50 more all complete (on b), data checked by load.py.
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
if ! command -v haproxy >/dev/null 2>&1; then
	fail "haproxy missing (make deps installs it)"
	finish
fi
mkdir -p "$T/root"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 64)' >"$T/root/f"
pa=$(free_port)
pb=$(free_port)
pf=$(free_port)
bg tcpserver -v -R -H -l 0 -c 100 127.0.0.1 "$pa" "$HD" sftp -R "$T/root" 2>"$T/a.log"
A=$T_LASTPID
bg tcpserver -v -R -H -l 0 -c 100 127.0.0.1 "$pb" "$HD" sftp -R "$T/root" 2>"$T/b.log"
sed -e '/^frontend cmd/,$d' -e "s/127.0.0.1:2222/127.0.0.1:$pf/" \
	-e "s/127.0.0.1:2301/127.0.0.1:$pa/" -e "s/127.0.0.1:2302/127.0.0.1:$pb/" \
	conf/haproxy.cfg >"$T/haproxy.cfg"
bg haproxy -db -f "$T/haproxy.cfg" 2>"$T/haproxy.log"
wait_tcp "$pa" && wait_tcp "$pb" && wait_tcp "$pf" || fail "listening"
val() { sed -n "s/^$1 //p" "$2"; }
limit 60 "$PY" tests/shell/load.py sessions sftp "$pf" 50 0 >"$T/1.out" 2>&1
na=$(grep -c 'tcpserver: pid' "$T/a.log")
nb=$(grep -c 'tcpserver: pid' "$T/b.log")
if [ "$(val sessions "$T/1.out")" = "50/50" ] && [ "$na" -gt 0 ] && [ "$nb" -gt 0 ]; then
	ok "haproxy: 50/50 sftp sessions through HAProxy, spread $na/$nb over two backends"
else
	fail "haproxy: $(val sessions "$T/1.out") sessions, spread $na/$nb"
fi
kill -TERM "-$A"
down() { ! "$PY" -c "import socket; socket.create_connection(('127.0.0.1', $pa), 1)" 2>/dev/null; }
wait_until down
limit 60 "$PY" tests/shell/load.py sessions sftp "$pf" 50 0 >"$T/2.out" 2>&1
nb2=$(grep -c 'tcpserver: pid' "$T/b.log")
if [ "$(val sessions "$T/2.out")" = "50/50" ] && [ $((nb2 - nb)) -ge 50 ]; then
	ok "haproxy: backend a killed: 50/50 new sessions served by b, data checked"
else
	fail "haproxy: after a killed: $(val sessions "$T/2.out"), b took $((nb2 - nb)): $(grep '^#' "$T/2.out" | head -n 2 | tr '\n' ' ')"
fi
finish
