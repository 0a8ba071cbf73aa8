#!/bin/sh
# The cmd protocol end to end over pipes: handler-client --exec starts
# `handler -s -f CONF cmd` and every builtin, configured commands, exit
# statuses, bands, refusals and key handling are checked.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice bob; do newkey $k; done

printf 'echo to-stdout\necho to-stderr >&2\n' >"$T/err.sh"
printf 'exit "$1"\n' >"$T/status.sh"
cat >"$T/conf" <<EOF
# cmd_exec.sh test configuration
server-key $T/server
user alice run,admin $(publine "$T/alice.pub") alice@test
user bob run $(publine "$T/bob.pub")
command echo perm=run args=3 -- /bin/echo
describe echo prints its arguments back
command status perm=run args=1 -- /bin/sh $T/status.sh
command err perm=run -- /bin/sh $T/err.sh
command touch perm=admin -- /usr/bin/touch $T/marker
command nap perm=run args=1 -- /bin/sleep
command env perm=run -- /usr/bin/env
EOF

# hc USER ARGS...: one client run against a fresh server, 20 s at most.
hc() {
	_u=$1
	shift
	limit 20 "$HC" -k "$T/$_u" -u "$_u" -p "$T/server.pub" \
		--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" "$@"
}
# runs USER ARGS...: output in $T/out and $T/err, status in $rc.
runs() {
	hc "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
has() { grep -q -- "$1" "$2"; }
show() { # why a case failed, for the log
	echo "# exit $rc; stdout: $(head -c 300 "$T/out" | tr '\n' '|')" >&2
	echo "# stderr: $(head -c 300 "$T/err" | tr '\n' '|')" >&2
}
expect() { # NAME CONDITION...: ok when the condition holds
	_n=$1
	shift
	if "$@"; then ok "$_n"; else show; fail "$_n"; fi
}
rc_is() { [ "$rc" -eq "$1" ]; }
rc_out() { [ "$rc" -eq "$1" ] && has "$2" "$T/out"; }
rc_err() { [ "$rc" -eq "$1" ] && has "$2" "$T/err"; }

runs alice ping
expect "ping" rc_is 0
runs alice run ping
expect "run ping" rc_is 0
runs alice run version
expect "version" test "$rc" -eq 0 -a -s "$T/out"
runs alice run whoami
expect "whoami alice" rc_out 0 alice
runs bob run whoami
expect "whoami bob" rc_out 0 bob
runs alice run help
expect "help lists commands" rc_out 0 echo
if has status "$T/out" && has whoami "$T/out" && has caps "$T/out"; then
	ok "help lists builtins and configured commands"
else
	show
	fail "help lists builtins and configured commands"
fi
runs alice run help echo
expect "help echo shows its description" rc_out 0 "prints its arguments back"
runs alice run stat
expect "stat" test "$rc" -eq 0 -a -s "$T/out"
runs alice run stat -p
# Parser-friendly: every line is a key, a separator and a value.
if [ "$rc" -eq 0 ] && [ -s "$T/out" ] &&
	! grep -qvE '^[a-z_]+=[^[:space:]]*$' "$T/out" && has '^user=alice$' "$T/out" &&
	has "^user_key=$(ssh-keygen -l -E sha256 -f "$T/alice.pub" | cut -d' ' -f2)\$" "$T/out"; then
	ok "stat -p is key=value lines (user, user_key)"
else
	show
	fail "stat -p is key=value lines (user, user_key)"
fi

# caps: valid JSON naming every command with its permission and whether
# this user holds it (alice holds admin, bob does not).
cat >"$T/caps.py" <<'EOF'
import json, sys
caps = json.load(open(sys.argv[1]))
user = sys.argv[2]
want = {"echo": ("run", True), "status": ("run", True), "err": ("run", True),
        "touch": ("admin", user == "alice"),
        "ping": (None, True), "whoami": (None, True), "help": (None, True),
        "version": (None, True), "stat": (None, True), "caps": (None, True)}
cmds = {c.get("name"): c for c in caps.get("commands", [])}
bad = []
if caps.get("user") != user:
    bad.append("user is %r" % caps.get("user"))
for name, (perm, held) in want.items():
    c = cmds.get(name)
    if c is None:
        bad.append(name + " missing")
    elif c.get("permission") != perm:
        bad.append("%s permission %r" % (name, c.get("permission")))
    elif c.get("permitted") is not held:
        bad.append("%s permitted %r" % (name, c.get("permitted")))
if bad:
    sys.exit("caps: " + ", ".join(bad))
EOF
for u in alice bob; do
	runs $u caps
	if [ "$rc" -eq 0 ] && /usr/bin/python3 -m json.tool <"$T/out" >/dev/null 2>>"$T/err" &&
		/usr/bin/python3 "$T/caps.py" "$T/out" $u 2>>"$T/err"; then
		ok "caps JSON for $u lists commands, permissions, holds"
	else
		show
		fail "caps JSON for $u lists commands, permissions, holds"
	fi
done
runs alice run caps
expect "run caps is JSON too" test "$rc" -eq 0 -a -s "$T/out"

runs alice run echo a 'b c' d
expect "configured command with args" test "$rc" -eq 0 -a "$(cat "$T/out")" = "a b c d"
# No shell anywhere: metacharacters arrive as plain arguments.
runs alice run echo "\$(touch $T/meta)" ';' "\`touch $T/meta\`"
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "\$(touch $T/meta) ; \`touch $T/meta\`" ] && [ ! -e "$T/meta" ]; then
	ok "arguments are not interpreted by a shell"
