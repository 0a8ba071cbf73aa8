#!/bin/sh
# handler nbd under the secure layer: libnbd runs handler-client tunnel,
# which runs `handler -s -f CONF nbd IMAGE`. alice (nbd:rw) writes, bob
# (nbd:ro) only reads and sees a read-only export, carol (nbd:ro:other)
# may not open this export (ERR_POLICY, LIST shows nothing), dave (no nbd
# permission) is refused at start with exit 100.
. tests/lib.sh
PY=/usr/bin/python3
HC=$BIN/handler-client
HD=$BIN/handler

if ! "$PY" -c 'import nbd' 2>/dev/null; then
	fail nbd_secure "python3-libnbd missing for $PY (make deps installs it)"
	finish
fi
for k in server alice bob carol dave; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice nbd:rw $(publine "$T/alice.pub")
user bob nbd:ro $(publine "$T/bob.pub")
user carol nbd:ro:other $(publine "$T/carol.pub")
user dave sftp:rw $(publine "$T/dave.pub")
EOF
truncate -s 4M "$T/disk.img"
# The tunnel command for USER, as one shell line for connect_command.
# The client is quiet; the server's log is wanted whole (-q would pass
# HANDLER_LOG=quiet on to it).
tunnel() {
	echo "exec $HC -q -k $T/$1 -u $1 -p $T/server.pub --exec 'env -u HANDLER_LOG $HD -s -f $T/conf nbd $T/disk.img 2>>$T/server.log' tunnel"
}

limit 60 "$PY" - "$(tunnel alice)" "$(tunnel bob)" "$(tunnel carol)" "$T/disk.img" <<'PYEOF'
import sys
import nbd

alice, bob, carol, img = sys.argv[1:5]
failed = 0


def ok(name, cond, why=""):
    global failed
    print(("ok " if cond else "not ok ") + name +
          ("" if cond or not why else " # " + why), flush=True)
    failed += not cond


def connect(cmd, opt=False):
    h = nbd.NBD()
    h.set_opt_mode(opt)
    h.connect_command(["sh", "-c", cmd])
    return h


try:
    h = connect(alice)
    h.pwrite(b"alice was here", 4096)
    ok("secure_alice_rw", not h.is_read_only() and
       h.pread(14, 4096) == b"alice was here")
    h.shutdown()
except nbd.Error as e:
    ok("secure_alice_rw", False, str(e))
try:
    h = connect(bob)
    ro = h.is_read_only()
    data = h.pread(14, 4096)
    h.set_strict_mode(0)
    try:
        h.pwrite(b"bob", 0)
        refused = False
    except nbd.Error as e:
        refused = e.errno == "EPERM"
    h.shutdown()
    ok("secure_bob_ro", ro and data == b"alice was here" and refused)
except nbd.Error as e:
    ok("secure_bob_ro", False, str(e))
try:
    h = connect(carol, opt=True)
    names = []
    h.opt_list(lambda n, d: names.append(n) or 0)
    try:
        h.opt_go()
        went = True
    except nbd.Error as e:
        went = False
    ok("secure_carol_policy", names == [] and not went, "list %s" % names)
except nbd.Error as e:
    ok("secure_carol_policy", False, str(e))
with open(img, "rb") as f:
    f.seek(0)
    ok("secure_file_written_by_alice_only", f.read(4) == b"\0" * 4)
sys.exit(3 if failed else 0)
PYEOF
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail nbd_secure_driver "exit $rc"
fi

# dave has no nbd permission: the server ends at once with 100.
limit 30 "$HC" -q -k "$T/dave" -u dave -p "$T/server.pub" \
	--exec "$HD -s -f $T/conf nbd $T/disk.img 2>$T/dave.log; echo rc=\$? >>$T/dave.log" \
	tunnel </dev/null >/dev/null 2>&1
check secure_dave_refused_exit_100 grep -q '^rc=100$' "$T/dave.log"
check secure_dave_refusal_logged grep -q 'user=dave lacks permission nbd:ro or nbd:rw' "$T/dave.log"
check secure_policy_logged grep -q 'user=carol option GO refused: export "" is not permitted' "$T/server.log"
if grep -q 'AddressSanitizer\|runtime error' "$T/server.log" "$T/dave.log"; then
	fail nbd_secure_sanitizer "$(grep -h -m 3 'ERROR\|runtime error' "$T/server.log" "$T/dave.log" | tr '\n' ' ')"
fi
finish
