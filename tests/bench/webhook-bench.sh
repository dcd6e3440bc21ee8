#!/bin/bash
# webhook-bench.sh - events/s that outpost-webhookd posts to a local receiver
#
# Starts a private redis-server (unix socket), writes EVENTS events (each with
# the fields logd writes for a delivery, about 250 bytes) to the streams of
# TENANTS tenants, then starts outpost-webhookd and tests/bench/webhook-sink
# (a C receiver on libevent's evhttp that answers 204 and adds up the
# Outpost-Event-Count headers, so that the receiver is not what is measured)
# and times how long it takes until the sink has counted every event and the
# consumer groups have nothing pending.  One batch per tenant is in flight at
# a time (the rule that keeps each tenant's order): with one tenant the figure
# is that of one ordered stream.
#
# SCHEME https posts to the sink over TLS (a self-signed certificate for
# 127.0.0.1, given as [webhookd] ca_file).  The run is made once for each
# [webhookd] keepalive_idle in KEEPALIVE (default "0 30s": a connection, over
# TLS a handshake, per POST as before keepalive_idle existed, then kept
# connections), each with its figures: events/s, batches/s, the daemon's CPU
# per batch, and the connections (handshakes) the sink took.
#
# Target: >= 20,000 events/s.
# Usage: [KEEPALIVE="0 30s"] tests/bench/webhook-bench.sh [EVENTS [TENANTS [BATCH [SCHEME]]]]
#        (default 200000, 1, 100 = [webhookd] batch_events' default, http)
# Needs redis-server, redis-cli (and openssl for https); run as root (the daemon
# drops to nobody) or as any user (it then stays that user).  Prints figures;
# asserts nothing.
set -eu
events=${1:-200000}
tenants=${2:-1}
batch=${3:-100}
scheme=${4:-http}
case $scheme in http | https) ;; *) echo "webhook-bench: SCHEME is http or https" >&2; exit 2 ;; esac
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$src/build}
[ -x "$build/outpost-webhookd" ] || build=$src
for p in redis-server redis-cli; do
    command -v "$p" >/dev/null || { echo "webhook-bench: $p is not installed (tests/install-deps.sh)" >&2; exit 1; }
done
[ -x "$build/outpost-webhookd" ] && [ -x "$build/tests/bench/webhook-sink" ] ||
    { echo "webhook-bench: build outpost-webhookd and tests/bench/webhook-sink first (make)" >&2; exit 1; }
dir=$(mktemp -d /tmp/webhook-bench.XXXXXX)
chmod 755 "$dir"
# ports of our own, away from the defaults of a running relay
base=$((20000 + $$ % 20000))
sport=$base mport=$((base + 1))
cleanup() {
    [ -f "$dir/webhookd.pid" ] && kill "$(cat "$dir/webhookd.pid")" 2>/dev/null
    [ -f "$dir/sink.pid" ] && kill "$(cat "$dir/sink.pid")" 2>/dev/null
    redis-cli -s "$dir/r.sock" shutdown nosave >/dev/null 2>&1 || true
    sleep 0.2
    [ -n "${KEEP:-}" ] && echo "kept $dir" || rm -rf "$dir"
}
trap cleanup EXIT
now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

redis-server --port 0 --unixsocket "$dir/r.sock" --unixsocketperm 777 --save '' \
    --daemonize yes --pidfile "$dir/r.pid" --logfile "$dir/redis.log"
for _ in $(seq 50); do [ -S "$dir/r.sock" ] && break; sleep 0.1; done
rcli() { redis-cli -s "$dir/r.sock" "$@"; }

