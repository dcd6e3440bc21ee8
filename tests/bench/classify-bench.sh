#!/bin/bash
# classify-bench.sh - throughput of "outpostctl classify" (prints figures)
#
# usage (from the build directory): ../tests/bench/classify-bench.sh [FOLDER] [ROUNDS]
# Classifies every *.eml of FOLDER (default: the labelled samples) ROUNDS
# times (default 20) in one process per round and prints messages per
# second and MB per second.  Nothing is asserted.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OUTPOST_BUILDDIR:-$([ -x ./outpostctl ] && pwd || echo "$src")}
data=${1:-${OUTPOST_TESTDATA:-$src/tests/data/bounces}}
rounds=${2:-20}
ctl=$build/outpostctl
[ -x "$ctl" ] || { echo "$ctl not built (run from the build directory)" >&2; exit 1; }
files=("$data"/*.eml)
[ -e "${files[0]}" ] || { echo "no *.eml in $data" >&2; exit 1; }
bytes=$(cat "${files[@]}" | wc -c)
start=$(date +%s.%N)
for ((i = 0; i < rounds; i++)); do
    "$ctl" classify "${files[@]}" > /dev/null
done
end=$(date +%s.%N)
awk -v n="${#files[@]}" -v r="$rounds" -v b="$bytes" -v s="$start" -v e="$end" 'BEGIN {
    t = e - s
    printf "classify: %d messages x %d rounds in %.2f s: %.0f messages/s, %.1f MB/s\n",
        n, r, t, n * r / t, b * r / t / 1e6
}'
