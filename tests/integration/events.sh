#!/bin/bash
# events.sh - every event of a tenant's sender domain reaches its stream
# P{ev:TENANT}:s exactly once, with its fields: through the private Postfix
# with outpost-milter (accepted, with queue id, Message-ID and campaign;
# suppressed), outpost-policyd (throttled) and outpost-logd (delivered,
# bounced hard with reason userunknown, deferred, expired), and through
# outpost-httpd (unsubscribe, open, click, a machine's click) and the milter's
# intake (complaint, mailto unsubscribe: the same person twice is one event; a
# bounce for a tenant added by a reload of the milter); a sender domain
# of no tenant writes nothing; outpost-logd reading the same log again writes
# nothing twice; outpostctl events reads the stream after an id (TAP)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
MINT=$OUTPOST_BUILDDIR/tests/lib/webtoken-mint
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$HTTPD_BIN" "$CTL_BIN" "$MINT" /usr/bin/curl

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx slow.test mx.slow.test 10
dns_a mx.slow.test 127.0.0.11
dns_mx shop.test mx.shop.test 10           # the MTA's bounces come back here
dns_a mx.shop.test 127.0.0.13
dns_mx other.test mx.shop.test 10
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_rule gmail 'nobody@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule gmail 'busy@gmail.test' '452 4.2.2 The recipient mailbox is full'
sink_start shop 127.0.0.13

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
cat >"$conf" <<EOF
[general]
user = nobody
node = t1
[redis]
$REDIS_CONF_SERVER
prefix = t:
command_timeout = 300ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
metrics_listen = 127.0.0.1:9435
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[logd]
maillog = $MAILLOG
start_at = beginning
poll_interval = 50ms
flush_interval = 100ms
[intake]
secret_file = $secret
token_max_age = 30d
bounce_domain = bounces.%d
rewrite_sender = no
[httpd]
listen = 127.0.0.1:8480
[provider google]
domains = gmail.test
[domain slow.test]
rate = 1/h
burst = 1
[tenant shop]
domains = shop.test
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
mint() { "$MINT" "$secret" "$@"; }
# events_of TYPE [FIELD...] - "RCPT FIELD=VALUE..." of each TYPE event of shop, sorted
events_of() {
    ctl events shop --limit 1000 --json | "$PYTHON" -c '
import json, sys
t, fs = sys.argv[1], sys.argv[2:]
for e in json.load(sys.stdin)["events"]:
    if e["type"] == t:
        print(" ".join([e.get("rcpt", "-")] + ["%s=%s" % (f, e.get(f, "-")) for f in fs]))
' "$@" | sort
}
# has TYPE N - shop's stream holds N events of TYPE
has() { test "$(events_of "$1" | wc -l)" = "$2"; }
types() { ctl events shop --limit 1000 --json | "$PYTHON" -c '
import json, sys
print(" ".join(sorted(e["type"] + ":" + e.get("rcpt", "-") for e in json.load(sys.stdin)["events"])))'; }

world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 test -S $WORLD_DIR/run/milter.sock -a -S $WORLD_DIR/run/policy.sock' \
    "milter and policyd listen"
ok 'wait_until 10 curl -s -o /dev/null http://127.0.0.1:8480/' "outpost-httpd listens"
# one try only: the deferral expires at once (status=expired)
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject" \
    'maximal_queue_lifetime = 0' 'bounce_queue_lifetime = 0' \
    "relay_domains = bounces.shop.test bounces.newco.test" \
    "transport_maps = inline:{bounces.shop.test=discard:, bounces.newco.test=discard:}"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"

# --- through Postfix ---------------------------------------------------------
ctl suppress add --reason hard-bounce --source test sup@gmail.test >/dev/null
send_mail news@shop.test ok@gmail.test,nobody@gmail.test,busy@gmail.test,sup@gmail.test \
    --header 'Message-Id: <ev1@shop.test>' --header 'X-Campaign-ID: spring'
qid=$LAST_QID
ok '[ -n "$qid" ]' "the message is queued ($qid)"
send_mail news@shop.test a@slow.test
send_mail news@shop.test b@slow.test
like "$(cat "$SWAKS_OUT")" '<\*\* +450 4\.7\.1' "the second recipient of slow.test is throttled"
send_mail news@other.test ok2@gmail.test,sup@gmail.test
ok 'postfix_wait_queue_empty 30' "every message left the queue"
ok 'wait_until 15 has expired 1' "outpost-logd wrote the expiry"
ok 'wait_until 5 has delivered 2' "and the deliveries"

is "$(events_of accepted qid msgid campaign sender | grep gmail | tr '\n' ';')" \
    "busy@gmail.test qid=$qid msgid=<ev1@shop.test> campaign=spring sender=shop.test;nobody@gmail.test qid=$qid msgid=<ev1@shop.test> campaign=spring sender=shop.test;ok@gmail.test qid=$qid msgid=<ev1@shop.test> campaign=spring sender=shop.test;" \
    "accepted: each recipient of the message once, with queue id, Message-ID and campaign"
is "$(events_of accepted | grep -c slow.test)" 1 "accepted: the unthrottled recipient of slow.test"
is "$(events_of suppressed reason source provider)" "sup@gmail.test reason=hard-bounce source=test provider=google" \
    "suppressed: once, with the entry's reason and source"
is "$(events_of throttled sender)" "b@slow.test sender=shop.test" "throttled: the refused recipient"
is "$(events_of delivered provider dsn | grep ok@)" "ok@gmail.test provider=google dsn=2.0.0" "delivered: with provider and DSN"
is "$(events_of bounced class reason dsn qid)" "nobody@gmail.test class=hard reason=userunknown dsn=5.1.1 qid=$qid" \
    "bounced: hard, reason userunknown, DSN 5.1.1"
like "$(events_of bounced reply)" 'reply=550 5\.1\.1 The email account' "with the remote reply"
is "$(events_of deferred dsn)" "busy@gmail.test dsn=4.2.2" "deferred: once, DSN 4.2.2"
is "$(events_of expired qid)" "busy@gmail.test qid=$qid" "expired: the recipient deferred last"
unlike "$(types)" 'ok2@gmail\.test' "a sender domain of no tenant writes nothing"
is "$(redis_cli --scan --pattern 't:{ev:*}:s' | tr '\n' ' ')" "t:{ev:shop}:s " "one stream: shop's"

# --- outpost-httpd: unsubscribe, open, click ------------------------------------
carol=$(mint u 0 carol@gmail.test shop.test)
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "http://127.0.0.1:8480/u/$carol")" 200 \
    "one-click unsubscribe: 200"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "http://127.0.0.1:8480/u/$carol")" 200 \
    "the same POST again: 200"
