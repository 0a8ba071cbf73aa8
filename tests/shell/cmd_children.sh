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

finish
