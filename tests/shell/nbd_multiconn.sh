#!/bin/sh
# Why handler nbd may say NBD_FLAG_CAN_MULTI_CONN: three connections (three
# processes) on one image; A's completed writes are dirty in the page
# cache until B's FLUSH (or a FUA write on B) is answered, and are clean
# then; B's process really called fdatasync. See nbd_multiconn.py.
. tests/lib.sh
PY=/usr/bin/python3

for t in strace; do
	if ! command -v $t >/dev/null 2>&1; then
		fail nbd_multiconn "$t missing (make deps installs it)"
		finish
	fi
done
if ! "$PY" -c 'import nbd' 2>/dev/null; then
	fail nbd_multiconn "python3-libnbd missing for $PY (make deps installs it)"
	finish
fi
if [ ! -x "$BIN/handler" ]; then
	fail nbd_multiconn "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
# Dirty pages mean something only on a file system with writeback. When
# $T is in memory (tmpfs), a small ext4 on a loop device stands in.
DIR=$T
fs=$(stat -f -c %T "$T")
case $fs in
tmpfs | ramfs)
	truncate -s 64M "$T/ext4.img"
	mkdir "$T/mnt"
	if ! mkfs.ext4 -q -F "$T/ext4.img" >"$T/mkfs.err" 2>&1 ||
		! mount -o loop "$T/ext4.img" "$T/mnt" 2>>"$T/mkfs.err"; then
		fail nbd_multiconn "$T is on $fs (no writeback) and no loop-mounted ext4 could stand in: $(tr '\n' ' ' <"$T/mkfs.err")"
		finish
	fi
	trap 'umount "$T/mnt"; t_cleanup' EXIT
	DIR=$T/mnt
	;;
esac
limit 120 "$PY" tests/shell/nbd_multiconn.py "$BIN/handler" "$DIR" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail nbd_multiconn_driver "exit $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
	fail nbd_multiconn_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
fi
finish
