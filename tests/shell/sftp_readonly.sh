#!/bin/sh
# `handler sftp -R ROOT`: every modifying request is refused with
# PERMISSION_DENIED, nothing on disk changes (tree listing and hashes
# compared), reads still work. Requests come from sftp_readonly.py (raw
# SFTP) and from OpenSSH's sftp -b (batch lines prefixed with '-' so the
# batch goes on after an error).
. tests/lib.sh
PY=/usr/bin/python3

if [ -z "${SFTP_REF:-}" ] && [ ! -x "$BIN/handler" ]; then
	fail sftp_readonly "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
if [ -n "${SFTP_REF:-}" ]; then
	SERVER="$SFTP_REF -R -d"
else
	SERVER="$BIN/handler sftp -R"
fi

ROOT=$T/root
mkdir -p "$ROOT/emptydir" "$ROOT/dir"
printf 'hello read-only\n' >"$ROOT/file.txt"
printf 'inner\n' >"$ROOT/dir/inner.txt"
head -c 300000 /dev/urandom >"$ROOT/big.bin"
ln -s file.txt "$ROOT/link"
touch -d '2020-01-02 03:04:05' "$ROOT/file.txt"

tree_state() {
	(cd "$ROOT" && find . -printf '%p %m %s %y %U %G %T@ %l\n' | sort &&
		find . -type f -exec sha256sum {} + | sort)
}
tree_state >"$T/before"

limit 60 "$PY" tests/shell/sftp_readonly.py "$ROOT" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail readonly_driver "python driver exited $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi

# The same through OpenSSH's client: each line must fail, none may change
# anything; `get` must still work.
printf 'x\n' >"$T/upload.txt"
cat >"$T/batch" <<EOF
-put $T/upload.txt up.txt
-put $T/upload.txt file.txt
-mkdir d2
-rmdir emptydir
-rm file.txt
-rename file.txt f2
-ln -s file.txt l2
-ln file.txt h2
-chmod 600 file.txt
-chgrp 1 file.txt
get file.txt $T/got.txt
ls -l
EOF
limit 30 sftp -D "$SERVER $ROOT" -b "$T/batch" >"$T/sftp.out" 2>&1
rc=$?
if [ $rc -eq 0 ] && cmp -s "$T/got.txt" "$ROOT/file.txt"; then
	ok readonly_sftp_batch_reads
else
	fail readonly_sftp_batch_reads "sftp -b exited $rc or get gave other bytes: $(tail -n 3 "$T/sftp.out" | tr '\n' ' ')"
fi
n=$(grep -ci 'permission denied' "$T/sftp.out")
if [ "$n" -ge 9 ]; then
	ok readonly_sftp_batch_denied
else
	fail readonly_sftp_batch_denied "only $n of 10 modifying sftp commands said permission denied: $(tr '\n' ' ' <"$T/sftp.out")"
fi

tree_state >"$T/after"
if cmp -s "$T/before" "$T/after"; then
	ok readonly_tree_unchanged
else
	fail readonly_tree_unchanged "ROOT changed: $(diff "$T/before" "$T/after" | tr '\n' ' ')"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr" "$T/sftp.out"; then
	fail readonly_sanitizer "$(grep -h -m 3 'ERROR\|runtime error' "$T/stderr" "$T/sftp.out" | tr '\n' ' ')"
fi
finish
