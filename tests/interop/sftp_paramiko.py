# paramiko's SFTPClient against a server command over pipes: paramiko takes
# any object with send/recv/close/get_name as its channel. Prints ok / not ok
# lines; run by sftp_paramiko.sh with Debian's /usr/bin/python3.
# usage: sftp_paramiko.py ROOT BIGMIB SERVER-ARGV...
import errno
import hashlib
import os
import re
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pywire import PipeSock  # noqa: E402
from tap import case, finish, ok  # noqa: E402

import paramiko
from paramiko.py3compat import long
from paramiko.sftp import CMD_EXTENDED, CMD_EXTENDED_REPLY

ROOT, BIG = sys.argv[1], int(sys.argv[2])
ARGV = sys.argv[3:]


def disk(p):
    return os.path.join(ROOT, p)


def sha_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def expect_errno(fn, want):
    try:
        fn()
    except IOError as e:
        if e.errno == want:
            return None
        return "expected errno %s, got %r" % (errno.errorcode[want], e)
    return "succeeded, expected errno %s" % errno.errorcode[want]


def expect_error(fn):
    try:
        fn()
    except IOError:
        return None
    return "succeeded, expected an error"


sock = PipeSock(ARGV)
c = paramiko.SFTPClient(sock)

START = c.normalize(".")
# OpenSSH's unconfined server (SFTP_REF) starts in ROOT's host path.
TOP = "/" if not os.environ.get("SFTP_REF") else START
case("paramiko_normalize_dot", lambda: START == TOP or "normalize('.') = %r" % START)
case("paramiko_mkdir", lambda: (c.mkdir("d"), os.path.isdir(disk("d")))[1] or "no dir")
case("paramiko_mkdir_mode", lambda: (c.mkdir("m", 0o700),
                                     stat.S_IMODE(os.stat(disk("m")).st_mode) == 0o700)[1]
     or "mode %o" % os.stat(disk("m")).st_mode)
DTOP = TOP.rstrip("/") + "/d"
case("paramiko_chdir_getcwd", lambda: (c.chdir("d"), c.getcwd() == DTOP)[1] or "cwd %r" % c.getcwd())
case("paramiko_normalize_in_subdir", lambda: c.normalize(".") == DTOP or c.normalize("."))
c.chdir(TOP)

# open / write / seek / read
payload = os.urandom(100000)


def write_read():
    with c.open("d/f", "wb") as f:
        f.write(payload)
    with open(disk("d/f"), "rb") as f:
        if f.read() != payload:
            return "disk content differs after write"
    with c.open("d/f", "rb") as f:
        f.seek(1000)
        if f.read(500) != payload[1000:1500]:
            return "seek+read differs"
        f.seek(99990)
        if f.read(100) != payload[99990:]:
            return "read at end differs"
        if f.read(10) != b"":
            return "read past EOF not empty"
    return True


case("paramiko_write_read_seek", write_read)


def read_write_mode():
    with c.open("d/f", "r+b") as f:
        f.seek(10)
        f.write(b"XYZ")
    with open(disk("d/f"), "rb") as f:
        d = f.read()
    return d == payload[:10] + b"XYZ" + payload[13:] or "r+ overwrite wrong"


case("paramiko_open_rplus", read_write_mode)


def append_mode():
    with c.open("d/app", "wb") as f:
        f.write(b"one")
    with c.open("d/app", "ab") as f:
        f.write(b"two")
    with open(disk("d/app"), "rb") as f:
        return f.read() == b"onetwo" or "append wrong"


case("paramiko_append", append_mode)
case("paramiko_open_excl_existing", lambda: expect_error(lambda: c.open("d/app", "x")))
case("paramiko_open_missing", lambda: expect_errno(lambda: c.open("nope/x", "rb"), errno.ENOENT))
case("paramiko_stat_missing", lambda: expect_errno(lambda: c.stat("nope"), errno.ENOENT))
case("paramiko_listdir_missing", lambda: expect_errno(lambda: c.listdir("nope"), errno.ENOENT))


def fstat_truncate():
    with c.open("d/app", "r+b") as f:
        a = f.stat()
        if a.st_size != 6:
            return "fstat size %r" % a.st_size
        f.truncate(3)
    return os.path.getsize(disk("d/app")) == 3 or "ftruncate failed"


