#!/bin/sh
# msgpipe <-> msgpipe over lossylink (a fake curvecpserver/curvecpclient
# pair with seeded loss, duplication, reordering and delay): the streams
# arrive intact both ways, both EOF kinds travel, and each msgpipe exits
# with its child's status (111 when the peer reported a failure EOF).
# MSGPIPE=curvecpmessage runs the same scenarios against NaCl's handler
# (slow: use for checking the test itself).
. tests/lib.sh
MSGPIPE=${MSGPIPE:-$BIN/msgpipe}
LL=$TOOLS/lossylink
EP=$TOOLS/mpend
MSGPIPE_GIVEUP_SECONDS=${MSGPIPE_GIVEUP_SECONDS:-10}
export MSGPIPE_GIVEUP_SECONDS
# Sizes in KB per scenario: clean, 1% loss, 10% loss, 30% loss. The lossy
# ones are hundreds of windows and thousands of retransmissions already;
# more only costs time (10% and 30% were 4 MB / 1 MB: 26 of the 40 s).
S0=20480 S1=8192 S10=2048 S30=512
case $BUILD in *asan*) S0=4096 S1=2048 S10=1024 S30=256 ;; esac

# Runs a command with its stderr in a file of its own, so each side's log
# can be checked separately under lossylink.
cat >"$T/errto" <<'EOF'
#!/bin/sh
f=$1
shift
exec "$@" 2>"$f"
EOF
chmod +x "$T/errto"

mkdata() { head -c "$(($2 * 1024))" /dev/urandom >"$1"; }

# xfer NAME "LOSSYLINK ARGS" S2C_KB C2S_KB "SERVER CHILD ARGS"
#      "CLIENT CHILD ARGS" "WANTED EXIT CODES" SECONDS
# Server child sends $T/s.src and stores what it gets in $T/s.dst; the
# client child the same with c.*. One ok/not ok line per property.
# LOSSY_ONLY=NAME runs only the scenario of that name (e.g. "30% loss",
# to repeat one case).
xfer() {
	name=$1 largs=$2 s2c=$3 c2s=$4 sx=$5 cx=$6 want=$7 secs=$8
	skipped=0
	if [ -n "${LOSSY_ONLY:-}" ] && [ "$name" != "$LOSSY_ONLY" ]; then
		skipped=1
		return
	fi
	mkdata "$T/s.src" "$s2c"
	mkdata "$T/c.src" "$c2s"
	rm -f "$T/s.dst" "$T/c.dst" "$T/st" "$T/s.err" "$T/c.err"
	start=$(date +%s)
	# shellcheck disable=SC2086 # argument lists are split on purpose
	limit $((secs + 15)) "$LL" $largs -t "$secs" -o "$T/st" -- \
		"$T/errto" "$T/s.err" "$MSGPIPE" "$EP" -s "$T/s.src" -r "$T/s.dst" $sx -- \
		"$T/errto" "$T/c.err" "$MSGPIPE" -c "$EP" -i 6 -o 7 -s "$T/c.src" -r "$T/c.dst" $cx \
		2>"$T/ll.err"
	rc=$?
	took=$(($(date +%s) - start))
	got=$(cat "$T/st" 2>/dev/null)
	info="lossylink exit $rc, ${took}s"
	if [ "$got" = "$want" ]; then
		ok "$name: exit codes server/client $got ($info)"
	else
		fail "$name: exit codes server/client '$got', wanted '$want' ($info)"
		sed 's/^/#   /' "$T/ll.err" "$T/s.err" "$T/c.err" | tail -n 20
	fi
	if [ "$(sha "$T/s.src")" = "$(sha "$T/c.dst" 2>/dev/null)" ]; then
		ok "$name: server->client $s2c KB intact"
	else
		fail "$name: server->client $s2c KB differ (got $(wc -c <"$T/c.dst" 2>/dev/null) bytes)"
	fi
	if [ "$(sha "$T/c.src")" = "$(sha "$T/s.dst" 2>/dev/null)" ]; then
		ok "$name: client->server $c2s KB intact"
	else
		fail "$name: client->server $c2s KB differ (got $(wc -c <"$T/s.dst" 2>/dev/null) bytes)"
	fi
}

# failure_logged NAME FILE: the side that received a failure EOF says so.
failure_logged() {
	[ "$skipped" -eq 1 ] && return
	if grep -q 'failure EOF' "$2"; then
		ok "$1: failure EOF logged"
	else
		fail "$1: no 'failure EOF' in the log"
		sed 's/^/#   /' "$2" | tail -n 5
	fi
}

# Success EOF both ways at each loss rate.
xfer "clean link" "-s 1" $S0 $S0 "" "" "0 0" 60
xfer "1% loss, dup, reorder, 2 ms delay" "-s 2 -l 1 -d 1 -r 1 -D 2 -J 1" \
	$S1 $S1 "" "" "0 0" 60
xfer "10% loss" "-s 3 -l 10 -d 2 -r 5 -D 2 -J 2" $S10 $S10 "" "" "0 0" 60
xfer "30% loss" "-s 4 -l 30 -d 5 -r 10 -D 1 -J 2" $S30 $S30 "" "" "0 0" 90
xfer "asymmetric sizes" "-s 5 -l 1 -D 1" $S10 1 "" "" "0 0" 60
# A long path (50 ms round trip, 10 ms jitter that reorders most messages)
# and a narrow one (64-message queue, tail drop: loss from congestion only).
xfer "25 ms delay, jitter, 1% loss" "-s 10 -l 1 -D 25 -J 10" $S30 $S30 "" "" "0 0" 60
xfer "64-message bottleneck queue" "-s 11 -Q 64 -D 5" $S10 $S10 "" "" "0 0" 60

# Failure EOF: the child's exit status is msgpipe's own; the peer logs it
# and exits 111 when its own child was fine, else with its child's code.
# The failing child holds its stdout open until it exits (mpend -H): the
# stream's end is then the exit, whose status msgpipe knows. (A child that
# closes stdout and exits nonzero later has already sent a success EOF.)
xfer "server child exits 7" "-s 6 -l 1" 1024 1024 "-x 7 -H" "" "7 111" 60
failure_logged "server child exits 7" "$T/c.err"
xfer "client child exits 3, 10% loss" "-s 7 -l 10 -r 5" 256 256 "" "-x 3 -H" "111 3" 60
failure_logged "client child exits 3, 10% loss" "$T/s.err"
xfer "both children fail" "-s 8" 512 512 "-x 7 -H" "-x 5" "7 5" 60
failure_logged "both children fail" "$T/c.err"
# A child killed by a signal: 111 on its side (nothing to copy), failure
# EOF to the peer.
xfer "server child killed by SIGTERM" "-s 9 -l 1" 256 256 "-k 15 -H" "" "111 111" 60
failure_logged "server child killed by SIGTERM" "$T/c.err"

finish
