#!/bin/sh
# msgpipe benchmarks over Debian's curvecpserver/curvecpclient on
# 127.0.0.1, every anchor measured in the same run; reports, never fails.
#   bulk: MB each way at once through msgpipe pairs vs curvecpmessage
#     pairs (curvecpmessage capped at CAP seconds: the rate it reached):
#     MB/s per direction, CPU seconds per MB moved, peak RSS;
#   latency: a short line echoed by `cat` behind the server's handler,
#     median and p99, vs the floor: msgecho sends each message straight
#     back at the curvecpserver level, msgping times it (no handler);
#   one way: each direction alone (the ceiling is client->server);
#   ceiling: msgblast writes maximal messages into curvecpclient as fast
#     as it takes them, msgcount counts what reaches the server (UDP drops
#     the rest: there is no flow control at this level).
# Usage: BUILD=build [CAP=30] [ROUNDS=3] sh tests/bench/bench_msgpipe.sh [MB [PINGS]]
. tests/lib.sh
MSGPIPE=${MSGPIPE:-$BIN/msgpipe}
CM=curvecpmessage
EP=$TOOLS/mpend
Z=00000000000000000000000000000000
MB=${1:-50}
PINGS=${2:-1000}
ROUNDS=${ROUNDS:-3}
CAP=${CAP:-30}
case $BUILD in *asan*) MB=10 PINGS=300 ROUNDS=1 CAP=15 ;; esac
TIMEF="%e %U %S %M"
for p in curvecpserver curvecpclient curvecpmakekey curvecpprintkey $CM /usr/bin/time; do
	command -v $p >/dev/null || { echo "# bench_msgpipe: $p missing, skipped"; exit 0; }
done
[ -x "$MSGPIPE" ] || { echo "# bench_msgpipe: $MSGPIPE not built, skipped"; exit 0; }

curvecpmakekey "$T/key" || exit 0
PK=$(curvecpprintkey "$T/key")
head -c $((MB * 1048576)) /dev/urandom >"$T/data"

calc() { awk "BEGIN { $1 }" </dev/null; }
ratio() { calc "if ($2 > 0) printf \"%.2f\", $1 / $2; else print \"n/a\""; }
row() { printf '| %-44s | %14s | %14s | %8s |\n' "$1" "$2" "$3" "$4"; }
size() { wc -c <"$1" 2>/dev/null || echo 0; }

# serve PROG...: a curvecpserver of its own on a fresh port.
serve() {
	port=$(free_port)
	bg curvecpserver srv "$T/key" 127.0.0.1 "$port" $Z "$@" 2>>"$T/srv.err"
	srv=$T_LASTPID
	sleep 0.2
}
connect() { # SECONDS PROG...
	_s=$1
	shift
	limit "$_s" curvecpclient srv "$PK" 127.0.0.1 "$port" $Z "$@" 2>>"$T/cli.err"
}
unserve() { kill -TERM "-$srv" 2>/dev/null; }
waitfile() { # FILE SECONDS: until FILE is non-empty
	_i=0
	while [ ! -s "$1" ] && [ $_i -lt $(($2 * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

# bulk LABEL HANDLER [oneway|oneway_up]: MB each way at once (or server->client, or client->server only), each handler under GNU time
# (its figures include mpend, the same child for every handler) and
# stopped by timeout after CAP seconds. Sets <LABEL>_{s2c,c2s,cpu,rss,secs}.
bulk() {
	label=$1 h=$2 up=$T/data down=$T/data
	eval "${label}_note="
	[ "${3:-}" = oneway ] && up=/dev/null
	[ "${3:-}" = oneway_up ] && down=/dev/null
	serve /usr/bin/time -f "$TIMEF" -o "$T/$label.stime" \
		timeout -k 2 "$CAP" $h "$EP" -s "$down" -r "$T/$label.sdst"
	connect $((CAP + 10)) /usr/bin/time -f "$TIMEF" -o "$T/$label.ctime" \
		timeout -k 2 "$CAP" $h -c "$EP" -i 6 -o 7 -s "$up" -r "$T/$label.cdst" \
		>/dev/null
	waitfile "$T/$label.stime" 10
	unserve
	set -- $(tail -n 1 "$T/$label.ctime" 2>/dev/null) 0 0 0 0
	ce=$1 cu=$2 cs=$3 cm=$4
	set -- $(tail -n 1 "$T/$label.stime" 2>/dev/null) 0 0 0 0
	su=$2 ss=$3 sm=$4
	s2c=$(size "$T/$label.cdst")
	c2s=$(size "$T/$label.sdst")
	eval "${label}_secs=$ce"
	eval "${label}_s2c=$(calc "printf \"%.1f\", $s2c / 1048576 / ($ce > 0 ? $ce : 1)")"
	eval "${label}_c2s=$(calc "printf \"%.1f\", $c2s / 1048576 / ($ce > 0 ? $ce : 1)")"
	eval "${label}_cpu=$(calc "m = ($s2c + $c2s) / 1048576; printf \"%.4f\", (m > 0 ? ($cu + $cs + $su + $ss) / m : 0)")"
	eval "${label}_rss=$(calc "printf \"%d/%d\", $sm, $cm")"
	eval "${label}_done=$(calc "printf \"%.0f/%.0f\", $s2c / 1048576, $c2s / 1048576")"
	if [ "$down" != /dev/null ] && [ "$(sha "$T/data")" != "$(sha "$T/$label.cdst")" ]; then
		eval "${label}_note=' (capped)'"
	elif [ "$up" != /dev/null ] && [ "$(sha "$T/data")" != "$(sha "$T/$label.sdst")" ]; then
		eval "${label}_note=' (capped)'"
	fi
}

