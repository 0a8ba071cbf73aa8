#!/bin/sh
# Runs every test against each build directory given (build, build-asan),
# then the short fuzz runs once, and ends with "N passed, N failed".
# Unit binaries report through check's summary; shell scripts print
# "ok NAME" / "not ok NAME" lines; a script that dies without saying why
# counts as one failure. "ok NAME # SKIP why" is counted as skipped, not
# passed, and listed before the summary.
cd "$(dirname "$0")/.." || exit 111
passed=0
failed=0
log=$(mktemp)
failures=$(mktemp)
skips=$(mktemp)
trap 'rm -f "$log" "$failures" "$skips"' EXIT

count_unit() { # binary
	timeout -k 5 300 "$1" >"$log" 2>&1
	rc=$?
	cat "$log"
	line=$(grep -E 'Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
	if [ -z "$line" ]; then
		echo "not ok $1 (no summary, exit $rc)" | tee -a "$failures"
		failed=$((failed + 1))
		return
	fi
	n=$(echo "$line" | sed -E 's/.*Checks: ([0-9]+).*/\1/')
	f=$(echo "$line" | sed -E 's/.*Failures: ([0-9]+).*/\1/')
	e=$(echo "$line" | sed -E 's/.*Errors: ([0-9]+).*/\1/')
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
	grep -E ':[EF]:' "$log" | sed "s|^|not ok $1: |" >>"$failures"
	if [ "$rc" -ne 0 ] && [ $((f + e)) -eq 0 ]; then
		echo "not ok $1 (exit $rc)" | tee -a "$failures"
		failed=$((failed + 1))
	fi
}

count_script() { # build script [args]
	b=$1
	shift
	start=$(date +%s)
	BUILD=$b timeout -k 10 "${TEST_TIMEOUT:-600}" sh "$@" >"$log" 2>&1
	rc=$?
	cat "$log"
	p=$(grep -c '^ok ' "$log")
	f=$(grep -c '^not ok ' "$log")
	k=$(grep -ci '^ok .*# skip' "$log")
	grep -i '^ok .*# skip' "$log" | sed "s|^ok |$b $1: |" >>"$skips"
	p=$((p - k))
	passed=$((passed + p))
	failed=$((failed + f))
	grep '^not ok ' "$log" | sed "s|^not ok |not ok $b $1: |" >>"$failures"
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "not ok $* (exit $rc)" | tee -a "$failures"
		failed=$((failed + 1))
	fi
	echo "# $* ($b): $p ok, $k skipped, $f failed, exit $rc, $(($(date +%s) - start)) s"
}

for b in "$@"; do
	echo "### suite against $b"
	for u in "$b"/unit/test_*; do
		[ -x "$u" ] && count_unit "$u"
	done
	for s in tests/shell/*.sh tests/interop/*.sh; do
		[ -f "$s" ] && count_script "$b" "$s"
	done
done
if [ -d build-fuzz/fuzz ]; then
	echo "### short fuzz runs"
	count_script build-fuzz tests/fuzz/run.sh build-fuzz "${FUZZ_SECONDS:-5}"
fi
if [ -s "$skips" ]; then
	echo "### skipped ($(wc -l <"$skips"))"
	cat "$skips"
fi
if [ -s "$failures" ]; then
	# Repeated here so that the tail of a long CI log names what failed.
	echo "### failures"
	cat "$failures"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
