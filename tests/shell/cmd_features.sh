#!/bin/sh
# cmd features of issue 10 end to end, through handler-client and a real
# server: version 2 agreed (batch --json shows the time), batch --json
# (one object per request: exit, signal, error, bands), payload=SIZE
# enforced, cmd-hide-forbidden in caps and help.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run,cat $(publine "$T/alice.pub")
command echo perm=run args=8 -- /bin/echo
command fail perm=run -- /bin/sh -c "echo oops >&2; exit 3"
command cat perm=cat payload=1K -- /bin/cat
command secret perm=admin -- /bin/true
EOF
sed '/^command secret/a cmd-hide-forbidden yes' "$T/conf" >"$T/hide.conf"
hc() { # CONF ARGS...
	_c=$1
	shift
	limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
		--exec "$HD -s -f $_c cmd 2>>$T/server.log" "$@"
}

printf 'echo hi there\nfail\nsecret\nnosuch x\n' >"$T/batch"
hc "$T/conf" batch --json <"$T/batch" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && python3 - "$T/out" <<'EOF'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
r = [json.loads(l) for l in lines]
assert len(r) == 4, r
assert [x["id"] for x in r] == [1, 2, 3, 4]
a, b, c, d = r
assert a["argv"] == ["echo", "hi", "there"] and a["exit"] == 0
assert a["stdout"] == "hi there\n" and a["stderr"] == "" and a["error"] is None
assert a["status"] == 0 and isinstance(a["ms"], int), a
assert b["exit"] == 3 and b["status"] == 3 and b["stderr"] == "oops\n", b
assert c["exit"] is None and c["error"]["code"] == 2, c
assert c["error"]["name"] == "permission denied" and c["status"] == 255
assert d["error"]["code"] == 1 and d["ms"] is None, d
EOF
then
	ok "batch --json: one object per request, in order (exit, stderr, errors, ms from version 2)"
else
	echo "# rc $rc: $(head -c 600 "$T/out" "$T/err" | tr '\n' '|')" >&2
	fail "batch --json: one object per request, in order"
fi

if hc "$T/conf" run version 2>/dev/null | grep -q '(cmd protocol 2)'; then
	ok "handler-client and handler agree on cmd protocol version 2"
else
	fail "handler-client and handler agree on cmd protocol version 2"
fi

head -c 1024 /dev/zero >"$T/k1"
head -c 1025 /dev/zero >"$T/k1plus"
n=$(hc "$T/conf" run -i cat <"$T/k1" 2>"$T/err" | wc -c)
rc=$?
hc "$T/conf" run -i cat <"$T/k1plus" >"$T/out" 2>"$T/err2"
rc2=$?
if [ "$n" -eq 1024 ] && [ "$rc2" -ne 0 ] && [ "$rc2" -ne 124 ] &&
	grep -q 'payload limit of 1024 bytes exceeded' "$T/err2"; then
	ok "payload=1K: 1024 bytes pass, 1025 are refused with a clear error (exit $rc2)"
else
	echo "# n=$n rc2=$rc2: $(cat "$T/err" "$T/err2" | tr '\n' '|')" >&2
	fail "payload=1K: 1024 bytes pass, 1025 are refused"
fi

hc "$T/conf" caps >"$T/caps" 2>"$T/err"
hc "$T/hide.conf" caps >"$T/hcaps" 2>>"$T/err"
hc "$T/hide.conf" run help >"$T/help" 2>>"$T/err"
hc "$T/hide.conf" run secret >"$T/out" 2>"$T/err3"
rc=$?
if grep -q '"name":"secret"' "$T/caps" && ! grep -q secret "$T/hcaps" &&
	grep -q '"name":"echo"' "$T/hcaps" && ! grep -q secret "$T/help" &&
	grep -q '^echo' "$T/help" && [ "$rc" -eq 255 ] &&
	grep -q 'unknown command' "$T/err3"; then
	ok "cmd-hide-forbidden: caps and help leave out secret, running it says unknown command"
else
	echo "# rc=$rc $(cat "$T/err" "$T/err3" | tr '\n' '|')" >&2
	fail "cmd-hide-forbidden: caps and help leave out what alice may not run"
fi

if python3 -c '
import json, sys
c = json.load(open(sys.argv[1]))
e = [x for x in c["commands"] if x["name"] == "help"][0]
assert e["synopsis"] == [{"name": "COMMAND", "optional": True, "repeat": False}]
assert c["versions"] == [1, 2] and c["version"] == 1
' "$T/caps"; then
	ok "caps: structured synopsis and the versions list"
else
	fail "caps: structured synopsis and the versions list"
fi
finish
