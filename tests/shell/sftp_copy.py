# copy-data through the real handler and its loop: a 1 GiB sparse file is
# copied with its holes kept, and a STAT sent right behind the copy of a
# file several steps long is answered before the copy (reply order, not
# timing). Run by sftp_copy.sh, which builds ROOT (sparse, dense).
# usage: sftp_copy.py ROOT
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

ROOT = sys.argv[1]
tap = sr.Tap()
c = sr.Sftp(sr.server_argv(ROOT))


def copy_payload(src, dst):
    return sr.s(src) + sr.u64(0) + sr.u64(0) + sr.s(dst) + sr.u64(0)


a = c.open("sparse", sr.READ)
b = c.open("sparse.copy", sr.WRITE | sr.CREAT)
code = c.xstatus("copy-data", copy_payload(a, b))
st = os.stat(os.path.join(ROOT, "sparse.copy"))
tap.ok("copy_sparse_ok", code == sr.OK, "status %s" % code)
tap.ok("copy_sparse_size", st.st_size == 1 << 30, "size %d" % st.st_size)
tap.ok("copy_sparse_holes_kept", st.st_blocks * 512 < 1 << 20,
       "%d blocks written" % st.st_blocks)

# copy-data and STAT in one write: the STAT's reply must come first.
a = c.open("dense", sr.READ)
b = c.open("dense.copy", sr.WRITE | sr.CREAT)
cid, sid = c.id + 1, c.id + 2
c.id = sid
# One write, so both are in the server's first read.
copy = sr.u32(cid) + sr.s("copy-data") + copy_payload(a, b)
stat = sr.u32(sid) + sr.s("/sparse")
c.p.stdin.write(sr.u32(len(copy) + 1) + bytes([200]) + copy +
                sr.u32(len(stat) + 1) + bytes([17]) + stat)
order = []
for _ in range(2):
    t, r = c.recv()
    rid = r.u32()
    order.append((rid, t, r.u32() if t == sr.T_STATUS else None))
tap.ok("copy_stat_answered_first", [o[0] for o in order] == [sid, cid],
       "replies in order %s" % order)
tap.ok("copy_dense_ok", order[-1][2] == sr.OK, "replies %s" % order)
with open(os.path.join(ROOT, "dense"), "rb") as f1, \
        open(os.path.join(ROOT, "dense.copy"), "rb") as f2:
    tap.ok("copy_dense_same", f1.read() == f2.read())
rc = c.quit()
tap.ok("copy_server_exit_0", rc == 0, "exit %s" % rc)
sys.exit(3 if tap.failed else 0)
