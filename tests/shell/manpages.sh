#!/bin/sh
# The man pages: no troff warnings, handler.conf(5) up to date with
# docs/conf.md, `make install` puts section 5 with section 1, and every
# example in the EXAMPLES section of every page runs as written.
#
# An example is one command line of an EXAMPLES .nf block (a line ending
# in "\" goes on with the next), or for handler.conf(5) a whole .nf block
# (one configuration file, whose first line is a comment naming its
# path). Each page's examples are counted and each is matched by its form
# to a runner below; an example no runner knows fails, and so does the
# page's count check, so a new example cannot be skipped silently.
#
# The text is run as written, but for these substitutions (subst), which
# move what would be the machine's onto this run's scratch directory $W:
#   /etc/handler/       -> $W/etc/        (confs, server key, curvecp keys)
#   /srv/handler/       -> $W/srv/handler/
#   /var/log/handler/   -> $W/log/
#   /run/               -> $W/run/
#   /usr/local/bin/     -> $BIN/          (inetd wants an absolute program)
#   127.0.0.1 PORT, 127.0.0.1:PORT -> a free_port (one per PORT and page)
#   an inetd.conf line's user "handler"      -> this account
#   in a conf: "run-as handler"              -> run-as this account
#   in a conf: "user NAME PERMS KEY..."      -> NAME's key made here (alice:
#                                               the one handler-client keygen
#                                               wrote, bob: a new one)
# and they run in $W (which holds server.pub, test.conf = the first conf,
# dir/) with HOME=$W/home, USER=alice, $W/bin (handler, handler-client,
# msgpipe of $BIN) first in PATH and "ls" on stdin (for sftp). A server
# example runs in the background until its page is done, with one of the
# test's clients for its protocol (cmd: handler-client run echo hello;
# sftp: sftp -D with socat for the transport) and, if the page has one,
# the page's own client example; an inetd.conf line is served by
# `inetd -d` from a file holding that line.
. tests/lib.sh
for m in docs/*.1 docs/*.5; do
	if groff -man -ww -z "$m" >"$T/groff" 2>&1 && [ ! -s "$T/groff" ]; then
		ok "$m: no troff warnings"
	else
		fail "$m: no troff warnings" "$(head -c 200 "$T/groff")"
	fi
done
python3 tests/tools/md2man.py docs/conf.md >"$T/conf.5"
check "handler.conf.5 is docs/conf.md's (tests/tools/md2man.py)" cmp -s "$T/conf.5" docs/handler.conf.5
check "make install puts handler.conf.5 in man5" sh -c \
	"make -s install BUILD=$BUILD DESTDIR=$T/inst PREFIX=/usr >/dev/null 2>&1 && test -f $T/inst/usr/share/man/man5/handler.conf.5 && test -f $T/inst/usr/share/man/man1/handler-client.1"

ME=$(id -un)
W=$T/w
mkdir -p "$W/bin" "$W/etc" "$W/log" "$W/run" "$W/home" "$W/dir" "$T/ex" \
	"$W/srv/handler/public" "$W/srv/handler/alice" "$W/srv/handler/backups"
ln -s "$BIN/handler" "$BIN/handler-client" "$BIN/msgpipe" "$W/bin/"
ssh-keygen -q -t ed25519 -N '' -f "$W/etc/server_key" </dev/null || exit 111
ssh-keygen -q -t ed25519 -N '' -f "$T/bob" </dev/null || exit 111
cp "$W/etc/server_key.pub" "$W/server.pub"
curvecpmakekey "$W/etc/curvecp" || exit 111
echo public >"$W/srv/handler/public/hello.txt"
echo alice >"$W/srv/handler/alice/alice.txt"
echo data >"$W/dir/file"
truncate -s 1M "$W/srv/handler/debian.iso"
printf 'ls\n' >"$T/stdin"
ALICE=$W/home/.config/handler/id_ed25519

# extract PAGE line|block: one file $T/ex/PAGE.N per example; prints N.
extract() {
	sed -n '/^\.SH EXAMPLES/,/^\.SH/p' "$1" |
		sed 's/\\-/-/g; s/^\\&//; s/\\e/\\/g' |
		awk -v out="$T/ex/${1##*/}" -v mode="$2" '
		/^\.nf/ { on = 1; if (mode == "block") n++; next }
		/^\.fi/ { on = 0; next }
		!on || /^\./ { next }
		mode == "block" { print >> (out "." n); next }
		/^[ \t]*$/ { next }
		{ if (!cont) n++; print >> (out "." n); cont = /\\$/ }
		END { print n + 0 }'
}

