#!/bin/sh
# `make run`'s demo, in its self-checking mode: the commands it prints (and
# the README shows) really work: sftp over TCP and over CurveCP+msgpipe (the
# embedded default staying read-only), cmd over the secure layer with the
# demo keys and conf, nbd with nbdinfo and qemu-img.
. tests/lib.sh
limit 90 sh tests/run-demo.sh "$BUILD" --check >"$T/out" 2>"$T/err"
rc=$?
check "make run demo: --check exits 0" test $rc = 0
for p in sftp-tcp sftp-curvecp cmd nbd; do
	if grep -qx "demo-check ok $p" "$T/err"; then
		ok "make run demo: $p"
	else
		fail "make run demo: $p" "$(tail -c 300 "$T/err")"
	fi
done
check "make run demo: demo keys are mode 0600" \
	test "$(stat -c %a "$BUILD/demo/server_key" "$BUILD/demo/id_demo" | sort -u)" = 600
finish
