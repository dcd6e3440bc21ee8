#!/bin/bash
# logd-sendmail.sh - outpost-logd follows a real Sendmail's log: deliveries,
# a hard bounce, deferrals and a backoff counted exactly, a delivery line Sendmail
# split with [more] and one with forty recipients too (TAP)
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/sendmail.sh"
sendmail_fetch || skip_all "no Sendmail: $SENDMAIL_WHY"
world_start "$@"
LOGD_BIN=$OUTPOST_BUILDDIR/outpost-logd
need_programs "$LOGD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx yahoo.test mx.yahoo.test 10
dns_a mx.yahoo.test 127.0.0.13
dns_start
redis_start
tls_cert gmail mx.gmail.test             # gmail offers STARTTLS, Sendmail trusts its CA
sink_start gmail 127.0.0.11 --tls-cert "$WORLD_TMP/gmail.pem" --tls-key "$WORLD_TMP/gmail.key"
sink_start yahoo 127.0.0.13
sink_rule gmail 'nobody@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule yahoo 'later@yahoo.test' '451 4.3.0 try again later'
sink_rule yahoo 'busy@yahoo.test' '421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred'

sendmail_mc "define(\`confCACERT_PATH', \`$WORLD_TMP')dnl" "define(\`confCACERT', \`$WORLD_TMP/ca.pem')dnl"
sendmail_start
pass "sendmail $(sendmail_version) runs, logging through syslog"

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
prefix = s:
[provider google]
mx = mx.gmail.test
[provider yahoo]
mx = mx.yahoo.test
[logd]
maillog = $SENDMAIL_MAILLOG
start_at = beginning
metrics_listen =
poll_interval = 50ms
flush_interval = 100ms
EOF
chmod 644 "$conf"

# --- the mix: 3 delivered (2 gmail, 1 yahoo), 1 hard bounce, 2 deferrals
send_mail_sendmail news@shop.test alice@gmail.test,carol@yahoo.test
send_mail_sendmail news@shop.test bob@gmail.test
send_mail_sendmail news@shop.test nobody@gmail.test
send_mail_sendmail news@shop.test later@yahoo.test
send_mail_sendmail news@shop.test busy@yahoo.test
# a long recipient list: Sendmail logs it over several lines ("to=<a>,<b>, [more], ...")
many=""
for i in $(seq -w 1 30); do
    many=$many${many:+,}subscriber-with-a-rather-long-name-$i@gmail.test
done
send_mail_sendmail news@shop.test "$many"
# short addresses: forty of them fit on one line
short=""
for i in $(seq -w 1 40); do short=$short${short:+,}s$i@gmail.test; done
send_mail_sendmail news@shop.test "$short"
ok 'sink_wait gmail 4' "4 messages at the gmail sink"
ok 'sink_wait yahoo 1' "1 message at the yahoo sink"
ok 'sendmail_maillog_wait "to=<busy@yahoo.test>.*stat=Deferred"' "Sendmail logged the TSS04 deferral"
like "$(sendmail_maillog_grep 'to=<nobody@gmail.test>')" "dsn=5\\.1\\.1, reply=550 .*stat=User unknown" \
    "and the hard bounce, in Sendmail's words"

ok 'sendmail_maillog_grep "to=<subscriber-.*@gmail\\.test>, \\[more\\], .*stat=Sent" >/dev/null' \
    "Sendmail split the 30 recipients' delivery line with [more]" ||
    diag "$(sendmail_maillog_grep 'to=<subscriber-')"
is "$(sendmail_maillog_grep 'to=<s[0-9]+@gmail\.test>,.*stat=Sent' | head -n 1 |
    grep -oE '<s[0-9]+@gmail\.test>' | wc -l)" 40 "and logged the 40 short ones on one line"

world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is delivered 73' "the follower read Sendmail's log"
sleep 0.3
j=$(stats_json provider)
is "$(stats_field "$j" TOTAL delivered)" 73 "delivered: 73, each recipient of the split and the long lines too"
is "$(stats_field "$j" TOTAL bounced)/$(stats_field "$j" TOTAL bounced_hard)" 1/1 "bounced: 1, hard (Sendmail's own DSN to the sender is not counted)"
# Sendmail retries deferred mail on its own schedule, so the number of attempts
# is what its log says, at least one for each of the two deferred recipients.
deferrals_in_log() { sendmail_maillog_grep 'to=<(later|busy)@yahoo\.test>.*stat=Deferred' | wc -l; }
deferrals_agree() {
    local n; n=$(deferrals_in_log)
    [ "$n" -ge 2 ] && [ "$(stats_field "$(stats_json provider)" yahoo deferred)" = "$n" ] &&
        [ "$(stats_field "$(stats_json provider)" TOTAL deferred)" = "$n" ]
}
ok 'wait_until 10 deferrals_agree' "deferred attempts: as many as Sendmail logged ($(deferrals_in_log)), all yahoo's"
is "$(stats_field "$j" google delivered)/$(stats_field "$j" google bounced)" 72/1 "google: 72 delivered, 1 bounced"
is "$(stats_field "$j" yahoo delivered)" 1 "yahoo: 1 delivered"
like "$(sendmail_maillog_grep 'STARTTLS=client, relay=mx.gmail.test')" "verify=OK" "Sendmail verified the gmail sink"
is "$(stats_field "$j" google tls_verified)/$(stats_field "$j" google tls_none)" 72/0 "google: 72 delivered over verified TLS"
is "$(stats_field "$j" yahoo tls_verified)/$(stats_field "$j" yahoo tls_none)" 0/1 "yahoo: 1 in plaintext, though its message also went to gmail over TLS"
like "$(stats_field "$j" TOTAL reasons)" "'userunknown': 1" "the bounce is classified userunknown"
is "$(stats_field "$(stats_json sender)" shop.test delivered)" 73 "per sender domain: shop.test 73 delivered"
backoff_is_set() { "$CTL_BIN" -c "$conf" backoff list | grep -qE "yahoo +default +30/m .*TSS04"; }
ok 'wait_until 5 backoff_is_set' "Yahoo's TSS04 put yahoo into backoff, from Sendmail's log too"
done_testing
