#!/bin/sh
# handler nbd serving a block device: a loop device over a 64 MiB file.
# Size from the device, data round trip with FUA, WRITE_ZEROES (aligned
# fast zero works through the device's own zeroing, an unaligned one
# fails fast with ENOTSUP and works without FAST_ZERO), TRIM, FLUSH,
# block status (a device is all data), and the bytes seen in the file.
# Needs root and a free loop device; without them the case is skipped
# and says why.
. tests/lib.sh
PY=/usr/bin/python3

if ! "$PY" -c 'import nbd' 2>/dev/null; then
	fail nbd_blockdev "python3-libnbd missing for $PY (make deps installs it)"
	finish
fi
truncate -s 64M "$T/backing"
LOOP=$(losetup -f --show "$T/backing" 2>"$T/losetup.err")
if [ -z "$LOOP" ] || [ ! -b "$LOOP" ]; then
	ok "nbd_blockdev # SKIP no loop device here: $(tr '\n' ' ' <"$T/losetup.err")"
	finish
fi
trap 'losetup -d "$LOOP"; t_cleanup' EXIT

limit 60 "$PY" - "$BIN/handler" "$LOOP" "$T/backing" 2>"$T/stderr" <<'PYEOF'
import os
import sys
import nbd

handler, dev, backing = sys.argv[1:4]
MiB = 1 << 20
failed = 0


def ok(name, cond, why=""):
    global failed
    print(("ok " if cond else "not ok ") + name +
          ("" if cond or not why else " # " + why), flush=True)
    failed += not cond


h = nbd.NBD()
h.add_meta_context(nbd.CONTEXT_BASE_ALLOCATION)
h.set_full_info(True)
h.connect_command([handler, "nbd", dev])
ok("blockdev_size_and_name", h.get_size() == 64 * MiB and
   h.get_canonical_export_name() == os.path.basename(dev))
data = os.urandom(MiB)
h.pwrite(data, 4096, nbd.CMD_FLAG_FUA)
ok("blockdev_round_trip", h.pread(MiB, 4096) == data)
h.zero(MiB, 4096, nbd.CMD_FLAG_FAST_ZERO)
ok("blockdev_fast_zero_aligned", h.pread(MiB, 4096) == b"\0" * MiB)
h.pwrite(b"\xff" * 4096, 8 * MiB)
try:
    h.zero(1000, 8 * MiB + 17, nbd.CMD_FLAG_FAST_ZERO)
    ok("blockdev_fast_zero_unaligned_enotsup", False, "succeeded")
except nbd.Error as e:
    ok("blockdev_fast_zero_unaligned_enotsup", e.errno == "ENOTSUP" and
       h.pread(4096, 8 * MiB) == b"\xff" * 4096, str(e))
h.zero(1000, 8 * MiB + 17, nbd.CMD_FLAG_NO_HOLE)
ok("blockdev_zero_unaligned", h.pread(1000, 8 * MiB + 17) == b"\0" * 1000
   and h.pread(17, 8 * MiB) == b"\xff" * 17)
h.trim(2 * MiB, 16 * MiB)
h.trim(100, 20 * MiB + 3)
h.flush()
ext = []
h.block_status(64 * MiB, 0, lambda m, o, e, err: ext.append(list(e)) or 0)
ok("blockdev_block_status_all_data", ext == [[64 * MiB, 0]], str(ext))
# FUA: the device's page cache reaches the loop driver, hence the file.
h.pwrite(b"tail", 64 * MiB - 4, nbd.CMD_FLAG_FUA)
h.shutdown()
with open(backing, "rb") as f:
    f.seek(64 * MiB - 4)
    ok("blockdev_bytes_reach_the_file", f.read(4) == b"tail")
sys.exit(3 if failed else 0)
PYEOF
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail nbd_blockdev_driver "exit $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
	fail nbd_blockdev_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
fi
finish
