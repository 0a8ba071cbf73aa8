# What the Python test drivers share for talking to a server: exact reads
# from a socket, SFTP's framing, and the channel paramiko takes over a
# child's pipes (paramiko accepts any object with send/recv/close/
# get_name). Imported after sys.path gets the tests/ directory.
import os
import select
import struct
import subprocess


def readn(sk, n):
    """Exactly n bytes from sk, or EOFError when it closes first."""
    b = b""
    while len(b) < n:
        x = sk.recv(n - len(b))
        if not x:
            raise EOFError("connection closed after %d of %d bytes"
                           % (len(b), n))
        b += x
    return b


def u32(v):
    return struct.pack(">I", v)


def sstr(b):
    """An SFTP string: its length, then the bytes."""
    return u32(len(b)) + b


def sftp_init(sk):
    """INIT version 3; ValueError unless VERSION answers."""
    sk.sendall(u32(5) + bytes([1]) + u32(3))
    n = struct.unpack(">I", readn(sk, 4))[0]
    if readn(sk, n)[0] != 2:
        raise ValueError("no VERSION")


def sftp_pkt(sk, t, body):
    """One request of type t; its reply packet (type byte first)."""
    sk.sendall(u32(len(body) + 1) + bytes([t]) + body)
    n = struct.unpack(">I", readn(sk, 4))[0]
    return readn(sk, n)


class PipeSock:
    """paramiko's channel over the pipes of a child running argv."""

    def __init__(self, argv):
        self.argv = argv
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE)
        self.wfd = self.p.stdin.fileno()
        self.rfd = self.p.stdout.fileno()

    def send(self, data):
        return os.write(self.wfd, data)

    def recv(self, n):
        return os.read(self.rfd, n)

    def recv_ready(self):
        return bool(select.select([self.rfd], [], [], 0)[0])

    def close(self):
        self.p.stdin.close()

    def get_name(self):
        return "pipe:" + os.path.basename(self.argv[0])

    def wait(self):
        """The child's exit code, or a note when it had to be killed."""
        try:
            return self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return "killed after 10 s"
