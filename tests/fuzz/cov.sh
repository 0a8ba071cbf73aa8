#!/bin/sh
# The coverage each harness reaches on its seed corpus alone, no mutation
# (libFuzzer -runs=0: cov = edges, ft = features of the INITED line), for
# the corpus as of git revision OLD and as it is in the worktree now:
#   cov.sh BUILDDIR OLD
# prints one markdown table row per harness.
dir=$1 old=$2
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fuzzcov.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/old"
git archive "$old" tests/fuzz/corpus | tar -x -C "$tmp/old" || exit 111
measure() { # FUZZER DIR: "cov ft files"
	n=$(find "$2" -type f | wc -l)
	mkdir -p "$tmp/empty"
	# -runs=0 runs every seed once and stops; an empty dir first keeps
	# libFuzzer from writing into the corpus.
	timeout 300 "$1" -runs=0 -rss_limit_mb=2048 "$tmp/empty" "$2" 2>&1 |
		grep -o 'INITED cov: [0-9]* ft: [0-9]*' | tail -n 1 |
		awk -v n="$n" '{ print $3, $5, n }'
}
echo "| harness | old seeds | old cov / ft | old+new seeds | old+new cov / ft |"
echo "|---|---|---|---|---|"
for f in "$dir"/fuzz/fuzz_*; do
	name=${f##*/fuzz_}
	# shellcheck disable=SC2046 # three words each, split on purpose
	set -- $(measure "$f" "$tmp/old/tests/fuzz/corpus/$name") \
		$(measure "$f" "tests/fuzz/corpus/$name")
	echo "| $name | $3 | $1 / $2 | $6 | $4 / $5 |"
done
