#!/bin/sh
# Load: N connections at once per protocol (200; 50 under ASan) under
# `tcpserver -c N` on loopback (load.py is the client: its own sftp/nbd
# code, handler-client under tcpclient for cmd over the secure layer):
#  - sftp, nbd, cmd: N sessions are up together (cmd: N commands running,
#    each blocked reading its stdin until load.py writes to it once all N
#    are in), then each completes with its data checked; the handlers'
#    total and per-connection RSS while all N are alive is reported;
#    afterwards tcpserver has no child left and no more descriptors than
#    before. Their conf has no short idle or handshake limit, so nothing
#    but the test ends a session: a lost session is a failure.
#  - N idle connections (sftp, `limit idle`) and N slow ones sending a
#    real client hello a byte a second (cmd over the secure layer,
#    `limit handshake`; both N/40 s, N/10 under ASan, at least 3) take
#    every slot of tcpserver at once: client N+1 is served as soon as the
#    limits free them, and the server's log says each of the N was ended
#    by that limit.
# tests/bench/bench_load.sh runs the same at a larger scale (LOAD_N).
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
HC=$BIN/handler-client
N=${LOAD_N:-200}
case $BUILD in *asan*) N=${LOAD_N:-50} ;; esac
mkdir -p "$T/root"
"$PY" -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 16 * 4)' >"$T/root/f"
cp "$T/root/f" "$T/disk.img"
truncate -s 1M "$T/disk.img"
newkey server
newkey alice
# Sessions: limits far above the test's own bounds (load.py's are 60 s).
# `hold` says it is in, then blocks on its stdin (no polling: N commands
# spinning would take the 2 cores from the handlers under test).
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
limit idle 600
limit handshake 600
limit nbd-negotiation 600
limit cmd-time 600
command hold perm=run payload=yes -- /bin/sh -c "echo in && exec cat"
command echo perm=run args=2 -- /bin/echo
CONF
# Idle and slow clients: the limit must outlast starting all N handlers
# (tcpserver forks and execs them one by one: 10-15 ms each here, 75 ms
# under ASan, on a loaded 2-core machine), or the first are closed before
# the last are up and the slots are never all taken at once.
LIM=$((N / 40))
case $BUILD in *asan*) LIM=$((N / 10)) ;; esac
[ "$LIM" -ge 3 ] || LIM=3
sed "s/^limit idle .*/limit idle $LIM/" "$T/conf" >"$T/conf.idle"
sed "s/^limit handshake .*/limit handshake $LIM/" "$T/conf" >"$T/conf.slow"

TS=""
serve() { # LOG CMD...: tcpserver -c N on a fresh $port; $TS its pid
	_log=$1
	shift
	port=$(free_port)
	bg tcpserver -R -H -l 0 -b $((N > 256 ? N : 256)) -c "$N" 127.0.0.1 "$port" "$@" 2>>"$T/$_log"
	TS=$T_LASTPID
	wait_tcp "$port" || fail "tcpserver listening"
	fds0=$(ls /proc/"$TS"/fd | wc -l)
}
nochild() { [ -z "$(pgrep -P "$TS")" ]; }
# drained NAME: no handler left under tcpserver, no descriptor more
drained() {
	if wait_until nochild && [ "$(ls /proc/"$TS"/fd | wc -l)" -le "$fds0" ]; then
		ok "$1: no process or descriptor left afterwards"
	else
		fail "$1: left: children $(pgrep -P "$TS" | wc -l), fds $(ls /proc/"$TS"/fd | wc -l) (was $fds0)"
	fi
	kill "$TS"
}
val() { sed -n "s/^$1 //p" "$2"; }


