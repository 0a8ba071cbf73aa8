#!/bin/sh
# msgpipe under Debian's curvecpserver/curvecpclient on 127.0.0.1, against
# itself and against NaCl's curvecpmessage in both roles: streams intact
# both ways, success and failure EOF, exit codes.
#
# Sizes: 10 MB each way between two msgpipes (4 MB under ASan), which
# move that in about a second; 4 MB with curvecpmessage, which sends at
# roughly 1 MB/s once one spurious timeout has slowed its pacing (a pair
# with it takes 3-6 s on a quiet machine; they get 90 s). The failure-EOF
# cases carry 1 MB.
. tests/lib.sh
MSGPIPE=${MSGPIPE:-$BIN/msgpipe}
EP=$TOOLS/mpend
CM=curvecpmessage
Z=00000000000000000000000000000000
MSGPIPE_GIVEUP_SECONDS=${MSGPIPE_GIVEUP_SECONDS:-10}
export MSGPIPE_GIVEUP_SECONDS
BIG=10240 SMALL=1024 CMBIG=4096
case $BUILD in *asan*) BIG=4096 ;; esac
for p in curvecpserver curvecpclient curvecpmakekey curvecpprintkey $CM; do
	if ! command -v $p >/dev/null; then
		echo "# $p missing (Debian nacl-tools): skipped"
		finish
	fi
done

curvecpmakekey "$T/key" || { fail "curvecpmakekey"; finish; }
PK=$(curvecpprintkey "$T/key")
head -c $((BIG * 1024)) /dev/urandom >"$T/big"
head -c $((CMBIG * 1024)) "$T/big" >"$T/cmbig"
head -c $((SMALL * 1024)) /dev/urandom >"$T/small"

# Runs a command, then records its exit code; stderr to a file of its own.
cat >"$T/rec" <<'EOF'
#!/bin/sh
code=$1 err=$2
shift 2
"$@" 2>"$err"
echo $? >"$code"
EOF
chmod +x "$T/rec"

# pair NAME "SERVER HANDLER" "CLIENT HANDLER" S2C_FILE C2S_FILE
#      "SERVER CHILD ARGS" "CLIENT CHILD ARGS" "WANTED CODES" SECONDS
# A curvecpserver of its own on a fresh port runs SERVER HANDLER with mpend
# as its child; curvecpclient runs CLIENT HANDLER -c with mpend on fds 6/7.
# WANTED CODES is "SERVER CLIENT" for the handlers, or "-" for a side not
# checked (curvecpmessage's codes are its own business).
pair() {
	name=$1 sh_=$2 ch=$3 s2c=$4 c2s=$5 sx=$6 cx=$7 want=$8 secs=$9
	port=$(free_port)
	rm -f "$T/s.code" "$T/c.code" "$T/s.dst" "$T/c.dst" "$T/s.err" "$T/c.err"
	# shellcheck disable=SC2086
	bg curvecpserver srv "$T/key" 127.0.0.1 "$port" $Z \
		"$T/rec" "$T/s.code" "$T/s.err" $sh_ "$EP" -s "$s2c" -r "$T/s.dst" $sx \
		2>"$T/srv.err"
	srv=$T_LASTPID
	wait_until listening udp "$port" || fail "$name: curvecpserver not bound to $port"
	start=$(date +%s)
	# shellcheck disable=SC2086
	limit "$secs" curvecpclient srv "$PK" 127.0.0.1 "$port" $Z \
		"$T/rec" "$T/c.code" "$T/c.err" $ch -c "$EP" -i 6 -o 7 -s "$c2s" -r "$T/c.dst" $cx \
		2>"$T/cli.err"
	# The server's handler may still be finishing: wait for its code
	# (at most 15 s: longer means it hangs).
	i=0
	while [ ! -s "$T/s.code" ] && [ $i -lt 150 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	took=$(($(date +%s) - start))
	kill -TERM "-$srv" 2>/dev/null
	got="$(cat "$T/s.code" 2>/dev/null || echo none) $(cat "$T/c.code" 2>/dev/null || echo none)"
	set -- $want
	w1=$1 w2=$2
	set -- $got
	if { [ "$w1" = - ] || [ "$w1" = "$1" ]; } && { [ "$w2" = - ] || [ "$w2" = "$2" ]; }; then
		ok "$name: exit codes server/client $got, wanted $want (${took}s)"
	else
		fail "$name: exit codes server/client $got, wanted $want (${took}s)"
		tail -n 4 "$T/s.err" "$T/c.err" "$T/srv.err" "$T/cli.err" 2>/dev/null | sed 's/^/#   /'
	fi
	for d in "s2c $s2c $T/c.dst" "c2s $c2s $T/s.dst"; do
		set -- $d
		if [ "$(sha "$2")" = "$(sha "$3" 2>/dev/null)" ]; then
			ok "$name: $1 $(($(wc -c <"$2") / 1024)) KB intact"
		else
			fail "$name: $1 got $(wc -c <"$3" 2>/dev/null) of $(wc -c <"$2") bytes"
		fi
	done
}
logged() { # NAME FILE
	if grep -q 'failure EOF' "$2"; then
		ok "$1: failure EOF logged"
	else
		fail "$1: no 'failure EOF' in the log"
		tail -n 4 "$2" | sed 's/^/#   /'
	fi
}

# msgpipe <-> msgpipe
pair "msgpipe pair" "$MSGPIPE" "$MSGPIPE" "$T/big" "$T/big" "" "" "0 0" 30
pair "msgpipe pair, server child exits 7" "$MSGPIPE" "$MSGPIPE" \
	"$T/small" "$T/small" "-x 7 -H" "" "7 111" 30
logged "msgpipe pair, server child exits 7" "$T/c.err"
pair "msgpipe pair, client child exits 4" "$MSGPIPE" "$MSGPIPE" \
	"$T/small" "$T/small" "" "-x 4 -H" "111 4" 30
logged "msgpipe pair, client child exits 4" "$T/s.err"

# msgpipe server <-> curvecpmessage client
pair "msgpipe server, curvecpmessage client" "$MSGPIPE" "$CM" \
	"$T/cmbig" "$T/cmbig" "" "" "0 0" 90
pair "msgpipe server child exits 7, curvecpmessage client" "$MSGPIPE" "$CM" \
	"$T/small" "$T/small" "-x 7 -H" "" "7 -" 40

# curvecpmessage server <-> msgpipe client
pair "curvecpmessage server, msgpipe client" "$CM" "$MSGPIPE" \
	"$T/cmbig" "$T/cmbig" "" "" "0 0" 90
# curvecpmessage sends a failure EOF only when reading its child's output
# fails, never for an exit status: msgpipe sees a success EOF here.
pair "curvecpmessage server child exits 7, msgpipe client" "$CM" "$MSGPIPE" \
	"$T/small" "$T/small" "-x 7 -H" "" "- 0" 40

finish
