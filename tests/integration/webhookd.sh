#!/bin/bash
# webhookd.sh - outpost-webhookd posts each tenant's events to its webhook: every
# event arrives, in stream order, through a receiver that answers 500, hangs
# (timeout) or is down (refused) for a while; the signature verifies; a kill -9
# with a batch in flight loses nothing; Redis paused loses nothing; an event past
# webhook_retry lands in the dead-letter stream and "outpostctl webhooks replay
# --dead" posts it (one replayed twice keeps its first id); "replay --since" posts
# again; another node's unacknowledged events are taken over; one node of two
# posts, the other takes over when it dies; events trimmed from the stream while
# they wait are neither posted nor counted as sent nor dead-lettered; a node that
# lost its lease takes no new events; https with a test CA (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
WEBHOOKD_BIN=${WEBHOOKD_BIN:-$OUTPOST_BUILDDIR/outpost-webhookd}
RECEIVER=$OUTPOST_SRCDIR/tests/helpers/webhook-receiver.py
need_programs "$WEBHOOKD_BIN" "$CTL_BIN" /usr/bin/curl /usr/bin/openssl

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/webhook.secret
echo "whsec-$RANDOM$RANDOM" >"$secret"
echo "a second line that is not the secret" >>"$secret"
chmod 600 "$secret"
rx=$WORLD_TMP/rx late=$WORLD_TMP/late tlsrx=$WORLD_TMP/tlsrx badrx=$WORLD_TMP/badrx
mkdir -p "$rx" "$late" "$tlsrx" "$badrx"
tls_cert hooks hooks.test
tls_cert selfsigned bad.test self
cat >"$conf" <<CONF
[general]
user = nobody
node = t1
[redis]
$REDIS_CONF_SERVER
prefix = op:
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[webhookd]
batch_events = 7
request_timeout = 1s
backoff_min = 50ms
backoff_max = 400ms
poll_interval = 50ms
claim_idle = 1s
ca_file = $WORLD_TMP/ca.pem
metrics_listen = 127.0.0.1:9436
[tenant shop]
domains = shop.test
webhook_url = http://127.0.0.1:8090/hooks/outpost?src=relay
webhook_secret_file = $secret
webhook_retry = 1h
[tenant late]
domains = late.test
webhook_url = http://127.0.0.1:8091/
webhook_secret_file = $secret
webhook_retry = 10m
[tenant claim]
domains = claim.test
webhook_url = http://127.0.0.1:8091/claimed
webhook_secret_file = $secret
[tenant sure]
domains = sure.test
webhook_url = https://hooks.test:8443/in
webhook_secret_file = $secret
[tenant bad]
domains = bad.test
webhook_url = https://bad.test:8444/in
webhook_secret_file = $secret
[tenant quiet]
domains = quiet.test
CONF
# the second node: the same but for its name and metrics port
conf2=$WORLD_DIR/node2.conf
sed -e 's/^node = t1$/node = t2/' -e 's/^metrics_listen = 127.0.0.1:9436$/metrics_listen = 127.0.0.1:9437/' \
    "$conf" >"$conf2"
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
mode() { echo "$2" >"$1/mode"; }
# metric NAME LABELS - a sample, summed over the pages of both nodes
metric() {
    { curl -s http://127.0.0.1:9436/metrics; curl -s http://127.0.0.1:9437/metrics; } |
        awk -v m="$1{$2}" '{ k = $1; sub(/node="[^"]*",/, "", k) }
            k == m { n++; s += $2 } END { if (n) print s }'
}
# node_metric PORT NAME LABELS - a sample of one node's page
node_metric() {
    curl -s "http://127.0.0.1:$1/metrics" |
        awk -v m="$2{$3}" '{ k = $1; sub(/node="[^"]*",/, "", k) } k == m { print $2 }'
}
metric_at_least() { [ "$(metric "$1" "$2")" -ge "$3" ] 2>/dev/null; }
# add TENANT N - XADD N events, recipients r0..r4 in turn
seq_no=0
add() {
    local i
    for ((i = 0; i < $2; i++)); do
        seq_no=$((seq_no + 1))
        redis_cli XADD "op:{ev:$1}:s" MAXLEN '~' 1000000 '*' type delivered \
            time "$(_now_ms)" rcpt "r$((seq_no % 5))@gmail.test" sender "$1.test" \
            msgid "m$seq_no" >/dev/null
    done
}
# received DIR - the ids of the events answered 200, one a line, in arrival order
received() {
    [ -s "$1/log" ] && "$PYTHON" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["answer"] == "200":
        for e in r["events"]:
            print(e[0])' "$1/log"
}
# all_in DIR TENANT - every entry of the tenant's stream was answered 200
all_in() {
    [ -z "$(comm -23 <(redis_cli XRANGE "op:{ev:$2}:s" - + | grep -E '^[0-9]+-[0-9]+$' | sort) \
        <(received "$1" | sort -u))" ]
}
# answered DIR ANSWER N - at least N requests were answered so
answered() { [ -s "$1/log" ] && [ "$(grep -c "\"answer\": \"$2\"" "$1/log")" -ge "$3" ]; }
pending() { redis_cli XPENDING "op:{ev:$1}:s" webhook | head -n1; }
start_webhookd() {
    world_spawn webhookd "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/webhookd.notify" \
        tcp:127.0.0.1:9436 -- "$WEBHOOKD_BIN" -f -c "$conf"
}
# start_rx DIR PORT [CERT KEY] - a receiver
start_rx() { world_spawn "rx$2" "$PYTHON" "$RECEIVER" 127.0.0.1 "$2" "$1" "$secret" "${@:3}"; }

dns_a hooks.test 127.0.0.1
dns_a bad.test 127.0.0.1
dns_start
redis_start
"$WEBHOOKD_BIN" -n -c "$conf" >"$WORLD_TMP/check" 2>&1
is "$?:$(cat "$WORLD_TMP/check")" "0:$conf: configuration OK (5 tenants with a webhook)" \
    "outpost-webhookd -n accepts the configuration and counts the tenants with a webhook"
sed 's/^webhook_secret_file = .*/webhook_secret_file = \/nonexistent/' "$conf" >"$WORLD_TMP/bad.conf"
"$WEBHOOKD_BIN" -n -c "$WORLD_TMP/bad.conf" >/dev/null 2>"$WORLD_TMP/err"
like "$?:$(cat "$WORLD_TMP/err")" '^1:.*webhook_secret_file /nonexistent' "an unreadable secret: exit 1, named"

start_rx "$rx" 8090
start_rx "$late" 8091
start_rx "$tlsrx" 8443 "$WORLD_TMP/hooks.pem" "$WORLD_TMP/hooks.key"
start_rx "$badrx" 8444 "$WORLD_TMP/selfsigned.pem" "$WORLD_TMP/selfsigned.key"
ok 'wait_until 10 _listening tcp 127.0.0.1 8090 && wait_until 10 _listening tcp 127.0.0.1 8444' \
    "the receivers listen"

# --- events written before the daemon ever ran are posted too
add shop 10
# and events that another node read and never acknowledged (it died)
redis_cli XGROUP CREATE "op:{ev:claim}:s" webhook 0 MKSTREAM >/dev/null
add_batch claim 3
redis_cli XREADGROUP GROUP webhook gone COUNT 10 STREAMS "op:{ev:claim}:s" '>' >/dev/null
start_webhookd
ok 'wait_until 10 grep -qs "^READY=1" "$WORLD_DIR/log/webhookd.notify"' "READY=1 arrives"
like "$(grep -m1 '^READY=1' "$WORLD_DIR/log/webhookd.notify")" 'pid=main sockets=ok' \
    "from the main process, once its metrics endpoint listens"
wpid=$(pgrep -f "^$WEBHOOKD_BIN -f -c $conf" | head -n1)
is "$(awk '/^Uid:/ { print $2, $3 }' "/proc/$wpid/status")" "$(id -u nobody) $(id -u nobody)" \
    "it runs as [general] user, not root"
ok 'wait_until 10 all_in "$rx" shop' "the events written before it started arrive"
add shop 20
ok 'wait_until 10 all_in "$rx" shop' "new events arrive"
ok 'wait_until 10 all_in "$late" claim' "the events another node left pending are taken over first"
is "$(redis_cli XPENDING "op:{ev:claim}:s" webhook | head -n1)" 0 "and acknowledged"
first=$(head -n1 "$rx/log")
like "$first" '"sig": true' "the first request's signature verifies"
like "$first" '"ctype": "application/json"' "Content-Type: application/json"
"$PYTHON" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    assert int(r["count"]) == len(r["events"]) and 1 <= len(r["events"]) <= 7, r
' "$rx/log" 2>"$WORLD_TMP/err"
is "$?:$(tail -n1 "$WORLD_TMP/err")" "0:" "Outpost-Event-Count says each batch's events; batch_events bounds it"

# --- the receiver answers 500 for a while
mode "$rx" 500
add shop 15
ok 'wait_until 10 answered "$rx" 500 3' "500 answers: the batch is posted again"
mode "$rx" ok
ok 'wait_until 10 all_in "$rx" shop' "after the 500s, every event arrives"
ok 'metric_at_least outpost_webhook_failures_total "tenant=\"shop\",kind=\"status\"" 3' \
    "counted as failures of kind status"

# --- the receiver hangs: timeouts
mode "$rx" hang
add shop 15
ok 'wait_until 15 metric_at_least outpost_webhook_failures_total "tenant=\"shop\",kind=\"timeout\"" 2' \
    "a hanging receiver: failures of kind timeout"
mode "$rx" ok
ok 'wait_until 10 all_in "$rx" shop' "after the timeouts, every event arrives"

# --- the receiver answers a byte at a time: the whole POST is timed, not each read
mode "$rx" drip
timeouts=$(metric outpost_webhook_failures_total 'tenant="shop",kind="timeout"')
add shop 5
ok "wait_until 15 metric_at_least outpost_webhook_failures_total 'tenant=\"shop\",kind=\"timeout\"' $((timeouts + 2))" \
    "a receiver that never finishes its answer: failures of kind timeout"
mode "$rx" ok
ok 'wait_until 10 all_in "$rx" shop' "after that, every event arrives"

# --- the receiver is down: connection refused
world_kill rx8090
add shop 15
ok 'wait_until 10 metric_at_least outpost_webhook_failures_total "tenant=\"shop\",kind=\"refused\"" 2' \
    "a receiver that is down: failures of kind refused"
like "$(ctl webhooks status)" 'connection refused' "outpostctl webhooks status shows the last error"
start_rx "$rx" 8090
ok 'wait_until 10 all_in "$rx" shop' "after the refusals, every event arrives"

# --- kill -9 with a batch in flight, then a restart
mode "$rx" hang
n_before=$(wc -l <"$rx/log")
add shop 12
ok 'wait_until 10 eval "[ \$(wc -l <$rx/log) -gt $n_before ]"' "a batch is in flight (the receiver holds it)"
wpid=$(pgrep -f "^$WEBHOOKD_BIN -f -c $conf" | head -n1)
kill -KILL "$wpid"
ok 'wait_until 5 eval "! kill -0 $wpid 2>/dev/null"' "outpost-webhookd killed -9 mid-batch"
mode "$rx" ok
ok '[ "$(pending shop)" -gt 0 ]' "its batch is still pending in the consumer group"
start_webhookd
ok 'wait_until 10 all_in "$rx" shop' "after the restart, every event arrives"

# --- a second node waits; the first killed -9 mid-batch, it takes over
world_spawn webhookd2 "$WEBHOOKD_BIN" -f -c "$conf2"
holder() { [ "$(node_metric "$1" outpost_webhook_holder 'tenant="shop"')" = "$2" ]; }
ok 'wait_until 10 holder 9437 0 && holder 9436 1' "a second node starts and waits: the first holds the tenant"
add shop 5
ok 'wait_until 10 all_in "$rx" shop' "events arrive, from the first"
mode "$rx" hang
n_before=$(wc -l <"$rx/log")
add shop 9
ok 'wait_until 10 eval "[ \$(wc -l <$rx/log) -gt $n_before ]"' "a batch is in flight on the first node"
wpid=$(pgrep -f "^$WEBHOOKD_BIN -f -c $conf" | head -n1)
kill -KILL "$wpid"
ok 'wait_until 5 eval "! kill -0 $wpid 2>/dev/null"' "the first node killed -9 mid-batch"
mode "$rx" ok
ok 'wait_until 10 holder 9437 1' "the second node takes the tenant over once the lease lapsed (claim_idle)"
ok 'wait_until 10 all_in "$rx" shop' "every event arrives, the first node's batch in flight too"
start_webhookd
ok 'wait_until 10 holder 9436 0' "the first node, back, waits: the second keeps the tenant"
add shop 5
ok 'wait_until 10 all_in "$rx" shop' "events arrive, from the second"

# --- Redis paused for longer than command_timeout
redis_pause
sleep 1
redis_resume
add shop 10
ok 'wait_until 10 all_in "$rx" shop' "after Redis was away, every event arrives"

# --- the rules: in order, at least once, twice only after a hang, over both nodes
"$PYTHON" - "$rx/log" >"$WORLD_TMP/rules" 2>&1 <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])]
errs = []
if not all(r["sig"] for r in reqs):
    errs.append("a signature did not verify")
