#!/bin/sh
# What a configured command inherits and how long it may live: only fds
# 0-2 (not what handler itself inherited), an admin's `--` ends option
# parsing before the user's arguments, and nothing it started outlives its
# request or the session (a setsid'd, double-forked grandchild included,
# and after SIGTERM to handler).
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command fds perm=run -- /bin/sh -c "for f in /proc/\$\$/fd/*; do echo \${f##*/}; done"
command escape perm=run -- /usr/bin/setsid /bin/sh -c "sleep 300 >/dev/null 2>&1 </dev/null & echo \$! >$T/escpid"
command alive perm=run -- /bin/sh -c "if kill -0 \$(cat $T/escpid); then echo alive; else echo gone; fi"
command long perm=run time=120 -- /bin/sh -c "echo \$\$ >$T/longpid; exec sleep 300"
command lsd perm=run args=1 -- /bin/ls -d --
command lsd-unsafe perm=run args=1 -- /bin/ls -d
limit requests 1
EOF
# hc ARGS...: one client run against a fresh server (20 s at most); the
# server starts with fds 5 and 7 open, as a careless parent could leave.
hc() {
	limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
		--exec "exec 5</dev/null 7>>$T/extra; $HD -s -f $T/conf cmd 2>>$T/server.log" "$@"
}

hc run fds >"$T/out" 2>"$T/err"
rc=$?
# 3 is the shell's own handle on /proc/PID/fd while it expands the glob.
if [ "$rc" -eq 0 ] && [ "$(tr '\n' ' ' <"$T/out")" = "0 1 2 3 " ]; then
	ok "a command gets fds 0-2 only, not handler's inherited 5 and 7"
else
	echo "# exit $rc; fds: $(tr '\n' ' ' <"$T/out"); err: $(head -c 300 "$T/err")" >&2
	fail "a command gets fds 0-2 only, not handler's inherited 5 and 7"
fi

# A command that leaves its group (setsid) and double-forks: the sleep it
# left behind is gone when its request ends, while the session goes on
# (one request at a time, so "alive" runs after "escape" ended).
printf 'escape\nalive\n' | hc batch >"$T/out" 2>"$T/err"
rc=$?
esc=$(cat "$T/escpid" 2>/dev/null)
if [ "$rc" -eq 0 ] && grep -qx gone "$T/out" && [ -n "$esc" ] &&
	! kill -0 "$esc" 2>/dev/null; then
	ok "a setsid'd double-forked grandchild is killed when its request ends"
else
	echo "# exit $rc; out: $(tr '\n' '|' <"$T/out"); err: $(head -c 300 "$T/err")" >&2
	[ -n "$esc" ] && kill -KILL "$esc" 2>/dev/null
	fail "a setsid'd double-forked grandchild is killed when its request ends"
fi

# SIGTERM to a handler running a long command: the command is killed, the
# session's done line is logged, handler exits 111. The server's pid is the
# shell's that execs it.
: >"$T/server.log"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "echo \$\$ >$T/hdpid; exec $HD -s -f $T/conf cmd 2>>$T/server.log" \
	run long >"$T/out" 2>"$T/err" &
client=$!
wait_until test -s "$T/longpid"
hd=$(cat "$T/hdpid" 2>/dev/null)
long=$(cat "$T/longpid" 2>/dev/null)
[ -n "$hd" ] && kill -TERM "$hd"
wait $client
wait_until grep -q ' done ' "$T/server.log"
if [ -n "$long" ] && ! kill -0 "$long" 2>/dev/null &&
	grep -q 'signal SIGTERM' "$T/server.log" &&
	grep -q ' done .*signal exit=111' "$T/server.log"; then
	ok "SIGTERM: the running command is killed, done line logged, exit 111"
else
	echo "# long=$long hd=$hd; log: $(tail -c 600 "$T/server.log" | tr '\n' '|')" >&2
	[ -n "$long" ] && kill -KILL "$long" 2>/dev/null
	fail "SIGTERM: the running command is killed, done line logged, exit 111"
fi

# An admin's "--" after the fixed arguments ends option parsing: a user
# argument that looks like an option is an operand (without it, ls takes
# --version as its option).
hc run lsd-unsafe --version >"$T/out" 2>"$T/err"
unsafe=$?
hc run lsd --version >"$T/out2" 2>"$T/err"
rc=$?
if [ "$unsafe" -eq 0 ] && grep -q 'ls' "$T/out" && [ "$rc" -ne 0 ] &&
	! [ -s "$T/out2" ] && grep -q 'version' "$T/err"; then
	ok "\"--\" in a command's fixed arguments makes user arguments operands"
else
	echo "# unsafe=$unsafe rc=$rc; err: $(head -c 300 "$T/err")" >&2
	fail "\"--\" in a command's fixed arguments makes user arguments operands"
fi

finish
