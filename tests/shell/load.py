# Many connections at once against handlers under tcpserver (load.sh,
# tests/bench/bench_load.sh). Modes:
#   sessions sftp|nbd PORT N TCPSERVER-PID
#       N sessions connect at once; each does its handshake (SFTP INIT /
#       NBD options), then all wait at a barrier (so N handlers are alive
#       together: their RSS is summed there), then each reads 4 KiB of
#       FILE "f" (sftp) or the export (nbd), checks it, and closes.
#       Prints "sessions OK/N", "peak_rss_kb TOTAL PER-CONNECTION NPROC",
#       "seconds S".
#   idle PORT N
#       N connections that send nothing, held until the server closes
#       each; prints "closed K/N" and "seconds S" (the longest).
#   slow PORT N
#       N connections that send one byte a second until the server
#       closes each; prints the same.
#   rss TCPSERVER-PID
#       "peak_rss_kb TOTAL PER-CONNECTION NPROC" for tcpserver's children
#       named handler, now.
import os
import socket
import struct
import sys
import threading
import time

EXPECT = bytes(range(256)) * 16  # the first 4 KiB of the file / export


def rss(tspid):
    total, n = 0, 0
    for p in os.listdir("/proc"):
        if not p.isdigit():
            continue
        try:
            st = open("/proc/%s/status" % p).read()
        except OSError:
            continue
        f = dict(line.split(":", 1) for line in st.splitlines() if ":" in line)
        if f.get("Name", "").strip() != "handler" or f.get("PPid", "").strip() != str(tspid):
            continue
        total += int(f.get("VmRSS", "0 kB").split()[0])
        n += 1
    return total, n


def readn(sk, n):
    b = b""
    while len(b) < n:
        x = sk.recv(n - len(b))
        if not x:
            raise EOFError("closed")
        b += x
    return b


def u32(v):
    return struct.pack(">I", v)


def s(b):
    return u32(len(b)) + b


def sftp_start(sk):
    sk.sendall(u32(5) + bytes([1]) + u32(3))
    n = struct.unpack(">I", readn(sk, 4))[0]
    if readn(sk, n)[0] != 2:
        raise ValueError("no VERSION")


def sftp_pkt(sk, t, body):
    sk.sendall(u32(len(body) + 1) + bytes([t]) + body)
    n = struct.unpack(">I", readn(sk, 4))[0]
    return readn(sk, n)


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


def sessions(proto, port, n, tspid):
    start_fn, finish_fn = (sftp_start, sftp_finish) if proto == "sftp" else (nbd_start, nbd_finish)
    ok = [False] * n
    barrier = threading.Barrier(n + 1, timeout=60)

    def one(i):
        try:
            sk = socket.create_connection(("127.0.0.1", port), 30)
            sk.settimeout(30)
            start_fn(sk)
        except Exception as e:  # counted as a failed session
            print("# session %d: %s" % (i, e), flush=True)
            barrier.abort()
            return
        try:
            barrier.wait()
            finish_fn(sk)
            sk.shutdown(socket.SHUT_WR)
            sk.recv(1)  # the server's close
            ok[i] = True
        except Exception as e:
            print("# session %d: %s" % (i, e), flush=True)
        sk.close()

    t0 = time.monotonic()
    th = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in th:
        t.start()
    peak = (0, 0)
    try:
        barrier.wait()
        peak = rss(tspid)
    except threading.BrokenBarrierError:
        pass
    for t in th:
        t.join()
    dt = time.monotonic() - t0
    print("sessions %d/%d" % (sum(ok), n))
    print("peak_rss_kb %d %d %d" % (peak[0], peak[0] // max(peak[1], 1), peak[1]))
    print("seconds %.2f" % dt, flush=True)


def held(port, n, slow):
    closed = [None] * n
    socks = []
    t0 = time.monotonic()
    for i in range(n):
        sk = socket.create_connection(("127.0.0.1", port), 10)
        sk.setblocking(False)
        socks.append(sk)
    import selectors
    sel = selectors.DefaultSelector()
    for i, sk in enumerate(socks):
        sel.register(sk, selectors.EVENT_READ, i)
    deadline = t0 + 30
    nxt = time.monotonic()
    while sum(c is not None for c in closed) < n and time.monotonic() < deadline:
        if slow and time.monotonic() >= nxt:
            for i, sk in enumerate(socks):
                if closed[i] is None:
                    try:
                        sk.send(b"\0")
                    except OSError:
                        pass
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
    print("seconds %.2f" % max([c for c in closed if c is not None] or [0]), flush=True)


mode = sys.argv[1]
if mode == "sessions":
    sessions(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
elif mode in ("idle", "slow"):
    held(int(sys.argv[2]), int(sys.argv[3]), mode == "slow")
elif mode == "rss":
    t, n = rss(int(sys.argv[2]))
    print("peak_rss_kb %d %d %d" % (t, t // max(n, 1), n))
