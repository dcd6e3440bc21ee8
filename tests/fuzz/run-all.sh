#!/bin/bash
# run-all.sh - run every libFuzzer target for a given time; report each
#
# SYNOPSIS
#	tests/fuzz/run-all.sh DURATION [BUILDDIR]
#
# DESCRIPTION
#	Builds nothing: BUILDDIR (default $OUTPOST_BUILDDIR, else the current
#	directory) is a tree configured with
#	    CC=clang ../configure --enable-fuzzers [--enable-sanitizers]
#	and built with make.  Each tests/fuzz/fuzz_NAME there fuzzes for
#	DURATION (seconds, or with a suffix m or h: 30m) with -timeout=2, so
#	that a slow input counts as a failure, -max_len=1048576 for the
#	targets that read whole reports (65536 for the others), and its
#	dictionary from tests/fuzz/dict/ when there is one.  It starts from
#	its seed corpus and keeps what it finds in BUILDDIR/tests/fuzz/work/NAME
#	(a later run goes on from there); inputs that fail are kept as
#	BUILDDIR/tests/fuzz/failed-NAME-*.  JOBS targets run at once (default 1);
#	TARGETS="ses bounce" runs only those.
#
#	One line per target: executions, coverage (edges) and features at the
#	end, corpus size, and "ok" or "STOPPED" (crash, leak, timeout, out of
#	memory; the log's tail follows).  Exit status 1 when any stopped.
set -u
src=$(cd "$(dirname "$0")/../.." && pwd)
duration=${1:?usage: run-all.sh DURATION [BUILDDIR]}
build=$(cd "${2:-${OUTPOST_BUILDDIR:-.}}" && pwd)
jobs=${JOBS:-1}
case $duration in
*h) seconds=$((${duration%h} * 3600)) ;;
*m) seconds=$((${duration%m} * 60)) ;;
*s) seconds=${duration%s} ;;
*) seconds=$duration ;;
esac

# run_one NAME - fuzz one target; prints its report line
run_one() {
    local name=$1 bin=$build/tests/fuzz/fuzz_$1 work=$build/tests/fuzz/work/$1
    local dict=$src/tests/fuzz/dict/$1.dict log=$build/tests/fuzz/work/$1.log len=65536
    case $name in
    bounce|ses|mime|dsn|arf|json_scan|trackrw) len=1048576 ;;
    esac
    case $name in ses|json_scan) dict=$src/tests/fuzz/dict/json.dict ;; esac
    mkdir -p "$work"
    [ -d "$src/tests/fuzz/corpus/$name" ] && cp -rn "$src/tests/fuzz/corpus/$name"/. "$work"/
    local args=(-max_total_time="$seconds" -timeout=2 -max_len="$len" -rss_limit_mb=2048
                -print_final_stats=1 -artifact_prefix="$build/tests/fuzz/failed-$name-")
    [ -f "$dict" ] && args+=(-dict="$dict")
    if (cd "$build/tests/fuzz/work" && "$bin" "${args[@]}" "$work" >"$log" 2>&1); then
        status=ok
    else
        status=STOPPED
    fi
    local execs cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    printf '%-22s execs %-10s cov %-6s ft %-6s corpus %-5s %s\n' "fuzz_$name" \
        "${execs:-?}" "${cov:-?}" "${ft:-?}" "$(ls "$work" | wc -l)" "$status"
    if [ "$status" != ok ]; then
        tail -n 20 "$log" | sed 's/^/    /'
        return 1
    fi
}
export -f run_one
export src build seconds

names=()
for bin in "$build"/tests/fuzz/fuzz_*; do
    [ -x "$bin" ] || continue
    [ -z "${TARGETS:-}" ] || [[ " $TARGETS " == *" ${bin##*/fuzz_} "* ]] || continue
    if ! grep -q LLVMFuzzerRunDriver "$bin"; then
        echo "$bin is not a libFuzzer target: configure with CC=clang --enable-fuzzers" >&2
        exit 2
    fi
    names+=("${bin##*/fuzz_}")
done
[ ${#names[@]} -gt 0 ] || { echo "no fuzz targets in $build/tests/fuzz" >&2; exit 2; }
mkdir -p "$build/tests/fuzz/work"
echo "fuzzing ${#names[@]} targets for ${seconds}s each, $jobs at a time"
printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
