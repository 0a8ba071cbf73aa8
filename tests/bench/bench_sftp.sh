#!/bin/sh
# SFTP benchmarks, one run, one client (OpenSSH sftp -D over pipes), three
# servers: handler sftp, OpenSSH's sftp-server (the anchor), gesftpserver.
#   bulk: a 1 GiB file downloaded and uploaded, default options and
#     -B 261120 -R 128; MB/s (best of RUNS rounds, the servers alternated
#     inside each round), CPU seconds of client+server and of the server
#     alone (GNU time around each);
#   session: a session that only lists a small directory: wall time and the
#     server's peak RSS;
#   ls -l of a 10,000-file directory: wall time (best of RUNS).
# Reports, never fails.
#   disk: a durable put (handler's default: fdatasync before CLOSE is
#     answered) of the same file to a disk-backed directory against
#     OpenSSH's unsynced put, and the download back, servers alternated;
#     median and spread of the per-round ratios (OpenSSH time / handler's).
# Usage: sh tests/bench/bench_sftp.sh [BUILD-DIR] (or BUILD=... in the env);
# env SIZE_MB (default 1024), RUNS (default 5), SESSIONS (default 20),
# DISK_DIR (default BUILD/bench-disk; must not be tmpfs), ONLY=disk (the
# disk rows alone).
case ${1:-} in */* | build*) BUILD=$1 ;; esac
. tests/lib.sh
MB=${SIZE_MB:-1024}
RUNS=${RUNS:-5}
SESSIONS=${SESSIONS:-20}
case $BUILD in *asan*) MB=128 ;; esac
GTIME=/usr/bin/time
OPENSSH=/usr/lib/openssh/sftp-server
GES=$(dpkg -L gesftpserver 2>/dev/null | grep -m 1 '/gesftpserver$')
[ -x "${GES:-/nonexistent}" ] || GES=

# Data on /dev/shm when it holds the file, the upload and the download.
need_kb=$((MB * 1024 * 3 + 102400))
D=
for dir in /dev/shm /tmp; do
	avail=$(df -Pk "$dir" 2>/dev/null | awk 'NR == 2 { print $4 }')
	if [ -n "$avail" ] && [ "$avail" -gt "$need_kb" ]; then
		D=$(mktemp -d "$dir/bench_sftp.XXXXXX") && break
	fi
done
if [ -z "$D" ]; then
	echo "# bench_sftp: no room for $MB MB x3 on /dev/shm or /tmp; nothing measured"
	exit 0
fi
trap 'rm -rf "$D"; t_cleanup' EXIT
ROOT=$D/root
mkdir -p "$ROOT/small" "$ROOT/many"
head -c $((MB * 1048576)) /dev/urandom >"$ROOT/big.bin"
cp "$ROOT/big.bin" "$D/local.bin"
for f in a b c d e; do echo "$f" >"$ROOT/small/$f"; done
(cd "$ROOT/many" && seq -f 'file%05.0f' 1 10000 | xargs touch)

# Server command lines, run from ROOT (gesftpserver serves its cwd).
server_cmd() {
	case $1 in
	handler) echo "$BIN/handler sftp $ROOT" ;;
	openssh) echo "$OPENSSH -d $ROOT" ;;
	gesftp) echo "$GES" ;;
	esac
}
SERVERS="openssh handler"
[ -n "$GES" ] && SERVERS="$SERVERS gesftp"
if [ ! -x "$BIN/handler" ] || ! printf 'pwd\n' >"$D/probe.batch" ||
	! (cd "$ROOT" && limit 10 sftp -D "$(server_cmd handler)" -b "$D/probe.batch") >/dev/null 2>&1; then
	echo "# handler sftp does not work in $BUILD: measuring the anchors only"
	SERVERS=$(echo "$SERVERS" | sed 's/ handler//')
fi

# run SERVER NAME BATCH-LINE [sftp options]: one session under GNU time,
# the server under its own GNU time; prints "wall user sys maxrss_kb
# server_user server_sys server_maxrss_kb", or "fail".
run() {
	_srv=$1 _name=$2 _line=$3
	shift 3
	printf '%s\n' "$_line" >"$D/$_name.batch"
	rm -f "$D/srv.time"
	_t0=$(date +%s.%N)
	(cd "$ROOT" && limit 600 "$GTIME" -f '%e %U %S %M' -o "$D/cli.time" \
		sftp -D "$GTIME -f %U:%S:%M -o $D/srv.time $(server_cmd "$_srv")" "$@" \
		-b "$D/$_name.batch") >"$D/$_name.out" 2>&1
	_rc=$?
	_t1=$(date +%s.%N)
	if [ $_rc -ne 0 ] || [ ! -s "$D/srv.time" ]; then
		echo "# $_srv $_name failed (exit $_rc): $(tail -n 2 "$D/$_name.out" | tr '\n' ' ')" >&2
		echo fail
		return
	fi
	# GNU time's %e has 10 ms steps: the wall time is measured here.
	echo "$(awk -v a="$_t0" -v b="$_t1" 'BEGIN { printf "%.4f", b - a }') $(tail -n 1 "$D/cli.time" | cut -d' ' -f2-) $(tail -n 1 "$D/srv.time" | tr ':' ' ')"
}
# measure SERVER NAME LINE [opts]: one run, appended to $ALL as
# "SERVER NAME result"; the transfer's files are removed after it.
measure() {
	_s=$1 _n=$2
	echo "$_s $_n $(run "$@")" >>"$ALL"
	rm -f "$ROOT/up.bin"
}
field() { echo "$1" | awk -v n="$2" '{ print $n }'; }
mbs() { awk -v n="$MB" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", n * 1.048576 / t; else print "inf" }'; }
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

# disk_bench: the disk-backed rows (see the top). Each transfer starts
# with nothing dirty (sync outside the timing), so OpenSSH's unsynced put
# does not leave its write-back to slow the next server down.
disk_bench() {
	_dd=${DISK_DIR:-$BUILD/bench-disk}
	mkdir -p "$_dd" && _dd=$(cd "$_dd" && pwd) || return 0
	_fs=$(stat -f -c %T "$_dd")
	case $_fs in tmpfs | ramfs)
		echo "# disk rows: $_dd is $_fs, not disk-backed: skipped"
		return 0 ;;
	esac
	_saved=$ROOT
	ROOT=$(mktemp -d "$_dd/root.XXXXXX") || return 0
	cp "$_saved/big.bin" "$ROOT/big.bin"
	_all=$D/disk.all
	: >"$_all"
	_r=0
	while [ $_r -lt "$RUNS" ]; do
		# shellcheck disable=SC2086
		for s in $(rotate $_r $SERVERS); do
			[ "$s" = gesftp ] && continue
			for t in put get; do
				sync
				if [ $t = put ]; then
					l="put $D/local.bin up.bin"
				else
					l="get big.bin /dev/null"
				fi
				echo "$_r $s $t $(run "$s" "disk_$t" "$l" | cut -d' ' -f1)" >>"$_all"
				rm -f "$ROOT/up.bin"
			done
		done
		_r=$((_r + 1))
	done
	rm -rf "$ROOT"
	ROOT=$_saved
	echo
	echo "## Disk-backed ($_dd, $_fs), $MB MiB, $RUNS rounds alternated: handler's put is durable (fdatasync before CLOSE is answered), OpenSSH's is not"
	echo
	echo "| test | handler MB/s (median) | OpenSSH MB/s (median) | ratio median | ratio min | ratio max |"
	echo "|------|------|------|------|------|------|"
	for t in put get; do
		awk -v t=$t -v mb="$MB" '$3 == t && $4 != "fail" { w[$1, $2] = $4; r[$1] = 1 }
		function med(a, n,   i, j, x) {
			for (i = 1; i < n; i++)
				for (j = i; j > 0 && a[j - 1] > a[j]; j--) {
					x = a[j]; a[j] = a[j - 1]; a[j - 1] = x
				}
			return n % 2 ? a[(n - 1) / 2] : (a[n / 2 - 1] + a[n / 2]) / 2
		}
		END {
			n = 0
			for (k in r)
				if ((k, "handler") in w && (k, "openssh") in w) {
					q[n] = w[k, "openssh"] / w[k, "handler"]
					h[n] = mb * 1.048576 / w[k, "handler"]
					o[n] = mb * 1.048576 / w[k, "openssh"]
					n++
				}
			if (n == 0) { printf "| %s | failed | | | | |\n", t; exit }
			lo = hi = q[0]
			for (i = 1; i < n; i++) { if (q[i] < lo) lo = q[i]; if (q[i] > hi) hi = q[i] }
			printf "| %s | %.0f | %.0f | %.2f | %.2f | %.2f |\n", t, med(h, n), med(o, n), med(q, n), lo, hi
		}' "$_all"
	done
	echo
	echo "# disk raw: round server test wall"
	sed 's/^/# /' "$_all"
}

echo "# bench_sftp: $MB MiB file in $D, best of $RUNS, build $BUILD, $(nproc) cpus, $(uptime | sed 's/.*load/load/')"
echo "# client: $(ssh -V 2>&1); servers: $SERVERS"

# Rounds alternate the servers inside each test, so that load from other
# jobs on the machine falls on all of them alike, and each round starts
# with the next server: the first upload after the downloads writes into
# tmpfs pages nobody freed just before, and was 3-4x slower in every round
# when OpenSSH always went first. Each figure is the best (fastest) of its
# rounds; a server that failed once shows "failed".
ALL=$D/all
OUTF=$D/results
: >"$ALL"
round=0
# rotate K WORDS...: the words, starting with the (K mod count)th.
rotate() {
	_k=$1
	shift
	_k=$((_k % $#))
	while [ "$_k" -gt 0 ]; do
		_w=$1
		shift
		set -- "$@" "$_w"
		_k=$((_k - 1))
	done
	echo "$@"
}
if [ "${ONLY:-}" = disk ]; then
	disk_bench
	exit 0
fi
while [ $round -lt "$RUNS" ]; do
	# shellcheck disable=SC2086
	order=$(rotate $round $SERVERS)
	for opt in default bigbuf; do
		o=
		[ $opt = bigbuf ] && o="-B 261120 -R 128"
		# Downloads go to /dev/null: the client's own tmpfs page
		# allocation made these rows swing 4x between rounds.
		for s in $order; do
			# shellcheck disable=SC2086
			measure "$s" "down_$opt" "get big.bin /dev/null" $o
		done
		for s in $order; do
			# shellcheck disable=SC2086
			measure "$s" "up_$opt" "put $D/local.bin up.bin" $o
		done
	done
	for s in $order; do
		# Session cost: short sessions (startup, one listing, teardown).
		k=0
		while [ $k -lt $((SESSIONS / RUNS)) ]; do
			measure "$s" session "ls small"
			k=$((k + 1))
		done
		measure "$s" ls10k "ls -l many"
		# -n: the client formats every line itself, whatever the server offers.
		measure "$s" ls10kn "ls -ln many"
	done
	round=$((round + 1))
done
awk '{ k = $1 " " $2 }
	!(k in seen) { seen[k] = 1; keys[n++] = k }
	$3 == "fail" { bad[k] = 1; next }
	!(k in best) || $3 < w[k] { w[k] = $3; best[k] = $0 }
	{ c[k, cn[k]++] = $7 + $8 }
	function median(k,   i, j, t, m) {
		m = cn[k]
		for (i = 1; i < m; i++)
			for (j = i; j > 0 && c[k, j - 1] > c[k, j]; j--) {
				t = c[k, j]; c[k, j] = c[k, j - 1]; c[k, j - 1] = t
			}
		return m % 2 ? c[k, (m - 1) / 2] : (c[k, m / 2 - 1] + c[k, m / 2]) / 2
	}
	END {
		for (i = 0; i < n; i++) {
			k = keys[i]
			if (k in bad || !(k in best)) print k " fail"
			else printf "%s %.3f\n", best[k], median(k)
		}
	}' "$ALL" >"$OUTF"

get() { awk -v s="$1" -v t="$2" '$1 == s && $2 == t { $1 = ""; $2 = ""; print; exit }' "$OUTF"; }

echo
echo "## Bulk transfer, $MB MiB (MB/s and CPU of the fastest of $RUNS rounds; srv median = the server's CPU s, median of the rounds; CPU s = user+sys; ratios vs OpenSSH sftp-server)"
echo
printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %10s | %6s | %9s |\n' server test "MB/s" ratio "CPU cli+srv" "CPU server" "srv median" ratio "srv RSS"
printf '|%s|\n' "----------|----------------|---------|--------|-------------|-------------|------------|--------|-----------"
for t in down_default up_default down_bigbuf up_bigbuf; do
	base=$(get openssh $t)
	for s in $SERVERS; do
		r=$(get "$s" $t)
		case $r in *fail* | "")
			printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %10s | %6s | %9s |\n' "$s" $t failed - - - - - -
			continue ;;
		esac
		ratio_v=$(ratio "$(mbs "$(field "$r" 1)")" "$(mbs "$(field "$base" 1)")")
		printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %10s | %6s | %7s M |\n' "$s" $t \
			"$(mbs "$(field "$r" 1)")" "$ratio_v" \
			"$(cpu "$(field "$r" 2)" "$(field "$r" 3)")" \
			"$(cpu "$(field "$r" 5)" "$(field "$r" 6)")" \
			"$(field "$r" 8)" "$(ratio "$(field "$r" 8)" "$(field "$base" 8)")" \
			"$(awk -v k="$(field "$r" 7)" 'BEGIN { printf "%.1f", k / 1024 }')"
	done
done
echo
echo "## Sessions (wall seconds, best of $RUNS, a session best of $SESSIONS; ratio = vs OpenSSH, lower is better)"
echo
printf '| %-8s | %-26s | %8s | %6s | %9s |\n' server test seconds ratio "srv RSS"
printf '|%s|\n' "----------|----------------------------|----------|--------|-----------"
for t in session ls10k ls10kn; do
	base=$(get openssh $t)
	for s in $SERVERS; do
		r=$(get "$s" $t)
		label="session: ls of 5 files"
		[ $t = ls10k ] && label="ls -l of 10,000 files"
		[ $t = ls10kn ] && label="ls -ln of 10,000 files"
		case $r in *fail* | "")
			printf '| %-8s | %-26s | %8s | %6s | %9s |\n' "$s" "$label" failed - -
			continue ;;
		esac
		printf '| %-8s | %-26s | %8s | %6s | %7s M |\n' "$s" "$label" "$(field "$r" 1)" \
			"$(ratio "$(field "$r" 1)" "$(field "$base" 1)")" \
			"$(awk -v k="$(field "$r" 7)" 'BEGIN { printf "%.1f", k / 1024 }')"
	done
done
disk_bench
echo
echo "# raw, every round: server test wall user sys maxrss(client+server) srv_user srv_sys srv_maxrss"
sed 's/^/# /' "$ALL"
exit 0
