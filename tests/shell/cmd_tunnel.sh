#!/bin/sh
# handler-client tunnel: OpenSSH sftp talks to `handler -s sftp ROOT`
# through the secure layer (sftp -D runs the client, the client runs the
# server with --exec). A file goes up and comes back with the same hash.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler

for k in server alice bob carol; do newkey $k; done
mkdir -p "$T/root" "$T/local"
cat >"$T/conf" <<EOF
server-key $T/server
user alice run,sftp:rw $(publine "$T/alice.pub")
user bob run $(publine "$T/bob.pub")
user carol sftp:ro $(publine "$T/carol.pub")
EOF
kb=4096
case $BUILD in *asan*) kb=1024 ;; esac
head -c ${kb}K /dev/urandom >"$T/local/up.bin"
cat >"$T/batch" <<EOF
put $T/local/up.bin up.bin
ls -l
get up.bin $T/local/down.bin
rm up.bin
EOF
start=$(date +%s)
limit 60 sftp -q -b "$T/batch" -D "$HC -k $T/alice -u alice -p $T/server.pub --exec \"$HD -s -f $T/conf sftp $T/root 2>>$T/server.log\" tunnel" \
	>"$T/out" 2>"$T/err"
rc=$?
secs=$(($(date +%s) - start))
if grep -q 'protocol sftp is not built' "$T/server.log" 2>/dev/null; then
	ok "sftp -D through handler-client tunnel # SKIP the sftp module is not built yet"
elif [ "$rc" -eq 0 ] && [ -f "$T/local/down.bin" ] &&
	[ "$(sha "$T/local/down.bin")" = "$(sha "$T/local/up.bin")" ] && [ ! -e "$T/root/up.bin" ]; then
	ok "sftp -D through handler-client tunnel: put/get ${kb} KiB, hash equal (${secs}s)"
else
	echo "# exit $rc; $(head -c 400 "$T/err" | tr '\n' '|')" >&2
	echo "# server: $(tail -n 5 "$T/server.log" 2>/dev/null | tr '\n' '|')" >&2
	fail "sftp -D through handler-client tunnel: put/get, hash equal"
fi

# The tunnel with a wrong pinned server key carries nothing.
limit 30 sftp -q -b "$T/batch" -D "$HC -k $T/alice -u alice -p $T/alice.pub --exec \"$HD -s -f $T/conf sftp $T/root 2>>$T/server.log\" tunnel" \
	>"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -e "$T/root/up.bin" ]; then
	ok "tunnel refused with a wrong pinned server key"
else
	echo "# exit $rc; $(head -c 300 "$T/err" | tr '\n' '|')" >&2
	fail "tunnel refused with a wrong pinned server key"
fi

# sftp -D through the tunnel as USER with batch FILE: $rc.
tsftp() {
	limit 30 sftp -q -b "$2" -D "$HC -k $T/$1 -u $1 -p $T/server.pub --exec \"$HD -s -f $T/conf sftp $T/root 2>>$T/server.log\" tunnel" \
		>"$T/out" 2>"$T/err"
	rc=$?
}
echo "put $T/local/up.bin up2.bin" >"$T/batch2"
tsftp bob "$T/batch2"
if [ "$rc" -ne 0 ] && [ ! -e "$T/root/up2.bin" ]; then
	ok "tunnel: a user without sftp permission is refused"
else
	fail "tunnel: a user without sftp permission is refused"
fi
tsftp carol "$T/batch2"
if [ "$rc" -ne 0 ] && [ ! -e "$T/root/up2.bin" ]; then
	ok "tunnel: sftp:ro user cannot write"
else
	fail "tunnel: sftp:ro user cannot write"
fi
cp "$T/local/up.bin" "$T/root/ro.bin"
echo "get ro.bin $T/local/ro.bin" >"$T/batch3"
tsftp carol "$T/batch3"
if [ "$rc" -eq 0 ] && [ "$(sha "$T/local/ro.bin")" = "$(sha "$T/root/ro.bin")" ]; then
	ok "tunnel: sftp:ro user can read"
else
	echo "# exit $rc; $(head -c 300 "$T/err" | tr '\n' '|')" >&2
	fail "tunnel: sftp:ro user can read"
fi
finish
