# Raw NBD bytes against `handler nbd IMAGE` over a socketpair: the cases
# no ordinary client sends (wrong magic, wrong flags, options of wrong
# lengths, a 64 KiB export name, requests past the end, a client that
# vanishes mid-write, too many options, a negotiation that never ends),
# each checked by its replies, the server's exit status and its log.
# Prints ok / not ok lines; run by nbd_badinput.sh.
# usage: nbd_raw.py HANDLER TMPDIR
import os
import select
import socket
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tap import case, finish  # noqa: E402
import time

HANDLER, T = sys.argv[1], sys.argv[2]
IMG = os.path.join(T, "disk.img")
SIZE = 1 << 20
IHAVEOPT = b"IHAVEOPT"
REP_MAGIC = 0x3e889045565a9
ACK, SERVER, INFO, META = 1, 2, 3, 4
E = 0x80000000
UNSUP, POLICY, INVALID, UNKNOWN, TOO_BIG = E + 1, E + 2, E + 3, E + 6, E + 9
O_EXPORT_NAME, O_ABORT, O_LIST, O_STARTTLS, O_INFO, O_GO = 1, 2, 3, 5, 6, 7
O_SR, O_LIST_META, O_SET_META = 8, 9, 10
C_READ, C_WRITE, C_DISC, C_FLUSH, C_TRIM, C_CACHE, C_ZERO, C_BS = range(8)




class Server:
    """One handler process; the test is its client."""
    count = 0

    def __init__(self, *args, conf=None):
        Server.count += 1
        self.sock, theirs = socket.socketpair()
        argv = [HANDLER] + (["-f", conf] if conf else []) + ["nbd"] + \
            list(args) + [IMG]
        # The log goes to a file: a pipe nobody reads while the server
        # runs would fill up and stop it.
        self.logf = open(os.path.join(T, "server%d.log" % Server.count), "w+")
        self.p = subprocess.Popen(argv, stdin=theirs, stdout=theirs,
                                  stderr=self.logf)
        theirs.close()
        self.log = ""

    def recv(self, n, timeout=10):
        b = b""
        while len(b) < n:
            r, _, _ = select.select([self.sock], [], [], timeout)
            if not r:
                raise TimeoutError("waited for %d bytes, have %d" % (n, len(b)))
            d = self.sock.recv(n - len(b))
            if not d:
                raise EOFError("server closed after %d of %d bytes" % (len(b), n))
            b += d
        return b

    def send(self, b):
        self.sock.sendall(b)

    def greet(self, flags=3):
        g = self.recv(18)
        assert g[:16] == b"NBDMAGIC" + IHAVEOPT, g
        self.send(struct.pack(">I", flags))

    def opt(self, o, data=b"", length=None):
        n = len(data) if length is None else length
        self.send(IHAVEOPT + struct.pack(">II", o, n) + data)

    def reply(self):
        magic, o, t, n = struct.unpack(">QIII", self.recv(20))
        assert magic == REP_MAGIC, hex(magic)
        return o, t, self.recv(n) if n else b""

    def option(self, o, data=b""):
        """Sends an option; the final reply's type and the others."""
        self.opt(o, data)
        others = []
        while True:
            ro, t, d = self.reply()
            assert ro == o, (ro, o)
            if t == ACK or t & E:
                return t, others, d
            others.append((t, d))

    def go(self, name=b"", structured=False):
        if structured:
            assert self.option(O_SR)[0] == ACK
        t, _, d = self.option(O_GO, struct.pack(">I", len(name)) + name +
                              struct.pack(">H", 0))
        assert t == ACK, (hex(t), d)

    def req(self, typ, handle, off, length, flags=0, payload=b""):
        self.send(struct.pack(">IHHQQI", 0x25609513, flags, typ, handle, off,
                              length) + payload)

    def simple(self, data=0):
        magic, err, handle = struct.unpack(">IIQ", self.recv(16))
        assert magic == 0x67446698, hex(magic)
        return err, handle, self.recv(data) if data and not err else b""

    def chunk(self):
        magic, flags, typ, handle, n = struct.unpack(">IHHQI", self.recv(20))
        assert magic == 0x668e33ef, hex(magic)
        return flags, typ, handle, self.recv(n) if n else b""

    def end(self, close=True, timeout=10):
        """Closes our side (or not) and returns the exit status."""
        if close:
            self.sock.close()
        try:
            rc = self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            rc = "timeout"
        self.logf.seek(0)
        self.log = self.logf.read()
        self.logf.close()
        if not close:
            self.sock.close()
        return rc


