# One session of PROTO whose server runs under a resource limit, for
# fault_limits.sh. The server is `WRAP HANDLER ...` (WRAP sets the limit
# and writes the handler's exit status to RCFILE). Prints one line:
#   full    the session did all its work, data checked
#   refused REASON    the client was told why (an error reply, a closed
#                     connection after the server's error line)
# usage: fault_limits.py sftp|sftp-handles|nbd WRAP HANDLER ROOT-OR-IMAGE
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sftp_raw as sr  # noqa: E402

PROTO, WRAP, HANDLER, TARGET = sys.argv[1:5]
data = bytes(range(256)) * 4096  # 1 MiB


def sftp(handles):
    c = sr.Sftp(WRAP.split() + [HANDLER, "sftp", TARGET])
    try:
        opened, refused = [], []
        if handles:  # hold many handles: some OPENs meet EMFILE
            for i in range(24):
                try:
                    opened.append(c.open("h%d" % i, sr.WRITE | sr.CREAT))
                except sr.SftpError as e:
                    refused.append(str(e))
            for h in opened:
                c.close(h)
        h = c.open("f", sr.WRITE | sr.CREAT | sr.TRUNC)
        for off in range(0, len(data), 32768):
            if c.write(h, off, data[off:off + 32768]) != sr.OK:
                raise sr.SftpError(4, "write")
        c.close(h)
        if c.get("f") != data:
            return "WRONG DATA"
        if refused:
            if not all("Too many open files" in r for r in refused):
                return "WRONG REFUSAL %r" % refused[0]
            return "full (%d of 24 handles refused: %s)" % (len(refused), refused[0])
        return "full"
    except (sr.SftpError, EOFError, ValueError, OSError) as e:
        return "refused %s: %s" % (type(e).__name__, e)
    finally:
        c.quit()


def nbd_session():
    import nbd
    h = nbd.NBD()
    try:
        h.connect_command(WRAP.split() + [HANDLER, "nbd", TARGET])
        h.pwrite(data, 0)
        if h.pread(len(data), 0) != data:
            return "WRONG DATA"
        h.shutdown()
        return "full"
    except nbd.Error as e:
        return "refused %s" % e


if PROTO == "nbd":
    print(nbd_session())
else:
    print(sftp(PROTO == "sftp-handles"))
