#!/bin/sh
# OpenSSH's sftp client against `handler sftp ROOT` over pipes (sftp -D runs
# the server command line directly): transfers of several sizes with default
# and large buffers, ls -l, mkdir, rename/posix-rename, ln -s, ln, chmod, df,
# rm, rmdir, put -p/get -p, resume with reget/reput, put -r/get -r, globs,
# copy (copy-data), chown/chgrp, the -d/-u/-e/-l options; then
# tests/shell/sftp_diff.py compares replies request by request with
# OpenSSH's sftp-server and probes pipelining, limits and hang-ups.
# SFTP_REF=/usr/lib/openssh/sftp-server runs the batches against OpenSSH's
# server instead (started with -d ROOT), to check the script itself.
. tests/lib.sh

if [ -z "${SFTP_REF:-}" ] && [ ! -x "$BIN/handler" ]; then
	fail sftp_openssh "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
ROOT=$T/root
L=$T/local
REF=/usr/lib/openssh/sftp-server
mkdir -p "$ROOT" "$L"
# OpenSSH's server lets clients change owners and set setuid bits; handler
# only with these items (docs/sftp.md, "Attribute changes"), so that the
# comparisons below are like for like. The default is checked in 5c.
printf 'sftp-allow-chown yes\nsftp-allow-setid yes\n' >"$T/parity.conf"
HANDLER_CONF=$T/parity.conf
export HANDLER_CONF
if [ -n "${SFTP_REF:-}" ]; then
	SERVER="$SFTP_REF -d $ROOT"
else
	SERVER="$BIN/handler -f $T/parity.conf sftp $ROOT"
fi
case $BUILD in *asan*) big=16 ;; *) big=64 ;; esac

# batch NAME [sftp options]: runs $T/NAME.batch, output in $T/NAME.out;
# ok/fail NAME on sftp's exit status.
batch() {
	_n=$1
	shift
	limit 60 sftp -D "$SERVER" "$@" -b "$T/$_n.batch" >"$T/$_n.out" 2>&1
	_rc=$?
	if [ $_rc -eq 0 ]; then
		ok "$_n"
	else
		fail "$_n" "sftp -b exited $_rc: $(tail -n 4 "$T/$_n.out" | tr '\n' ' ')"
	fi
	return $_rc
}
same() { # name file1 file2
	if [ -f "$2" ] && [ -f "$3" ] && [ "$(sha "$2")" = "$(sha "$3")" ]; then
		ok "$1"
	else
		fail "$1" "$2 and $3 differ (sizes $(stat -c %s "$2" 2>&1) / $(stat -c %s "$3" 2>&1))"
	fi
}

: >"$L/f0"
head -c 1 /dev/urandom >"$L/f1"
head -c $((1048576 + 7)) /dev/urandom >"$L/f1m"
head -c $((big * 1048576 + 13)) /dev/urandom >"$L/fbig"

# 1. transfers, default options then large buffers and many requests.
for mode in default bigbuf; do
	opts=
	[ $mode = bigbuf ] && opts="-B 261120 -R 128"
	mkdir -p "$ROOT/$mode" "$L/back_$mode"
	{
		for f in f0 f1 f1m fbig; do echo "put $L/$f $mode/$f"; done
		for f in f0 f1 f1m fbig; do echo "get $mode/$f $L/back_$mode/$f"; done
	} >"$T/transfer_$mode.batch"
	# shellcheck disable=SC2086
	batch "transfer_$mode" $opts
	for f in f0 f1 f1m fbig; do
		same "put_${f}_$mode" "$L/$f" "$ROOT/$mode/$f"
		same "get_${f}_$mode" "$L/$f" "$L/back_$mode/$f"
	done
done

# 2. ls -l: OpenSSH's long format (mode, links, owner, group, size, date,
# name). The client formats it itself when the server offers
# users-groups-by-id, then the link count shows as '?'.
mkdir -p "$ROOT/lsdir/subdir"
printf 'hello' >"$ROOT/lsdir/known.txt"
chmod 640 "$ROOT/lsdir/known.txt"
ln -s known.txt "$ROOT/lsdir/alink"
touch -d '2001-02-03 04:05:06' "$ROOT/lsdir/old.txt"
printf 'cd lsdir\nls -l\npwd\ncd ..\npwd\n' >"$T/ls.batch"
if batch ls; then
	re='^[-dlpscb][-rwxsStT]{9}[.+@]? +([0-9]+|\?) +[^ ]+ +[^ ]+ +[0-9]+ +[A-Z][a-z]{2} +[0-9]{1,2} +([0-9]{2}:[0-9]{2}|[0-9]{4}) +'
	check ls_long_known grep -Eq "${re}known.txt\$" "$T/ls.out"
	check ls_long_known_fields grep -Eq "^-rw-r----- +([0-9]+|\\?) +$(id -un) +$(id -gn) +5 " "$T/ls.out"
	check ls_long_dir grep -Eq "^d${re#^\[-dlpscb\]}subdir\$" "$T/ls.out"
	check ls_long_symlink grep -Eq "^l${re#^\[-dlpscb\]}alink\$" "$T/ls.out"
	check ls_long_old_year grep -Eq ' Feb +3 +2001 +old\.txt$' "$T/ls.out"
	n=$(grep -Ec "$re" "$T/ls.out")
	if [ "$n" -eq 4 ]; then ok ls_long_count; else fail ls_long_count "$n long lines, expected 4: $(tr '\n' '|' <"$T/ls.out")"; fi
	if [ -z "${SFTP_REF:-}" ]; then
		check pwd_subdir grep -q '^Remote working directory: /lsdir$' "$T/ls.out"
		check pwd_root grep -q '^Remote working directory: /$' "$T/ls.out"
	fi
