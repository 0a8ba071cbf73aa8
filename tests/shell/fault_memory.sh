#!/bin/sh
# Faults: memory running out after the session has started, for sftp
# (INIT, OPEN, WRITE, READDIR, READ, STAT, REALPATH, MKDIR, RENAME, RMDIR),
# nbd (handshake, WRITE, READ, FLUSH, DISC) and cmd over the secure layer
# (a batch of builtins and a command, then a command with a payload).
# tests/tools/preload/failalloc.so counts the allocations each session
# makes once under way, then every one of them (or a sample keeping the
# first of each call site, when there are more than 60) is made to fail,
# alone and then for good. Every run must end cleanly: complete, or the
# client answered "Cannot allocate memory", or handler's "out of memory"
# line and exit 111; never a signal, an assertion, a wrong answer, a
# process left or an acknowledged byte lost. fault_memory.py runs the
# sessions and judges them. ulimit -v at start: fault_limits.sh.
. tests/lib.sh
case $BUILD in *asan*)
	# ASan owns malloc: a preload wrapping it would not be called, or
	# would fight the sanitizer's allocator.
	ok "fault_memory # SKIP under ASan (the allocation shim needs glibc's malloc)"
	finish ;;
esac
[ -f "$TOOLS/failalloc.so" ] || { fail "no $TOOLS/failalloc.so (make tests)"; finish; }
mkdir -p "$T/root"
newkey server
newkey alice
# The command records its pid, so the test can see it gone afterwards.
cat >"$T/cat" <<CAT
#!/bin/sh
echo \$\$ >>$T/pids
exec cat
CAT
chmod +x "$T/cat"
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command cat perm=run payload=yes -- $T/cat
CONF
for p in sftp nbd cmd; do
	limit 60 python3 tests/shell/fault_memory.py $p
	rc=$?
	# 3: a case failed (its line says why); anything else is a crash.
	case $rc in 0 | 3) ;; *) fail "fault_memory.py $p: exit $rc" ;; esac
done
finish
