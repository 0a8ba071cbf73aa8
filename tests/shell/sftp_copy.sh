#!/bin/sh
# copy-data in bounded steps, through the real loop (sftp_copy.py): a
# sparse 1 GiB file keeps its holes; a STAT behind a copy of 24 MiB (three
# steps of 8 MiB) is answered before it.
. tests/lib.sh
PY=/usr/bin/python3

ROOT=$T/root
mkdir -p "$ROOT"
truncate -s 1G "$ROOT/sparse"
printf 'head' | dd of="$ROOT/sparse" conv=notrunc 2>/dev/null
head -c 25165824 /dev/urandom >"$ROOT/dense"

limit 120 "$PY" tests/shell/sftp_copy.py "$ROOT" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail sftp_copy_driver "python driver exited $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
finish