case("paramiko_fstat_ftruncate", fstat_truncate)


def readv():
    with c.open("d/f", "rb") as f:
        chunks = [(50000, 10), (0, 5), (99000, 1000), (20, 30000)]
        got = list(f.readv(chunks))
    want = [(payload[:10] + b"XYZ" + payload[13:])[o:o + n] for o, n in chunks]
    return got == want or "readv data differs"


case("paramiko_readv", readv)

# The end of a file, byte for byte: a size that is no multiple of
# paramiko's 32 KiB block (nor of 4096), written on disk directly so only
# the server's READ path is under test; whole reads (plain and prefetched),
# a read straddling the end, and reads at offset size-1 (exactly the last
# byte) and size (EOF, no data). A server whose short READ at the end
# drops or invents a byte fails here.
tail_data = os.urandom(3 * 32768 + 4097)
TS = len(tail_data)
with open(disk("tail.bin"), "wb") as f:
    f.write(tail_data)


def first_diff(a, b):
    for i in range(min(len(a), len(b))):
        if a[i] != b[i]:
            return i
    return min(len(a), len(b))


def read_eof_exact():
    with c.open("tail.bin", "rb") as f:
        d = f.read()
        if d != tail_data:
            return "whole read: %d bytes, first difference at %d" % (len(d), first_diff(d, tail_data))
        if f.read(1) != b"":
            return "read at the end after a whole read not empty"
        f.seek(TS - 5000)
        d = f.read(6000)
        if d != tail_data[TS - 5000:]:
            return "read across the end: %d bytes, wanted 5000" % len(d)
        f.seek(TS - 1)
        d = f.read(1)
        if d != tail_data[TS - 1:]:
            return "read(1) at size-1 returned %r" % d
        if f.read(1) != b"":
            return "read(1) at size after size-1 not empty"
        f.seek(TS - 1)
        d = f.read(100)
        if d != tail_data[TS - 1:]:
            return "read(100) at size-1 returned %d bytes" % len(d)
        f.seek(TS)
        d = f.read(10)
        if d != b"":
            return "read at offset size returned %d bytes" % len(d)
    with c.open("tail.bin", "rb") as f:
        f.prefetch()
        d = f.read()
        if d != tail_data:
            return "prefetched read: %d bytes, first difference at %d" % (len(d), first_diff(d, tail_data))
    with c.open("tail.bin", "rb") as f:
        got = list(f.readv([(TS - 1, 1), (TS - 4097, 4097), (0, 1)]))
        if got != [tail_data[TS - 1:], tail_data[TS - 4097:], tail_data[:1]]:
            return "readv at the end differs"
    return True


case("paramiko_read_eof_exact", read_eof_exact)


def read_eof_raw():
    """The READ replies themselves, no client buffering in between."""
    with c.open("tail.bin", "rb") as f:
        h = f.handle
        for off, n, want in ((TS - 1, 32768, tail_data[TS - 1:]),
                             (TS - 1, 1, tail_data[TS - 1:]),
                             (TS - 4097, 32768, tail_data[TS - 4097:])):
            t, msg = c._request(paramiko.sftp.CMD_READ, h, long(off), int(n))
            if t != paramiko.sftp.CMD_DATA:
                return "READ at %d len %d: reply type %d, wanted DATA" % (off, n, t)
            d = msg.get_string()
            if d != want:
                return "READ at %d len %d: %d bytes, wanted %d" % (off, n, len(d), len(want))
        try:
            t, msg = c._request(paramiko.sftp.CMD_READ, h, long(TS), 100)
        except EOFError:
            return True  # paramiko turns the EOF status into EOFError
        return "READ at offset size: reply type %d, wanted the EOF status" % t


case("paramiko_read_eof_raw", read_eof_raw)

# Big file: prefetch download, pipelined upload, get/put.
big = os.urandom(1 << 20) * BIG + os.urandom(12345)
with open(disk("big.bin"), "wb") as f:
    f.write(big)
bigsha = hashlib.sha256(big).hexdigest()


def prefetch():
    with c.open("big.bin", "rb") as f:
        f.prefetch()
        d = f.read()
    return hashlib.sha256(d).hexdigest() == bigsha or "prefetched data differs (%d bytes)" % len(d)


