# Confinement attacks against `handler sftp ROOT`; run by sftp_confine.sh,
# which builds the tree: OUT/secret, OUT/outdir/secret2 outside ROOT, and
# symlinks inside ROOT pointing out. Prints ok / not ok lines.
# usage: sftp_confine.py ROOT OUT SECONDS
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

ROOT, OUT, RACE_SECONDS = sys.argv[1], sys.argv[2], float(sys.argv[3])
SECRET = b"SECRET-OUTSIDE"
tap = sr.Tap()
with open("/etc/passwd", "rb") as f:
    PASSWD = f.read()


def leaked(data):
    return SECRET in data or data == PASSWD or b"root:x:0:0" in data


def try_get(c, path):
    """(status code or None, data)"""
    try:
        return None, c.get(path)
    except sr.SftpError as e:
        return e.code, b""


c = sr.Sftp(sr.server_argv(ROOT))

# The reference answer: a path that simply does not exist.
try:
    c.stat("/no-such-file")
    ref = None
except sr.SftpError as e:
    ref = (e.code, str(e))
tap.ok("confine_reference_enoent", ref is not None and ref[0] == sr.NO_SUCH_FILE,
       "stat of a missing file gave %r" % (ref,))


def denied_like_enoent(name, path, op="get"):
    """Reading PATH must fail exactly like a missing file and leak nothing."""
    try:
        if op == "get":
            data = c.get(path)
        elif op == "stat":
            data = repr(c.stat(path)).encode()
        elif op == "list":
            data = b" ".join(c.listdir(path))
        else:
            raise ValueError(op)
    except sr.SftpError as e:
        same = ref is not None and (e.code, str(e)) == ref
        tap.ok(name, same, "%s %r: got %s, a missing file gives %s"
               % (op, path, e, ref and ref[1]))
        return
    tap.ok(name, False, "%s %r succeeded (%d bytes, leaked=%s)"
           % (op, path, len(data), leaked(data)))


# 1. dot-dot traversal and absolute paths.
denied_like_enoent("confine_dotdot_secret", "../secret")
denied_like_enoent("confine_dotdot_deep", "../../../../../../" + OUT.lstrip("/") + "/secret")
denied_like_enoent("confine_abs_dotdot_passwd", "/../../etc/passwd")
denied_like_enoent("confine_sub_dotdot", "sub/../../secret")
denied_like_enoent("confine_abs_host_path", OUT + "/secret")
denied_like_enoent("confine_abs_etc_passwd", "/etc/passwd")
denied_like_enoent("confine_stat_dotdot", "../secret", "stat")

# 2. pre-existing symlinks inside ROOT that point outside.
denied_like_enoent("confine_symlink_abs_secret", "link_secret")
denied_like_enoent("confine_symlink_rel_secret", "link_secret_rel")
denied_like_enoent("confine_symlink_stat_secret", "link_secret", "stat")
denied_like_enoent("confine_symlink_etc_passwd", "link_etc/passwd")
denied_like_enoent("confine_symlink_root_etc", "link_root/etc/passwd")
denied_like_enoent("confine_symlink_dir_secret2", "link_outdir/secret2")
denied_like_enoent("confine_symlink_updir_secret", "sub/up/secret")
denied_like_enoent("confine_symlink_updir_deep", "sub/up/outdir/secret2")
denied_like_enoent("confine_list_outdir", "link_outdir", "list")
denied_like_enoent("confine_list_etc", "link_etc", "list")

denied_like_enoent("confine_dirlink_dotdot", "link_outdir/../secret")
denied_like_enoent("confine_updir_dotdot", "sub/up/../secret")
denied_like_enoent("confine_double_slash", "//etc/passwd")
denied_like_enoent("confine_chain", "chain1")
denied_like_enoent("confine_trailing_slash_dir", "link_outdir/", "list")


def survives(name, fn):
    """An error is fine; a crash, a hang or a leak is not."""
    try:
        data = fn()
    except sr.SftpError:
        data = b""
    if not isinstance(data, bytes):
        data = repr(data).encode()
    try:
        alive = c.realpath(".") == b"/"
    except (sr.SftpError, EOFError, ValueError) as e:
        alive = False
        data += str(e).encode()
    tap.ok(name, alive and not leaked(data), "server %s, leaked=%s"
           % ("alive" if alive else "dead or wrong", leaked(data)))


survives("confine_symlink_loop", lambda: c.get("loop"))
survives("confine_long_path", lambda: c.get("sub/" + "../" * 3000 + "secret"))
survives("confine_huge_component", lambda: c.stat("x" * 5000))
survives("confine_nul_in_path", lambda: c.get("file.txt\0../../secret"))
survives("confine_empty_path", lambda: c.realpath(""))

# A symlink to / may resolve to ROOT itself; it must never list the host's /.
try:
    names = c.listdir("link_root")
    bad = [n for n in (b"etc", b"usr", b"proc") if n in names]
    tap.ok("confine_list_link_root", not bad, "host / listed: %r" % names[:20])