else
	show
	fail "arguments are not interpreted by a shell"
fi
# A clean environment: PATH and HANDLER_USER only (the client's and the
# server's own variables do not leak).
SECRET_TEST_VAR=leak runs alice run env
if [ "$rc" -eq 0 ] && [ "$(sort "$T/out" | tr '\n' ' ')" = "HANDLER_USER=alice PATH=/usr/bin:/bin " ]; then
	ok "commands get a clean environment"
else
	show
	fail "commands get a clean environment"
fi
runs alice run status 3
expect "exit status 3 relayed" rc_is 3
runs alice run status 0
expect "exit status 0 relayed" rc_is 0
runs alice run err
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = to-stdout ] && has to-stderr "$T/err" &&
	! has to-stderr "$T/out"; then
	ok "stderr band goes to stderr"
else
	show
	fail "stderr band goes to stderr"
fi
runs alice run nosuch
expect "unknown command: error, exit 255" rc_err 255 "handler-client: error:"

rm -f "$T/marker"
runs bob run touch
if [ "$rc" -eq 255 ] && has "handler-client: error:" "$T/err" && [ ! -e "$T/marker" ]; then
	ok "permission denied: error, exit 255, not executed"
else
	show
	fail "permission denied: error, exit 255, not executed"
fi
runs alice run touch
expect "permitted command runs" test "$rc" -eq 0 -a -e "$T/marker"
runs alice run echo 1 2 3 4
expect "too many args: error, exit 255" rc_err 255 "handler-client: error:"
runs alice run echo 1 2 3
expect "args at the limit accepted" rc_out 0 "1 2 3"

# keygen + pubkey: OpenSSH-format keys the server accepts, either as the
# user key or as the server key pinned by its line.
if limit 10 "$HC" keygen "$T/carol" >"$T/kg.out" 2>"$T/err" &&
	[ -s "$T/carol" ] && [ -s "$T/carol.pub" ] &&
	grep -qE '^ssh-ed25519 AAAA[A-Za-z0-9+/=]+' "$T/kg.out"; then
	ok "keygen writes FILE and FILE.pub, prints the line"
else
	fail "keygen writes FILE and FILE.pub, prints the line"
fi
limit 10 "$HC" pubkey "$T/carol" >"$T/pk.out" 2>>"$T/err"
if [ "$(publine "$T/pk.out")" = "$(publine "$T/kg.out")" ] &&
	[ "$(publine "$T/carol.pub")" = "$(publine "$T/kg.out")" ]; then
	ok "pubkey prints the same line"
else
	fail "pubkey prints the same line"
fi
if [ "$(ssh-keygen -y -f "$T/carol" 2>/dev/null | cut -d' ' -f1,2)" = "$(publine "$T/kg.out")" ]; then
	ok "keygen's key is read by ssh-keygen"
else
	fail "keygen's key is read by ssh-keygen"
