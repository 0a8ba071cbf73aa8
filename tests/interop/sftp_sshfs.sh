#!/bin/sh
# sshfs in passive mode (SFTP on its stdin/stdout) wired by socat to
# `handler sftp ROOT`: files copied in and out, ls, rename, mkdir, ln -s,
# chmod, truncate, append, df, rm, unmount. FUSE must work here: a probe
# mount against OpenSSH's sftp-server decides, otherwise the test is skipped.
. tests/lib.sh

REF=/usr/lib/openssh/sftp-server
FUSERMOUNT=$(command -v fusermount3 || command -v fusermount)
skip() {
	echo "# sshfs skipped: $*" >&2
	ok "sshfs # SKIP $*"
	finish
}
[ -c /dev/fuse ] || skip "no /dev/fuse"
command -v sshfs >/dev/null || skip "no sshfs"
command -v socat >/dev/null || skip "no socat"
[ -n "$FUSERMOUNT" ] || skip "no fusermount"
if [ -z "${SFTP_REF:-}" ] && [ ! -x "$BIN/handler" ]; then
	fail sftp_sshfs "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi

ROOT=$T/root
MNT=$T/mnt
L=$T/local
mkdir -p "$ROOT" "$MNT" "$L"
trap 'unmount_all; t_cleanup' EXIT
unmount_all() {
	if mountpoint -q "$MNT" 2>/dev/null; then
		limit 10 "$FUSERMOUNT" -u "$MNT" 2>/dev/null || "$FUSERMOUNT" -uz "$MNT" 2>/dev/null
	fi
}

