#!/bin/bash
# logd-counts.sh - outpost-logd reads a real Postfix log: a known mix of
# deliveries, 5xx bounces, 4xx deferrals and expiries through the private
# Postfix gives exact counts per sender domain, provider and pool; a sink
# answering 421 4.7.28 puts the provider into backoff; outpostctl stats,
# backoff list/clear and the Prometheus endpoint show it; a restart resumes
# without counting twice.  A log of mail through a content filter (amavis on
# 127.0.0.1:10024), read with -r: the hop to the filter counts and backs off
# gmail until [logd] filter_relays names it.
#
# Run as root: tests/integration/logd-counts.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_mx shop.test mx.shop.test 10           # bounces come back here
dns_a mx.shop.test 127.0.0.13
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_rule gmail 'nobody*@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule gmail 'busy@gmail.test' '421 4.7.28 Our system has detected an unusual rate of unsolicited mail'
sink_start outlook 127.0.0.12
sink_rule outlook 'full@outlook.test' '452 4.2.2 The recipient mailbox is full'
sink_start shop 127.0.0.13

# one try only: every deferral expires at once (status=expired)
postfix_conf 'maximal_queue_lifetime = 0' 'bounce_queue_lifetime = 0' \
    'default_transport = warm1'
postfix_master 'warm1 unix - - n - - smtp -o syslog_name=postfix/warm1'
postfix_start

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
prefix = t:
[logd]
maillog = $MAILLOG
start_at = beginning
metrics_listen = 127.0.0.1:9432
poll_interval = 50ms
flush_interval = 100ms
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
[pool warm1]
transport = warm1
EOF
out=$("$LOGD_BIN" -n -c "$conf" 2>&1)
like "$out" "configuration OK \(9 backoff rules\)" "outpost-logd -n checks the file and the built-in rules"
printf 'google 4.7.28 * 1h\n' >"$WORLD_TMP/bad.rules"
printf '[logd]\nbackoff_rules = %s\n' "$WORLD_TMP/bad.rules" >"$WORLD_TMP/bad.conf"
out=$("$LOGD_BIN" -n -c "$WORLD_TMP/bad.conf" 2>&1); rc=$?
is "$rc" 1 "a bad rules file is refused"
like "$out" "bad.rules:1: expected" "with file and line"

# --- a known mix: 6 sent (4 gmail, 2 outlook), 3 bounced, 2 expired -------
for i in 1 2 3 4; do send_mail "news@shop.test" "user$i@gmail.test"; done
send_mail "news@shop.test" "a@outlook.test,b@outlook.test"
send_mail "news@shop.test" "nobody1@gmail.test,nobody2@gmail.test"
send_mail "promo@Other.Test" "nobody3@gmail.test"
send_mail "news@shop.test" "full@outlook.test"
send_mail "news@shop.test" "busy@gmail.test"      # alone: a 421 ends the session
ok 'sink_wait gmail 4' "4 messages at the gmail sink"
ok 'sink_wait outlook 1' "the outlook sink got its message"
ok 'maillog_wait "busy@gmail.test.*status=deferred"' "the 421 is logged"
ok 'postfix_wait_queue_empty 30' "every message left the queue (sent, bounced or expired)"
chmod 644 "$MAILLOG"

world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is expired 2' "the follower caught up"
j=$(stats_json provider)
is "$(stats_field "$j" TOTAL delivered)" 6 "delivered: 6"
is "$(stats_field "$j" TOTAL bounced)" 3 "bounced: 3"
is "$(stats_field "$j" TOTAL bounced_hard)" 3 "all three hard"
is "$(stats_field "$j" TOTAL deferred)" 2 "deferred attempts: 2"
is "$(stats_field "$j" TOTAL expired)" 2 "expired: 2"
is "$(stats_field "$j" TOTAL backoff)" 1 "one backoff started"
is "$(stats_field "$j" google delivered)/$(stats_field "$j" google bounced)/$(stats_field "$j" google expired)" \
    "4/3/1" "google: 4 delivered, 3 bounced, 1 expired"
