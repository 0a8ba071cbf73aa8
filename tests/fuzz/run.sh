#!/bin/sh
# Runs every libFuzzer harness for a while on its seed corpus:
#   run.sh BUILDDIR SECONDS
# A crash leaves its input in $T and the harness fails. Each ok line
# gives the executions and the coverage reached (libFuzzer's cov:/ft:).
. tests/lib.sh
dir=$1
secs=${2:-10}
for f in "$dir"/fuzz/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus=tests/fuzz/corpus/${name#fuzz_}
	work=$T/$name
	mkdir -p "$work"
	[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null
	if limit $((secs + 60)) "$f" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
		-rss_limit_mb=2048 -artifact_prefix="$work/" "$work" \
		>"$T/$name.log" 2>&1; then
		# Coverage: the cov: (edges) and ft: (features) of libFuzzer's
		# last status line.
		cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$T/$name.log" | tail -n 1)
		ok "fuzz $name ($(grep -o 'stat::number_of_executed_units: [0-9]*' "$T/$name.log" | tail -1 | awk '{print $2}') runs, ${cov:-cov: ?})"
	else
		tail -n 30 "$T/$name.log"
		fail "fuzz $name"
	fi
done
finish
