# Many connections at once against handlers under tcpserver (load.sh,
# tests/bench/bench_load.sh). Modes:
#   sessions sftp|nbd PORT N TCPSERVER-PID
#       N sessions connect at once; each does its handshake (SFTP INIT /
#       NBD options), then all wait at a barrier (so N handlers are alive
#       together: their RSS is summed there), then each reads 4 KiB of
#       FILE "f" (sftp) or the export (nbd), checks it, and closes.
#       Prints "connected N" at the barrier, then "sessions OK/N",
#       "peak_rss_kb TOTAL PER-CONNECTION NPROC", "seconds S".
#   cmd PORT N TCPSERVER-PID CLIENT KEY SERVER-PUB
#       N `tcpclient ... CLIENT run -i hold` over the secure layer at once
#       (user alice); the command `hold` prints "in" and then blocks
#       reading its stdin (the payload). Once every one of the N has
#       printed "in" (N sessions and commands alive together), RSS is
#       summed and each client's stdin gets "go I" and its end: the
#       command echoes it and ends. A session is correct when the client
#       printed exactly "in", "go I" and exited 0. Prints the same lines.
#   idle PORT N TCPSERVER-PID
#       N connections that send nothing, held until the server closes
#       each. "connected N" once tcpserver has N handlers for them; then
#       "closed K/N" and "seconds S" (the longest).
#   slow PORT N TCPSERVER-PID
#       N connections that each send a real client hello of the secure
#       layer one byte a second (it is never complete in time, so only
#       the server's handshake limit ends them); prints the same.
#   rss TCPSERVER-PID
#       "peak_rss_kb TOTAL PER-CONNECTION NPROC" for tcpserver's children
#       named handler, now.
import os
import selectors
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pywire import readn, sftp_pkt, u32  # noqa: E402
from pywire import sftp_init as sftp_start, sstr as s  # noqa: E402

EXPECT = bytes(range(256)) * 16  # the first 4 KiB of the file / export


def rss(tspid):
    """(total VmRSS kB, count) of tcpserver's children named handler: its
    children list, not a walk of all of /proc (cheap enough to poll)."""
    total, n = 0, 0
    try:
        kids = open("/proc/%d/task/%d/children" % (tspid, tspid)).read().split()
    except OSError:
        return 0, 0
    for p in kids:
        try:
            st = open("/proc/%s/status" % p).read()
        except OSError:
            continue
        f = dict(line.split(":", 1) for line in st.splitlines() if ":" in line)
        if f.get("Name", "").strip() != "handler":
            continue
        total += int(f.get("VmRSS", "0 kB").split()[0])
        n += 1
    return total, n


def sftp_finish(sk):
    r = sftp_pkt(sk, 3, u32(1) + s(b"f") + u32(1) + u32(0))
    if r[0] != 102:
        raise ValueError("OPEN refused")
    h = r[9:9 + struct.unpack(">I", r[5:9])[0]]
    r = sftp_pkt(sk, 5, u32(2) + s(h) + struct.pack(">QI", 0, 4096))
    if r[0] != 103 or r[9:] != EXPECT:
        raise ValueError("bad DATA")
    sftp_pkt(sk, 4, u32(3) + s(h))


def nbd_start(sk):
    readn(sk, 18)
    sk.sendall(u32(1) + b"IHAVEOPT" + u32(1) + u32(0))
    readn(sk, 8 + 2 + 124)


def nbd_finish(sk):
    sk.sendall(u32(0x25609513) + struct.pack(">HHQQI", 0, 0, 7, 0, 4096))
    r = readn(sk, 16 + 4096)
    if struct.unpack(">I", r[:4])[0] != 0x67446698 or r[4:8] != b"\0" * 4 or r[16:] != EXPECT:
        raise ValueError("bad reply")
    sk.sendall(u32(0x25609513) + struct.pack(">HHQQI", 0, 2, 8, 0, 0))


