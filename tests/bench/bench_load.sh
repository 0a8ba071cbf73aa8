#!/bin/sh
# 500 (LOAD_N) concurrent connections per protocol under tcpserver -c 500:
# sftp, nbd and cmd (over the secure layer) sessions ok/total, peak total
# and per-connection RSS, time; idle and slow connections holding every
# slot, then one more client. The same driver as tests/shell/load.sh (200
# in make check), at a larger scale. Reports, never fails.
. tests/lib.sh
LOAD_N=${LOAD_N:-500} limit 600 sh tests/shell/load.sh
exit 0
