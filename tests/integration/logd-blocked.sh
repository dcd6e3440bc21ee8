#!/bin/bash
# logd-blocked.sh - bounces that name a DNS blocklist, and listings in outpostctl stats:
# the private Postfix delivers through pool warm to a sink that answers 554 "blocked
# using zen.example" (a [blocklist] the test DNS serves): outpost-logd counts it as
# blocked.zenx under pool warm.  Postfix's own DSN about it comes back through the
# milter's intake and is not counted twice, though Postfix's myhostname (its
# Reporting-MTA) is neither [general] node nor [dns] relay_hostname: the milter knows
# it by the macro j; DSNs from the receiver naming a list do
# count, under the pool whose address they name.  outpost-logd's watch finds the pool
# address listed: warned about once, kept in Redis with its start and reason, shown by
# outpostctl stats (text and --json) with the bounces per list and pool, and exported
# as outpost_bounces_blocklisted_total{list,pool}.  The pool's warm-up holds (its day
# does not advance) while its bounce rate is over hold_bounce_rate or its address is
# listed, once a day, and outpostctl warmup status says why.
#
# Run as root: tests/integration/logd-blocked.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$MILTER_BIN" "$CTL_BIN"

secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
node = relay.test
[redis]
$REDIS_CONF_SERVER
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[intake]
bounce_domain = bounces.%d
secret_file = $secret
[logd]
maillog = $MAILLOG
start_at = beginning
metrics_listen = 127.0.0.1:9433
poll_interval = 50ms
flush_interval = 100ms
blocklist_interval = 1s
[pool warm]
transport = warm
addresses = 192.0.2.10
schedule = 1:10, 10:1000
hold_bounce_rate = 5%
hold_when_listed = yes
hold_min_messages = 1
[blocklist zenx]
zone = zen.example
listed = 127.0.0.2-127.0.0.11
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_a 10.2.0.192.zen.example 127.0.0.2
dns_txt 10.2.0.192.zen.example "Listed for a test, see https://zen.example/?192.0.2.10"
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_rule gmail 'blocked@gmail.test' \
    '554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.example'
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
# the MTA's own name differs from node: its DSNs say Reporting-MTA: dns; mta1.relay.test
postfix_conf "myhostname = mta1.relay.test" \
    "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "internal_mail_filter_classes = bounce" "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}" 'default_transport = warm'
postfix_master 'warm unix - - n - - smtp -o syslog_name=postfix/warm'
postfix_start

# counted LIST POOL - the count of blocked.LIST under POOL in the statistics' total
# (on a cluster, the sum of the 16 buckets' totals, {st:0} to {st:15}; an empty one
# prints an empty line, dropped)
counted() {
    local b
    if redis_is_cluster; then
        for b in $(seq 0 15); do redis_cli HGETALL "outpost:{st:$b}:total"; done | grep -v '^$'
    else
        redis_cli HGETALL 'outpost:{st}:total'
    fi | "$PYTHON" -c '
import sys
lines = sys.stdin.read().split("\n")
n = 0
for f, v in zip(lines[0::2], lines[1::2]):
    p = f.split("|")
    if len(p) == 4 and p[2] == sys.argv[2] and p[3] == "blocked." + sys.argv[1]:
        n += int(v)
print(n)' "$1" "$2"
}
# counted_is LIST POOL N - the count is N (for wait_until, which runs it again each time)
counted_is() { test "$(counted "$1" "$2")" = "$3"; }
# dsn TO RCPT TEXT - a receiver's multipart/report DSN (5.7.1) about RCPT, to TO
dsn() {
    local f=$WORLD_TMP/dsn.$RANDOM
    cat >"$f" <<EOF
From: MAILER-DAEMON@mx.gmail.test
To: $1
Subject: Undelivered Mail Returned to Sender
Message-ID: <$RANDOM.$RANDOM@mx.gmail.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.gmail.test

Final-Recipient: rfc822; $2
Action: failed
Status: 5.7.1
Diagnostic-Code: smtp; $3

--B
Content-Type: text/rfc822-headers

Return-Path: <$1>
From: news@shop.test
To: $2
Subject: campaign

--B--
EOF
    send_mail '<>' "$1" --data "$f"
}

# ---------------------------------------------------------------- synchronous
send_mail news@shop.test blocked@gmail.test --header "Subject: campaign"
ok 'maillog_wait "to=<blocked@gmail.test>.*status=bounced.*blocked using zen.example"' \
    "the receiver refused the pool's address: blocked using zen.example"