def expect_exit(s, want, logged, close=True):
    rc = s.end(close)
    if rc != want:
        return "exit %s, not %s; log: %s" % (rc, want, s.log.strip()[-300:])
    if logged not in s.log:
        return "log lacks %r: %s" % (logged, s.log.strip()[-300:])


def make_image():
    with open(IMG, "wb") as f:
        f.truncate(SIZE)
        f.seek(4096)
        f.write(b"keep")


def bad_option_magic():
    s = Server()
    s.greet()
    s.send(b"IHAVEOPX" + struct.pack(">II", O_LIST, 0))
    return expect_exit(s, 100, "IHAVEOPT magic")


def unknown_client_flags():
    s = Server()
    s.greet(flags=3 | 0x100)
    return expect_exit(s, 100, "unknown bits")


def not_fixed_newstyle():
    s = Server()
    s.greet(flags=0)
    return expect_exit(s, 100, "fixed newstyle")


def wrong_lengths():
    s = Server()
    s.greet()
    r = [s.option(O_LIST, b"x")[0], s.option(O_SR, b"xyz")[0],
         s.option(O_STARTTLS, b"\0")[0],
         s.option(O_GO, struct.pack(">I", 50) + b"disk.img\0\0")[0],
         s.option(O_INFO, struct.pack(">I", 0))[0],
         s.option(O_INFO, struct.pack(">IHH", 0, 2, 1))[0]]
    assert s.option(O_SR)[0] == ACK
    r += [s.option(O_SET_META, struct.pack(">II", 0, 1))[0],
          s.option(O_LIST_META, struct.pack(">III", 0, 1, 99) + b"base:")[0]]
    if r != [INVALID] * 8:
        return "replies %s" % [hex(x) for x in r]
    # Still usable: GO, a read, DISC, exit 0.
    s.go()
    s.req(C_READ, 1, 4096, 4)
    flags, typ, _, data = s.chunk()
    s.req(C_DISC, 2, 0, 0)
    rc = expect_exit(s, 0, "end=disconnected", close=False)
    return rc or (typ == 1 and data[8:] == b"keep") or "read %s %r" % (
        typ, data)


def starttls():
    s = Server()
    s.greet()
    t, _, msg = s.option(O_STARTTLS)
    if t != POLICY or b"secure layer" not in msg:
        return "reply %s %r" % (hex(t), msg)
    t = s.option(O_LIST)[0]
    if t != ACK:
        return "LIST after STARTTLS: %s" % hex(t)
    return expect_exit(s, 0, "STARTTLS refused")


def long_names():
    s = Server()
    s.greet()
    name = b"n" * 65536
    # INFO with a 64 KiB name: more option data than kept, skipped.
    t1 = s.option(O_INFO, struct.pack(">I", len(name)) + name +
                  struct.pack(">H", 0))[0]
    # A 4097-byte name fits the option but not the spec's string limit.
    t2 = s.option(O_INFO, struct.pack(">I", 4097) + name[:4097] +
                  struct.pack(">H", 0))[0]
    t3 = s.option(O_LIST)[0]
    if (t1, t2, t3) != (TOO_BIG, INVALID, ACK):
        return "replies %s" % [hex(x) for x in (t1, t2, t3)]
    # EXPORT_NAME cannot be refused with a reply: the session ends.
    s.opt(O_EXPORT_NAME, name)
    return expect_exit(s, 100, "EXPORT_NAME with 65536 bytes")


def too_many_options():
    s = Server()
    s.greet()
    for _ in range(1024):
        s.opt(42)
    for _ in range(1024):
        if s.reply()[1] != UNSUP:
            return "not UNSUP"
    s.opt(O_LIST)
    return expect_exit(s, 100, "more than 1024 options")


