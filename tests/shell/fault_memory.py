"""
Memory running out mid-session, for fault_memory.sh: one protocol's
session is run once with tests/tools/preload/failalloc.so counting the
allocations made after the session is under way, then again with the
K-th of them failing (ENOMEM), for every K or a sample that keeps the
first of every call site (see pick()), once alone and once "from K on"
(memory gone for good). Each run must end one of these ways:
  - the session completes as without the fault (a fallback took over);
  - the client is answered an error naming the shortage ("Cannot allocate
    memory" or "out of memory") and the session goes on;
  - handler logs such a line and exits 111, the connection closed;
never a signal, an assertion, another exit code, a silent wrong answer, a
process left behind, or an acknowledged byte missing from disk.
usage: fault_memory.py sftp|nbd|cmd      (BIN, TOOLS, T from tests/lib.sh)
"""
import json
import os
import re
import shlex
import socket
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.dirname(HERE))
import sftp_raw as sr  # noqa: E402
from pywire import readn  # noqa: E402
from tap import ok, finish  # noqa: E402

PROTO = sys.argv[1]
BIN, TOOLS, T = os.environ["BIN"], os.environ["TOOLS"], os.environ["T"]
HANDLER = os.path.join(BIN, "handler")
SHIM = os.path.join(TOOLS, "failalloc.so")
REPORT = os.path.join(T, "fa.report")
LOG = os.path.join(T, "server.err")
# How many fault points at most per mode: every one below it, a sample
# above (the whole script stays within ~20 s).
MAX_POINTS = int(os.environ.get("FAULT_MEMORY_POINTS", "60"))
OOM = re.compile(r"out of memory|Cannot allocate memory")
CRASH = re.compile(r"Sanitizer|runtime error|Assertion|core dumped|"
                   r"Segmentation|Aborted|malloc\(\)|free\(\)")
CHUNK = 32768
DATA = bytes((i * 7) & 255 for i in range(4 * CHUNK))


def shim_env(arm, k, frm):
    return {"LD_PRELOAD": SHIM, "FAILALLOC_ARM": arm,
            "FAILALLOC_FAIL": str(k), "FAILALLOC_FROM": "1" if frm else "0",
            "FAILALLOC_REPORT": REPORT}


def fresh():
    for p in (REPORT, LOG):
        if os.path.exists(p):
            os.unlink(p)


