# NBD_FLAG_CAN_MULTI_CONN, checked: every connection is its own handler
# process on the same file, and a FLUSH (or FUA) on one connection must
# make the completed writes of every connection durable. The writes of
# connection A sit in the kernel's page cache as dirty pages of the file;
# this test sees them through /proc/self/smaps of a read-only shared
# mapping (Shared_Dirty counts dirty page-cache pages), then checks they
# are clean once connection B's FLUSH is answered, and that B's process
# called fdatasync (strace). A control connection that only reads leaves
# them dirty, so it is B's flush, not the kernel's writeback, that did it.
# Prints ok / not ok lines; run by nbd_multiconn.sh.
# usage: nbd_multiconn.py HANDLER TMPDIR
import mmap
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tap import finish, ok  # noqa: E402

import nbd

HANDLER, T = sys.argv[1], sys.argv[2]
IMG = os.path.join(T, "disk.img")
TRACE = os.path.join(T, "b.strace")
SIZE = 16 << 20



def dirty_kib():
    """Dirty page-cache KiB of the image, as smaps sees them."""
    fd = os.open(IMG, os.O_RDONLY)
    m = mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
    os.close(fd)
    for i in range(0, SIZE, 4096):
        m[i]
    total, mine = 0, False
    with open("/proc/self/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                mine = line.rstrip("\n").endswith(IMG)
            elif mine and line.split(":")[0] in ("Shared_Dirty",
                                                 "Private_Dirty"):
                total += int(line.split()[1])
    m.close()
    return total


def connect(argv):
    h = nbd.NBD()
    h.connect_command(argv)
    return h


with open(IMG, "wb") as f:
    f.truncate(SIZE)
    f.write(os.urandom(SIZE))
    f.flush()
    os.fsync(f.fileno())

ok("multiconn_clean_at_start", dirty_kib() == 0, "%d KiB dirty" % dirty_kib())
a = connect([HANDLER, "nbd", IMG])
b = connect(["strace", "-f", "-qq", "-e", "trace=fdatasync", "-o", TRACE,
             HANDLER, "nbd", IMG])
c = connect([HANDLER, "nbd", IMG])
ok("multiconn_advertised", a.can_multi_conn() and b.can_multi_conn())

data = os.urandom(4 << 20)
a.pwrite(data, 4 << 20)
d = dirty_kib()
ok("multiconn_a_write_is_dirty", d >= 4096, "%d KiB dirty" % d)
ok("multiconn_b_sees_a_write", b.pread(len(data), 4 << 20) == data)
c.pread(4096, 0)
d = dirty_kib()
ok("multiconn_reads_elsewhere_leave_it_dirty", d >= 4096, "%d KiB" % d)
b.flush()
d = dirty_kib()
ok("multiconn_b_flush_cleans_a_write", d == 0, "%d KiB still dirty" % d)

# FUA on B's own write covers A's completed writes too.
a.pwrite(os.urandom(1 << 20), 10 << 20)
d0 = dirty_kib()
b.pwrite(b"fua", 0, nbd.CMD_FLAG_FUA)
d = dirty_kib()
ok("multiconn_b_fua_cleans_a_write", d0 >= 1024 and d == 0,
   "%d KiB before, %d after" % (d0, d))

for h in (a, b, c):
    h.shutdown()
with open(TRACE) as f:
    calls = [l for l in f if "fdatasync(" in l]
ok("multiconn_b_called_fdatasync", len(calls) >= 2 and
   all(l.rstrip().endswith("= 0") for l in calls), "".join(calls))
with open(IMG, "rb") as f:
    f.seek(4 << 20)
    ok("multiconn_file_has_a_write", f.read(len(data)) == data)
finish()
