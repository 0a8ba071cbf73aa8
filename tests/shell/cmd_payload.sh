#!/bin/sh
# A large payload through a command's stdin and back: 100 MB of random
# bytes through `cat` on the server (20 MB under ASan), hashes equal.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command cat perm=run payload=yes time=120 output=200M -- /bin/cat
command nopay perm=run -- /bin/cat
EOF
mb=100
case $BUILD in *asan*) mb=20 ;; esac
head -c ${mb}M /dev/urandom >"$T/in"
want=$(sha "$T/in")
start=$(date +%s)
limit 90 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run --stdin cat \
	<"$T/in" >"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
if [ "$rc" -eq 0 ] && [ "$(sha "$T/out")" = "$want" ]; then
	ok "$mb MB payload through cat and back, sha256 equal (${secs}s)"
else
	echo "# exit $rc, $(wc -c <"$T/out") bytes back; $(head -c 300 "$T/err")" >&2
	fail "$mb MB payload through cat and back, sha256 equal"
fi

printf 'abc' >"$T/small"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run --stdin cat \
	<"$T/small" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = abc ]; then
	ok "small payload"
else
	fail "small payload"
fi
: >"$T/empty"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run --stdin cat \
	<"$T/empty" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && [ ! -s "$T/out" ]; then
	ok "empty payload"
else
	fail "empty payload"
fi

# A command without payload=yes refuses a payload.
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" run --stdin nopay \
	<"$T/small" >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 255 ] && grep -q 'handler-client: error:' "$T/err"; then
	ok "payload refused for a command without payload=yes"
else
	echo "# exit $rc; $(head -c 300 "$T/err")" >&2
	fail "payload refused for a command without payload=yes"
fi
finish
