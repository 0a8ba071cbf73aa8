#!/bin/sh
# Records fuzz seeds from real sessions against the built programs, on
# pipes and unix sockets on this machine (make fuzz-record; BUILD=build):
#   sftp       OpenSSH's sftp and paramiko against `handler sftp`
#   cmdframe   handler-client against `handler -s cmd`: the plaintext each
#              way, through tests/tools/securetap (it ends the secure
#              layer on both sides with test keys made here)
#   handshake  the same sessions' raw bytes, and a server's refusal
#   message    msgpipe -c and curvecpmessage -c as clients of msgpipe
#   nbd        nbdinfo, nbdcopy, qemu-io, qemu-img against `handler nbd`
#   sshagent   ssh-agent's answers     keys  ssh-keygen's files
#   conf       conf/handler.conf and the conf lines docs/ shows
# Each seed is named rec_<proto>_<client>_<what>, starts with the mode
# byte its harness wants, and is cut at CAP bytes. A client that is not
# installed is skipped with a note. Seeds are rewritten in place (fresh
# keys and data each run): review `git status` before committing.
: "${BUILD:=build}"
. tests/lib.sh
C=tests/fuzz/corpus
CAP=65536
HD=$BIN/handler
HC=$BIN/handler-client
PY=/usr/bin/python3
have() {
	command -v "$1" >/dev/null 2>&1 && return 0
	echo "# $1 missing: its seeds are not recorded"
	return 1
}
# seed HARNESS NAME MODE FILE [SKIP]: MODE as an octal byte ("" for none),
# then FILE from byte SKIP on, cut at CAP bytes.
seed() {
	{
		[ -n "$3" ] && printf "\\$3"
		tail -c +$((${5:-0} + 1)) "$4" | head -c $CAP
	} >"$C/$1/$2"
	echo "$C/$1/$2 $(wc -c <"$C/$1/$2")"
}

# The harness's sftp tree (fuzz_sftp.c populate()), served for the
# recordings so the paths the clients use exist there too.
tree() {
	rm -rf "$1"
	mkdir -p "$1/sub"
	echo "hello, world" >"$1/hello.txt"
	echo inner >"$1/sub/inner.txt"
	ln -s ../.. "$1/up"
	ln -s /etc "$1/etc"
}

# tap RECORD PROTOCOL ARGS...: handler PROTOCOL ARGS, its input copied to
# RECORD (sftp -D hands over one socket as stdin and stdout: handler would
# make it non-blocking under tee, so its output goes through cat).
cat >"$T/tap" <<EOF
#!/bin/sh
rec=\$1
shift
tee "\$rec" | "$HD" "\$@" | cat
EOF
chmod +x "$T/tap"

