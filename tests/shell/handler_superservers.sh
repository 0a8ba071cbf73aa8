#!/bin/sh
# handler behind real superservers, started from the recipes in conf/:
# tcpserver (conf/tcpserver.run), openbsd-inetd (conf/inetd.conf), a
# systemd Accept=yes socket (systemd-socket-activate --inetd), and
# curvecpserver with msgpipe (conf/curvecpserver.run). Each case makes a
# real request (cmd over the secure layer via handler-client; SFTP
# INIT/VERSION over TCP) and checks the core's log line names the peer.
. tests/lib.sh
H=$BIN/handler
HC=$BIN/handler-client
ME=$(id -un)

ssh-keygen -q -t ed25519 -N '' -C server -f "$T/server" </dev/null || exit 111
ssh-keygen -q -t ed25519 -N '' -C alice -f "$T/alice" </dev/null || exit 111
mkdir -p "$T/root"
echo "hello from the root" >"$T/root/file.txt"
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(cat "$T/alice.pub")
command echo perm=run args=4 -- /bin/echo
limit idle 20
EOF

# A client for cmd: handler-client on fds 6/7 under tcpclient.
cmd_tcp() { # PORT ARGS...
	_p=$1
	shift
	limit 20 tcpclient -R -H -l 0 127.0.0.1 "$_p" \
		"$HC" -k "$T/alice" -u alice -p "$T/server.pub" run echo "$@" \
		>"$T/out" 2>"$T/err"
}
# SFTP INIT -> VERSION over TCP (no ssh in between, so no sftp(1)).
cat >"$T/sftp_tcp.py" <<'EOF'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 5)
s.settimeout(10)
s.sendall(struct.pack(">IBI", 5, 1, 3))
buf = b""
while len(buf) < 4 or len(buf) < 4 + struct.unpack(">I", buf[:4])[0]:
    d = s.recv(65536)
    if not d:
        break
    buf += d
n, t, v = struct.unpack(">IBI", buf[:9])
s.shutdown(socket.SHUT_WR)
rest = s.recv(65536)
print("type", t, "version", v, "eof", rest == b"")
EOF
sftp_works() {
	printf '' | limit 5 "$H" sftp "$T/root" 2>&1 | grep -q 'not built yet' && return 1
	return 0
}
# Waits for a "done" log line in FILE matching PATTERN (default: user
# alice; the handler writes it as it exits, after the client is gone).
wait_done() {
	_i=0
	while [ $_i -lt 50 ] && ! grep 'done ' "$1" 2>/dev/null | grep -q -e "${2:-user=alice}"; do
		sleep 0.1
		_i=$((_i + 1))
	done
}
# CASE FILE PATTERN: the done line matches PATTERN.
log_has() {
	if grep 'done ' "$2" | grep -q -e "$3"; then
		ok "$1"
	else
		echo "# log: $(tail -n 6 "$2" | tr '\n' '|')"
		fail "$1"
	fi
}
result() { # NAME: cmd_tcp's output must be "over NAME"
	if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "over $1" ]; then
		ok "cmd request/response over $1"
	else
		echo "# exit $rc; $(head -c 300 "$T/err" | tr '\n' '|')"
		fail "cmd request/response over $1"
	fi
}

# --- tcpserver, from conf/tcpserver.run --------------------------------
port=$(free_port)
IP=127.0.0.1 PORT=$port HANDLER=$H HANDLER_OPTS="-s -f $T/conf" \
	PROTOCOL=cmd bg sh conf/tcpserver.run >"$T/tcpserver.log"
if wait_tcp "$port"; then
	cmd_tcp "$port" over tcpserver
	rc=$?
	result tcpserver
	wait_done "$T/tcpserver.log"
	log_has "tcpserver: log names TCPREMOTEIP/PORT, user, key" "$T/tcpserver.log" \
		"done peer=127\.0\.0\.1:[0-9][0-9]* via=TCP protocol=cmd+secure user=alice key=SHA256:.* exit=0"
else
	fail "tcpserver listening"
fi
if sftp_works; then
	port2=$(free_port)
	IP=127.0.0.1 PORT=$port2 HANDLER=$H HANDLER_OPTS="-f $T/conf" \
		PROTOCOL=sftp PROTOCOL_ARGS=$T/root bg sh conf/tcpserver.run \
		>"$T/tcpserver2.log"
	if wait_tcp "$port2" &&
		limit 15 /usr/bin/python3 "$T/sftp_tcp.py" "$port2" >"$T/sftp.out" 2>&1 &&
		grep -q '^type 2 version 3 eof True$' "$T/sftp.out"; then
		ok "sftp INIT/VERSION over tcpserver, clean EOF"
	else
		echo "# $(cat "$T/sftp.out")"
		fail "sftp INIT/VERSION over tcpserver, clean EOF"
	fi
	wait_done "$T/tcpserver2.log" "protocol=sftp"
	log_has "tcpserver sftp: log line" "$T/tcpserver2.log" \
		"done peer=127\.0\.0\.1:[0-9]* via=TCP protocol=sftp user=- key=- in=9 .*exit=0"
