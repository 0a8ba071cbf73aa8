#!/bin/sh
# NBD servers compared in one run, each one process per connection behind
# the same unixserver listener: handler nbd, `nbdkit -s file` (the anchor)
# and qemu-nbd (its own socket, its own threads). The image is in the page
# cache, so this measures the servers, not the disk.
#   seq read   nbdcopy NBD -> null:        (4 connections, MiB/s)
#   seq write  nbdcopy local file -> NBD   (4 connections, MiB/s)
#   rand read  fio nbd engine, 4 KiB, queue depth 16 (IOPS)
#   rand write fio nbd engine, 4 KiB, queue depth 16 (IOPS)
# and each server's peak RSS per process (GNU time for the per-connection
# servers, VmHWM for qemu-nbd). Contenders alternate within each round;
# the median over ROUNDS is reported with the spread (min-max) and the
# ratio handler/nbdkit (higher is better; for RSS lower is better).
# Reports, never fails.
# Usage: sh tests/bench/bench_nbd.sh [BUILD-DIR]; env SIZE_MB (default
# 512), ROUNDS (default 5), SECS (fio seconds, default 4).
case ${1:-} in */* | build*) BUILD=$1 ;; esac
. tests/lib.sh
MB=${SIZE_MB:-512}
ROUNDS=${ROUNDS:-5}
SECS=${SECS:-4}
case $BUILD in *asan*) MB=64 ROUNDS=1 SECS=1 ;; esac
for t in fio nbdkit qemu-nbd nbdcopy unixserver /usr/bin/time; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "# bench_nbd: $t missing; nothing measured"
		exit 0
	fi
done
IMG=$T/disk.img
SRC=$T/src.img
head -c "${MB}M" /dev/urandom >"$SRC"
cp "$SRC" "$IMG"
cat "$IMG" "$SRC" >/dev/null

# A per-connection server under GNU time, which appends its peak RSS.
serve_script() { # NAME CMD...
	_n=$1
	shift
	printf '#!/bin/sh\nexec /usr/bin/time -f rss_kb=%%M -a -o %s %s\n' \
		"$T/$_n.rss" "$*" >"$T/serve-$_n"
	chmod +x "$T/serve-$_n"
}
serve_script handler "$BIN/handler" -q nbd "$IMG"
serve_script nbdkit nbdkit -s file "$IMG"
bg unixserver -- "$T/handler.sock" "$T/serve-handler" 2>/dev/null
bg unixserver -- "$T/nbdkit.sock" "$T/serve-nbdkit" 2>/dev/null
bg qemu-nbd -t -k "$T/qemu.sock" -f raw -e 16 --cache=writeback "$IMG" 2>/dev/null
QPID=$T_LASTPID
for s in handler nbdkit qemu; do wait_sock "$T/$s.sock"; done

now() { date +%s.%N; }
# MiB/s of one nbdcopy (4 connections, the default).
copy_rate() { # SRC DST
	_t0=$(now)
	if ! limit 120 nbdcopy "$1" "$2" 2>"$T/copy.err"; then
		echo "# nbdcopy $1 $2 failed: $(tail -n 2 "$T/copy.err" | tr '\n' ' ')" >&2
		echo 0
		return
	fi
	echo "$MB $_t0 $(now)" | awk '{ printf "%.0f\n", $1 / ($3 - $2) }'
}
# IOPS of one fio run against SOCK.
fio_iops() { # SOCK RW
	limit $((SECS + 30)) fio --name=b --ioengine=nbd \
		--uri="nbd+unix:///?socket=$1" --rw="$2" --bs=4k --iodepth=16 \
		--size="${MB}M" --runtime="$SECS" --time_based \
		--output-format=json >"$T/fio.json" 2>"$T/fio.err" || {
		echo "# fio $2 on $1 failed: $(tail -n 2 "$T/fio.err" | tr '\n' ' ')" >&2
		echo 0
		return
	}
	/usr/bin/python3 -c '
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index("{"):])["jobs"][0]
r = j["read"] if j["read"]["io_bytes"] else j["write"]
print("%.0f" % r["iops"])' "$T/fio.json"
}
measure() { # WORKLOAD SERVER
	_u="nbd+unix:///?socket=$T/$2.sock"
	case $1 in
	seq-read) copy_rate "$_u" null: ;;
	seq-write) copy_rate "$SRC" "$_u" ;;
	rand-read) fio_iops "$T/$2.sock" randread ;;
	rand-write) fio_iops "$T/$2.sock" randwrite ;;
	esac
}

: >"$T/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	for w in seq-read seq-write rand-read rand-write; do
		# Alternate who goes first, round by round.
		case $((r % 3)) in
		1) order="handler nbdkit qemu" ;;
		2) order="nbdkit qemu handler" ;;
		0) order="qemu handler nbdkit" ;;
		esac
		for s in $order; do
			echo "$w $s $(measure "$w" "$s")" >>"$T/results"
		done
	done
	r=$((r + 1))
done
QRSS=$(awk '/VmHWM/ { print $2 }' "/proc/$QPID/status" 2>/dev/null)
kill -TERM "$QPID" 2>/dev/null

/usr/bin/python3 - "$T/results" "$MB" "$ROUNDS" "$T/handler.rss" "$T/nbdkit.rss" "${QRSS:-0}" <<'PYEOF'
import statistics, sys
res, mb, rounds = sys.argv[1], sys.argv[2], sys.argv[3]
rows = {}
for line in open(res):
    w, s, v = line.split()
    rows.setdefault(w, {}).setdefault(s, []).append(float(v))
print("# %s MiB image in the page cache, %s rounds, median (min-max)" % (mb, rounds))
print("# %-11s %-24s %-24s %-24s %s" % ("workload", "handler", "nbdkit -s", "qemu-nbd", "handler/nbdkit"))
units = {"seq-read": "MiB/s", "seq-write": "MiB/s", "rand-read": "IOPS", "rand-write": "IOPS"}
for w in ("seq-read", "seq-write", "rand-read", "rand-write"):
    cells, med = [], {}
    for s in ("handler", "nbdkit", "qemu"):
        v = rows.get(w, {}).get(s, [0])
        med[s] = statistics.median(v)
        cells.append("%.0f (%.0f-%.0f) %s" % (med[s], min(v), max(v), units[w]))
    ratio = med["handler"] / med["nbdkit"] if med["nbdkit"] else 0
    print("# %-11s %-24s %-24s %-24s %.2f" % (w, cells[0], cells[1], cells[2], ratio))
def peak(path):
    try:
        return max(int(l.split("=")[1]) for l in open(path) if l.startswith("rss_kb="))
    except (OSError, ValueError):
        return 0
h, n, q = peak(sys.argv[4]), peak(sys.argv[5]), int(sys.argv[6] or 0)
print("# %-11s %-24s %-24s %-24s %.2f" % ("peak RSS", "%d KiB" % h, "%d KiB" % n,
      "%d KiB" % q if q else "-", h / n if n else 0))
PYEOF
exit 0