is "$(stats_field "$j" microsoft delivered)/$(stats_field "$j" microsoft expired)" "2/1" \
    "microsoft: 2 delivered, 1 expired"
like "$(stats_field "$j" TOTAL reasons)" "'userunknown': 3" "bounce reason userunknown: 3"
j=$(stats_json sender)
is "$(stats_field "$j" shop.test delivered)/$(stats_field "$j" shop.test bounced)" "6/2" "shop.test: 6 delivered, 2 bounced"
is "$(stats_field "$j" other.test bounced)" 1 "other.test (sender domain lower-cased): 1 bounced"
is "$(stats_field "$j" shop.test bounce_flag_24h)" bad "a 25% bounce rate is flagged bad"
j=$(stats_json pool)
is "$(stats_field "$j" warm1 delivered)" 6 "every delivery went through pool warm1"
is "$(redis_cli XLEN 't:{st}:events')" 11 "11 delivery attempts (6 sent, 3 bounced, 2 deferred) in the event stream"
like "$(redis_cli XREVRANGE 't:{st}:events' + - COUNT 20 | tr '\n' ' ')" \
    "rcpt nobody3@gmail.test sender other.test relay mx.gmail.test\[127.0.0.11\] provider google pool warm1 status bounced dsn 5.1.1" \
    "an event names recipient, sender, relay, provider, pool, status and DSN"

# --- backoff ---------------------------------------------------------------
out=$("$CTL_BIN" -c "$conf" backoff list)
like "$out" "google +warm1 +60/m .*421 4.7.28 Our system" "backoff list: google on warm1 at 60/m, with the reply"
is "$(redis_cli HGET 't:{rl}:backoff:google:warm1' interval_ms)" 1000 "the key policyd reads: one per 1000 ms"
ttl=$(redis_cli TTL 't:{rl}:backoff:google:warm1')
ok '[ "$ttl" -gt 3600 ] && [ "$ttl" -le 3660 ]' "its TTL ends a minute after the backoff ($ttl s)"

# --- Prometheus --------------------------------------------------------------
metrics=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9432/metrics").read().decode())')
N='node="[^"]+"'
like "$metrics" "outpost_logd_deliveries_total\\{$N,sender=\"shop.test\",provider=\"google\",pool=\"warm1\",outcome=\"delivered\"\\} 4" \
    "metrics: this node's deliveries per sender, provider, pool and outcome"
like "$metrics" "outpost_cluster_delivered_total\\{$N,sender=\"shop.test\",provider=\"google\",pool=\"warm1\"\\} 4" \
    "metrics: the cluster's total, in a family of its own"
like "$metrics" "outpost_cluster_bounce_reasons_total\\{$N,provider=\"google\",reason=\"userunknown\"\\} 3" "metrics: bounces by reason"
like "$metrics" "outpost_cluster_backoffs_active\\{$N,provider=\"google\",pool=\"warm1\"\\} 1" "metrics: the backoff"
like "$metrics" "outpost_cluster_bounce_ratio\\{$N,sender=\"shop.test\",window=\"24h\"\\} 0.25" "metrics: 24h bounce ratio"
like "$metrics" "outpost_logd_lines_total\\{$N,result=\"garbage\"\\} 0" "metrics: no garbage in a real log"
like "$metrics" "outpost_logd_filter_lines_total\\{$N\\} 0" "metrics: no line to a content filter"
ok '[ "$(printf "%s\n" "$metrics" | grep -c "^# TYPE outpost_cluster_delivered_total ")" = 1 ]' "one TYPE line per metric family"
if command -v promtool >/dev/null; then
    is "$(printf '%s\n' "$metrics" | promtool check metrics 2>&1)" "" "promtool check metrics finds nothing to say"
fi

# --- restart: resumes, counts nothing twice ------------------------------------
world_kill logd
send_mail "news@shop.test" "late@gmail.test"
ok 'maillog_wait "late@gmail.test.*status=sent"' "one more delivery while the follower is down"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is delivered 7' "after the restart: 7 delivered"
sleep 0.3
j=$(stats_json provider)
is "$(stats_field "$j" TOTAL bounced)/$(stats_field "$j" TOTAL expired)" "3/2" "and nothing counted twice"

