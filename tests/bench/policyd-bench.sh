#!/bin/bash
# policyd-bench.sh - decisions per second and latency of outpost-policyd, and of
# postfwd with an equivalent per-domain rule, under the same load (prints figures)
#
# Usage (root; from the build directory or with OUTPOST_BUILDDIR set):
#     tests/bench/policyd-bench.sh [CONNECTIONS [DOMAINS [SECONDS]]]
#
# Runs in a private network namespace (tests/lib/world.sh): dnsmasq answers MX
# records for the recipient domains (one in four is hosted by a big provider, so
# provider grouping is exercised), Redis listens on the same host, and the load
# generator tests/bench/policy-load keeps CONNECTIONS persistent connections busy
# with RCPT requests for DOMAINS recipient domains.  Both servers enforce a rate
# per recipient domain high enough that every request is accepted (with
# BENCH_DOMAIN_RATE=1/m BENCH_DOMAIN_BURST=1 nearly every request is refused, so the
# refusal path and its statistics command are measured); outpost-policyd also
# charges a per-provider rate.  Then the same outpost-policyd against a Redis
# Cluster of three masters (and three replicas) started in the namespace, with
# the same load (BENCH_CLUSTER=0 leaves it out).  Nothing is asserted: the
# figures are printed.
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/cluster.sh"
WORLD_TIMEOUT=${WORLD_TIMEOUT:-600}
world_start "$@"
conns=${1:-64} domains=${2:-1000} seconds=${3:-10}
load=$OUTPOST_BUILDDIR/tests/bench/policy-load
need_programs "$POLICYD_BIN" "$load"

# DNS: every fourth domain is Google-hosted, the rest have no MX record of a provider
for ((i = 0; i < domains; i += 4)); do dns_mx "d$i.bench.test" aspmx.l.google.com 10; done
dns_start
redis_start

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[policy]
listen = unix:$WORLD_DIR/run/policy.sock, inet:127.0.0.1:10040
domain_rate = ${BENCH_DOMAIN_RATE:-1000/s}
domain_burst = ${BENCH_DOMAIN_BURST:-1000}
[provider google]
rate = 1000000/s
burst = 1000
EOF
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
wait_until 5 test -S "$WORLD_DIR/run/policy.sock" || BAIL_OUT "policyd did not start"
# fill the MX cache and load the script, then measure
"$load" -c "$conns" -d "$domains" -t 1 -w 0 "unix:$WORLD_DIR/run/policy.sock" >/dev/null
echo "# outpost-policyd, unix socket, $conns connections, $domains domains, ${seconds}s:"
"$load" -c "$conns" -d "$domains" -t "$seconds" "unix:$WORLD_DIR/run/policy.sock" |
    tee "$WORLD_DIR/policyd.unix"
echo "# outpost-policyd, TCP 127.0.0.1:10040, same load:"
"$load" -c "$conns" -d "$domains" -t "$seconds" inet:127.0.0.1:10040 | tee "$WORLD_DIR/policyd.inet"
echo "# CPU time used: policyd $(ps -o cputime= -p "$(world_pid policyd)")," \
    "redis $(ps -o cputime= -p "$(_pidfile "$WORLD_DIR/redis/redis.pid")")"
world_kill policyd

if [ "${BENCH_CLUSTER:-1}" != 0 ]; then
    cluster_start
    sed -e "s|^server = unix:.*|cluster = $(cluster_seeds)|" \
        -e "s|^listen = .*|listen = unix:$WORLD_DIR/run/policy-cluster.sock|" "$conf" \
        >"$WORLD_DIR/cluster.conf"
    world_spawn policyd-cluster "$POLICYD_BIN" -f -c "$WORLD_DIR/cluster.conf"
    wait_until 5 test -S "$WORLD_DIR/run/policy-cluster.sock" ||
        BAIL_OUT "policyd (cluster) did not start"
    "$load" -c "$conns" -d "$domains" -t 1 -w 0 "unix:$WORLD_DIR/run/policy-cluster.sock" >/dev/null
    echo "# outpost-policyd on a Redis Cluster (3 masters + 3 replicas), unix socket, same load:"
    "$load" -c "$conns" -d "$domains" -t "$seconds" "unix:$WORLD_DIR/run/policy-cluster.sock" |
        tee "$WORLD_DIR/policyd.cluster"
    p=$(sed -n 's/.*decisions_per_s=\([0-9]*\).*/\1/p' "$WORLD_DIR/policyd.unix")
    q=$(sed -n 's/.*decisions_per_s=\([0-9]*\).*/\1/p' "$WORLD_DIR/policyd.cluster")
    [ -n "$p" ] && [ "${p:-0}" -gt 0 ] && echo "# cluster / single Redis: $((q * 100 / p))%"
    world_kill policyd-cluster
fi

if command -v postfwd2 >/dev/null; then
    # postfwd: one child per connection (Net::Server::PreFork), a rate per domain
    echo 'id=DOMRATE; action=rate(recipient_domain/1000/1/DEFER_IF_PERMIT 4.7.1 domain rate exceeded)' \
        >"$WORLD_DIR/postfwd.cf"
    # (it must daemonize: with --nodaemon its rate() has no cache daemon)
    postfwd2 --daemon -f "$WORLD_DIR/postfwd.cf" -i 127.0.0.1 -p 10045 \
        -u nobody -g nogroup --min_servers "$conns" --max_servers $((conns + 4)) \
        --min_spare_servers 0 --max_spare_servers "$conns" \
        --pidfile "$WORLD_DIR/run/postfwd.pid" </dev/null >"$WORLD_DIR/log/postfwd.log" 2>&1
    wait_until 20 _listening tcp 127.0.0.1 10045 || BAIL_OUT "postfwd did not start"
    sleep 3   # let the pre-forked children come up
    echo "# postfwd2 $(postfwd2 --version 2>&1 | head -1 | cut -d' ' -f2), TCP, same load:"
    "$load" -c "$conns" -d "$domains" -t "$seconds" inet:127.0.0.1:10045 |
        tee "$WORLD_DIR/postfwd.inet"
    kill "$(cat "$WORLD_DIR/run/postfwd.pid")" 2>/dev/null   # the rest is swept at teardown
    p=$(sed -n 's/.*decisions_per_s=\([0-9]*\).*/\1/p' "$WORLD_DIR/policyd.unix")
    q=$(sed -n 's/.*decisions_per_s=\([0-9]*\).*/\1/p' "$WORLD_DIR/postfwd.inet")
    [ -n "$q" ] && [ "$q" -gt 0 ] && echo "# outpost-policyd (unix) / postfwd: $((p / q))x"
fi
exit 0