# Postfix's own DSN about it reaches the intake (non_smtpd_milters)
ok 'wait_until 20 grep -q "intake: .*blocked@gmail.test" "$WORLD_DIR/log/milter.log"' \
    "the relay's own DSN was read by the intake"
chmod 644 "$MAILLOG"
# the warm-up began three days ago: today is day 4
like "$(ctl warmup start warm "$(date -u -d '3 days ago' +%F)")" "pool warm: warm-up starts $(date -u -d '3 days ago' +%F)" "warm-up started 3 days ago"
like "$(ctl warmup status)" "pool warm: .*, day 4, cap [0-9]+," "day 4"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 counted_is zenx warm 1' "logd: blocked.zenx under pool warm"
unlike "$(cat "$WORLD_DIR/log/milter.log")" "refused by blocklist" \
    "the relay's own DSN is not counted again"
is "$(counted zenx -)$(counted other warm)" 00 "nothing else counted yet"

# ---------------------------------------------------------------- asynchronous
send_mail news@shop.test alice@gmail.test --header "Subject: campaign"
ok 'sink_wait gmail 1' "alice's message delivered"
rp=$(eml_envelope "$(sink_find gmail alice@gmail.test)" mail_from)
like "$rp" '^b-[a-z2-7]+@bounces\.shop\.test$' "with a tagged return path"
dsn "$rp" alice@gmail.test "550 5.7.1 Mail from [192.0.2.10] refused, listed on zen.spamhaus.org; see https://www.spamhaus.org/query/ip/192.0.2.10"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a DSN naming Spamhaus is accepted"
ok 'wait_until 10 counted_is other warm 1' \
    "a list not configured counts as other, under the pool of the address it names"
dsn "$rp" alice@gmail.test "554 5.7.1 Client host [198.51.100.7] blocked using zen.example"
ok 'wait_until 10 counted_is zenx - 1' \
    "an address of no pool: the list, pool unknown"
dsn "$rp" alice@gmail.test "550 5.7.1 Message rejected as spam by Content Filtering"
ok 'wait_until 10 grep -q "intake: .*(spamdetected)" "$WORLD_DIR/log/milter.log"' \
    "a refusal naming no list is read"
is "$(counted zenx warm)/$(counted other warm)/$(counted zenx -)" 1/1/1 "and not counted"

# ---------------------------------------------------------------- the watch
like "$(cat "$WORLD_DIR/log/logd.log")" "warning: blocklist zenx lists 192.0.2.10 \(127.0.0.2\)" \
    "logd: the listing is a warning"
state() { redis_cli HGET 'outpost:{bl}:watch' 'zenx|192.0.2.10'; }
# has_reason - the state holds the list's TXT; checked_after T - it was checked after T
has_reason() { state | grep -q "Listed for a test"; }
checked_after() { test "$(state | cut -d' ' -f3)" -gt "$1"; }
ok 'wait_until 10 has_reason' "logd: the listing is in Redis with its reason"
read -r st since checked _ <<<"$(state)"
is "$st" listed "state listed"
# the next answer renews checked and keeps since
ok 'wait_until 10 checked_after "$checked"' "logd: the next round renews it"
is "$(state | cut -d' ' -f1-2)" "listed $since" "and keeps the time the listing began"
is "$(grep -c "blocklist zenx lists 192.0.2.10 " "$WORLD_DIR/log/logd.log")" 1 \
    "logd: the listing is warned about once"

# ---------------------------------------------------------------- warm-up hold
# held_for - warmup status says held, for both the bounce rate and the listing
held_for() { ctl warmup status | grep -q "^  held today (the warm-up does not advance): bounce rate .* >= 5.0% (24h, [0-9]* messages); 192.0.2.10 listed on zenx$"; }
ok 'wait_until 10 held_for' "warmup status: held, for the bounce rate and the listing"
out=$(ctl warmup status)
diag "$out"
like "$out" "pool warm: .*, day 3, cap [0-9]+," "the held day does not count: day 3 again"
like "$(cat "$WORLD_DIR/log/logd.log")" "warning: warm-up of pool warm held today: (bounce rate [0-9.]+% >= 5.0% |192.0.2.10 listed on zenx)" \
    "logd: the hold is a warning"
