#!/bin/bash
# intake-parse-bench.sh - what reading reports in a separate, sandboxed process
# (outpost-intake-parse) costs per intake message, against reading them in the
# milter (prints figures; nothing is asserted)
#
# usage (from the build directory): ../tests/bench/intake-parse-bench.sh [FOLDER] [ROUNDS]
# FOLDER: *.eml reports (default: the labelled samples); ROUNDS: default 20.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OUTPOST_BUILDDIR:-$([ -x ./outpost-intake-parse ] && pwd || echo "$src")}
data=${1:-${OUTPOST_TESTDATA:-$src/tests/data/bounces}}
bench=$build/tests/bench/parse_bench
[ -x "$bench" ] || make -C "$build" tests/bench/parse_bench >/dev/null || exit 1
exec "$bench" "$build/outpost-intake-parse" "$data" "${2:-20}"