fi

# 3. namespace operations.
printf 'one' >"$ROOT/a.txt"
printf 'two' >"$ROOT/b.txt"
printf 'three' >"$ROOT/c.txt"
mkdir "$ROOT/gone"
cat >"$T/ops.batch" <<EOF
mkdir newdir
rename a.txt newdir/a2.txt
rename c.txt b.txt
ln -s newdir/a2.txt sym
ln newdir/a2.txt hard
chmod 600 newdir/a2.txt
df
df -h
rm hard
rmdir gone
mkdir tmpdir
rmdir tmpdir
EOF
if batch ops; then
	check mkdir [ -d "$ROOT/newdir" ]
	check rename [ ! -e "$ROOT/a.txt" ] && [ "$(cat "$ROOT/newdir/a2.txt")" = one ]
	# sftp's rename uses posix-rename@openssh.com when offered: it replaces.
	check posix_rename_overwrites [ ! -e "$ROOT/c.txt" ] && [ "$(cat "$ROOT/b.txt")" = three ]
	check symlink [ "$(readlink "$ROOT/sym")" = newdir/a2.txt ]
	check chmod [ "$(stat -c %a "$ROOT/newdir/a2.txt")" = 600 ]
	check rm_hardlink [ ! -e "$ROOT/hard" ] && [ "$(stat -c %h "$ROOT/newdir/a2.txt")" = 1 ]
	check rmdir [ ! -e "$ROOT/gone" ] && [ ! -e "$ROOT/tmpdir" ]
	check df_output grep -Eq '^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+%' "$T/ops.out"
fi
# ln (hardlink@openssh.com) checked on its own: same inode.
printf 'ln newdir/a2.txt hard2\n' >"$T/hardlink.batch"
if batch hardlink; then
	check hardlink_same_inode [ "$(stat -c %i "$ROOT/hard2")" = "$(stat -c %i "$ROOT/newdir/a2.txt")" ]
fi
# A missing file: error reported, batch stops (no '-' prefix).
printf 'get no-such-file %s/x\n' "$L" >"$T/missing.batch"
limit 30 sftp -D "$SERVER" -b "$T/missing.batch" >"$T/missing.out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -qi 'not found\|no such file' "$T/missing.out"; then
	ok get_missing_fails
else
	fail get_missing_fails "exit $rc: $(tr '\n' ' ' <"$T/missing.out")"
fi

# 4. put -p / get -p keep mode and times (SETSTAT, FSETSTAT).
touch -d '2010-05-06 07:08:09' "$L/f1m"
chmod 640 "$L/f1m"
printf 'put -p %s/f1m keep.bin\nget -p keep.bin %s/keep_back.bin\n' "$L" "$L" >"$T/preserve.batch"
if batch preserve; then
	check put_p_mtime [ "$(stat -c %Y "$ROOT/keep.bin")" = "$(stat -c %Y "$L/f1m")" ]
	check put_p_mode [ "$(stat -c %a "$ROOT/keep.bin")" = 640 ]
	check get_p_mtime [ "$(stat -c %Y "$L/keep_back.bin")" = "$(stat -c %Y "$L/f1m")" ]
fi

# 5. resume: a truncated download completed by reget, a truncated upload
# completed by reput.
cp "$L/fbig" "$ROOT/resume_src"
head -c $((big * 1048576 / 3)) "$L/fbig" >"$L/partial"
head -c $((big * 1048576 / 2 + 5)) "$L/fbig" >"$ROOT/partial_up"
printf 'reget resume_src %s/partial\nreput %s/fbig partial_up\n' "$L" "$L" >"$T/resume.batch"
if batch resume; then
	same reget_complete "$L/fbig" "$L/partial"
	same reput_complete "$L/fbig" "$ROOT/partial_up"
fi
# The same with large buffers.
head -c 1000 "$L/fbig" >"$L/partial2"
head -c 777777 "$L/fbig" >"$ROOT/partial_up2"
printf 'reget resume_src %s/partial2\nreput %s/fbig partial_up2\n' "$L" "$L" >"$T/resume_bigbuf.batch"
if batch resume_bigbuf -B 261120 -R 128; then
	same reget_complete_bigbuf "$L/fbig" "$L/partial2"
	same reput_complete_bigbuf "$L/fbig" "$ROOT/partial_up2"
fi