# The port map, "PAGE EXAMPLEPORT FREEPORT" lines, made before the pages
# run (one free_port call for all: a python start can take a second).
map_ports() {
	for _f in "$T/ex"/*; do
		grep -o '127\.0\.0\.1[ :][0-9][0-9]*' "$_f" | sed "s/.*[ :]/${_f##*/} /; s/\.[0-9]* / /"
	done | sort -u >"$T/ports.want"
	free_port "$(wc -l <"$T/ports.want")" | paste -d' ' "$T/ports.want" - >"$T/ports"
}
port_of() { # PAGE EXAMPLEPORT
	awk -v g="$1" -v p="$2" '$1 == g && $2 == p { print $3 }' "$T/ports"
}
subst() { # PAGE.N-FILE -> stdout
	_e="s|/etc/handler/|$W/etc/|g; s|/srv/handler/|$W/srv/handler/|g"
	_e="$_e; s|/var/log/handler/|$W/log/|g; s|/run/|$W/run/|g"
	_e="$_e; s|/usr/local/bin/|$BIN/|g"
	_e="$_e; s|^\(127\.0\.0\.1:[0-9]* stream tcp nowait\) handler |\1 $ME |"
	_e="$_e; s|^run-as handler\$|run-as $ME|"
	_e="$_e; s|^\(user alice [^ ]*\) ssh-ed25519 .*|\1 $(publine "$ALICE.pub" 2>/dev/null)|"
	_e="$_e; s|^\(user bob [^ ]*\) ssh-ed25519 .*|\1 $(publine "$T/bob.pub")|"
	for _p in $(grep -o '127\.0\.0\.1[ :][0-9][0-9]*' "$1" | sed 's/.*[ :]//' | sort -u); do
		_e="$_e; s/127\.0\.0\.1\([ :]\)$_p\([^0-9]\|\$\)/127.0.0.1\1$(port_of "$(basename "${1%.*}")" "$_p")\2/g"
	done
	sed "$_e" "$1"
}

# The confs of handler.conf(5), written where their first line says
# (/etc/handler/handler.conf -> $W/etc/handler.conf), the first one also
# as test.conf. alice's key is handler-client(1)'s keygen example's; if
# no example has made it yet, it is made here.
write_conf() { # EXAMPLEFILE -> prints the path written
	_path=$(head -n 1 "$1" | sed -n 's|^# \(/etc/handler/[^ :]*\):.*|\1|p' |
		sed "s|/etc/handler/|$W/etc/|")
	[ -n "$_path" ] || return 1
	subst "$1" >"$_path" && echo "$_path"
}
need_confs() {
	[ -f "$W/test.conf" ] && return 0
	[ -f "$ALICE" ] || ssh-keygen -q -t ed25519 -N '' -f "$ALICE" </dev/null
	for _c in "$T/ex/handler.conf.5".*; do
		_p=$(write_conf "$_c") && [ "${_c##*.}" = 1 ] && cp "$_p" "$W/test.conf"
	done
	return 0
}

# Servers of the current page, stopped when the page is done.
PAGE_PIDS=""
serve() { # EXAMPLE-TEXT LOG
	bg env HOME="$W/home" USER=alice PATH="$W/bin:$PATH" \
		sh -c "cd '$W' && exec $1" >"$2" 2>&1
	PAGE_PIDS="$PAGE_PIDS $T_LASTPID"
}
stop_servers() {
	for _s in $PAGE_PIDS; do
		kill -TERM "-$_s" 2>/dev/null
	done
	PAGE_PIDS=""
}
in_w() { # CMD: runs sh -c CMD in $W with the examples' environment
	(cd "$W" && HOME=$W/home USER=alice PATH=$W/bin:$PATH \
		limit 20 sh -c "$1" <"$T/stdin" >"$T/ex.out" 2>"$T/ex.err")
}
why() { echo "exit $1: $(tail -c 300 "$T/ex.err" | tr '\n' '|')"; }

