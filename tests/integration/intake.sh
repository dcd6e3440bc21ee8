#!/bin/bash
# intake.sh - bounce, complaint and unsubscribe intake through a real Postfix:
# outgoing mail leaves with a tagged return path; a DSN, an ARF complaint or an
# unsubscribe request sent back to it suppresses the recipient (hard at once,
# soft on the third, complaint, unsubscribe in the sender's scope only) and is
# dropped; a forged token does nothing and is counted, and so does a token
# of one sender mailed to another sender's bounce domain; with Redis down the
# report is tempfailed, then accepted when Redis returns; Postfix's own
# bounces reach the milter too (internal_mail_filter_classes = bounce) (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[intake]
bounce_domain = bounces.%d
secret_file = $secret
soft_bounce_limit = 3
soft_bounce_window = 1d
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# suppressed ADDR [SENDER] - exit 0 when ADDR is suppressed (for SENDER's mail)
suppressed() { ctl suppress check ${2:+--sender "$2"} "$1" >/dev/null; }
# return_path RCPT - the envelope sender the sink saw for RCPT's newest message
return_path() { eml_envelope "$(sink_find gmail "$1")" mail_from; }
# campaign RCPT[,RCPT] - one message from news@shop.test; waits for delivery
n_sent=0
campaign() {
    local n; n=$(tr ',' '\n' <<<"$1" | wc -l)
    send_mail news@shop.test "$1" --header "Subject: campaign" >/dev/null
    n_sent=$((n_sent + n))
    wait_until 10 rcpts_ge gmail "$n_sent"
}
# rcpts_ge SINK N - the sink accepted at least N recipients (read again on each try)
rcpts_ge() { [ "$(sink_rcpts "$1" | wc -l)" -ge "$2" ]; }
# dsn TO RCPT STATUS TEXT [MSGID] - a multipart/report DSN about RCPT, to TO
dsn() {
    local f=$WORLD_TMP/dsn.$RANDOM
    cat >"$f" <<EOF
From: MAILER-DAEMON@mx.gmail.test
To: $1
Subject: Undelivered Mail Returned to Sender
Message-ID: <${5:-$RANDOM.$RANDOM}@mx.gmail.test>
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
Status: $3
Diagnostic-Code: smtp; $4

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

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_rule gmail 'nobody@gmail.test' '550 5.1.1 user unknown'
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "internal_mail_filter_classes = bounce" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test, bounces.other.test" \
    "transport_maps = inline:{bounces.shop.test=discard:, bounces.other.test=discard:}"
postfix_start

# --- the tagged return path
campaign alice@gmail.test
rp=$(return_path alice@gmail.test)
like "$rp" '^b-[a-z2-7]+@bounces\.shop\.test$' "the return path is tagged: $rp"
lp=${rp%@*}
ok '[ ${#lp} -le 64 ]' "its local part fits in 64 octets"
campaign 'a.rather.long.local.part.for.the.id.fallback@gmail.test'
rp_long=$(return_path 'a.rather.long.local.part.for.the.id.fallback@gmail.test')
like "$rp_long" '^b-[a-z2-7]+@bounces\.shop\.test$' "a long recipient gets a token too"
lp=${rp_long%@*}
ok '[ ${#lp} -le 64 ]' "and it fits (${#lp} octets, the pair kept in Redis under an id)"
# {intake} on one Redis, {intake:B} on a cluster (common/state/intake_act.h)
is "$(redis_cli --scan --pattern 'outpost:{intake*}:id:*' | wc -l)" 1 "one id stored for it"
# a quoted local part may hold spaces: the pair kept under an id is read back whole
quoted='"a quoted local part with spaces in it"@gmail.test'
campaign "$quoted"
rp_quoted=$(return_path "$quoted")
like "$rp_quoted" '^b-[a-z2-7]+@bounces\.shop\.test$' "a quoted recipient with spaces gets a token"

# --- hard bounce: suppressed at once, globally; the report is dropped
ok '! suppressed alice@gmail.test' "alice is not suppressed yet"
t0=$(date +%s%N)
dsn "$rp" alice@gmail.test 5.1.1 "550 5.1.1 The email account that you tried to reach does not exist"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the DSN is accepted"
ok 'wait_until 1 suppressed alice@gmail.test' "alice is suppressed within a second"
t1=$(date +%s%N)
note "DSN sent to suppression visible: $(( (t1 - t0) / 1000000 )) ms"
like "$(ctl suppress check --json alice@gmail.test)" '"scope":"global","reason":"hard-bounce"' \
    "as a global hard bounce"
ok 'maillog_wait "$LAST_QID: milter-discard: END-OF-MESSAGE" 5' "the report is discarded"
dsn "$rp_long" 'a.rather.long.local.part.for.the.id.fallback@gmail.test' 5.1.1 "user unknown"
ok 'wait_until 2 suppressed a.rather.long.local.part.for.the.id.fallback@gmail.test' \
    "the id token attributes its bounce too"
dsn "$rp_quoted" "$quoted" 5.1.1 "user unknown"
ok 'wait_until 2 suppressed "$quoted"' "and the bounce of the quoted recipient with spaces"

# --- soft bounces: suppressed on the third
campaign carol@gmail.test
rp=$(return_path carol@gmail.test)
dsn "$rp" carol@gmail.test 5.2.2 "552 5.2.2 mailbox full"
dsn "$rp" carol@gmail.test 5.2.2 "552 5.2.2 mailbox full"
sleep 0.5
ok '! suppressed carol@gmail.test' "two soft bounces: not suppressed"
dsn "$rp" carol@gmail.test 5.2.2 "552 5.2.2 mailbox full"
ok 'wait_until 2 suppressed carol@gmail.test' "the third soft bounce suppresses"
like "$(ctl suppress check --json carol@gmail.test)" '"reason":"soft-bounce"' "as a soft bounce"
# the milter acts before it answers the DSN: what it did is in Redis when swaks returns
campaign kim@gmail.test
rp=$(return_path kim@gmail.test)
dsn "$rp" kim@gmail.test 5.2.2 "552 5.2.2 mailbox full" kim-1
dsn "$rp" kim@gmail.test 5.2.2 "552 5.2.2 mailbox full" kim-1
dsn "$rp" kim@gmail.test 5.2.2 "552 5.2.2 mailbox full" kim-2
soft=$(redis_cli --scan --pattern 'outpost:{intake*}:soft:kim@gmail.test')
is "$(redis_cli ZCARD "$soft")" 2 "a soft bounce sent twice is counted once ($soft)"
ok '! suppressed kim@gmail.test' "three reports, two of them the same: not suppressed"
dsn "$rp" kim@gmail.test 5.2.2 "552 5.2.2 mailbox full" kim-3
ok 'wait_until 2 suppressed kim@gmail.test' "the third distinct report suppresses"

# --- complaint (ARF) to the feedback-loop address: the token in the original
campaign dave@gmail.test
rp=$(return_path dave@gmail.test)
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
Arrival-Date: Thu, 1 Feb 2024 10:00:00 +0000

--F
Content-Type: text/rfc822-headers

Return-Path: <$rp>
From: news@shop.test
To: redacted@gmail.test
Subject: campaign

--F--
EOF
send_mail fbl@feedback.gmail.test fbl@bounces.shop.test --data "$WORLD_TMP/arf.eml"
ok 'wait_until 2 suppressed dave@gmail.test' "a complaint suppresses (recipient from the token)"
like "$(ctl suppress check --json dave@gmail.test)" '"reason":"complaint"' "as a complaint"

# --- unsubscribe: in the sender's scope only
send_mail erin@gmail.test unsub@bounces.shop.test --header "Subject: unsubscribe" \
    --body "please stop"
ok 'wait_until 2 suppressed erin@gmail.test news@shop.test' "an unsubscribe mail suppresses for shop.test"
ok '! suppressed erin@gmail.test' "but not globally"
ok '! suppressed erin@gmail.test news@other.test' "nor for another sender"
addr=$(ctl intake address --unsubscribe frank@gmail.test shop.test)
like "$addr" '^unsub-[a-z2-7]+@bounces\.shop\.test$' "outpostctl intake address --unsubscribe"
send_mail someone@elsewhere.test "$addr" --header "Subject: unsubscribe"
ok 'wait_until 2 suppressed frank@gmail.test news@shop.test' "a tokened unsubscribe address names the recipient"
total() {   # total COUNTER - this hour's total of a statistics counter
    ctl stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["total"].get(sys.argv[1], 0))' "$1"
}
is "$(total complaints)/$(total unsubscribes)" "1/2" \
    "the complaint and both unsubscribes are in the statistics (outpostctl stats)"

