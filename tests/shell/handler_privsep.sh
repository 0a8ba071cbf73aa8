#!/bin/sh
# Privilege separation (docs/secure.md): handler started as root with
# `run-as` parses no network byte as root. The handshake runs as the run-as
# account without the server key; each user's session runs as the account
# the conf maps it to (account=), so alice and bob cannot touch each
# other's files or the key. Needs root: three throw-away accounts are made
# (useradd -M -r) and removed at the end.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

skip() {
	ok "privsep # SKIP $1"
	finish
}
if [ ! -x "$HD" ] || [ ! -x "$HC" ]; then
	fail privsep "no $HD or $HC (build with make BUILD=$BUILD)"
	finish
fi
[ "$(id -u)" = 0 ] || skip "needs root (makes accounts, drops privileges)"
for c in useradd userdel setpriv sftp pgrep; do
	command -v $c >/dev/null 2>&1 || skip "no $c"
done

R=hpr$$
A=hpa$$
B=hpb$$
for u in $R $A $B; do
	useradd -M -r -s /usr/sbin/nologin -d /nonexistent "$u" ||
		skip "useradd $u failed"
done
cleanup() {
	for u in $R $A $B; do userdel "$u" 2>/dev/null; done
	t_cleanup
}
trap cleanup EXIT
uid() { id -u "$1"; }
gid() { id -g "$1"; }

# The accounts must reach the sftp roots below $T (mktemp made it 0700).
chmod 711 "$T"
mkdir -m 755 "$T/roots"
mkdir -m 700 "$T/roots/alice" "$T/roots/bob" "$T/roots/runas"
chown "$A:$(gid $A)" "$T/roots/alice"
chown "$B:$(gid $B)" "$T/roots/bob"
chown "$R:$(gid $R)" "$T/roots/runas"
echo "bob's secret" >"$T/roots/bob/secret.txt"
chown "$B:$(gid $B)" "$T/roots/bob/secret.txt"
chmod 600 "$T/roots/bob/secret.txt"

for k in server alice bob carol; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
run-as $R
user alice run,sftp:rw account=$A $(publine "$T/alice.pub")
user bob run,sftp:rw account=$B $(publine "$T/bob.pub")
user carol run $(publine "$T/carol.pub")
command id perm=run -- /usr/bin/id -u
command cat perm=run args=1 -- /bin/cat --
sftp-root $T/roots rw
EOF

# ---- the key: root's, 0600, nobody else's ----
if [ "$(stat -c '%u %a' "$T/server")" = "0 600" ] &&
	! setpriv --reuid="$(uid $A)" --regid="$(gid $A)" --clear-groups \
		cat "$T/server" >/dev/null 2>&1 &&
	! setpriv --reuid="$(uid $B)" --regid="$(gid $B)" --clear-groups \
		cat "$T/server" >/dev/null 2>&1 &&
	! setpriv --reuid="$(uid $R)" --regid="$(gid $R)" --clear-groups \
		cat "$T/server" >/dev/null 2>&1; then
	ok "server key 0600 root, unreadable to the three accounts"
else
	fail "server key 0600 root, unreadable to the three accounts"
fi

# ---- the conf ----
check "-n -s: conf with run-as and account= loads" \
	limit 10 "$HD" -q -n -s -f "$T/conf"
sed "s/^run-as .*/run-as nosuch$$/" "$T/conf" >"$T/conf.bad"
limit 10 "$HD" -n -f "$T/conf.bad" 2>"$T/err"
rc=$?
if [ $rc -eq 100 ] && grep -q "run-as \"nosuch$$\": no such account" "$T/err"; then
	ok "unknown run-as account: exit 100, named"
else
	fail "unknown run-as account: exit 100, named" "exit $rc: $(cat "$T/err")"
fi
grep -v '^run-as' "$T/conf" >"$T/conf.norunas"
limit 10 "$HD" -n -f "$T/conf.norunas" 2>"$T/err"
rc=$?
if [ $rc -eq 100 ] && grep -q "account= needs run-as" "$T/err"; then
	ok "account= without run-as as root: exit 100"
else
	fail "account= without run-as as root: exit 100" "exit $rc: $(cat "$T/err")"
fi
printf 'command id perm=run -- /usr/bin/id -u\n' >"$T/conf.root"
limit 10 "$HD" -n -f "$T/conf.root" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && grep -q "warning: .*running as root without run-as" "$T/err"; then
	ok "root without run-as: -n warns, still loads"
else
	fail "root without run-as: -n warns, still loads" "exit $rc: $(cat "$T/err")"
fi

# hc USER ARGS...: one cmd client against a fresh server as root.
hc() {
	_u=$1
	shift
	limit 20 "$HC" -k "$T/$_u" -u "$_u" -p "$T/server.pub" \
		--exec "$HD -v -s -f $T/conf cmd 2>>$T/server.log" "$@"
}

# ---- commands run as the user's account ----
out=$(hc alice run id 2>/dev/null)
check "alice's command runs as her account (uid $(uid $A))" \
	[ "$out" = "$(uid $A)" ]
out=$(hc bob run id 2>/dev/null)
check "bob's command runs as his account (uid $(uid $B))" \
	[ "$out" = "$(uid $B)" ]
out=$(hc carol run id 2>/dev/null)
check "carol (no account=) runs as run-as (uid $(uid $R))" \
	[ "$out" = "$(uid $R)" ]
if hc alice run cat "$T/server" >"$T/out" 2>"$T/err"; then
	fail "alice cannot read the server key" "$(cat "$T/out")"
elif grep -q "Permission denied" "$T/err" && ! grep -q PRIVATE "$T/out"; then
	ok "alice cannot read the server key"
else
	fail "alice cannot read the server key" "$(cat "$T/err")"