# The test's own clients for the servers of handler(1) and msgpipe(1).
cmd_client() { # TRANSPORT-PREFIX: handler-client run echo hello over it
	in_w "$1 handler-client -p server.pub run echo hello" &&
		[ "$(cat "$T/ex.out")" = hello ]
}
sftp_client() { # CONNECT-COMMAND [FILE]: sftp -D's ls shows FILE
	in_w "sftp -q -b - -D '$1'" && grep -q "${2:-hello.txt}" "$T/ex.out"
}
ex_port() { # EXAMPLE-TEXT: its first port after 127.0.0.1
	echo "$1" | grep -o '127\.0\.0\.1[ :][0-9][0-9]*' | head -n 1 | sed 's/.*[ :]//'
}
# After a server example started: a client by its protocol (last word
# cmd, or sftp with its arguments), over TRANSPORT (tcp PORT, udp PORT
# with the curvecpserver's words, unix PATH).
client_for() { # EXAMPLE-TEXT TRANSPORT ARG
	case $2 in
	tcp) _pre="tcpclient 127.0.0.1 $3" _conn="socat - TCP:127.0.0.1:$3" ;;
	unix) _pre="" _conn="socat - UNIX-CONNECT:$3" ;;
	udp) _pre="curvecpclient $3 msgpipe -c" _conn="" ;;
	esac
	case $1 in
	*" cmd") [ -n "$_pre" ] && cmd_client "$_pre" ;;
	*" sftp"*) [ -n "$_conn" ] && sftp_client "$_conn" ;;
	*) return 1 ;;
	esac
}

# What a client example must have printed or made, beyond exit 0.
expect() { # EXAMPLE-TEXT
	case $1 in
	*keygen*) test -f "$ALICE" -a -f "$ALICE.pub" ;;
	*curvecpmakekey*) test -f "$W/keys/publickey" ;;
	*"run ping") [ "$(cat "$T/ex.out")" = pong ] ;;
	*"echo hello") [ "$(cat "$T/ex.out")" = hello ] ;;
	*"store backup.tar") tar tf "$W/srv/handler/backups/backup.tar" | grep -q '^dir/file$' ;;
	*"caps | jq"*) grep -q '"name": "store"' "$T/ex.out" ;;
	*" batch") [ "$(cat "$T/ex.out")" = "$(printf 'n1\nn2\nn3')" ] ;;
	*" sftp"*tunnel*) grep -q alice.txt "$T/ex.out" ;;
	*"handler -n"*) grep -q 'configuration ok' "$T/ex.err" ;;
	*) true ;;
	esac
}

# run_example PAGE N FILE: ok/fail; returns 1 if no runner knows it.
run_example() {
	_ex=$(subst "$3")
	# Its name: a conf's first line, a command line joined; backslashes
	# doubled for ok's echo.
	_lines=3
	[ "$1" = handler.conf.5 ] && _lines=1
	_name="${1%.[0-9]}(${1##*.}) example $2: $(head -n $_lines "$3" | paste -sd' ' |
		sed 's/ \\  */ /g; s/\\/\\\\/g' | cut -c1-150)"
	case $1:$(cat "$3") in
	handler.conf.5:*) run_conf "$_name" "$3" ;;
	*:"tcpserver "*)
		need_confs
		_port=$(ex_port "$_ex")
		serve "$_ex" "$T/srv.$2.log"
		if wait_until listening tcp "$_port" && client_for "$_ex" tcp "$_port"; then
			ok "$_name"
		else
			fail "$_name" "$(why $?) $(tail -c 200 "$T/srv.$2.log")"
		fi
		;;
	*:"127.0.0.1:"*" stream tcp nowait "*)
		need_confs
		echo "$_ex" >"$W/inetd.conf"
		_port=$(ex_port "$_ex")
		_log=$(echo "$_ex" | sed -n 's/.* -l \([^ ]*\) .*/\1/p')
		serve "inetd -d $W/inetd.conf" "$T/srv.$2.log"
		if wait_until listening tcp "$_port" && client_for "$_ex" tcp "$_port" &&
			wait_lines "${_log:-/nonexistent}" 'done ' 1; then
			ok "$_name (log in the -l file)"
		else
			fail "$_name" "$(why $?) $(tail -c 200 "$T/srv.$2.log")"
		fi
		;;
	*:"curvecpserver "*)
		need_confs
		# Its words: curvecpserver NAME KEYDIR IP PORT EXT ...
		_log=$T/srv.$2.log
		set -f
		# shellcheck disable=SC2046
		set -- $(echo "$_ex" | tr '\\\n' '  ')
		set +f
		_port=$5 _cc="$2 $(cd "$W" && curvecpprintkey "$3") 127.0.0.1 $5 $6"
		serve "$_ex" "$_log"
		if wait_until listening udp "$_port" && client_for "$_ex" udp "$_cc"; then
			ok "$_name"
		else
			fail "$_name" "$(why $?)"
		fi
		;;
	*:"systemd-socket-activate -l "*)
		need_confs
		_sock=$(echo "$_ex" | awk '{ print $3 }')
		serve "$_ex" "$T/srv.$2.log"
		if wait_sock "$_sock" && client_for "$_ex" unix "$_sock"; then
			ok "$_name"
		else
			fail "$_name" "$(why $?) $(tail -c 200 "$T/srv.$2.log")"
		fi
		;;
	handler-client.1:*"tcpclient 127.0.0.1 "*)
		# The server handler(1)'s example starts, on this port.
		need_confs
		_port=$(echo "$_ex" | sed 's/.*tcpclient 127\.0\.0\.1 \([0-9]*\).*/\1/')
		listening tcp "$_port" ||
			serve "tcpserver -R -H 127.0.0.1 $_port handler -s -f test.conf cmd" "$T/srv.$2.log"
		if wait_until listening tcp "$_port" && in_w "$_ex" && expect "$_ex"; then
			ok "$_name"
		else
			fail "$_name" "$(why $?)"
		fi
		;;
	*:"handler -n "* | *:"curvecpmakekey "* | *:"curvecpclient "* | \
		handler-client.1:"handler-client "* | handler-client.1:*"| handler-client "* | \
		handler-client.1:"sftp -D "*)
		case $_ex in *keygen*) ;; *) need_confs ;; esac
		if in_w "$_ex" && expect "$_ex"; then
			ok "$_name"
		else
			fail "$_name" "$(why $?)"
		fi
		;;
	*)
		fail "$_name" "no runner in tests/shell/manpages.sh knows this example"
		return 1
		;;
	esac
}

