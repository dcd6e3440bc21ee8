#!/bin/bash
# httpd-bench.sh - outpost-httpd's tracked links (/c/) and open pixel (/o/)
# against nginx answering a static 302, in the same run, on this host
#
# Starts a private redis-server (unix socket), outpost-httpd on 127.0.0.1
# with that Redis, and nginx (nginx-light) with one location that returns a
# fixed 302 (the floor of an HTTP redirect here), then loads each with wrk
# (keep-alive, CONNS connections, 2 threads) for SECONDS and prints requests/s
# and latency percentiles.  Every /c/ and /o/ request decodes and checks a
# real token and queues a count, which the worker writes to Redis; the
# counts written are printed too, and the dropped ones (queue full).
#
# Under each run, "CPU per request": the CPU time (user + system, all
# threads, from /proc/PID/stat) outpost-httpd, Redis and nginx spent during
# it, over the requests wrk counted, in microseconds, and the commands
# Redis ran per request (INFO commandstats, those of scripts included).
# On a shared host the rate moves with the load; these do not, or much
# less: compare them between builds.  At the end, every command Redis ran,
# its calls and microseconds per call.  For a profile, run perf record -g
# -p $(cat /tmp/httpd-bench.*/httpd.pid) while a run lasts.
#
# Each run also prints the CPU time the host took from this machine while it
# lasted ("steal", /proc/stat: a virtual machine's processors descheduled by
# its host): a tail latency measured during steal is the host's, for nginx
# and outpost-httpd alike.  ROUNDS=N repeats nginx, /c/ and /o/ N times,
# interleaved, and judges by the medians over the rounds.
#
# Targets: >= 20,000 redirects/s, p99 < 5 ms, >= 0.5x nginx.
# Usage: tests/bench/httpd-bench.sh [SECONDS [CONNS]]   (default 10, 64;
#        HTTPD_THREADS=N for [httpd] threads, default 2; ROUNDS=N, default 1)
# BENCH_PIN=1 keeps the load generator off the servers' processor: wrk on the
# last CPU, outpost-httpd, Redis and nginx on the others (taskset), both
# servers alike; [httpd] threads and nginx's workers then default to that count.
# Needs redis-server, nginx, wrk; run as root (outpost-httpd drops to nobody).
# Prints figures; asserts nothing.
set -eu
secs=${1:-10}
conns=${2:-64}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$src/build}
[ -x "$build/outpost-httpd" ] || build=$src
for p in redis-server nginx wrk; do
    command -v "$p" >/dev/null || { echo "httpd-bench: $p is not installed (tests/install-deps.sh)" >&2; exit 1; }
done
[ -x "$build/outpost-httpd" ] && [ -x "$build/tests/lib/webtoken-mint" ] ||
    { echo "httpd-bench: build outpost-httpd and tests/lib/webtoken-mint first (make check)" >&2; exit 1; }