fi
limit 10 "$HC" pubkey "$T/alice" >"$T/pk2.out" 2>>"$T/err"
expect "pubkey reads ssh-keygen's key" test "$(publine "$T/pk2.out")" = "$(publine "$T/alice.pub")"
limit 10 "$HC" keygen "$T/server2" >"$T/kg2.out" 2>/dev/null
sed -e "s|^server-key .*|server-key $T/server2|" "$T/conf" >"$T/conf2"
echo "user carol run $(publine "$T/kg.out")" >>"$T/conf2"
limit 20 "$HC" -k "$T/carol" -u carol -p "$(publine "$T/kg2.out")" \
	--exec "$HD -s -f $T/conf2 cmd 2>>$T/server.log" run whoami >"$T/out" 2>"$T/err"
rc=$?
expect "server accepts keygen keys (user and pinned server line)" rc_out 0 carol

# Several requests in flight on one connection: handler-client batch
# (one request per line). 20 lines is more than the default 16 in flight,
# so the client also has to queue; output comes in input order.
i=1
: >"$T/batch"
while [ $i -le 20 ]; do
	echo "echo n$i" >>"$T/batch"
	i=$((i + 1))
done
hc alice batch <"$T/batch" >"$T/out" 2>"$T/err"
rc=$?
seq 1 20 | sed 's/^/n/' >"$T/want"
if [ "$rc" -eq 0 ] && cmp -s "$T/out" "$T/want"; then
	ok "20 requests on one connection (batch), output in order"
else
	show
	fail "20 requests on one connection (batch), output in order"
fi
# Concurrency: five one-second naps take about one second, not five.
printf 'nap 1\nnap 1\nnap 1\nnap 1\nnap 1\nwhoami\n' >"$T/batch"
start=$(date +%s)
hc alice batch <"$T/batch" >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" -eq 0 ] && [ "$secs" -le 3 ] && [ "$(cat "$T/out")" = alice ]; then
	ok "batch runs requests concurrently (5 x sleep 1 in ${secs}s)"
else
	show
	fail "batch runs requests concurrently (5 x sleep 1 in ${secs}s)"
fi
# The batch's status is the largest of its requests'; a refusal is 255.
printf 'status 3\necho x\nstatus 7\n' >"$T/batch"
hc alice batch <"$T/batch" >"$T/out" 2>"$T/err"
rc=$?
expect "batch exit status is the largest (7)" rc_out 7 x
printf 'echo y\ntouch\n' >"$T/batch"
rm -f "$T/marker"
hc bob batch <"$T/batch" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && has y "$T/out" && has "handler-client: error:" "$T/err" && [ ! -e "$T/marker" ]; then
	ok "batch with a refused request: 255, others run, refused one does not"
else
	show
	fail "batch with a refused request: 255, others run, refused one does not"
fi

# Transport failures are 255 too: a server that cannot be started, one that
# exits at once.
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" --exec "$T/nonexistent" run whoami \
	>"$T/out" 2>"$T/err"
rc=$?
expect "--exec server that cannot start: 255 with an error" rc_err 255 "handler-client: error:"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" --exec "exit 0" run whoami \
	>"$T/out" 2>"$T/err"
rc=$?
expect "--exec server that exits at once: 255 with an error" rc_err 255 "handler-client: error:"
# Usage and key errors are 255.
limit 20 "$HC" -k "$T/nonexistent" -u alice -p "$T/server.pub" --exec "$HD -s -f $T/conf cmd" run whoami \
	>"$T/out" 2>"$T/err"
rc=$?
expect "missing key file: 255 with an error" rc_err 255 "handler-client: error:"
limit 20 "$HC" -k "$T/alice" -u alice --exec "$HD -s -f $T/conf cmd" run whoami \
	>"$T/out" 2>"$T/err" </dev/null
rc=$?
if [ "$rc" -eq 255 ] && [ -s "$T/err" ]; then
	ok "no pinned server key (-p missing): refused, 255"
else
	show
	fail "no pinned server key (-p missing): refused, 255"
fi

if grep -q 'BEGIN OPENSSH PRIVATE KEY' "$T/server.log" 2>/dev/null; then
	fail "server log holds no key material"
else
	ok "server log holds no key material"
fi
finish
