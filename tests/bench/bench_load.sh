#!/bin/sh
# 200 (LOAD_N) concurrent connections per protocol under tcpserver -c 200:
# sessions ok/total, peak total and per-connection RSS, time; idle and slow
# connections holding every slot. The same driver as tests/shell/load.sh,
# with the cmd parts (LOAD_CMD=1). Reports, never fails.
. tests/lib.sh
LOAD_N=${LOAD_N:-200} LOAD_CMD=${LOAD_CMD:-1} limit 600 sh tests/shell/load.sh
exit 0
