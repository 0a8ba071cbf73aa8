# A client that uploads over TCP and dies or is cut at a chosen moment
# (fault_kill.sh):
#   fault_client.py sftp|nbd PORT NAME ACKS kill|hold STATEFILE
# It writes 64 KiB chunks of a known pattern (chunk i is bytes of
# pattern(i)) at increasing offsets. After ACKS acknowledged chunks it
# writes "acked ACKS" to STATEFILE and then:
#   kill: sends four more chunks without waiting and SIGKILLs itself
#         (so the server sees a connection cut mid-request);
#   hold: goes on writing one chunk at a time until the connection ends,
#         then records "acked N" (the last acknowledged count) and
#         "closed" in STATEFILE.
import os
import signal
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pywire import readn, sstr as s, u32  # noqa: E402

PROTO, PORT, NAME, ACKS, MODE, STATE = (sys.argv[1], int(sys.argv[2]),
                                         sys.argv[3], int(sys.argv[4]),
                                         sys.argv[5], sys.argv[6])
CHUNK = 65536


def pattern(i):
    return bytes([(i * 7 + 1) & 0xFF]) * CHUNK


def note(text):
    with open(STATE, "a") as f:
        f.write(text + "\n")


sk = socket.create_connection(("127.0.0.1", PORT), 5)
sk.settimeout(20)


if PROTO == "sftp":
    def pkt(t, body):
        return u32(len(body) + 1) + bytes([t]) + body

    def reply():
        n = struct.unpack(">I", readn(sk, 4))[0]
        return readn(sk, n)

    sk.sendall(pkt(1, u32(3)))
    reply()
    sk.sendall(pkt(3, u32(1) + s(NAME.encode()) + u32(0x1A) + u32(0)))
    r = reply()
    h = r[9:9 + struct.unpack(">I", r[5:9])[0]]

    def send_write(i):
        sk.sendall(pkt(6, u32(100 + i) + s(h) + struct.pack(">Q", i * CHUNK) +
                       s(pattern(i))))

    def wait_ack():
        r = reply()
        if r[0] != 101 or struct.unpack(">I", r[5:9])[0] != 0:
            raise ValueError("write refused")
else:  # nbd, fixed newstyle, export "" with NBD_OPT_EXPORT_NAME
    readn(sk, 8 + 8 + 2)
    sk.sendall(u32(1))  # FIXED_NEWSTYLE
    sk.sendall(b"IHAVEOPT" + u32(1) + u32(0))
    readn(sk, 8 + 2 + 124)

    def send_write(i):
        sk.sendall(u32(0x25609513) + struct.pack(">HHQQI", 0, 1, i, i * CHUNK,
                                                  CHUNK) + pattern(i))

    def wait_ack():
        r = readn(sk, 16)
        if struct.unpack(">I", r[:4])[0] != 0x67446698 or r[4:8] != b"\0\0\0\0":
            raise ValueError("write refused")

i = 0
while i < ACKS:
    send_write(i)
    wait_ack()
    i += 1
note("acked %d" % i)
if MODE == "kill":
    for j in range(4):
        send_write(i + j)
    os.kill(os.getpid(), signal.SIGKILL)
try:
    while True:  # the same 256 chunks again and again, until cut
        send_write(i % 256)
        wait_ack()
        i += 1
except (OSError, EOFError, ValueError):
    pass
note("acked %d" % min(i, 256))
note("closed")
