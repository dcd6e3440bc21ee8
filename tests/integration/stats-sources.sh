#!/bin/bash
# stats-sources.sh - the counters written where the decision is taken, through a
# real Postfix with outpost-milter, outpost-policyd and outpost-logd on one Redis:
# a known mix gives exact "accepted" (milter, per provider), "suppressed" (milter),
# "throttled" and "spilled" (policyd) counts in outpostctl stats --json; a 550 5.1.1
# at a sink puts the address on the suppression list through outpost-logd within
# two seconds, and the next message to it is refused and counted.  It runs on a Redis
# Cluster as well (OUTPOST_TEST_REDIS=cluster, make check-cluster).
#
# Run as root: tests/integration/stats-sources.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_mx shop.test mx.shop.test 10           # bounces come back here
dns_a mx.shop.test 127.0.0.13
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
sink_rule outlook 'gone@outlook.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_start shop 127.0.0.13

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
prefix = t:
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[intake]
soft_bounce_limit = 2
[logd]
maillog = $MAILLOG
start_at = beginning
metrics_listen = 127.0.0.1:9433
poll_interval = 50ms
flush_interval = 100ms
[provider google]
domains = gmail.test
rate = 1/h
burst = 3
[provider microsoft]
domains = outlook.test
[pool warm1]
transport = warm1
senders = shop.test
[pool cold]
transport = cold
senders = cold.test
schedule = 1:2
overflow = spill
[pool spill]
transport = spill
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter listens"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
postfix_master 'warm1 unix - - n - - smtp -o syslog_name=postfix/warm1' \
    'cold unix - - n - - smtp -o syslog_name=postfix/cold' \
    'spill unix - - n - - smtp -o syslog_name=postfix/spill'
# the MTA sends each pool's mail through its transport, so that outpost-logd sees the pool
postfix_conf "sender_dependent_default_transport_maps = inline:{ @shop.test=warm1:, @cold.test=cold: }" \
    "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"

ctl suppress add --reason unsubscribe alice@outlook.test >/dev/null
ctl suppress add --reason complaint bob@outlook.test >/dev/null

# rcpt_reply ADDR - the server's answer to RCPT TO:<ADDR> in the last transcript
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}

# --- the mix ------------------------------------------------------------------
send_mail news@shop.test g1@gmail.test,g2@gmail.test,g3@gmail.test
is "$?" 0 "3 recipients at google within its burst: accepted"
send_mail news@shop.test g4@gmail.test,o1@outlook.test
like "$(rcpt_reply g4@gmail.test)" "^450 4.7.1 .*rate limit of provider google" "the 4th at google: deferred by policyd"
like "$(rcpt_reply o1@outlook.test)" "^250 " "beside it, one at microsoft: accepted"
send_mail news@shop.test alice@outlook.test,o2@outlook.test
like "$(rcpt_reply alice@outlook.test)" "^550 5.7.1 recipient suppressed" "a suppressed recipient: refused by the milter"
like "$(rcpt_reply o2@outlook.test)" "^250 " "beside it, another: accepted"
send_mail news@shop.test bob@outlook.test
like "$(rcpt_reply bob@outlook.test)" "^550 5.7.1 recipient suppressed" "a message to one suppressed recipient only"
# one message each: Postfix applies a FILTER action to the whole message
for i in 1 2 3; do send_mail promo@cold.test "c$i@outlook.test" || break; done
is "$?" 0 "3 messages from the warming pool (cap 2): all accepted, the 3rd spills over"
send_mail '<>' o9@outlook.test
is "$?" 0 "a message from the null sender (not counted as accepted)"
send_mail news@shop.test gone@outlook.test
is "$?" 0 "a message the provider will refuse with 550 5.1.1"
ok 'sink_wait gmail 1' "google's sink has its message"
ok 'postfix_wait_queue_empty 30' "every message left the queue"

# --- the hard bounce is suppressed by outpost-logd ----------------------------
suppressed() { ctl suppress check gone@outlook.test | grep -q 'hard-bounce'; }
ok 'maillog_wait "gone@outlook.test.*status=bounced"' "the 550 is logged"
t0=$(_now_ms)
ok 'wait_until 2 suppressed' "outpostctl suppress check shows gone@outlook.test suppressed within 2 s"
diag "suppressed $(($(_now_ms) - t0)) ms after the bounce was found in the log"
like "$(ctl suppress check gone@outlook.test)" "hard-bounce.*log" "as a hard bounce from the log"
send_mail news@shop.test gone@outlook.test
like "$(rcpt_reply gone@outlook.test)" "^550 5.7.1 recipient suppressed \\(hard-bounce" \
    "the next message to it is refused at RCPT"

