# libnbd (Debian's python3-libnbd) against `handler nbd IMAGE` over stdio:
# the client starts the server itself (connect_command) or over a
# socketpair (connect_socket, so the server's exit status is seen).
# Prints ok / not ok lines; run by nbd_libnbd.sh with /usr/bin/python3.
# usage: nbd_libnbd.py HANDLER TMPDIR BIGMIB
import hashlib
import os
import random
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tap import case, finish  # noqa: E402
import time

import nbd

HANDLER, T, BIG = sys.argv[1], sys.argv[2], int(sys.argv[3])
IMG = os.path.join(T, "disk.img")
MiB = 1 << 20




def make_image(size, data=()):
    """A sparse image with (offset, bytes) written into it."""
    with open(IMG, "wb") as f:
        f.truncate(size)
        for off, b in data:
            f.seek(off)
            f.write(b)


def connect(*opts, structured=True, meta=True):
    h = nbd.NBD()
    h.set_request_structured_replies(structured)
    if meta:
        h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
    h.set_full_info(True)
    h.connect_command([HANDLER, "nbd"] + list(opts) + [IMG])
    return h


def file_bytes(off, n):
    with open(IMG, "rb") as f:
        f.seek(off)
        return f.read(n)


def expect_error(fn, errno_want):
    """errno_want is a name (libnbd gives "EINVAL"), or None for any."""
    try:
        fn()
    except nbd.Error as e:
        if errno_want is None or e.errno == errno_want:
            return True
        return "errno %s, not %s (%s)" % (e.errno, errno_want, e)
    return "no error"


def flags_structured():
    make_image(64 * MiB)
    h = connect()
    want = {"structured": h.get_structured_replies_negotiated(),
            "meta": h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION),
            "df": h.can_df(), "flush": h.can_flush(), "fua": h.can_fua(),
            "trim": h.can_trim(), "zero": h.can_zero(),
            "fast_zero": h.can_fast_zero(), "cache": h.can_cache(),
            "multi_conn": h.can_multi_conn(), "rw": not h.is_read_only()}
    bad = [k for k, v in want.items() if not v]
    sizes = (h.get_block_size(nbd.SIZE_MINIMUM),
             h.get_block_size(nbd.SIZE_PREFERRED),
             h.get_block_size(nbd.SIZE_MAXIMUM))
    name = h.get_canonical_export_name()
    size = h.get_size()
    h.shutdown()
    if bad:
        return "missing: " + ",".join(bad)
    if sizes != (1, 4096, 32 * MiB):
        return "block sizes %s" % (sizes,)
    if name != "disk.img" or size != 64 * MiB:
        return "name %r size %d" % (name, size)


def flags_simple():
    h = connect(structured=False)
    r = (h.get_structured_replies_negotiated(), h.can_df(),
         h.can_meta_context(nbd.CONTEXT_BASE_ALLOCATION))
    h.shutdown()
    return r == (False, False, False) or "got %s" % (r,)


def round_trip(structured):
    def run():
        make_image(64 * MiB, [(5 * MiB, os.urandom(3 * MiB))])
        h = connect(structured=structured)
        data = os.urandom(MiB + 123)
        h.pwrite(data, 7 * MiB + 17)
        back = h.pread(len(data), 7 * MiB + 17)
        if back != data:
            return "read back differs"
        if file_bytes(7 * MiB + 17, len(data)) != data:
            return "file differs"
        # The largest read, across data and holes.
        big = h.pread(32 * MiB, 3 * MiB)
        h.shutdown()
        if hashlib.sha256(big).digest() != \
                hashlib.sha256(file_bytes(3 * MiB, 32 * MiB)).digest():
            return "32 MiB read differs from the file"
    return run


def extents(h, off, length, flags=0):
    got = []

    def cb(meta, offset, entries, err):
        for i in range(0, len(entries), 2):
            got.append((entries[i], entries[i + 1]))
        return 0
    h.block_status(length, off, cb, flags)
    return got


def block_status():
    d = b"\x55" * 65536
    make_image(16 * MiB, [(MiB, d), (8 * MiB, d + d)])
    h = connect()
    m, off, size = [], 0, h.get_size()
    while off < size:
        e = extents(h, off, size - off)
        for n, fl in e:
            if m and m[-1][1] == fl:
                m[-1] = (m[-1][0] + n, fl)
            else:
                m.append((n, fl))
            off += n
    one = extents(h, 0, size, nbd.CMD_FLAG_REQ_ONE)
    h.shutdown()
    want = [(MiB, 3), (65536, 0), (7 * MiB - 65536, 3), (131072, 0),
            (8 * MiB - 131072, 3)]
    if m != want:
        return "extents %s" % m
    if one != [(MiB, 3)]:
        return "REQ_ONE gave %s" % one


def in_flight(structured):
    def run():
        make_image(256 * MiB)
        h = connect(structured=structured)
        rnd = random.Random(7)
        slots = list(range(0, 256 * MiB, 256 * 1024))
        rnd.shuffle(slots)
        jobs = [(off, rnd.randrange(1, 64) * 4096) for off in slots[:BIG]]
        pats = {}
        done = [0]

        def cb(err):
            done[0] += 1
            return 0
        start, peak, i = time.time(), 0, 0
        # Writes with a queue of 64, then reads of the same with 64.
        for phase in ("write", "read"):
            bufs, i = [], 0
            while i < len(jobs) or h.aio_in_flight() > 0:
                while i < len(jobs) and h.aio_in_flight() < 64:
                    off, n = jobs[i]
                    if phase == "write":
                        pats[off] = os.urandom(n)
                        h.aio_pwrite(pats[off], off, completion=cb)
                    else:
                        b = nbd.Buffer(n)
                        bufs.append((off, b))
                        h.aio_pread(b, off, completion=cb)
                    i += 1
                peak = max(peak, h.aio_in_flight())
                h.poll(-1)
            if phase == "read":
                for off, b in bufs:
                    if b.to_bytearray() != pats[off]:
                        return "read at %d differs" % off
        secs = time.time() - start
        total = sum(n for _, n in jobs)
        h.shutdown()
        for off, n in jobs[:50]:
            if file_bytes(off, n) != pats[off]:
                return "file at %d differs" % off
        if peak < 64:
            return "only %d requests were in flight at once" % peak
        print("# %d requests, %d in flight, %.1f MiB each way in %.2f s"
              % (2 * len(jobs), peak, total / MiB, secs), flush=True)
    return run