fi
if hc alice run cat "$T/roots/bob/secret.txt" >"$T/out" 2>"$T/err" ||
	grep -q secret "$T/out"; then
	fail "alice cannot read bob's file"
else
	ok "alice cannot read bob's file"
fi
if grep -q "privsep: user alice runs as $A (uid $(uid $A))" "$T/server.log" &&
	grep -q "privsep: handshake as $R (uid $(uid $R))" "$T/server.log"; then
	ok "log: handshake as run-as, session as the account"
else
	fail "log: handshake as run-as, session as the account"
fi
# The monitor checked the handed-over state and alice's signature itself
# (unit/test_secure_handoff has the refusals) before her session began.
if grep -q "privsep: monitor verified user alice" "$T/server.log" &&
	grep -q "privsep: monitor verified user carol" "$T/server.log" &&
	[ "$(grep -c "privsep: monitor verified user" "$T/server.log")" = \
		"$(grep -c "privsep: user .* runs as" "$T/server.log")" ]; then
	ok "log: the monitor verified each user before the session"
else
	fail "log: the monitor verified each user before the session" \
		"$(grep privsep "$T/server.log")"
fi

# ---- sftp: each user writes their own root only ----
printf 'data\n' >"$T/up.txt"
# sftp_as USER BATCH: OpenSSH's sftp through the secure layer.
sftp_as() {
	limit 30 sftp -D "$HC -k $T/$1 -u $1 -p $T/server.pub --exec '$HD -s -f $T/conf sftp 2>>$T/server.log' tunnel" \
		-b "$2" >"$T/sftp.out" 2>&1
}
printf 'put %s alice/a.txt\n' "$T/up.txt" >"$T/b1"
if sftp_as alice "$T/b1" && [ "$(stat -c %U "$T/roots/alice/a.txt")" = "$A" ]; then
	ok "alice writes her root (file owned by $A)"
else
	fail "alice writes her root" "$(cat "$T/sftp.out")"
fi
printf 'put %s bob/a.txt\n' "$T/up.txt" >"$T/b2"
if ! sftp_as alice "$T/b2" && [ ! -e "$T/roots/bob/a.txt" ]; then
	ok "alice cannot write bob's root"
else
	fail "alice cannot write bob's root"
fi
printf 'get bob/secret.txt %s\n' "$T/got.txt" >"$T/b3"
if ! sftp_as alice "$T/b3" && [ ! -s "$T/got.txt" ]; then
	ok "alice cannot read bob's files"
else
	fail "alice cannot read bob's files"
fi
printf 'put %s bob/b.txt\n' "$T/up.txt" >"$T/b4"
if sftp_as bob "$T/b4" && [ "$(stat -c %U "$T/roots/bob/b.txt")" = "$B" ]; then
	ok "bob writes his root (file owned by $B)"
else
	fail "bob writes his root" "$(cat "$T/sftp.out")"
fi
printf 'put %s alice/b.txt\n' "$T/up.txt" >"$T/b5"
if ! sftp_as bob "$T/b5" && [ ! -e "$T/roots/alice/b.txt" ]; then
	ok "bob cannot write alice's root"
else
	fail "bob cannot write alice's root"
fi

# ---- plain sftp as root: the module runs as run-as ----
printf 'put %s runas/p.txt\n-put %s alice/p.txt\n' "$T/up.txt" "$T/up.txt" >"$T/b6"
limit 30 sftp -D "$HD -f $T/conf sftp" -b "$T/b6" >"$T/sftp.out" 2>&1
if [ "$(stat -c %U "$T/roots/runas/p.txt" 2>/dev/null)" = "$R" ] &&
	[ ! -e "$T/roots/alice/p.txt" ]; then
	ok "plain sftp as root runs as run-as"
else
	fail "plain sftp as root runs as run-as" "$(cat "$T/sftp.out")"
fi

# ---- the process that reads the handshake is not root ----
# A client that connects and says nothing: the handshake waits, so its
# process can be looked at; the monitor above it is root and reads
# nothing from the client.
mkfifo "$T/fifo"
bg sh -c "$HD -s -f $T/conf cmd <$T/fifo >/dev/null 2>$T/hs.log; echo \$? >$T/hs.rc"
sh_pid=$T_LASTPID
exec 3>"$T/fifo"
# sh -> handler (the monitor) -> the handshake process.
child() { pgrep -P "$1" | head -n 1; }
wait_until [ -n "$(child "$sh_pid")" ]
mon=$(child "$sh_pid")
[ -n "$mon" ] && wait_until [ -n "$(child "$mon")" ]
pid=$([ -n "$mon" ] && child "$mon")
huid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$pid/status" 2>/dev/null)
muid=$(awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$mon/status" 2>/dev/null)
r=$(uid $R)
if [ "$huid" = "$r $r $r $r" ] && [ "$muid" = "0 0 0 0" ]; then
	ok "handshake process runs as run-as (all four uids), monitor as root"
else
	fail "handshake process runs as run-as" "child $pid: $huid; monitor: $muid"
fi
exec 3>&-
wait_until test -s "$T/hs.rc"
if [ "$(cat "$T/hs.rc")" = 111 ] &&
	grep -q "done .*refused exit=111" "$T/hs.log"; then
	ok "client gone during the handshake: exit 111, one done line"
else
	fail "client gone during the handshake" "$(cat "$T/hs.rc" "$T/hs.log")"
fi

# Under ASan/UBSan every process (monitor, handshake, session) must end
# clean: no leak, no error report in any log.
if cat "$T"/*.log 2>/dev/null | grep -q "Sanitizer\|runtime error"; then
	fail "no sanitizer report" "$(cat "$T"/*.log | grep -m 3 "Sanitizer\|runtime error")"
else
	ok "no sanitizer report"
fi

finish
