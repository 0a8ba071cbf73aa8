#!/bin/sh
# Faults: handler out of file descriptors (ulimit -n) and of memory
# (ulimit -v), for sftp, nbd and cmd. Each limit is swept from "too small
# to start" to "enough", so the first failing descriptor or allocation
# falls at start, during the handshake and mid-session in turn. Every run
# must end in one of two ways: the session completes with its data
# checked, or handler logs an error line and exits 111 (or, for an error
# it can answer, the client gets the error and the session goes on). Never
# a signal, a sanitizer report or another exit code. fault_limits.py is
# the sftp and nbd client. (ulimit -v is skipped under ASan, which
# reserves terabytes of address space.)
. tests/lib.sh
PY=/usr/bin/python3
HD=$BIN/handler
HC=$BIN/handler-client
mkdir -p "$T/root"
truncate -s 4M "$T/disk.img"
newkey server
newkey alice
cat >"$T/conf" <<CONF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command cat perm=run payload=yes -- /bin/cat
CONF
head -c 300000 /dev/urandom >"$T/payload"
# (Below 4000 KiB or 5 descriptors the dynamic loader itself fails, exit
# 127, before any of handler's code runs.)
# The wrapper: sets the limit, runs handler, keeps its status and stderr.
# The limit is set in a subshell: the wrapper itself needs descriptors
# to record the status.
cat >"$T/wrap" <<WRAP
#!/bin/sh
(ulimit "\$1" "\$2" || exit 99; shift 2; exec "\$@") 2>>$T/server.err
echo \$? >$T/rc
WRAP
chmod +x "$T/wrap"

full=0
clean=0
# judge NAME CLIENT-RESULT: the handler's status and log decide
judge() {
	_rc=$(cat "$T/rc" 2>/dev/null)
	if grep -q -E 'Sanitizer|runtime error|core dumped' "$T/server.err"; then
		fail "$1: sanitizer report: $(grep -m1 -E 'Sanitizer|runtime error' "$T/server.err")"
	elif [ "$_rc" = 0 ] && [ "${2%% *}" = full ]; then
		full=$((full + 1))
		echo "# $1: exit 0, $2"
	elif [ "$_rc" = 0 ] && [ "${2%% *}" = refused ]; then
		clean=$((clean + 1))
		echo "# $1: exit 0, client told: $2"
	elif [ "$_rc" = 111 ] && grep -q -E 'handler: .*error: ' "$T/server.err"; then
		clean=$((clean + 1))
		echo "# $1: exit 111, $(grep -m1 -E 'error: ' "$T/server.err")"
	else
		fail "$1: exit ${_rc:-none}, client: $2, log: $(tail -n 2 "$T/server.err" | tr '\n' '|')"
		return
	fi
	ok "$1"
}
one() { # KIND VALUE PROTO
	rm -f "$T/rc" "$T/root"/*
	: >"$T/server.err"
	case $3 in
	cmd)
		limit 20 "$HC" -k "$T/alice" -u alice -p "$T/server.pub" \
			--exec "$T/wrap $1 $2 $HD -s -f $T/conf cmd" run --stdin cat \
			<"$T/payload" >"$T/out" 2>"$T/cerr"
		if [ $? -eq 0 ] && cmp -s "$T/out" "$T/payload"; then
			r=full
		else
			r="refused $(head -n 1 "$T/cerr")"
		fi
		;;
	*)
		r=$(limit 20 "$PY" tests/shell/fault_limits.py "$3" "$T/wrap $1 $2" "$HD" \
			"$( [ "$3" = nbd ] && echo "$T/disk.img" || echo "$T/root")" 2>"$T/cerr")
		;;
	esac
	judge "$3 ulimit $1 $2" "$r"
}
asan=no
case $BUILD in *asan*) asan=yes ;; esac
NS="5 6 8 10 12 13 14 16"
[ $asan = yes ] && NS="8 10 12 13 14 16"
VS="4000 4500 5000 5500 6000 7000 8000 16000 32000"
# sftp-handles holds many handles (EMFILE mid-session); plain sftp under
# -v only.
for p in sftp-handles nbd cmd; do
	for n in $NS; do one -n "$n" "$p"; done
done
if [ $asan = no ]; then
	for p in sftp nbd cmd; do
		for v in $VS; do one -v "$v" "$p"; done
	done
fi
# Enough of each must be enough.
[ "$full" -gt 0 ] && ok "some runs under limits complete fully ($full full, $clean clean refusals)" ||
	fail "no run completed under any limit"
finish
