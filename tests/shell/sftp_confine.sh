#!/bin/sh
# Confinement: `handler sftp ROOT` must never read, write or reveal anything
# outside ROOT: dot-dot, absolute paths, symlinks planted inside ROOT or made
# by the client, intermediate directory symlinks, and a symlink swap race.
# The request-level work is in sftp_confine.py (a raw SFTP client).
# SFTP_REF=/usr/lib/openssh/sftp-server runs the same attacks against the
# unconfined reference (expected to fail: it only checks the script itself).
. tests/lib.sh
PY=/usr/bin/python3

if [ -z "${SFTP_REF:-}" ] && [ ! -x "$BIN/handler" ]; then
	fail sftp_confine "no $BIN/handler (build with make BUILD=$BUILD)"
	finish
fi

# fixture MODE: a fresh ROOT and outside for each run (a run leaves the
# client's files and symlinks inside ROOT, which the next must not see).
fixture() {
	OUT=$T/out.$1
	ROOT=$OUT/root
	mkdir -p "$ROOT/sub" "$ROOT/race/d_real" "$OUT/outdir"
	printf 'SECRET-OUTSIDE\n' >"$OUT/secret"
	printf 'SECRET-OUTSIDE 2\n' >"$OUT/outdir/secret2"
	printf 'SECRET-OUTSIDE race\n' >"$OUT/outdir/f"
	chmod 600 "$OUT/secret"
	printf 'inside\n' >"$ROOT/file.txt"
	printf 'inside sub\n' >"$ROOT/sub/inner.txt"
	printf 'INSIDE\n' >"$ROOT/race/d_real/f"
	printf 'INSIDE g\n' >"$ROOT/race/g_real"
	ln -s "$OUT/secret" "$ROOT/link_secret"
	ln -s ../secret "$ROOT/link_secret_rel"
	ln -s /etc "$ROOT/link_etc"
	ln -s / "$ROOT/link_root"
	ln -s "$OUT/outdir" "$ROOT/link_outdir"
	ln -s ../.. "$ROOT/sub/up"
	ln -s "$OUT/outdir" "$ROOT/race/d_evil"
	ln -s "$OUT/secret" "$ROOT/race/g_evil"
	ln -s chain2 "$ROOT/chain1"
	ln -s ../../secret "$ROOT/chain2"
	ln -s loop "$ROOT/loop"
}

# Everything outside ROOT: names, modes, sizes and contents.
outside_state() {
	(cd "$OUT" && find . -path ./root -prune -o -printf '%p %m %s %y %T@\n' | sort &&
		find . -path ./root -prune -o -type f -exec sha256sum {} + | sort)
}

# confine MODE [LAUNCHER]: the whole attack run, with every handler the
# driver starts under LAUNCHER. "fallback" runs under noopenat2, where
# openat2 fails with ENOSYS, so the user-space walk in sftp_path.c
# confines instead of the kernel; its result names get a "fallback_"
# prefix.
confine() {
	mode=$1
	shift
	pre=""
	[ "$mode" = openat2 ] || pre="${mode}_"
	fixture "$mode"
	outside_state >"$T/before"
	passwd_before=$(sha /etc/passwd)
	TAP_PREFIX=$pre limit 60 "$@" "$PY" tests/shell/sftp_confine.py "$ROOT" "$OUT" "$race" 2>"$T/stderr"
	rc=$?
	[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
	if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
		fail "${pre}sftp_confine_driver" "python driver exited $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
	fi
	outside_state >"$T/after"
	if cmp -s "$T/before" "$T/after"; then
		ok "${pre}confine_outside_unchanged"
	else
		fail "${pre}confine_outside_unchanged" "files outside ROOT changed: $(diff "$T/before" "$T/after" | tr '\n' ' ')"
	fi
	check "${pre}confine_etc_passwd_unchanged" [ "$(sha /etc/passwd)" = "$passwd_before" ]
	if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
		fail "${pre}confine_sanitizer" "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
	fi
}

case $BUILD in *asan*) race=2 ;; *) race=3 ;; esac
confine openat2
[ -n "${SFTP_REF:-}" ] && finish # the reference has no fallback walk

NOO=$TOOLS/noopenat2
if [ ! -x "$NOO" ]; then
	fail fallback_confine "no $NOO (make tests builds it)"
	finish
fi
confine fallback "$NOO"
# The unit confinement tests (test_sftp_confine.c) through the walk too.
if limit 120 "$NOO" "$BUILD/unit/test_sftp_confine" >"$T/unit" 2>&1 &&
	grep -q 'Checks: [1-9][0-9]*, Failures: 0, Errors: 0' "$T/unit"; then
	ok fallback_unit_test_sftp_confine
else
	fail fallback_unit_test_sftp_confine "$(grep -v '^Running' "$T/unit" | head -n 5 | tr '\n' ' ')"
fi
finish
