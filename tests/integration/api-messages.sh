#!/bin/bash
# api-messages.sh - POST /v1/messages through a real Postfix: the JSON body
# composed, submitted per recipient to a dedicated smtpd with XCLIENT LOGIN as
# the tenant, signed by outpost-milter for the tenant's domain (checked by
# dkimpy), refused for a suppressed recipient, throttled by outpost-policyd
# over the tenant's [sender] limit; 403 for another tenant's domain; one
# delivery for a repeated Idempotency-Key; non-ASCII names and subject
# decoded back by Python's email package; then the same through outpost-httpd's
# API on its listener (POST /v1/messages with a key of scope send, GET /v1/events
# showing the tenant's accepted event, scopes and tenants kept apart), every answer
# valid against doc/openapi.yaml (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
PROBE=$OUTPOST_BUILDDIR/tests/helpers/api-messages-probe
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN" "$PROBE" "$HTTPD_BIN" /usr/bin/curl
[ -x /usr/bin/dkimverify ] || skip_all "dkimverify (python3-dkim) not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
printf 'shop shop.test\npromo promo.test\n' >"$keys/sasl"
: >"$keys/table"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[dkim]
key_table = $keys/table
sasl_domains = $keys/sasl
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[httpd]
submit = inet:127.0.0.1:10027
submit_connections = 2
[tenant shop]
domains = shop.test
[tenant promo]
domains = promo.test
[sender promo]
rate = 1/h
burst = 2
EOC
rec=$("$CTL_BIN" -c "$conf" dkim keygen shop.test api1 --add 2>/dev/null | grep -o '"[^"]*"' | tr -d '"\n')
dns_txt api1._domainkey.shop.test "$rec"
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx shop.test mx.shop.test 10
dns_a mx.shop.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start shop 127.0.0.12
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "milter listens"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"

# the dedicated smtpd of the API, as doc/INSTALL.md describes it
postfix_conf "outpost_api_milters = unix:$WORLD_DIR/run/milter.sock" \
    "outpost_api_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject" \
    "milter_default_action = tempfail"
postfix_master '127.0.0.1:10027 inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.1 -o smtpd_milters=$outpost_api_milters -o smtpd_recipient_restrictions=$outpost_api_restrictions'
postfix_start

