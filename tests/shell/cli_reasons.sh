#!/bin/sh
# handler-client says why: a module that refuses to start (no sftp root,
# no sftp permission) and a server whose key does not load reach the
# client as a message, exit 255; `handler -n` names the server-key item's
# file:line; a remote command's own 100 and 111 pass through unchanged.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler
for k in server alice bob; do newkey $k; done
cat >"$T/conf" <<EOC
server-key $T/server
user alice run,sftp:rw $(publine "$T/alice.pub")
user bob run $(publine "$T/bob.pub")
command exit100 perm=run -- /bin/sh -c "exit 100"
command exit111 perm=run -- /bin/sh -c "exit 111"
EOC
# hc USER SERVER-ARGS COMMAND...: $rc, $T/err.
hc() {
	_u=$1 _s=$2
	shift 2
	limit 10 "$HC" -k "$T/$_u" -u "$_u" -p "$T/server.pub" \
		--exec "$HD -s -f $T/conf $_s 2>/dev/null" "$@" </dev/null >"$T/out" 2>"$T/err"
	rc=$?
}
expect() { # NAME CODE PATTERN
	if [ "$rc" -eq "$2" ] && { [ -z "$3" ] || grep -q -e "$3" "$T/err"; }; then
		ok "$1"
	else
		echo "# exit $rc: $(head -c 300 "$T/err" | tr '\n' '|')"
		fail "$1"
	fi
}
hc alice sftp tunnel
expect "sftp without a root: tunnel prints why, exit 255" 255 \
	"the server ended the session: sftp: no root directory"
hc bob "sftp $T" tunnel
expect "sftp without permission: tunnel prints why, exit 255" 255 \
	"user bob lacks permission sftp:ro or sftp:rw"
hc alice cmd run exit100
expect "a remote command's 100 passes through" 100 ""
hc alice cmd run exit111
expect "a remote command's 111 passes through" 111 ""

sed "s|^server-key .*|server-key $T/nokey|" "$T/conf" >"$T/nokey.conf"
"$HD" -n -f "$T/nokey.conf" 2>"$T/err"
rc=$?
expect "-n: a server key that does not load: file:line, 100" 100 \
	"$T/nokey.conf:1: server-key: $T/nokey"
limit 10 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/nokey.conf cmd 2>/dev/null" run exit100 </dev/null >"$T/out" 2>"$T/err"
rc=$?
expect "server key missing: the client shows the server's refusal, 255" 255 \
	"server refused (unauthenticated message): the server is misconfigured"

# -p given the private key: pointed at the .pub.
limit 10 "$HC" -k "$T/alice" -u alice -p "$T/server" --exec true ping \
	</dev/null >"$T/out" 2>"$T/err"
rc=$?
expect "-p PRIVATE-KEY: points at the .pub, 255" 255 "is a private key: pin the public one, -p $T/server.pub"

# keygen makes missing directories (0700) and advises by key kind.
"$HC" keygen "$T/fresh/etc/handler/server_key" >"$T/out" 2>"$T/err"
rc=$?
expect "keygen: server key in a missing dir, server-key advice" 0 "put \`server-key $T/fresh/etc/handler/server_key\`"
check "keygen: made directories are 0700" test "$(stat -c %a "$T/fresh/etc/handler")" = 700
"$HC" keygen "$T/home/.config/handler/id_ed25519" >"$T/out" 2>"$T/err"
rc=$?
expect "keygen: user key in a missing dir, user-item advice" 0 "user NAME PERMISSIONS <line>"
finish
