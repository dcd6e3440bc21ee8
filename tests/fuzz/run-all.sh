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
#	While it runs, one line per target as it ends ("STOPPED": a crash,
#	leak, timeout or out of memory; the log's tail follows).  At the end,
#	a table, also written to SUMMARY (default
#	BUILDDIR/tests/fuzz/summary.txt): per target the executions,
#	executions per second, coverage at the end (libFuzzer's cov: edges
#	and ft: features), corpus size, the failing inputs this run kept
#	(crashes), and ok or STOPPED; STOPPED(timeout-not-replayed) when the
#	input that timed out runs within the limit on a replay (a loaded
#	machine, most likely: run that target again).  Exit status 1 when
#	any stopped.
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
    local row=$build/tests/fuzz/work/$1.row crashes
    case $name in
    bounce|ses|mime|dsn|arf|json_scan|trackrw|report_digest) len=1048576 ;;
    esac
    case $name in
    ses|json_scan) dict=$src/tests/fuzz/dict/json.dict ;;
    bounce|mime|dsn|arf) dict=$src/tests/fuzz/dict/mail.dict ;;
    esac
    crashes=$(_failed "$name")
    mkdir -p "$work"
    : >"$log.start"
    [ -d "$src/tests/fuzz/corpus/$name" ] && cp -rn "$src/tests/fuzz/corpus/$name"/. "$work"/
    local args=(-max_total_time="$seconds" -timeout=2 -max_len="$len" -rss_limit_mb=2048
                -print_final_stats=1 -artifact_prefix="$build/tests/fuzz/failed-$name-")
    [ -f "$dict" ] && args+=(-dict="$dict")
    if (cd "$build/tests/fuzz/work" && "$bin" "${args[@]}" "$work" >"$log" 2>&1); then
        status=ok
    else
        status=STOPPED
    fi
    local execs speed cov ft
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    crashes=$(($(_failed "$name") - crashes))
    # a timeout on a loaded machine may be the machine: replay the input once
    local t
    t=$(find "$build/tests/fuzz" -maxdepth 1 -name "failed-$name-timeout-*" -newer "$log.start" | head -n 1)
    if [ -n "$t" ] && "$bin" -timeout=2 "$t" >/dev/null 2>&1; then
        status="STOPPED(timeout-not-replayed)"
    fi
    printf '%-22s %12s %9s %7s %7s %7s %7s  %s\n' "fuzz_$name" "${execs:-?}" \
        "${speed:-?}" "${cov:-?}" "${ft:-?}" "$(ls "$work" | wc -l)" "$crashes" "$status" \
        | tee "$row"
    if [ "$status" != ok ]; then
        tail -n 20 "$log" | sed 's/^/    /'
        return 1
    fi
}
# _failed NAME - how many failing inputs of NAME are kept
_failed() { find "$build/tests/fuzz" -maxdepth 1 -name "failed-$1-*" | wc -l; }
export -f run_one _failed
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
summary=${SUMMARY:-$build/tests/fuzz/summary.txt}
echo "fuzzing ${#names[@]} targets for ${seconds}s each, $jobs at a time"
for name in "${names[@]}"; do rm -f "$build/tests/fuzz/work/$name.row"; done
printf '%s\n' "${names[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1"' _ {}
rc=$?
{
    echo "# fuzzing ${seconds}s per target, $(date -u +%Y-%m-%dT%H:%MZ), $(uname -m)"
    printf '%-22s %12s %9s %7s %7s %7s %7s  %s\n' target execs exec/s cov ft corpus crashes status
    for name in "${names[@]}"; do
        cat "$build/tests/fuzz/work/$name.row" 2>/dev/null ||
            printf '%-22s %12s %9s %7s %7s %7s %7s  %s\n' "fuzz_$name" ? ? ? ? ? ? "NOT RUN"
    done
} >"$summary"
echo
cat "$summary"
echo "(table written to $summary)"
[ $rc = 0 ]
