#!/bin/bash
# logd-backoff.sh - a provider says "slow down" and the relay does: a sink answers
# 421 4.7.28, outpost-logd reads the deferral in Postfix's log and puts the
# provider into backoff on the pool that delivered, and outpost-policyd, asked by
# the same Postfix, then accepts mail for that provider only at the reduced rate;
# outpostctl backoff clear ends it at once.
#
# Run as root: tests/integration/logd-backoff.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$POLICYD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_rule gmail 'busy@gmail.test' '421 4.7.28 Our system has detected an unusual rate of unsolicited mail'
sink_start outlook 127.0.0.12

# the reduced rate: one message per 20 s, so that the test sees refusals
printf 'google 4.7.28 * 1h 3/m\n' >"$WORLD_TMP/backoff.rules"
chmod 644 "$WORLD_TMP/backoff.rules"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[logd]
maillog = $MAILLOG
start_at = beginning
metrics_listen =
poll_interval = 50ms
flush_interval = 100ms
backoff_rules = $WORLD_TMP/backoff.rules
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
[pool warm1]
transport = warm1
senders = shop.test
EOF
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
postfix_master 'warm1 unix - - n - - smtp -o syslog_name=postfix/warm1'
postfix_conf 'default_transport = warm1' \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"

# --- no backoff: a burst to the provider passes ----------------------------------
for i in 1 2 3; do
    send_mail news@shop.test "before$i@gmail.test"
    is "$?" 0 "before the deferral: message $i accepted"
done

# --- the provider pushes back ------------------------------------------------------
send_mail news@shop.test busy@gmail.test
is "$?" 0 "the message the sink will defer is accepted"
ok 'maillog_wait "busy@gmail.test.*dsn=4.7.28, status=deferred"' "Postfix logs 421 4.7.28 from the sink"
in_backoff() { test -n "$(redis_cli HGET "outpost:{rl}:backoff:google:warm1" until)"; }
ok 'wait_until 10 in_backoff' \
    "outpost-logd put google on pool warm1 into backoff"
like "$("$CTL_BIN" -c "$conf" backoff list)" "google +warm1 +3/m .*4\.7\.28" "backoff list shows it at 3/m"

# --- policyd applies the reduced rate ------------------------------------------------
send_mail news@shop.test after1@gmail.test
is "$?" 0 "during the backoff: the first message passes (burst 1)"
send_mail news@shop.test after2@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +4[0-9][0-9] 4\\.7\\.[0-9]+ .*backoff of google on pool warm1; retry in (1[0-9]|20) s" \
    "the next is deferred: backoff of google on pool warm1, retry in ~20 s"
send_mail news@shop.test someone@outlook.test
is "$?" 0 "another provider is not held back"

# --- an operator ends it ------------------------------------------------------------
is "$("$CTL_BIN" -c "$conf" backoff clear google warm1)" "cleared 1 backoff" "outpostctl backoff clear google warm1"
send_mail news@shop.test after3@gmail.test
is "$?" 0 "after the clear: accepted at once"
done_testing
