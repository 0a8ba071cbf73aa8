#!/bin/sh
# Faults: the disk fills during an upload, for sftp, nbd and cmd. Each
# protocol writes onto its own 2 MiB tmpfs (mounted here: needs root, else
# the cases are skipped): the client gets the protocol's error (sftp
# FAILURE "No space left on device", NBD ENOSPC, the command's own failure
# and exit status), what was acknowledged is on disk, and the server still
# serves reads. fault_disk.py drives sftp and nbd with raw clients; real
# clients too: OpenSSH's sftp (batch mode, -D) and paramiko
# (fault_disk_paramiko.py), each onto its own tmpfs.
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
mnt nbd && mnt cmd && mnt ossh && mnt pmk || {
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

# OpenSSH's sftp: a put twice the size of the file system, then in the
# same session a get and a listing. It prints only the status code's name
# ("Failure"), not the server's text; -put lets the batch go on.
head -c 200000 /dev/urandom >"$T/ossh/keep"
head -c 4M /dev/urandom >"$T/in"
printf -- '-put %s big\nget keep %s\nls -l big\n' "$T/in" "$T/ossh.keep" >"$T/batch"
limit 30 sftp -b "$T/batch" -D "$HD sftp $T/ossh" >"$T/out" 2>"$T/err.cr"
rc=$?
tr -d '\r' <"$T/err.cr" >"$T/err"  # the progress meter's line ends
if [ $rc -eq 0 ] && grep -q '^write remote "/big": Failure$' "$T/err"; then
	ok "openssh_full: sftp reports: $(grep -m 1 'write remote' "$T/err")"
else
	fail "openssh_full: exit $rc: $(head -c 300 "$T/err" | tr '\n' '|')"
fi
n=$(stat -c %s "$T/ossh/big" 2>/dev/null || echo 0)
if [ "$n" -gt 0 ] && [ "$n" -lt 4194304 ] && cmp -s -n "$n" "$T/ossh/big" "$T/in"; then
	ok "openssh_full: the $n bytes on disk are the upload's first"
else
	fail "openssh_full: $n bytes on disk, not a prefix of the upload"
fi
if cmp -s "$T/ossh.keep" "$T/ossh/keep" &&
	grep -q " $n .* big\$" "$T/out"; then
	ok "openssh_full: the same session reads a file and lists big at $n bytes"
else
	fail "openssh_full: after the fill: $(tail -n 2 "$T/out" | tr '\n' '|')"
fi
# the server's stderr is sftp's: its exit status is not shown, its log is
if grep -q 'done peer=.* exit=0$' "$T/err" && ! grep -q 'ERROR:\|runtime error' "$T/err"; then
	ok "openssh_full: the server ended with exit 0"
else
	fail "openssh_full: server: $(grep -m 2 'done peer\|ERROR:\|runtime error' "$T/err" | tr '\n' '|')"
fi

# paramiko's put: its IOError names ENOSPC (fault_disk_paramiko.py)
head -c 200000 /dev/urandom >"$T/pmk/keep"
if "$PY" -c 'import paramiko' 2>/dev/null; then
	limit 60 "$PY" tests/shell/fault_disk_paramiko.py "$HD" "$T/pmk" 2>"$T/pmk.err"
	rc=$?
	[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		fail "fault_disk_paramiko.py exited $rc: $(tail -n 5 "$T/pmk.err" | tr '\n' ' ')"
	fi
else
	ok "paramiko_full # SKIP python3-paramiko missing for $PY"
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
