#!/bin/sh
# Every program answers --help/-h (usage on stdout, exit 0) and
# --version/-V; handler-client -q quietens a server it starts with --exec.
. tests/lib.sh

for p in handler handler-client msgpipe; do
	for a in -h --help; do
		"$BIN/$p" $a >"$T/out" 2>"$T/err"
		rc=$?
		if [ $rc -eq 0 ] && grep -q "^usage: $p " "$T/out" && [ ! -s "$T/err" ]; then
			ok "$p $a: usage on stdout, exit 0"
		else
			fail "$p $a: usage on stdout, exit 0" "exit $rc"
		fi
	done
	for a in -V --version; do
		"$BIN/$p" $a >"$T/out" 2>"$T/err"
		rc=$?
		if [ $rc -eq 0 ] && grep -qE "^$p [0-9]+\.[0-9]+" "$T/out"; then
			ok "$p $a: version on stdout, exit 0"
		else
			fail "$p $a: version on stdout, exit 0" "exit $rc"
		fi
	done
done

# A mistake still goes to stderr with a non-zero exit.
"$BIN/handler" -Z >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && [ ! -s "$T/out" ] && grep -q usage "$T/err"; then
	ok "handler: a bad option prints usage on stderr, non-zero exit"
else
	fail "handler: a bad option prints usage on stderr, non-zero exit" "exit $rc"
fi

# -q: nothing from the server (its info lines) on the client's stderr.
for k in server alice; do newkey $k; done
cat >"$T/conf" <<EOC
server-key $T/server
user alice run $(publine "$T/alice.pub")
command echo perm=run args=4 -- /bin/echo
EOC
srv="$BIN/handler -s -f $T/conf cmd"
limit 10 "$BIN/handler-client" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$srv" run echo hi >"$T/out" 2>"$T/err"
if grep -q 'handler: info:' "$T/err"; then
	ok "without -q the --exec server's info lines show"
else
	fail "without -q the --exec server's info lines show"
fi
limit 10 "$BIN/handler-client" -q -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$srv" run echo hi >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -eq 0 ] && [ "$(cat "$T/out")" = hi ] && [ ! -s "$T/err" ]; then
	ok "handler-client -q quietens the --exec server"
else
	fail "handler-client -q quietens the --exec server" "exit $rc: $(head -c 200 "$T/err")"
fi
finish