# mount SERVER-COMMAND REMOTE-PATH: sshfs in the foreground under socat, in
# the background; waits up to 10 s for the mount.
mount_sshfs() {
	bg socat EXEC:"$1" EXEC:"sshfs -f -o passive -o entry_timeout=0 -o attr_timeout=0 -o dir_cache=no \\:$2 $MNT",nofork
	SOCAT_PID=$T_LASTPID
	_i=0
	while [ $_i -lt 100 ]; do
		mountpoint -q "$MNT" && return 0
		kill -0 "$SOCAT_PID" 2>/dev/null || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# Waits for socat (and so both ends) to exit after an unmount.
wait_gone() {
	_i=0
	while kill -0 "$1" 2>/dev/null && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	! kill -0 "$1" 2>/dev/null
}

# Probe: does FUSE work in this environment at all?
mkdir -p "$T/probe"
if ! mount_sshfs "$REF -d $T/probe" "$T/probe" 2>"$T/probe.err"; then
	skip "FUSE mount fails here: $(tr '\n' ' ' <"$T/probe.err" | cut -c1-200)"
fi
limit 10 "$FUSERMOUNT" -u "$MNT"
wait_gone "$SOCAT_PID" || skip "probe mount did not go away"

if [ -n "${SFTP_REF:-}" ]; then
	SERVER="$SFTP_REF -d $ROOT" REMOTE=$ROOT
else
	SERVER="$BIN/handler sftp $ROOT" REMOTE=/
fi
head -c 4194311 /dev/urandom >"$L/in.bin"
head -c 3000007 /dev/urandom >"$ROOT/out.bin"
mkdir "$ROOT/sub"
printf 'hello\n' >"$ROOT/sub/hello.txt"
if ! mount_sshfs "$SERVER" "$REMOTE" 2>"$T/mount.err"; then
	fail sshfs_mount "sshfs did not mount: $(tr '\n' ' ' <"$T/mount.err" | cut -c1-300)"
	finish
fi
ok sshfs_mount

check sshfs_copy_in limit 20 cp "$L/in.bin" "$MNT/in.bin"
check sshfs_copy_in_same [ "$(sha "$ROOT/in.bin")" = "$(sha "$L/in.bin")" ]
check sshfs_copy_out limit 20 cp "$MNT/out.bin" "$L/out.bin"
check sshfs_copy_out_same [ "$(sha "$ROOT/out.bin")" = "$(sha "$L/out.bin")" ]
limit 10 ls -la "$MNT" "$MNT/sub" >"$T/ls.out" 2>&1
check sshfs_ls grep -q ' hello.txt$' "$T/ls.out" && grep -q ' in.bin$' "$T/ls.out"
check sshfs_ls_size grep -Eq ' 3000007 .* out.bin$' "$T/ls.out"
check sshfs_read_small [ "$(limit 10 cat "$MNT/sub/hello.txt")" = hello ]
check sshfs_rename limit 10 mv "$MNT/in.bin" "$MNT/sub/moved.bin"
check sshfs_rename_disk [ ! -e "$ROOT/in.bin" ] && [ "$(sha "$ROOT/sub/moved.bin")" = "$(sha "$L/in.bin")" ]
printf 'other\n' >"$ROOT/victim.txt"
check sshfs_rename_over limit 10 mv "$MNT/sub/hello.txt" "$MNT/victim.txt"
check sshfs_rename_over_disk [ "$(cat "$ROOT/victim.txt")" = hello ]
check sshfs_mkdir limit 10 mkdir "$MNT/newdir"
check sshfs_mkdir_disk [ -d "$ROOT/newdir" ]
check sshfs_symlink limit 10 ln -s victim.txt "$MNT/lnk"
check sshfs_symlink_disk [ "$(readlink "$ROOT/lnk")" = victim.txt ]
check sshfs_chmod limit 10 chmod 604 "$MNT/victim.txt"
check sshfs_chmod_disk [ "$(stat -c %a "$ROOT/victim.txt")" = 604 ]
limit 10 sh -c 'printf "more\n" >>"$1"' sh "$MNT/victim.txt"
check sshfs_append [ "$(cat "$ROOT/victim.txt")" = "$(printf 'hello\nmore')" ]
check sshfs_truncate limit 10 truncate -s 1000 "$MNT/out.bin"
check sshfs_truncate_disk [ "$(stat -c %s "$ROOT/out.bin")" = 1000 ]
check sshfs_df limit 10 sh -c 'df "$1" >"$2"' sh "$MNT" "$T/df.out"
check sshfs_rm limit 10 rm "$MNT/sub/moved.bin" "$MNT/lnk"
check sshfs_rmdir limit 10 rmdir "$MNT/newdir"
check sshfs_rm_disk [ ! -e "$ROOT/sub/moved.bin" ] && [ ! -e "$ROOT/newdir" ] && [ ! -L "$ROOT/lnk" ]
# A tree with many small files, nested directories and a symlink, in and out.
mkdir -p "$L/tree/x/y/z"
i=0
while [ $i -lt 100 ]; do
	printf 'file %s\n' "$i" >"$L/tree/x/f$i"
	i=$((i + 1))
done
head -c 200000 /dev/urandom >"$L/tree/x/y/z/blob"
ln -s x/f7 "$L/tree/lnk"
# cp -R, not -a: sshfs sets a copied symlink's owner with SETSTAT, which
# follows the link and fails while its target is not copied yet.
check sshfs_cp_tree_in limit 30 cp -R "$L/tree" "$MNT/tree"
check sshfs_cp_tree_in_same diff -r --no-dereference "$L/tree" "$ROOT/tree"
check sshfs_cp_tree_out limit 30 cp -R "$MNT/tree" "$L/tree_back"
check sshfs_cp_tree_out_same diff -r --no-dereference "$L/tree" "$L/tree_back"
n=$(limit 20 find "$MNT/tree" | wc -l)
check sshfs_find [ "$n" -eq 106 ]
check sshfs_mv_dir limit 10 mv "$MNT/tree/x" "$MNT/tree/x2"
check sshfs_mv_dir_disk [ -f "$ROOT/tree/x2/y/z/blob" ] && [ ! -e "$ROOT/tree/x" ]
check sshfs_rm_r_tree limit 20 rm -r "$MNT/tree"
check sshfs_rm_r_tree_disk [ ! -e "$ROOT/tree" ]
# Random-offset writes through the page cache (dd conv=notrunc).
head -c 1000000 /dev/urandom >"$L/rand.bin"
cp "$L/rand.bin" "$ROOT/rand.bin"
printf 'PATCH' >"$L/patch"
limit 10 dd if="$L/patch" of="$MNT/rand.bin" bs=1 seek=500000 conv=notrunc 2>/dev/null
dd if="$L/patch" of="$L/rand.bin" bs=1 seek=500000 conv=notrunc 2>/dev/null
limit 10 sync "$MNT/rand.bin" 2>/dev/null
check sshfs_write_at_offset [ "$(sha "$ROOT/rand.bin")" = "$(sha "$L/rand.bin")" ]
check sshfs_unmount limit 10 "$FUSERMOUNT" -u "$MNT"
check sshfs_server_exits wait_gone "$SOCAT_PID"

# Read-only server: reads work through the mount, writes fail.
if [ -z "${SFTP_REF:-}" ]; then
	SERVER_RO="$BIN/handler sftp -R $ROOT"
else
	SERVER_RO="$SFTP_REF -R -d $ROOT"
fi
if mount_sshfs "$SERVER_RO" "$REMOTE" 2>"$T/mount_ro.err"; then
	check sshfs_ro_read [ "$(limit 10 cat "$MNT/victim.txt")" = "$(cat "$ROOT/victim.txt")" ]
	if limit 10 cp "$L/in.bin" "$MNT/ro_new.bin" 2>/dev/null; then
		fail sshfs_ro_write_refused "cp into a -R mount succeeded"
	else
		ok sshfs_ro_write_refused
	fi
	if limit 10 rm "$MNT/victim.txt" 2>/dev/null; then
		fail sshfs_ro_rm_refused "rm in a -R mount succeeded"
	else
		ok sshfs_ro_rm_refused
	fi
	check sshfs_ro_unchanged [ ! -e "$ROOT/ro_new.bin" ] && [ -f "$ROOT/victim.txt" ]
	check sshfs_ro_unmount limit 10 "$FUSERMOUNT" -u "$MNT"
	check sshfs_ro_server_exits wait_gone "$SOCAT_PID"
else
	fail sshfs_ro_mount "$(tr '\n' ' ' <"$T/mount_ro.err" | cut -c1-300)"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/mount.err" "$T/mount_ro.err"; then
	fail sshfs_sanitizer "$(grep -h -m 3 'ERROR\|runtime error' "$T/mount.err" "$T/mount_ro.err" | tr '\n' ' ')"
fi
finish
