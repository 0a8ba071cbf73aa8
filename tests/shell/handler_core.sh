#!/bin/sh
# handler's core: command line, configuration errors, the loop over pipes
# (plain with sftp, secure with cmd), timeouts, truncation, EPIPE, and the
# one log line per connection.
. tests/lib.sh
H=$BIN/handler
HC=$BIN/handler-client

# Waits (5 s at most) until FILE has a line matching PATTERN: a server's
# last log line may land just after its client exits.
wait_grep() {
	_i=0
	while [ $_i -lt 50 ] && ! grep -q -e "$2" "$1" 2>/dev/null; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# --- command line -----------------------------------------------------
expect_exit() { # NAME CODE GREP-PATTERN CMD...
	_n=$1 _c=$2 _p=$3
	shift 3
	limit 10 "$@" </dev/null >"$T/out" 2>"$T/err"
	_rc=$?
	if [ "$_rc" -eq "$_c" ] && grep -q -e "$_p" "$T/err"; then
		ok "$_n"
	else
		echo "# exit $_rc; stderr: $(head -c 400 "$T/err" | tr '\n' '|')"
		fail "$_n"
	fi
}
expect_exit "no protocol: usage, 100" 100 '^usage: handler' "$H"
expect_exit "unknown option: 100" 100 'unknown option -x' "$H" -x sftp
expect_exit "-f without file: 100" 100 'usage:' "$H" -f
expect_exit "unknown protocol: 100 with usage" 100 'unknown protocol "nosuch"' \
	"$H" nosuch
expect_exit "cmd without -s: 100" 100 'requires the secure layer' "$H" cmd
expect_exit "-s with the embedded default (no server-key): 100" 100 \
	'needs a server-key' "$H" -s cmd

# --- configuration errors ------------------------------------------------
printf 'limit idle 5\n\nfrobnicate yes\n' >"$T/bad.conf"
expect_exit "unknown keyword: file:line, 100" 100 "$T/bad.conf:3: unknown keyword" \
	"$H" -f "$T/bad.conf" sftp
printf 'command a -- /bin/true\ncommand a -- /bin/false\n' >"$T/dup.conf"
expect_exit "duplicate command: file:line, 100" 100 "$T/dup.conf:2: duplicate command" \
	"$H" -f "$T/dup.conf" sftp
printf 'user x - ssh-ed25519 AAAA!!!!\nlimit frame 1Q\n' >"$T/two.conf"
limit 10 "$H" -f "$T/two.conf" sftp </dev/null 2>"$T/err"
if [ $? -eq 100 ] && grep -q "two.conf:1: user x: bad base64" "$T/err" &&
	grep -q "two.conf:2: limit frame: bad value" "$T/err"; then
	ok "every bad line is reported"
else
	fail "every bad line is reported"
fi
expect_exit "missing conf file: 100" 100 "nonexistent.conf:0: cannot open" \
	"$H" -f "$T/nonexistent.conf" sftp
printf 'require-secure sftp\n' >"$T/reqsec.conf"
expect_exit "require-secure in conf: 100 without -s" 100 \
	'sftp requires the secure layer' "$H" -f "$T/reqsec.conf" sftp
# -n loads the server key too: the sample's, pointed at a test key.
newkey sample_server
sed "s|^server-key .*|server-key $T/sample_server|" conf/handler.conf >"$T/sample.conf"
expect_exit "-n: conf/handler.conf sample loads" 0 'configuration ok (2 users, 3 commands' \
	"$H" -n -f "$T/sample.conf"
expect_exit "-n: a server key that does not load: file:line, 100" 100 \
	"conf/handler.conf:8: server-key: /etc/handler/server_key" \
	"$H" -n -f conf/handler.conf
expect_exit "-n: embedded default loads" 0 'embedded default): configuration ok' "$H" -n
expect_exit "-n: bad conf, 100" 100 "$T/bad.conf:3:" "$H" -n -f "$T/bad.conf"
expect_exit "-q still says why the conf is refused" 100 "fatal: $T/bad.conf:3:" \
	"$H" -q -f "$T/bad.conf" sftp

# --- plain loop over pipes with the sftp module --------------------------
cat >"$T/sftp_hello.py" <<'EOF'
# SFTP INIT -> VERSION over a handler's pipes; optional: close stdout
# early (EPIPE) or hold stdin open (idle timeout).
import os, struct, subprocess, sys, time
mode, cmd = sys.argv[1], sys.argv[2:]
err = open(os.environ["ERRFILE"], "wb")
init = struct.pack(">IBI", 5, 1, 3)
if mode == "epipe":
    r, w = os.pipe()
    os.close(r)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=w, stderr=err)
    os.close(w)
    p.stdin.write(init)
    p.stdin.close()
    print("exit", p.wait())
    sys.exit(0)