# SRV and LOAD: the command prefixes that put a program on the servers' or the
# load's processors (taskset execs it: the pid stays the program's)
ncpu=$(nproc)
SRV=() LOAD=() workers=2 pinned="not pinned"
if [ "${BENCH_PIN:-0}" = 1 ] && [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
    SRV=(taskset -c "0-$((ncpu - 2))") LOAD=(taskset -c "$((ncpu - 1))") workers=$((ncpu - 1))
    pinned="pinned: servers on CPU 0-$((ncpu - 2)), wrk on CPU $((ncpu - 1))"
fi
dir=$(mktemp -d /tmp/httpd-bench.XXXXXX)
chmod 755 "$dir"
# ports of our own, away from the defaults of a running relay
base=$((20000 + $$ % 20000))
hport=$base nport=$((base + 1)) mport=$((base + 2))
cleanup() {
    [ -f "$dir/httpd.pid" ] && kill "$(cat "$dir/httpd.pid")" 2>/dev/null
    [ -f "$dir/nginx.pid" ] && kill "$(cat "$dir/nginx.pid")" 2>/dev/null
    redis-cli -s "$dir/r.sock" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.2
    [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT

"${SRV[@]}" redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 777 --save '' \
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
metrics_listen = 127.0.0.1:$mport
threads = ${HTTPD_THREADS:-$workers}
[provider google]
domains = gmail.test
EOF
ua="Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
url='https://shop.test/landing?utm_source=mail&utm_campaign=spring&id=42'
ctok=$("$build/tests/lib/webtoken-mint" "$dir/secret" c 3600 alice@gmail.test shop.test \
    '<20261206.1234@shop.test>' spring 3 "$url")
otok=$("$build/tests/lib/webtoken-mint" "$dir/secret" o 3600 alice@gmail.test shop.test \
    '<20261206.1234@shop.test>' spring 0 -)
"${SRV[@]}" "$build/outpost-httpd" -f -c "$dir/o.conf" >"$dir/httpd.log" 2>&1 &
echo $! >"$dir/httpd.pid"

mkdir -p "$dir/nginx"
cat >"$dir/nginx.conf" <<EOF
worker_processes $workers;
pid $dir/nginx.pid;
error_log $dir/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/nginx;
    proxy_temp_path $dir/nginx;
    fastcgi_temp_path $dir/nginx;
    uwsgi_temp_path $dir/nginx;
    scgi_temp_path $dir/nginx;
    server {
        listen 127.0.0.1:$nport;
        location / { return 302 $url; }
    }
}
EOF
"${SRV[@]}" nginx -c "$dir/nginx.conf" -g 'daemon on;'
for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$hport/" && curl -s -o /dev/null "http://127.0.0.1:$nport/" && break
    sleep 0.1
done
code=$(curl -s -o /dev/null -w '%{http_code} %{redirect_url}' "http://127.0.0.1:$hport/c/$ctok")
[ "$code" = "302 $url" ] || { echo "httpd-bench: /c/ answered '$code'" >&2; cat "$dir/httpd.log" >&2; exit 1; }

# ms VALUE - wrk's "1.23ms", "850.00us", "1.02s" in milliseconds
ms() {
    awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u);
        if (u == "us") n /= 1000; else if (u == "s") n *= 1000; printf "%.2f", n }'
}
# ticks PID... - the CPU time (user + system, every thread) of processes, in
# clock ticks; a process gone counts nothing
ticks() {
    local p t=0 f
    for p in "$@"; do
        # the fields after the command's name, which ends at the last ")"
        f=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null) || continue
        set -- $f
        t=$((t + ${12} + ${13}))
    done
    echo "$t"
}
# steal - the CPU time the host has taken from this machine so far, in clock
# ticks (the steal column of /proc/stat's first line)
steal() {
    awk '$1 == "cpu" { print $9 + 0; exit }' /proc/stat
}
# rcalls - the commands Redis has run so far (those of scripts included)
rcalls() {
    redis-cli -s "$dir/r.sock" INFO commandstats |
        awk -F'[=,:]' '/^cmdstat_/ { n += $3 } END { print n + 0 }'
}
# run NAME URL - one wrk run; prints a line with its req/s and latency, and
# one with the CPU each server spent per request (their CPU seconds, from
# /proc, over the requests served: a figure that does not depend on how busy
# the machine is), and sets RPS
run() {
    local out rps p50 p99 reqs h0 r0 n0 c0 s0 h1 r1 n1 c1 s1
    h0=$(ticks "$hpid") r0=$(ticks "$rpid") n0=$(ticks $npids) c0=$(rcalls) s0=$(steal)
    # a browser's agent: a person's click, counted as unique once per message
    out=$("${LOAD[@]}" wrk -t2 -c"$conns" -d"${secs}s" --latency -H "User-Agent: $ua" "$2")
    # the worker writes a batch at most 100 ms after its first count
    sleep 0.3
    h1=$(ticks "$hpid") r1=$(ticks "$rpid") n1=$(ticks $npids) c1=$(rcalls) s1=$(steal)
    rps=$(awk '/^Requests\/sec:/ { printf "%d", $2 }' <<<"$out")
    reqs=$(awk '/ requests in / { print $1 }' <<<"$out")
    p50=$(ms "$(awk '$1 == "50%" { print $2 }' <<<"$out")")
    p99=$(ms "$(awk '$1 == "99%" { print $2 }' <<<"$out")")
    non2=$(awk '/Non-2xx or 3xx/ { print $NF }' <<<"$out")
    printf '%-34s %9s req/s   p50 %6s ms   p99 %6s ms%s\n' "$1" "$rps" "$p50" "$p99" \
        "${non2:+   errors $non2}"
    awk -v q="$reqs" -v hz="$hz" -v h=$((h1 - h0)) -v r=$((r1 - r0)) -v n=$((n1 - n0)) \
        -v c=$((c1 - c0 - 1)) -v st=$((s1 - s0)) 'BEGIN { if (q <= 0) q = 1; u = 1e6 / hz / q;
        printf "%-34s httpd %6.2f us/req   Redis %6.2f us/req (%.4f commands/req)   nginx %6.2f us/req   host steal %d ms\n",
            "  CPU per request:", h * u, r * u, c / q, n * u, st * 1000 / hz }'
    RPS=$rps P99=$p99 STEAL=$(((s1 - s0) * 1000 / hz))
}
hz=$(getconf CLK_TCK)
hpid=$(cat "$dir/httpd.pid") rpid=$(cat "$dir/r.pid")
npids=$(ps -o pid= --ppid "$(cat "$dir/nginx.pid")")
echo "host: $(nproc) CPUs, $(uname -r), load average $(cut -d' ' -f1-3 /proc/loadavg);" \
     "wrk: 2 threads, $conns connections, ${secs}s each;" \
     "$pinned"
