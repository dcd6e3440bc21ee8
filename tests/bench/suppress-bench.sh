#!/bin/bash
# suppress-bench.sh - suppression list figures: CSV import and export rate, Redis
# used_memory per entry at 1M and 10M entries, RCPT-check latency under load.
#
# Usage (from the build directory, after "make check" or
# "make tests/bench/sup_latency"):
#     ../tests/bench/suppress-bench.sh [SIZES]      # default SIZES="1000000 10000000"
# Starts its own redis-server on a unix socket in a temporary directory; needs
# about 1 GB of disk for the 10M file.  Prints figures; asserts nothing.
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$PWD}
ctl=$build/outpostctl
lat=$build/tests/bench/sup_latency
[ -x "$ctl" ] && [ -x "$lat" ] || { echo "build outpostctl and tests/bench/sup_latency first" >&2; exit 1; }
sizes=${1:-"1000000 10000000"}
dir=$(mktemp -d /tmp/outpost-bench.XXXXXX)
trap 'redis-cli -s "$dir/redis.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
for _ in $(seq 50); do redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
printf '[redis]\nserver = unix:%s/redis.sock\ncommand_timeout = 5s\n' "$dir" >"$dir/outpost.conf"
mem() { redis-cli -s "$dir/redis.sock" info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
echo "# $(nproc) cores, redis $(redis-server --version | cut -d' ' -f3), $(date -u +%F)"
for n in $sizes; do
    redis-cli -s "$dir/redis.sock" flushall >/dev/null
    base=$(mem)
    /usr/bin/python3 "$src/tests/bench/gen-suppress-csv.py" "$n" >"$dir/list.csv"
    echo "== $n entries"
    "$ctl" -c "$dir/outpost.conf" suppress import "$dir/list.csv" 2>&1 | sed 's/^/import: /'
    used=$(mem)
    awk -v u="$used" -v b="$base" -v n="$n" 'BEGIN {
        printf "memory: used_memory %.1f MiB, %.1f bytes/entry (baseline %.1f MiB subtracted)\n",
            u / 1048576, (u - b) / n, b / 1048576 }'
    enc=$(for i in $(seq 0 997 199400); do
              redis-cli -s "$dir/redis.sock" object encoding "$(printf 'outpost:{sup}:b:%05x' "$i")"
          done | sort | uniq -c | tr -s ' \n' ' ')
    echo "encoding of 200 buckets:$enc"
    s=$(date +%s.%N)
    "$ctl" -c "$dir/outpost.conf" suppress export >"$dir/out.csv" 2>/dev/null
    e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" -v n="$n" 'BEGIN { printf "export: %d rows in %.2f s (%.0f rows/s)\n", n, e - s, n / (e - s) }'
    for t in 1 8 32; do
        echo "rcpt check: $("$lat" "$dir/outpost.conf" "$t" 5 "$dir/list.csv")"
    done
    rm -f "$dir/list.csv" "$dir/out.csv"
done
