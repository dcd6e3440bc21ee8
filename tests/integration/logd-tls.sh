#!/bin/bash
# logd-tls.sh - outpost-logd counts how mail left: the private Postfix delivers to
# three sinks, one offering STARTTLS with a certificate from a test CA that Postfix
# trusts (smtp_tls_security_level = verify: "Verified"), one with a self-signed
# certificate (level may: "Untrusted"), one without STARTTLS (plaintext).  The
# statistics give exact counts per provider and pool; outpostctl stats shows the
# share and the Prometheus endpoint the counters.
#
# Run as root: tests/integration/logd-tls.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN" /usr/bin/openssl

# a certificate from the test CA for the gmail sink, a self-signed one for outlook
tls_cert gmail mx.gmail.test
tls_cert outlook mx.outlook.test self
t=$WORLD_TMP

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_mx yahoo.test mx.yahoo.test 10
dns_a mx.yahoo.test 127.0.0.13
dns_start
redis_start
sink_start gmail 127.0.0.11 --tls-cert "$t/gmail.pem" --tls-key "$t/gmail.key"
sink_start outlook 127.0.0.12 --tls-cert "$t/outlook.pem" --tls-key "$t/outlook.key"
sink_start yahoo 127.0.0.13

# may everywhere, verify for gmail.test; loglevel 1 logs the summary logd reads.
# gmail.test's TLS connections are cached and handed to the next delivery through
# tlsmgr's cache and tlsproxy when one is idle ("reused" lines): the counts are the
# same whether a session was new or reused.
printf 'gmail.test verify\n' >"$t/tls_policy"
postfix_conf 'smtp_tls_security_level = may' 'smtp_tls_loglevel = 1' \
    'smtp_tls_connection_reuse = yes' 'smtp_connection_cache_destinations = gmail.test' \
    'smtp_connection_cache_time_limit = 10s' \
    "smtp_tls_CAfile = $t/ca.pem" "smtp_tls_policy_maps = texthash:$t/tls_policy" \
    'default_transport = warm1'
postfix_master 'warm1 unix - - n - - smtp -o syslog_name=postfix/warm1' \
    'tlsproxy unix - - n - 0 tlsproxy'
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
[provider yahoo]
mx = *.yahoo.test
[pool warm1]
transport = warm1
EOF

# gmail: 3 messages, 4 recipients; outlook: 2; yahoo: 3
# one after the other, so that an idle cached session may be handed on
send_mail news@shop.test a1@gmail.test
ok 'sink_wait gmail 1' "1 message at the gmail sink"
send_mail news@shop.test a2@gmail.test,a3@gmail.test
ok 'sink_wait gmail 2' "2 messages at the gmail sink"
send_mail news@shop.test a4@gmail.test
send_mail news@shop.test b1@outlook.test
send_mail news@shop.test b2@outlook.test
send_mail news@shop.test c1@yahoo.test
send_mail news@shop.test c2@yahoo.test,c3@yahoo.test
ok 'sink_wait gmail 3' "3 messages at the gmail sink"
ok 'sink_wait outlook 2' "2 at the outlook sink"
ok 'sink_wait yahoo 2' "2 at the yahoo sink"
ok 'postfix_wait_queue_empty 30' "the queue is empty"
# with tlsproxy (smtp_tls_connection_reuse), it and the smtp client both log the summary
S='smtp\[[0-9]+\]: '
like "$(maillog_grep "${S}[A-Za-z]+ TLS connection (established|reused) to mx.gmail.test" | head -1)" \
    "postfix/warm1/smtp\[[0-9]+\]: Verified TLS connection" "Postfix verified the gmail sink"
like "$(maillog_grep "${S}[A-Za-z]+ TLS connection (established|reused) to mx.outlook.test" | head -1)" \
    "Untrusted TLS connection" "and did not verify the self-signed outlook sink"
is "$(maillog_grep 'TLS connection (established|reused) to mx.yahoo.test' | wc -l)" 0 \
    "no TLS with the yahoo sink"
note "gmail.test sessions of smtp: $(maillog_grep "${S}.*TLS connection established to mx.gmail" | wc -l) new, $(maillog_grep "${S}.*TLS connection reused to mx.gmail" | wc -l) reused"
like "$(cat "$(sink_log gmail)")" "\] --- TLS TLSv1" "the gmail sink saw STARTTLS"
chmod 644 "$MAILLOG"

world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is delivered 9' "the follower caught up: 9 delivered"
j=$(stats_json provider)
declare -A got
for p in google microsoft yahoo; do
    got[$p]=$(stats_field "$j" $p tls_verified)/$(stats_field "$j" $p tls_unverified)/$(stats_field "$j" $p tls_none)
done
is "${got[google]}" "4/0/0" "google: 4 verified"
is "${got[microsoft]}" "0/2/0" "microsoft: 2 unverified"
is "${got[yahoo]}" "0/0/3" "yahoo: 3 in plaintext"
is "$(stats_field "$(stats_json pool)" warm1 tls_verified)" 4 "pool warm1: 4 verified"
out=$("$CTL_BIN" -c "$conf" stats --by provider)
like "$out" "google +4 +0 +0 +100.00% +100.00%" "stats: google, all verified"
like "$out" "microsoft +0 +2 +0 +100.00% +0.00%" "stats: microsoft, all over TLS, none verified"
like "$out" "yahoo +0 +0 +3 +0.00% +0.00%" "stats: yahoo in plaintext"
like "$out" "TOTAL +4 +2 +3 +66.67% +44.44%" "stats: 6 of 9 over TLS, 4 of 9 verified"

metrics=$(python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9432/metrics").read().decode())')
N='node="[^"]+"'
like "$metrics" "outpost_logd_tls_deliveries_total\\{$N,sender=\"shop.test\",provider=\"microsoft\",pool=\"warm1\",tls=\"unverified\"\\} 2" \
    "metrics: this node's deliveries by TLS"
like "$metrics" "outpost_cluster_tls_none_total\\{$N,sender=\"shop.test\",provider=\"yahoo\",pool=\"warm1\"\\} 3" \
    "metrics: the cluster's plaintext deliveries"
done_testing
