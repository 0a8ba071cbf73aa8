#!/bin/sh
# Faults: the end of a connection at the worst moment, for sftp, nbd and
# cmd, each handler under tcpserver -v (its log names every handler's pid
# and exit status):
#  - the client is SIGKILLed mid-upload (requests in flight, one cut in
#    the middle): the handler exits within 5 s, leaves no process, and
#    what is on disk is consistent (every acknowledged chunk whole, every
#    other byte either old or from the upload);
#  - the handler gets SIGTERM mid-upload: it ends cleanly (a `done ...
#    signal` line, exit 111), the client sees the connection end, what was
#    acknowledged is on disk, and no process (nor a cmd command) is left.
# fault_client.py is the sftp and nbd client; handler-client the cmd one.
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
HC=$BIN/handler-client
mkdir -p "$T/root"
truncate -s 64M "$T/disk.img"
newkey server
newkey alice
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command store perm=run payload=yes time=60 -- /bin/dd of=$T/root/cmd.out bs=64k status=none
CONF

# serve NAME CMD...: tcpserver -v on a fresh port ($port), log $T/NAME.log
serve() {
	_n=$1
	shift
	port=$(free_port)
	bg tcpserver -v -R -H -l 0 -c 10 127.0.0.1 "$port" "$@" 2>"$T/$_n.log"
	wait_tcp "$port" || fail "$_n: tcpserver listening"
}
# The handler's pid, from tcpserver's "pid N from" line.
hpid() { sed -n 's/^tcpserver: pid \([0-9]*\) from.*/\1/p' "$1" | tail -n 1; }
# within SECS FILE: tcpserver logged the end of every handler it started
# (wait_tcp's probe started one too) within SECS seconds.
ended() {
	[ "$(grep -a -c '^tcpserver: end ' "$1")" -ge \
		"$(grep -a -c '^tcpserver: pid ' "$1")" ]
}
within() {
	_i=0
	while [ $_i -lt $(($1 * 20)) ]; do
		ended "$2" && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
# Nothing of this test is still running but tcpserver itself.
left() {
	for _p in $(pgrep -f "$T/(root|disk|conf)"); do
		[ "$(cat /proc/"$_p"/comm 2>/dev/null)" = tcpserver ] || printf '%s ' "$_p"
	done
}
# consistent FILE ACKS [ZERO-OK]: chunks 0..ACKS-1 are the pattern; the
# rest of the file is, 4 KiB at a time, zeros or the pattern of its chunk.
consistent() {
	"$PY" - "$@" <<'PYEOF'
import sys
path, acks = sys.argv[1], int(sys.argv[2])
C = 65536
data = open(path, "rb").read()
def pat(i): return bytes([(i * 7 + 1) & 0xFF])
for i in range(acks):
    if data[i * C:(i + 1) * C] != pat(i) * C:
        sys.exit("acknowledged chunk %d differs" % i)
for off in range(acks * C, len(data), 4096):
    b = data[off:off + 4096]
    if b != b"\0" * len(b) and b != pat(off // C) * len(b):
        sys.exit("byte run at %d is neither old nor new" % off)
PYEOF
}
acks_of() { sed -n 's/^acked //p' "$1" | tail -n 1; }

for proto in sftp nbd; do
	if [ $proto = sftp ]; then
		serve $proto "$HD" sftp "$T/root"
		file=$T/root/up.$proto
	else
		serve $proto "$HD" nbd "$T/disk.img"
		file=$T/disk.img
	fi
	# (b) the client is SIGKILLed mid-transfer
	limit 30 "$PY" tests/shell/fault_client.py $proto "$port" up.$proto 20 kill "$T/$proto.state" 2>"$T/$proto.py"
	if within 5 "$T/$proto.log"; then
		ok "$proto: client SIGKILLed mid-upload, handler gone within 5 s"
	else
		fail "$proto: handler still running 5 s after the client's SIGKILL"
	fi
	l=$(left)
	if [ -z "$l" ]; then ok "$proto: no process left after the client's SIGKILL"; else fail "$proto: left: $l"; fi
	if why=$(consistent "$file" "$(acks_of "$T/$proto.state")" 2>&1); then
		ok "$proto: after the client's SIGKILL the file is consistent ($(stat -c %s "$file") bytes)"
	else
		fail "$proto: after the client's SIGKILL: $why"
	fi
	# (c) SIGTERM to the handler mid-transfer
	: >"$T/$proto.log"
	[ $proto = sftp ] && file=$T/root/term.$proto
	[ $proto = nbd ] && truncate -s 0 "$T/disk.img" && truncate -s 64M "$T/disk.img"
	: >"$T/$proto.state"
	limit 30 "$PY" tests/shell/fault_client.py $proto "$port" term.$proto 20 hold "$T/$proto.state" 2>"$T/$proto.py" &
	cpid=$!
	wait_lines "$T/$proto.state" '^acked' 1
	kill -TERM "$(hpid "$T/$proto.log")"
	wait $cpid
	crc=$?
	if within 5 "$T/$proto.log" && grep -a -q ' done .*signal exit=111' "$T/$proto.log" &&
		grep -a -q '^tcpserver: end [0-9]* status 28416' "$T/$proto.log"; then
		ok "$proto: SIGTERM mid-upload: done line (signal), exit 111"
	else
		fail "$proto: SIGTERM mid-upload: $(grep -a -v '^tcpserver: status' "$T/$proto.log" | tail -n 3 | tr '\n' '|')"
	fi
	if [ $crc -eq 0 ] && grep -a -q '^closed' "$T/$proto.state"; then
		ok "$proto: SIGTERM: the client sees the connection end"
	else
		fail "$proto: SIGTERM: client exit $crc: $(tail -n 2 "$T/$proto.py" | tr '\n' ' ')"
	fi
	if why=$(consistent "$file" "$(acks_of "$T/$proto.state")" 2>&1); then
		ok "$proto: after SIGTERM every acknowledged chunk is on disk ($(acks_of "$T/$proto.state") chunks)"
	else
		fail "$proto: after SIGTERM: $why"
	fi
	l=$(left)
	if [ -z "$l" ]; then ok "$proto: no process left after SIGTERM"; else fail "$proto: left after SIGTERM: $l"; fi
done

# cmd: a payload streamed into a command writing to a file
serve cmd "$HD" -s -f "$T/conf" cmd
mkfifo "$T/fifo"
cmdrun() { # runs handler-client with its payload from the fifo, in the background
	tcpclient -R -H -l 0 127.0.0.1 "$port" "$HC" -k "$T/alice" -u alice \
		-p "$T/server.pub" run --stdin store <"$T/fifo" >"$T/cmd.out" 2>"$T/cmd.err" &
	cpid=$!
	# The writer holds the fifo open after 1 MiB, so the upload is mid-way.
	{ head -c 1M /dev/zero | tr "\0" x; exec sleep 30; } >"$T/fifo" &
	wpid=$!
}
size() { stat -c %s "$T/root/cmd.out" 2>/dev/null || echo 0; }
big() { [ "$(size)" -ge 1048576 ]; }
xonly() { [ "$(tr -d x <"$T/root/cmd.out" | wc -c)" -eq 0 ]; }
cmdrun
wait_until big
kill -KILL $cpid
wait $cpid 2>/dev/null
if within 5 "$T/cmd.log"; then ok "cmd: client SIGKILLed mid-payload, handler gone within 5 s"; else fail "cmd: handler outlived its client"; fi
kill $wpid 2>/dev/null
wait_until test -z "$(left)"
l=$(left)
if [ -z "$l" ]; then ok "cmd: no process (handler, command) left after the client's SIGKILL"; else fail "cmd: left: $l"; fi
if xonly; then ok "cmd: the part written is the payload's ($(size) bytes)"; else fail "cmd: written part corrupt"; fi
: >"$T/cmd.log"
rm -f "$T/root/cmd.out"
cmdrun
wait_until big
kill -TERM "$(hpid "$T/cmd.log")"
wait $cpid
crc=$?
if within 5 "$T/cmd.log" && grep -a -q ' done .*signal exit=111' "$T/cmd.log"; then
	ok "cmd: SIGTERM mid-payload: done line (signal), exit 111"
else
	fail "cmd: SIGTERM mid-payload: $(tail -n 3 "$T/cmd.log" | tr '\n' '|')"
fi
if [ $crc -ne 0 ]; then ok "cmd: SIGTERM: the client fails (exit $crc)"; else fail "cmd: client exit 0 after SIGTERM"; fi
kill $wpid 2>/dev/null
wait_until test -z "$(left)"
l=$(left)
if [ -z "$l" ]; then ok "cmd: no process (handler, command) left after SIGTERM"; else fail "cmd: left after SIGTERM: $l"; fi
if xonly; then ok "cmd: after SIGTERM the part written is the payload's ($(size) bytes)"; else fail "cmd: after SIGTERM written part corrupt"; fi
finish
