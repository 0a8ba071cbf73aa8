#!/bin/sh
# SFTP benchmarks, one run, one client (OpenSSH sftp -D over pipes), three
# servers: handler sftp, OpenSSH's sftp-server (the anchor), gesftpserver.
#   bulk: a 1 GiB file downloaded and uploaded, default options and
#     -B 261120 -R 128; MB/s (best of RUNS), CPU seconds of client+server
#     and of the server alone (GNU time around each);
#   session: a session that only lists a small directory: wall time and the
#     server's peak RSS;
#   ls -l of a 10,000-file directory: wall time (best of RUNS).
# Reports, never fails.
# Usage: sh tests/bench/bench_sftp.sh [BUILD-DIR] (or BUILD=... in the env);
# env SIZE_MB (default 1024), RUNS (default 2).
case ${1:-} in */* | build*) BUILD=$1 ;; esac
. tests/lib.sh
MB=${SIZE_MB:-1024}
RUNS=${RUNS:-2}
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
# best SERVER NAME LINE [opts]: the fastest of RUNS runs (fastest wall time).
best() {
	_b=
	_k=0
	while [ $_k -lt "$RUNS" ]; do
		_r=$(run "$@")
		[ "$_r" = fail ] && {
			echo fail
			return
		}
		if [ -z "$_b" ] || awk -v a="${_r%% *}" -v b="${_b%% *}" 'BEGIN { exit !(a < b) }'; then
			_b=$_r
		fi
		rm -f "$ROOT/up.bin" "$D/down.bin"
		_k=$((_k + 1))
	done
	echo "$_b"
}
field() { echo "$1" | awk -v n="$2" '{ print $n }'; }
mbs() { awk -v n="$MB" -v t="$1" 'BEGIN { if (t > 0) printf "%.0f", n * 1.048576 / t; else print "inf" }'; }
cpu() { awk -v u="$1" -v s="$2" 'BEGIN { printf "%.2f", u + s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "n/a" }'; }

echo "# bench_sftp: $MB MiB file in $D, best of $RUNS, build $BUILD, $(nproc) cpus, $(uptime | sed 's/.*load/load/')"
echo "# client: $(ssh -V 2>&1); servers: $SERVERS"

OUTF=$D/results
: >"$OUTF"
for s in $SERVERS; do
	for opt in default bigbuf; do
		o=
		[ $opt = bigbuf ] && o="-B 261120 -R 128"
		# shellcheck disable=SC2086
		r=$(best "$s" "down_$opt" "get big.bin $D/down.bin" $o)
		echo "$s down_$opt $r" >>"$OUTF"
		# shellcheck disable=SC2086
		r=$(best "$s" "up_$opt" "put $D/local.bin up.bin" $o)
		echo "$s up_$opt $r" >>"$OUTF"
	done
	# Session cost: the best of SESSIONS short sessions (startup, one
	# listing, teardown).
	r=$(RUNS=$SESSIONS best "$s" session "ls small")
	echo "$s session $r" >>"$OUTF"
	r=$(best "$s" ls10k "ls -l many")
	echo "$s ls10k $r" >>"$OUTF"
	# -n: the client formats every line itself, whatever the server offers.
	r=$(best "$s" ls10kn "ls -ln many")
	echo "$s ls10kn $r" >>"$OUTF"
done

get() { awk -v s="$1" -v t="$2" '$1 == s && $2 == t { $1 = ""; $2 = ""; print; exit }' "$OUTF"; }

echo
echo "## Bulk transfer, $MB MiB (MB/s; CPU s = user+sys; ratio = vs OpenSSH sftp-server)"
echo
printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %9s |\n' server test "MB/s" ratio "CPU cli+srv" "CPU server" "srv RSS"
printf '|%s|\n' "----------|----------------|---------|--------|-------------|-------------|-----------"
for t in down_default up_default down_bigbuf up_bigbuf; do
	base=$(get openssh $t)
	for s in $SERVERS; do
		r=$(get "$s" $t)
		case $r in *fail* | "")
			printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %9s |\n' "$s" $t failed - - - -
			continue ;;
		esac
		ratio_v=$(ratio "$(mbs "$(field "$r" 1)")" "$(mbs "$(field "$base" 1)")")
		printf '| %-8s | %-14s | %7s | %6s | %11s | %11s | %7s M |\n' "$s" $t \
			"$(mbs "$(field "$r" 1)")" "$ratio_v" \
			"$(cpu "$(field "$r" 2)" "$(field "$r" 3)")" \
			"$(cpu "$(field "$r" 5)" "$(field "$r" 6)")" \
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
echo
echo "# raw: server test wall user sys maxrss(client+server) srv_user srv_sys srv_maxrss"
sed 's/^/# /' "$OUTF"
exit 0
