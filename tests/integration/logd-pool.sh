#!/bin/bash
# logd-pool.sh - the pool of a delivery, as outpost-logd reads it from the log tag:
# [pool main] transport = smtp: claims Postfix's default transport, whose lines read
# "postfix/smtp", so its deliveries count under pool main (not "default") in the
# statistics and the Prometheus labels, as the milter counts them; a pool whose
# transport has its own syslog_name ("postfix/warm1/smtp") is found by that name; two
# pools on one service are a warning of outpost-logd -n and outpostctl check-config.
#
# Run as root: tests/integration/logd-pool.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN" /usr/bin/curl

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12

# gmail.test by the default transport (smtp), outlook.test by out-warm1
postfix_conf 'transport_maps = inline:{outlook.test=out-warm1:}'
postfix_master 'out-warm1 unix - - n - - smtp -o syslog_name=postfix/warm1'
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
metrics_listen = 127.0.0.1:9436
poll_interval = 50ms
flush_interval = 100ms
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
[pool main]
transport = smtp:
[pool warm1]
transport = out-warm1
EOF

# --- two pools on one service: a warning, not a refusal --------------------------
twin=$WORLD_TMP/twin.conf
{ cat "$conf"; printf '[pool twin]\ntransport = smtp:[relay.example]:25\n'; } >"$twin"
out=$("$LOGD_BIN" -n -c "$twin" 2>&1); rc=$?
is "$rc" 0 "outpost-logd -n accepts two pools on one service"
like "$out" 'warning: .*\[pool twin\] transport = smtp:\[relay.example\]:25: the service of \[pool main\] too: .*counts the deliveries of both as pool main' \
    "and warns that the log counts the second as the first"
out=$("$CTL_BIN" -c "$twin" check-config 2>&1)
like "$out" 'warning: .*\[pool twin\] .*as pool main' "outpostctl check-config warns too"
like "$out" 'configuration OK' "and still finds the file good"
out=$("$LOGD_BIN" -n -c "$conf" 2>&1)
unlike "$out" 'warning' "one pool per service: no warning"

# --- deliveries through both transports -------------------------------------------
for i in 1 2; do send_mail news@shop.test "user$i@gmail.test"; done
send_mail news@shop.test someone@outlook.test
ok 'sink_wait gmail 2' "two messages at the gmail sink"
ok 'sink_wait outlook 1' "one at the outlook sink"
ok 'maillog_wait " postfix/smtp\[[0-9]+\]: .*to=<user1@gmail.test>.*status=sent"' \
    "the default transport logs as postfix/smtp"
ok 'maillog_wait " postfix/warm1/smtp\[[0-9]+\]: .*to=<someone@outlook.test>.*status=sent"' \
    "out-warm1 logs as postfix/warm1/smtp"
chmod 644 "$MAILLOG"

world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is delivered 3' "outpost-logd counted the three deliveries"
j=$(stats_json pool)
is "$(stats_field "$j" main delivered)" 2 "statistics: pool main delivered 2 (postfix/smtp)"
is "$(stats_field "$j" warm1 delivered)" 1 "pool warm1 delivered 1 (postfix/warm1/smtp)"
is "$(stats_field "$j" default delivered)" none "nothing under pool default"

metrics=$(curl -s http://127.0.0.1:9436/metrics)
N='node="[^"]+"'
like "$metrics" "outpost_logd_deliveries_total\\{$N,sender=\"shop.test\",provider=\"google\",pool=\"main\",outcome=\"delivered\"\\} 2" \
    "metrics: the pool label of postfix/smtp is main"
like "$metrics" "outpost_logd_deliveries_total\\{$N,sender=\"shop.test\",provider=\"microsoft\",pool=\"warm1\",outcome=\"delivered\"\\} 1" \
    "metrics: the pool label of postfix/warm1/smtp is warm1"
unlike "$metrics" 'pool="default"' "metrics: no pool default"
done_testing
