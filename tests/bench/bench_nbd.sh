#!/bin/sh
# NBD benchmarks with fio's nbd engine (libnbd) over a unix socket, three
# servers on the same image: handler nbd behind unixserver (one process per
# connection), nbdkit's file plugin and qemu-nbd (the references).
#   seq read / seq write, 1 MiB blocks, queue depth 8;
#   random read / random write, 4 KiB blocks, queue depth 64;
#   32 MiB reads and writes, queue depth 4: the largest requests, with
#     handler's peak RSS (GNU time around the handler).
# MiB/s and IOPS, best of RUNS; the image is in the page cache, so this
# measures the servers, not the disk. Reports, never fails.
# Usage: sh tests/bench/bench_nbd.sh [BUILD-DIR]; env SIZE_MB (default
# 1024), RUNS (default 3), SECS (default 5).
case ${1:-} in */* | build*) BUILD=$1 ;; esac
. tests/lib.sh
MB=${SIZE_MB:-1024}
RUNS=${RUNS:-3}
SECS=${SECS:-5}
case $BUILD in *asan*) MB=128 SECS=2 ;; esac
for t in fio nbdkit qemu-nbd unixserver; do
	if ! command -v $t >/dev/null 2>&1; then
		echo "# bench_nbd: $t missing; nothing measured"
		exit 0
	fi
done
IMG=$T/disk.img
head -c "${MB}M" /dev/urandom >"$IMG"
cat "$IMG" >/dev/null

wait_sock() {
	_i=0
	while [ ! -S "$1" ] && [ $_i -lt 200 ]; do
		sleep 0.05
		_i=$((_i + 1))
	done
}
# fio_run NAME SOCK RW BS DEPTH: "MiB/s IOPS" of one run.
fio_run() {
	fio --name="$1" --ioengine=nbd --uri="nbd+unix:///?socket=$2" \
		--rw="$3" --bs="$4" --iodepth="$5" --size="${MB}M" \
		--runtime="$SECS" --time_based --output-format=json \
		>"$T/fio.json" 2>"$T/fio.err" || {
		echo "# fio $1 failed: $(tail -n 2 "$T/fio.err" | tr '\n' ' ')" >&2
		echo "0 0"
		return
	}
	/usr/bin/python3 -c '
import json, sys
t = open(sys.argv[1]).read()
j = json.loads(t[t.index("{"):])["jobs"][0]  # fio prints a line first
r = j["read"] if j["read"]["io_bytes"] else j["write"]
print("%.0f %.0f" % (r["bw"] / 1024, r["iops"]))' "$T/fio.json"
}
best() { # NAME SOCK RW BS DEPTH
	_b="0 0"
	_r=0
	while [ $_r -lt "$RUNS" ]; do
		_x=$(fio_run "$@")
		[ "${_x%% *}" -gt "${_b%% *}" ] && _b=$_x
		_r=$((_r + 1))
	done
	echo "$_b"
}

S1=$T/handler.sock S2=$T/nbdkit.sock S3=$T/qemu.sock
# unixserver takes no "--": GNU time and its options go in a script.
printf '#!/bin/sh\nexec /usr/bin/time -f rss_kb=%%M -a -o %s %s -q nbd %s\n' \
	"$T/rss" "$BIN/handler" "$IMG" >"$T/serve"
chmod +x "$T/serve"
bg unixserver "$S1" "$T/serve"
bg nbdkit -f -U "$S2" file "$IMG"
bg qemu-nbd -t -k "$S3" -f raw -e 16 --cache=writeback "$IMG"
wait_sock "$S1"
wait_sock "$S2"
wait_sock "$S3"

printf '# %-26s %-26s %-26s %-26s\n' workload handler nbdkit qemu-nbd
for w in "seq-read read 1M 8" "seq-write write 1M 8" \
	"rand-read randread 4k 64" "rand-write randwrite 4k 64" \
	"32M-read read 32M 4" "32M-write write 32M 4"; do
	set -- $w
	line=$(printf '%-26s' "$1 (bs $3, qd $4)")
	for s in "$S1" "$S2" "$S3"; do
		r=$(best "$1" "$s" "$2" "$3" "$4")
		line="$line $(printf '%6s MiB/s %7s IOPS |' "${r%% *}" "${r#* }")"
	done
	echo "# $line"
done
echo "# handler peak RSS per connection: $(sort -t= -k2 -n "$T/rss" | tail -1 | cut -d= -f2) KiB (max over $(wc -l <"$T/rss") connections)"
exit 0