def together(n, tspid, start, finish):
    """Runs n sessions at once: start(i) opens session i and returns its
    state, every session then waits at a barrier where the handlers' RSS
    is summed, and finish(i, state) completes and checks it (true if
    correct). Prints the results."""
    ok = [False] * n
    barrier = threading.Barrier(n + 1, timeout=60)
    go = threading.Event()  # set once RSS is read: no session ends before

    def one(i):
        try:
            st = start(i)
        except Exception as e:  # counted as a failed session
            print("# session %d: %s" % (i, e), flush=True)
            barrier.abort()
            return
        try:
            barrier.wait()
            go.wait(60)
        except threading.BrokenBarrierError:
            pass
        try:
            ok[i] = finish(i, st)
        except Exception as e:
            print("# session %d: %s" % (i, e), flush=True)

    t0 = time.monotonic()
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    peak = (0, 0)
    try:
        barrier.wait()
        print("connected %d" % n, flush=True)
        peak = rss(tspid)
    except threading.BrokenBarrierError:
        pass
    go.set()
    for t in th:
        t.join()
    dt = time.monotonic() - t0
    print("sessions %d/%d" % (sum(ok), n))
    print("peak_rss_kb %d %d %d" % (peak[0], peak[0] // max(peak[1], 1), peak[1]))
    print("seconds %.2f" % dt, flush=True)


def sessions(proto, port, n, tspid):
    start_fn, finish_fn = (sftp_start, sftp_finish) if proto == "sftp" else (nbd_start, nbd_finish)

    def start(i):
        sk = socket.create_connection(("127.0.0.1", port), 30)
        sk.settimeout(30)
        try:
            start_fn(sk)
        except Exception:
            sk.close()
            raise
        return sk

    def finish(i, sk):
        with sk:
            finish_fn(sk)
            sk.shutdown(socket.SHUT_WR)
            sk.recv(1)  # the server's close
        return True

    together(n, tspid, start, finish)


def cmd(port, n, tspid, client, key, pub):
    argv = ["tcpclient", "-R", "-H", "-l", "0", "127.0.0.1", str(port),
            client, "-k", key, "-u", "alice", "-p", pub, "run", "-i", "hold"]

    def start(i):
        p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        # The command's first line: the session is up and the command
        # runs, blocked on its stdin until we write.
        line = p.stdout.readline()
        if line != b"in\n":
            p.kill()
            _, err = p.communicate()
            raise ValueError("no 'in' (got %r): %s" % (line, err[:200]))
        return p

    def finish(i, p):
        go = b"go %d\n" % i
        try:
            out, err = p.communicate(go, timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise
        if out != go or p.returncode != 0:
            raise ValueError("exit %d, out %r, err %r" % (p.returncode, out, err[:200]))
        return True

    together(n, tspid, start, finish)


# A client hello of the secure layer (docs/secure.md): magic, version 1,
# type 1, max_frame, ephemeral key and random. Sent a byte a second it is
# valid as far as it goes, so the server can only wait for the rest.
HELLO = b"hSeC" + bytes([1, 1]) + u32(65536) + os.urandom(64)


def handlers_up(tspid, n, sel):
    """Waits (20 s at most) until tcpserver has n handler children; the
    most seen at once if it never does or the server closes one first
    (its limit was shorter than starting all n)."""
    end = time.monotonic() + 20
    most = 0
    while most < n and time.monotonic() < end and not sel.select(0):
        most = max(most, rss(tspid)[1])
        time.sleep(0.02)
    return most


def held(port, n, tspid, slow):
    closed = [None] * n
    socks = []
    t0 = time.monotonic()
    for i in range(n):
        sk = socket.create_connection(("127.0.0.1", port), 10)
        sk.setblocking(False)
        socks.append(sk)
    sel = selectors.DefaultSelector()
    for i, sk in enumerate(socks):
        sel.register(sk, selectors.EVENT_READ, i)
    sent = 0
    nxt = time.monotonic()
    print("connected %d" % handlers_up(tspid, n, sel), flush=True)
    print("handlers_up_seconds %.2f" % (time.monotonic() - t0), flush=True)
    deadline = time.monotonic() + 30
    while sum(c is not None for c in closed) < n and time.monotonic() < deadline:
        if slow and time.monotonic() >= nxt and sent < len(HELLO):
            for i, sk in enumerate(socks):
                if closed[i] is None:
                    try:
                        sk.send(HELLO[sent:sent + 1])
                    except OSError:
                        pass
            sent += 1
            nxt += 1.0
        for key, _ in sel.select(timeout=0.2):
            i = key.data
            try:
                x = key.fileobj.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                x = b""
            if not x:
                closed[i] = time.monotonic() - t0
                sel.unregister(key.fileobj)
                key.fileobj.close()
    k = sum(c is not None for c in closed)
    print("closed %d/%d" % (k, n))
    if slow:
        print("hello_bytes_sent %d" % sent)
    print("seconds %.2f" % max([c for c in closed if c is not None] or [0]), flush=True)


mode = sys.argv[1]
if mode == "sessions":
    sessions(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
elif mode == "cmd":
    cmd(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:8])
elif mode in ("idle", "slow"):
    held(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), mode == "slow")
elif mode == "rss":
    t, n = rss(int(sys.argv[2]))
    print("peak_rss_kb %d %d %d" % (t, t // max(n, 1), n))
