#!/bin/bash
# sup-100m-bench.sh - N suppression entries (default 100 million) imported into a Redis
# Cluster of three masters and, in the same run, into a single Redis: bytes per entry,
# import rows/s with "outpostctl suppress import", RCPT-check p50/p99 under concurrent
# checkers (sup_check(), tests/bench/sup_latency), side by side.
#
# Usage (from the build directory, after "make check" or
# "make outpostctl tests/bench/sup_latency tests/bench/gen_suppress"):
#     ../tests/bench/sup-100m-bench.sh [N [SECONDS [THREADS]]]
#         N        entries (default 100000000; 1-5 million for a quick run)
#         SECONDS  of each latency run (default 10)
#         THREADS  concurrent checkers (default 32)
# Environment: SUP_BENCH_BYTES_PER_ENTRY (default 100), the memory it reserves per entry
# when it checks MemAvailable first; GEN_DOMAIN_PPM (default 100: one row in 10,000), the
# whole-domain entries per million rows (gen_suppress: a real list is addresses).
#
# The servers listen on 127.0.0.1 (free ports found at start), in a temporary directory,
# with --save '' --appendonly no; the cluster is three redis-server --cluster-enabled yes
# joined by redis-cli --cluster create --cluster-replicas 0.  The cluster runs first, then
# is shut down before the single Redis starts, so memory holds one copy at a time.  The
# rows are streamed from gen_suppress (C; the Python generator is ~8 times slower per
# core and would compete with the import) straight into outpostctl: nothing of size N is
# kept on disk or in memory; gen_suppress writes ~100,000 of the imported addresses to a
# sample file, from which sup_latency draws half of its lookups (the other half are
# outside the list); its sender is tenant7.example, so an address unsubscribed from another
# tenant does not hit: about a third of the checks hit.
# Prints figures, asserts nothing; exits 1 if an import fails or the counts differ from N,
# 2 on a usage or setup problem.  Servers and the directory are removed on exit or ^C.
set -eu -o pipefail
build=${OUTPOST_BUILDDIR:-$PWD}
ctl=$build/outpostctl
lat=$build/tests/bench/sup_latency
gen=$build/tests/bench/gen_suppress
n=${1:-100000000}
secs=${2:-10}
threads=${3:-32}
per_entry=${SUP_BENCH_BYTES_PER_ENTRY:-100}
for p in "$ctl" "$lat" "$gen"; do
    [ -x "$p" ] || { echo "$p: not built (make outpostctl tests/bench/sup_latency tests/bench/gen_suppress)" >&2; exit 2; }
done
case $n$secs$threads in *[!0-9]*) echo "usage: $0 [N [SECONDS [THREADS]]]" >&2; exit 2 ;; esac
[ "$n" -gt 0 ] || { echo "N must be positive" >&2; exit 2; }

# --- memory first: one copy of the list at a time, plus room for the rest
need=$(( n * per_entry / 1048576 + 1024 ))                     # MiB
avail=$(( $(sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo) / 1024 ))
if [ "$avail" -lt "$need" ]; then
    echo "refused: $n entries need about $need MiB free ($per_entry bytes/entry + 1 GiB), $avail MiB available" >&2
    exit 2
fi