case("paramiko_prefetch_big", prefetch)


def pipelined():
    with c.open("up.bin", "wb") as f:
        f.set_pipelined(True)
        for i in range(0, len(big), 32768):
            f.write(big[i:i + 32768])
    return sha_file(disk("up.bin")) == bigsha or "pipelined upload differs"


case("paramiko_pipelined_write_big", pipelined)
local = os.path.join(os.environ.get("T", "/tmp"), "paramiko_get.bin")
case("paramiko_get", lambda: (c.get("big.bin", local), sha_file(local) == bigsha)[1] or "get differs")
case("paramiko_put", lambda: (c.put(local, "put.bin"), sha_file(disk("put.bin")) == bigsha)[1]
     or "put differs")

# Listing with attributes and long names.
for i in range(300):
    with open(disk("d/n%03d" % i), "wb") as f:
        f.write(b"x" * i)
LONG = re.compile(r"^[-dlpscb][-rwxsStT]{9}[.+@]? +[0-9]+ +\S+ +\S+ +[0-9]+ "
                  r"+[A-Z][a-z]{2} +[0-9]{1,2} +([0-9]{2}:[0-9]{2}|[0-9]{4}) +(\S.*)$")


def listdir_attr():
    attrs = c.listdir_attr("d")
    names = sorted(a.filename for a in attrs)
    want = sorted(os.listdir(disk("d")))
    if names != want:
        return "names differ: %d vs %d" % (len(names), len(want))
    for a in attrs:
        st = os.lstat(disk("d/" + a.filename))
        if a.st_size != st.st_size or a.st_mode != st.st_mode or a.st_mtime != int(st.st_mtime):
            return "attrs of %s differ" % a.filename
        m = LONG.match(a.longname or "")
        if not m or m.group(2) != a.filename:
            return "longname %r not in ls -l form" % a.longname
    return True


case("paramiko_listdir_attr_300", listdir_attr)


def listdir_iter():
    # paramiko keeps several READDIR requests in flight on one handle.
    names = sorted(a.filename for a in c.listdir_iter("d", read_aheads=16))
    want = sorted(os.listdir(disk("d")))
    return names == want or "listdir_iter: %d names, %d on disk" % (len(names), len(want))


case("paramiko_listdir_iter_read_ahead", listdir_iter)


def getfo_concurrency():
    import io
    buf = io.BytesIO()
    c.getfo("big.bin", buf, max_concurrent_prefetch_requests=64)
    return hashlib.sha256(buf.getvalue()).hexdigest() == bigsha or "getfo data differs"


try:
    import inspect
    if "max_concurrent_prefetch_requests" in inspect.signature(c.getfo).parameters:
        case("paramiko_getfo_64_requests", getfo_concurrency)
except (ValueError, TypeError):
    pass


def put_confirm():
    import io
    a = c.putfo(io.BytesIO(b"confirmed" * 1000), "confirmed.txt", confirm=True)
    return a.st_size == 9000 or "size %r" % a.st_size


case("paramiko_putfo_confirm", put_confirm)

# rename does not replace (SFTP v3); posix_rename does.
with open(disk("r1"), "wb") as f:
    f.write(b"r1")
with open(disk("r2"), "wb") as f:
    f.write(b"r2")
case("paramiko_rename_no_overwrite", lambda: expect_error(lambda: c.rename("r1", "r2")))
case("paramiko_rename_kept_both", lambda: (open(disk("r1"), "rb").read(), open(disk("r2"), "rb").read())
     == (b"r1", b"r2") or "files changed")
case("paramiko_rename", lambda: (c.rename("r1", "r3"), not os.path.exists(disk("r1"))
                                 and open(disk("r3"), "rb").read() == b"r1")[1] or "rename failed")
case("paramiko_posix_rename_overwrites", lambda: (c.posix_rename("r3", "r2"),
                                                 open(disk("r2"), "rb").read() == b"r1"
                                                 and not os.path.exists(disk("r3")))[1] or "no overwrite")


# stat, lstat, symlink, readlink
def links():
    c.symlink("d/f", "lnk")
    if os.readlink(disk("lnk")) != "d/f":
        return "on-disk link target %r" % os.readlink(disk("lnk"))
    if c.readlink("lnk") != "d/f":
        return "readlink %r" % c.readlink("lnk")
    if not stat.S_ISLNK(c.lstat("lnk").st_mode):
        return "lstat not a link"
    s = c.stat("lnk")
    if not stat.S_ISREG(s.st_mode) or s.st_size != len(payload):
        return "stat through link wrong"
    return True