def log_text():
    try:
        with open(LOG, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def report_sites(path=REPORT):
    """The counted allocations' call sites, in order, and where a fault
    fell (K or None)."""
    sites, failed = [], None
    try:
        with open(path) as f:
            for line in f:
                p = line.split()
                if len(p) >= 2:
                    sites.append(p[1])
                    if len(p) == 3 and failed is None:
                        failed = int(p[0])
    except OSError:
        pass
    return sites, failed


# ---------------------------------------------------------------- sftp

ROOT = os.path.join(T, "root")


def sftp_session(env):
    """INIT, OPEN+WRITE x4+CLOSE, OPENDIR+READDIR+CLOSE, OPEN+READ+CLOSE,
    STAT, REALPATH, MKDIR, RENAME. Returns (errors, acknowledged chunks,
    aborted?). A request answered with an error is noted and the session
    goes on to the next."""
    errs, acked = [], []
    e = dict(os.environ, **env)
    with open(LOG, "w") as logf:
        p = subprocess.Popen([HANDLER, "sftp", ROOT], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=logf, bufsize=0,
                             env=e)
    c = sr.Sftp.__new__(sr.Sftp)
    c.p, c.id, c.timeout = p, 0, 10

    def step(name, fn):
        try:
            return fn()
        except sr.SftpError as x:
            errs.append("%s: %s" % (name, x))
        return None

    try:
        c.send(1, sr.u32(3))
        t, _ = c.recv()
        if t != 2:
            raise ValueError("no VERSION")
        h = step("open", lambda: c.open("f", sr.WRITE | sr.CREAT | sr.TRUNC))
        for i in range(4) if h else ():
            off = i * CHUNK
            st = c.write(h, off, DATA[off:off + CHUNK])
            if st == sr.OK:
                acked.append(i)
            else:
                errs.append("write: status %d" % st)
        if h:
            c.close(h)
        names = step("readdir", lambda: c.listdir("."))
        if names is not None and b"f" not in names:
            errs.append("WRONG listing %r" % names)
        got = step("read", lambda: c.get("f"))
        if got is not None and got[:len(acked) * CHUNK] != \
                DATA[:len(acked) * CHUNK] and acked == list(range(len(acked))):
            errs.append("WRONG data read back")
        a = step("stat", lambda: c.stat("f"))
        if a is not None and a.get("size") is None:
            errs.append("WRONG stat %r" % a)
        rp = step("realpath", lambda: c.realpath("f"))
        if rp is not None and rp != b"/f":
            errs.append("WRONG realpath %r" % rp)
        for name, fn in (("mkdir", lambda: c.mkdir("d")),
                         ("rename", lambda: c.rename("d", "e")),
                         ("rmdir", lambda: c.rmdir("e"))):
            st = fn()
            if st not in (sr.OK, sr.FAILURE, sr.NO_SUCH_FILE):
                errs.append("%s: status %d" % (name, st))
        aborted = False
    except (EOFError, ValueError, OSError, TimeoutError) as x:
        errs.append("cut: %s: %s" % (type(x).__name__, x))
        aborted = True
    rc = c.quit()
    return rc, errs, acked, aborted


def sftp_disk(acked):
    try:
        with open(os.path.join(ROOT, "f"), "rb") as f:
            disk = f.read()
    except OSError:
        return not acked
    return all(disk[i * CHUNK:(i + 1) * CHUNK] == DATA[i * CHUNK:(i + 1) * CHUNK]
               for i in acked)


def sftp_run(k, frm):
    for n in os.listdir(ROOT):
        path = os.path.join(ROOT, n)
        (os.rmdir if os.path.isdir(path) else os.unlink)(path)
    fresh()
    rc, errs, acked, aborted = sftp_session(shim_env("read:1", k, frm))
    return verdict(rc, errs, aborted, sftp_disk(acked))


# ---------------------------------------------------------------- nbd

IMG = os.path.join(T, "disk.img")
NBD_REQ, NBD_REP = 0x25609513, 0x67446698


class NbdCut(Exception):
    pass


def nbd_session(env):
    """Handshake (GO), WRITE x4, READ x4 checked, FLUSH, DISC. Returns
    (rc, errors, acked chunks, aborted?)."""
    errs, acked = [], []
    mine, theirs = socket.socketpair()
    with open(LOG, "w") as logf:
        p = subprocess.Popen([HANDLER, "nbd", IMG], stdin=theirs,
                             stdout=theirs, stderr=logf,
                             env=dict(os.environ, **env))
    theirs.close()
    mine.settimeout(10)
    aborted = False
    try:
        g = readn(mine, 18)
        if g[:8] != b"NBDMAGIC":
            raise NbdCut("bad greeting")
        mine.sendall(struct.pack(">I", 3))
        mine.sendall(b"IHAVEOPT" + struct.pack(">II", 7, 6) +
                     struct.pack(">IH", 0, 0))
        while True:
            _, _, t, n = struct.unpack(">QIII", readn(mine, 20))
            if n:
                readn(mine, n)
            if t == 1:
                break
            if t & 0x80000000:
                errs.append("GO refused: %x" % t)
                raise NbdCut("GO refused")
        for i in range(4):
            off = i * CHUNK
            mine.sendall(struct.pack(">IHHQQI", NBD_REQ, 0, 1, i, off, CHUNK) +
                         DATA[off:off + CHUNK])
            m, err, hd = struct.unpack(">IIQ", readn(mine, 16))
            if err == 0:
                acked.append(i)
            else:
                errs.append("write: error %d" % err)
        for i in range(4):
            off = i * CHUNK
            mine.sendall(struct.pack(">IHHQQI", NBD_REQ, 0, 0, 10 + i, off, CHUNK))
            m, err, hd = struct.unpack(">IIQ", readn(mine, 16))
            if err:
                errs.append("read: error %d" % err)
                continue
            got = readn(mine, CHUNK)
            if i in acked and got != DATA[off:off + CHUNK]:
                errs.append("WRONG data read back")
        mine.sendall(struct.pack(">IHHQQI", NBD_REQ, 0, 3, 20, 0, 0))
        m, err, hd = struct.unpack(">IIQ", readn(mine, 16))
        if err:
            errs.append("flush: error %d" % err)
        mine.sendall(struct.pack(">IHHQQI", NBD_REQ, 0, 2, 21, 0, 0))
    except (NbdCut, EOFError, OSError) as x:
        errs.append("cut: %s" % x)
        aborted = True
    mine.close()
    try:
        rc = p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        rc = "hung"
        p.wait()
    return rc, errs, acked, aborted


def nbd_run(k, frm):
    with open(IMG, "wb") as f:
        f.truncate(1 << 20)
    fresh()
    rc, errs, acked, aborted = nbd_session(shim_env("read:1", k, frm))
    with open(IMG, "rb") as f:
        disk = f.read()
    good = all(disk[i * CHUNK:(i + 1) * CHUNK] == DATA[i * CHUNK:(i + 1) * CHUNK]
               for i in acked)
    # NBD carries only an errno: ENOMEM (12) is the one that names it.
    errs = [x for x in errs if x not in ("write: error 12", "read: error 12",
                                         "flush: error 12")] + \
           ["oom-reply" for x in errs if x.endswith("error 12")]
    return verdict(rc, errs, aborted, good)


# ---------------------------------------------------------------- cmd

CONF = os.path.join(T, "conf")
PIDS = os.path.join(T, "pids")
RC = os.path.join(T, "rc")
BATCH = "caps\nhelp\nstat -p\nwhoami\nversion\nping\ncat\nhelp cat\n"
PAYLOAD = DATA * 2


def cmd_client(env, args, stdin):
    pre = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted(env.items()))
    server = "%s %s -s -f %s cmd 2>>%s; echo $? >%s" % (pre, HANDLER, CONF,
                                                        LOG, RC)
    argv = [os.path.join(BIN, "handler-client"), "-k",
            os.path.join(T, "alice"), "-u", "alice", "-p",
            os.path.join(T, "server.pub"), "--exec", server] + args
    try:
        r = subprocess.run(argv, input=stdin, capture_output=True, timeout=20)
    except subprocess.TimeoutExpired:
        return None, b"", b"client timed out"
    return r.returncode, r.stdout, r.stderr


