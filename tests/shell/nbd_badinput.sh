#!/bin/sh
# `handler nbd IMAGE` fed raw bytes no ordinary client sends: wrong magic,
# wrong client flags, options of wrong lengths, a 64 KiB export name, too
# many options, requests past the end, a client that vanishes mid-write,
# ABORT with and without a hang-up, a negotiation that never ends, a
# client that stops reading its replies (ended by limit idle). Each
# case checks the replies, the exit status (0, 100, 111) and the log line.
# See nbd_raw.py.
. tests/lib.sh
PY=/usr/bin/python3

if [ ! -x "$BIN/handler" ]; then
	fail nbd_badinput "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
limit 120 "$PY" tests/shell/nbd_raw.py "$BIN/handler" "$T" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail nbd_raw_driver "exit $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
# Each server's log is its own file (see nbd_raw.py).
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr" "$T"/server*.log; then
	fail nbd_raw_sanitizer "$(grep -h -m 3 'ERROR\|runtime error' "$T/stderr" "$T"/server*.log | tr '\n' ' ')"
fi
finish