ok = [e for r in reqs if r["answer"] == "200" for e in r["events"]]
ids = [tuple(map(int, e[0].split("-"))) for e in ok]
if len(set(ids)) != len(ids):
    errs.append("an event was answered 200 twice")
if ids != sorted(ids):
    errs.append("the events answered 200 are not in stream order")
# per recipient too (implied by the above; said on its own)
by = {}
for e in ok:
    by.setdefault(e[1], []).append(tuple(map(int, e[0].split("-"))))
for rcpt, l in by.items():
    if l != sorted(l):
        errs.append("out of order for " + rcpt)
# an event the receiver took twice (answered 200, or held) was in a request that timed
# out the first time (held, or answered a byte at a time)
seen = {}
for r in reqs:
    if r["answer"] == "500":
        continue
    for e in r["events"]:
        if e[0] in seen and seen[e[0]] not in ("hang", "drip"):
            errs.append("%s taken twice, first answered %s" % (e[0], seen[e[0]]))
        seen.setdefault(e[0], r["answer"])
held = sum(1 for r in reqs if r["answer"] in ("hang", "drip"))
print("%d requests, %d held, %d events answered 200" % (len(reqs), held, len(ok)))
print("\n".join(errs))
PY
is "$(sed -n '2,$p' "$WORLD_TMP/rules")" "" \
    "in stream order, none answered 200 twice, a repeat only after a held request ($(head -n1 "$WORLD_TMP/rules"))"