def zero_trim_cache():
    make_image(16 * MiB, [(0, b"\xff" * (8 * MiB))])
    h = connect()
    h.zero(MiB, MiB)
    h.zero(MiB, 3 * MiB, nbd.CMD_FLAG_NO_HOLE | nbd.CMD_FLAG_FUA)
    h.zero(MiB, 5 * MiB, nbd.CMD_FLAG_FAST_ZERO)
    h.trim(MiB, 6 * MiB)
    h.cache(4 * MiB, 0)
    h.flush()
    h.shutdown()
    for off in (MiB, 3 * MiB, 5 * MiB, 6 * MiB):
        if file_bytes(off, MiB) != b"\0" * MiB:
            return "not zero at %d" % off
    if file_bytes(2 * MiB, 16) != b"\xff" * 16:
        return "zeroed too much"
    fd = os.open(IMG, os.O_RDONLY)
    try:
        hole1 = os.lseek(fd, MiB, os.SEEK_DATA) != MiB
        hole6 = os.lseek(fd, 6 * MiB, os.SEEK_DATA) != 6 * MiB
        data3 = os.lseek(fd, 3 * MiB, os.SEEK_DATA) == 3 * MiB
    finally:
        os.close(fd)
    if not (hole1 and hole6 and data3):
        return "holes: zero %s trim %s, NO_HOLE kept data %s" % (
            hole1, hole6, data3)


def errors_keep_connection(structured):
    def run():
        make_image(MiB)
        h = connect(structured=structured)
        h.set_strict_mode(0)
        r = [expect_error(lambda: h.pread(10, MiB - 5), "EINVAL"),
             expect_error(lambda: h.pwrite(b"x" * 10, MiB - 5), "ENOSPC"),
             expect_error(lambda: h.pread(32 * MiB + 1, 0), "EINVAL"),
             expect_error(lambda: h.trim(10, MiB), "EINVAL")]
        h.pwrite(b"after", 0)
        back = h.pread(5, 0)
        h.shutdown()
        bad = [x for x in r if x is not True]
        if bad:
            return "; ".join(bad)
        return back == b"after" or "not usable after the errors"
    return run


def read_only():
    make_image(MiB, [(0, b"ro")])
    h = connect("-r")
    ro = h.is_read_only() and not h.can_trim() and not h.can_zero()
    h.set_strict_mode(0)
    r = expect_error(lambda: h.pwrite(b"x", 0), "EPERM")
    back = h.pread(2, 0)
    h.shutdown()
    if not ro:
        return "not advertised read-only"
    if r is not True:
        return r
    return back == b"ro" and file_bytes(0, 2) == b"ro" or "file changed"


def exit_status():
    """DISC ends the server with 0; its log has the summary line."""
    make_image(MiB)
    a, b = socket.socketpair()
    p = subprocess.Popen([HANDLER, "nbd", IMG], stdin=b, stdout=b,
                         stderr=subprocess.PIPE)
    b.close()
    h = nbd.NBD()
    h.connect_socket(a.detach())
    h.pwrite(b"z" * 4096, 0)
    h.shutdown()
    err = p.stderr.read().decode()
    rc = p.wait(10)
    if rc != 0:
        return "exit %d: %s" % (rc, err)
    if "end=disconnected" not in err or "written=4096" not in err:
        return "no summary: %s" % err


def opt_mode():
    make_image(MiB)
    h = nbd.NBD()
    h.set_opt_mode(True)
    h.connect_command([HANDLER, "nbd", IMG])
    names = []
    h.opt_list(lambda name, desc: names.append(name) or 0)
    h.set_export_name("nosuch")
    r = expect_error(lambda: h.opt_info(), None)
    h.set_export_name("disk.img")
    h.opt_info()
    size = h.get_size()
    h.opt_go()
    data = h.pread(4, 0)
    h.shutdown()
    if names != ["disk.img"]:
        return "LIST gave %s" % names
    if r is not True:
        return "INFO of an unknown export: %s" % r
    return size == MiB and data == b"\0" * 4 or "size %d" % size


case("libnbd_flags_structured", flags_structured)
case("libnbd_flags_simple", flags_simple)
case("libnbd_round_trip_structured", round_trip(True))
case("libnbd_round_trip_simple", round_trip(False))
case("libnbd_block_status_sparse", block_status)
case("libnbd_64_in_flight_structured", in_flight(True))
case("libnbd_64_in_flight_simple", in_flight(False))
case("libnbd_zero_trim_cache_flush", zero_trim_cache)
case("libnbd_errors_keep_connection_structured", errors_keep_connection(True))
case("libnbd_errors_keep_connection_simple", errors_keep_connection(False))
case("libnbd_read_only", read_only)
case("libnbd_exit_status_after_disc", exit_status)
case("libnbd_opt_mode_list_info_go", opt_mode)
finish()
