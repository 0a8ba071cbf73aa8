# Uploads through HAProxy for haproxy_scaleout.sh.
#   scaleout.py HAPROXY-LOG SFTP-PORT CMD-PORT NS NC ROOT TAG CLIENT KEY PUB
#               [PORT:PGID...]
# Starts NS sftp uploads (files ROOT/TAG.sN, through sftp's frontend) and
# NC cmd uploads (`up TAG.cN` over the secure layer, through cmd's
# frontend: the command opens ROOT/TAG.cN, says "in", copies its stdin
# there and says "ok") at once. Each sends its first CHUNK bytes (sftp:
# acknowledged by STATUS OK; cmd: once the command said "in") and waits
# until all are in flight. Then, if
# given, the process groups PGID... (one backend host: its tcpservers and
# their handlers) are SIGKILLed and each PORT waited for (10 s at most) to
# refuse connections; then every upload sends the rest and ends. A session is ok when every reply was OK (cmd: exit 0 and
# the command's "in" and "ok" only).
# HAProxy logs each connection's client port and server (logasap); that
# says which backend each session was on. Prints one line per session
# ("session KIND I SERVER ok|fail DISK", DISK whole, prefix or corrupt)
# and the sums: "spread KIND SERVER COUNT", "sessions OK/N", "on_a A
# failed FA", "on_b B ok OB", "disk_consistent K/N", "unmapped U".
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pywire import readn, sftp_init, sftp_pkt as pkt, u32  # noqa: E402

SIZE = 256 * 1024
CHUNK = 64 * 1024


def data(tag, kind, i):
    """The upload's bytes: different for every session, so a byte from
    another upload or a misplaced chunk shows."""
    line = b"%s %s %d " % (tag.encode(), kind.encode(), i)
    return (line * (SIZE // len(line) + 1))[:SIZE]




def status_ok(r):
    if r[0] != 101 or struct.unpack(">I", r[5:9])[0] != 0:
        raise ValueError("status %r" % r[:16])


class Sftp:
    def __init__(self, port, path, body):
        self.body = body
        self.sk = socket.create_connection(("127.0.0.1", port), 20)
        self.sk.settimeout(20)
        self.port = self.sk.getsockname()[1]
        sftp_init(self.sk)
        # OPEN WRITE|CREAT|TRUNC
        r = pkt(self.sk, 3, u32(1) + u32(len(path)) + path + u32(0x1a) + u32(0))
        if r[0] != 102:
            raise ValueError("OPEN refused")
        self.h = r[9:9 + struct.unpack(">I", r[5:9])[0]]
        self.write(0, CHUNK)

    def write(self, a, b):
        for off in range(a, b, CHUNK):
            piece = self.body[off:off + CHUNK]
            status_ok(pkt(self.sk, 6, u32(9) + u32(len(self.h)) + self.h +
                          struct.pack(">Q", off) + u32(len(piece)) + piece))

    def finish(self):
        try:
            self.write(CHUNK, SIZE)
            status_ok(pkt(self.sk, 4, u32(10) + u32(len(self.h)) + self.h))
        finally:
            self.sk.close()


class Cmd:
    def __init__(self, port, name, body, client, key, pub):
        self.body = body
        # tcpclient gives the program its local port: the wrapper prints
        # it first, so the session can be found in HAProxy's log.
        argv = ["tcpclient", "-R", "-H", "-l", "0", "127.0.0.1", str(port),
                "/bin/sh", "-c", 'echo "$TCPLOCALPORT" && exec "$@"', "sh",
                client, "-k", key, "-u", "alice", "-p", pub, "run", "-i", "up", name]
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.port = int(self.p.stdout.readline() or 0)
        if self.p.stdout.readline() != b"in\n":
            self.p.kill()
            raise ValueError("no 'in': %r" % self.p.communicate()[1][:200])
        self.p.stdin.write(body[:CHUNK])
        self.p.stdin.flush()

    def finish(self):
        try:
            self.p.stdin.write(self.body[CHUNK:])
            self.p.stdin.close()
        except OSError:
            pass
        try:
            out = self.p.stdout.read()
            self.p.wait(20)
        except subprocess.TimeoutExpired:
            self.p.kill()
            raise
        if self.p.returncode != 0 or out != b"ok\n":
            raise ValueError("exit %d, out %r" % (self.p.returncode, out[:100]))


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), 1).close()
        return False
    except OSError:
        return True


