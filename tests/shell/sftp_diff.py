# Differential test: the same request sequence, error cases mostly, against
# `handler sftp ROOT1` and OpenSSH's `sftp-server -d ROOT2` (two copies of
# the same tree); reply types and status codes must agree. Run by
# tests/interop/sftp_openssh.sh.
# usage: sftp_diff.py ROOT1 ROOT2 REFERENCE-SERVER
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

ROOT1, ROOT2, REF = sys.argv[1], sys.argv[2], sys.argv[3]
tap = sr.Tap()
ours = sr.Sftp(sr.server_argv(ROOT1))
ref = sr.Sftp([REF, "-d", ROOT2])
s, u32, u64, attrs = sr.s, sr.u32, sr.u64, sr.attrs


def summary(c, root, t, r):
    """What must agree: the reply type, a status code, a NAME's names."""
    if t == sr.T_STATUS:
        return "STATUS " + sr.NAMES.get(r.u32(), "?")
    if t == sr.T_HANDLE:
        return "HANDLE"
    if t == sr.T_DATA:
        return "DATA %d" % len(r.s())
    if t == sr.T_NAME:
        names = []
        for _ in range(r.u32()):
            n = r.s().decode("utf-8", "replace")
            if n.startswith(root):
                n = "/" + n[len(root):].lstrip("/")
            names.append(n)
            r.s()
            r.attrs()
        return "NAME " + ",".join(sorted(names))
    if t == sr.T_XREPLY:
        return "EXTENDED_REPLY %d bytes" % (len(r.b) - r.p)
    if t == sr.T_ATTRS:
        a = r.attrs()
        a.pop("atime", None)  # reads touch it at different moments
        return "ATTRS " + " ".join("%s=%s" % kv for kv in sorted(a.items()))
    return "type %d" % t


handles = {}
# Known, harmless differences (error codes for requests real clients do not
# send): reported as notes, not failures. Everything else must match.
ALLOWED = {
    "open_dir_read": "OpenSSH hands out a handle for OPEN of a directory",
    "close_dir_as_file": "follows from open_dir_read",
    "read_len_0": "a zero-length READ: OpenSSH answers DATA with 0 bytes",
    "close_again": "status code for an already closed handle",
    "readlink_file": "OpenSSH passes EINVAL on as BAD_MESSAGE",
    "fsync_bogus": "status code for a bogus handle",
}


def both(name, t, build):
    """build(c, root) gives the payload for client c; compares replies."""
    got = []
    for c, root in ((ours, ROOT1), (ref, ROOT2)):
        payload = build(c, root)
        rt, r = c.call(t, payload)
        if rt == sr.T_HANDLE:
            handles.setdefault(name, {})[c] = r.s()
            r = sr.Reader(u32(len(handles[name][c])) + handles[name][c])
        got.append(summary(c, root, rt, r))
    if got[0] != got[1] and name in ALLOWED:
        print("ok diff_%s # differs from OpenSSH (%s): handler %s, sftp-server %s"
              % (name, ALLOWED[name], got[0], got[1]), flush=True)
        return
    tap.ok("diff_" + name, got[0] == got[1],
           "handler: %s, openssh sftp-server: %s" % (got[0], got[1]))


def p(path):
    """A path relative to each server's start directory."""
    return lambda c, root: s(path)


def h(label, tail=b""):
    return lambda c, root: s(handles.get(label, {}).get(c, b"bogus")) + tail


