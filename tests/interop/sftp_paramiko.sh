#!/bin/sh
# paramiko (Debian's python3-paramiko, /usr/bin/python3) against
# `handler sftp ROOT` over pipes: see sftp_paramiko.py for the cases.
# SFTP_REF=/usr/lib/openssh/sftp-server runs them against OpenSSH's server.
. tests/lib.sh
PY=/usr/bin/python3

if ! "$PY" -c 'import paramiko' 2>/dev/null; then
	ok "sftp_paramiko # SKIP python3-paramiko missing for $PY"
	finish
fi
if [ -z "${SFTP_REF:-}" ] && [ ! -x "$BIN/handler" ]; then
	fail sftp_paramiko "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi
ROOT=$T/root
mkdir -p "$ROOT"
case $BUILD in *asan*) big=4 ;; *) big=16 ;; esac
if [ -n "${SFTP_REF:-}" ]; then
	set -- "$SFTP_REF" -d "$ROOT"
	export SFTP_REF
else
	set -- "$BIN/handler" sftp "$ROOT"
fi
limit 90 "$PY" tests/interop/sftp_paramiko.py "$ROOT" "$big" "$@" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail paramiko_driver "exit $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
	fail paramiko_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
fi
finish
