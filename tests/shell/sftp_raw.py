# A minimal SFTP v3 client over a subprocess's pipes, for tests that need
# exact status codes and requests no ordinary client sends (confinement,
# read-only). Library only: imported by the sftp_*.py test bodies.
import os
import select
import struct
import subprocess

OK, EOF, NO_SUCH_FILE, PERMISSION_DENIED, FAILURE, BAD_MESSAGE = 0, 1, 2, 3, 4, 5
OP_UNSUPPORTED = 8
NAMES = {0: "OK", 1: "EOF", 2: "NO_SUCH_FILE", 3: "PERMISSION_DENIED",
         4: "FAILURE", 5: "BAD_MESSAGE", 6: "NO_CONNECTION",
         7: "CONNECTION_LOST", 8: "OP_UNSUPPORTED"}

READ, WRITE, APPEND, CREAT, TRUNC, EXCL = 1, 2, 4, 8, 0x10, 0x20
A_SIZE, A_UIDGID, A_PERM, A_TIME = 1, 2, 4, 8

T_STATUS, T_HANDLE, T_DATA, T_NAME, T_ATTRS, T_XREPLY = 101, 102, 103, 104, 105, 201


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def s(v):
    if isinstance(v, str):
        v = v.encode()
    return u32(len(v)) + v


def attrs(size=None, perm=None, times=None, uidgid=None):
    flags, body = 0, b""
    if size is not None:
        flags |= A_SIZE
        body += u64(size)
    if uidgid is not None:
        flags |= A_UIDGID
        body += u32(uidgid[0]) + u32(uidgid[1])
    if perm is not None:
        flags |= A_PERM
        body += u32(perm)
    if times is not None:
        flags |= A_TIME
        body += u32(times[0]) + u32(times[1])
    return u32(flags) + body


class Reader:
    def __init__(self, b):
        self.b, self.p = b, 0

    def take(self, n):
        if self.p + n > len(self.b):
            raise ValueError("short reply")
        v = self.b[self.p:self.p + n]
        self.p += n
        return v

    def u32(self):
        return struct.unpack(">I", self.take(4))[0]

    def u64(self):
        return struct.unpack(">Q", self.take(8))[0]

    def s(self):
        return self.take(self.u32())

    def attrs(self):
        a = {}
        f = self.u32()
        if f & A_SIZE:
            a["size"] = self.u64()
        if f & A_UIDGID:
            a["uid"], a["gid"] = self.u32(), self.u32()
        if f & A_PERM:
            a["perm"] = self.u32()
        if f & A_TIME:
            a["atime"], a["mtime"] = self.u32(), self.u32()
        if f & 0x80000000:
            for _ in range(self.u32()):
                self.s()
                self.s()
        return a


class SftpError(Exception):
    def __init__(self, code, msg=""):
        Exception.__init__(self, "%s %s" % (NAMES.get(code, code), msg))
        self.code = code