# stat family
both("stat_file", 17, p("file.txt"))
both("stat_dir", 17, p("dir"))
both("stat_link", 17, p("link"))
both("lstat_link", 7, p("link"))
both("stat_dangling", 17, p("dangling"))
both("lstat_dangling", 7, p("dangling"))
both("stat_missing", 17, p("missing"))
both("stat_missing_parent", 17, p("missing/x"))
both("stat_notdir", 17, p("file.txt/x"))
both("stat_loop", 17, p("loop"))
both("stat_too_long", 17, p("x" * 300))
# open / opendir
both("open_missing", 3, lambda c, r: s("missing") + u32(sr.READ) + attrs())
both("open_excl_existing", 3, lambda c, r: s("file.txt") + u32(sr.WRITE | sr.CREAT | sr.EXCL) + attrs())
both("open_creat_missing_dir", 3, lambda c, r: s("missing/new") + u32(sr.WRITE | sr.CREAT) + attrs())
both("open_dir_write", 3, lambda c, r: s("dir") + u32(sr.WRITE) + attrs())
both("open_no_flags", 3, lambda c, r: s("file.txt") + u32(0) + attrs())
both("opendir_file", 11, p("file.txt"))
both("opendir_missing", 11, p("missing"))
both("open_dir_read", 3, lambda c, r: s("dir") + u32(sr.READ) + attrs())
both("read_dir_handle", 5, h("open_dir_read", u64(0) + u32(100)))
both("close_dir_as_file", 4, h("open_dir_read"))
# handles
both("open_read", 3, lambda c, r: s("file.txt") + u32(sr.READ) + attrs())
both("read_at_0", 5, h("open_read", u64(0) + u32(4)))
both("read_past_eof", 5, h("open_read", u64(10 ** 6) + u32(4)))
both("read_len_0", 5, h("open_read", u64(0) + u32(0)))
both("write_read_handle", 6, h("open_read", u64(0) + s(b"zz")))
both("readdir_file_handle", 12, h("open_read"))
both("fstat_read_handle", 8, h("open_read"))
both("close_read", 4, h("open_read"))
both("close_again", 4, h("open_read"))
both("read_closed", 5, h("open_read", u64(0) + u32(4)))
both("read_bogus_handle", 5, lambda c, r: s(b"\xff\xff\xff\xff") + u64(0) + u32(4))
both("opendir_dir", 11, p("dir"))
both("readdir", 12, h("opendir_dir"))
both("readdir_eof", 12, h("opendir_dir"))
both("read_on_dir_handle", 5, h("opendir_dir", u64(0) + u32(4)))
both("closedir", 4, h("opendir_dir"))
# namespace errors
both("remove_missing", 13, p("missing"))
both("remove_dir", 13, p("dir"))
both("rmdir_file", 15, p("file.txt"))
both("rmdir_nonempty", 15, p("dir"))
both("rmdir_missing", 15, p("missing"))
both("mkdir_existing", 14, lambda c, r: s("dir") + attrs())
both("mkdir_missing_parent", 14, lambda c, r: s("missing/d") + attrs())
both("rename_to_existing", 18, lambda c, r: s("file.txt") + s("other.txt"))
both("rename_missing", 18, lambda c, r: s("missing") + s("newname"))
both("rename_dir_into_itself", 18, lambda c, r: s("dir") + s("dir/sub"))
both("symlink_existing", 20, lambda c, r: s("x") + s("file.txt"))
both("readlink_file", 19, p("file.txt"))
both("readlink_missing", 19, p("missing"))
both("readlink_link", 19, p("link"))
both("setstat_missing", 9, lambda c, r: s("missing") + attrs(perm=0o644))
both("setstat_dir_size", 9, lambda c, r: s("dir") + attrs(size=0))
both("realpath_missing_leaf", 16, p("missing"))
both("realpath_missing_parent", 16, p("missing/x"))
both("realpath_file_parent", 16, p("file.txt/x"))
# extensions
both("unknown_extension", 200, lambda c, r: s("no-such-extension@example.com"))
both("posix_rename_missing", 200, lambda c, r: s("posix-rename@openssh.com") + s("missing") + s("x"))
both("hardlink_existing", 200, lambda c, r: s("hardlink@openssh.com") + s("file.txt") + s("other.txt"))
both("hardlink_missing", 200, lambda c, r: s("hardlink@openssh.com") + s("missing") + s("x2"))
both("statvfs_missing", 200, lambda c, r: s("statvfs@openssh.com") + s("missing"))
both("lsetstat_missing", 200, lambda c, r: s("lsetstat@openssh.com") + s("missing") + attrs(perm=0o600))
both("fsync_bogus", 200, lambda c, r: s("fsync@openssh.com") + s(b"\xff\xff\xff\xff"))
both("expand_path_missing", 200, lambda c, r: s("expand-path@openssh.com") + s("missing"))
# the server's own view of a file, compared field by field
# (atime left out: reading the file above touched it at different times)
a1, a2 = ours.stat("file.txt"), ref.stat("file.txt")
a1.pop("atime", None)
a2.pop("atime", None)
tap.ok("diff_attrs_file", a1 == a2, "handler %r, sftp-server %r" % (a1, a2))
l1 = {n: ln for n, ln, _ in ours.readdir(ours.opendir("dir"))}
l2 = {n: ln for n, ln, _ in ref.readdir(ref.opendir("dir"))}
tap.ok("diff_longnames", l1 == l2,
       "handler %r\nsftp-server %r" % (sorted(l1.values()), sorted(l2.values())))
