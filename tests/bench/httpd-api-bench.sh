#!/bin/bash
# httpd-api-bench.sh - outpost-httpd's platform API on this host: GET of one
# suppression (a key checked, its rate limit charged, the entry looked up: three
# Redis round trips in the API's worker) under wrk, and a streamed import of
# ROWS CSV rows in one request (rows/s)
#
# Starts a private redis-server (unix socket) and outpost-httpd with the API on
# 127.0.0.1, makes a key with outpostctl, loads the API with wrk (keep-alive,
# CONNS connections, 2 threads) for SECONDS, then imports.
# Usage: tests/bench/httpd-api-bench.sh [SECONDS [CONNS [ROWS]]]  (default 10, 32,
#        100000).  Needs redis-server, wrk; run as root (outpost-httpd drops to
#        nobody).  Prints figures; asserts nothing.
set -eu
secs=${1:-10}
conns=${2:-32}
rows=${3:-100000}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$src/build}
[ -x "$build/outpost-httpd" ] || build=$src
for p in redis-server wrk; do
    command -v "$p" >/dev/null || { echo "httpd-api-bench: $p is not installed (tests/install-deps.sh)" >&2; exit 1; }
done
[ -x "$build/outpost-httpd" ] && [ -x "$build/outpostctl" ] ||
    { echo "httpd-api-bench: build outpost-httpd and outpostctl first" >&2; exit 1; }
dir=$(mktemp -d /tmp/httpd-api-bench.XXXXXX)
chmod 755 "$dir"
base=$((20000 + $$ % 20000))
hport=$base aport=$((base + 1)) mport=$((base + 2))
cleanup() {
    [ -f "$dir/httpd.pid" ] && kill "$(cat "$dir/httpd.pid")" 2>/dev/null
    redis-cli -s "$dir/r.sock" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.2
    [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 777 --save '' \
    --daemonize yes --pidfile "$dir/r.pid" --logfile "$dir/redis.log"
for _ in $(seq 50); do [ -S "$dir/r.sock" ] && break; sleep 0.1; done
head -c 32 /dev/urandom | base64 >"$dir/secret"
chown nobody "$dir/secret"
chmod 600 "$dir/secret"
cat >"$dir/o.conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$dir/r.sock
[intake]
secret_file = $dir/secret
[httpd]
listen = 127.0.0.1:$hport
api_listen = 127.0.0.1:$aport
metrics_listen = 127.0.0.1:$mport
threads = ${HTTPD_THREADS:-2}
[tenant bench]
domains = shop.test
api_rate = 1000000/s
api_burst = 1000000
EOF
"$build/outpost-httpd" -f -c "$dir/o.conf" >"$dir/httpd.log" 2>&1 &
echo $! >"$dir/httpd.pid"
api=http://127.0.0.1:$aport
for _ in $(seq 50); do curl -s -o /dev/null "$api/" && break; sleep 0.1; done
key=$("$build/outpostctl" -c "$dir/o.conf" apikey create bench 2>/dev/null)
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H "Authorization: Bearer $key" "$api/v1/suppressions/alice@gmail.test")
[ "$code" = 200 ] || { echo "httpd-api-bench: PUT answered $code" >&2; cat "$dir/httpd.log" >&2; exit 1; }

ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; printf "%.2f", n }'
}
echo "host: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "wrk: 2 threads, $conns connections, ${secs}s"
out=$(wrk -t2 -c"$conns" -d"${secs}s" --latency -H "Authorization: Bearer $key" \
      "$api/v1/suppressions/alice@gmail.test")
printf 'GET /v1/suppressions/ADDRESS: %s req/s   p50 %s ms   p99 %s ms%s\n' \
    "$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")" \
    "$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")" \
    "$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")" \
    "$(awk '/Non-2xx or 3xx/ { print "   errors " $NF }' <<<"$out")"
awk -v n="$rows" 'BEGIN { for (i = 0; i < n; i++) printf "bulk%07d@gmail.test,manual,,,,\n", i }' >"$dir/rows.csv"
t0=$(date +%s.%N)
res=$(curl -s -X POST -H "Authorization: Bearer $key" --data-binary "@$dir/rows.csv" "$api/v1/suppressions:import")
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v n="$rows" -v r="$res" 'BEGIN {
    printf "POST /v1/suppressions:import of %d rows (%.1f MB): %.2f s, %d rows/s; answer %s\n",
        n, n * 31 / 1e6, b - a, n / (b - a), r }'
echo "outpost-httpd's memory after: $(awk '/^VmHWM/ { print $2, $3 }' "/proc/$(cat "$dir/httpd.pid")/status") at most"