p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=err)
p.stdin.write(init)
p.stdin.flush()
hdr = p.stdout.read(5)
n, t = struct.unpack(">IB", hdr)
body = p.stdout.read(n - 1)
ver = struct.unpack(">I", body[:4])[0]
if mode == "idle":
    t0 = time.time()
    rc = p.wait()
    print("type", t, "version", ver, "exit", rc, "after %.1f" % (time.time() - t0))
    sys.exit(0)
p.stdin.close()
rest = p.stdout.read()
print("type", t, "version", ver, "exit", p.wait(), "rest", len(rest))
EOF
mkdir -p "$T/root"
ERRFILE=$T/sftp.err limit 20 /usr/bin/python3 "$T/sftp_hello.py" plain \
	"$H" sftp "$T/root" >"$T/sftp.out" 2>&1
if grep -q 'not built yet' "$T/sftp.err"; then
	ok "sftp INIT/VERSION over pipes # SKIP sftp module not built"
elif grep -q '^type 2 version 3 exit 0 rest 0$' "$T/sftp.out"; then
	ok "sftp INIT/VERSION over pipes, exit 0 at EOF"
	if grep -q 'done peer=- via=pipe protocol=sftp user=- key=- in=9 out=[0-9]* .*exit=0' \
		"$T/sftp.err"; then
		ok "one log line: peer, protocol, bytes, exit"
	else
		echo "# $(tr '\n' '|' <"$T/sftp.err")"
		fail "one log line: peer, protocol, bytes, exit"
	fi
	ERRFILE=$T/epipe.err limit 20 /usr/bin/python3 "$T/sftp_hello.py" epipe \
		"$H" sftp "$T/root" >"$T/epipe.out" 2>&1
	if grep -q '^exit 111$' "$T/epipe.out" && grep -q 'write: Broken pipe' "$T/epipe.err"; then
		ok "fd 1 closed (EPIPE): logged, exit 111"
	else
		echo "# $(cat "$T/epipe.out") $(tr '\n' '|' <"$T/epipe.err")"
		fail "fd 1 closed (EPIPE): logged, exit 111"
	fi
	printf 'limit idle 1\n' >"$T/idle.conf"
	ERRFILE=$T/idle.err limit 20 /usr/bin/python3 "$T/sftp_hello.py" idle \
		"$H" -f "$T/idle.conf" sftp "$T/root" >"$T/idle.out" 2>&1
	if grep -q '^type 2 version 3 exit 111 after [12]\.' "$T/idle.out" &&
		grep -q 'idle timeout' "$T/idle.err"; then
		ok "idle timeout: exit 111 after 1 s of silence"
	else
		echo "# $(cat "$T/idle.out") $(tr '\n' '|' <"$T/idle.err")"
		fail "idle timeout: exit 111 after 1 s of silence"
	fi
	# Back-pressure: many requests written while nobody reads the
	# replies. The server must stop reading when its output is full
	# (bounded memory), then answer every request, in order, once the
	# reader starts.
	cat >"$T/flood.py" <<'EOF'
import os, struct, subprocess, sys, threading, time
n = int(sys.argv[1])
p = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                     stderr=open(os.environ["ERRFILE"], "wb"))
def writer():
    p.stdin.write(struct.pack(">IBI", 5, 1, 3))
    path = b"/"
    batch = b"".join(struct.pack(">IBII", 9 + len(path), 17, i, len(path)) + path
                     for i in range(1, n + 1))
    p.stdin.write(batch)
    p.stdin.close()
t = threading.Thread(target=writer)
t.start()
time.sleep(1.0)  # let the server fill its output and stop reading
def read(k):
    b = b""
    while len(b) < k:
        d = p.stdout.read(k - len(b))
        if not d:
            raise SystemExit("short read")
        b += d
    return b
