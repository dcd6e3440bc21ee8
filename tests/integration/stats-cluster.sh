#!/bin/bash
# stats-cluster.sh - statistics spread over a Redis Cluster (three masters) give the
# same figures as one Redis for the same log (TAP):
#   - two outpost-logd follow one log, one writing to a single Redis, one to a
#     cluster: outpostctl stats and the Prometheus totals are the same;
#   - on the cluster, the senders' counters are in several slots, on several
#     masters, each sender's in one bucket ({st:B}), and no {st}:total is written;
#   - the cluster's follower is killed -9 in the middle of a batch (the master of
#     one sender's bucket frozen, so that its counts wait as pending): after a
#     restart every line is counted once, still the single Redis' figures.
#
# Run as root: tests/integration/stats-cluster.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source=../lib/cluster.sh
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"
redis_single_only "it starts a single Redis and a cluster of its own"
redis_start
# masters only; a frozen master must not be failed over (no replica) nor make the
# cluster refuse commands while the test holds it
CLUSTER_NODES=3 CLUSTER_REPLICAS=0 CLUSTER_NODE_TIMEOUT=60000
cluster_start
N1=$((CLUSTER_PORT0 + 1))

log=$WORLD_TMP/mail.log
# conf_for NAME SERVER-LINE PORT - a configuration for one follower
conf_for() {
    cat >"$WORLD_DIR/$1.conf" <<EOF
[general]
user = nobody
node = n1
[redis]
$2
prefix = t:
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[logd]
maillog = $log
start_at = beginning
metrics_listen = 127.0.0.1:$3
poll_interval = 20ms
flush_interval = 50ms
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
EOF
}
conf_for single "server = unix:$REDIS_SOCK" 9461
conf_for cluster "cluster = $(cluster_seeds)" 9462

# msg N SENDER STATUS - the lines of one message
msg() {
    local q; q=$(printf 'B%09X' "$1")
    local ts; ts=$(date '+%b %e %H:%M:%S')
    local to="u$1@gmail.test" mx=mx.gmail.test
    if (($1 % 3 == 0)); then to="u$1@outlook.test" mx=mx.outlook.test; fi
    printf '%s relay postfix/qmgr[9]: %s: from=<news@%s>, size=100, nrcpt=1 (queue active)\n' "$ts" "$q" "$2"
    case $3 in
    sent) printf '%s relay postfix/smtp[10]: %s: to=<%s>, relay=%s[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n' "$ts" "$q" "$to" "$mx" ;;
    bounced) printf '%s relay postfix/smtp[10]: %s: to=<%s>, relay=%s[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host %s[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))\n' "$ts" "$q" "$to" "$mx" "$mx" ;;
    esac
    printf '%s relay postfix/qmgr[9]: %s: removed\n' "$ts" "$q"
}
# batch FROM TO [SENDER] - messages FROM..TO from s(N%8).test (or SENDER), every 10th bounced
batch() {
    local i s st
    for ((i = $1; i <= $2; i++)); do
        s=${3:-s$((i % 8)).test}
        st=sent; ((i % 10 == 0)) && st=bounced
        msg "$i" "$s" "$st"
    done
}
# stats WHICH BY - outpostctl stats --json of one Redis, without its time stamps
stats() {
    "$CTL_BIN" -c "$WORLD_DIR/$1.conf" stats --by "$2" --json |
        "$PYTHON" -c 'import json,sys
d=json.load(sys.stdin)
def strip(o):
    if isinstance(o, dict): return {k: strip(v) for k, v in o.items() if k != "since"}
    if isinstance(o, list): return [strip(v) for v in o]
    return o
print(json.dumps(strip(d), sort_keys=True))'
}
total_of() { stats "$1" provider | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["total"][sys.argv[1]])' "$2"; }
totals_are() { [ "$(total_of single delivered)/$(total_of cluster delivered)" = "$1/$1" ]; }
# cluster_lines PORT - the outpost_cluster_* samples of a metrics page, sorted
cluster_lines() {
    "$PYTHON" -c 'import urllib.request,sys; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read().decode())' "$1" |
        grep '^outpost_cluster_' | sort
}
# same_figures - both Redis give the same stats (three groupings) and Prometheus totals
same_figures() {
    local by
    for by in sender provider pool; do [ "$(stats single $by)" = "$(stats cluster $by)" ] || return 1; done
    [ "$(cluster_lines 9461)" = "$(cluster_lines 9462)" ]
}

batch 1 400 >"$log"
chmod 644 "$log"
world_spawn logd-s "$LOGD_BIN" -f -c "$WORLD_DIR/single.conf"
world_spawn logd-c "$LOGD_BIN" -f -c "$WORLD_DIR/cluster.conf"
ok 'wait_until 20 totals_are 360' "both followers counted 360 deliveries"
ok 'wait_until 10 same_figures' "outpostctl stats (by sender, provider, pool) and the Prometheus totals agree"
is "$(stats cluster sender | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["rows"]))')" 8 \
    "eight senders in the cluster's figures"
is "$(cluster_lines 9462 | grep -c 'outpost_cluster_delivered_total{.*sender="s[0-7].test"')" 16 \
    "Prometheus: the cluster's deliveries per sender and provider (8 x 2)"