except sr.SftpError:
    tap.ok("confine_list_link_root", True)
try:
    names = c.listdir("/")
    tap.ok("confine_list_slash_is_root", b"link_secret" in names and b"etc" not in names,
           "listing of / was %r" % names[:20])
except sr.SftpError as e:
    tap.ok("confine_list_slash_is_root", False, "listing / failed: %s" % e)
try:
    names = c.listdir("..")
    tap.ok("confine_list_dotdot_is_root", b"link_secret" in names and b"outdir" not in names,
           "listing of .. was %r" % names[:20])
except sr.SftpError as e:
    tap.ok("confine_list_dotdot_is_root", False, "listing .. failed: %s" % e)

# 3. symlinks the client creates, then reads through.
for name, target in (("mk_passwd", "/etc/passwd"),
                     ("mk_rel", "../../../../../../../../etc/passwd"),
                     ("mk_secret", OUT + "/secret"),
                     ("mk_secret_rel", "../secret")):
    try:
        st = c.symlink(target, name)
    except sr.SftpError as e:
        st = e.code
    code, data = try_get(c, name)
    tap.ok("confine_client_symlink_" + name, not leaked(data) and code is not None,
           "ln -s %s %s (status %s), get returned %d bytes leaked=%s"
           % (target, name, sr.NAMES.get(st, st), len(data), leaked(data)))

# 4. writes and metadata changes through symlinks must not touch OUT.
def status_of(fn):
    try:
        return fn()
    except sr.SftpError as e:
        return e.code


status_of(lambda: c.rename("link_outdir/secret2", "stolen_rename"))
status_of(lambda: c.symlink("x", "link_outdir/evil_link"))
status_of(lambda: c.rename("file.txt", "link_outdir/moved_in"))
if "posix-rename@openssh.com" in c.ext:
    status_of(lambda: c.xstatus("posix-rename@openssh.com",
                                sr.s("link_outdir/secret2") + sr.s("stolen_posix")))
if "hardlink@openssh.com" in c.ext:
    # link(2) of a symlink links the symlink itself; a server that resolves
    # first would hand out the secret.
    status_of(lambda: c.xstatus("hardlink@openssh.com", sr.s("link_secret") + sr.s("hl_secret")))
    status_of(lambda: c.xstatus("hardlink@openssh.com",
                                sr.s("link_outdir/secret2") + sr.s("hl_secret2")))
for n in ("stolen_rename", "stolen_posix", "hl_secret", "hl_secret2"):
    code, data = try_get(c, n)
    tap.ok("confine_no_secret_via_" + n, not leaked(data),
           "get %s returned the secret" % n)
if "hardlink@openssh.com" in c.ext:
    status_of(lambda: c.xstatus("hardlink@openssh.com", sr.s("file.txt") + sr.s("link_outdir/hl_out")))
if "posix-rename@openssh.com" in c.ext:
    status_of(lambda: c.xstatus("posix-rename@openssh.com",
                                sr.s("sub/inner.txt") + sr.s("link_outdir/posix_out")))
status_of(lambda: c.setstat("link_outdir", sr.attrs(perm=0o700)))
status_of(lambda: c.setstat("sub/up", sr.attrs(perm=0o700, times=(1, 1))))
status_of(lambda: c.rmdir("link_outdir/."))
status_of(lambda: c.remove("link_outdir/"))
status_of(lambda: c.close(c.open("link_outdir/created", sr.WRITE | sr.CREAT)))
# A directory symlink the client makes itself, then writes through.
status_of(lambda: c.symlink(OUT + "/outdir", "mk_dirlink"))
status_of(lambda: c.symlink("../outdir", "mk_dirlink_rel"))
status_of(lambda: c.close(c.open("mk_dirlink/created2", sr.WRITE | sr.CREAT)))
status_of(lambda: c.close(c.open("mk_dirlink_rel/created3", sr.WRITE | sr.CREAT)))
status_of(lambda: c.mkdir("mk_dirlink/newdir3"))
status_of(lambda: c.close(c.open("link_secret", sr.WRITE | sr.TRUNC)))
status_of(lambda: c.close(c.open("mk_secret_rel", sr.WRITE | sr.CREAT | sr.TRUNC)))
status_of(lambda: c.mkdir("link_outdir/newdir"))
status_of(lambda: c.mkdir("sub/up/newdir2"))
status_of(lambda: c.setstat("link_secret", sr.attrs(perm=0o777)))
status_of(lambda: c.setstat("link_outdir/secret2", sr.attrs(size=0)))
status_of(lambda: c.remove("link_outdir/secret2"))
if "lsetstat@openssh.com" in c.ext:
    status_of(lambda: c.xstatus("lsetstat@openssh.com",
                                sr.s("link_outdir/secret2") + sr.attrs(perm=0o600)))

# 5. REALPATH and expand-path never show the host path.
paths = [".", "..", "/", "/..", "../..", "sub/..", "sub/up", "sub/up/..", "link_root",
         "sub"]