# post TENANT [PROBE-OPTION...] < BODY - the status in $status, the answer in $answer
post() {
    local out tenant=$1
    shift
    if ! out=$("$PROBE" "$@" "$conf" "$tenant" 2>"$WORLD_TMP/probe.err"); then
        fail "api-messages-probe exited with an error"
        diag_file "$WORLD_TMP/probe.err"
    fi
    status=$(head -1 <<<"$out")
    answer=$(tail -n +2 <<<"$out")
}
# field JSON PYTHON-EXPRESSION-OF-a - a value of the answer
field() {
    /usr/bin/python3 -c 'import json, sys; a = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

# --- a message to two recipients: two copies, each its own queue id, signed for shop.test
post shop <<'EOJ'
{"from": {"email": "news@shop.test", "name": "Shöp Nëws"},
 "to": [{"email": "alice@gmail.test", "name": "Älice Müller"}, "bob@gmail.test"],
 "subject": "Grüße aus Köln — über 70 Zeichen lang, damit er in mehrere Wörter gefaltet wird 😀",
 "text": "Hallo Älice,\n.\nFrom here on, a line with = and a very long line that goes on and on beyond seventy-six characters.\n",
 "html": "<p>Hallo <b>Älice</b></p>",
 "headers": {"Reply-To": "help@shop.test"},
 "campaign": "spring-26"}
EOJ
is "$status" 202 "POST answers 202"
is "$(field "$answer" '[m["status"] for m in a["messages"]]')" "['queued', 'queued']" "both recipients queued"
qid=$(field "$answer" 'a["messages"][0]["queue_id"]')
like "$qid" '^[0-9A-Za-z]+$' "a queue id per recipient ($qid)"
isnt "$qid" "$(field "$answer" 'a["messages"][1]["queue_id"]')" "each copy its own queue id"
ok 'maillog_wait "$qid: client=.*sasl_method=XCLIENT, sasl_username=shop"' "Postfix sees the tenant as the SASL user"
ok 'sink_wait gmail 2' "both copies delivered"
eml=$(sink_find gmail alice@gmail.test)
ok '/usr/bin/python3 /usr/bin/dkimverify <"$eml" >/dev/null 2>&1' "dkimpy verifies the signature"
like "$(eml_header "$eml" DKIM-Signature)" "d=shop.test;.*s=api1;" "signed for shop.test"
is "$(eml_header "$eml" X-Campaign-ID)" "spring-26" "the campaign header is set"
decoded=$(/usr/bin/python3 - "$eml" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(m["subject"])
print(m["from"].addresses[0].display_name, m["from"].addresses[0].addr_spec)
print(m["to"].addresses[0].display_name, m["to"].addresses[0].addr_spec)
print(m.get_content_type(), m["Message-ID"].endswith("@shop.test>"))
print(repr(m.get_body(("plain",)).get_content()))
print(repr(m.get_body(("html",)).get_content()))
PY
)
is "$(sed -n 1p <<<"$decoded")" "Grüße aus Köln — über 70 Zeichen lang, damit er in mehrere Wörter gefaltet wird 😀" "the subject decodes to what was posted"
is "$(sed -n 2p <<<"$decoded")" "Shöp Nëws news@shop.test" "the sender's name decodes"
is "$(sed -n 3p <<<"$decoded")" "Älice Müller alice@gmail.test" "the recipient's name decodes"
is "$(sed -n 4p <<<"$decoded")" "multipart/alternative True" "multipart/alternative, Message-ID @ the sender domain"
is "$(sed -n 5p <<<"$decoded")" "'Hallo Älice,\\n.\\nFrom here on, a line with = and a very long line that goes on and on beyond seventy-six characters.\\n'" \
    "the text part decodes to what was posted"
is "$(sed -n 6p <<<"$decoded")" "'<p>Hallo <b>Älice</b></p>'" "the html part decodes (no line end added)"
is "$(eml_header "$(sink_find gmail bob@gmail.test)" To)" "bob@gmail.test" "each copy names its own recipient"

# --- a suppressed recipient refused, the others queued
"$CTL_BIN" -c "$conf" suppress add --reason unsubscribe --scope shop.test carol@gmail.test >/dev/null
post shop <<'EOJ'
{"from": "news@shop.test", "to": ["carol@gmail.test", "dave@gmail.test"], "subject": "s", "text": "x"}
EOJ
is "$status" 202 "202 with a suppressed recipient"
is "$(field "$answer" 'a["messages"][0]["status"] + " " + a["messages"][0]["reason"]')" "refused suppressed" \
    "the suppressed one refused, reason suppressed"
like "$(field "$answer" 'a["messages"][0]["smtp"]')" "^550 5\\.7\\.1 recipient suppressed" "with the SMTP reply"
is "$(field "$answer" 'a["messages"][1]["status"]')" queued "the other one queued"
ok 'sink_wait gmail 3' "the other one delivered"
ok '[ -z "$(sink_find gmail carol@gmail.test)" ]' "the suppressed one not delivered"

# --- over the tenant's [sender] limit: throttled
post promo <<'EOJ'
{"from": "hi@promo.test", "to": ["p1@gmail.test", "p2@gmail.test", "p3@gmail.test"], "text": "x"}
EOJ
# (the three go out on parallel connections: which one policyd sees third varies)
is "$(field "$answer" '" ".join(sorted(m["status"] for m in a["messages"]))')" "queued queued refused" \
    "promo: two queued within its burst, the third refused"
is "$(field "$answer" '" ".join(m["reason"] + " " + str(m["temporary"]) for m in a["messages"] if m["status"] == "refused")')" \
    "throttled True" "the third throttled (temporary)"
like "$(field "$answer" '" ".join(m["smtp"] for m in a["messages"] if m["status"] == "refused")')" \
    "^4[0-9][0-9] 4\\.7\\.1 .*rate limit of sender promo" "with policyd's reply"

# --- another tenant's domain, or a domain the key does not have: 403
post shop <<'EOJ'
{"from": "hi@promo.test", "to": "x@gmail.test", "text": "x"}
EOJ
is "$status" 403 "shop may not send as promo.test"
post shop -d other.test <<'EOJ'
{"from": "news@shop.test", "to": "x@gmail.test", "text": "x"}
EOJ
is "$status" 403 "a key without shop.test may not send as shop.test"
post shop -d shop.test <<'EOJ'
{"from": "hi@news.shop.test", "to": "grace@gmail.test", "text": "x"}
EOJ
is "$status" 403 "a subdomain not listed in [tenant] domains: 403"
post shop <<'EOJ'
{"from": "news@shop.test", "to": "x@gmail.test", "subject": "a\r\nBcc: evil@gmail.test", "text": "x"}
EOJ
is "$status" 400 "a CR LF in the subject: 400"
like "$(field "$answer" 'a["error"]["message"]')" "^subject: " "naming the field"

# --- the same Idempotency-Key twice: one delivery, the same answer
before=$(sink_count gmail)
post shop -k order-4711 <<'EOJ'
{"from": "news@shop.test", "to": "erin@gmail.test", "text": "once"}
EOJ
first="$status $answer"
post shop -k order-4711 <<'EOJ'
{"from": "news@shop.test", "to": "erin@gmail.test", "text": "once"}
EOJ
is "$status $answer" "$first" "the same key answers the same again"
like "$first" '^202 .*"queued"' "the first was queued"
ok 'sink_wait gmail $((before + 1))' "delivered"
ok 'postfix_wait_queue_empty 10' "the queue is empty"
is "$(sink_rcpts gmail | grep -c '^erin@gmail.test$')" 1 "delivered once"
post promo -k order-4711 <<'EOJ'
{"from": "hi@promo.test", "to": "erin@gmail.test", "text": "once"}
EOJ
isnt "$status $answer" "$first" "the key is per tenant: another tenant's request is its own"

# idem_key TENANT KEY - the Redis key of an Idempotency-Key
idem_key() { echo "outpost:{ev:$1}:idem:probe:$(printf '%s' "$2" | sha256sum | cut -d' ' -f1)"; }
ttl=$(redis_cli TTL "$(idem_key shop order-4711)")
ok '[ "$ttl" -gt 3600 ] && [ "$ttl" -le 86400 ]' "the answer is kept for a day (TTL $ttl s)"
is "$(redis_cli EXISTS "$(idem_key promo order-4711)")" 0 \
    "an answer where every recipient failed for now (promo throttled) is not kept: a retry runs"

# --- a request with the same key still running: 409 (its mark set as a running one sets it)
redis_cli SET "$(idem_key shop order-4712)" - EX 60 >/dev/null
before=$(sink_count gmail)
post shop -k order-4712 <<'EOJ'
{"from": "news@shop.test", "to": "frank@gmail.test", "text": "x"}
EOJ
is "$status" 409 "a request with the key of a running one: 409"
redis_cli DEL "$(idem_key shop order-4712)" >/dev/null
post shop -k order-4712 <<'EOJ'
{"from": "news@shop.test", "to": "frank@gmail.test", "text": "x"}
EOJ
is "$status" 202 "once it is gone, the request runs"
ok 'sink_wait gmail $((before + 1))' "and is delivered once"

# --- larger than api_max_message: 413
sed 's/^\[httpd\]$/[httpd]\napi_max_message = 1k/' "$conf" >"$conf.small"
{ printf '{"from": "news@shop.test", "to": "x@gmail.test", "text": "'; head -c 2000 /dev/zero | tr '\0' x; printf '"}'; } >"$WORLD_TMP/big.json"
conf_saved=$conf conf=$conf.small
post shop <"$WORLD_TMP/big.json"
conf=$conf_saved
is "$status" 413 "a body larger than api_max_message: 413"
# ---------------------------------------------------------------- over HTTP
secret=$WORLD_DIR/secret
head -c 32 /dev/urandom | base64 >"$secret"
chown nobody "$secret"; chmod 600 "$secret"
sed -e 's/^\[httpd\]$/[httpd]\nlisten = 127.0.0.1:8480\napi_listen = 127.0.0.1:8481/' \
    -e 's/^domains = shop.test$/domains = shop.test, shop2.test/' "$conf" >"$conf.api"
printf '[intake]\nsecret_file = %s\n' "$secret" >>"$conf.api"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf.api"
ok 'wait_until 10 _listening tcp 127.0.0.1 8481' "outpost-httpd's API listens"
send_key=$("$CTL_BIN" -c "$conf.api" apikey create shop --scopes send,events)
stats_key=$("$CTL_BIN" -c "$conf.api" apikey create shop --scopes stats)
promo_key=$("$CTL_BIN" -c "$conf.api" apikey create promo --scopes send,events)
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body answers=$WORLD_TMP/answers.tsv
: >"$answers"
# api KEY METHOD PATH [CURL-OPTION...] - the status; the answer kept for the OpenAPI check
api() {
    local key=$1 m=$2 p=$3 st n; shift 3
    : >"$body"
    st=$(curl -s -o "$body" -D "$hdr" -w '%{http_code}' -X "$m" \
        -H "Authorization: Bearer $key" "$@" "http://127.0.0.1:8481$p")
    n=$(($(wc -l <"$answers") + 1))
    cp "$hdr" "$WORLD_TMP/h.$n"; cp "$body" "$WORLD_TMP/b.$n"
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$p" "$st" "$WORLD_TMP/h.$n" "$WORLD_TMP/b.$n" >>"$answers"
    echo "$st"
}
json='{"from": "news@shop.test", "to": ["henry@gmail.test"], "subject": "Over HTTP", "text": "hello"}'
before=$(sink_count gmail)
st=$(api "$send_key" POST /v1/messages -H 'Content-Type: application/json' \
    -H 'Idempotency-Key: http-1' --data-binary "$json")
is "$st" 202 "POST /v1/messages on the API listener: 202"
is "$(field "$(cat "$body")" 'a["messages"][0]["status"]')" queued "the recipient is queued"
qid=$(field "$(cat "$body")" 'a["messages"][0]["queue_id"]')
ok 'sink_wait gmail $((before + 1))' "and delivered"
ok 'maillog_wait "$qid: client=.*sasl_method=XCLIENT, sasl_username=shop"' \
    "as the tenant (XCLIENT LOGIN=shop), queue id $qid"
st=$(api "$send_key" POST /v1/messages -H 'Idempotency-Key: http-1' --data-binary "$json")
is "$st" 202 "the same Idempotency-Key over HTTP: the first answer again"
is "$(field "$(cat "$body")" 'a["messages"][0]["queue_id"]')" "$qid" "with the same queue id"
shop2_key=$("$CTL_BIN" -c "$conf.api" apikey create shop --domains shop2.test --scopes send)
st=$(api "$shop2_key" POST /v1/messages -H 'Idempotency-Key: http-1' \
    --data-binary '{"from": "news@shop2.test", "to": "ivan@gmail.test", "text": "x"}')
is "$st $(field "$(cat "$body")" '[m["to"] for m in a["messages"]]')" "202 ['ivan@gmail.test']" \
    "the same Idempotency-Key from a key of another domain: its own request, not the other's answer"
st=$(api "$stats_key" POST /v1/messages --data-binary "$json")
is "$st" 403 "a key without the send scope: 403"
st=$(api "$promo_key" POST /v1/messages --data-binary "$json")
is "$st" 403 "another tenant's key may not send as shop.test: 403"
st=$(api "$send_key" POST /v1/messages --data-binary '{"from": "news@shop.test"}')
is "$st" 400 "a body without recipients: 400"
is "$(field "$(cat "$body")" 'a["error"]["code"]')" invalid "in the API's one error form"
st=$(api "$send_key" GET /v1/messages)
is "$st" 405 "GET /v1/messages: 405"

# GET /v1/events: the milter's accepted event of henry, on shop's stream
has_event() {
    api "$send_key" GET "/v1/events?limit=1000" >/dev/null &&
        field "$(cat "$body")" '" ".join(e["type"] + ":" + e.get("rcpt", "") for e in a["events"])' |
        grep -q 'accepted:henry@gmail.test'
}
ok 'wait_until 10 has_event' "GET /v1/events gives the accepted event of the message sent"
next=$(field "$(cat "$body")" 'a["next"]')
st=$(api "$send_key" GET "/v1/events?after=$next")
is "$st $(field "$(cat "$body")" 'len(a["events"]), a["next"]')" "200 (0, '$next')" \
    "after the last id: no event, next unchanged"
st=$(api "$promo_key" GET "/v1/events?limit=1000")
is "$st" 200 "promo's key reads promo's stream"
is "$(field "$(cat "$body")" 'sum(e.get("sender") == "shop.test" for e in a["events"])')" 0 \
    "which holds none of shop's events"
st=$(api "$stats_key" GET /v1/events)
is "$st" 403 "a key without the events scope: 403"
st=$(api "$send_key" GET "/v1/events?after=yesterday")
is "$st" 400 "an after that is not an event id: 400"
st=$(api "$send_key" GET "/v1/events?after=99999999999999999999-0")
is "$st" 400 "an after past a stream id's 64 bits: 400, not Redis' error as a 503"
st=$(api "$send_key" GET "/v1/events?after=18446744073709551615-18446744073709551615")
is "$st $(field "$(cat "$body")" 'len(a["events"])')" "200 0" "after the last id there can be: 200, no event"

out=$("$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$answers")
is "$?" 0 "every answer is valid against doc/openapi.yaml"
like "$out" "^[0-9]+ answers valid$" "$(head -n 20 <<<"$out")"
done_testing
