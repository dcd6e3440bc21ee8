#!/bin/bash
# corpus.sh - replay every fuzz target's seed corpus; fuzz briefly if it can (TAP)
#
# For each tests/fuzz/corpus/NAME/ there must be a built target fuzz_NAME;
# a crash or sanitizer report fails that target.  In a libFuzzer build
# (configure --enable-fuzzers) each target then fuzzes for FUZZ_SECONDS
# (default 3) from a scratch copy of its corpus, with its dictionary if
# there is one, -timeout=2 (a slow input is a failure) and -max_len large
# enough for whole reports; FUZZ_SECONDS=0 replays only.  FUZZ_JOBS targets
# (default: the number of processors) fuzz at once; the results are printed in
# the corpus order.
src=${OUTPOST_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${OUTPOST_BUILDDIR:-$src}
seconds=${FUZZ_SECONDS:-3}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
n=0 failed=0
scratch=$(mktemp -d "${TMPDIR:-/tmp}/outpost-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$scratch"' EXIT

# is_libfuzzer BIN - built with -fsanitize=fuzzer (not the replay driver)
is_libfuzzer() {
    grep -q LLVMFuzzerRunDriver "$1" 2>/dev/null
}

# max_len NAME - the longest input a target is given
max_len() {
    case $1 in
    bounce|ses|mime|dsn|arf|json_scan|trackrw|report_digest) echo 1048576 ;;
    *) echo 65536 ;;
    esac
}

# fuzz NAME BIN DIR - a short libFuzzer run; prints its last status line
fuzz() {
    local work=$scratch/$1 dict=$src/tests/fuzz/dict/$1.dict
    mkdir -p "$work" && cp -r "$3"/. "$work"/
    case $1 in
    ses|json_scan) dict=$src/tests/fuzz/dict/json.dict ;;
    bounce|mime|dsn|arf) dict=$src/tests/fuzz/dict/mail.dict ;;
    esac
    local args=(-max_total_time="$seconds" -timeout=2 -max_len="$(max_len "$1")"
                -rss_limit_mb=2048 -print_final_stats=1
                -artifact_prefix="$build/tests/fuzz/failed-$1-")
    [ -f "$dict" ] && args+=(-dict="$dict")
    (cd "$scratch" && "$2" "${args[@]}" "$work" >"$scratch/$1.log" 2>&1)
}

# First the libFuzzer runs, FUZZ_JOBS at a time, each leaving its status in
# NAME.rc; then one TAP line per target in order.
if [ "$seconds" != 0 ]; then
    running=0
    for dir in "$src"/tests/fuzz/corpus/*/; do
        name=$(basename "$dir")
        bin=$build/tests/fuzz/fuzz_$name
        [ -x "$bin" ] && is_libfuzzer "$bin" || continue
        if [ "$running" -ge "$jobs" ]; then
            wait -n
            running=$((running - 1))
        fi
        (fuzz "$name" "$bin" "$dir"; echo $? >"$scratch/$name.rc") &
        running=$((running + 1))
    done
    wait
fi

for dir in "$src"/tests/fuzz/corpus/*/; do
    name=$(basename "$dir")
    bin=$build/tests/fuzz/fuzz_$name
    n=$((n + 1))
    if [ ! -x "$bin" ]; then
        echo "not ok $n - fuzz_$name: target not built"
        failed=$((failed + 1))
    elif is_libfuzzer "$bin" && [ "$seconds" != 0 ]; then
        if [ "$(cat "$scratch/$name.rc" 2>/dev/null)" = 0 ]; then
            runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$scratch/$name.log")
            cov=$(grep -o 'cov: [0-9]*' "$scratch/$name.log" | tail -n 1)
            echo "ok $n - fuzz_$name: ${runs:-?} runs in ${seconds}s, ${cov:-cov: ?}"
        else
            echo "not ok $n - fuzz_$name stopped (crash, leak or slow input)"
            tail -n 30 "$scratch/$name.log" | sed 's/^/# /'
            ls "$build/tests/fuzz/failed-$name"-* 2>/dev/null | sed 's/^/# input kept in /'
            failed=$((failed + 1))
        fi
    elif is_libfuzzer "$bin" && out=$("$bin" -runs=0 "$dir" 2>&1); then
        echo "ok $n - fuzz_$name: corpus replayed"
    elif ! is_libfuzzer "$bin" && out=$("$bin" "$dir" 2>&1); then
        echo "ok $n - fuzz_$name: ${out##*$'\n'}"
    else
        echo "not ok $n - fuzz_$name crashed on its corpus"
        printf '%s\n' "$out" | tail -n 30 | sed 's/^/# /'
        failed=$((failed + 1))
    fi
done
echo "1..$n"
[ "$failed" -eq 0 ]
