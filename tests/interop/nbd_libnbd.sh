#!/bin/sh
# libnbd (python3-libnbd, /usr/bin/python3) against `handler nbd IMAGE`
# over stdio: flags and block sizes, data round trips with structured
# replies on and off, block status on a sparse image, 64 requests in
# flight, zero/trim/cache/flush, errors that keep the connection, -r, the
# exit status after DISC, option mode. See nbd_libnbd.py for the cases.
. tests/lib.sh
PY=/usr/bin/python3

if ! "$PY" -c 'import nbd' 2>/dev/null; then
	fail nbd_libnbd "python3-libnbd missing for $PY (make deps installs it)"
	finish
fi
if [ ! -x "$BIN/handler" ]; then
	fail nbd_libnbd "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
# Requests per direction in the in-flight cases.
case $BUILD in *asan*) n=300 ;; *) n=1000 ;; esac
limit 240 "$PY" tests/interop/nbd_libnbd.py "$BIN/handler" "$T" "$n" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail nbd_libnbd_driver "exit $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
# nbdsh itself (it runs the python3 first in PATH: Debian's has nbd).
if command -v nbdsh >/dev/null 2>&1; then
	truncate -s 1M "$T/nbdsh.img"
	out=$(PATH=/usr/bin:$PATH limit 30 nbdsh \
		-c "h.connect_command(['$BIN/handler', 'nbd', '$T/nbdsh.img'])" \
		-c 'print(h.get_size(), h.can_multi_conn())' \
		-c 'h.pwrite(b"nbdsh", 4096)' -c 'h.flush()' 2>>"$T/stderr")
	if [ "$out" = "1048576 True" ] &&
		[ "$(dd if="$T/nbdsh.img" bs=1 skip=4096 count=5 2>/dev/null)" = nbdsh ]; then
		ok nbdsh_stdio
	else
		fail nbdsh_stdio "printed '$out'"
	fi
else
	fail nbdsh_stdio "nbdsh missing (libnbd-bin)"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
	fail nbd_libnbd_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
fi
finish