# An unknown request type: OpenSSH's server logs it and sends nothing (a
# client would wait forever, and now and then it also misses the next
# request); the handler answering OP_UNSUPPORTED is better. Only the
# handler is asked, and must carry on.
rt, r = ours.call(99, b"")
got = summary(ours, ROOT1, rt, r)
tap.ok("unknown_type_answered", got == "STATUS OP_UNSUPPORTED", "handler: %s" % got)
tap.ok("after_unknown_type", ours.stat("file.txt").get("size") == 11, "stat after it failed")
# Effects on disk must match too: both trees are compared entry by entry.
def disk_state(root, names):
    out = {}
    for n in names:
        path = os.path.join(root, n)
        try:
            st = os.lstat(path)
        except OSError as e:
            out[n] = "missing %d" % e.errno
            continue
        data = b""
        if stat.S_ISREG(st.st_mode):
            with open(path, "rb") as f:
                data = f.read(64)
        out[n] = (oct(st.st_mode), st.st_size, st.st_uid, st.st_gid, int(st.st_mtime), data)
    return out


def same_effect(name, names):
    a, b = disk_state(ROOT1, names), disk_state(ROOT2, names)
    tap.ok("diff_effect_" + name, a == b, "handler tree %r, sftp-server tree %r" % (a, b))


both("open_append", 3, lambda c, r: s("other.txt") + u32(sr.WRITE | sr.APPEND) + attrs())
both("write_append_at_0", 6, h("open_append", u64(0) + s(b"APPENDED")))
both("close_append", 4, h("open_append"))
same_effect("append", ["other.txt"])
both("open_creat_mode", 3, lambda c, r: s("mode600") + u32(sr.WRITE | sr.CREAT) + attrs(perm=0o600))
both("close_creat_mode", 4, h("open_creat_mode"))
both("mkdir_mode", 14, lambda c, r: s("dir700") + attrs(perm=0o700))
both("setstat_times_2106", 9, lambda c, r: s("mode600") + attrs(times=(0xFFFFFFFF, 0xFFFFFFFE)))
both("stat_times_2106", 17, p("mode600"))
both("setstat_chown", 9, lambda c, r: s("mode600") + attrs(uidgid=(1234, 5678)))
both("setstat_size_5g", 9, lambda c, r: s("mode600") + attrs(size=5 << 30))
both("stat_size_5g", 17, p("mode600"))
both("open_5g", 3, lambda c, r: s("mode600") + u32(sr.READ | sr.WRITE) + attrs())
both("write_at_5g", 6, h("open_5g", u64((5 << 30) - 3) + s(b"END-OF-5G")))
both("read_at_5g", 5, h("open_5g", u64((5 << 30) - 3) + u32(100)))
both("close_5g", 4, h("open_5g"))
same_effect("modes_times_sizes", ["mode600", "dir700"])
both("lsetstat_link_times", 200, lambda c, r: s("lsetstat@openssh.com") + s("link")
     + attrs(times=(1000000000, 1100000000)))