def past_the_end():
    s = Server()
    s.greet()
    s.go(structured=False)
    res = []
    for typ, off, n in ((C_READ, SIZE - 1, 2), (C_TRIM, SIZE, 1),
                        (C_CACHE, SIZE + 4096, 1), (C_READ, 2**64 - 1, 2)):
        s.req(typ, 1, off, n)
        res.append(s.simple()[0])
    s.req(C_WRITE, 2, SIZE - 2, 4, payload=b"WXYZ")
    res.append(s.simple()[0])
    s.req(C_ZERO, 3, SIZE, 512)
    res.append(s.simple()[0])
    s.req(C_READ, 4, 4096, 4)
    err, _, data = s.simple(4)
    s.req(C_DISC, 5, 0, 0)
    rc = expect_exit(s, 0, "EINVAL: request past the end", close=False)
    if res != [22, 22, 22, 22, 28, 28]:
        return "errors %s" % res
    if data != b"keep":
        return "read after the errors gave %r" % data
    if os.path.getsize(IMG) != SIZE:
        return "the file grew"
    return rc


def vanish_mid_write():
    s = Server()
    s.greet()
    s.go()
    s.req(C_WRITE, 1, 0, 1 << 20, payload=b"v" * 1000)
    return expect_exit(s, 111, "middle of a WRITE: 1000 of 1048576")


def bad_request_magic():
    s = Server()
    s.greet()
    s.go()
    s.send(b"\x12\x56\x09\x53" + b"\0" * 24)
    return expect_exit(s, 100, "request with magic 0x12560953")


def abort_hang_up():
    """libnbd's way: ABORT and close at once; no EPIPE, exit 0."""
    s = Server()
    s.greet()
    s.opt(O_ABORT)
    s.sock.shutdown(socket.SHUT_WR)
    rc = expect_exit(s, 0, "end=aborted")
    if rc:
        return rc
    if "Broken pipe" in s.log:
        return "EPIPE: " + s.log


def abort_waits_for_ack():
    s = Server()
    s.greet()
    s.opt(O_ABORT, b"ignored")
    o, t, _ = s.reply()
    if (o, t) != (O_ABORT, ACK):
        return "reply %s %s" % (o, hex(t))
    return expect_exit(s, 0, "end=aborted")


def negotiation_deadline():
    conf = os.path.join(T, "short.conf")
    with open(conf, "w") as f:
        f.write("limit nbd-negotiation 1\n")
    s = Server(conf=conf)
    s.greet()
    start = time.time()
    rc = expect_exit(s, 111, "negotiation not finished in 1 s", close=False)
    took = time.time() - start
    if rc:
        return rc
    return took < 5 or "took %.1f s" % took


def stops_reading():
    """A client that sends READs and never reads a reply: the queues fill,
    nothing moves either way, and `limit idle` ends it (exit 111)."""
    conf = os.path.join(T, "idle.conf")
    with open(conf, "w") as f:
        f.write("limit idle 1\n")
    s = Server(conf=conf)
    s.greet()
    s.go()
    s.sock.settimeout(0.5)
    sent = 0
    try:
        for h in range(100000):  # stops when our send buffer is full
            s.req(C_READ, h, 0, SIZE)
            sent += 1
    except socket.timeout:
        pass
    start = time.time()
    rc = expect_exit(s, 111, "idle timeout", close=False)
    took = time.time() - start
    if rc:
        return "%s (after %d requests)" % (rc, sent)
    return took < 8 or "took %.1f s" % took


def eof_without_disc():
    s = Server()
    s.greet()
    s.go()
    s.req(C_FLUSH, 1, 0, 0)
    s.simple()
    return expect_exit(s, 0, "end=transmission")


make_image()
case("raw_bad_option_magic_exit_100", bad_option_magic)
case("raw_unknown_client_flags_exit_100", unknown_client_flags)
case("raw_not_fixed_newstyle_exit_100", not_fixed_newstyle)
case("raw_options_of_wrong_lengths_invalid", wrong_lengths)
case("raw_starttls_policy", starttls)
case("raw_64k_export_name", long_names)
case("raw_too_many_options_exit_100", too_many_options)
case("raw_requests_past_the_end", past_the_end)
case("raw_client_vanishes_mid_write_exit_111", vanish_mid_write)
case("raw_bad_request_magic_exit_100", bad_request_magic)
case("raw_abort_and_hang_up_exit_0", abort_hang_up)
case("raw_abort_gets_ack", abort_waits_for_ack)
case("raw_negotiation_deadline_exit_111", negotiation_deadline)
case("raw_eof_without_disc_exit_0", eof_without_disc)
case("raw_client_stops_reading_idle_exit_111", stops_reading)
finish()