def children_gone():
    """Every command the session started has ended (bounded wait)."""
    try:
        with open(PIDS) as f:
            pids = [int(x) for x in f.read().split()]
    except OSError:
        return True
    deadline = time.time() + 5
    for pid in pids:
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            if time.time() > deadline:
                return False
            time.sleep(0.02)
    return True


def server_rc():
    try:
        with open(RC) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return "none"


def cmd_batch_check(out):
    """The batch's answers: each full and right, or an error naming the
    shortage. Returns the list of problems and of OOM errors."""
    want = {"whoami": "alice\n", "version": "cmd protocol",
            "ping": "pong\n", "help": "list the commands", "caps": '"handler-cmd"',
            "stat -p": "user=alice", "cat": "", "help cat": "payload: yes"}
    bad, oom = [], []
    seen = set()
    for line in out.decode(errors="replace").splitlines():
        try:
            o = json.loads(line)
        except ValueError:
            bad.append("WRONG json %r" % line[:80])
            continue
        name = " ".join(o.get("argv", []))
        seen.add(name)
        text = (o.get("error") or {}).get("text") or o.get("stderr") or ""
        if o.get("error") or o.get("status"):
            (oom if OOM.search(text) else bad).append("%s: %s" % (name, text))
        elif want.get(name, "?") not in o.get("stdout", ""):
            bad.append("WRONG %s: %r" % (name, o.get("stdout", "")[:80]))
    return bad, oom, len(seen)


def cmd_run(k, frm):
    """A batch of builtins and a command, then a command with a payload,
    each its own session, the same K for both."""
    outcomes = []
    if os.path.exists(REPORT + ".batch"):
        os.unlink(REPORT + ".batch")
    for kind in ("batch", "payload"):
        errs, aborted = [], False
        fresh()
        for p in (PIDS, RC):
            if os.path.exists(p):
                os.unlink(p)
        env = shim_env("log:auth: ok", k, frm)
        if kind == "batch":
            crc, out, cerr = cmd_client(env, ["batch", "--json"], BATCH.encode())
            bad, oom, n = cmd_batch_check(out)
            errs += bad + ["oom-reply" for _ in oom]
            if n < 8:
                aborted = True
                errs.append("cut: batch after %d answers: %s" %
                            (n, cerr.decode(errors="replace").strip()[-120:]))
        else:
            crc, out, cerr = cmd_client(env, ["run", "--stdin", "cat"], PAYLOAD)
            text = cerr.decode(errors="replace").strip()
            if (crc != 0 or out != PAYLOAD) and OOM.search(text) and \
                    "connection" not in text:
                errs.append("oom-reply")  # the request refused, named
            elif crc != 0 or out != PAYLOAD:
                aborted = True
                errs.append("cut: client exit %s, %d bytes: %s"
                            % (crc, len(out), text[-120:]))
        if not children_gone():
            errs.append("LEFT a command running")
        v, outcome = verdict(server_rc(), errs, aborted, True)
        if kind == "batch" and os.path.exists(REPORT):
            os.replace(REPORT, REPORT + ".batch")  # the sweep's count
        if v:
            return "%s session: %s" % (kind, v), None
        outcomes.append(outcome)
    return None, "/".join(outcomes)