both("lsetstat_link_perm", 200, lambda c, r: s("lsetstat@openssh.com") + s("link") + attrs(perm=0o600))
both("lstat_after_lsetstat", 7, p("link"))
same_effect("lsetstat", ["link", "file.txt"])
both("open_for_fstatvfs", 3, lambda c, r: s("file.txt") + u32(sr.READ) + attrs())
both("fstatvfs", 200, lambda c, r: s("fstatvfs@openssh.com") + h("open_for_fstatvfs")(c, r))
both("fsync_read_handle", 200, lambda c, r: s("fsync@openssh.com") + h("open_for_fstatvfs")(c, r))
both("close_fstatvfs", 4, h("open_for_fstatvfs"))
for c, root in ((ours, ROOT1), (ref, ROOT2)):
    os.truncate(os.path.join(root, "mode600"), 0)

# Odd names: spaces, newline, non-UTF-8 bytes, a leading dash.
names = [b"with space", b"new\nline", b"caf\xc3\xa9", b"bad\xff\xfe", b"-dash", b"%s%n"]
for root in (ROOT1, ROOT2):
    os.mkdir(os.path.join(root, "odd"))
    for n in names:
        with open(os.path.join(root.encode(), b"odd", n), "wb") as f:
            f.write(n)
try:
    l1 = sorted((n, ln) for n, ln, _ in ours.readdir(ours.opendir("odd")))
    l2 = sorted((n, ln) for n, ln, _ in ref.readdir(ref.opendir("odd")))
    tap.ok("diff_odd_names_listing", l1 == l2, "handler %r\nsftp-server %r" % (l1, l2))
    bad = [n for n in names if ours.get(b"odd/" + n) != n]
    tap.ok("odd_names_get", not bad, "could not read %r" % bad)
except sr.SftpError as e:
    tap.ok("diff_odd_names_listing", False, str(e))

# Robustness, the handler alone: oversized and odd requests get an answer
# and the session goes on.
rt, r = ours.extended("limits@openssh.com", b"")
lim = [r.u64() for _ in range(4)] if rt == sr.T_XREPLY else [0, 0, 0, 0]
tap.ok("limits_sane", lim[0] >= 34000 and lim[1] >= 32768 and lim[2] >= 32768 and lim[3] >= 16,
       "limits@openssh.com: %r" % lim)
with open(os.path.join(ROOT1, "big.bin"), "wb") as f:
    f.write(os.urandom(600000))
hb = ours.open("big.bin", sr.READ)
try:
    n = len(ours.read(hb, 0, 0xFFFFFFFF))
    tap.ok("read_huge_len_clamped", 0 < n <= max(lim[1], 1), "READ of 4 GiB gave %d bytes" % n)
except sr.SftpError as e:
    tap.ok("read_huge_len_clamped", False, str(e))
hw = ours.open("sparse.bin", sr.WRITE | sr.CREAT)
code = ours.write(hw, 1 << 62, b"x")
tap.ok("write_huge_offset", code != sr.OK or os.path.getsize(os.path.join(ROOT1, "sparse.bin")) > 0,
       "status %s" % code)
code = ours.write(hw, 0, b"y" * min(lim[2], 1 << 18))
tap.ok("write_max_len", code == sr.OK, "WRITE of max-write bytes: %s" % sr.NAMES.get(code, code))
ours.close(hw)
ours.close(hb)
hs, err = [], None
try:
    for _ in range(lim[3] + 5 if lim[3] else 300):
        hs.append(ours.open("file.txt", sr.READ))
except sr.SftpError as e:
    err = e
tap.ok("too_many_handles", err is not None and err.code == sr.FAILURE and len(hs) >= min(lim[3], 64) - 8,
       "%d handles then %s (limit %d)" % (len(hs), err, lim[3]))
for x in hs:
    ours.close(x)
tap.ok("handles_freed", len(ours.get("file.txt")) > 0, "cannot open after closing")


