#!/bin/sh
# The man pages: no troff warnings, handler.conf(5) up to date with
# docs/conf.md, `make install` puts section 5 with section 1, and the
# handler-client(1) examples that need no network run as written (with
# this test's server.pub and test.conf in a scratch directory).
. tests/lib.sh
for m in docs/*.1 docs/*.5; do
	if groff -man -ww -z "$m" >"$T/w" 2>&1 && [ ! -s "$T/w" ]; then
		ok "$m: no troff warnings"
	else
		fail "$m: no troff warnings" "$(head -c 200 "$T/w")"
	fi
done
python3 tests/tools/md2man.py docs/conf.md >"$T/conf.5"
check "handler.conf.5 is docs/conf.md's (tests/tools/md2man.py)" cmp -s "$T/conf.5" docs/handler.conf.5
check "make install puts handler.conf.5 in man5" sh -c \
	"make -s install BUILD=$BUILD DESTDIR=$T/inst PREFIX=/usr >/dev/null 2>&1 && test -f $T/inst/usr/share/man/man5/handler.conf.5 && test -f $T/inst/usr/share/man/man1/handler-client.1"

# The EXAMPLES of handler-client(1), run from a directory holding what
# they name: server.pub (pinned), test.conf and h.conf, the user's key.
W=$T/work
mkdir -p "$W/bin"
ln -s "$BIN/handler" "$BIN/handler-client" "$W/bin/"
(cd "$W" && ssh-keygen -q -t ed25519 -N '' -f server && ssh-keygen -q -t ed25519 -N '' -f user) </dev/null
cat >"$W/test.conf" <<EOC
server-key $W/server
user $(id -un) run,sftp:ro $(cut -d' ' -f1,2 "$W/user.pub")
command echo perm=run args=4 -- /bin/echo
sftp-root $W ro
EOC
cp "$W/test.conf" "$W/h.conf"
sed -n '/^\.SH EXAMPLES/,/^\.SH/p' docs/handler-client.1 | sed -n '/^\.nf/,/^\.fi/p' |
	grep -v '^\.[nf][fi]' | sed 's/\\-/-/g; s/\\e/\\/g' >"$T/examples"
n=0
while IFS= read -r ex; do
	n=$((n + 1))
	case $ex in
	*tcpclient* | *store* | *"keygen "*) echo "# skipped (needs a network server or writes a home key): $ex"; continue ;;
	esac
	if (cd "$W" && PATH=$W/bin:$PATH HANDLER_KEY=$W/user limit 20 sh -c "$ex" </dev/null >"$T/ex.out" 2>"$T/ex.err"); then
		ok "handler-client(1) example $n runs: $ex"
	else
		fail "handler-client(1) example $n runs: $ex" "$(head -c 200 "$T/ex.err")"
	fi
done <"$T/examples"
finish