out=$("$CTL_BIN" -c "$conf" backoff clear google)
is "$out" "cleared 1 backoff" "backoff clear google"
is "$("$CTL_BIN" -c "$conf" backoff list)" "no backoff in force" "backoff list is empty again"
# --- a content filter: the hop to amavis is not a delivery ----------------------
# filter_log - one message through amavis (127.0.0.1:10024) and delivered to
# gmail under the queue id amavis re-injected it as; another that the filter
# defers with a 4xx that reads like gmail's "slow down"
filter_log() {
    local now
    now=$(date '+%b %e %H:%M:%S')
    printf '%s relay postfix/qmgr[9]: F000000001: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$now"
    printf '%s relay postfix/smtp[10]: F000000001: to=<fil@gmail.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.2, delays=0/0/0/0.2, dsn=2.0.0, status=sent (250 2.0.0 from MTA(smtp:[127.0.0.1]:10025): 250 2.0.0 Ok: queued as F000000002)\n' "$now"
    printf '%s relay postfix/qmgr[9]: F000000001: removed\n' "$now"
    printf '%s relay postfix/qmgr[9]: F000000002: from=<news@shop.test>, size=900, nrcpt=1 (queue active)\n' "$now"
    printf '%s relay postfix/smtp[11]: F000000002: to=<fil@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n' "$now"
    printf '%s relay postfix/qmgr[9]: F000000002: removed\n' "$now"
    printf '%s relay postfix/qmgr[9]: F000000003: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$now"
    printf '%s relay postfix/smtp[12]: F000000003: to=<fil2@gmail.test>, relay=127.0.0.1[127.0.0.1]:10024, delay=0.2, delays=0/0/0/0.2, dsn=4.7.28, status=deferred (host 127.0.0.1[127.0.0.1] said: 421 4.7.28 Our system has detected an unusual rate of unsolicited mail (in reply to end of DATA command))\n' "$now"
}
filter_log >"$WORLD_TMP/filter.log"
main_conf=$conf
# without filter_relays: each message counts twice, the filter's 4xx slows gmail down
conf=$WORLD_DIR/nofilter.conf
# (the relay of a filter names no provider: gmail's is known by its domain)
sed -e 's/^prefix = t:$/prefix = nf:/' -e 's/^\[provider google\]$/&\ndomains = gmail.test/' \
    "$main_conf" >"$conf"
out=$("$LOGD_BIN" -c "$conf" -r "$WORLD_TMP/filter.log" 2>/dev/null)
like "$out" "deliveries 3 .* filter 0 " "without filter_relays: 3 deliveries read"
j=$(stats_json provider)
is "$(stats_field "$j" google delivered)/$(stats_field "$j" google deferred)" "2/1" \
    "google: 2 delivered, 1 deferred (the hop to the filter counted)"
like "$("$CTL_BIN" -c "$conf" backoff list)" "google +default" "the filter's 4xx put google into backoff"
# with it: once, and no backoff
conf=$WORLD_DIR/filter.conf
sed -e 's/^prefix = t:$/prefix = f:/' -e 's/^\[provider google\]$/&\ndomains = gmail.test/' \
    -e 's/^\[logd\]$/&\nfilter_relays = 127.0.0.1:10024, [::1]:10024/' \
    "$main_conf" >"$conf"
out=$("$LOGD_BIN" -c "$conf" -r "$WORLD_TMP/filter.log" 2>/dev/null)
like "$out" "deliveries 1 .* filter 2 " "with filter_relays: 1 delivery, 2 lines to the filter"
j=$(stats_json provider)
is "$(stats_field "$j" google delivered)" 1 "google: 1 delivered"
ok '[ "$(stats_field "$j" TOTAL deferred)" = 0 ] || [ "$(stats_field "$j" TOTAL deferred)" = none ]' \
    "no deferral counted"
is "$("$CTL_BIN" -c "$conf" backoff list)" "no backoff in force" "the filter's 4xx starts no backoff"
is "$(redis_cli XLEN 'f:{st}:events')" 1 "one event: the delivery to gmail"
conf=$main_conf
done_testing
