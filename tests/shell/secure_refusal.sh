#!/bin/sh
# The secure layer refuses, with a clear error and without running
# anything, every connection it cannot trust: unknown user, wrong user
# key, wrong pinned server key, one flipped byte anywhere (both directions,
# handshake and data), a replayed handshake, a truncated stream, an
# oversized frame, garbage instead of a hello. The command used touches a
# marker file, so "nothing executed" is checked directly.
# tests/shell/mitm.py sits between client and server for the tampering.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler
MITM="/usr/bin/python3 $TOP/tests/shell/mitm.py"

for k in server alice bob mallory; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
user bob run $(publine "$T/bob.pub")
command touch perm=run -- /usr/bin/touch $T/marker
limit handshake 2
limit idle 2
EOF

# client KEY USER PIN SERVER-COMMAND: `run touch` once; $rc, $T/out, $T/err.
client() {
	rm -f "$T/marker"
	: >"$T/server.log"
	limit 6 "$HC" -k "$T/$1" -u "$2" -p "$3" --exec "$4" run touch \
		>"$T/out" 2>"$T/err"
	rc=$?
}
server() { echo "$HD -s -f $T/conf cmd 2>>$T/server.log"; }
# through MITM-OPTIONS...: alice's `run touch` through the man in the middle.
through() { client alice alice "$T/server.pub" "exec $MITM $* -- $(server)"; }
show() {
	echo "# exit $rc; client: $(head -c 300 "$T/err" | tr '\n' '|')" >&2
	echo "# server: $(head -c 300 "$T/server.log" | tr '\n' '|')" >&2
}
# The client failed by itself (255, not killed by the time limit)
# and said why on stderr.
client_refused() { [ "$rc" -eq 255 ] && grep -qi "error" "$T/err"; }
# ... and the command did not run.
refused() { client_refused && [ ! -e "$T/marker" ]; }
# ... and the server logged why.
refused_logged() { refused && grep -q 'handler: error:' "$T/server.log"; }
expect() { # NAME CONDITION...
	_n=$1
	shift
	if "$@"; then ok "$_n"; else show; fail "$_n"; fi
}
in_log() { grep -qiE "$1" "$T/server.log"; }

# A clean session first, recorded both ways: the offsets below come from it.
through --record "c2s:$T/c2s" --record "s2c:$T/s2c"
if [ "$rc" -ne 0 ] || [ ! -e "$T/marker" ]; then
	show
	fail "clean session through the proxy runs the command"
	finish
fi
ok "clean session through the proxy runs the command"
$MITM --frames c2s "$T/c2s" >"$T/c2s.seg"
$MITM --frames s2c "$T/s2c" >"$T/s2c.seg"
# seg FILE N: "OFFSET LENGTH" of the N-th frame (1 = the handshake frame).
seg() { awk -v n="$2" '$1 == "frame" { if (++i == n) print $2, $3 }' "$1"; }
nframes() { grep -c '^frame' "$1"; }
set -- $(seg "$T/c2s.seg" 1)
c_auth=$1 c_auth_len=$2
set -- $(seg "$T/c2s.seg" 2)
c_req=$1 c_req_len=$2
set -- $(seg "$T/s2c.seg" 1)
s_acc=$1 s_acc_len=$2
set -- $(seg "$T/s2c.seg" 2)
s_data=$1 s_data_len=$2
set -- $(seg "$T/s2c.seg" "$(($(nframes "$T/s2c.seg") - 1))")
s_last=$1 s_last_len=$2
set -- $(seg "$T/s2c.seg" "$(nframes "$T/s2c.seg")")
s_final=$1
if [ -z "$c_req" ] || [ -z "$s_data" ]; then
	cat "$T/c2s.seg" "$T/s2c.seg" >&2
	fail "recorded streams have handshake and data frames"
	finish
fi
echo "# c2s: auth frame at $c_auth ($c_auth_len), request at $c_req ($c_req_len); s2c: accept at $s_acc, data at $s_data, last data at $s_last ($s_last_len), final at $s_final"

# --- identities -----------------------------------------------------------
client mallory mallory "$T/server.pub" "$(server)"
expect "unknown user refused, nothing executed" refused
in_log mallory || { show; fail "unknown user logged"; }
client bob alice "$T/server.pub" "$(server)"
expect "wrong user key (another user's) refused, nothing executed" refused
client mallory alice "$T/server.pub" "$(server)"
expect "wrong user key (unknown key) refused, nothing executed" refused
client alice alice "$T/bob.pub" "$(server)"
expect "wrong pinned server key refused, nothing executed" refused
client alice alice "$(publine "$T/mallory.pub")" "$(server)"
expect "wrong pinned server key line refused, nothing executed" refused