dir=$(mktemp -d /tmp/outpost-100m.XXXXXX)
ports=()
cleanup() {
    local p pid
    trap - EXIT INT TERM
    for pid in $(jobs -p); do kill "$pid" 2>/dev/null || true; done   # generator, import, checkers
    wait 2>/dev/null || true
    for p in "${ports[@]}"; do
        redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true
    done
    for pid in $(cat "$dir"/*/redis.pid 2>/dev/null); do     # whatever did not stop
        kill -9 "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap cleanup EXIT
trap 'echo "interrupted" >&2; exit 130' INT TERM

# port_free PORT - nothing listens on PORT nor on its cluster bus port
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && ! (exec 3<>"/dev/tcp/127.0.0.1/$(($1 + 10000))") 2>/dev/null; }
base=$(( 20000 + (RANDOM % 900) * 10 ))
for _ in $(seq 100); do
    if port_free "$base" && port_free "$((base + 1))" && port_free "$((base + 2))" \
        && port_free "$((base + 3))"; then break; fi
    base=$(( 20000 + (RANDOM % 900) * 10 ))
done
single=$base
masters=($((base + 1)) $((base + 2)) $((base + 3)))

# server PORT [OPTION...] - a redis-server on 127.0.0.1:PORT in $dir/PORT, daemonized
server() {
    local p=$1; shift
    mkdir -p "$dir/$p"
    redis-server --bind 127.0.0.1 --port "$p" --save '' --appendonly no --daemonize yes \
        --dir "$dir/$p" --pidfile "$dir/$p/redis.pid" --logfile "$dir/$p/redis.log" "$@"
    ports+=("$p")
    for _ in $(seq 100); do redis-cli -p "$p" ping >/dev/null 2>&1 && return 0; sleep 0.1; done
    echo "redis-server on port $p did not start (see $dir/$p/redis.log)" >&2
    exit 2
}
# used PORT... - the sum of used_memory of the servers
used() {
    local p s=0 u
    for p in "$@"; do
        u=$(redis-cli -p "$p" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p')
        s=$((s + u))
    done
    echo "$s"
}
# keys PORT... - DBSIZE of each server
keys() { local p; for p in "$@"; do redis-cli -p "$p" dbsize; done | tr '\n' ' '; }
# cpu PORT - CPU seconds the server used so far
cpu() { redis-cli -p "$1" info cpu | awk -F: '/^used_cpu_(sys|user):/ { s += $2 } END { printf "%.1f", s }'; }

declare -A bpe rate imp_s p50 p99 cps errs holding
# run NAME PORT... - import N rows into the servers of conf.NAME and measure
run() {
    local name=$1 conf=$dir/outpost.conf.$1 b u t0 t1 g i imported entries line p held=0
    shift
    b=$(used "$@")
    echo "== $name: import of $n rows"
    echo "\$ gen_suppress $n 1 sample.csv 100000 | outpostctl -c $conf suppress import -"
    # both in the background, waited for: a signal stops the run at once (cleanup)
    rm -f "$dir/rows"
    mkfifo "$dir/rows"
    t0=$(date +%s.%N)
    "$gen" "$n" 1 "$dir/sample.csv" 100000 >"$dir/rows" &
    g=$!
    # bash's time: the CPU seconds of outpostctl itself, into cpu.NAME
    ( TIMEFORMAT='%U %S'; time "$ctl" -c "$conf" suppress import - <"$dir/rows" 2>"$dir/import.$name" ) \
        2>"$dir/cpu.$name" &
    i=$!
    if ! wait "$i" || ! wait "$g"; then
        sed 's/^/import: /' "$dir/import.$name"
        echo "$name: the import failed" >&2
        exit 1
    fi
    t1=$(date +%s.%N)
    sed 's/^/import: /' "$dir/import.$name"
    u=$(used "$@")
    imported=$(sed -n 's/.* imported \([0-9]*\) rows.*/\1/p' "$dir/import.$name")
    entries=$("$ctl" -c "$conf" suppress stats | sed -n 's/^entries: \([0-9]*\)$/\1/p')
    echo "counts: $imported rows imported, $entries entries (outpostctl suppress stats), N = $n"
    if [ "$imported" != "$n" ] || [ "$entries" != "$n" ]; then
        echo "$name: the counts do not match N" >&2
        exit 1
    fi
    for p in "$@"; do
        if [ "$(redis-cli -p "$p" dbsize)" -gt 0 ]; then held=$((held + 1)); fi
    done
    echo "keys per server: $(keys "$@")($held of $# hold keys)"
    holding[$name]="$held of $#"
    echo "CPU seconds per server so far: $(for p in "$@"; do printf '%s ' "$(cpu "$p")"; done)"
    echo "CPU seconds of outpostctl (user, system): $(tail -1 "$dir/cpu.$name")," \
        "$(awk -v n="$n" '{ printf "%.2f us/row", ($1 + $2) * 1e6 / n }' <(tail -1 "$dir/cpu.$name"))"
    bpe[$name]=$(awk -v u="$u" -v b="$b" -v n="$n" 'BEGIN { printf "%.1f", (u - b) / n }')
    imp_s[$name]=$(awk -v a="$t0" -v z="$t1" 'BEGIN { printf "%.1f", z - a }')
    rate[$name]=$(awk -v a="$t0" -v z="$t1" -v n="$n" 'BEGIN { printf "%.0f", n / (z - a) }')
    echo "memory: used_memory grew by $(awk -v u="$u" -v b="$b" 'BEGIN { printf "%.1f MiB", (u - b) / 1048576 }'), ${bpe[$name]} bytes/entry"
    echo "\$ sup_latency $conf $threads $secs sample.csv"
    "$lat" "$conf" "$threads" "$secs" "$dir/sample.csv" >"$dir/lat.$name" &
    wait $!
    line=$(cat "$dir/lat.$name")
    echo "rcpt check: $line"
    p50[$name]=$(sed -n 's/.* p50=\([0-9]*\)us.*/\1/p' <<<"$line")
    p99[$name]=$(sed -n 's/.* p99=\([0-9]*\)us.*/\1/p' <<<"$line")
    cps[$name]=$(sed -n 's/.*checks=[0-9]* (\([0-9]*\)\/s).*/\1/p' <<<"$line")
    errs[$name]=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$line")
}

echo "# sup-100m-bench: N=$n, $threads checkers for $secs s"
echo "# $(nproc) cores, $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)," \
    "redis $(redis-server --version | sed 's/.* v=\([^ ]*\).*/\1/'), $(date -u '+%F %T UTC'), MemAvailable $avail MiB"
echo "# $0 $n $secs $threads"

# --- the cluster: three masters, no replicas
for p in "${masters[@]}"; do
    server "$p" --cluster-enabled yes --cluster-config-file "$dir/$p/nodes.conf"
done
echo "\$ redis-cli --cluster create 127.0.0.1:${masters[0]} 127.0.0.1:${masters[1]} 127.0.0.1:${masters[2]} --cluster-replicas 0"
redis-cli --cluster create "127.0.0.1:${masters[0]}" "127.0.0.1:${masters[1]}" \
    "127.0.0.1:${masters[2]}" --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 \
    || { cat "$dir/create.log" >&2; exit 2; }
for _ in $(seq 100); do
    ok=0
    for p in "${masters[@]}"; do
        if redis-cli -p "$p" cluster info | grep -q '^cluster_state:ok'; then ok=$((ok + 1)); fi
    done
    [ $ok = 3 ] && break
    sleep 0.2
done
[ "$ok" = 3 ] || { echo "the cluster did not come up" >&2; exit 2; }
printf '[redis]\ncluster = 127.0.0.1:%s,127.0.0.1:%s,127.0.0.1:%s\ncommand_timeout = 10s\n' \
    "${masters[@]}" >"$dir/outpost.conf.cluster"
run cluster "${masters[@]}"
for p in "${masters[@]}"; do redis-cli -p "$p" shutdown nosave >/dev/null 2>&1 || true; done

# --- the single Redis
server "$single"
printf '[redis]\nserver = 127.0.0.1:%s\ncommand_timeout = 10s\n' "$single" >"$dir/outpost.conf.single"
run single "$single"

echo "== N=$n                         cluster (3 masters)   single Redis"
printf '%-32s %-21s %s\n' "bytes/entry (target <= 64)" "${bpe[cluster]}" "${bpe[single]}" \
    "import rows/s (target >= 150000)" "${rate[cluster]}" "${rate[single]}" \
    "import seconds" "${imp_s[cluster]}" "${imp_s[single]}" \
    "rcpt check p50 / p99 (us)" "${p50[cluster]} / ${p99[cluster]}" "${p50[single]} / ${p99[single]}" \
    "rcpt checks/s ($threads checkers)" "${cps[cluster]}" "${cps[single]}" \
    "check errors" "${errs[cluster]}" "${errs[single]}" \
    "servers holding the entries" "${holding[cluster]}" "${holding[single]}"
awk -v a="${imp_s[cluster]}" -v b="${imp_s[single]}" -v n="$n" -v s="$secs" 'BEGIN {
    printf "# at these rates 100000000 entries take about %.0f min (imports scaled linearly)\n",
        ((a + b) * 100000000 / n + 2 * s + 30) / 60 }'