# 5b. recursive transfers, globs, copy-data (sftp's cp), chown/chgrp.
mkdir -p "$L/tree/a/b/c" "$L/tree/empty"
i=0
while [ $i -lt 40 ]; do
	head -c $((i * 997)) /dev/urandom >"$L/tree/a/f$i"
	printf '%s\n' "$i" >"$L/tree/a/b/c/g$i.txt"
	i=$((i + 1))
done
ln -s a/f3 "$L/tree/link"
cat >"$T/recursive.batch" <<EOF
put -r $L/tree rtree
get -r rtree $L/tree_back
cd rtree/a/b/c
get g1*.txt $L/globbed_local
cd ../../../..
copy rtree/a/f39 copied.bin
EOF
# Changing owners needs root.
[ "$(id -u)" -eq 0 ] && printf 'chown 1234 copied.bin\nchgrp 4321 copied.bin\n' >>"$T/recursive.batch"
mkdir -p "$L/globbed_local"
if batch recursive; then
	# sftp -r skips symlinks on put: compare everything else.
	check put_r_tree diff -r -x link "$L/tree" "$ROOT/rtree"
	check get_r_tree diff -r -x link "$L/tree" "$L/tree_back"
	n=$(ls "$L/globbed_local" | wc -l)
	if [ "$n" -eq 11 ]; then ok get_glob; else fail get_glob "$n files matched g1*.txt, expected 11"; fi
	same copy_data_cp "$L/tree/a/f39" "$ROOT/copied.bin"
	if [ "$(id -u)" -eq 0 ]; then
		check chown_chgrp [ "$(stat -c %u:%g "$ROOT/copied.bin")" = 1234:4321 ]
	fi
fi

# 5c. by default (no sftp-allow-chown, no sftp-allow-setid) handler
# refuses owner changes and drops setuid/setgid bits.
if [ -z "${SFTP_REF:-}" ] && [ "$(id -u)" -eq 0 ] && [ -f "$ROOT/rtree/a/f1" ]; then
	chown 0:0 "$ROOT/rtree/a/f1"
	printf -- '-chown 1234 rtree/a/f1\n-chgrp 4321 rtree/a/f1\nchmod 4755 rtree/a/f1\n' >"$T/default_attrs.batch"
	limit 30 sftp -D "$BIN/handler sftp $ROOT" -b "$T/default_attrs.batch" >"$T/default_attrs.out" 2>&1
	check default_chown_refused [ "$(stat -c %u:%g "$ROOT/rtree/a/f1")" = 0:0 ]
	check default_setuid_dropped [ "$(stat -c %a "$ROOT/rtree/a/f1")" = 755 ]
fi

# 6. server options: -d START, -u UMASK, and -e / -l LEVEL accepted.
if [ -n "${SFTP_REF:-}" ]; then
	OPTSRV="$SFTP_REF -e -l INFO -u 077 -d $ROOT/lsdir"
else
	OPTSRV="$BIN/handler sftp -e -l INFO -u 077 -d /lsdir $ROOT"
fi
chmod 644 "$L/f1"
printf 'pwd\nput %s/f1 umask.bin\nmkdir umaskdir\n' "$L" >"$T/options.batch"
if limit 30 sftp -D "$OPTSRV" -b "$T/options.batch" >"$T/options.out" 2>&1; then
	ok server_options_accepted
	if [ -z "${SFTP_REF:-}" ]; then
		check start_dir_option grep -q '^Remote working directory: /lsdir$' "$T/options.out"
	fi
	check umask_file [ "$(stat -c %a "$ROOT/lsdir/umask.bin" 2>&1)" = 600 ]
	check umask_dir [ "$(stat -c %a "$ROOT/lsdir/umaskdir" 2>&1)" = 700 ]
else
	fail server_options_accepted "sftp -D '$OPTSRV': $(tail -n 3 "$T/options.out" | tr '\n' ' ')"
fi

# 7. differential: error cases and attributes, request by request, against
# OpenSSH's sftp-server on a copy of the same tree (tests/shell/sftp_diff.py).
if [ -z "${SFTP_REF:-}" ] && [ -x "$REF" ]; then
	D1=$T/diff1
	mkdir -p "$D1/dir/sub"
	printf 'hello file\n' >"$D1/file.txt"
	printf 'other\n' >"$D1/other.txt"
	ln -s file.txt "$D1/link"
	ln -s nowhere "$D1/dangling"
	ln -s loop "$D1/loop"
	printf 'a\n' >"$D1/dir/a"
	touch -d '2001-02-03 04:05:06' "$D1/dir/a"
	mkfifo "$D1/dir/fifo"
	ln -s ../file.txt "$D1/dir/up"
	cp -a "$D1" "$T/diff2"
	limit 60 /usr/bin/python3 tests/shell/sftp_diff.py "$D1" "$T/diff2" "$REF" 2>"$T/diff.out"
	rc=$?
	[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		fail diff_driver "exit $rc: $(tail -n 5 "$T/diff.out" | tr '\n' ' ')"
	fi
fi

if grep -l 'AddressSanitizer\|runtime error' "$T"/*.out >/dev/null 2>&1; then
	fail sftp_openssh_sanitizer "$(grep -h -m 3 'ERROR\|runtime error' "$T"/*.out | tr '\n' ' ')"
fi
finish