# --- where the counters are: per sender one bucket, the buckets on several masters
# placement - "SENDER KEY SLOT MASTER" for each sender's total on the cluster
placement() {
    local p k s
    for p in $(cluster_masters); do
        for k in $(cluster_cli "$p" --scan --pattern 't:{st:*}:total'); do
            for s in $(cluster_cli "$p" HKEYS "$k" | cut -d'|' -f1 | sort -u); do
                echo "$s $k $(cluster_cli "$p" CLUSTER KEYSLOT "$k") $p"
            done
        done
    done | sort
}
pl=$(placement)
is "$(printf '%s\n' "$pl" | awk '{print $1}' | sort -u | wc -l)/$(printf '%s\n' "$pl" | wc -l)" "8/8" \
    "each of the 8 senders' totals is in one key"
ok '[ "$(printf "%s\n" "$pl" | awk "{print \$3}" | sort -u | wc -l)" -ge 2 ]' \
    "the senders' counters are in more than one slot: $(printf '%s\n' "$pl" | awk '{print $3}' | sort -u | paste -sd' ')"
ok '[ "$(printf "%s\n" "$pl" | awk "{print \$4}" | sort -u | wc -l)" -ge 2 ]' \
    "and on more than one master: $(printf '%s\n' "$pl" | awk '{print $4}' | sort -u | paste -sd' ')"
hour=$(date -u +%Y%m%d%H)
k=$(printf '%s\n' "$pl" | awk '$1 == "s1.test" {print $2}')
is "$(redis-cli -c -h "$CLUSTER_HOST" -p "$N1" HGET "${k%:total}:h:$hour" 's1.test|google|-|delivered')" \
    "$(redis_cli HGET "t:{st}:h:$hour" 's1.test|google|-|delivered')" \
    "s1.test's hour on the cluster (${k%:total}:h:$hour) holds the single Redis' count"
is "$(redis-cli -c -h "$CLUSTER_HOST" -p "$N1" EXISTS 't:{st}:total')" 0 "no {st}:total on the cluster"
is "$(redis-cli -c -h "$CLUSTER_HOST" -p "$N1" XLEN 't:{st}:events')" "$(redis_cli XLEN 't:{st}:events')" \
    "the event stream (one, in {st}) has as many entries as on the single Redis"

# --- kill -9 in the middle of a batch -------------------------------------------------
# a sender whose bucket's master is not {st}'s: frozen, its counts wait as pending
st_master=$(cluster_owner "$(cluster_cli "$N1" CLUSTER KEYSLOT 't:{st}:events')")
frozen=$(printf '%s\n' "$pl" | awk -v m="$st_master" '$4 != m {print $4; exit}')
a=$(printf '%s\n' "$pl" | awk -v m="$frozen" '$4 == m {print $1; exit}')
b=$(printf '%s\n' "$pl" | awk -v m="$frozen" '$4 != m {print $1; exit}')
isnt "$a/$b" "/" "$a's bucket is on master $frozen, {st} on $st_master, $b's elsewhere"
pending() { [ "$(cluster_cli "$st_master" EXISTS 't:{st}:logd:n1:pending')" = 1 ]; }
no_pending() { ! pending; }
failed() { grep -q 'redis: writing statistics' "$WORLD_DIR/log/logd-c.log"; }
cluster_kill "$frozen" STOP
{ batch 401 460 "$a"; batch 461 520 "$b"; } >>"$log"
ok 'wait_until 20 pending' "a batch of $a's and $b's lines waits as pending in {st}"
ok 'wait_until 20 failed' "while the write to the frozen master fails"
world_kill logd-c KILL
cluster_kill "$frozen" CONT
said=$(wc -l <"$WORLD_DIR/log/logd-c.log")       # what the killed follower said
single_is() { [ "$(total_of single delivered)" = "$1" ]; }
ok 'wait_until 20 single_is 468' "the single Redis counted the new lines (468 delivered)"
world_spawn logd-c "$LOGD_BIN" -f -c "$WORLD_DIR/cluster.conf"
ok 'wait_until 20 totals_are 468' "after the restart: 468 delivered on both"
ok 'tail -n +$((said + 1)) "$WORLD_DIR/log/logd-c.log" | grep -q "finishing the batch .* that an earlier attempt left half written"' \
    "the restarted follower finished the half-written batch"
ok 'wait_until 10 no_pending' "and dropped the pending hash"
ok 'wait_until 10 same_figures' "every line counted once: the same figures as the single Redis"
is "$(stats cluster sender | "$PYTHON" -c 'import json,sys
rows={r["name"]:r for r in json.load(sys.stdin)["rows"]}; print(rows[sys.argv[1]]["delivered"], rows[sys.argv[2]]["delivered"])' "$a" "$b")" \
    "$(stats single sender | "$PYTHON" -c 'import json,sys
rows={r["name"]:r for r in json.load(sys.stdin)["rows"]}; print(rows[sys.argv[1]]["delivered"], rows[sys.argv[2]]["delivered"])' "$a" "$b")" \
    "$a and $b: the single Redis' deliveries"
done_testing