echo "token: /c/ ${#ctok} characters, /o/ ${#otok}"
# nginx before and after: on a shared machine the load drifts; the mean is the reference
rounds=${ROUNDS:-1}
n_rps=() c_rpss=() c_p99s=() o_p99s=() n_p99s=() stolen=0
for r in $(seq "$rounds"); do
    [ "$rounds" -gt 1 ] && echo "round $r of $rounds"
    run "nginx: static 302" "http://127.0.0.1:$nport/"
    n_rps+=("$RPS") n_p99s+=("$P99") stolen=$((stolen + STEAL))
    run "outpost-httpd: /c/ (302 + click)" "http://127.0.0.1:$hport/c/$ctok"
    c_rpss+=("$RPS") c_p99s+=("$P99") stolen=$((stolen + STEAL))
    run "outpost-httpd: /o/ (GIF + open)" "http://127.0.0.1:$hport/o/$otok"
    o_p99s+=("$P99") stolen=$((stolen + STEAL))
done
run "nginx: static 302, again" "http://127.0.0.1:$nport/"
n_rps+=("$RPS") n_p99s+=("$P99") stolen=$((stolen + STEAL))
# median VALUE... - the middle value (the mean of the two middle ones)
median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
nginx_rps=$(printf '%s\n' "${n_rps[@]}" | awk '{ t += $1 } END { printf "%d", t / NR }')
c_rps=$(median "${c_rpss[@]}") c_rps=${c_rps%.*} c_p99=$(median "${c_p99s[@]}")
if [ "$rounds" -gt 1 ]; then
    echo "medians over $rounds rounds: /c/ $c_rps req/s p99 $c_p99 ms; /o/ p99 $(median "${o_p99s[@]}") ms;" \
         "nginx p99 $(median "${n_p99s[@]}") ms; host steal $stolen ms in all"
fi
sleep 1
metrics=$(curl -s "http://127.0.0.1:$mport/metrics")
written=$(awk '/^outpost_httpd_events_written_total/ { print $2 }' <<<"$metrics")
dropped=$(awk '/^outpost_httpd_events_dropped_total/ { print $2 }' <<<"$metrics")
echo "counts written to Redis: $written, dropped (queue full): $dropped"
# what Redis ran for the counts (the sample's own INFO calls left out)
redis-cli -s "$dir/r.sock" INFO commandstats | tr -d '\r' |
    awk -F'[=,:]' '/^cmdstat_/ && $1 != "cmdstat_info" && $1 != "cmdstat_ping" {
        sub(/^cmdstat_/, "", $1);
        printf "%s%s %d calls %.2f us/call", (n++ ? "; " : "Redis commands: "), $1, $3, $7 }
        END { if (n) print "" }'
echo "clicks in Redis: $(redis-cli -s "$dir/r.sock" HGET 'outpost:{st}:total' 'shop.test|google|-|clicks')," \
     "opens: $(redis-cli -s "$dir/r.sock" HGET 'outpost:{st}:total' 'shop.test|google|-|opens')"
awk -v c="$c_rps" -v n="$nginx_rps" -v p="$c_p99" 'BEGIN {
    printf "redirects: %d/s (target >= 20000), p99 %.2f ms (target < 5), %.2fx nginx'"'"'s mean (target >= 0.5)\n",
        c, p, (n > 0 ? c / n : 0) }'
