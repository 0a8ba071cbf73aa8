#!/bin/sh
# msgpipe against NaCl's curvecpmessage over a lossy link (lossylink, 2%
# loss, seeded): loopback UDP under curvecpserver rarely loses a packet, so
# the recovery paths between the two implementations are only exercised
# reliably here. A curvecpmessage pair on the same link is the baseline
# (it must pass, or the link is at fault, not msgpipe).
# curvecpmessage sends slowly with loss (its pacing collapses to some 50
# messages a second after a few timeouts), so 512 KB each way; a pair with
# curvecpmessage in it needs 2-8 s here, so 40 s (room for a loaded CI
# machine) is a stall, not slowness.
# A stall leaves the last messages of lossylink's trace in the output;
# `lossylink -A` (repeated acknowledged ids zeroed) is the tool to test a
# suspicion that curvecpmessage chokes on ids acknowledged over and over.
. tests/lib.sh
MSGPIPE=${MSGPIPE:-$BIN/msgpipe}
LL=$TOOLS/lossylink
EP=$TOOLS/mpend
CM=curvecpmessage
MSGPIPE_GIVEUP_SECONDS=${MSGPIPE_GIVEUP_SECONDS:-10}
export MSGPIPE_GIVEUP_SECONDS
command -v $CM >/dev/null || { echo "# $CM missing: skipped"; finish; }
head -c 524288 /dev/urandom >"$T/a"
head -c 524288 /dev/urandom >"$T/b"

# link NAME SERVER-HANDLER CLIENT-HANDLER SEED
link() {
	rm -f "$T/s.dst" "$T/c.dst" "$T/st"
	start=$(date +%s)
	limit 55 "$LL" -s "$4" -l 2 -D 1 -t 40 -o "$T/st" -T "$T/trace" -- \
		$2 "$EP" -s "$T/a" -r "$T/s.dst" -- \
		$3 -c "$EP" -i 6 -o 7 -s "$T/b" -r "$T/c.dst" 2>"$T/ll.err"
	rc=$?
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ] && cmp -s "$T/a" "$T/c.dst" && cmp -s "$T/b" "$T/s.dst"; then
		ok "$1: 512 KB each way intact, both exit 0 (${took}s)"
	else
		fail "$1: lossylink exit $rc after ${took}s, codes '$(cat "$T/st" 2>/dev/null)'," \
			"server got $(wc -c <"$T/s.dst" 2>/dev/null), client got $(wc -c <"$T/c.dst" 2>/dev/null) of 524288"
		tail -n 5 "$T/ll.err" | sed 's/^/#   /'
		# The last messages each way show where the transfer stalled.
		grep ' server ' "$T/trace" | tail -n 2 | sed 's/^/#   /'
		grep ' client ' "$T/trace" | tail -n 2 | sed 's/^/#   /'
	fi
}

link "baseline: curvecpmessage pair, 2% loss" "$CM" "$CM" 1
link "curvecpmessage server, msgpipe client, 2% loss" "$CM" "$MSGPIPE" 1
link "msgpipe server, curvecpmessage client, 2% loss" "$MSGPIPE" "$CM" 1
finish
