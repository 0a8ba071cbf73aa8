# Read-only mode: `handler sftp -R ROOT` answers every modifying request with
# PERMISSION_DENIED and still serves reads. Run by sftp_readonly.sh, which
# builds ROOT (file.txt, big.bin, emptydir/, dir/inner.txt, link -> file.txt)
# and compares the tree before and after.
# usage: sftp_readonly.py ROOT
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

ROOT = sys.argv[1]
tap = sr.Tap()
c = sr.Sftp(sr.server_argv(ROOT, ["-R"]))
PD = sr.PERMISSION_DENIED


def code_of(fn):
    try:
        r = fn()
        return r if isinstance(r, int) else sr.OK
    except sr.SftpError as e:
        return e.code


def denied(name, fn):
    got = code_of(fn)
    tap.ok("readonly_" + name, got == PD,
           "expected PERMISSION_DENIED, got %s" % sr.NAMES.get(got, got))


def open_close(path, flags):
    h = c.open(path, flags)
    c.close(h)
    return sr.OK


# Opens that could modify.
denied("open_write", lambda: open_close("file.txt", sr.WRITE))
denied("open_read_write", lambda: open_close("file.txt", sr.READ | sr.WRITE))
denied("open_creat_new", lambda: open_close("new.txt", sr.WRITE | sr.CREAT))
denied("open_creat_excl", lambda: open_close("new2.txt", sr.WRITE | sr.CREAT | sr.EXCL))
denied("open_trunc", lambda: open_close("file.txt", sr.WRITE | sr.TRUNC))
denied("open_read_trunc", lambda: open_close("file.txt", sr.READ | sr.TRUNC))
denied("open_read_creat", lambda: open_close("new3.txt", sr.READ | sr.CREAT))
denied("open_append", lambda: open_close("file.txt", sr.WRITE | sr.APPEND))

# Namespace and metadata changes.
denied("mkdir", lambda: c.mkdir("newdir"))
denied("rmdir", lambda: c.rmdir("emptydir"))
denied("remove", lambda: c.remove("file.txt"))
denied("remove_link", lambda: c.remove("link"))
denied("rename", lambda: c.rename("file.txt", "renamed.txt"))
denied("rename_over", lambda: c.rename("file.txt", "dir/inner.txt"))
denied("symlink", lambda: c.symlink("file.txt", "newlink"))
denied("setstat_perm", lambda: c.setstat("file.txt", sr.attrs(perm=0o600)))
denied("setstat_times", lambda: c.setstat("file.txt", sr.attrs(times=(1, 1))))
denied("setstat_truncate", lambda: c.setstat("file.txt", sr.attrs(size=0)))
denied("setstat_uidgid", lambda: c.setstat("file.txt", sr.attrs(uidgid=(1, 1))))

# A read handle must not become a way to write.
h = c.open("file.txt", sr.READ)
got = c.write(h, 0, b"overwritten")
tap.ok("readonly_write_on_read_handle", got != sr.OK,
       "WRITE on a read handle returned OK")
denied("fsetstat_perm", lambda: c.fsetstat(h, sr.attrs(perm=0o600)))
denied("fsetstat_truncate", lambda: c.fsetstat(h, sr.attrs(size=0)))
denied("fsetstat_times", lambda: c.fsetstat(h, sr.attrs(times=(1, 1))))


def ext(name, payload, testname):
    """Sent even when not advertised (OpenSSH hides them under -R): then
    OP_UNSUPPORTED is as good as PERMISSION_DENIED."""
    got = c.xstatus(name, payload)
    allowed = (PD,) if name in c.ext else (PD, sr.OP_UNSUPPORTED)
    tap.ok("readonly_" + testname, got in allowed,
           "%s: expected PERMISSION_DENIED, got %s%s" % (
               name, sr.NAMES.get(got, got), "" if name in c.ext else " (not advertised)"))


ext("posix-rename@openssh.com", sr.s("file.txt") + sr.s("renamed2.txt"), "posix_rename")
ext("hardlink@openssh.com", sr.s("file.txt") + sr.s("hardlink.txt"), "hardlink")
ext("lsetstat@openssh.com", sr.s("link") + sr.attrs(perm=0o600), "lsetstat")
ext("lsetstat@openssh.com", sr.s("file.txt") + sr.attrs(times=(1, 1)), "lsetstat_times")
# copy-data needs a write handle, which -R never hands out: with two read
# handles it must still not write.
ext("copy-data", sr.s(h) + sr.u64(0) + sr.u64(0) + sr.s(h) + sr.u64(3), "copy_data")
if True:
    got = c.xstatus("fsync@openssh.com", sr.s(h))
    # fsync of a read handle changes nothing; OpenSSH refuses it under -R.
    tap.ok("readonly_fsync_read_handle", got in (sr.OK, PD, sr.OP_UNSUPPORTED),
           "fsync gave %s" % sr.NAMES.get(got, got))
c.close(h)

# Reads still work.
with open(os.path.join(ROOT, "big.bin"), "rb") as f:
    big = f.read()
try:
    tap.ok("readonly_read_file", c.get("file.txt") == b"hello read-only\n", "content differs")
    tap.ok("readonly_read_big", c.get("big.bin") == big, "big.bin content differs")
except sr.SftpError as e:
    tap.ok("readonly_read_file", False, str(e))
try:
    names = sorted(c.listdir("."))
    tap.ok("readonly_listdir",
           names == sorted([b".", b"..", b"file.txt", b"big.bin", b"emptydir", b"dir", b"link"]),
           "listing %r" % names)
except sr.SftpError as e:
    tap.ok("readonly_listdir", False, str(e))
try:
    a = c.stat("big.bin")
    tap.ok("readonly_stat", a.get("size") == len(big), "stat %r" % a)
    a = c.lstat("link")
    tap.ok("readonly_lstat", a.get("perm", 0) & 0o170000 == 0o120000, "lstat %r" % a)
    tap.ok("readonly_readlink", c.readlink("link") == b"file.txt", "readlink")
    tap.ok("readonly_realpath", c.realpath("dir/..") == b"/", "realpath")
except sr.SftpError as e:
    tap.ok("readonly_stat_family", False, str(e))
if "statvfs@openssh.com" in c.ext:
    rt, r = c.extended("statvfs@openssh.com", sr.s("/"))
    tap.ok("readonly_statvfs", rt == sr.T_XREPLY, "statvfs reply type %d" % rt)
if "limits@openssh.com" in c.ext:
    rt, r = c.extended("limits@openssh.com", b"")
    tap.ok("readonly_limits", rt == sr.T_XREPLY, "limits reply type %d" % rt)
rc = c.quit()
tap.ok("readonly_server_exit", rc == 0, "server exit status %s" % rc)
sys.exit(3 if tap.failed else 0)