else
	ok "sftp over tcpserver # SKIP sftp module not built"
fi

# --- openbsd-inetd, from conf/inetd.conf ---------------------------------
# The cmd line as shipped (logs to -l FILE); the sftp line without -l and
# with -v, so a log line is due before the first reply: inetd gives the
# socket as fd 2 too, and none of it may reach the client.
port=$(free_port)
sport=$(free_port)
{
	grep ' cmd$' conf/inetd.conf | sed -e "s|^127.0.0.1:[0-9]*|127.0.0.1:$port|" \
		-e "s|/var/log/handler/cmd.log|$T/inetd.log|"
	grep ' sftp ' conf/inetd.conf | sed -e "s|^127.0.0.1:[0-9]*|127.0.0.1:$sport|" \
		-e "s|-l /var/log/handler/sftp.log|-v|" \
		-e "s|/srv/handler/public|$T/root|"
} | sed -e "s| nowait handler | nowait $ME |" \
	-e "s|/usr/local/bin/handler|$H|" \
	-e "s|/etc/handler/handler.conf|$T/conf|" >"$T/inetd.conf"
if command -v inetd >/dev/null 2>&1; then
	bg inetd -d "$T/inetd.conf" >"$T/inetd.out" 2>&1
	if wait_tcp "$port"; then
		cmd_tcp "$port" over inetd
		rc=$?
		result inetd
		wait_done "$T/inetd.log"
		log_has "inetd: log from getpeername, to the -l file" "$T/inetd.log" \
			"done peer=127\.0\.0\.1:[0-9][0-9]* via=TCP protocol=cmd+secure user=alice .*exit=0"
		if ! sftp_works; then
			ok "sftp over inetd # SKIP sftp module not built"
		elif wait_tcp "$sport" &&
			limit 15 /usr/bin/python3 "$T/sftp_tcp.py" "$sport" >"$T/sftp.out" 2>&1 &&
			grep -q '^type 2 version 3 eof True$' "$T/sftp.out"; then
			ok "sftp over inetd: no log bytes in the stream (fd 2 is the socket)"
		else
			echo "# $(cat "$T/sftp.out")"
			fail "sftp over inetd: no log bytes in the stream (fd 2 is the socket)"
		fi
	else
		echo "# $(head -c 300 "$T/inetd.out" | tr '\n' '|')"
		fail "inetd listening"
	fi
else
	ok "inetd # SKIP openbsd-inetd not installed"
fi

# --- systemd Accept=yes sockets (socket on fds 0 and 1), from
# conf/systemd/handler-cmd@.service -------------------------------------
if command -v systemd-socket-activate >/dev/null 2>&1; then
	# The unit's ExecStart, as shipped, with this test's paths.
	port=$(free_port)
	exec_start=$(sed -n 's/^ExecStart=//p' conf/systemd/handler-cmd@.service |
		sed -e "s|/usr/local/bin/handler|$H|" -e "s|/etc/handler/handler.conf|$T/conf|")
	bg systemd-socket-activate -l "127.0.0.1:$port" -a --inetd \
		$exec_start 2>"$T/systemd.log"
	if wait_tcp "$port"; then
		# wait_tcp's probe is a connection too; let its handler finish.
		sleep 0.3
		cmd_tcp "$port" over systemd
		rc=$?
		result systemd
		wait_done "$T/systemd.log"
		log_has "systemd socket: log from getpeername" "$T/systemd.log" \
			"done peer=127\.0\.0\.1:[0-9]* via=TCP protocol=cmd+secure user=alice .*exit=0"
	else
		fail "systemd-socket-activate listening"
	fi
else
	ok "systemd socket # SKIP systemd-socket-activate not installed"
fi

# --- curvecpserver + msgpipe, from conf/curvecpserver.run ----------------
if [ ! -x "$BIN/msgpipe" ]; then
	ok "curvecpserver # SKIP msgpipe not built"
	finish
fi
curvecpmakekey "$T/curvecp" || exit 111
spk=$(curvecpprintkey "$T/curvecp")
port=$(free_port)
ext=0123456789abcdef0123456789abcdef
NAME=test.local KEYDIR=$T/curvecp IP=127.0.0.1 PORT=$port EXT=$ext \
	MSGPIPE=$BIN/msgpipe HANDLER=$H HANDLER_OPTS="-s -f $T/conf" \
	PROTOCOL=cmd bg sh conf/curvecpserver.run >"$T/curvecp.log"
sleep 0.3
limit 30 curvecpclient test.local "$spk" 127.0.0.1 "$port" "$ext" \
	"$BIN/msgpipe" -c "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	run echo over curvecp >"$T/out" 2>"$T/err"
rc=$?
result curvecp
wait_done "$T/curvecp.log"
log_has "curvecp: log line (peer from no environment)" "$T/curvecp.log" \
	"done peer=- via=pipe protocol=cmd+secure user=alice .*exit=0"

finish
