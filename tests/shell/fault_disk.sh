#!/bin/sh
# Faults: the disk fills during an upload, for sftp, nbd and cmd. Each
# protocol writes onto its own 2 MiB tmpfs (mounted here: needs root, else
# the cases are skipped): the client gets the protocol's error (sftp
# FAILURE "No space left on device", NBD ENOSPC, the command's own failure
# and exit status), what was acknowledged is on disk, and the server still
# serves reads. fault_disk.py drives sftp and nbd.
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
HC=$BIN/handler-client
MNTS=""
umount_all() {
	for m in $MNTS; do umount -l "$m" 2>/dev/null; done
}
trap 'umount_all; t_cleanup' EXIT
mnt() { # NAME: a fresh 2 MiB tmpfs at $T/NAME
	mkdir -p "$T/$1"
	mount -t tmpfs -o size=2m,mode=0755 "fault$1" "$T/$1" 2>/dev/null || return 1
	MNTS="$MNTS $T/$1"
}
if [ "$(id -u)" != 0 ] || ! mnt sftp; then
	ok "fault_disk # skip: mounting a tmpfs needs root"
	finish
fi
mnt nbd && mnt cmd || {
	fail "fault_disk: tmpfs mounts"
	finish
}

# sftp and nbd
head -c 200000 /dev/urandom >"$T/sftp/keep"
truncate -s 8M "$T/nbd/disk.img"
limit 60 "$PY" tests/shell/fault_disk.py "$HD" "$T/sftp" "$T/nbd/disk.img" 2>"$T/py.err"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail "fault_disk.py exited $rc: $(tail -n 5 "$T/py.err" | tr '\n' ' ')"
fi

# cmd: a command that writes its payload to the full file system
newkey server
newkey alice
head -c 100000 /dev/urandom >"$T/cmd/keep"
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command fill perm=run payload=yes -- /bin/dd of=$T/cmd/fill bs=64k status=none
command keep perm=run -- /bin/cat $T/cmd/keep
CONF
hc() {
	limit 30 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
		--exec "$HD -s -f $T/conf cmd 2>>$T/server.log" "$@"
}
head -c 4M /dev/urandom >"$T/in"
hc run --stdin fill <"$T/in" >"$T/out" 2>"$T/err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 111 ] && grep -q 'No space left' "$T/err"; then
	ok "cmd_full: the command's ENOSPC and exit status $rc reach the client"
else
	fail "cmd_full: exit $rc: $(head -c 300 "$T/err" | tr '\n' '|')"
fi
n=$(stat -c %s "$T/cmd/fill" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ] && cmp -s -n "$n" "$T/cmd/fill" "$T/in"; then
	ok "cmd_full: the $n bytes written are the payload's first"
else
	fail "cmd_full: written part differs ($n bytes)"
fi
if hc run keep >"$T/out" 2>"$T/err" && cmp -s "$T/out" "$T/cmd/keep"; then
	ok "cmd_full: reads still served"
else
	fail "cmd_full: read after the fill"
fi
finish