# ------------------------------------------------------------- judging

def verdict(rc, errs, aborted, disk_ok):
    """(None, how it ended) if the run ended in an allowed way, else (why
    not, None). The log is the server's of this run."""
    log = log_text()
    if CRASH.search(log):
        return "crash in the log: %s" % CRASH.search(log).group(0), None
    if rc not in (0, 111):
        return "exit %s (a signal is negative)" % rc, None
    if not disk_ok:
        return "an acknowledged write is not on disk", None
    wrong = [e for e in errs if e.startswith(("WRONG", "LEFT"))]
    if wrong:
        return wrong[0], None
    if rc == 111:
        if not OOM.search(log):
            return ("exit 111 without an out-of-memory line: %s"
                    % log.strip()[-200:]), None
        return None, "exit 111"
    if aborted:
        return "session cut short but exit 0: %s" % errs, None
    others = [e for e in errs if e != "oom-reply" and not OOM.search(e)]
    if others:
        return "an error not naming the shortage: %s" % others[0], None
    return None, "answered ENOMEM" if errs else "complete"


RUN = {"sftp": sftp_run, "nbd": nbd_run, "cmd": cmd_run}[PROTO]


def pick(sites):
    """Fault points: all when there are at most MAX_POINTS; else the
    first allocation of every call site, the first after every change of
    site (a new step of the session: these alone may exceed MAX_POINTS),
    the last, and an even spread filling up to MAX_POINTS."""
    n = len(sites)
    if n <= MAX_POINTS:
        return list(range(1, n + 1))
    ks, seen = set([n]), set()
    for i, s in enumerate(sites):
        if s not in seen or (i and sites[i - 1] != s):
            ks.add(i + 1)
        seen.add(s)
    step = max(1, n // max(1, MAX_POINTS - len(ks)))
    ks.update(range(1, n + 1, step))
    return sorted(ks)


def count_sites():
    """The call sites of a run without a fault; for cmd, of the larger of
    its two sessions."""
    if PROTO != "cmd":
        return report_sites()[0]
    best = []
    for args, stdin in ((["batch", "--json"], BATCH.encode()),
                        (["run", "--stdin", "cat"], PAYLOAD)):
        fresh()
        cmd_client(shim_env("log:auth: ok", 0, False), args, stdin)
        sites = report_sites()[0]
        if len(sites) > len(best):
            best = sites
    return best


def main():
    v, outcome = RUN(0, False)
    ok("%s: the session without a fault completes" % PROTO,
       v is None and set(outcome.split("/")) == {"complete"}, v or outcome)
    sites = count_sites()
    n = len(sites)
    ok("%s: %d allocations counted after the session started, at %d call "
       "sites" % (PROTO, n, len(set(sites))), n > 0)
    ks = pick(sites)
    summary = {}
    fell = 0
    for frm in (False, True):
        for k in ks:
            v, outcome = RUN(k, frm)
            # The fault must have fallen where the count said it would,
            # or the sweep tests nothing (the report is written at exit).
            fell += report_sites(REPORT + ".batch" if PROTO == "cmd"
                                 else REPORT)[1] == k
            if v:
                v = " | ".join(v.splitlines())
                ok("%s: allocation %s fails" % (PROTO, "%d and on" % k if frm
                                               else "%d alone" % k), False, v)
                continue
            key = ("from K: " if frm else "K alone: ") + outcome
            summary[key] = summary.get(key, 0) + 1
    ok("%s: %d of %d allocations as fault points, each alone and from it "
       "on, ended cleanly (%s)" % (PROTO, len(ks), n, "; ".join(
           "%s %d" % kv for kv in sorted(summary.items()))), n > 0)
    ok("%s: the fault fell at its allocation in %d of %d runs"
       % (PROTO, fell, 2 * len(ks)), fell == 2 * len(ks))
    finish()


if __name__ == "__main__":
    main()
