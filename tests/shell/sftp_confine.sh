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

OUT=$T/out
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

# Everything outside ROOT: names, modes, sizes and contents.
outside_state() {
	(cd "$OUT" && find . -path ./root -prune -o -printf '%p %m %s %y %T@\n' | sort &&
		find . -path ./root -prune -o -type f -exec sha256sum {} + | sort)
}
outside_state >"$T/before"
passwd_before=$(sha /etc/passwd)

case $BUILD in *asan*) race=2 ;; *) race=3 ;; esac
limit 60 "$PY" tests/shell/sftp_confine.py "$ROOT" "$OUT" "$race" 2>"$T/stderr"
rc=$?
[ $rc -eq 3 ] && T_FAILED=$((T_FAILED + 1))
if [ $rc -ne 0 ] && [ $rc -ne 3 ]; then
	fail sftp_confine_driver "python driver exited $rc: $(tail -n 5 "$T/stderr" | tr '\n' ' ')"
fi
outside_state >"$T/after"
if cmp -s "$T/before" "$T/after"; then
	ok confine_outside_unchanged
else
	fail confine_outside_unchanged "files outside ROOT changed: $(diff "$T/before" "$T/after" | tr '\n' ' ')"
fi
check confine_etc_passwd_unchanged [ "$(sha /etc/passwd)" = "$passwd_before" ]
if grep -q 'AddressSanitizer\|runtime error' "$T/stderr"; then
	fail confine_sanitizer "$(grep -m 3 'ERROR\|runtime error' "$T/stderr" | tr '\n' ' ')"
fi
finish
