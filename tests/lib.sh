# Sourced by every shell test. Gives:
#   $BIN $TOOLS   built programs and test tools; $T a private temp dir
#   ok NAME / fail NAME [why]   one result line each (counted by check.sh)
#   check NAME CMD...           ok if CMD exits 0, fail otherwise
#   bg CMD...                   starts CMD in the background, killed at exit
#   free_port [N]               a TCP+UDP port free on 127.0.0.1 right now
#                               (N distinct ones, a line each: one python
#                               start, which can take a second under load)
#   wait_until CMD...           polls CMD until it succeeds (10 s at most)
#   listening tcp|udp PORT      something is bound to PORT (ss; no probe
#                               connection, so no session is started)
#   wait_sock PATH              waits for a unix socket to appear (10 s)
#   wait_lines FILE PATTERN N   waits for N lines matching PATTERN (20 s)
#   run_ok NAME CMD...          ok if CMD exits 0 within 60 s (its output
#                               in $T/out, its tail in the failure line)
#   limit SECONDS CMD...        CMD killed after SECONDS (exit 124)
#   newkey NAME                 an OpenSSH ed25519 key pair $T/NAME(.pub)
#   publine FILE.pub            its "ssh-ed25519 AAAA..." part, for conf
#   finish                      exits 0 if nothing failed, 1 otherwise
# Every script is run under an overall timeout by check.sh as well.

: "${BUILD:=build}"
BIN=${BIN:-$BUILD/bin}
TOOLS=${TOOLS:-$BUILD/tools}
case $BIN in /*) ;; *) BIN=$PWD/$BIN ;; esac
case $TOOLS in /*) ;; *) TOOLS=$PWD/$TOOLS ;; esac
TOP=$PWD
T=$(mktemp -d "${TMPDIR:-/tmp}/handlertest.XXXXXX")
T_FAILED=0
T_PIDS=""
export BIN TOOLS T TOP

t_cleanup() {
	for p in $T_PIDS; do
		kill -TERM "-$p" 2>/dev/null || kill -TERM "$p" 2>/dev/null
	done
	sleep 0.1
	for p in $T_PIDS; do
		kill -KILL "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap t_cleanup EXIT
trap 'exit 1' INT TERM HUP

ok() { echo "ok $*"; }
fail() {
	echo "not ok $*"
	T_FAILED=$((T_FAILED + 1))
}
check() {
	_name=$1
	shift
	if "$@"; then ok "$_name"; else fail "$_name"; fi
}
limit() {
	_s=$1
	shift
	timeout -k 3 "$_s" "$@"
}
# Each background job gets its own process group so cleanup reaches its
# children (curvecpserver's message handlers, tcpserver's forks).
bg() {
	setsid "$@" &
	T_PIDS="$T_PIDS $!"
	T_LASTPID=$!
}
free_port() {
	python3 - "${1:-1}" <<'PYEOF'
import socket, random, sys
want, got = int(sys.argv[1]), set()
for _ in range(200 * want):
    port = random.randint(20000, 60000)
    if port in got:
        continue
    try:
        t = socket.socket(); t.bind(("127.0.0.1", port))
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("127.0.0.1", port))
        t.close(); u.close(); print(port); got.add(port)
    except OSError:
        pass
    if len(got) == want:
        break
PYEOF
}
listening() { # tcp|udp PORT
	ss -Hln --"$1" "sport = :$2" 2>/dev/null | grep -q .
}
# Waits until a TCP port on 127.0.0.1 accepts connections (5 s at most).
wait_tcp() {
	_i=0
	while [ $_i -lt 100 ]; do
		if python3 -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$1),0.2)" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		_i=$((_i + 1))
	done
	return 1
}
# Bounded polls on an event (a socket, a log line), never a fixed sleep.
wait_until() {
	_w=0
	until "$@"; do
		[ $_w -ge 200 ] && return 1
		sleep 0.05
		_w=$((_w + 1))
	done
}
wait_sock() { wait_until test -S "$1"; }
wait_lines() { # FILE PATTERN N
	_w=0
	while [ $_w -lt 400 ]; do
		[ "$(grep -c -e "$2" "$1" 2>/dev/null)" -ge "$3" ] && return 0
		sleep 0.05
		_w=$((_w + 1))
	done
	return 1
}
run_ok() {
	_n=$1
	shift
	if limit 60 "$@" >"$T/out" 2>&1; then
		ok "$_n"
	else
		fail "$_n" "exit $?: $(tail -n 3 "$T/out" | tr '\n' ' ')"
	fi
}
sha() { sha256sum "$@" | cut -d' ' -f1; }
newkey() { ssh-keygen -q -t ed25519 -N '' -C "$1@test" -f "$T/$1" </dev/null || exit 111; }
publine() { cut -d' ' -f1,2 "$1"; }
finish() {
	[ "$T_FAILED" -eq 0 ]
	exit $?
}