case("paramiko_symlink_readlink_stat_lstat", links)


def stat_matches():
    a = c.stat("big.bin")
    st = os.stat(disk("big.bin"))
    return (a.st_size == st.st_size and a.st_mode == st.st_mode and a.st_uid == st.st_uid
            and a.st_gid == st.st_gid and a.st_mtime == int(st.st_mtime)) or "attrs %s" % a


case("paramiko_stat", stat_matches)
case("paramiko_utime", lambda: (c.utime("r2", (1000000000, 1200000000)),
                                os.stat(disk("r2")).st_mtime == 1200000000
                                and os.stat(disk("r2")).st_atime == 1000000000)[1] or "times")
case("paramiko_chmod", lambda: (c.chmod("r2", 0o604), stat.S_IMODE(os.stat(disk("r2")).st_mode)
                                == 0o604)[1] or "mode %o" % os.stat(disk("r2")).st_mode)
case("paramiko_truncate", lambda: (c.truncate("big.bin", 1000), os.path.getsize(disk("big.bin"))
                                   == 1000)[1] or "size")
case("paramiko_remove", lambda: (c.remove("r2"), not os.path.exists(disk("r2")))[1] or "still there")
case("paramiko_remove_missing", lambda: expect_errno(lambda: c.remove("r2"), errno.ENOENT))
case("paramiko_rmdir", lambda: (c.rmdir("m"), not os.path.exists(disk("m")))[1] or "still there")
case("paramiko_rmdir_nonempty", lambda: expect_error(lambda: c.rmdir("d")))


def ext_reply(name, *args):
    t, msg = c._request(CMD_EXTENDED, name, *args)
    return t, msg


def statvfs():
    t, msg = ext_reply("statvfs@openssh.com", TOP)
    if t != CMD_EXTENDED_REPLY:
        return "reply type %d" % t
    v = [msg.get_int64() for _ in range(11)]
    sv = os.statvfs(ROOT)
    if v[0] != sv.f_bsize or v[2] != sv.f_blocks or v[10] != sv.f_namemax:
        return "statvfs %r vs %r" % (v, sv)
    return True


case("paramiko_statvfs", statvfs)


def hardlink():
    ext_reply("hardlink@openssh.com", "d/f", "hl")
    return os.stat(disk("hl")).st_ino == os.stat(disk("d/f")).st_ino or "not the same inode"


case("paramiko_hardlink", hardlink)


def fsync():
    with c.open("d/f", "r+b") as f:
        t, msg = ext_reply("fsync@openssh.com", f.handle)
    return True


case("paramiko_fsync", fsync)


def limits():
    t, msg = ext_reply("limits@openssh.com")
    v = [msg.get_int64() for _ in range(4)]
    # max packet, max read, max write, max open handles
    return (v[0] >= 34000 and v[1] >= 32768 and v[2] >= 32768) or "limits %r" % v


case("paramiko_limits", limits)


def copy_data():
    with open(disk("src.bin"), "wb") as f:
        f.write(b"0123456789" * 1000)
    with c.open("src.bin", "rb") as r, c.open("dst.bin", "wb") as w:
        ext_reply("copy-data", r.handle, long(100), long(5000), w.handle, long(7))
    with open(disk("dst.bin"), "rb") as f:
        d = f.read()
    return d == b"\0" * 7 + (b"0123456789" * 1000)[100:5100] or "copied %d bytes wrong" % len(d)


def maybe_unsupported(name, fn):
    """copy-data is optional: OP_UNSUPPORTED is a skip, not a failure."""
    try:
        r = fn()
    except IOError as e:
        if "nsupported" in str(e):
            print("ok %s # SKIP server said: %s" % (name, e), flush=True)
            return
        ok(name, False, "%s: %s" % (type(e).__name__, e))
        return
    ok(name, r is True, str(r))


maybe_unsupported("paramiko_copy_data", copy_data)

c.close()
rc = sock.wait()
ok("paramiko_server_exit", rc == 0, "server exit status %s" % rc)
finish()