# A conf of handler.conf(5): handler -n, then a session of each kind it
# configures (cmd and sftp over the secure layer with a server-key, plain
# sftp with an sftp-root only, nbd with exports).
run_conf() { # NAME FILE
	need_confs
	if ! _c=$(write_conf "$2"); then
		fail "$1" "its first line does not name its path (# /etc/handler/NAME.conf: ...)"
		return 0
	fi
	in_w "handler -n -f $_c"
	_rc=$?
	if [ $_rc -ne 0 ] || ! grep -q 'configuration ok' "$T/ex.err"; then
		fail "$1: handler -n" "$(why $_rc)"
		return 0
	fi
	_s=""
	if grep -q '^server-key ' "$_c"; then
		in_w "handler-client -p server.pub --exec 'handler -s -f $_c cmd' run echo hello" &&
			[ "$(cat "$T/ex.out")" = hello ] && _s="$_s cmd+secure" || _s="$_s FAILED:cmd+secure"
		sftp_client "handler-client -p server.pub --exec \"handler -s -f $_c sftp\" tunnel" alice.txt &&
			_s="$_s sftp+secure" || _s="$_s FAILED:sftp+secure"
	elif grep -q '^sftp-root ' "$_c"; then
		sftp_client "handler -f $_c sftp" && _s="$_s sftp" || _s="$_s FAILED:sftp"
	fi
	if grep -q '^nbd-export ' "$_c"; then
		_x=$(awk '$1 == "nbd-export" { print $2; exit }' "$_c")
		in_w "nbdinfo --list -- [ handler -f $_c nbd ]" &&
			grep -q "export=\"$_x\"" "$T/ex.out" && _s="$_s nbd" || _s="$_s FAILED:nbd"
	fi
	case $_s in
	"" | *FAILED*) fail "$1: handler -n, sessions:$_s" "$(why 1)" ;;
	*) ok "$1: handler -n, sessions:$_s" ;;
	esac
}

# handler-client(1) first: its keygen example makes alice's key, which
# the confs then name.
PAGES="handler-client.1:line handler.conf.5:block handler.1:line msgpipe.1:line"
for page in $PAGES; do
	extract "docs/${page%:*}" "${page#*:}" >"$T/found.${page%:*}"
done
map_ports
for page in $PAGES; do
	p=${page%:*}
	found=$(cat "$T/found.$p")
	ran=0
	n=0
	while [ $n -lt "$found" ]; do
		n=$((n + 1))
		run_example "$p" $n "$T/ex/$p.$n" && ran=$((ran + 1))
	done
	stop_servers
	if [ "$found" -gt 0 ] && [ "$ran" -eq "$found" ]; then
		ok "$p: $found examples found, $found run"
	else
		fail "$p: $found examples found, $ran run"
	fi
done
finish
