#!/bin/sh
# handler's SFTP module behind xinetd, from conf/xinetd.d/handler-sftp as
# shipped (only paths, port and user changed), reached by OpenSSH's sftp
# through socat. Checks: ls and a download with equal sha256; the log line
# in the -l file; with -v instead of -l, no log byte in the stream (xinetd
# gives the socket as fd 2 too); stopping xinetd leaves no process behind
# (its handlers end by themselves: xinetd does not kill them).
. tests/lib.sh
H=$BIN/handler
RECIPE=conf/xinetd.d/handler-sftp
# tests/deps.sh unpacks xinetd there (its package conflicts with inetd's).
XINETD=${XINETD:-$(command -v xinetd || command -v /usr/sbin/xinetd ||
	command -v /opt/handler-tests/xinetd/usr/sbin/xinetd)}
IDLE=5

skip() {
	ok "xinetd # SKIP $1"
	finish
}
[ "$(id -u)" = 0 ] || skip "xinetd needs root"
[ -x "$XINETD" ] || skip "xinetd not found (run sh tests/deps.sh as root)"
command -v sftp >/dev/null 2>&1 || skip "no sftp client"
command -v socat >/dev/null 2>&1 || skip "no socat"
printf '' | limit 5 "$H" sftp "$T" 2>&1 | grep -q 'not built yet' &&
	skip "sftp module not built"

# The handlers run as nobody, as they would as the recipe's user: it must
# reach the root, the conf and its log file.
USER_=nobody
chmod 711 "$T"
mkdir -m 755 "$T/root"
head -c 300000 /dev/urandom >"$T/root/data.bin"
chmod 644 "$T/root/data.bin"
printf 'limit idle %s\n' "$IDLE" >"$T/conf"
chmod 644 "$T/conf"
: >"$T/sftp.log"
chown "$USER_" "$T/sftp.log"

# The recipe with this test's paths; NAME PORT, then extra sed arguments.
recipe() {
	_name=$1 _port=$2
	shift 2
	sed -e "s|^service handler-sftp|service $_name|" \
		-e "s|^\([[:space:]]*port[[:space:]]*=\).*|\1 $_port|" \
		-e "s|^\([[:space:]]*user[[:space:]]*=\).*|\1 $USER_|" \
		-e "s|/usr/local/bin/handler|$H|" \
		-e "s|/var/log/handler/sftp.log|$T/sftp.log|" \
		-e "s|/etc/handler/handler.conf|$T/conf|" \
		-e "s|/srv/handler/public|$T/root|" "$@" "$RECIPE"
}
port=$(free_port)
vport=$(free_port)
# Only this file: no includedir, so nothing from /etc/xinetd.d is served.
{
	printf 'defaults\n{\n\tlog_type = FILE %s\n}\n' "$T/xinetd.log"
	recipe handler-sftp "$port"
	recipe handler-sftp-v "$vport" -e "s|-l $T/sftp.log|-v|"
} >"$T/xinetd.conf"
if grep -v '^[[:space:]]*#' "$T/xinetd.conf" |
	grep -q 'includedir\|/etc/\|/var/\|/srv/\|/usr/local/'; then
	fail "xinetd conf: every system path replaced"
fi

bg "$XINETD" -dontfork -f "$T/xinetd.conf" -pidfile "$T/xinetd.pid" \
	-filelog "$T/xinetd.own"
xpid=$T_LASTPID
if ! wait_tcp "$port" || ! wait_tcp "$vport"; then
	echo "# $(tail -n 5 "$T/xinetd.own" 2>/dev/null | tr '\n' '|')"
	fail "xinetd listening"
	finish
fi
ok "xinetd listening, from $RECIPE"