# --- a forged token: nothing happens, and it is counted
campaign gina@gmail.test
rp=$(return_path gina@gmail.test)
c=${rp:7:1}; [ "$c" = a ] && c2=b || c2=a        # a character of the MAC
forged=${rp:0:7}$c2${rp:8}
dsn "$forged" gina@gmail.test 5.1.1 "550 5.1.1 user unknown"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a report with a forged token is accepted"
ok 'wait_until 2 grep -q "forged token: nothing done" "$WORLD_DIR/log/milter.log"' "and logged as forged"
sleep 0.5
ok '! suppressed gina@gmail.test' "nothing is suppressed"
ok 'ctl intake stats | grep -qxe "- other forged 1"' "the forgery is counted"
like "$(ctl intake stats)" 'shop\.test google hard-bounce|shop\.test other hard-bounce' \
    "events are counted per sender domain and provider"

# --- bounces.%d leaves the sender out of the token, the domain names it: a
# token of shop.test mailed to other.test's bounce domain is forged there
campaign lena@gmail.test
rp=$(return_path lena@gmail.test)
moved=${rp%@*}@bounces.other.test
dsn "$moved" lena@gmail.test 5.1.1 "550 5.1.1 user unknown"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "shop.test's token at other.test's bounce domain is accepted"
ok 'wait_until 2 grep -q "report to $moved: forged token" "$WORLD_DIR/log/milter.log"' \
    "and logged as forged"