# latency LABEL SERVERPROG CLIENTPROG: appends "median p99 count" (us) of
# one run to $T/LABEL.lat.
latency() {
	label=$1
	serve $2
	# shellcheck disable=SC2086
	connect 60 $3 >>"$T/$label.lat"
	unserve
}
# mid FILE COLUMN: the middle value of a column over the rounds.
mid() { sort -n -k "$2" "$1" 2>/dev/null | awk -v c="$2" '{ v[NR] = $c } END { print NR ? v[int((NR + 1) / 2)] : "-" }'; }

echo "# bench_msgpipe: $MB MB each way (curvecpmessage capped at $CAP s), $ROUNDS x $PINGS pings, build $BUILD"
bulk mp "$MSGPIPE"
# One way alone, each direction: the better of two runs, as for the
# ceiling (single runs of either swing by 1.5x on this machine).
bulk mp1 "$MSGPIPE" oneway
bulk mp2 "$MSGPIPE" oneway_up
bulk mp1b "$MSGPIPE" oneway
bulk mp2b "$MSGPIPE" oneway_up
calc "exit !($mp1b_s2c > $mp1_s2c)" && mp1_s2c=$mp1b_s2c mp1_note=$mp1b_note
calc "exit !($mp2b_c2s > $mp2_c2s)" && mp2_c2s=$mp2b_c2s mp2_note=$mp2b_note
bulk cm "$CM"
# Latency rounds interleave the three set-ups so that load from other
# processes on the machine hits them alike; each figure is the middle one
# of the rounds.
r=0
while [ $r -lt "$ROUNDS" ]; do
	latency lmp "$MSGPIPE cat" "$MSGPIPE -c $TOOLS/lineping $PINGS 20"
	latency lcm "$CM cat" "$CM -c $TOOLS/lineping $PINGS 20"
	latency lfl "$TOOLS/msgecho 3" "$TOOLS/msgping $PINGS"
	r=$((r + 1))
done
for l in lmp lcm lfl; do
	eval "${l}_med=$(mid "$T/$l.lat" 1) ${l}_p99=$(mid "$T/$l.lat" 2)"
	eval "${l}_n=$(awk '{ n += $3 } END { print n + 0 }' "$T/$l.lat" 2>/dev/null)"
done
# The ceiling is the best of two 3-second blasts.
ceil=0 blast=0
for r in 1 2; do
	rm -f "$T/ceiling"
	serve "$TOOLS/msgcount" "$T/ceiling"
	connect 20 "$TOOLS/msgblast" 3 >"$T/blast"
	waitfile "$T/ceiling" 5
	unserve
	set -- $(cat "$T/ceiling" 2>/dev/null) 0 0 0
	got=$3
	set -- $(cat "$T/blast" 2>/dev/null) 0 1
	sent=$(calc "printf \"%.1f\", $1 / 1048576 / ($2 > 0 ? $2 : 1)")
	if calc "exit !($got > $ceil)"; then
		ceil=$got blast=$sent
	fi
done

echo
row "measure" "msgpipe" "curvecpmessage" "ratio"
row "--------------------------------------------" "--------------" "--------------" "--------"
row "server->client MB/s (both ways at once)" "$mp_s2c" "$cm_s2c" "$(ratio "$mp_s2c" "$cm_s2c")"
row "client->server MB/s (both ways at once)" "$mp_c2s" "$cm_c2s" "$(ratio "$mp_c2s" "$cm_c2s")"
row "MB moved s2c/c2s, wall seconds" "$mp_done, ${mp_secs}s$mp_note" "$cm_done, ${cm_secs}s$cm_note" ""
row "server->client MB/s, one way (best of 2)" "$mp1_s2c$mp1_note" "" ""
row "client->server MB/s, one way (best of 2)" "$mp2_c2s$mp2_note" "" ""
row "CPU seconds per MB (both handlers)" "$mp_cpu" "$cm_cpu" "$(ratio "$mp_cpu" "$cm_cpu")"
row "peak RSS KB server/client" "$mp_rss" "$cm_rss" ""
row "line round trip median us" "$lmp_med" "$lcm_med" "$(ratio "$lmp_med" "$lcm_med")"
row "line round trip p99 us" "$lmp_p99" "$lcm_p99" "$(ratio "$lmp_p99" "$lcm_p99")"
row "floor: message echo median/p99 us" "$lfl_med/$lfl_p99" "" ""
row "msgpipe median / floor median" "$(ratio "$lmp_med" "$lfl_med")" "$(ratio "$lcm_med" "$lfl_med")" ""
row "ceiling: blaster payload MB/s received" "$ceil" "(sent $blast)" ""
row "one way server->client / ceiling" "$(ratio "$mp1_s2c" "$ceil")" "" ""
row "one way client->server / ceiling" "$(ratio "$mp2_c2s" "$ceil")" "" ""
row "both ways, sum of directions / ceiling" "$(ratio "$(calc "print $mp_s2c + $mp_c2s")" "$ceil")" "$(ratio "$(calc "print $cm_s2c + $cm_c2s")" "$ceil")" ""
echo
echo "# ratios: msgpipe / curvecpmessage (throughput: higher is better;"
echo "# CPU, latency: lower is better). Rounds counted: msgpipe $lmp_n, curvecpmessage $lcm_n, floor $lfl_n."
exit 0