shown = {}
for p in paths:
    try:
        shown[p] = c.realpath(p)
    except sr.SftpError as e:
        shown[p] = ("error", e.code)
leak = {p: v for p, v in shown.items()
        if isinstance(v, bytes) and (ROOT.encode() in v or OUT.encode() in v)}
tap.ok("confine_realpath_no_host_path", not leak, "realpath showed %r" % leak)
for p, n in ((".", "dot"), ("..", "dotdot"), ("/", "slash"), ("/..", "slash_dotdot"),
             ("../..", "dotdot_dotdot"), ("sub/..", "sub_dotdot")):
    tap.ok("confine_realpath_" + n,
           shown[p] == b"/", "realpath(%r) = %r, expected /" % (p, shown[p]))
tap.ok("confine_realpath_sub", shown["sub"] == b"/sub",
       "realpath('sub') = %r" % (shown["sub"],))
if "expand-path@openssh.com" in c.ext:
    got = {}
    for p in ("~", "~/sub", ".", "~root"):
        rt, r = c.extended("expand-path@openssh.com", sr.s(p))
        if rt == sr.T_NAME:
            r.u32()
            got[p] = r.s()
if "home-directory" in c.ext:
    rt, r = c.extended("home-directory", sr.s(os.environ.get("USER", "root")))
    home = (r.u32(), r.s())[1] if rt == sr.T_NAME else b""
    tap.ok("confine_home_directory_no_host_path",
           ROOT.encode() not in home and not home.startswith(b"/root") and not home.startswith(b"/home"),
           "home-directory gave %r" % home)
if "expand-path@openssh.com" in c.ext:
    tap.ok("confine_expand_path_no_host_path",
           not any(ROOT.encode() in v or OUT.encode() in v for v in got.values()),
           "expand-path showed %r" % got)

# 6. race: race/d flips between a real directory and a symlink to OUTDIR
# while the client reads race/d/f; race/g flips between a file and a symlink
# to the secret. Nothing from outside may ever come back.
swapper = subprocess.Popen([sys.executable, "-c", r"""
import os, sys, time
os.chdir(sys.argv[1])
end = time.time() + float(sys.argv[2]) + 5
while time.time() < end:
    for a, b in (("d_real", "d"), ("d", "d_real"), ("d_evil", "d"), ("d", "d_evil"),
                 ("g_real", "g"), ("g", "g_real"), ("g_evil", "g"), ("g", "g_evil")):
        try:
            os.rename(a, b)
        except OSError:
            pass
""", os.path.join(ROOT, "race"), str(RACE_SECONDS)])
reads = inside = errors = 0
bad = []
end = time.time() + RACE_SECONDS
while time.time() < end:
    for p in ("race/d/f", "race/g", "race/d_real/f", "race/d/../d/f"):
        code, data = try_get(c, p)
        reads += 1
        if code is None:
            inside += 1
            if leaked(data):
                bad.append(p)
        else:
            errors += 1
    try:
        h = c.open("race/d/w", sr.WRITE | sr.CREAT)
        c.write(h, 0, b"written")
        c.close(h)
    except sr.SftpError:
        pass
    try:
        names = c.listdir("race/d")
        if b"secret2" in names:
            bad.append("listing race/d showed outdir")
    except sr.SftpError:
        pass
swapper.kill()
swapper.wait()
tap.ok("confine_symlink_race", not bad and inside > 0,
       "%d reads (%d inside, %d errors), leaks: %r" % (reads, inside, errors, bad[:5]))
print("# race: %d reads, %d succeeded inside, %d errors" % (reads, inside, errors))
tap.ok("confine_race_no_write_outside", not os.path.exists(os.path.join(OUT, "outdir", "w")),
       "race/d/w was created in OUT/outdir")

# 7. a start directory (-d) that tries to leave ROOT.
for start, sname in (("/../..", "dotdot"), ("/link_outdir", "dirlink"),
                     ("/sub/up/..", "updir"), (OUT, "host_path")):
    try:
        d = sr.Sftp(sr.server_argv(ROOT, ["-d", start]), stderr=subprocess.DEVNULL)
    except (EOFError, ValueError):
        tap.ok("confine_start_dir_" + sname, True)  # refusing to start is fine
        continue
    try:
        where = d.realpath(".")
    except sr.SftpError as e:
        where = str(e).encode()
    code, data = try_get(d, "secret2")
    code2, data2 = try_get(d, "secret")
    tap.ok("confine_start_dir_" + sname,
           ROOT.encode() not in where and OUT.encode() not in where[:len(OUT)]
           and not leaked(data) and not leaked(data2),
           "-d %s: realpath('.') = %r, leaked=%s" % (start, where, leaked(data) or leaked(data2)))
    d.quit()

rc = c.quit()
tap.ok("confine_server_exit", rc == 0, "server exit status %s" % rc)
sys.exit(3 if tap.failed else 0)
