#!/bin/sh
# msgpipe against hostile or odd surroundings:
#   - fd 8 carrying noise, bad length bytes (0, 69..255), a truncated
#     message, messages shorter than a header, impossible header fields:
#     a log line, no crash, no hang, a sane exit code, in both roles;
#   - a child that exits at once (0 and nonzero);
#   - a child that never reads: the other direction still flows;
#   - a peer that vanishes: exit 111 within the give-up time, logged.
. tests/lib.sh
MSGPIPE=${MSGPIPE:-$BIN/msgpipe}
LL=$TOOLS/lossylink
EP=$TOOLS/mpend
GEN=$TOOLS/msggen
GIVEUP=3
MSGPIPE_GIVEUP_SECONDS=$GIVEUP
export MSGPIPE_GIVEUP_SECONDS
BIGKB=10240
case $BUILD in *asan*) BIGKB=4096 ;; esac

cat >"$T/errto" <<'EOF'
#!/bin/sh
f=$1
shift
exec "$@" 2>"$f"
EOF
chmod +x "$T/errto"

mkdata() { head -c "$(($2 * 1024))" /dev/urandom >"$1"; }
# Dumps the last lines of the given logs as TAP comments.
show() { tail -n 6 "$@" 2>/dev/null | sed 's/^/#   /'; }
# A crash is a signal, ASan/UBSan's report, or an exit code msgpipe never
# uses on purpose.
sane() { # NAME RC ERRFILE
	if grep -q 'Sanitizer\|runtime error' "$3"; then
		fail "$1: sanitizer report"
		show "$3"
	elif [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
		fail "$1: hung (killed after its time limit)"
		show "$3"
	elif [ "$2" -ne 0 ] && [ "$2" -ne 100 ] && [ "$2" -ne 111 ]; then
		fail "$1: exit code $2"
		show "$3"
	else
		return 0
	fi
	return 1
}

# --- bad bytes on fd 8 --------------------------------------------------
# The input arrives through a pipe that stays open after the bytes until
# msgpipe has logged what it made of them, then ends (curvecpserver gone).
# Each role must log, survive and exit by itself. A truncated message is
# only known at the end, so that pipe ends at once.
badfeed() { # ROLE KIND
	role=$1 kind=$2
	"$GEN" "$kind" 42 >"$T/in.$kind" || { fail "msggen $kind"; return; }
	if [ "$role" = server ]; then
		set -- "$MSGPIPE" "$EP" -r "$T/got"
	else
		set -- "$MSGPIPE" -c "$EP" -i 6 -o 7 -r "$T/got"
	fi
	rm -f "$T/err"
	{
		cat "$T/in.$kind"
		[ "$kind" = trunc ] || wait_until grep -q '^msgpipe: ' "$T/err"
	} | limit 20 "$@" 8<&0 9>"$T/out" 2>"$T/err"
	rc=$?
	name="$role: fd 8 $kind"
	sane "$name" $rc "$T/err" || return
	if grep -q '^msgpipe: ' "$T/err"; then
		ok "$name: exit $rc, logged: $(head -n 1 "$T/err" | cut -c1-70)"
	else
		fail "$name: exit $rc but nothing logged"
	fi
}
for role in server client; do
	for kind in random randmsg len0 len69 trunc short fields; do
		badfeed $role $kind
	done
done

# A peer that sends data past (and across) the EOF it already sent: no
# such byte reaches the child, and msgpipe ends the connection at once,
# saying why (fd 8 is a file, so "fd 8 closed" would come only later).
"$GEN" pasteof >"$T/in.pasteof" || fail "msggen pasteof"
rm -f "$T/pe.got" "$T/pe.done"
limit 20 "$MSGPIPE" sh -c 'cat >"$1"; echo >"$2"' sh "$T/pe.got" "$T/pe.done" \
	8<"$T/in.pasteof" 9>/dev/null 2>"$T/err"
rc=$?
if sane "data past EOF" $rc "$T/err" && [ $rc -eq 111 ] &&
	grep -q "giving up: the peer sent data past or against its stream's end" "$T/err"; then
	ok "data past EOF: connection failed (exit 111, logged)"
else
	fail "data past EOF: exit $rc, wanted 111 and the violation logged"
	show "$T/err"
fi
# The child's input ends when msgpipe exits: wait (bounded) for it to
# have written what it got.
i=0
while [ ! -e "$T/pe.done" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
if [ -e "$T/pe.done" ] && [ "$(wc -c <"$T/pe.got")" -eq 100 ]; then
	ok "data past EOF: the child got exactly the 100 bytes before the EOF"
else
	fail "data past EOF: the child got $(wc -c <"$T/pe.got" 2>/dev/null) bytes, wanted 100"
fi

# Noise must not flood the log: at most a line per bad byte is tolerable,
# but the 64 KB of noise should not take more than a few seconds.
rm -f "$T/err"
{ "$GEN" random 7; "$GEN" random 8; wait_until grep -q '^msgpipe: ' "$T/err"; } |
	limit 20 "$MSGPIPE" "$EP" 8<&0 9>/dev/null 2>"$T/err"
rc=$?
sane "128 KB of noise" $rc "$T/err" && ok "128 KB of noise: exit $rc, $(wc -l <"$T/err") log lines"

# --- lossylink cases ----------------------------------------------------
# run_link NAME SECONDS "SERVER CMD" "CLIENT CMD": sets $codes and $took.
run_link() {
	name=$1 secs=$2
	rm -f "$T/st" "$T/s.err" "$T/c.err"
	start=$(date +%s)
	# shellcheck disable=SC2086
	limit $((secs + 15)) "$LL" -s 11 -t "$secs" -o "$T/st" -- \
		"$T/errto" "$T/s.err" $3 -- "$T/errto" "$T/c.err" $4 2>"$T/ll.err"
	took=$(($(date +%s) - start))
	codes=$(cat "$T/st" 2>/dev/null)
}
expect_codes() { # NAME WANTED
	if [ "$codes" = "$2" ]; then
		ok "$1: exit codes $codes (${took}s)"
	else
		fail "$1: exit codes '$codes', wanted '$2' (${took}s)"
		show "$T/ll.err" "$T/s.err" "$T/c.err"
	fi
}
codes_sane() { # NAME: both sides exited by themselves with sane codes
	case " $codes " in
	*" -1 "* | *" 124 "* | *" 13"[0-9]" "* | *" 14"[0-9]" "* | "  ")
		fail "$1: exit codes '$codes' (${took}s)"
		show "$T/ll.err" "$T/s.err" "$T/c.err"
		return 1 ;;
	esac
	return 0
}

# A child that exits at once, with nothing read or written.
run_link "child exits 0 at once" 20 "$MSGPIPE true" \
	"$MSGPIPE -c $EP -i 6 -o 7 -r $T/c.dst"
expect_codes "child exits 0 at once" "0 0"
check "child exits 0 at once: client got an empty stream" test ! -s "$T/c.dst"
# (a script: the command strings are split on blanks)
printf '#!/bin/sh\nexit 3\n' >"$T/exit3"
chmod +x "$T/exit3"
run_link "child exits 3 at once" 20 "$MSGPIPE $T/exit3" \
	"$MSGPIPE -c $EP -i 6 -o 7 -r $T/c.dst"
expect_codes "child exits 3 at once" "3 111"
if grep -q 'failure EOF' "$T/c.err"; then
	ok "child exits 3 at once: client logged the failure EOF"
else
	fail "child exits 3 at once: no 'failure EOF' in the client's log"
	show "$T/c.err"
fi
# The client keeps sending to a server whose child is gone: both sides
# must still finish by themselves.
mkdata "$T/c.src" 1024
run_link "client sends to a child that exited" 30 "$MSGPIPE true" \
	"$MSGPIPE -c $EP -i 6 -o 7 -s $T/c.src -r $T/c.dst"
codes_sane "client sends to a child that exited" &&
	ok "client sends to a child that exited: finished, codes $codes (${took}s)"

# A child that never reads its input: what it writes still arrives whole
# while the other side's data piles up unread.
mkdata "$T/big" $BIGKB
mkdata "$T/small" 2048
run_link "server child never reads" 60 "$MSGPIPE $EP -N -a 500 -s $T/big" \
	"$MSGPIPE -c $EP -i 6 -o 7 -s $T/small -r $T/c.dst"
if [ "$(sha "$T/big")" = "$(sha "$T/c.dst")" ]; then
	ok "server child never reads: its $BIGKB KB arrived intact (codes $codes, ${took}s)"
else
	fail "server child never reads: got $(wc -c <"$T/c.dst") of $BIGKB KB (codes $codes)"
	show "$T/ll.err" "$T/s.err" "$T/c.err"
fi
codes_sane "server child never reads" && ok "server child never reads: both sides finished"
run_link "client child never reads" 60 "$MSGPIPE $EP -s $T/small -r $T/s.dst" \
	"$MSGPIPE -c $EP -i 6 -o 7 -N -a 500 -s $T/big"
if [ "$(sha "$T/big")" = "$(sha "$T/s.dst")" ]; then
	ok "client child never reads: its $BIGKB KB arrived intact (codes $codes, ${took}s)"
else
	fail "client child never reads: got $(wc -c <"$T/s.dst") of $BIGKB KB (codes $codes)"
	show "$T/ll.err" "$T/s.err" "$T/c.err"
fi
codes_sane "client child never reads" && ok "client child never reads: both sides finished"

# --- a peer that vanishes -----------------------------------------------
# vanish NAME ROLE...: fd 8 gets the first client message (server role) or
# nothing (client role), then stays open and silent; fd 9 goes nowhere.
vanish() {
	name=$1
	shift
	rm -f "$T/f8"
	mkfifo "$T/f8"
	if [ "$1" = -c ]; then
		bg sh -c "exec sleep 30 >'$T/f8'"
	else
		"$GEN" hello >"$T/hello"
		bg sh -c "exec >'$T/f8'; cat '$T/hello'; exec sleep 30"
	fi
	start=$(date +%s)
	limit $((GIVEUP + 15)) "$@" 8<"$T/f8" 9>/dev/null 2>"$T/err"
	rc=$?
	took=$(($(date +%s) - start))
	kill -TERM "-$T_LASTPID" 2>/dev/null
	if [ $rc -eq 111 ] && [ $took -le $((GIVEUP + 5)) ] &&
		grep -q '^msgpipe: ' "$T/err"; then
		ok "$name: exit 111 after ${took}s: $(head -n 1 "$T/err" | cut -c1-70)"
	else
		fail "$name: exit $rc after ${took}s (give-up $GIVEUP s)"
		show "$T/err"
	fi
}
vanish "silent peer, server sending" "$MSGPIPE" yes
mkdata "$T/c.src" 1024
vanish "silent peer, client sending" "$MSGPIPE" -c "$EP" -i 6 -o 7 -s "$T/c.src"

# The client's msgpipe is killed mid-transfer; the server gives up.
cat >"$T/killer" <<'EOF'
#!/bin/sh
"$@" &
p=$!
sleep 1
kill -KILL $p
wait $p
exit 0
EOF
chmod +x "$T/killer"
run_link "peer killed mid-transfer" 30 "$MSGPIPE yes" \
	"$T/killer $MSGPIPE -c $EP -i 6 -o 7 -r /dev/null"
set -- $codes
if [ "${1:-x}" = 111 ] && [ $took -le $((GIVEUP + 8)) ] &&
	grep -q '^msgpipe: ' "$T/s.err"; then
	ok "peer killed mid-transfer: server exit 111 after ${took}s: $(head -n 1 "$T/s.err" | cut -c1-60)"
else
	fail "peer killed mid-transfer: server exit '${1:-none}' after ${took}s"
	show "$T/ll.err" "$T/s.err"
fi

finish
