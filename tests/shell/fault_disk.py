# The disk fills during an upload (a 2 MiB tmpfs, made by fault_disk.sh):
# sftp answers the WRITE that does not fit with FAILURE "No space left on
# device", nbd with ENOSPC (libnbd); every write acknowledged before is on
# disk byte for byte, and the same session still serves reads.
# usage: fault_disk.py HANDLER SFTP-ROOT NBD-IMAGE
import errno
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

HANDLER, ROOT, IMG = sys.argv[1], sys.argv[2], sys.argv[3]
tap = sr.Tap()
CHUNK = 32768
data = os.urandom(4 << 20)  # twice the file system
keep = open(os.path.join(ROOT, "keep"), "rb").read()

# sftp: WRITE until one is refused.
c = sr.Sftp([HANDLER, "sftp", ROOT])
h = c.open("big", sr.WRITE | sr.CREAT | sr.TRUNC)
acked, code, msg = 0, sr.OK, ""
while acked < len(data):
    rt, r = c.call(6, sr.s(h) + sr.u64(acked) + sr.s(data[acked:acked + CHUNK]))
    code = r.u32()
    if code != sr.OK:
        msg = r.s().decode("utf-8", "replace")
        break
    acked += CHUNK
tap.ok("sftp_full_failure_status", code == 4, "status %s %r" % (code, msg))
tap.ok("sftp_full_no_space_message", "No space" in msg, repr(msg))
c.close(h)
on_disk = open(os.path.join(ROOT, "big"), "rb").read()
tap.ok("sftp_full_acked_kept", acked > 0 and on_disk[:acked] == data[:acked],
       "%d acked, %d on disk" % (acked, len(on_disk)))
tap.ok("sftp_full_reads_same_session", c.get("keep") == keep)
tap.ok("sftp_full_stat_same_session", c.stat("big").get("size", -1) >= acked)
c.remove("big")
tap.ok("sftp_full_session_ends_0", c.quit() == 0)
c = sr.Sftp([HANDLER, "sftp", ROOT])
tap.ok("sftp_full_new_session_reads", c.get("keep") == keep)
c.quit()
print("# sftp: %d bytes acknowledged before %r" % (acked, msg), flush=True)

# nbd: a sparse image larger than the file system.
try:
    import nbd
except ImportError:
    tap.ok("nbd_full_libnbd", False, "python3-libnbd missing")
    sys.exit(3 if tap.failed else 0)
n = nbd.NBD()
n.connect_command([HANDLER, "nbd", IMG])
CHUNK = 256 << 10
acked, err = 0, None
while acked < len(data):
    try:
        n.pwrite(data[acked:acked + CHUNK], acked)
    except nbd.Error as e:
        err = e
        break
    acked += CHUNK
tap.ok("nbd_full_enospc", err is not None and getattr(err, "errnum", None) == errno.ENOSPC,
       "error %r" % (err,))
back = n.pread(acked, 0) if acked else b""
tap.ok("nbd_full_acked_kept", acked > 0 and back == data[:acked],
       "%d acked" % acked)
with open(IMG, "rb") as f:
    tap.ok("nbd_full_acked_on_disk", f.read(acked) == data[:acked])
tap.ok("nbd_full_reads_same_session", n.pread(4096, len(data) - 4096) is not None)
n.shutdown()
print("# nbd: %d bytes acknowledged before %r" % (acked, err), flush=True)
sys.exit(3 if tap.failed else 0)