hold_checked() { redis_cli HGET 'outpost:{rl}:warmup:warm:hold' checked; }
c0=$(hold_checked)
checked_later() { test "$(hold_checked)" -gt "$1"; }
ok 'wait_until 10 checked_later "$c0"' "logd: the hold is checked again"
like "$(ctl warmup status)" "pool warm: .*, day 3, cap [0-9]+," "and the same day is held once"
is "$(grep -c "warm-up of pool warm held today" "$WORLD_DIR/log/logd.log")" 1 "warned about once"
held=$(ctl warmup status --json | "$PYTHON" -c '
import json, sys
p = json.load(sys.stdin)["pools"][0]
print(p["name"], p["warmup_day"], p["held"])')
like "$held" "^warm 3 bounce rate .*; 192.0.2.10 listed on zenx$" "warmup status --json: the day and why"

# ---------------------------------------------------------------- outpostctl stats
# an answer not renewed for more than the watch's 7 days: a target no longer
# watched (its address left the pool), which other answers keep in the hash
old=$(( $(date +%s) - 8 * 86400 ))
redis_cli HSET 'outpost:{bl}:watch' 'zenx|192.0.2.99' "listed $old $old 127.0.0.2 Old" >/dev/null
out=$(ctl stats)
diag "$out"
unlike "$out" "192\.0\.2\.99" "stats: an answer not renewed for 7 days is not listed now"
since_utc=$(date -u -d "@$since" +%Y-%m-%dT%H:%M:%SZ)
like "$out" $'\n''blocklists: listed now'$'\n'' +zenx +192.0.2.10 +since '"$since_utc"' +127.0.0.2 +Listed for a test' \
    "stats: the listed address, since when, code and reason"
like "$out" $'\n'' +zenx +warm +1'$'\n' "stats: bounces naming zenx from pool warm"
like "$out" $'\n'' +other +warm +1'$'\n' "stats: naming another list"
like "$out" $'\n'' +zenx +- +1' "stats: from no known pool"
json=$(ctl stats --json)
sum=$("$PYTHON" -c '
import json, sys
b = json.load(sys.stdin)["blocklists"]
for l in b["listed"]:
    print("listed", l["list"], l["target"], l["since"], l["code"], l["reason"])
for x in sorted(b["bounces"], key=lambda x: (x["list"], x["pool"])):
    print("bounces", x["list"], x["pool"], x["bounces"])' <<<"$json")
diag "$sum"
like "$sum" "listed zenx 192.0.2.10 $since_utc 127.0.0.2 Listed for a test" "--json: the listing"
unlike "$sum" "192\.0\.2\.99" "--json: nor the answer not renewed"
like "$sum" $'bounces other warm 1\nbounces zenx - 1\nbounces zenx warm 1' \
    "--json: the bounces per list and pool"

# ---------------------------------------------------------------- Prometheus
metrics=$("$PYTHON" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9433/metrics", timeout=10).read().decode())')
N='node="[^"]+"'
like "$metrics" "outpost_bounces_blocklisted_total\\{$N,list=\"zenx\",pool=\"warm\"\\} 1" \
    "metrics: per list and pool"
like "$metrics" "outpost_bounces_blocklisted_total\\{$N,list=\"other\",pool=\"warm\"\\} 1" \
    "metrics: a list not configured is other"
like "$metrics" "outpost_bounces_blocklisted_total\\{$N,list=\"zenx\",pool=\"other\"\\} 1" \
    "metrics: no known pool is other"
like "$metrics" "outpost_blocklisted\\{$N,list=\"zenx\",target=\"192.0.2.10\"\\} 1" \
    "metrics: the listing's gauge"

# ---------------------------------------------------------------- an answer of no use
# the list answers a code it does not list with: unknown, the listing stays as it was
sed -i 's/^host-record=10.2.0.192.zen.example,127.0.0.2$/host-record=10.2.0.192.zen.example,127.255.255.254/' \
    "$WORLD_DIR/dns/records.conf"
dns_reload
unanswered() {
    "$PYTHON" -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9433/metrics", timeout=10).read().decode())' |
	grep -Eq "^outpost_blocklist_answered\\{$N,list=\"zenx\",target=\"192.0.2.10\"\\} 0$"
}
ok 'wait_until 10 unanswered' "metrics: the list gave no usable answer"
is "$(state | cut -d' ' -f1-2,4-)" "listed $since 127.0.0.2 Listed for a test, see https://zen.example/?192.0.2.10" \
    "Redis: the last known listing, its start, code and reason are kept"
like "$(ctl stats)" $'\n''blocklists: listed now'$'\n'' +zenx +192.0.2.10 +since '"$since_utc"' +127.0.0.2' \
    "stats: still listed since the listing began"
done_testing