class Sftp:
    """One session with a server command given as an argv list."""

    def __init__(self, argv, stderr=None):
        # Unbuffered, so select() on the pipe tells the truth.
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, bufsize=0,
                                  stdout=subprocess.PIPE, stderr=stderr)
        self.id = 0
        # A reply that does not come within this many seconds is an error
        # (a lost reply or a stuck server), not a hang.
        self.timeout = 30
        self.send(1, u32(3))
        t, r = self.recv()
        if t != 2:
            raise ValueError("expected VERSION, got %d" % t)
        self.version = r.u32()
        self.ext = {}
        while r.p < len(r.b):
            k = r.s().decode()
            self.ext[k] = r.s()

    def send(self, t, payload):
        b = memoryview(u32(len(payload) + 1) + bytes([t]) + payload)
        while len(b):
            n = self.p.stdin.write(b)
            b = b[n:]

    def readn(self, n):
        b = b""
        while len(b) < n:
            if not select.select([self.p.stdout], [], [], self.timeout)[0]:
                raise TimeoutError("no reply from the server within %d s" % self.timeout)
            x = self.p.stdout.read(n - len(b))
            if not x:
                raise EOFError("server closed the connection")
            b += x
        return b

    def recv(self):
        n = struct.unpack(">I", self.readn(4))[0]
        if n < 1 or n > 1 << 20:
            raise ValueError("bad packet length %d" % n)
        b = self.readn(n)
        return b[0], Reader(b[1:])

    def call(self, t, payload):
        """Sends one request; returns (reply type, reader after the id)."""
        self.id += 1
        self.send(t, u32(self.id) + payload)
        rt, r = self.recv()
        rid = r.u32()
        if rid != self.id:
            raise ValueError("reply id %d for request %d" % (rid, self.id))
        return rt, r

    def status(self, t, payload):
        """Request answered by a STATUS: returns its code."""
        rt, r = self.call(t, payload)
        if rt != T_STATUS:
            raise ValueError("expected STATUS, got %d" % rt)
        return r.u32()

    def expect(self, t, payload, want):
        rt, r = self.call(t, payload)
        if rt == T_STATUS:
            code = r.u32()
            raise SftpError(code, r.s().decode("utf-8", "replace"))
        if rt != want:
            raise ValueError("expected %d, got %d" % (want, rt))
        return r

    # Requests that return a value raise SftpError on a STATUS reply.
    def open(self, path, flags, a=None):
        return self.expect(3, s(path) + u32(flags) + (a or attrs()), T_HANDLE).s()

    def close(self, h):
        return self.status(4, s(h))

    def read(self, h, off, n):
        return self.expect(5, s(h) + u64(off) + u32(n), T_DATA).s()

    def write(self, h, off, data):
        return self.status(6, s(h) + u64(off) + s(data))

    def lstat(self, path):
        return self.expect(7, s(path), T_ATTRS).attrs()

    def fstat(self, h):
        return self.expect(8, s(h), T_ATTRS).attrs()

    def stat(self, path):
        return self.expect(17, s(path), T_ATTRS).attrs()

    def setstat(self, path, a):
        return self.status(9, s(path) + a)

    def fsetstat(self, h, a):
        return self.status(10, s(h) + a)

    def opendir(self, path):
        return self.expect(11, s(path), T_HANDLE).s()

    def readdir(self, h):
        r = self.expect(12, s(h), T_NAME)
        out = []
        for _ in range(r.u32()):
            name, longname = r.s(), r.s()
            out.append((name, longname, r.attrs()))
        return out

    def listdir(self, path):
        h = self.opendir(path)
        names = []
        try:
            while True:
                names += [n for n, _, _ in self.readdir(h)]
        except SftpError as e:
            if e.code != EOF:
                raise
        self.close(h)
        return names

    def realpath(self, path):
        r = self.expect(16, s(path), T_NAME)
        r.u32()
        return r.s()

    def readlink(self, path):
        r = self.expect(19, s(path), T_NAME)
        r.u32()
        return r.s()

    def remove(self, path):
        return self.status(13, s(path))

    def mkdir(self, path, a=None):
        return self.status(14, s(path) + (a or attrs()))

    def rmdir(self, path):
        return self.status(15, s(path))

    def rename(self, old, new):
        return self.status(18, s(old) + s(new))

    def symlink(self, target, link):
        # OpenSSH's order: target first, then the link's path.
        return self.status(20, s(target) + s(link))

    def extended(self, name, payload):
        return self.call(200, s(name) + payload)

    def xstatus(self, name, payload):
        rt, r = self.extended(name, payload)
        if rt != T_STATUS:
            return -1
        return r.u32()

    def get(self, path):
        """Whole file through OPEN/READ/CLOSE; raises SftpError."""
        h = self.open(path, READ)
        data, off = b"", 0
        try:
            while True:
                try:
                    chunk = self.read(h, off, 32768)
                except SftpError as e:
                    if e.code == EOF:
                        break
                    raise
                data += chunk
                off += len(chunk)
        finally:
            self.close(h)
        return data

    def quit(self):
        try:
            self.p.stdin.close()
        except OSError:
            pass
        try:
            return self.p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return self.p.wait()


def server_argv(root, extra=()):
    """The server under test: handler sftp unless SFTP_REF names OpenSSH's
    (with -f $HANDLER_CONF when that is set)."""
    ref = os.environ.get("SFTP_REF")
    if ref:
        return [ref, "-d", root] + [a for a in extra if a == "-R"]
    conf = os.environ.get("HANDLER_CONF")
    return ([os.path.join(os.environ["BIN"], "handler")] +
            (["-f", conf] if conf else []) + ["sftp"] + list(extra) + [root])


class Tap:
    def __init__(self):
        self.failed = 0
        # A script run twice (e.g. sftp_confine.sh, once through openat2
        # and once through the fallback walk) keeps its result names apart.
        self.prefix = os.environ.get("TAP_PREFIX", "")

    def ok(self, name, cond, why=""):
        name = self.prefix + name
        if cond:
            print("ok " + name, flush=True)
        else:
            self.failed += 1
            print("not ok %s%s" % (name, " # " + why if why else ""), flush=True)
