#!/usr/bin/python3
"""A man in the middle for the secure layer tests.

Runs as the server command of `handler-client --exec`: starts the real
server (the words after --) on pipes and relays client <-> server bytes,
tampering on the way:

  --flip DIR:OFF     xor the byte at offset OFF of direction DIR with 0x01
  --set DIR:OFF:HEX  overwrite bytes from offset OFF with HEX
  --cut DIR:N        after N bytes of DIR, cut both directions (like a
                     dropped TCP connection) and wait for the server
  --record DIR:FILE  copy the untouched bytes of DIR into FILE
  --tcp PORT         instead of a command: connect to 127.0.0.1:PORT

`mitm.py --frames DIR FILE` lists the segments of a recorded stream (see
docs/secure.md): "KIND OFFSET LENGTH" per line, KIND one of hello, header
(the secretstream header) and frame (be32 length + ciphertext).

DIR is c2s (client to server) or s2c. Offsets count from the start of the
stream in that direction. Exits with the server's exit status (or 0).
"""
import os
import select
import socket
import subprocess
import sys


def parse(argv):
    opt = {"flip": [], "set": [], "cut": {}, "record": {}, "tcp": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            return opt, argv[i + 1:]
        if a not in ("--flip", "--set", "--cut", "--record", "--tcp") or i + 1 >= len(argv):
            sys.exit("mitm: usage: mitm.py [--flip DIR:OFF] [--set DIR:OFF:HEX] "
                     "[--cut DIR:N] [--record DIR:FILE] [--tcp PORT] -- cmd...")
        v = argv[i + 1]
        if a == "--flip":
            d, off = v.split(":")
            opt["set"].append((d, int(off), None))
        elif a == "--set":
            d, off, hx = v.split(":")
            opt["set"].append((d, int(off), bytes.fromhex(hx)))
        elif a == "--cut":
            d, n = v.split(":")
            opt["cut"][d] = int(n)
        elif a == "--record":
            d, f = v.split(":", 1)
            opt["record"][d] = open(f, "wb")
        elif a == "--tcp":
            opt["tcp"] = int(v)
        i += 2
    return opt, []


def tamper(opt, d, pos, data):
    """Returns data (found at stream offset pos of direction d) tampered."""
    b = bytearray(data)
    for dd, off, val in opt["set"]:
        if dd != d:
            continue
        if val is None:
            if pos <= off < pos + len(b):
                b[off - pos] ^= 0x01
            continue
        for k, byte in enumerate(val):
            if pos <= off + k < pos + len(b):
                b[off + k - pos] = byte
    return bytes(b)


class Pipe:
    """One direction: read fd -> pending -> write fd."""

    def __init__(self, name, rfd, wfd):
        self.name, self.rfd, self.wfd = name, rfd, wfd
        self.pending = b""
        self.pos = 0
        self.eof = False


HELLO_LEN = {"c2s": 6 + 4 + 32 + 32, "s2c": 6 + 4 + 32 + 32 + 32 + 64}
STREAM_HEADER = 24


def frames(d, path):
    data = open(path, "rb").read()
    out = [("hello", 0, HELLO_LEN[d])]
    pos = HELLO_LEN[d]
    if len(data) >= pos + STREAM_HEADER:
        out.append(("header", pos, STREAM_HEADER))
        pos += STREAM_HEADER
    while pos + 4 <= len(data):
        n = 4 + int.from_bytes(data[pos:pos + 4], "big")
        out.append(("frame", pos, n))
        pos += n
    for kind, off, n in out:
        print(kind, off, n)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--frames":
        frames(sys.argv[2], sys.argv[3])
        return 0
    opt, cmd = parse(sys.argv[1:])
    child = sock = None
    if opt["tcp"] is not None:
        sock = socket.create_connection(("127.0.0.1", opt["tcp"]))
        srv_in = srv_out = sock.fileno()
    else:
        if not cmd:
            sys.exit("mitm: no server command")
        child = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        srv_in, srv_out = child.stdin.fileno(), child.stdout.fileno()

    def close_server_input():
        try:
            if sock is not None:
                sock.shutdown(socket.SHUT_WR)
            else:
                child.stdin.close()
        except OSError:
            pass

    def close_client_output():
        try:
            os.close(1)
        except OSError:
            pass

    closers = {srv_in: close_server_input, 1: close_client_output}
    pipes = [Pipe("c2s", 0, srv_in), Pipe("s2c", srv_out, 1)]
    for fd in (0, 1, srv_in, srv_out):
        os.set_blocking(fd, False)
    cut = False
    while not cut:
        live = [p for p in pipes if not (p.eof and not p.pending)]
        if not live:
            break
        rl = [p.rfd for p in live if not p.pending and not p.eof]
        wl = [p.wfd for p in live if p.pending]
        r, w, _ = select.select(rl, wl, [], 30)
        if not r and not w:
            break
        for p in live:
            if p.pending and p.wfd in w:
                try:
                    n = os.write(p.wfd, p.pending)
                except BlockingIOError:
                    n = 0
                except OSError:
                    p.pending, p.eof = b"", True
                    continue
                p.pending = p.pending[n:]
                if not p.pending and p.eof:
                    closers[p.wfd]()
            elif not p.pending and not p.eof and p.rfd in r:
                try:
                    data = os.read(p.rfd, 65536)
                except BlockingIOError:
                    continue
                except OSError:
                    data = b""
                if not data:
                    p.eof = True
                    closers[p.wfd]()
                    continue
                if p.name in opt["record"]:
                    opt["record"][p.name].write(data)
                limit = opt["cut"].get(p.name)
                if limit is not None and p.pos + len(data) >= limit:
                    data = data[:limit - p.pos]
                    cut = True
                p.pending = tamper(opt, p.name, p.pos, data)
                p.pos += len(data)
    if cut:
        # Deliver what came before the cut point, then drop both ways.
        for p in pipes:
            try:
                os.set_blocking(p.wfd, True)
                if p.pending:
                    os.write(p.wfd, p.pending)
            except OSError:
                pass
        close_server_input()
        close_client_output()
        if sock is not None:
            sock.close()
    for f in opt["record"].values():
        f.close()
    if child is not None:
        close_client_output()
        try:
            return child.wait(timeout=20)
        except subprocess.TimeoutExpired:
            child.kill()
            return 111
    return 0


if __name__ == "__main__":
    sys.exit(main())