n0, t0 = struct.unpack(">IB", read(5)); read(n0 - 1)
ok = 0
for i in range(1, n + 1):
    ln, typ, rid = struct.unpack(">IBI", read(9))
    read(ln - 5)
    if typ == 105 and rid == i:
        ok += 1
t.join()
print("answered", ok, "of", n, "exit", p.wait(), "rest", len(p.stdout.read()))
EOF
	case $BUILD in *asan*) nreq=50000 ;; *) nreq=150000 ;; esac
	rss=""
	[ -x /usr/bin/time ] && rss="/usr/bin/time -f maxrss=%MkB"
	ERRFILE=$T/flood.err limit 60 /usr/bin/python3 "$T/flood.py" "$nreq" \
		$rss "$H" sftp "$T/root" >"$T/flood.out" 2>&1
	if grep -q "^answered $nreq of $nreq exit 0 rest 0\$" "$T/flood.out"; then
		ok "back-pressure: $nreq requests written before any reply is read ($(grep -o 'maxrss=[0-9]*kB' "$T/flood.err"))"
	else
		echo "# $(cat "$T/flood.out") $(tail -n 3 "$T/flood.err" | tr '\n' '|')"
		fail "back-pressure: $nreq requests written before any reply is read"
	fi

	# OpenSSH's sftp over pipes (-D): bulk both ways through the loop.
	case $BUILD in *asan*) mb=4 ;; *) mb=16 ;; esac
	head -c $((mb * 1048576)) /dev/urandom >"$T/up.bin"
	printf 'put %s/up.bin up.bin\nget up.bin %s/down.bin\n' "$T" "$T" >"$T/batch"
	mkdir -p "$T/rw"
	# sftp -D splits the command itself (no shell): stderr is shared.
	limit 60 sftp -b "$T/batch" -D "$H sftp -d / $T/rw" \
		>"$T/sftpD.out" 2>"$T/sftpD.err"
	rc=$?
	if [ "$rc" -eq 0 ] && [ "$(sha "$T/up.bin")" = "$(sha "$T/down.bin" 2>/dev/null)" ] &&
		grep -q "done .*protocol=sftp .*exit=0" "$T/sftpD.err"; then
		ok "sftp -D: $mb MiB put and get through the plain loop"
	else
		echo "# exit $rc $(tr '\n' '|' <"$T/sftpD.out") $(tr '\n' '|' <"$T/sftpD.err")"
		fail "sftp -D: $mb MiB put and get through the plain loop"
	fi
else
	echo "# $(cat "$T/sftp.out") $(tr '\n' '|' <"$T/sftp.err")"
	fail "sftp INIT/VERSION over pipes, exit 0 at EOF"
fi

# --- the secure layer with the cmd module ------------------------------
"$HC" keygen "$T/server" >/dev/null 2>&1 || ssh-keygen -q -t ed25519 -N '' -f "$T/server"
"$HC" keygen "$T/alice" >/dev/null 2>&1 || ssh-keygen -q -t ed25519 -N '' -f "$T/alice"
ssh-keygen -q -t ed25519 -N '' -f "$T/mallory"
cat >"$T/sec.conf" <<EOF
server-key $T/server
user alice run $(cat "$T/alice.pub")
command echo perm=run args=4 -- /bin/echo
command cat perm=run payload=yes output=256M time=60 -- /bin/cat
limit handshake 1
limit idle 1
EOF
SRV="$H -s -f $T/sec.conf cmd"
limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$SRV 2>$T/sec.err" run echo hello secure >"$T/out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(cat "$T/out")" = "hello secure" ]; then
	ok "cmd over the secure layer"
else
	echo "# exit $rc $(tr '\n' '|' <"$T/err") $(tr '\n' '|' <"$T/sec.err")"
	fail "cmd over the secure layer"
fi
# Bulk both ways through the loop, the secure layer and a child: the
# buffers are bounded, so this only passes if back-pressure works.
case $BUILD in *asan*) mb=4 ;; *) mb=24 ;; esac
head -c $((mb * 1048576)) /dev/urandom >"$T/bulk"
limit 60 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$H -s -f $T/sec.conf cmd 2>$T/bulk.err" run -i cat <"$T/bulk" >"$T/bulk.out" 2>"$T/err"
rc=$?
if [ "$rc" -eq 0 ] && [ "$(sha "$T/bulk")" = "$(sha "$T/bulk.out")" ]; then
	ok "$mb MiB through cat over the secure layer, both ways"