# ---- sftp: a tee in front of `handler sftp`; the harness sends its own
# INIT, so the client's (9 bytes) is cut off. Mode 1: a writable root.
openssh() { # NAME MODE: one sftp -b $T/batch session, cwd $T/local
	tree "$T/root"
	ro=""
	[ "$2" = 0 ] && ro=-R
	(cd "$T/local" && limit 30 sftp -b "$T/batch" \
		-D "$T/tap $T/sftp.rec sftp $ro $T/root" >"$T/sftp.out" 2>&1) ||
		echo "# sftp $1 stopped early: $(grep -v '^handler:' "$T/sftp.out" | tail -n 2 | tr '\n' '|')"
	seed sftp "rec_sftp_openssh_$1" "$2" "$T/sftp.rec" 9
}
if have sftp; then
	mkdir -p "$T/local/ldir"
	head -c 16000 /dev/urandom >"$T/local/blob"
	head -c 8000 /dev/urandom >"$T/local/half"
	echo local >"$T/local/ldir/l.txt"
	printf '%s\n' "put blob" "put -p half h2" "reput blob h2" \
		"get blob back" "reget blob back" "rename blob b2" \
		"cp hello.txt h3" "ln hello.txt hl" "ln -s hello.txt sl" \
		"chmod 600 h2" "chown 0 h2" "chgrp 0 h2" "put -f half f1" "-chmod -h 644 sl" "-chown -h 0 sl" "get -a h2 h4" "ls -l" "rm b2" \
		"put -r ldir" "get -r sub" "df -h" "df -i" "-rmdir nothere" \
		"-rm nothere" >"$T/batch"
	openssh put_get_rw 1
	printf '%s\n' "ls -la" "ls -l sub" "-cd ~/sub" "-cd ~" "-ls etc/hostname" "-cd up" "pwd" \
		"cd sub" "get inner.txt" "get ../hello.txt" "-get ../up/x" \
		"-put ../local/blob" "-mkdir d" "-rm ../hello.txt" \
		"-rename ../hello.txt y" "-ln -s a b" "df" "lls" \
		>"$T/batch"
	(cd "$T/local" && cp blob ../blob) 2>/dev/null
	openssh ro_browse_refused 0
	printf '%s\n' "mkdir a" "mkdir a/b" "cd a/b" "put half blob" "put half" \
		"rename blob ../c" "cd .." "ls -l" "ls -l b" "-rmdir b" "rm c" \
		"rm b/half" "rmdir b" "cd .." "rmdir a" "-symlink hello.txt up/x" \
		"-rename hello.txt sub" "-mkdir sub" >"$T/batch"
	openssh dirs_rw 1
fi
if "$PY" -c 'import paramiko' 2>/dev/null; then
	tree "$T/root"
	limit 30 "$PY" - "$T/tap" "$T/sftp.rec" sftp "$T/root" 2>/dev/null <<'EOF'
# paramiko's own ways: prefetching get, pipelined put, attrs, readlink,
# truncate, utime, posix-rename, statvfs, check of a missing path.
import io, os, sys
import paramiko
sys.path.insert(0, os.environ["TOP"] + "/tests")
from pywire import PipeSock

s = PipeSock(sys.argv[1:])
c = paramiko.SFTPClient(s)
c.putfo(io.BytesIO(os.urandom(40000)), "up.bin")
c.getfo("up.bin", io.BytesIO())
c.listdir_attr(".")
c.lstat("up"); c.stat("sub"); c.readlink("etc")
c.truncate("up.bin", 1000); c.utime("up.bin", (1, 2)); c.chmod("up.bin", 0o640)
c.posix_rename("up.bin", "sub/moved")
with c.open("sub/moved", "r+") as f:
    f.seek(10); f.write(b"x"); f.stat(); f.chmod(0o600); f.truncate(5)
for bad in ("nothere", "up/x", "etc/passwd"):
    try:
        c.stat(bad)
    except IOError:
        pass
c.remove("sub/moved")
c.close(); s.close(); s.p.wait()
EOF
	seed sftp rec_sftp_paramiko_ops 1 "$T/sftp.rec" 9
else
	echo "# paramiko missing for $PY: its sftp seed is not recorded"
fi

# ---- cmdframe and handshake: handler-client -> securetap -> handler -s cmd
newkey server
newkey alice
cat >"$T/cmd.conf" <<EOF
server-key $T/server
user alice run,tunnel $(publine "$T/alice.pub")
command echo perm=run args=4 -- /bin/echo
command cat perm=run payload=yes -- /bin/cat
command fail perm=run -- /bin/sh -c "echo no >&2; exit 3"
EOF
hc() { # NAME CLIENT-ARGS...: one session, its records $T/NAME.*
	_n=$1
	shift
	limit 30 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" --exec \
		"$TOOLS/securetap -k $T/server -u $T/alice -n alice -o $T/$_n -- $HD -s -f $T/cmd.conf cmd" \
		"$@" >/dev/null 2>&1
}
hc ping ping
hc caps caps
hc run run echo one two
echo payload | hc cat run --stdin cat
printf '%s\n' "echo a" "fail" "cat" "nothere x" "ping" | hc batch batch
hc fail run fail
head -c 70000 /dev/urandom | hc payload run --stdin cat
printf '%s\n' "ping" "echo x" | hc json batch --json
for n in ping caps run cat batch fail payload json; do
	seed cmdframe "rec_cmd_hc_$n" "" "$T/$n.c2s"
	seed cmdframe "rec_cmd_handler_${n}_replies" "" "$T/$n.s2c"
