#!/bin/sh
# README.md's "Commands over the secure layer" examples, in order, with
# this test's paths: /etc/handler -> $T/etc/handler, ~ -> $T/home,
# /srv/public -> $T/public, port 2222 -> a free one. The conf is the
# README's own block, with those paths and alice's real key line.
. tests/lib.sh
HC=$BIN/handler-client
HD=$BIN/handler
export HOME=$T/home PATH=$BIN:$PATH
E=$T/etc/handler
mkdir -p "$T/public" && echo hello-file >"$T/public/f.txt"

check "README: keygen server key into a missing /etc/handler" sh -c "handler-client keygen $E/server_key >/dev/null 2>&1"
handler-client keygen ~/.config/handler/id_ed25519 >"$T/alice.line" 2>/dev/null
check "README: keygen user key into a missing ~/.config/handler" test -s "$T/alice.line"

# The README's conf block, with this test's paths and alice's key line.
awk '/^Then a configuration/ { on = 1; next } on && /^    / { print substr($0, 5); got = 1; next } on && got { exit }' README.md |
	sed "s|/etc/handler|$E|; s|ssh-ed25519 AAAAC3Nza\.\.\.   alice@laptop|$(cat "$T/alice.line")|; s|/srv/public|$T/public|" >"$E/handler.conf"
check "README: the conf names sftp-root and sftp:ro" grep -q "^sftp-root $T/public ro" "$E/handler.conf"
check "README: handler -n accepts the conf" handler -n -f "$E/handler.conf"

port=$(free_port)
bg sh -c "exec tcpserver 127.0.0.1 $port handler -s -f $E/handler.conf cmd 2>$T/server.log"
wait_tcp "$port"
out=$(limit 10 tcpclient 127.0.0.1 "$port" handler-client -u alice -p "$E/server_key.pub" run echo hello 2>/dev/null)
check "README: tcpclient ... run echo hello" test "$out" = hello
out=$(echo streamed | limit 10 tcpclient 127.0.0.1 "$port" handler-client -u alice -p "$E/server_key.pub" run -i cat 2>/dev/null)
check "README: run -i cat < file" test "$out" = streamed
limit 10 tcpclient 127.0.0.1 "$port" handler-client -u alice -p "$E/server_key.pub" caps >"$T/caps" 2>/dev/null
check "README: caps prints JSON" grep -q '"echo"' "$T/caps"
out=$(limit 10 handler-client -q -u alice -p "$E/server_key.pub" --exec "handler -s -f $E/handler.conf cmd" run echo hi)
check "README: --exec run" test "$out" = hi

# The sftp tunnel, as written (with the conf's path).
cp "$E/server_key.pub" "$T/server_key.pub"
(cd "$T" && printf 'get f.txt got.txt\n' | limit 20 sftp -b - -D "handler-client -u alice -p server_key.pub --exec 'handler -s -f $E/handler.conf sftp' tunnel") >/dev/null 2>"$T/sftp.err"
check "README: sftp -D ... tunnel fetches a file" cmp -s "$T/public/f.txt" "$T/got.txt"
finish