user=nobody
[ "$(id -u)" = 0 ] || user=$(id -un)
head -c 32 /dev/urandom | base64 >"$dir/secret"
chmod 644 "$dir/secret"
sink_tls=() url=http://127.0.0.1:$sport/hook ca=
if [ "$scheme" = https ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -keyout "$dir/sink.key" -out "$dir/sink.pem" -subj /CN=127.0.0.1 \
        -addext 'subjectAltName = IP:127.0.0.1' 2>/dev/null ||
        { echo "webhook-bench: openssl cannot make a certificate" >&2; exit 1; }
    chmod 644 "$dir/sink.key" "$dir/sink.pem"
    sink_tls=("$dir/sink.pem" "$dir/sink.key")
    url=https://127.0.0.1:$sport/hook ca="ca_file = $dir/sink.pem"
fi
per=$((events / tenants))
total=$((per * tenants))
echo "webhook-bench: $total events in $tenants stream(s), batch_events $batch, $scheme"

# run KEEPALIVE - one timed run with [webhookd] keepalive_idle = KEEPALIVE
run() {
    {
        cat <<EOF
[general]
user = $user
node = bench
[redis]
server = unix:$dir/r.sock
prefix = b:
[webhookd]
batch_events = $batch
keepalive_idle = $1
$ca
metrics_listen = 127.0.0.1:$mport
EOF
        for ((t = 1; t <= tenants; t++)); do
            printf '[tenant t%d]\ndomains = t%d.example\nwebhook_url = %s\nwebhook_secret_file = %s\n' \
                "$t" "$t" "$url" "$dir/secret"
        done
    } >"$dir/o.conf"

    # the events, written by a script on the server (fast, and none of it is timed)
    rcli FLUSHALL >/dev/null
    for ((t = 1; t <= tenants; t++)); do
        rcli EVAL "for i = 1, tonumber(ARGV[1]) do
            redis.call('XADD', KEYS[1], 'MAXLEN', '~', '1000000', '*', 'type', 'delivered',
              'time', '1765000000000', 'rcpt', 'recipient' .. i .. '@gmail.example',
              'sender', 't.example', 'msgid', '<' .. i .. '.20261206@mail.t.example>',
              'qid', '4Xc' .. i .. 'Zq', 'campaign', 'december', 'provider', 'google',
              'pool', 'warm1', 'dsn', '2.0.0',
              'reply', '250 2.0.0 OK 1765000000 a1-20020a05600c000000b0041b1b1b1b1si123456wmb.1 - gsmtp')
          end" 1 "b:{ev:t$t}:s" "$per" >/dev/null
    done

    rm -f "$dir/count" "$dir/count.conns"
    "$build/tests/bench/webhook-sink" 127.0.0.1 "$sport" "$dir/count" "${sink_tls[@]}" &
    echo $! >"$dir/sink.pid"
    for _ in $(seq 50); do [ -s "$dir/count" ] && break; sleep 0.1; done

    t0=$(now_ms)
    "$build/outpost-webhookd" -f -c "$dir/o.conf" 2>"$dir/webhookd.log" &
    echo $! >"$dir/webhookd.pid"
    while :; do
        n=$(cat "$dir/count" 2>/dev/null || echo 0)
        [ "$n" -ge "$total" ] && break
        if ! kill -0 "$(cat "$dir/webhookd.pid")" 2>/dev/null; then
            echo "webhook-bench: outpost-webhookd stopped:" >&2
            cat "$dir/webhookd.log" >&2
            exit 1
        fi
        sleep 0.02
    done
    t1=$(now_ms)
    ms=$((t1 - t0 > 0 ? t1 - t0 : 1))
    # the daemon's own CPU time (user + system, clock ticks): a figure that the
    # other loads of a shared machine do not change
    read -r -a st <"/proc/$(cat "$dir/webhookd.pid")/stat"
    cpu_ms=$(( (st[13] + st[14]) * 1000 / $(getconf CLK_TCK) ))
    pending=0
    for ((t = 1; t <= tenants; t++)); do
        p=$(rcli XPENDING "b:{ev:t$t}:s" webhook | head -n1)
        pending=$((pending + p))
    done
    page=$(curl -s "http://127.0.0.1:$mport/metrics" 2>/dev/null)
    batches=$(awk '/^outpost_webhook_batches_total/ { s += $2 } END { print s + 0 }' <<<"$page")
    opened=$(awk '/^outpost_webhook_connections_total/ { s += $2 } END { print s + 0 }' <<<"$page")
    sleep 0.2				# the sink writes its counts every 100 ms
    taken=$(cat "$dir/count.conns" 2>/dev/null || echo 0)
    echo "webhook-bench: keepalive_idle = $1:"
    echo "webhook-bench:   $n events received in $ms ms (from the daemon's start):" \
        "$((total * 1000 / ms)) events/s, $((batches * 1000 / ms)) batches/s"
    echo "webhook-bench:   outpost-webhookd used $cpu_ms ms of CPU:" \
        "$((total * 1000 / (cpu_ms > 0 ? cpu_ms : 1))) events per CPU-second," \
        "$((cpu_ms * 1000 / (batches > 0 ? batches : 1))) us of CPU per batch" \
        "(load average $(cut -d' ' -f1 /proc/loadavg))"
    echo "webhook-bench:   $batches batches answered 2xx so far, on $opened connections opened" \
        "(the sink took $taken); $pending still pending (acknowledged after the sink counted)"
    kill "$(cat "$dir/webhookd.pid")" "$(cat "$dir/sink.pid")" 2>/dev/null
    for _ in $(seq 50); do
        kill -0 "$(cat "$dir/webhookd.pid")" 2>/dev/null ||
            kill -0 "$(cat "$dir/sink.pid")" 2>/dev/null || break
        sleep 0.1
    done
    rm -f "$dir/webhookd.pid" "$dir/sink.pid"
}

for k in ${KEEPALIVE:-0 30s}; do
    run "$k"
done
echo "webhook-bench: receiver: tests/bench/webhook-sink (C, libevent evhttp, 204," \
    "no signature check${ca:+, TLS})"