done
# handshake modes: 0 server fed a client's bytes, 2 client fed a server's,
# 1 frames of an established session (the harness's own session keys:
# these match only up to the first frame, but carry a real client's and
# server's handshake messages).
seed handshake rec_hs_hc_client_batch 000 "$T/batch.raw_c2s"
seed handshake rec_hs_handler_server_caps 002 "$T/caps.raw_s2c"
# the plaintext refusal of a server whose key cannot be read
mv "$T/server" "$T/server.gone"
"$HD" -s -f "$T/cmd.conf" cmd <"$T/ping.raw_c2s" >"$T/refusal.s2c" 2>/dev/null
mv "$T/server.gone" "$T/server"
seed handshake rec_hs_handler_refusal_nokey 002 "$T/refusal.s2c"
# ---- nbd: a tee in front of `handler nbd IMG`, one per connection to a
# socket made by socat (libnbd's [ CMD ] would hand handler a listening
# socket instead). Mode 1: the export is writable; the stream starts with
# the client's flags.
img() { # a 1 MiB image like the harness's: data at 64 KiB and at the end
	rm -f "$T/disk.img"
	truncate -s 1M "$T/disk.img"
	printf NBD | dd of="$T/disk.img" bs=1 seek=65536 conv=notrunc 2>/dev/null
	printf NBD | dd of="$T/disk.img" bs=1 seek=1044480 conv=notrunc 2>/dev/null
}
NBD_DONE=0
nbd_serve() { # NAME [-r]: a socket $T/NAME.sock serving $T/disk.img
	bg socat UNIX-LISTEN:"$T/$1.sock",fork \
		EXEC:"$T/tap $T/nbd.rec nbd $2 $T/disk.img" 2>>"$T/nbd.log"
	wait_sock "$T/$1.sock"
}
nbd_seed() { # NAME MODE: once the session's handler has ended
	NBD_DONE=$((NBD_DONE + 1))
	wait_lines "$T/nbd.log" "handler: info: done" $NBD_DONE ||
		fail "nbd $1: session $NBD_DONE did not end"
	seed nbd "rec_nbd_$1" "$2" "$T/nbd.rec"
}
if have socat; then
	img
	head -c 200000 /dev/urandom >"$T/part"
	truncate -s 1M "$T/part"
	nbd_serve rw
	nbd_serve ro -r
	rw="nbd+unix:///?socket=$T/rw.sock"
	ro="nbd+unix:///?socket=$T/ro.sock"
fi
if have socat && have nbdinfo; then
	limit 30 nbdinfo --can cache "$rw" >/dev/null 2>&1
	nbd_seed nbdinfo_can_cache 1
	limit 30 nbdinfo --map=base:allocation --totals "$ro" >/dev/null 2>&1
	nbd_seed nbdinfo_map_totals_ro 0
fi
if have socat && have nbdcopy; then
	# the data is the bulk: the first 64 KiB of requests are kept
	limit 30 nbdcopy --flush --requests=4 --request-size=16384 --allocated \
		"$T/part" "$rw" >/dev/null 2>&1
	nbd_seed nbdcopy_flush_allocated 1
	limit 30 nbdcopy --synchronous "$ro" "$T/back" >/dev/null 2>&1
	nbd_seed nbdcopy_sync_out_ro 0