lag_zero() { [ "$(metric outpost_webhook_lag 'tenant="shop"')" = 0 ]; }
ok 'wait_until 5 lag_zero' "the lag gauge comes back to 0"
is "$(pending shop)" 0 "nothing left pending"
ok 'metric_at_least outpost_webhook_events_sent_total "tenant=\"shop\"" 10' \
    "events_sent_total counts the events answered 200 (since the restart)"

if command -v promtool >/dev/null; then
    out=$(curl -s http://127.0.0.1:9436/metrics | promtool check metrics 2>&1)
    is "$?:$out" "0:" "promtool check metrics accepts the page"
fi

undocumented=$(curl -s http://127.0.0.1:9436/metrics | awk '$1 == "#" && $2 == "TYPE" { print $3 }' |
    while read -r f; do grep -q "^| \`$f\` |" "$OUTPOST_SRCDIR/doc/METRICS.md" || echo "$f"; done)
is "$undocumented" "" "every family of the page is in doc/METRICS.md"

# --- dead letters: an event older than webhook_retry that fails
mode "$late" 500
old=$(( $(_now_ms) - 3600000 ))
redis_cli XADD "op:{ev:late}:s" "$old-0" type bounced time "$old" rcpt old@gmail.test \
    sender late.test class hard >/dev/null
add late 1
dead_len() { [ "$(redis_cli XLEN "op:{ev:late}:dead")" = "$1" ]; }
ok 'wait_until 10 dead_len 1' \
    "an event written before webhook_retry that fails goes to the dead-letter stream"
like "$(redis_cli XRANGE "op:{ev:late}:dead" - + | tr '\n' ' ')" "id $old-0 error HTTP status 500 type bounced" \
    "with its id, the error and its fields"
ok 'wait_until 5 metric_at_least outpost_webhook_dead_lettered_total "tenant=\"late\"" 1' "counted"
mode "$late" ok
young=$(redis_cli XREVRANGE "op:{ev:late}:s" + - COUNT 1 | head -n1)
young_in() { received "$late" | grep -qx "$young"; }
ok 'wait_until 10 young_in' "the younger event after it goes on once the receiver answers"
ok '! received "$late" | grep -q "^$old-0$"' "not the dead one"
ctl webhooks status --json >"$WORLD_TMP/status.json"
is "$("$PYTHON" -c '
import json, sys
d = {t["tenant"]: t for t in json.load(open(sys.argv[1]))["tenants"]}
print(sorted(d), d["late"]["dead"], d["shop"]["lag"], d["shop"]["url"].startswith("http://127"),
      d["late"]["last_error"], d["shop"]["node"])' "$WORLD_TMP/status.json")" \
    "['bad', 'claim', 'late', 'shop', 'sure'] 1 0 True HTTP status 500 t2" \
    "webhooks status --json: the tenants with a webhook, dead count, lag, URL, last error, node"
is "$(ctl webhooks replay late --dead)" "1 dead-lettered event of late queued again" \
    "webhooks replay --dead moves it back"
is "$(redis_cli XLEN "op:{ev:late}:dead")" 0 "the dead-letter stream is empty"
ok 'wait_until 10 grep -q "\"$old-0\"\]" "$late/log"' \
    "the dead event is posted again, with its old id as replayed"

# --- replay --since: the stream's events after an id, again
mid=$(received "$rx" | sed -n 50p)
before=$(received "$rx" | wc -l)
after_mid=$(redis_cli XRANGE "op:{ev:shop}:s" "($mid" + | grep -cE '^[0-9]+-[0-9]+$')
is "$(ctl webhooks replay shop --since "$mid")" "the events of shop after $mid will be posted again" \
    "webhooks replay --since"
received_n() { [ "$(received "$rx" | wc -l)" -eq "$1" ]; }
ok "wait_until 10 received_n $((before + after_mid))" "the $after_mid events after it arrive again"
out=$(ctl webhooks replay nosuch --dead 2>&1); rc=$?
like "$rc:$out" '^2:.*no \[tenant nosuch\]' "an unknown tenant: exit 2"

# --- https: the test CA of [webhookd] ca_file is trusted, a self-signed one is not
add sure 5
ok 'wait_until 10 all_in "$tlsrx" sure' "over https with the CA of ca_file, every event arrives"
add bad 2
ok 'wait_until 10 metric_at_least outpost_webhook_failures_total "tenant=\"bad\",kind=\"tls\"" 1' \
    "a certificate no CA signed: failures of kind tls"
ok '[ ! -e "$badrx/log" ]' "and nothing of that tenant was received"
like "$(ctl webhooks status)" 'certificate verify failed' "status says why"

# --- events trimmed from the stream (MAXLEN) while their batch waits are not posted nor sent
claim_metric() { metric "outpost_webhook_$1" 'tenant="claim"'; }
# add_batch TENANT N - N events in one command: read in one batch
add_batch() {
    redis_cli EVAL "for i = 1, ARGV[1] do redis.call('XADD', KEYS[1], '*', 'type', 'delivered',
        'time', ARGV[2], 'rcpt', 'b' .. i .. '@gmail.test') end" 1 "op:{ev:$1}:s" "$2" "$(_now_ms)" >/dev/null
}
sent0=$(claim_metric events_sent_total) batches0=$(claim_metric batches_total)
mode "$late" 500
add_batch claim 4
ok 'wait_until 10 eval "[ \"\$(pending claim)\" = 4 ]"' "a batch of 4 fails and waits"
gone=$(redis_cli XRANGE "op:{ev:claim}:s" - + | grep -E '^[0-9]+-[0-9]+$' | tail -n4 | head -n2)
# shellcheck disable=SC2086 # two IDs
is "$(redis_cli XDEL "op:{ev:claim}:s" $gone)" 2 "two of them are trimmed while it waits"
mode "$late" ok
ok 'wait_until 10 eval "[ \"\$(pending claim)\" = 0 ]"' "two of them trimmed: the batch goes on"
is "$(tail -n1 "$late/log" | "$PYTHON" -c 'import json, sys; r = json.load(sys.stdin); print(r["count"], len(r["events"]))')" \
    "2 2" "Outpost-Event-Count counts the events posted, not the trimmed ones"