# Bounded wait for a condition (a command), 0.1 s steps.
wait_for() { # TENTHS CMD...
	_n=$1
	shift
	while [ "$_n" -gt 0 ] && ! "$@"; do
		sleep 0.1
		_n=$((_n - 1))
	done
	"$@"
}
# Runs a batch of sftp commands against PORT; output in $T/sftp.out.
sftp_batch() { # PORT BATCH
	limit 30 sftp -q -D "socat - TCP:127.0.0.1:$1" -b "$2" \
		>"$T/sftp.out" 2>&1
}
printf 'ls -l\nget data.bin %s/got.bin\n' "$T" >"$T/batch"
if sftp_batch "$port" "$T/batch" && grep -q ' data.bin$' "$T/sftp.out"; then
	ok "sftp ls over xinetd"
else
	echo "# $(head -c 400 "$T/sftp.out" | tr '\n' '|')"
	fail "sftp ls over xinetd"
fi
if [ -f "$T/got.bin" ] && [ "$(sha "$T/got.bin")" = "$(sha "$T/root/data.bin")" ]; then
	ok "sftp get over xinetd: sha256 equal"
else
	fail "sftp get over xinetd: sha256 equal"
fi
# The client's session (in>0; wait_tcp's probe sends nothing) is logged
# as it ends, to the -l file, with the peer (and port) from the socket.
session_logged() {
	grep -q "done peer=127\.0\.0\.1:[0-9][0-9]* via=TCP protocol=sftp .*in=[1-9][0-9]* .*exit=0$" \
		"$T/sftp.log"
}
if wait_for 50 session_logged; then
	ok "xinetd: done line in the -l file"
else
	echo "# log: $(tail -n 4 "$T/sftp.log" | tr '\n' '|')"
	fail "xinetd: done line in the -l file"
fi

printf 'ls\n' >"$T/batch.v"
if sftp_batch "$vport" "$T/batch.v" && grep -q '^data.bin' "$T/sftp.out"; then
	ok "xinetd, -v without -l: no log bytes in the stream (fd 2 is the socket)"
else
	echo "# $(head -c 400 "$T/sftp.out" | tr '\n' '|')"
	fail "xinetd, -v without -l: no log bytes in the stream (fd 2 is the socket)"
fi

# --- stopping: one connection is still open when xinetd is told to end ---
started() { grep -c 'START: handler-sftp[^ ]* pid=' "$T/xinetd.log"; }
n=$(started)
bg sh -c "sleep 60 | socat - TCP:127.0.0.1:$port"
one_more() { [ "$(started)" -gt "$n" ]; }
wait_for 50 one_more || fail "xinetd started a handler for the held connection"
# -dontfork: the pid bg saw is xinetd's own, as the pid file says.
[ -s "$T/xinetd.pid" ] && xpid=$(cat "$T/xinetd.pid")
kill -TERM "$xpid"
# A zombie (orphans need not be reaped here) counts as gone.
gone() { # PID
	_st=$(ps -o stat= -p "$1" 2>/dev/null)
	[ -z "$_st" ] || [ "${_st#Z}" != "$_st" ]
}
check "xinetd exits on SIGTERM" wait_for 50 gone "$xpid"
# xinetd logged a START line with the pid of every handler it forked.
all_gone() {
	for _p in $(sed -n 's/.*START: handler-sftp[^ ]* pid=\([0-9]*\).*/\1/p' "$T/xinetd.log"); do
		gone "$_p" || return 1
	done
	! pgrep -f "$T/conf" >/dev/null
}
if wait_for $(((IDLE + 10) * 10)) all_gone; then
	ok "every handler xinetd started is gone ($(started) started)"
else
	echo "# left: $(pgrep -a -f "$T/conf" | tr '\n' '|')"
	fail "every handler xinetd started is gone"
fi
if grep -q 'done .* idle exit=111$' "$T/sftp.log"; then
	ok "the held connection ended by limit idle"
else
	echo "# log: $(tail -n 3 "$T/sftp.log" | tr '\n' '|')"
	fail "the held connection ended by limit idle"
fi

finish