fi
if have socat && have qemu-io; then
	limit 30 qemu-io -f raw "$rw" -c 'write -z 0 64k' \
		-c 'write -z -u 64k 64k' -c 'discard 128k 64k' -c 'write -f -P 0x5a 4k 4k' \
		-c 'aio_write -P 1 8k 4k' -c 'aio_flush' -c 'read 0 8k' \
		-c 'readv 0 512 512' -c 'flush' >/dev/null 2>&1
	nbd_seed qemuio_zero_trim_fua 1
	limit 30 qemu-io -r -f raw "$ro" -c 'write 0 4k' -c 'read -v 0 16' \
		>/dev/null 2>&1
	nbd_seed qemuio_write_on_ro 0
fi
if have socat && have qemu-img; then
	limit 30 qemu-img info "$ro" >/dev/null 2>&1
	nbd_seed qemuimg_info_ro 0
	limit 30 qemu-img compare -f raw -F raw "$T/part" "$ro" >/dev/null 2>&1
	nbd_seed qemuimg_compare_ro 0
fi

# ---- message: a client's messages to a msgpipe server (its fd 9 -> the
# server's fd 8), recorded between two message handlers joined by pipes.
cat >"$T/msgtap.py" <<'PYEOF'
import fcntl, os, subprocess, sys
rec, back, msgpipe, mpend, c2s, s2c = sys.argv[1:7]
client = sys.argv[7:]


def pipe():
    # above fds 8 and 9, so putting one there never closes another
    r, w = os.pipe()
    hi = [fcntl.fcntl(fd, fcntl.F_DUPFD, 20) for fd in (r, w)]
    os.close(r)
    os.close(w)
    return hi


a_r, a_w = pipe()   # client fd 9 -> here
b_r, b_w = pipe()   # here -> server fd 8
c_r, c_w = pipe()   # server fd 9 -> client fd 8


def fds(m):
    def f():
        for to, fd in m:
            os.dup2(fd, to)
        os.closerange(20, 64)
    return f


srv = subprocess.Popen([msgpipe, mpend, "-s", s2c, "-r", "/dev/null"],
                       preexec_fn=fds([(8, b_r), (9, c_w)]), close_fds=False,
                       stderr=subprocess.DEVNULL)
cli = subprocess.Popen(client + ["-c", mpend, "-i", "6", "-o", "7", "-s", c2s,
                                 "-r", back],
                       preexec_fn=fds([(8, c_r), (9, a_w)]), close_fds=False,
                       stderr=subprocess.DEVNULL)
for fd in (b_r, c_w, c_r, a_w):
    os.close(fd)
with open(rec, "wb") as out:
    while True:
        d = os.read(a_r, 65536)
        if not d:
            break
        out.write(d)
        try:
            os.write(b_w, d)
        except BrokenPipeError:
            break
os.close(b_w)
cli.wait(timeout=20)
srv.wait(timeout=20)
PYEOF
msg() { # NAME CLIENT-HANDLER...
	_n=$1
	shift
	limit 30 "$PY" "$T/msgtap.py" "$T/m.rec" "$T/m.back" "$BIN/msgpipe" \
		"$TOOLS/mpend" "$T/m.c2s" "$T/m.s2c" "$@"
	seed message "rec_msg_$_n" "" "$T/m.rec"
}
head -c 3000 /dev/urandom >"$T/m.c2s"
head -c 5000 /dev/urandom >"$T/m.s2c"
msg msgpipe_client "$BIN/msgpipe"
have curvecpmessage && msg curvecpmessage_client curvecpmessage

# ---- sshagent: ssh-agent's answers (without their length) to
# REQUEST_IDENTITIES and SIGN_REQUEST, for keys ssh-keygen makes.
cat >"$T/agent.py" <<'PYEOF'
import base64, socket, struct, sys
sockpath, out = sys.argv[1], sys.argv[2]


def call(body):
    s = socket.socket(socket.AF_UNIX)
    s.connect(sockpath)
    s.sendall(struct.pack(">I", len(body)) + body)
    n = struct.unpack(">I", s.recv(4, socket.MSG_WAITALL))[0]
    r = s.recv(n, socket.MSG_WAITALL)
    s.close()
    return r


def sstr(b):
    return struct.pack(">I", len(b)) + b


