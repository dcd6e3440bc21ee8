#!/bin/bash
# corpus.sh - replay every fuzz target's seed corpus (TAP)
#
# For each tests/fuzz/corpus/NAME/ there must be a built target fuzz_NAME;
# a crash or sanitizer report fails that target.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OUTPOST_BUILDDIR:-$src}
n=0 failed=0
for dir in "$src"/tests/fuzz/corpus/*/; do
    name=$(basename "$dir")
    bin=$build/tests/fuzz/fuzz_$name
    n=$((n + 1))
    if [ ! -x "$bin" ]; then
        echo "not ok $n - fuzz_$name: target not built"
        failed=$((failed + 1))
    elif out=$("$bin" "$dir" 2>&1); then
        echo "ok $n - fuzz_$name: ${out##*$'\n'}"
    else
        echo "not ok $n - fuzz_$name crashed on its corpus"
        printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