# --- one flipped byte -------------------------------------------------------
# Before the server has checked the user's signature nothing may run.
for off in 0 4 5 8 20 50 73 74 97 $((c_auth + 3)) $((c_auth + 10)) \
	$((c_auth + c_auth_len - 1)) $((c_req + 3)) $((c_req + 8)) \
	$((c_req + c_req_len - 1)); do
	through --flip "c2s:$off"
	expect "flipped c2s byte $off refused, logged, nothing executed" refused_logged
done
# The server's hello: the client must refuse before it authenticates.
for off in 0 5 8 20 50 100 150 169; do
	through --flip "s2c:$off"
	expect "flipped s2c byte $off (server hello) refused, nothing executed" refused
done
# After the server hello the request may already be legitimately on its
# way; the client must still refuse to report success.
for off in 170 193 $((s_acc + 3)) $((s_acc + 10)) $((s_acc + s_acc_len - 1)) $((s_data + 3)) \
	$((s_data + 8)) $((s_data + s_data_len - 1)) $((s_last + 8)); do
	through --flip "s2c:$off"
	expect "flipped s2c byte $off refused by the client" client_refused
done

# --- replay -------------------------------------------------------------------
rm -f "$T/marker"
: >"$T/server.log"
limit 10 "$HD" -s -f "$T/conf" cmd <"$T/c2s" >"$T/out" 2>>"$T/server.log"
rc=$?
echo "handler: exit $rc" >"$T/err"
if { [ "$rc" -eq 100 ] || [ "$rc" -eq 111 ]; } && [ ! -e "$T/marker" ] && [ -s "$T/server.log" ]; then
	ok "replayed client stream refused by a new server, nothing executed"
else
	show
	fail "replayed client stream refused by a new server, nothing executed"
fi
client alice alice "$T/server.pub" "cat $T/s2c"
expect "replayed server stream refused by the client" refused

# --- truncation -------------------------------------------------------------
through --cut "c2s:$((c_req + c_req_len / 2))"
expect "c2s cut inside the request: nothing executed" refused
in_log 'trunc|before|end of|eof|closed' || { show; fail "c2s cut logged by the server"; }
through --cut "c2s:$c_req"
expect "c2s cut before the request: nothing executed" refused
through --cut "s2c:$((s_data + s_data_len / 2))"
expect "s2c cut inside a reply frame: client reports it" client_refused
through --cut "s2c:$s_last"
if client_refused && grep -qiE 'trunc|final|closed|end' "$T/err"; then
	ok "s2c cut before the last reply frame: client reports truncation"
else
	show
	fail "s2c cut before the last reply frame: client reports truncation"
fi
# After the request's final (EXIT) frame the client has all it asked
# for; whether it still waits for the server's FINAL is only noted.
through --cut "s2c:$s_final"
echo "# s2c cut just before the server's FINAL: client exit $rc ($(head -c 100 "$T/err" | tr '\n' ' '))"

# --- oversized frames ---------------------------------------------------------
through --set "c2s:$c_req:7fffffff"
expect "oversized data frame refused, nothing executed" refused
in_log 'oversized|too (big|large)|limit' || { show; fail "oversized frame logged"; }
through --set "c2s:$c_auth:00100000"
expect "oversized handshake frame refused, nothing executed" refused
through --set "s2c:$s_data:7fffffff"
expect "oversized frame to the client refused" client_refused

# --- garbage instead of a hello ------------------------------------------------
for g in random ssh http zeros; do
	case $g in
	random) head -c 300 /dev/urandom >"$T/g" ;;
	ssh) printf 'SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n' >"$T/g" ;;
	http) printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' >"$T/g" ;;
	zeros) head -c 300 /dev/zero >"$T/g" ;;
	esac
	rm -f "$T/marker"
	start=$(date +%s)
	limit 10 "$HD" -s -f "$T/conf" cmd <"$T/g" >"$T/out" 2>"$T/server.log"
	rc=$?
	secs=$(($(date +%s) - start))
	if [ "$rc" -eq 100 ] && [ "$secs" -le 4 ] && [ -s "$T/server.log" ] && [ ! -e "$T/marker" ]; then
		ok "garbage ($g) instead of a hello: exit 100 in ${secs}s"
	else
		show
		fail "garbage ($g) instead of a hello: exit 100"
	fi
done
client alice alice "$T/server.pub" "printf 'SSH-2.0-OpenSSH_9.2\r\n'"
expect "garbage from the server: client refuses" client_refused
client alice alice "$T/server.pub" "true"
expect "server closes at once: client refuses" client_refused
finish