def sign(name, flags):
    blob = base64.b64decode(open("%s/ag_%s.pub" % (out, name)).read().split()[1])
    return call(b"\x0d" + sstr(blob) + sstr(b"handler test data") +
                struct.pack(">I", flags))


open(out + "/ag_ids", "wb").write(call(b"\x0b"))
for name, flags, what in (("ed25519", 0, "ed25519"), ("ecdsa", 0, "ecdsa"),
                          ("rsa", 4, "rsa_sha512"),
                          ("unknown", 0, "unknown")):
    open(out + "/ag_sig_" + what, "wb").write(sign(name, flags))
PYEOF
if have ssh-agent && have ssh-add; then
	for k in ed25519 ecdsa rsa; do
		ssh-keygen -q -t $k -N '' -C "bob@$k" -f "$T/ag_$k" </dev/null
	done
	ssh-keygen -q -t ed25519 -N '' -C bob -f "$T/ag_unknown" </dev/null
	bg ssh-agent -D -a "$T/agent.sock" >/dev/null
	wait_sock "$T/agent.sock"
	SSH_AUTH_SOCK=$T/agent.sock ssh-add -q "$T/ag_ed25519" "$T/ag_ecdsa" \
		"$T/ag_rsa" 2>/dev/null
	limit 30 "$PY" "$T/agent.py" "$T/agent.sock" "$T"
	seed sshagent rec_agent_openssh_identities_3keys "" "$T/ag_ids"
	# (the unknown key's answer, a bare FAILURE, is failure_sign_unknown_key)
	for s in ed25519 ecdsa rsa_sha512; do
		seed sshagent "rec_agent_openssh_sign_$s" "" "$T/ag_sig_$s"
	done
fi

# ---- keys: files as ssh-keygen writes them
key() { # NAME KEYGEN-ARGS...: a fresh key pair $T/kk, seeded
	_n=$1
	shift
	rm -f "$T/kk" "$T/kk.pub" "$T/kk-cert.pub"
	ssh-keygen -q "$@" -f "$T/kk" </dev/null >/dev/null 2>&1
	seed keys "rec_keys_sshkeygen_$_n" "" "$T/kk"
}
if have ssh-keygen; then
	key ed25519_comment -t ed25519 -N '' -C "a comment, with spaces"
	seed keys rec_keys_sshkeygen_ed25519_comment_pub "" "$T/kk.pub"
	ssh-keygen -q -e -f "$T/kk.pub" >"$T/rfc4716"
	seed keys rec_keys_sshkeygen_ed25519_rfc4716_pub "" "$T/rfc4716"
	ssh-keygen -q -s "$T/kk" -I cert-id -n alice "$T/kk.pub" 2>/dev/null
	seed keys rec_keys_sshkeygen_ed25519_cert_pub "" "$T/kk-cert.pub"
	key ed25519_aes256gcm -t ed25519 -N secret -Z aes256-gcm@openssh.com -a 2
	key ecdsa521 -t ecdsa -b 521 -N ''
	key ecdsa_pkcs8 -t ecdsa -m PKCS8 -N ''
	key rsa_pem -t rsa -b 1024 -m PEM -N ''
fi

# ---- conf: the shipped example, and every conf line the docs show
seed conf rec_conf_conf_handler_conf "" conf/handler.conf
items='server-key|user|user-sftp-root|sftp-root|sftp-[a-z-]*|command|command-args|cmd-[a-z-]*|limit|nbd-[a-z-]*|require-secure|run-as|describe'
for d in docs/*.md docs/handler.conf.5; do
	# indented example lines, then `code spans` that start with an item
	{
		grep -E "^    ($items) " "$d" | sed 's/^    //'
		grep -oE "\`($items) [^\`]*\`" "$d" | tr -d '`'
	} >"$T/docconf"
	name=$(basename "$d" | tr . _)
	[ -s "$T/docconf" ] && seed conf "rec_conf_docs_$name" "" "$T/docconf"
done
finish
