#!/bin/sh
# cmd benchmarks, all anchors measured in the same run; reports, never fails.
#   connections/s: handler-client run ping over tcpserver (full secure
#     handshake each) vs a bare tcpserver connection running `true` (the
#     floor) vs `ssh host true` to a private OpenSSH sshd on loopback;
#   bulk: a command's stdout through the secure layer vs `cat` through a
#     pipe and vs a one-process secretstream encrypt+decrypt loop
#     ($BUILD/tools/secure_ceiling, when built);
#   peak RSS of handler per connection vs OpenSSH sftp-server.
# Usage: BUILD=build sh tests/bench/bench_cmd.sh [CONNECTIONS] [BULK_MB]
. tests/lib.sh
# A reader that goes away (| head) must not skip the cleanup of servers.
trap 'exit 0' PIPE
HC=$BIN/handler-client
HD=$BIN/handler
N=${1:-200}
NSSH=${NSSH:-$((N / 4))}
MB=${2:-1024}
case $BUILD in *asan*) N=50 NSSH=20 MB=128 ;; esac

now() { date +%s.%N; }
# rate COUNT START END: per second
rate() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", n / (b - a) }'; }
# mbs MB START END: MB/s
mbs() { awk -v n="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.0f", n / (b - a) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
row() { printf '| %-50s | %12s | %8s |\n' "$1" "$2" "$3"; }

newkey() { ssh-keygen -q -t ed25519 -N '' -C "$1@bench" -f "$T/$1" </dev/null || exit 0; }
publine() { cut -d' ' -f1,2 "$1"; }
for k in server alice sshhost; do newkey $k; done
cat >"$T/conf" <<EOF
server-key $T/server
user alice run $(publine "$T/alice.pub")
command zero perm=run time=600 output=64G -- /usr/bin/head -c ${MB}M /dev/zero
command small perm=run -- /bin/echo hi
EOF
CLIENT="$HC -k $T/alice -u alice -p $T/server.pub"

echo "# bench_cmd: $N connections, $MB MB bulk, build $BUILD"

# --- connections per second -------------------------------------------
p1=$(free_port)
bg tcpserver -R -H -l 0 -c 100 127.0.0.1 "$p1" "$HD" -q -s -f "$T/conf" cmd 2>/dev/null
p2=$(free_port)
bg tcpserver -R -H -l 0 -c 100 127.0.0.1 "$p2" true 2>/dev/null
wait_tcp "$p1" && wait_tcp "$p2" || echo "# tcpserver did not start"

if limit 20 tcpclient -R -H -l 0 127.0.0.1 "$p1" $CLIENT run ping >/dev/null 2>"$T/err"; then
	i=0
	a=$(now)
	while [ $i -lt "$N" ]; do
		tcpclient -R -H -l 0 127.0.0.1 "$p1" $CLIENT run ping >/dev/null 2>&1 || break
		i=$((i + 1))
	done
	b=$(now)
	cps_hc=$(rate $i "$a" "$b")
else
	echo "# handler-client run ping failed: $(head -c 200 "$T/err")"
	cps_hc=0
fi
i=0
a=$(now)
while [ $i -lt "$N" ]; do
	tcpclient -R -H -l 0 127.0.0.1 "$p2" true >/dev/null 2>&1 || break
	i=$((i + 1))
done
b=$(now)
cps_floor=$(rate $i "$a" "$b")

# OpenSSH: a private sshd on loopback with its own host key and keys file.
cps_ssh=0 cps_ssh_x=0 cps_ssh_s=0
p3=$(free_port)
mkdir -p /run/sshd 2>/dev/null
cp "$T/alice.pub" "$T/authorized_keys"
cat >"$T/sshd_config" <<EOF
Port $p3
ListenAddress 127.0.0.1
HostKey $T/sshhost
AuthorizedKeysFile $T/authorized_keys
PidFile $T/sshd.pid
UsePAM no
UseDNS no
StrictModes no
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
Subsystem sftp internal-sftp
LogLevel ERROR
EOF
bg /usr/sbin/sshd -D -f "$T/sshd_config" -e 2>"$T/sshd.log"
SSH="ssh -q -i $T/alice -p $p3 -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes -o LogLevel=ERROR -o ControlPath=none -o GSSAPIAuthentication=no"
if wait_tcp "$p3" && limit 20 $SSH "$(id -un)@127.0.0.1" true </dev/null; then
	i=0
	a=$(now)
	while [ $i -lt "$NSSH" ]; do
		$SSH "$(id -un)@127.0.0.1" true </dev/null || break
		i=$((i + 1))
	done
	b=$(now)
	cps_ssh=$(rate $i "$a" "$b")
	# The same with X25519 key exchange only (as the secure layer uses).
	i=0
	a=$(now)
	while [ $i -lt "$NSSH" ]; do
		$SSH -o KexAlgorithms=curve25519-sha256 "$(id -un)@127.0.0.1" true </dev/null || break
		i=$((i + 1))
	done
	b=$(now)
	cps_ssh_x=$(rate $i "$a" "$b")
	# `ssh host true` starts the user's login shell, which may read rc
	# files (root's .bashrc here); an empty sftp batch over internal-sftp
	# is the connection, key exchange, authentication and a channel only.
	i=0
	a=$(now)
	while [ $i -lt "$NSSH" ]; do
		sftp -q -b /dev/null -i "$T/alice" -P "$p3" -o StrictHostKeyChecking=no \
			-o UserKnownHostsFile=/dev/null -o BatchMode=yes -o GSSAPIAuthentication=no \
			-o KexAlgorithms=curve25519-sha256 "$(id -un)@127.0.0.1" </dev/null >/dev/null 2>&1 || break
		i=$((i + 1))
	done
	b=$(now)
	cps_ssh_s=$(rate $i "$a" "$b")
else
	echo "# sshd anchor unavailable: $(head -c 300 "$T/sshd.log")"
fi

# --- bulk throughput ----------------------------------------------------
a=$(now)
head -c "${MB}M" /dev/zero | cat >/dev/null
b=$(now)
bulk_pipe=$(mbs "$MB" "$a" "$b")

# secure_ceiling [MB] [HANDSHAKES] (the secure layer's own bench) prints
# "frames: ... seal+open: N MB/s" and "raw: ... push+pull: N MB/s".
bulk_ceil=0 bulk_frames=0 hs_us=n/a
if [ -x "$TOOLS/secure_ceiling" ]; then
	if limit 300 "$TOOLS/secure_ceiling" "$MB" 200 >"$T/ceil.out" 2>&1; then
		bulk_ceil=$(sed -n 's/^raw:.*: \([0-9.]*\) MB\/s.*/\1/p' "$T/ceil.out")
		bulk_frames=$(sed -n 's/^frames:.*: \([0-9.]*\) MB\/s.*/\1/p' "$T/ceil.out")
		hs_us=$(sed -n 's/^handshake:.*: \([0-9.]*\) us each.*/\1/p' "$T/ceil.out")
		: "${bulk_ceil:=0}" "${bulk_frames:=0}" "${hs_us:=n/a}"
	else
		echo "# secure_ceiling failed: $(head -c 200 "$T/ceil.out")"
	fi
else
	echo "# $TOOLS/secure_ceiling not built: secretstream ceiling skipped"
fi

bulk_hc=0
a=$(now)
# Straight into /dev/null like the ceilings; the command's exit status 0
# (relayed) says all of it went through, the server log's out= its size.
limit 600 /usr/bin/time -f '%U %S' -o "$T/cpu.client" \
	$CLIENT --exec "/usr/bin/time -f '%M %U %S' -o $T/rss.bulk $HD -s -f $T/conf cmd 2>$T/bulk.log" \
	run zero >/dev/null 2>"$T/err"
rc=$?
b=$(now)
if [ "$rc" -eq 0 ] && grep -q "command=zero id=1 exit 0 in=0 out=$((MB * 1024 * 1024)) " "$T/bulk.log"; then
	bulk_hc=$(mbs "$MB" "$a" "$b")
else
	echo "# bulk run failed (exit $rc): $(head -c 200 "$T/err") $(grep command=zero "$T/bulk.log")"
fi

# --- memory -------------------------------------------------------------
limit 20 $CLIENT --exec "/usr/bin/time -f %M -o $T/rss.ping $HD -q -s -f $T/conf cmd" \
	run ping >/dev/null 2>&1
rss_ping=$(tail -n 1 "$T/rss.ping" 2>/dev/null)
rss_bulk=$(tail -n 1 "$T/rss.bulk" 2>/dev/null | cut -d' ' -f1)
# CPU seconds per GB on each side (less sensitive to other load than MB/s).
cpu_srv=$(tail -n 1 "$T/rss.bulk" 2>/dev/null | awk -v mb="$MB" '{ printf "%.2f", ($2 + $3) * 1024 / mb }')
# The client's figure includes its --exec child (the server): subtract it.
cpu_cli=$(tail -n 1 "$T/cpu.client" 2>/dev/null | awk -v mb="$MB" -v srv="${cpu_srv:-0}" '{ printf "%.2f", ($1 + $2) * 1024 / mb - srv }')
mkdir -p "$T/sroot"
head -c 8M /dev/zero >"$T/sroot/f"
echo "get $T/sroot/f $T/f.copy" >"$T/sbatch"
limit 30 sftp -q -b "$T/sbatch" -D "/usr/bin/time -f %M -o $T/rss.sftp /usr/lib/openssh/sftp-server" \
	>/dev/null 2>&1
rss_sftp=$(tail -n 1 "$T/rss.sftp" 2>/dev/null)

# --- table ----------------------------------------------------------------
smaller=$bulk_pipe
if [ "$bulk_ceil" != 0 ] && awk -v a="$bulk_ceil" -v b="$bulk_pipe" 'BEGIN { exit !(a < b) }'; then
	smaller=$bulk_ceil
fi
echo
row "measurement" "value" "ratio"
row "--------------------------------------------------" "------------" "--------"
row "conn/s handler-client run ping (tcpserver)" "$cps_hc" "1.00"
row "conn/s tcpclient true (floor)" "$cps_floor" "$(ratio "$cps_hc" "$cps_floor")"
row "conn/s ssh true (OpenSSH sshd, default kex)" "$cps_ssh" "$(ratio "$cps_hc" "$cps_ssh")"
row "conn/s ssh true (kex curve25519-sha256)" "$cps_ssh_x" "$(ratio "$cps_hc" "$cps_ssh_x")"
row "conn/s sftp empty batch (internal-sftp, no shell)" "$cps_ssh_s" "$(ratio "$cps_hc" "$cps_ssh_s")"
row "secure handshake, one process, both sides (us)" "$hs_us" ""
row "bulk MB/s cmd stdout via secure layer" "$bulk_hc" "1.00"
row "bulk MB/s cat through a pipe" "$bulk_pipe" "$(ratio "$bulk_hc" "$bulk_pipe")"
row "bulk MB/s secretstream push+pull ceiling" "$bulk_ceil" "$(ratio "$bulk_hc" "$bulk_ceil")"
row "bulk MB/s secure frames seal+open (1 process)" "$bulk_frames" "$(ratio "$bulk_hc" "$bulk_frames")"
row "bulk CPU s/GB: handler (server, with head)" "${cpu_srv:-n/a}" ""
row "bulk CPU s/GB: handler-client" "${cpu_cli:-n/a}" ""
row "bulk vs smaller ceiling (target >= 0.6)" "$smaller" "$(ratio "$bulk_hc" "$smaller")"
row "peak RSS KiB handler, run ping" "${rss_ping:-n/a}" "$(ratio "${rss_ping:-0}" "${rss_sftp:-0}")"
row "peak RSS KiB handler, bulk ${MB} MB" "${rss_bulk:-n/a}" "$(ratio "${rss_bulk:-0}" "${rss_sftp:-0}")"
row "peak RSS KiB OpenSSH sftp-server (8 MB get)" "${rss_sftp:-n/a}" "1.00"
echo
echo "# ratios: connection rows relative to handler-client (hc/anchor);"
echo "# bulk rows hc/anchor; RSS rows handler/sftp-server; RSS target < 4096 KiB"
exit 0
