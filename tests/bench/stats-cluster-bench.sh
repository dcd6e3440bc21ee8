#!/bin/bash
# stats-cluster-bench.sh - the statistics on a single Redis and on a Redis Cluster of
# three masters (16 sender buckets, doc/REDIS-KEYS.md), in the same run:
#   - outpost-logd following a log of MESSAGES messages from SENDERS sender domains
#     (a position kept: the exactly-once batch), time to read it all;
#   - outpost-logd -r over the same log (no position: the batches without a guard);
#   - outpostctl stats --by sender --since 7d (193 hours of every bucket), the
#     median of 9 runs.
#
# Usage (as root, from the build directory):
#     ../tests/bench/stats-cluster-bench.sh [MESSAGES] [SENDERS]   # default 100000 200
# Starts its own test world; prints figures, asserts nothing.
export OUTPOST_BUILDDIR=${OUTPOST_BUILDDIR:-$PWD}
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"
n=${1:-100000}
senders=${2:-200}
redis_single_only "it starts a single Redis and a cluster of its own"
redis_start
CLUSTER_NODES=3 CLUSTER_REPLICAS=0 cluster_start

log=$WORLD_TMP/mail.log
"$PYTHON" - "$n" "$senders" >"$log" <<'PY'
import sys, time
n, senders = int(sys.argv[1]), int(sys.argv[2])
w = sys.stdout.write
ts = time.strftime("%b %e %H:%M:%S")
for i in range(n):
    q = "B%09X" % i
    s = "shop%d.test" % (i % senders)
    d = ("gmail.test", "outlook.test", "yahoo.test")[i % 3]
    w("%s relay postfix/qmgr[9]: %s: from=<news@%s>, size=2048, nrcpt=1 (queue active)\n" % (ts, q, s))
    if i % 10 == 3:
        st = "dsn=5.1.1, status=bounced (host mx.%s[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))" % d
    else:
        st = "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)"
    w("%s relay postfix/smtp[10]: %s: to=<user%d@%s>, relay=mx.%s[127.0.0.11]:25, delay=0.12, delays=0.01/0/0.05/0.06, %s\n" % (ts, q, i, d, d, st))
    w("%s relay postfix/qmgr[9]: %s: removed\n" % (ts, q))
PY
chmod 644 "$log"
size=$(stat -c %s "$log")
# conf_for NAME SERVER-LINE PREFIX
conf_for() {
    cat >"$WORLD_DIR/$1.conf" <<EOF
[general]
user = nobody
node = n1
[redis]
$2
prefix = $3
[logd]
maillog = $log
start_at = beginning
poll_interval = 20ms
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
EOF
}
conf_for single "server = unix:$REDIS_SOCK" f:
conf_for cluster "cluster = $(cluster_seeds)" f:
conf_for single-r "server = unix:$REDIS_SOCK" r:
conf_for cluster-r "cluster = $(cluster_seeds)" r:
now_ms() { date +%s%3N; }
# offset_of WHICH - the follower's saved offset
offset_of() {
    if [ "$1" = single ]; then redis_cli HGET 'f:{st}:logd:n1' offset
    else redis-cli -c -h "$CLUSTER_HOST" -p "$((CLUSTER_PORT0 + 1))" HGET 'f:{st}:logd:n1' offset; fi
}
read_all() { [ "$(offset_of "$1")" = "$size" ]; }
echo "# $(nproc) cores, redis $(redis-server --version | cut -d' ' -f3), $(date -u +%F)"
echo "# log: $(wc -l <"$log") lines, $n messages from $senders sender domains"
for w in single cluster; do
    t0=$(now_ms)
    world_spawn "logd-$w" "$LOGD_BIN" -f -c "$WORLD_DIR/$w.conf"
    wait_until 600 read_all "$w" || echo "# $w: not read in 600 s"
    t1=$(now_ms)
    world_kill "logd-$w"
    echo "# $w: follower (position kept) read it in $((t1 - t0)) ms: $((n * 3000 / (t1 - t0 + 1))) lines/s"
done
for w in single cluster; do
    echo "# $w: outpost-logd -r: $("$LOGD_BIN" -c "$WORLD_DIR/$w-r.conf" -r "$log" 2>/dev/null | sed 's/.* ms /ms /')"
done
for w in single cluster; do
    for i in 1 2 3 4 5 6 7 8 9; do
        t0=$(now_ms)
        "$CTL_BIN" -c "$WORLD_DIR/$w.conf" stats --by sender --since 7d --json >"$WORLD_TMP/$w.json"
        echo $(($(now_ms) - t0))
    done | sort -n | sed -n 5p >"$WORLD_TMP/$w.ms"
    echo "# $w: outpostctl stats --by sender --since 7d: median $(cat "$WORLD_TMP/$w.ms") ms"
done
same=different
cmp -s <("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["total"])' "$WORLD_TMP/single.json") \
    <("$PYTHON" -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["total"])' "$WORLD_TMP/cluster.json") && same="the same"
echo "# totals on both: $same"
pass "bench ran"
done_testing