is "$(($(claim_metric events_sent_total) - sent0))" 2 "events_sent_total does not count the trimmed ones"
mode "$late" 500
add_batch claim 3
ok 'wait_until 10 eval "[ \"\$(pending claim)\" = 3 ]"' "a batch of 3 fails and waits"
redis_cli XTRIM "op:{ev:claim}:s" MAXLEN 0 >/dev/null
ok 'wait_until 10 eval "[ \"\$(pending claim)\" = 0 ]"' "all trimmed: acknowledged with nothing to post"
is "$(($(claim_metric events_sent_total) - sent0)) $(($(claim_metric batches_total) - batches0))" \
    "2 1" "nor counted as sent, nor as a batch answered 2xx"
like "$(cat "$WORLD_DIR"/log/webhookd*.log)" 'tenant claim: 3 events were trimmed' "and logged"
mode "$late" ok

# --- an event past webhook_retry trimmed while its batch was in flight leaves no dead letter
redis_cli DEL "op:{ev:late}:s" >/dev/null
late_group() { redis_cli XINFO GROUPS "op:{ev:late}:s" 2>/dev/null | grep -qx webhook; }
ok 'wait_until 10 late_group' "a stream deleted: its consumer group is made again"
mode "$late" hang
held=$(grep -c '"answer": "hang"' "$late/log")
old=$(( $(_now_ms) - 3600000 ))
redis_cli XADD "op:{ev:late}:s" "$old-0" type bounced time "$old" rcpt gone@gmail.test >/dev/null
ok "wait_until 10 answered '$late' hang $((held + 1))" "an old event's batch is in flight"
redis_cli XDEL "op:{ev:late}:s" "$old-0" >/dev/null
ok 'wait_until 10 eval "[ \"\$(pending late)\" = 0 ]"' "trimmed meanwhile, it is acknowledged when the POST fails"
is "$(redis_cli XLEN "op:{ev:late}:dead")" 0 "with no dead letter: nothing is left to post again"
mode "$late" ok

