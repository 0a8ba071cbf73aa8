#!/bin/sh
# Socket activation (handler/core/listen.c): handler handed listening
# sockets on fds 3.. by systemd-socket-activate (the way a systemd socket
# unit with Accept=no, nbdinfo and nbdcopy start a server) accepts and
# serves each connection in its own child; one connected socket
# (Accept=yes) is served as it is; LISTEN_* meant for another process is
# ignored and a bad one refused. Clients are OpenSSH's sftp over a unix
# socket (socat) and a raw SFTP INIT over TCP.
. tests/lib.sh
H=$BIN/handler
command -v systemd-socket-activate >/dev/null 2>&1 || {
	fail "systemd-socket-activate is missing (package systemd)"
	finish
}
mkdir -p "$T/root"
echo "from the activated handler" >"$T/root/file.txt"

# sftp through the unix socket; the file must arrive whole. Each call has
# its own batch and target (OUTFILE.got): calls run at the same time.
sftp_unix() { # SOCKET OUTFILE
	rm -f "$2.got"
	printf 'ls\nget file.txt %s.got\n' "$2" >"$2.batch"
	limit 20 sftp -b "$2.batch" -D "socat - UNIX-CONNECT:$1" >"$2" 2>&1 &&
		cmp -s "$2.got" "$T/root/file.txt"
}

# --- Accept=no: one handler, a child per connection -------------------
S=$T/sock
bg systemd-socket-activate -l "$S" "$H" -c 2 sftp "$T/root" 2>"$T/log1"
SA=$T_LASTPID
wait_until test -S "$S"
check "first connection through the activated socket" sftp_unix "$S" "$T/o1"
check "second connection, same listener" sftp_unix "$S" "$T/o2"
# Three at once with -c 2: the third waits in the backlog, none is lost.
sftp_unix "$S" "$T/o3" & p1=$!
sftp_unix "$S" "$T/o4" & p2=$!
sftp_unix "$S" "$T/o5" & p3=$!
r=0
wait $p1 || r=1
wait $p2 || r=1
wait $p3 || r=1
check "three at once under -c 2, all served" [ $r -eq 0 ]
check "one done line per connection, peer via unix" \
	wait_lines "$T/log1" "done peer=- via=unix protocol=sftp.* exit=0" 5
check "the listener said what it accepts on" \
	grep -q "accepting on 1 socket, at most 2 connections" "$T/log1"
# systemd-socket-activate exec'd handler: its pid is the listener's.
kill -TERM "$SA"
wait_until sh -c "! kill -0 $SA 2>/dev/null"
check "SIGTERM stops the listener" sh -c "! kill -0 $SA 2>/dev/null"
check "and it says so" grep -q "no more connections accepted" "$T/log1"

# --- Accept=no over TCP: the peer's address reaches the done line --------
port=$(free_port)
bg systemd-socket-activate -l "127.0.0.1:$port" "$H" sftp "$T/root" 2>"$T/log2"
wait_tcp "$port"
cat >"$T/init.py" <<'PYEOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(10)
s.sendall(struct.pack(">IBI", 5, 1, 3))
buf = b""
while len(buf) < 9:
    d = s.recv(65536)
    if not d:
        break
    buf += d
n, t, v = struct.unpack(">IBI", buf[:9])
print("type", t, "version", v)
PYEOF
# wait_tcp's probe was a connection too: the child serving it ends at EOF.
out=$(limit 10 python3 "$T/init.py" "$port" 2>&1)
check "SFTP INIT/VERSION over an activated TCP socket" [ "$out" = "type 2 version 3" ]
check "the done line names the TCP peer" \
	wait_lines "$T/log2" "done peer=127.0.0.1:[0-9]* via=TCP protocol=sftp" 1

# --- Accept=yes: the connection itself on fd 3 --------------------------
S3=$T/sock3
bg systemd-socket-activate -a -l "$S3" "$H" sftp "$T/root" 2>"$T/log3"
wait_until test -S "$S3"
check "Accept=yes: the passed connection is served" sftp_unix "$S3" "$T/o6"

# --- LISTEN_* that are not ours, or broken ------------------------------
init() { printf '\000\000\000\005\001\000\000\000\003'; }
n=$(init | LISTEN_PID=1 LISTEN_FDS=1 limit 10 "$H" -q sftp "$T/root" | wc -c)
check "LISTEN_PID of another process: fds 0/1 served as usual" [ "$n" -gt 9 ]
# exec keeps the shell's pid, so LISTEN_PID=$$ names handler itself.
init | limit 10 sh -c 'LISTEN_PID=$$ LISTEN_FDS=x exec "$0" sftp "$1"' \
	"$H" "$T/root" >/dev/null 2>"$T/err1"
rc=$?
check "LISTEN_FDS not a number: exit 100" [ $rc -eq 100 ]
check "with a reason" grep -q "LISTEN_FDS must be" "$T/err1"
init | limit 10 sh -c 'exec 3<&-; LISTEN_PID=$$ LISTEN_FDS=1 exec "$0" sftp "$1"' \
	"$H" "$T/root" >/dev/null 2>"$T/err2"
rc=$?
check "LISTEN_FDS=1 with no fd 3: exit 100" [ $rc -eq 100 ]
check "-c out of range refused" sh -c "! '$H' -c 0 sftp '$T/root' </dev/null 2>/dev/null"
finish
