#!/bin/bash
# relay-mx.sh - the test world itself works: a private Postfix relays by MX lookup in
# the test DNS to the right provider sink, bounces 5xx, defers 4xx/421, and Redis
# answers on its unix socket and on TCP.  No Outpost program is needed yet.
#
# Run as root: tests/integration/relay-mx.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"

# --- the world -------------------------------------------------------------
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_mx shop.test mx.shop.test 10            # the sender's domain: bounces come back here
dns_a mx.shop.test 127.0.0.13
dns_a relay.test 127.0.0.1
dns_ptr 127.0.0.1 relay.test
dns_txt _dmarc.shop.test "v=DMARC1; p=none; rua=mailto:dmarc@shop.test,mailto:x@y.test"
# A DKIM-sized record: 401 bytes must come back as 255 + 146 byte strings.
long_key=$(printf 'A%.0s' {1..390})
dns_txt sel._domainkey.shop.test "v=DKIM1; p=$long_key"
dns_start

redis_start

sink_start gmail 127.0.0.11
sink_rule gmail 'nobody@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule gmail 'busy@gmail.test' '421 4.7.28 Our system has detected an unusual rate of mail'
sink_start outlook 127.0.0.12
sink_start shop 127.0.0.13

postfix_start

# --- the DNS answers what the test wrote -------------------------------------
is "$(dns_query MX gmail.test)" "10 mx.gmail.test." "MX gmail.test"
is "$(dns_query A mx.outlook.test)" "127.0.0.12" "A mx.outlook.test"
is "$(dns_query PTR 127.0.0.1)" "relay.test." "PTR 127.0.0.1"
dns_query A nothere.gmail.test 2>"$WORLD_TMP/nx"
is "$?:$(cat "$WORLD_TMP/nx")" "1:NXDOMAIN" "unknown names under .test are NXDOMAIN"
is "$(dns_txt_get _dmarc.shop.test)" "v=DMARC1; p=none; rua=mailto:dmarc@shop.test,mailto:x@y.test" \
    "TXT with ';' and ',' served intact"
is "$(dns_txt_get sel._domainkey.shop.test)" "v=DKIM1; p=$long_key" "400-byte TXT served intact"
like "$(dns_query TXT sel._domainkey.shop.test)" '^"v=DKIM1; p=A{244}" "A{146}"$' \
    "long TXT split into 255-byte strings"

# --- (a) one message, two providers, found by MX lookup ----------------------
body=$WORLD_TMP/body.txt
printf '%s\n' "Hello from the test world." ".a line that starts with a dot" \
    "..and one with two" "Grüße, 8-bit text" "" "-- " "shop" >"$body"
send_mail news@shop.test alice@gmail.test,bob@outlook.test \
    --header "Subject: Outpost relay test (a)" --header "X-Campaign: 42" --body @"$body"
is "$?" 0 "Postfix accepted the message for gmail and outlook"
sink_wait gmail 1
sink_wait outlook 1
is "$(sink_rcpts gmail)" "alice@gmail.test" "alice arrived at the gmail sink only"
is "$(sink_rcpts outlook)" "bob@outlook.test" "bob arrived at the outlook sink only"
ok 'maillog_wait "$LAST_QID: to=<alice@gmail.test>, relay=mx\.gmail\.test\[127\.0\.0\.11\]:25, .*status=sent"' \
    "maillog: alice status=sent relay=mx.gmail.test[127.0.0.11]"
ok 'maillog_wait "$LAST_QID: to=<bob@outlook.test>, relay=mx\.outlook\.test\[127\.0\.0\.12\]:25, .*status=sent"' \
    "maillog: bob status=sent relay=mx.outlook.test[127.0.0.12]"
m=$(sink_find gmail alice@gmail.test)
is "$(eml_envelope "$m" mail_from)" "news@shop.test" "envelope sender recorded"
is "$(eml_header "$m" Subject)" "Outpost relay test (a)" "Subject intact"
is "$(eml_header "$m" X-Campaign)" "42" "extra header intact"
is "$(eml_body "$m")" "$(cat "$body")" "body intact (dot-unstuffed, 8-bit)"
m2=$(sink_find outlook bob@outlook.test)
is "$(eml_body "$m2")" "$(cat "$body")" "same body at outlook"

# --- (b) 550 5.1.1 from the provider: bounced, not delivered -----------------
send_mail news@shop.test nobody@gmail.test --header "Subject: (b) to nobody"
qid_b=$LAST_QID
ok 'maillog_wait "$qid_b: to=<nobody@gmail.test>, relay=mx\.gmail\.test.*dsn=5\.1\.1, status=bounced"' \
    "maillog: nobody status=bounced dsn=5.1.1"
ok '! sink_find gmail nobody@gmail.test' "the rejected message did not arrive"
ok 'sink_wait shop 1' "a bounce (DSN) came back to the sender's MX"
dsn=$(sink_find shop news@shop.test)
is "$(eml_envelope "$dsn" mail_from)" "" "the bounce has the null sender"
like "$(eml_body "$dsn")" 'Status: 5\.1\.1' "the bounce reports Status: 5.1.1"

# --- (c) 421 4.7.28: deferred, stays queued --------------------------------
send_mail news@shop.test busy@gmail.test --header "Subject: (c) rate limited"
qid_c=$LAST_QID
ok 'maillog_wait "$qid_c: to=<busy@gmail.test>, relay=mx\.gmail\.test.*dsn=4\.7\.28, status=deferred"' \
    "maillog: busy status=deferred dsn=4.7.28"
like "$(sink_log gmail | xargs grep -c '>>> 421 4.7.28')" '^[1-9]' "the sink answered 421"
ok 'postfix_queue | grep -q "$qid_c"' "the deferred message is still in the queue"
is "$(sink_count gmail)" 1 "nothing more arrived at gmail"

# --- (d) Redis ----------------------------------------------------------------
is "$(redis-cli -s "$REDIS_SOCK" PING)" PONG "Redis PING on the unix socket"
is "$(redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" PING)" PONG "Redis PING on TCP"
redis_cli SET outpost:test 1 >/dev/null
redis_stop
ok '! redis-cli -s "$REDIS_SOCK" PING 2>/dev/null | grep -q PONG' "Redis stopped"
redis_start
is "$(redis_cli PING)" PONG "Redis started again"
is "$(redis_cli EXISTS outpost:test)" 0 "no persistence: a restart starts empty"

done_testing
