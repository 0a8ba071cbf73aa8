#!/bin/sh
# make mutate: applies each mutant (tests/mutants/*.mut) to a scratch copy
# of the tree, builds it and runs the tests the mutant names. A mutant is
# caught when a named test fails; it survives when all of them pass. Ends
# with "N caught, N survived" and exits 1 if any survived or could not be
# applied. Not part of make check (it takes minutes). See README there.
#
#   sh tests/mutants/run.sh [NAME...]     (default: every *.mut)
#
# Before any mutant, the named tests are run once on the unmutated copy:
# a test that already fails there would "catch" everything and prove
# nothing, so the run stops.
cd "$(dirname "$0")/../.." || exit 111
TOP=$PWD
JOBS=${JOBS:-2}
S=$(mktemp -d "${TMPDIR:-/tmp}/mutate.XXXXXX")
trap 'rm -rf "$S"' EXIT
trap 'exit 1' INT TERM HUP

if [ $# -gt 0 ]; then
	muts=""
	for n in "$@"; do muts="$muts tests/mutants/${n%.mut}.mut"; done
else
	muts=$(ls tests/mutants/*.mut)
fi

# field FILE KEY: the value of every "KEY: value" line, one per line.
field() { sed -n "s/^$2: //p" "$1"; }

# The working tree as it is (committed or not), without builds or .git.
mkdir "$S/base"
git ls-files -co --exclude-standard -z | xargs -0 tar -cf - | tar -xf - -C "$S/base" ||
	exit 111
echo "# building the unmutated copy in $S/base"
if ! make -C "$S/base" -j"$JOBS" tests >"$S/base.log" 2>&1; then
	tail -n 20 "$S/base.log"
	echo "# the unmutated tree does not build"
	exit 111
fi

# run_test DIR SPEC LOG: one named test in DIR, 0 if it passed. SPEC is
# [VAR=VALUE...] unit/NAME | shell/NAME.sh | interop/NAME.sh
run_test() {
	(
		cd "$1" || exit 111
		set -f
		# shellcheck disable=SC2086 # the spec is split on purpose
		set -- $2
		set +f
		while [ $# -gt 0 ]; do
			case $1 in *=*) export "${1?}"; shift ;; *) break ;; esac
		done
		case $1 in
		unit/*) timeout -k 5 "${MUT_TIMEOUT:-300}" "build/$1" ;;
		shell/* | interop/*)
			BUILD=build timeout -k 5 "${MUT_TIMEOUT:-300}" sh "tests/$1" >out.$$ 2>&1
			rc=$?
			cat out.$$
			if grep -q '^not ok' out.$$; then rm -f out.$$; exit 1; fi
			rm -f out.$$
			exit $rc ;;
		*) echo "unknown test kind: $1"; exit 111 ;;
		esac
	) >"$3" 2>&1
}

echo "# the named tests on the unmutated copy"
for m in $muts; do field "$m" test; done | sort -u >"$S/tests"
bad=0
while IFS= read -r t; do
	if run_test "$S/base" "$t" "$S/base.test.log"; then
		echo "# passes unmutated: $t"
	else
		echo "# FAILS unmutated: $t"
		tail -n 15 "$S/base.test.log" | sed 's/^/#   /'
		bad=1
	fi
done <"$S/tests"
[ $bad -eq 0 ] || { echo "# fix the tests before mutating"; exit 111; }

caught=0
survived=0
for m in $muts; do
	name=$(basename "$m" .mut)
	file=$(field "$m" file)
	rm -rf "$S/mut"
	cp -a "$S/base" "$S/mut"
	if ! python3 - "$S/mut/$file" "$m" <<'PYEOF'; then
import sys
path, mut = sys.argv[1], sys.argv[2]
frm = [l[6:].rstrip("\n") for l in open(mut) if l.startswith("from: ")]
to = [l[4:].rstrip("\n") for l in open(mut) if l.startswith("to: ")]
if len(frm) != 1 or len(to) != 1:
    sys.exit("%s: needs exactly one from: and one to: line" % mut)
src = open(path).read()
n = src.count(frm[0])
if n != 1:
    sys.exit("%s: the from: text occurs %d times in %s" % (mut, n, path))
open(path, "w").write(src.replace(frm[0], to[0]))
PYEOF
		echo "not applied $name (stale: fix $m)"
		survived=$((survived + 1))
		continue
	fi
	if ! make -C "$S/mut" -j"$JOBS" tests >"$S/build.log" 2>&1; then
		echo "caught $name (by the compiler)"
		caught=$((caught + 1))
		continue
	fi
	by=""
	for t in $(field "$m" test | tr ' ' '\037'); do
		t=$(echo "$t" | tr '\037' ' ')
		if ! run_test "$S/mut" "$t" "$S/test.log"; then
			by=$t
			break
		fi
	done
	if [ -n "$by" ]; then
		echo "caught $name (by $by)"
		caught=$((caught + 1))
	else
		echo "survived $name ($(field "$m" file))"
		survived=$((survived + 1))
	fi
done
rm -rf "$S/mut"
echo "$caught caught, $survived survived"
[ "$survived" -eq 0 ]