for proto in sftp nbd cmd; do
	case $proto in
	sftp) serve $proto.log "$HD" -f "$T/conf" sftp -R "$T/root"
		set -- sessions sftp "$port" "$N" "$TS" ;;
	nbd) serve $proto.log "$HD" -f "$T/conf" nbd -r "$T/disk.img"
		set -- sessions nbd "$port" "$N" "$TS" ;;
	cmd) serve $proto.log "$HD" -s -f "$T/conf" cmd
		set -- cmd "$port" "$N" "$TS" "$HC" "$T/alice" "$T/server.pub" ;;
	esac
	limit 90 "$PY" tests/shell/load.py "$@" >"$T/$proto.out" 2>&1
	set -- $(val peak_rss_kb "$T/$proto.out")
	if [ "$(val sessions "$T/$proto.out")" = "$N/$N" ]; then
		ok "$proto: $N/$N concurrent sessions correct in $(val seconds "$T/$proto.out") s; peak RSS ${1:-?} kB for ${3:-?} handlers, ${2:-?} kB each"
	else
		fail "$proto: sessions $(val sessions "$T/$proto.out"): $(grep '^#' "$T/$proto.out" | head -n 3 | tr '\n' ' ')"
	fi
	drained $proto
done

# held MODE: load.py MODE's N connections in the background ($ipid);
# true once it says tcpserver has a handler for each (every slot taken).
held() {
	limit 60 "$PY" tests/shell/load.py "$1" "$port" "$N" "$TS" >"$T/$1.out" 2>&1 &
	ipid=$!
	wait_lines "$T/$1.out" "^connected " 1 && [ "$(val connected "$T/$1.out")" = "$N" ]
}
# ended MODE LOG WHY LIMIT: all N closed by the server, each logged WHY
ended() {
	_n=$(grep -c "$3" "$T/$2")
	if [ "$(val closed "$T/$1.out")" = "$N/$N" ] && [ "$_n" -eq "$N" ]; then
		ok "$1: all $N closed by $4 (logged '$3' $_n times; last after $(val seconds "$T/$1.out") s)"
	else
		fail "$1: closed $(val closed "$T/$1.out"), '$3' logged $_n times"
	fi
}

# N idle sftp connections, then client N+1.
serve idle.log "$HD" -f "$T/conf.idle" sftp -R "$T/root"
if held idle; then
	limit 30 "$PY" tests/shell/load.py sessions sftp "$port" 1 "$TS" >"$T/one.out" 2>&1
	if [ "$(val sessions "$T/one.out")" = "1/1" ]; then
		ok "sftp: with $N idle connections (all up in $(val handlers_up_seconds "$T/idle.out") s), client $((N + 1)) is served once they are closed ($(val seconds "$T/one.out") s)"
	else
		fail "sftp: client $((N + 1)) behind $N idle ones: $(tr '\n' ' ' <"$T/one.out")"
	fi
else
	fail "sftp: $N idle connections did not all reach a handler: $(tr '\n' ' ' <"$T/idle.out")"
fi
wait $ipid
ended idle idle.log 'idle timeout' "limit idle $LIM"
drained "sftp idle"

# N slow client hellos on the secure layer, then client N+1.
serve slow.log "$HD" -s -f "$T/conf.slow" cmd
if held slow; then
	if limit 30 tcpclient -R -H -l 0 127.0.0.1 "$port" "$HC" -k "$T/alice" -u alice \
		-p "$T/server.pub" run echo one more >"$T/echo.out" 2>&1 &&
		[ "$(cat "$T/echo.out")" = "one more" ]; then
		ok "cmd: with $N slow handshakes (all up in $(val handlers_up_seconds "$T/slow.out") s), client $((N + 1)) is served once they are closed"
	else
		fail "cmd: client $((N + 1)) behind $N slow ones: $(head -c 200 "$T/echo.out")"
	fi
else
	fail "cmd: $N slow connections did not all reach a handler: $(tr '\n' ' ' <"$T/slow.out")"
fi
wait $ipid
ended slow slow.log 'refused .*handshake timeout' "limit handshake $LIM"
drained "cmd slow"
finish