ok '! suppressed lena@gmail.test' "nothing is suppressed"
addr=$(ctl intake address --unsubscribe mia@gmail.test shop.test)
moved=${addr%@*}@bounces.other.test
send_mail someone@elsewhere.test "$moved" --header "Subject: unsubscribe"
ok 'wait_until 2 grep -q "report to $moved: forged token" "$WORLD_DIR/log/milter.log"' \
    "an unsubscribe token of shop.test is forged at other.test's bounce domain"
ok '! suppressed mia@gmail.test news@other.test' "mia stays subscribed to other.test"
dsn "$rp" lena@gmail.test 5.1.1 "550 5.1.1 user unknown"
ok 'wait_until 2 suppressed lena@gmail.test' "at shop.test's bounce domain the token holds"

# --- several recipients: the token names the sender; the report names them
campaign hugo@gmail.test,ivan@gmail.test
rp=$(return_path ivan@gmail.test)
lp=${rp%@*}
ok '[ ${#lp} -le 24 ]' "a message with two recipients gets a token without recipient ($rp)"
dsn "$rp" ivan@gmail.test 5.1.1 "550 5.1.1 user unknown"
ok 'wait_until 2 suppressed ivan@gmail.test' "the report's recipient is suppressed"
ok '! suppressed hugo@gmail.test' "the other one is not"

# --- Postfix's own bounce reaches the milter (non_smtpd_milters)
send_mail news@shop.test nobody@gmail.test --header "Subject: campaign"
ok 'wait_until 10 suppressed nobody@gmail.test' "Postfix's own DSN is read: suppressed"

# --- where the intake's keys are: one tag on one Redis, spread on a cluster
keys=$(redis_cli --scan --pattern 'outpost:{intake*' | sort -u)
ok '[ "$(wc -l <<<"$keys")" -ge 3 ]' "the intake keeps keys ($(wc -l <<<"$keys"))"
if redis_is_cluster; then
    slots=$(for k in $keys; do redis_cli CLUSTER KEYSLOT "$k"; done | sort -u)
    ok '[ "$(wc -l <<<"$slots")" -gt 1 ]' "on a cluster they are in more than one slot ($(paste -sd " " <<<"$slots"))"
    is "$(grep -c '^outpost:{intake}:' <<<"$keys")" 0 "none under the single tag {intake}"
else
    is "$(grep -vc '^outpost:{intake}:' <<<"$keys")" 0 "on one Redis all are under {intake}, as before"
fi

# --- Redis down: the report is tempfailed, then accepted
campaign jack@gmail.test
rp=$(return_path jack@gmail.test)
redis_stop
dsn "$rp" jack@gmail.test 5.1.1 "550 5.1.1 user unknown" jack-1
like "$(cat "$SWAKS_OUT")" '451 4\.3\.0 report not processed' "Redis down: the DSN gets 451 4.3.0"
redis_start
dsn "$rp" jack@gmail.test 5.1.1 "550 5.1.1 user unknown" jack-1
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "Redis back: accepted"
ok 'wait_until 2 suppressed jack@gmail.test' "and acted on"
is "$(sink_rcpts gmail | grep -c bounces)" 0 "nothing to a bounce address reached the sink"

# --- a soft bounce in Postfix's log: outpost-logd counts it toward the soft-bounce
# rule, and Postfix's own DSN about it, read by the intake, is not counted again
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN"
sink_rule gmail 'full@gmail.test' '552 5.2.2 Mailbox full'
send_mail news@shop.test full@gmail.test --header "Subject: campaign"
ok 'maillog_wait "to=<full@gmail.test>.*status=bounced"' "the receiver refused full@ (552 5.2.2)"
ok 'wait_until 20 grep -q "intake: soft-bounce .*for full@gmail.test" "$WORLD_DIR/log/milter.log"' \
    "Postfix's own DSN about it was read by the intake"
{
    cat "$conf"
    printf '[logd]\nmaillog = %s\nstart_at = beginning\nmetrics_listen =\n' "$MAILLOG"
    printf 'poll_interval = 50ms\nflush_interval = 100ms\n'
} >"$WORLD_DIR/logd.conf"
chmod 644 "$MAILLOG"
line_at=$(grep -b 'to=<full@gmail.test>.*status=bounced' "$MAILLOG" | head -1 | cut -d: -f1)
# logd_past OFFSET - outpost-logd's position saved in Redis is past OFFSET (its
# soft bounces are written before the position that follows them)
logd_past() {
    local k o
    for k in $(redis_cli --scan --pattern 'outpost:{st}:logd:*' | grep -v ':pending$'); do
        o=$(redis_cli HGET "$k" offset)
        [ -n "$o" ] && [ "$o" -gt "$1" ] && return 0
    done
    return 1
}
world_spawn logd "$LOGD_BIN" -f -c "$WORLD_DIR/logd.conf"
ok 'wait_until 10 logd_past "$line_at"' "outpost-logd read the bounce in the log"
soft=$(redis_cli --scan --pattern 'outpost:{intake*}:soft:full@gmail.test')
is "$(redis_cli ZCARD "$soft")" 1 "one soft bounce, counted once ($soft)"

done_testing