else
	echo "# exit $rc $(wc -c <"$T/bulk.out") bytes; $(tr '\n' '|' <"$T/err") $(tail -n 3 "$T/bulk.err" | tr '\n' '|')"
	fail "$mb MiB through cat over the secure layer, both ways"
fi

fp=$(ssh-keygen -l -E sha256 -f "$T/alice.pub" | cut -d' ' -f2)
wait_grep "$T/sec.err" 'done '
if grep -q "auth: ok peer=- user=alice key=$fp" "$T/sec.err" &&
	grep -q "done peer=- via=pipe protocol=cmd+secure user=alice key=$fp in=[1-9][0-9]* out=[1-9][0-9]* raw_in=[0-9]* raw_out=[0-9]* time=[0-9.]*s exit=0" "$T/sec.err"; then
	ok "auth ok and done lines: user, fingerprint, bytes"
else
	echo "# $(tr '\n' '|' <"$T/sec.err")"
	fail "auth ok and done lines: user, fingerprint, bytes"
fi
if grep -q -i -e 'PRIVATE' -e "$(sed -n 2p "$T/server" | cut -c1-20)" "$T/sec.err"; then
	fail "no key material in the log"
else
	ok "no key material in the log"
fi

limit 20 "$HC" -k "$T/mallory" -u mallory -p "$T/server.pub" \
	--exec "$SRV 2>$T/ref.err" run echo no >"$T/out" 2>"$T/err"
rc=$?
wait_grep "$T/ref.err" 'done '
if [ "$rc" -ne 0 ] && [ ! -s "$T/out" ] &&
	grep -q 'auth: refused peer=- .*mallory' "$T/ref.err" &&
	grep -q 'done .*user=- .* refused exit=100' "$T/ref.err"; then
	ok "unknown user refused and logged, exit 100"
else
	echo "# exit $rc $(tr '\n' '|' <"$T/ref.err")"
	fail "unknown user refused and logged, exit 100"
fi

# Handshake timeout: a client that connects and says nothing.
t0=$(date +%s)
sleep 2 | limit 10 $SRV >/dev/null 2>"$T/hs.err"
rc=$?
if [ "$rc" -eq 111 ] && grep -q 'auth: refused .*handshake timeout' "$T/hs.err"; then
	ok "handshake timeout: logged, exit 111"
else
	echo "# exit $rc $(tr '\n' '|' <"$T/hs.err")"
	fail "handshake timeout: logged, exit 111"
fi

# Idle after the handshake: a tunnel whose stdin stays silent.
sleep 2.5 | limit 10 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$SRV 2>$T/idle2.err" tunnel >/dev/null 2>&1
wait_grep "$T/idle2.err" 'done '
if grep -q 'idle timeout' "$T/idle2.err" && grep -q 'done .* idle exit=111' "$T/idle2.err"; then
	ok "idle timeout after the handshake, exit 111"
else
	echo "# $(tr '\n' '|' <"$T/idle2.err")"
	fail "idle timeout after the handshake, exit 111"
fi

# Truncation: the client dies without sending its final frame. It is
# killed only once a line has gone through cat and back (the payload comes
# from a FIFO this script holds open): the session is then fully up and the
# server has nothing left to write, so the cut is the first thing it sees
# and the done line must name it: "truncated", not "peer-gone" (a client
# killed before the server's accept frame went out would be peer-gone).
mkfifo "$T/trunc.in"
exec 3<>"$T/trunc.in"
"$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
	--exec "$SRV 2>$T/trunc.err" run -i cat <"$T/trunc.in" >"$T/trunc.out" 2>/dev/null &
tpid=$!
echo ping >&3
wait_grep "$T/trunc.out" '^ping$'
kill -KILL "$tpid" 2>/dev/null
wait_grep "$T/trunc.err" 'done '
if grep -q '^ping$' "$T/trunc.out" && grep -q 'secure: truncated' "$T/trunc.err" &&
	grep -q 'done .* truncated exit=111' "$T/trunc.err"; then
	ok "truncated secure stream: logged, exit 111"
else
	echo "# $(tr '\n' '|' <"$T/trunc.err")"
	fail "truncated secure stream: logged, exit 111"
fi
wait "$tpid" 2>/dev/null
exec 3>&-

finish