def flood(n, make, check):
    """n requests written by a thread while this one reads the replies: the
    server must apply back-pressure, not deadlock or drop any."""
    import threading
    base = ours.id
    reqs = [make(i) for i in range(n)]

    def writer():
        for i, (t, payload) in enumerate(reqs):
            ours.send(t, u32(base + 1 + i) + payload)
    th = threading.Thread(target=writer)
    th.start()
    bad = None
    for i in range(n):
        try:
            rt, r = ours.recv()
        except TimeoutError:
            ours.p.kill()  # unblocks the writer thread
            th.join()
            return "got %d of %d replies, then none for %d s" % (i, n, ours.timeout)
        rid = r.u32()
        if rid != base + 1 + i and bad is None:
            bad = "reply %d has id %d" % (i, rid)
        why = check(i, rt, r)
        if why and bad is None:
            bad = why
    th.join()
    ours.id = base + n
    return bad


big = open(os.path.join(ROOT1, "big.bin"), "rb").read()
hb = ours.open("big.bin", sr.READ)
step = 200000


def read_check(i, rt, r):
    if rt != sr.T_DATA:
        return "reply %d: type %d" % (i, rt)
    d = r.s()
    off = (i * 7919) % len(big)
    if d != big[off:off + len(d)] or not d:
        return "reply %d: wrong data" % i
    return None


why = flood(1000, lambda i: (5, s(hb) + u64((i * 7919) % len(big)) + u32(step)), read_check)
tap.ok("pipelined_1000_reads", why is None, why or "")
if ours.p.poll() is not None:
    sys.exit(3)
ours.close(hb)
hw = ours.open("flood.bin", sr.WRITE | sr.CREAT | sr.TRUNC)
chunk = os.urandom(32768)
why = flood(2000, lambda i: (6, s(hw) + u64(i * 32768) + s(chunk)),
            lambda i, rt, r: None if rt == sr.T_STATUS and r.u32() == sr.OK else "write %d failed" % i)
if ours.p.poll() is not None:
    tap.ok("pipelined_2000_writes", False, why)
    sys.exit(3)
ours.close(hw)
tap.ok("pipelined_2000_writes", why is None and os.path.getsize(os.path.join(ROOT1, "flood.bin"))
       == 2000 * 32768, why or "size %d" % os.path.getsize(os.path.join(ROOT1, "flood.bin")))
tap.ok("alive_after_robustness", ours.realpath(".") == b"/", "realpath failed")


def abrupt(name, feed, close_stdout, want):
    """A fresh session fed raw bytes, then hung up on: the handler must
    exit on its own, soon, with an exit code in want (not a signal)."""
    import subprocess
    x = sr.Sftp(sr.server_argv(ROOT1), stderr=subprocess.DEVNULL)
    try:
        b = memoryview(feed)
        while len(b):
            b = b[x.p.stdin.write(b):]
    except BrokenPipeError:
        pass
    if close_stdout:
        x.p.stdout.close()
    try:
        x.p.stdin.close()
    except BrokenPipeError:
        pass
    try:
        rc = x.p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        x.p.kill()
        x.p.wait()
        rc = "still running after 10 s"
    tap.ok(name, rc in want, "exit status %s, expected one of %s" % (rc, want))


opens = b"".join(u32(1 + 4 + 4 + len("big.bin") + 4 + 4) + bytes([3]) + u32(500 + i)
                 + s("big.bin") + u32(sr.READ) + attrs() for i in range(50))
reads = b"".join(u32(1 + 4 + 4 + 4 + 8 + 4) + bytes([5]) + u32(900 + i) + s(u32(0))
                 + u64(0) + u32(65536) for i in range(50))
abrupt("hangup_with_replies_pending", opens + reads, True, (0, 111))
abrupt("eof_inside_packet", u32(100) + bytes([17]) + u32(1), False, (0, 100, 111))
abrupt("oversized_packet", u32(64 << 20) + bytes([6]) + b"\0" * 100, False, (100, 111))
abrupt("zero_length_packet", u32(0), False, (100, 111, 0))
r1, r2 = ours.quit(), ref.quit()
tap.ok("diff_exit", r1 == 0, "handler exit %s" % r1)
sys.exit(3 if tap.failed else 0)
