#!/bin/sh
# cmd under sshd: a real sshd on loopback runs `handler cmd --ssh-user
# alice` as the forced command of a key; ssh's command line is the
# request. A permitted command runs with its output and exit status, a
# forbidden one is refused, caps works. Skipped without sshd or as non-root.
. tests/lib.sh
HD=$BIN/handler
SSHD=/usr/sbin/sshd
if [ ! -x "$SSHD" ] || [ "$(id -u)" -ne 0 ] || ! command -v ssh >/dev/null; then
	ok "cmd_sshd # SKIP needs root, sshd and ssh"
	finish
fi
newkey alice
newkey server
ssh-keygen -q -t ed25519 -N '' -f "$T/hostkey" </dev/null || exit 111
cat >"$T/conf" <<EOF
user alice run $(publine "$T/server.pub")
command echo perm=run args=8 -- /bin/echo
command fail perm=run -- /bin/sh -c "echo oops >&2; exit 3"
command secret perm=admin -- /bin/true
EOF
echo "command=\"$HD -q -f $T/conf cmd --ssh-user alice\",no-pty $(cat "$T/alice.pub")" >"$T/authorized_keys"
PORT=$(free_port)
cat >"$T/sshd_config" <<EOF
Port $PORT
ListenAddress 127.0.0.1
HostKey $T/hostkey
AuthorizedKeysFile $T/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
UsePAM no
PidFile none
EOF
mkdir -p /run/sshd
bg "$SSHD" -D -e -f "$T/sshd_config" 2>"$T/sshd.log"
wait_tcp "$PORT" || { fail "sshd did not start: $(tr '\n' '|' <"$T/sshd.log")"; finish; }
s() {
	limit 20 ssh -i "$T/alice" -p "$PORT" -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes \
		root@127.0.0.1 "$@" </dev/null
}
out=$(s "echo 'hello  world' x" 2>"$T/err"); rc=$?
[ "$rc" -eq 0 ] && [ "$out" = "hello  world x" ] &&
	ok "sshd forced command: echo runs, quoted words kept" ||
	fail "sshd forced command: echo (rc $rc, out '$out', $(tr '\n' '|' <"$T/err"))"
s fail >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 3 ] && grep -q oops "$T/err" &&
	ok "sshd forced command: exit status 3 and stderr come back" ||
	fail "sshd forced command: exit status (rc $rc)"
s secret >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 100 ] && grep -q 'permission denied' "$T/err" &&
	ok "sshd forced command: forbidden command refused (100, permission denied)" ||
	fail "sshd forced command: forbidden refused (rc $rc, $(tr '\n' '|' <"$T/err"))"
s caps >"$T/out" 2>"$T/err"; rc=$?
[ "$rc" -eq 0 ] && grep -q '"user":"alice"' "$T/out" &&
	ok "sshd forced command: caps as alice" ||
	fail "sshd forced command: caps (rc $rc)"
SSH_CONNECTION= "$HD" -q -f "$T/conf" cmd --ssh-user alice </dev/null >"$T/out" 2>&1; rc=$?
[ "$rc" -eq 100 ] &&
	ok "--ssh-user outside sshd (no SSH_CONNECTION) refused" ||
	fail "--ssh-user outside sshd refused (rc $rc)"
finish