def kill_host(pairs):
    for _, g in pairs:
        try:
            os.killpg(g, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.monotonic() + 10
    while not all(refused(p) for p, _ in pairs) and time.monotonic() < end:
        time.sleep(0.05)


def servers(log):
    """client port -> HAProxy server name ("sftp_hosts/a" -> "a")."""
    m = {}
    for line in open(log, errors="replace"):
        w = line.split()
        if len(w) >= 3 and ":" in w[0] and "/" in w[2]:
            m[int(w[0].rsplit(":", 1)[1])] = w[2].split("/", 1)[1]
    return m


def on_disk(path, body, ok, acked):
    """whole when the upload said ok and the file is its bytes; prefix
    when it did not and the file is a prefix holding at least what was
    acknowledged; corrupt otherwise."""
    try:
        got = open(path, "rb").read()
    except OSError:
        got = None
    if ok:
        return "whole" if got == body else "corrupt"
    if got is not None and len(got) >= acked and body.startswith(got):
        return "prefix"
    return "corrupt"


def main():
    log, sport, cport, ns, nc, root, tag, client, key, pub = sys.argv[1:11]
    kill = [tuple(int(x) for x in a.split(":")) for a in sys.argv[11:]]
    jobs = [("sftp", i) for i in range(int(ns))] + [("cmd", i) for i in range(int(nc))]
    sess = [None] * len(jobs)
    res = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs) + 1, timeout=30)
    release = threading.Event()

    def one(j):
        kind, i = jobs[j]
        body = data(tag, kind, i)
        try:
            if kind == "sftp":
                sess[j] = Sftp(int(sport), b"%s.s%d" % (tag.encode(), i), body)
            else:
                sess[j] = Cmd(int(cport), "%s.c%d" % (tag, i), body, client, key, pub)
        except Exception as e:
            res[j] = "fail start: %s" % e
            barrier.abort()
            return
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        release.wait(30)
        try:
            sess[j].finish()
            res[j] = "ok"
        except Exception as e:
            res[j] = "fail %s: %s" % (type(e).__name__, e)

    th = [threading.Thread(target=one, args=(j,)) for j in range(len(jobs))]
    for t in th:
        t.start()
    try:
        barrier.wait()
        print("in_flight %d" % len(jobs), flush=True)
        if kill:
            kill_host(kill)
            print("killed", flush=True)
    except threading.BrokenBarrierError:
        print("# not all sessions started", flush=True)
    release.set()
    for t in th:
        t.join()

    where = servers(log)
    spread, on_a, fail_a, on_b, ok_b, cons, unmapped, nok = {}, 0, 0, 0, 0, 0, 0, 0
    for j, (kind, i) in enumerate(jobs):
        s = sess[j]
        srv = where.get(s.port, "?") if s else "?"
        ok = res[j] == "ok"
        name = "%s.%s%d" % (tag, kind[0], i)
        # sftp's first chunk was acknowledged; cmd acknowledges nothing
        acked = CHUNK if s and kind == "sftp" else 0
        disk = on_disk(os.path.join(root, name), data(tag, kind, i), ok, acked)
        print("session %s %d %s %s %s" % (kind, i, srv, disk, res[j]))
        spread[(kind, srv)] = spread.get((kind, srv), 0) + 1
        nok += ok
        cons += disk != "corrupt"
        if srv == "a":
            on_a += 1
            fail_a += not ok
        elif srv == "b":
            on_b += 1
            ok_b += ok
        else:
            unmapped += 1
    for (kind, srv), n in sorted(spread.items()):
        print("spread %s %s %d" % (kind, srv, n))
    print("sessions %d/%d" % (nok, len(jobs)))
    print("on_a %d failed %d" % (on_a, fail_a))
    print("on_b %d ok %d" % (on_b, ok_b))
    print("disk_consistent %d/%d" % (cons, len(jobs)))
    print("unmapped %d" % unmapped, flush=True)


main()