# --- an event replayed twice (it went dead again) keeps one replayed: its first id
redis_cli XADD "op:{ev:late}:dead" '*' id 1733500000999-0 error "HTTP status 500" type bounced \
    time 1733500000000 rcpt twice@gmail.test replayed 1733500000000-0 >/dev/null
is "$(ctl webhooks replay late --dead)" "1 dead-lettered event of late queued again" "replayed again"
is "$(redis_cli XREVRANGE "op:{ev:late}:s" + - COUNT 1 | sed 1d | paste -sd' ')" \
    "type bounced time 1733500000000 rcpt twice@gmail.test replayed 1733500000000-0" \
    "with one field replayed, the id it was first written with"

# --- a node that thinks it holds a tenant while another holds its lease takes nothing new
redis_cli SET "op:{ev:shop}:lease" intruder PX 4000 >/dev/null
add shop 3
intruded=$(redis_cli XREVRANGE "op:{ev:shop}:s" + - COUNT 3 | grep -E '^[0-9]+-[0-9]+$')
ok 'wait_until 10 eval "holder 9436 0 && holder 9437 0"' "both nodes see the lease is another's"
is "$(redis_cli XPENDING "op:{ev:shop}:s" webhook | head -n1)" 0 "neither took the new events"
is "$(received "$rx" | grep -cxF "$intruded")" 0 "nor posted them"
ok 'wait_until 15 all_in "$rx" shop' "once that lease lapsed, they arrive"

# --- both stop cleanly on SIGTERM, and a sanitizer build said nothing
world_kill webhookd
world_kill webhookd2
logs=$(cat "$WORLD_DIR/log/webhookd.log" "$WORLD_DIR/log/webhookd2.log")
like "$logs" 'info: stopping' "SIGTERM stops them"
unlike "$logs" 'Sanitizer|runtime error' "no sanitizer report in their logs"
done_testing
