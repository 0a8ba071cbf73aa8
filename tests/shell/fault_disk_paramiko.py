# The disk fills during a paramiko put (SFTPClient.putfo, pipelined, 32 KiB
# writes) to `handler sftp ROOT` over pipes, ROOT a 2 MiB tmpfs made by
# fault_disk.sh: putfo raises an IOError naming "No space left on device",
# every write paramiko saw answered OK is on disk byte for byte, the file
# holds only a prefix of the upload, and the same session still reads.
# 4 MiB because paramiko 2.12 reads a pipelined WRITE's status only when
# more than 100 are outstanding: under ~3 MiB the ENOSPC is never read and
# putfo fails only on its size check ("size mismatch in put!").
# usage: fault_disk_paramiko.py HANDLER ROOT
import io
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from pywire import PipeSock  # noqa: E402
from tap import finish, ok  # noqa: E402

import paramiko
from paramiko.sftp import CMD_WRITE

HANDLER, ROOT = sys.argv[1], sys.argv[2]



class Counting(paramiko.SFTPClient):
    """Adds up the bytes of the WRITEs paramiko saw answered OK: a request
    it waited for whose status did not raise."""

    acked = 0
    writes = None

    def _async_request(self, fileobj, t, *arg):
        num = super()._async_request(fileobj, t, *arg)
        if t == CMD_WRITE:
            self.writes[num] = len(arg[2])
        return num

    def _read_response(self, waitfor=None):
        r = super()._read_response(waitfor)  # raises on an error status
        self.acked += self.writes.pop(waitfor, 0)
        return r


data = os.urandom(4 << 20)  # twice the file system
keep = open(os.path.join(ROOT, "keep"), "rb").read()
sock = PipeSock([HANDLER, "sftp", ROOT])
c = Counting(sock)
c.writes = {}
err = None
try:
    c.putfo(io.BytesIO(data), "big")
except IOError as e:
    err = e
acked = c.acked
ok("paramiko_full_error_names_enospc",
   err is not None and "No space left on device" in str(err), repr(err))
on_disk = open(os.path.join(ROOT, "big"), "rb").read()
ok("paramiko_full_acked_kept",
   0 < acked <= len(on_disk) and on_disk[:acked] == data[:acked],
   "%d acknowledged, %d on disk" % (acked, len(on_disk)))
ok("paramiko_full_prefix_only", len(on_disk) < len(data)
   and on_disk == data[:len(on_disk)], "%d on disk" % len(on_disk))
try:
    with c.open("keep", "rb") as f:
        back = f.read()
except (IOError, paramiko.SSHException) as e:
    back = repr(e)
ok("paramiko_full_reads_same_session", back == keep,
   "read back %d bytes" % len(back))
c.remove("big")
c.close()
sock.close()
ok("paramiko_full_server_exit_0", sock.wait() == 0)
print("# paramiko: %d bytes acknowledged before %r" % (acked, err),
      flush=True)
finish()
