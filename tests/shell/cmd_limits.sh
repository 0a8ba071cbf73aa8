#!/bin/sh
# cmd limits: a command over its time limit is killed and the error band
# names the limit; one over its output limit is stopped; an idle
# connection is closed after `limit idle`.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command sleep perm=run time=1 -- /bin/sleep 30
command yes perm=run output=1K -- /usr/bin/yes
command quick perm=run time=5 -- /bin/echo quick
command later perm=run time=20 -- /bin/sh -c "sleep 2; touch $T/marker"
command nap perm=run time=10 -- /bin/sh -c "sleep 2; echo rested"
command bgjob perm=run time=1 -- /bin/sh -c "(sleep 2; touch $T/bgmark) & echo started; exit 0"
limit idle 1
EOF
hc() { # SECONDS ARGS...
	_s=$1
	shift
	limit "$_s" "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
		--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" "$@"
}
# started: waits (at most 10 s) until the server has started the command,
# so that a signal or a kill lands while it runs, whatever the load.
started() { wait_until grep -q 'command=later id=1 started' "$T/server.log"; }
# gone PATTERN: no process left whose command line holds PATTERN. The
# marker files are touched by the commands' own shells: once those are
# gone, a marker that is absent stays absent (no fixed wait needed).
gone() { ! pgrep -f "$1" >/dev/null; }
show() {
	echo "# exit $rc after ${secs}s; stderr: $(head -c 400 "$T/err" | tr '\n' '|')" >&2
}

start=$(date +%s)
hc 20 run sleep >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$secs" -le 6 ] &&
	grep -qiE 'time|timeout|timed out' "$T/err"; then
	ok "time limit: killed in ${secs}s, error names the time limit"
else
	show
	fail "time limit: killed, error names the time limit"
fi

start=$(date +%s)
hc 20 run yes >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
n=$(wc -c <"$T/out")
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ "$n" -le 1024 ] &&
	grep -qiE 'output' "$T/err"; then
	ok "output limit: stopped at $n bytes, error names the output limit"
else
	show
	echo "# $n bytes of stdout" >&2
	fail "output limit: stopped, error names the output limit"
fi

# The command exits 0 at once but leaves a background job holding its
# stdout: the time limit stops the whole group, and the client does not
# report success.
start=$(date +%s)
hc 20 run bgjob >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
wait_until gone "$T/bgmark"
if [ "$rc" -eq 255 ] && [ "$(cat "$T/out")" = started ] && [ ! -e "$T/bgmark" ] &&
	grep -qiE 'time limit' "$T/err"; then
	ok "time limit on a background job: group stopped, exit 255 in ${secs}s"
else
	show
	fail "time limit on a background job: group stopped, exit 255"
fi

hc 20 run quick >"$T/out" 2>"$T/err"
rc=$?
secs=0
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = quick ]; then
	ok "a command within its limits runs"
else
	show
	fail "a command within its limits runs"
fi

# A command that runs longer than the idle limit (silently) is not cut
# off: waiting for a running command does not count as idle.
hc 20 run nap >"$T/out" 2>"$T/err"
rc=$?
secs=0
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = rested ]; then
	ok "a silent 2 s command outlives a 1 s idle limit"
else
	show
	fail "a silent 2 s command outlives a 1 s idle limit"
fi

# SIGINT (^C) to handler-client cancels the request: the command is stopped
# (it would touch the marker after 2 s) and the client ends promptly.
rm -f "$T/marker"
"$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -v -s -f $T/conf cmd 2>>$T/server.log" run later >"$T/out" 2>"$T/err" &
pid=$!
started
start=$(date +%s)
kill -INT "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	kill -KILL "$pid"
	rc=124
else
	wait "$pid"
	rc=$?
fi
secs=$(($(date +%s) - start))
wait_until gone "$T/marker"
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -e "$T/marker" ] && grep -qi cancel "$T/server.log" "$T/err"; then
	ok "SIGINT cancels the request: command stopped, client exit $rc in ${secs}s"
else
	show
	echo "# server log: $(tail -n 4 "$T/server.log" | tr '\n' '|')" >&2
	fail "SIGINT cancels the request: command stopped, client ends"
fi

# A client that vanishes (killed, no FINAL frame) leaves nobody to read the
# answer: the server sees the truncated stream and stops the command at once
# instead of letting it run to its time limit.
rm -f "$T/marker"
: >"$T/server.log"
"$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "exec $HD -v -s -f $T/conf cmd 2>>$T/server.log" run later >"$T/out" 2>"$T/err" &
pid=$!
started
kill -KILL "$pid"
wait "$pid" 2>/dev/null
wait_until gone "$T/marker"
if [ ! -e "$T/marker" ] && grep -q truncated "$T/server.log"; then
	ok "client vanished: truncation logged, its command stopped"
else
	echo "# server log: $(tail -n 5 "$T/server.log" | tr '\n' '|')" >&2
	fail "client vanished: truncation logged, its command stopped"
fi

# Idle: the tunnel's stdin stays open but silent; the server must close the
# connection after about a second and the client must then end.
mkfifo "$T/fifo"
# (the redirection inside: on a function call dash would open the fifo
# in this shell and block until a reader comes)
bg sh -c 'exec sleep 30 >"$1"' sh "$T/fifo"
start=$(date +%s)
hc 20 tunnel <"$T/fifo" >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" -ne 124 ] && [ "$secs" -le 5 ] && grep -qi idle "$T/server.log"; then
	ok "idle connection closed after ${secs}s (exit $rc), logged"
else
	show
	echo "# server log: $(tail -n 5 "$T/server.log" | tr '\n' '|')" >&2
	fail "idle connection closed and logged"
fi
finish
