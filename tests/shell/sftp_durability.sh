#!/bin/sh
# handler sftp: a written file is fdatasync()ed before its CLOSE is
# answered (data on disk when CLOSE says OK); `put -f` sends a real fsync;
# -A answers CLOSE without syncing (OpenSSH's behaviour). strace shows the
# calls the server makes.
. tests/lib.sh
if ! command -v strace >/dev/null 2>&1; then
	fail "strace is needed for this test (make deps installs it)"
	finish
fi
mkdir -p "$T/root"
head -c 300000 /dev/urandom >"$T/src"
run() { # TRACE-FILE SFTP-OPTIONS BATCH-LINE
	echo "$3" >"$T/batch"
	limit 30 sftp -b "$T/batch" \
		-D "strace -f -qq -e trace=fdatasync,fsync -o $1 $BIN/handler -q sftp $2 $T/root" \
		>/dev/null 2>"$T/err"
}
calls() { grep -c "$1(" "$2"; }

if run "$T/st1" "" "put $T/src a" && cmp -s "$T/src" "$T/root/a" &&
	[ "$(calls fdatasync "$T/st1")" -ge 1 ]; then
	ok "CLOSE of a written file waits for fdatasync (default)"
else
	cat "$T/err" "$T/st1" 2>/dev/null | head -5
	fail "CLOSE of a written file waits for fdatasync (default)"
fi
if run "$T/st2" "-A" "put $T/src b" && cmp -s "$T/src" "$T/root/b" &&
	[ "$(calls fdatasync "$T/st2")" -eq 0 ]; then
	ok "-A: CLOSE answered without a sync, as OpenSSH"
else
	fail "-A: CLOSE answered without a sync, as OpenSSH"
fi
if run "$T/st3" "-A" "put -f $T/src c" && cmp -s "$T/src" "$T/root/c" &&
	[ "$(calls fsync "$T/st3")" -ge 1 ]; then
	ok "put -f: fsync@openssh.com is a real fsync"
else
	fail "put -f: fsync@openssh.com is a real fsync"
fi
if run "$T/st4" "" "get a $T/back" && cmp -s "$T/src" "$T/back" &&
	[ "$(calls fdatasync "$T/st4")" -eq 0 ]; then
	ok "reading a file costs no sync"
else
	fail "reading a file costs no sync"
fi
finish
