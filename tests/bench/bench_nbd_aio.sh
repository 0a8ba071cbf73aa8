#!/bin/sh
# Does a slow read hold the others up? fio's nbd engine (libnbd, one
# connection, requests pipelined) against handler nbd and nbdkit's file
# plugin, each behind unixserver (a process per connection; nbdkit serves
# with its thread pool), on two images:
#   warm: SIZE_MB (default 1024) read into the page cache first;
#   cold: COLD_MB (default 4096) on the disk under $TMPDIR, its pages
#     dropped (posix_fadvise DONTNEED, and drop_caches as root) before
#     every run, so a read waits for the disk.
# Workloads: 4 KiB random reads at queue depth 16, 1 MiB sequential reads
# at queue depth 16. The contenders alternate inside each round, RUNS
# rounds (default 3); each cell is the median with the range min-max.
# Reports, never fails; about 4 x RUNS x contenders x (SECS + 1) seconds.
# Usage: sh tests/bench/bench_nbd_aio.sh [BUILD-DIR]; env SECS (default
# 5), RUNS, SIZE_MB, COLD_MB, ONLY (an egrep pattern on the workload
# names, e.g. warm), and HANDLERS: space-separated NAME=PATH of handler
# binaries to compare (default: handler=$BIN/handler).
case ${1:-} in */* | build*) BUILD=$1 ;; esac
. tests/lib.sh
MB=${SIZE_MB:-1024}
CMB=${COLD_MB:-4096}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
HANDLERS=${HANDLERS:-handler=$BIN/handler}
case $BUILD in *asan*) MB=128 CMB=512 SECS=2 ;; esac
for t in fio nbdkit unixserver python3; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "# bench_nbd_aio: $t missing; nothing measured"
		exit 0
	fi
done
WARM=$T/warm.img COLD=$T/cold.img
head -c "${MB}M" /dev/urandom >"$WARM"
cat "$WARM" >/dev/null
# Random data so no file system can keep it as holes or compress it.
case ${ONLY:-cold} in *cold* | .) head -c "${CMB}M" /dev/urandom >"$COLD" ;;
*) : >"$COLD" ;; esac
sync
echo "# bench_nbd_aio: $(stat -f -c %T "$T") under $T on" \
	"$(df -P "$T" | awk 'NR == 2 { print $1 }'); $(nproc) cpus"

drop_cold() {
	python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.fsync(fd)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$COLD"
	[ -w /proc/sys/vm/drop_caches ] && echo 3 >/proc/sys/vm/drop_caches
	return 0
}

# One unixserver per (contender, image); unixserver runs a program without
# arguments, so each gets a script.
CONT=""
serve() { # NAME CMD...
	_n=$1
	shift
	for img in warm cold; do
		printf '#!/bin/sh\nexec %s %s\n' "$*" "$T/$img.img" \
			>"$T/serve-$_n-$img"
		chmod +x "$T/serve-$_n-$img"
		bg unixserver "$T/$_n-$img.sock" "$T/serve-$_n-$img"
		wait_sock "$T/$_n-$img.sock"
	done
	CONT="$CONT $_n"
}
for h in $HANDLERS; do
	serve "${h%%=*}" "${h#*=}" -q nbd
done
serve nbdkit nbdkit -s file

# fio_run NAME SOCK RW BS DEPTH SIZE: "MiB/s IOPS" of one run.
fio_run() {
	limit $((SECS + 30)) fio --name="$1" --ioengine=nbd \
		--uri="nbd+unix:///?socket=$2" --rw="$3" --bs="$4" \
		--iodepth="$5" --size="$6" --runtime="$SECS" --time_based \
		--output-format=json >"$T/fio.json" 2>"$T/fio.err" || {
		echo "# fio $1 failed: $(tail -n 2 "$T/fio.err" | tr '\n' ' ')" >&2
		echo "0 0"
		return
	}
	python3 -c '
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index("{"):])["jobs"][0]  # fio may print a line first
r = j["read"]
print("%.0f %.0f" % (r["bw"] / 1024, r["iops"]))' "$T/fio.json"
}

# Every run of every contender goes to $T/res as "WORKLOAD NAME MiB/s IOPS".
: >"$T/res"
WL="rand4k-warm:warm:randread:4k:16 seq1m-warm:warm:read:1M:16
 rand4k-cold:cold:randread:4k:16 seq1m-cold:cold:read:1M:16"
WL=$(for w in $WL; do echo "$w"; done | grep -E "${ONLY:-.}")
r=0
while [ $r -lt "$RUNS" ]; do
	for w in $WL; do
		IFS=: read -r name img rw bs qd <<EOF
$w
EOF
		[ "$img" = cold ] && size=${CMB}M || size=${MB}M
		for c in $CONT; do
			# drop_caches empties the warm image's cache too.
			if [ "$img" = cold ]; then drop_cold; else cat "$WARM" >/dev/null; fi
			x=$(fio_run "$name" "$T/$c-$img.sock" "$rw" "$bs" "$qd" \
				"$size")
			echo "$name $c $x" >>"$T/res"
		done
	done
	r=$((r + 1))
done

python3 - "$T/res" $CONT <<'EOF'
import sys
rows = [l.split() for l in open(sys.argv[1])]
conts = sys.argv[2:]
wls = []
for r in rows:
    if r[0] not in wls:
        wls.append(r[0])
print("# %-12s %-6s" % ("workload", "unit") +
      "".join(" %-24s" % c for c in conts))
for w in wls:
    unit, col = ("IOPS", 3) if w.startswith("rand") else ("MiB/s", 2)
    line = "# %-12s %-6s" % (w, unit)
    for c in conts:
        v = sorted(float(r[col]) for r in rows if r[0] == w and r[1] == c)
        if not v:
            line += " %-24s" % "-"
            continue
        med = v[len(v) // 2]
        line += " %-24s" % ("%.0f (%.0f-%.0f)" % (med, v[0], v[-1]))
    print(line)
EOF
echo "# median (min-max) of $RUNS runs of $SECS s; qd 16, one connection;" \
	"load average $(cut -d' ' -f1-3 /proc/loadavg)"
exit 0
