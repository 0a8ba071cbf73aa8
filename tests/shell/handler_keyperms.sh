#!/bin/sh
# Private keys others can read or write are refused with the file and its
# mode named, as OpenSSH refuses them: the server key (handler -s, and
# handler -n -s) and the client's key (handler-client -k).
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
EOF

check "0600 server key loads" limit 10 "$HD" -q -n -s -f "$T/conf"

chmod 644 "$T/server"
limit 10 "$HD" -n -s -f "$T/conf" 2>"$T/err"
rc=$?
if [ "$rc" -eq 100 ] && grep -q "permissions 0644 for $T/server are too open" "$T/err"; then
	ok "server key 0644: refused, exit 100, file and mode named"
else
	echo "# exit $rc: $(cat "$T/err")" >&2
	fail "server key 0644: refused, exit 100, file and mode named"
fi
chmod 600 "$T/server"

chmod 640 "$T/alice"
limit 10 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>/dev/null" ping >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -q "permissions 0640 for $T/alice are too open" "$T/err"; then
	ok "client key 0640: refused, file and mode named"
else
	echo "# exit $rc: $(cat "$T/err")" >&2
	fail "client key 0640: refused, file and mode named"
fi
chmod 600 "$T/alice"
if limit 10 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>/dev/null" ping >/dev/null; then
	ok "0600 client key works"
else
	fail "0600 client key works"
fi

finish
