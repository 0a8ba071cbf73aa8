#!/bin/sh
# handler-client -a signs through ssh-agent: the key lives only in the
# agent (a private ssh-agent on a socket in $T), no key file is given.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice other; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
EOF

agent_pid=""
stop_agent() {
	[ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null
	agent_pid=""
}
trap 'stop_agent; t_cleanup' EXIT
eval "$(ssh-agent -s -a "$T/agent.sock")" >/dev/null
agent_pid=$SSH_AGENT_PID
if [ -z "$agent_pid" ] || [ ! -S "$T/agent.sock" ]; then
	fail "ssh-agent started"
	finish
fi
export SSH_AUTH_SOCK="$T/agent.sock"
ssh-add -q "$T/alice" 2>/dev/null
mv "$T/alice" "$T/alice.secret-moved"

limit 20 "$HC" -a -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q alice "$T/out"; then
	ok "agent signs: run whoami with only the agent"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "agent signs: run whoami with only the agent"
fi

# Several keys in the agent: -k names the key by its .pub (the secret key
# file itself is gone).
ssh-add -q -D 2>/dev/null
ssh-add -q "$T/other" 2>/dev/null
ssh-add -q "$T/alice.secret-moved" 2>/dev/null
limit 20 "$HC" -a -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q alice "$T/out"; then
	ok "agent with several keys: -a -k KEY picks KEY.pub's key"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "agent with several keys: -a -k KEY picks KEY.pub's key"
fi

# Several keys and no -k: the client tries the agent's keys in order.
limit 20 "$HC" -a -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && grep -q alice "$T/out"; then
	ok "agent with several keys, no -k: the right one is found"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "agent with several keys, no -k: the right one is found"
fi

# An agent without the user's key: refused with an error.
ssh-add -q -D 2>/dev/null
ssh-add -q "$T/other" 2>/dev/null
limit 20 "$HC" -a -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && grep -qi error "$T/err"; then
	ok "agent without the user's key: refused"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "agent without the user's key: refused"
fi

# No agent at all: a clear error, not a hang.
SSH_AUTH_SOCK=$T/nonexistent limit 20 "$HC" -a -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && grep -qi error "$T/err"; then
	ok "no agent: clear error"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "no agent: clear error"
fi
stop_agent
finish
