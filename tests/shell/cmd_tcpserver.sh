#!/bin/sh
# cmd over TCP: handler under tcpserver, handler-client under tcpclient
# (UCSPI fds 6/7). The server log names the peer address, the user and the
# key fingerprint, and holds no secret key bytes.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice mallory; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command echo perm=run args=4 -- /bin/echo
command touch perm=run -- /usr/bin/touch $T/marker
command cat perm=run payload=yes output=64M -- /bin/cat
EOF

port=$(free_port)
bg tcpserver -R -H -l 0 -c 40 127.0.0.1 "$port" "$HD" -s -f "$T/conf" cmd 2>"$T/server.log"
if ! wait_tcp "$port"; then
	fail "tcpserver listening"
	finish
fi
tc() { # KEY USER ARGS...
	_k=$1
	_u=$2
	shift 2
	limit 20 tcpclient -R -H -l 0 127.0.0.1 "$port" \
		"$HC" -k "$T/$_k" -u "$_u" -p "$T/server.pub" "$@" >"$T/out" 2>"$T/err"
	rc=$?
}
show() { echo "# exit $rc; $(head -c 300 "$T/err" | tr '\n' '|')" >&2; }

tc alice alice run whoami
if [ "$rc" -eq 0 ] && grep -q alice "$T/out"; then ok "whoami over tcpserver"; else show; fail "whoami over tcpserver"; fi
tc alice alice run echo over tcp
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "over tcp" ]; then ok "echo over tcpserver"; else show; fail "echo over tcpserver"; fi
tc alice alice ping
if [ "$rc" -eq 0 ]; then ok "ping over tcpserver"; else show; fail "ping over tcpserver"; fi
tc alice alice run stat -p
if [ "$rc" -eq 0 ] && grep -q '^peer_ip=127.0.0.1$' "$T/out" && grep -q '^peer_proto=TCP$' "$T/out" &&
	grep -q '^peer_port=[0-9][0-9]*$' "$T/out"; then
	ok "stat -p shows the TCP peer (127.0.0.1)"
else
	show
	fail "stat -p shows the TCP peer (127.0.0.1)"
fi
tc mallory mallory run touch
if [ "$rc" -ne 0 ] && [ ! -e "$T/marker" ]; then ok "unknown user refused over tcpserver"; else show; fail "unknown user refused over tcpserver"; fi
# A payload over TCP (UCSPI fds 6/7 both ways at once).
mb=16
case $BUILD in *asan*) mb=4 ;; esac
head -c ${mb}M /dev/urandom >"$T/in"
limit 60 tcpclient -R -H -l 0 127.0.0.1 "$port" \
	"$HC" -k "$T/alice" -u alice -p "$T/server.pub" run --stdin cat <"$T/in" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(sha "$T/out")" = "$(sha "$T/in")" ]; then
	ok "$mb MB payload through cat over tcpserver, sha256 equal"
else
	show
	fail "$mb MB payload through cat over tcpserver, sha256 equal"
fi

# 20 clients at once: every one gets its own answer.
# (waits for these pids only: a bare `wait` would wait for tcpserver too)
i=1
pids=""
while [ $i -le 20 ]; do
	limit 30 tcpclient -R -H -l 0 127.0.0.1 "$port" \
		"$HC" -k "$T/alice" -u alice -p "$T/server.pub" run echo "c$i" >"$T/par.$i" 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
for p in $pids; do
	wait "$p"
done
i=1
good=0
while [ $i -le 20 ]; do
	[ "$(cat "$T/par.$i")" = "c$i" ] && good=$((good + 1))
	i=$((i + 1))
done
if [ $good -eq 20 ]; then
	ok "20 concurrent connections over tcpserver all answered"
else
	fail "20 concurrent connections over tcpserver all answered ($good of 20)"
fi

# A man in the middle on the TCP path (tests/shell/mitm.py connects to
# tcpserver and flips one byte of the client's hello): refused.
rm -f "$T/marker"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "exec /usr/bin/python3 $TOP/tests/shell/mitm.py --flip c2s:20 --tcp $port" run touch \
	>"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && [ ! -e "$T/marker" ] && grep -q 'handler-client: error:' "$T/err"; then
	ok "tampered byte on the TCP path refused, nothing executed"
else
	show
	fail "tampered byte on the TCP path refused, nothing executed"
fi
sleep 0.3

# The log: peer address, user, fingerprint; no secret bytes.
fp=$(ssh-keygen -l -E sha256 -f "$T/alice.pub" | cut -d' ' -f2)
if grep 127.0.0.1 "$T/server.log" | grep alice | grep -q -F -e "$fp" -e "${fp#SHA256:}"; then
	ok "log line has 127.0.0.1, user and key fingerprint"
else
	echo "# want $fp; log: $(tail -n 8 "$T/server.log" | tr '\n' '|')" >&2
	fail "log line has 127.0.0.1, user and key fingerprint"
fi
if grep 127.0.0.1 "$T/server.log" | grep -qi mallory; then
	ok "refusal logged with the peer address and user"
else
	fail "refusal logged with the peer address and user"
fi
cat >"$T/secret.py" <<'EOF'
import base64, sys
# The Ed25519 seed inside an unencrypted OpenSSH private key file.
def seed(path):
    body = "".join(l for l in open(path).read().splitlines() if "-----" not in l)
    b = base64.b64decode(body)
    assert b.startswith(b"openssh-key-v1\0")
    p = len(b"openssh-key-v1\0")
    def s():
        nonlocal p
        n = int.from_bytes(b[p:p + 4], "big"); p += 4
        v = b[p:p + n]; p += n
        return v
    s(); s(); s(); p += 4; s()  # cipher kdf kdfopts nkeys pubkey
    priv = s()
    q = 8
    def t():
        nonlocal q
        n = int.from_bytes(priv[q:q + 4], "big"); q += 4
        v = priv[q:q + n]; q += n
        return v
    t(); t()
    return t()[:32]
log = open(sys.argv[1], "rb").read()
for path in sys.argv[2:]:
    k = seed(path)
    for form in (k.hex().encode(), k.hex().upper().encode(), base64.b64encode(k).rstrip(b"="),
                 k.hex()[:16].encode(), base64.b64encode(k)[:16], k[:8]):
        if form in log:
            sys.exit("secret of %s in the log" % path)
EOF
if /usr/bin/python3 "$T/secret.py" "$T/server.log" "$T/server" "$T/alice" "$T/mallory"; then
	ok "no secret key bytes in the log"
else
	fail "no secret key bytes in the log"
fi
finish