chrome='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
url='https://shop.test/landing?id=42'
o=$(mint o 3600 ok@gmail.test shop.test '<ev1@shop.test>' spring 0 -)
c=$(mint c 3600 ok@gmail.test shop.test '<ev1@shop.test>' spring 0 "$url")
is "$(curl -s -o /dev/null -w '%{http_code}' -A "$chrome" "http://127.0.0.1:8480/o/$o")" 200 "an open"
is "$(curl -s -o /dev/null -w '%{http_code}' -A "$chrome" "http://127.0.0.1:8480/c/$c")" 302 "a click"
is "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:8480/c/$c")" 302 "a scanner's click (curl's agent)"
ok 'wait_until 10 has click 2' "the clicks reach the stream"
ok 'wait_until 5 has open 1' "and the open"
is "$(events_of unsubscribe source sender)" "carol@gmail.test source=one-click sender=shop.test" \
    "unsubscribe: once, with its source"
is "$(events_of open msgid campaign machine)" "ok@gmail.test msgid=<ev1@shop.test> campaign=spring machine=-" \
    "open: message and campaign, by a person"
is "$(events_of click url machine | tr '\n' ';')" "ok@gmail.test url=$url machine=-;ok@gmail.test url=$url machine=1;" \
    "click: the link, the scanner's flagged machine=1"

# --- outpost-milter's intake: mailto unsubscribe, complaint ---------------------
send_mail someone@elsewhere.test "$(ctl intake address --unsubscribe frank@gmail.test shop.test)"
send_mail someone@elsewhere.test "$(ctl intake address --unsubscribe carol@gmail.test shop.test)"
rp=$(ctl intake address dave@gmail.test shop.test)
cat >"$WORLD_TMP/arf.eml" <<EOF
From: fbl@feedback.gmail.test
To: fbl@bounces.shop.test
Subject: complaint about message
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report.

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: FBL/1.0
Version: 1
Original-Mail-From: <$rp>

--F
Content-Type: text/rfc822-headers

Return-Path: <$rp>
From: news@shop.test
To: redacted@gmail.test
Subject: campaign

--F--
EOF
send_mail fbl@feedback.gmail.test fbl@bounces.shop.test --data "$WORLD_TMP/arf.eml"
ok 'wait_until 10 has complaint 1' "the complaint reaches the stream"
is "$(events_of complaint source sender provider)" "dave@gmail.test source=fbl sender=shop.test provider=google" \
    "complaint: the recipient named by the token, source fbl"
ok 'wait_until 5 has unsubscribe 2' "the mailto unsubscribe too"
is "$(events_of unsubscribe source | tr '\n' ';')" "carol@gmail.test source=one-click;frank@gmail.test source=mailto;" \
    "unsubscribe by mail: once; carol's second request (mail after one-click) writes nothing"