# --- the counts ----------------------------------------------------------------
ok 'wait_until 10 stats_total_is bounced 1' "outpost-logd has counted the bounce"
j=$(stats_json provider)
is "$(stats_field "$j" TOTAL accepted)" 9 "accepted: 9 recipients (3 + 1 + 1 + 3 + 1; not the null sender's)"
is "$(stats_field "$j" google accepted)/$(stats_field "$j" microsoft accepted)" "3/6" "accepted per provider: google 3, microsoft 6"
is "$(stats_field "$j" TOTAL suppressed)" 3 "suppressed: 3 (two listed, one hard-bounced by the log)"
is "$(stats_field "$j" microsoft suppressed)" 3 "all three at microsoft"
is "$(stats_field "$j" TOTAL throttled)" 1 "throttled: 1"
is "$(stats_field "$j" google throttled)" 1 "at google"
is "$(stats_field "$j" TOTAL spilled)" 1 "spilled over: 1"
is "$(stats_field "$j" TOTAL delivered)" 8 "delivered (outpost-logd): 8 (3 + 1 + 1 + 3; the 9th bounced)"
j=$(stats_json sender)
is "$(stats_field "$j" shop.test accepted)/$(stats_field "$j" cold.test accepted)" "6/3" "accepted per sender domain: shop.test 6, cold.test 3"
is "$(stats_field "$j" shop.test suppressed)/$(stats_field "$j" shop.test throttled)" "3/1" "shop.test: 3 suppressed, 1 throttled"
j=$(stats_json pool)
is "$(stats_field "$j" warm1 accepted)/$(stats_field "$j" cold accepted)" "6/3" "accepted per pool: warm1 6, cold 3"
is "$(stats_field "$j" warm1 throttled)/$(stats_field "$j" cold spilled)" "1/1" "throttled in warm1, spilled from cold"
is "$(stats_field "$j" default accepted)" none "nothing under the pool 'default'"
is "$(stats_field "$j" warm1 delivered)/$(stats_field "$j" cold delivered)/$(stats_field "$j" spill delivered)" "5/2/1" \
    "outpost-logd sees the same pools: delivered from warm1 5, cold 2, spill 1"

metrics=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9433/metrics").read().decode())')
like "$metrics" 'outpost_cluster_accepted_total\{node="[^"]+",sender="shop.test",provider="microsoft",pool="warm1"\} 3' "metrics: accepted"
like "$metrics" 'outpost_cluster_throttled_total\{node="[^"]+",sender="shop.test",provider="google",pool="warm1"\} 1' "metrics: throttled"
like "$metrics" 'outpost_cluster_suppressed_total\{node="[^"]+",sender="shop.test",provider="microsoft",pool="warm1"\} 3' "metrics: suppressed"

# --- soft bounces in the log follow [intake]'s rule (2 within the window here) -
sink_rule outlook 'full@outlook.test' '552 5.2.2 Mailbox full'
soft_suppressed() { ctl suppress check full@outlook.test | grep -q 'soft-bounce'; }
send_mail news@shop.test full@outlook.test
ok 'maillog_wait "full@outlook.test.*status=bounced.*5\\.2\\.2"' "a 552 5.2.2 (mailbox full) is logged as bounced"
ok 'wait_until 10 stats_total_is bounced_soft 1' "outpost-logd counts it as a soft bounce"
ok '! soft_suppressed' "one soft bounce does not suppress"
send_mail news@shop.test full@outlook.test
ok 'wait_until 10 stats_total_is bounced_soft 2' "a second soft bounce is counted"
ok 'wait_until 2 soft_suppressed' "the second within the window suppresses (soft-bounce), as a DSN would"

# --- [logd] suppress_hard_bounces = no: the bounce is only counted -------------
world_kill logd
sed -i 's/^flush_interval = 100ms$/&\nsuppress_hard_bounces = no/' "$conf"
sink_rule outlook 'gone2@outlook.test' '550 5.1.1 The email account that you tried to reach does not exist'
send_mail news@shop.test gone2@outlook.test
ok 'maillog_wait "gone2@outlook.test.*status=bounced"' "another 550 is logged"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is bounced 4' "outpost-logd counts it"
like "$(ctl suppress check gone2@outlook.test)" "not suppressed" "with suppress_hard_bounces = no it is not suppressed"
done_testing