# --- a tenant added by a reload: the intake writes its events -------------------
cat >>"$conf" <<EOF
[tenant newco]
domains = newco.test
EOF
# reloads_gt N - the milter has said "reloaded" more than N times (read again on each try)
reloads_gt() { test "$(grep -c 'reloaded ' "$WORLD_DIR/log/milter.log")" -gt "$1"; }
n_reloaded=$(grep -c 'reloaded ' "$WORLD_DIR/log/milter.log")
world_kill milter HUP
ok 'wait_until 10 reloads_gt $n_reloaded' "the milter reloads its configuration with [tenant newco]"
rp=$(ctl intake address erin@gmail.test newco.test)
like "$rp" '^b-[a-z2-7]+@bounces\.newco\.test$' "a return path for newco's mail ($rp)"
cat >"$WORLD_TMP/dsn-newco.eml" <<EOF
From: MAILER-DAEMON@mx.gmail.test
To: $rp
Subject: Undelivered Mail Returned to Sender
Message-ID: <newco-dsn-1@mx.gmail.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.gmail.test

Final-Recipient: rfc822; erin@gmail.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Return-Path: <$rp>
From: news@newco.test
To: erin@gmail.test
Subject: campaign

--B--
EOF
send_mail '<>' "$rp" --data "$WORLD_TMP/dsn-newco.eml"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a DSN about newco's mail is accepted"
# newco_bounced - "RCPT source sender" of each bounced event in newco's stream
newco_bounced() {
    ctl events newco --limit 1000 --json | "$PYTHON" -c '
import json, sys
for e in json.load(sys.stdin)["events"]:
    if e["type"] == "bounced":
        print(e.get("rcpt", "-"), e.get("source", "-"), e.get("sender", "-"))'
}
# newco_has_bounce - newco's stream holds a bounced event (read again on each try)
newco_has_bounce() { test -n "$(newco_bounced)"; }
ok 'wait_until 10 newco_has_bounce' "the bounce reaches newco's stream"
is "$(newco_bounced)" "erin@gmail.test dsn newco.test" "bounced: the recipient the token names, from the intake"

# --- nothing twice: the log read again ------------------------------------------
before=$(types)
n=$(redis_cli XLEN 't:{ev:shop}:s')
"$LOGD_BIN" -c "$conf" -r "$MAILLOG" >/dev/null 2>&1
is "$?" 0 "outpost-logd -r reads the whole log again"
is "$(redis_cli XLEN 't:{ev:shop}:s')" "$n" "and writes no event twice ($n events)"
world_kill logd
redis_cli DEL 't:{st}:logd:t1' >/dev/null
world_spawn logd "$LOGD_BIN" -f -c "$conf"
has_pos() { test -n "$(redis_cli HGET 't:{st}:logd:t1' pos)"; }
ok 'wait_until 10 has_pos' "restarted without its position, it reads the log from the start"
is "$(types)" "$before" "and writes nothing twice either"

# --- outpostctl events -----------------------------------------------------------
first=$(ctl events shop --limit 1 --json | "$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(d["events"][0]["id"], d["next"], d["events"][0]["type"], type(d["events"][0]["time"]).__name__)')
read -r id next type ttype <<<"$first"
is "$next" "$id" "--json: next is the last id given"
is "$type/$ttype" "suppressed/int" "the oldest first (the refusal at RCPT), its time a number"
is "$(ctl events shop --after "$id" --json | "$PYTHON" -c 'import json,sys; print(len(json.load(sys.stdin)["events"]))')" \
    $((n - 1)) "--after ID: the events after it"
last=$(ctl events shop --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["next"])')
is "$(ctl events shop --after "$last" --json)" "{\"events\":[],\"next\":\"$last\"}" "after the last: none, next stays"
out=$(ctl events shop --limit 2)
like "$(head -n1 <<<"$out")" "^$id [0-9T:-]+Z type=suppressed rcpt=sup@gmail\.test sender=shop\.test" "text: one line an event"
like "$(tail -n1 <<<"$out")" "^next: [0-9]+-[0-9]+$" "then the id to read on from"
is "$(wc -l <<<"$out")" 3 "two events and next"
ctl events shop --after nonsense >/dev/null 2>&1
is "$?" 2 "an id that is not one: exit 2"
ctl events nobody >/dev/null 2>&1
is "$?" 2 "an unknown tenant: exit 2"

# --- a stream that cannot be written: the mail goes on, the loss is counted ------
lost() { curl -s http://127.0.0.1:9435/metrics | awk '$1 ~ /^outpost_milter_events_lost_total[{ ]?/ { print $2 }'; }
lost_some() { test "$(lost)" -ge 1; }
is "$(lost)" 0 "metrics: no event lost so far"
redis_cli DEL 't:{ev:shop}:s' >/dev/null
redis_cli SET 't:{ev:shop}:s' 'not a stream' >/dev/null
delivered=$(stats_field "$(stats_json provider)" TOTAL delivered)
send_mail news@shop.test late@gmail.test
is "$?" 0 "with the stream unwritable, the message is accepted all the same"
ok 'wait_until 10 lost_some' "and the lost event is counted"
ok 'wait_until 20 grep -q "to=<late@gmail.test>.*status=sent" "$MAILLOG"' "and delivered"
ok 'wait_until 10 stats_total_is delivered $((delivered + 1))' \
    "outpost-logd goes on counting: its lost event holds nothing up"
done_testing
