#!/bin/bash
# demo.sh - Outpost's main job, end to end, on this machine only
#
# SYNOPSIS
#	demo/demo.sh		(as root on Debian 12)
#
# DESCRIPTION
#	Installs what is needed, builds Outpost, then inside a private network
#	namespace starts Redis, a DNS server, SMTP sinks standing in for three
#	mailbox providers, and a Postfix relay with outpost-milter and
#	outpost-policyd.  It onboards a sending domain (DKIM keys, the DNS
#	records to publish, a verification), imports a suppression list, sends
#	a sample campaign through the relay, retries what was throttled, and
#	reports what happened to every message, with each delivered message's
#	DKIM signatures checked by an independent verifier.  Then the platform's
#	side: a message sent through outpost-httpd's API, a suppression and the
#	tenant's events read back through it, the same events posted, signed, to
#	a webhook by outpost-webhookd; a test send evaluated as a receiver does;
#	a blocklist listing the relay's address, found by outpostctl reputation
#	and outpost-logd.  Nothing leaves the machine.  KEEP=1 keeps the private
#	world's files for a look.  With OUTPOST_TEST_REDIS=cluster the same demo
#	keeps the relay's state in a Redis Cluster of three masters and three
#	replicas instead of one Redis, and shows how the keys spread.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${_WORLD_NS_PID:-}" != "$$" ] && [ -n "${OUTPOST_BUILDDIR:-}" ] &&
    [ -x "$OUTPOST_BUILDDIR/outpost-milter" ]; then
    :   # built already (make check's tests/integration/demo.sh): use that build
elif [ "${_WORLD_NS_PID:-}" != "$$" ]; then
    # first pass, outside the namespace: install and build
    [ "$(id -u)" = 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }
    echo "== installing packages (tests/install-deps.sh)"
    bash "$top/tests/install-deps.sh" >/tmp/outpost-demo-install.log 2>&1 ||
        { tail -n 20 /tmp/outpost-demo-install.log; exit 1; }
    echo "== building Outpost in _build/demo"
    mkdir -p "$top/_build/demo"
    ( cd "$top" && { [ -x configure ] || ./autogen.sh >/dev/null 2>&1; } &&
      cd _build/demo && { [ -f Makefile ] || ../../configure >/dev/null; } &&
      make -j"$(nproc)" >/dev/null ) || { echo "build failed"; exit 1; }
    export OUTPOST_BUILDDIR=$top/_build/demo
fi
. "$top/tests/lib/world.sh"
world_start "$@"
HTTPD_BIN=$OUTPOST_BUILDDIR/outpost-httpd WEBHOOKD_BIN=$OUTPOST_BUILDDIR/outpost-webhookd
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN" "$HTTPD_BIN" "$WEBHOOKD_BIN" /usr/bin/curl
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
section() { printf '\n== %s\n' "$*"; }

section "a private relay world in $WORLD_DIR"
# three providers; acme.test is a company whose mail Google-like gmail.test hosts
dns_mx gmail.test mx.gmail.test 10;      dns_a mx.gmail.test 127.0.0.11
dns_mx acme.test mx.gmail.test 10
dns_mx outlook.test mx.outlook.test 10;  dns_a mx.outlook.test 127.0.0.12
dns_mx yahoo.test mx.yahoo.test 10;      dns_a mx.yahoo.test 127.0.0.13
dns_a relay.esp.test 192.0.2.10          # the relay's public name and address
ip addr add 192.0.2.10/32 dev lo         # ... which the test send leaves from
ip addr add 192.0.2.25/32 dev lo         # the MX of the bounce domain, for the test send
# a blocklist that lists the relay's address (RFC 5782: the octets reversed)
dns_a 10.2.0.192.zen.bl.test 127.0.0.2
dns_txt 10.2.0.192.zen.bl.test "Listed by ZEN, see https://check.bl.test/?q=192.0.2.10"
redis_start
echo "the relay's state is in Redis: $REDIS_CONF_SERVER"
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
sink_start yahoo 127.0.0.13
sink_rule gmail 'nosuchuser*@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule yahoo 'full*@yahoo.test' '452 4.2.2 Mailbox full'
sink_rule outlook 'blocked*@outlook.test' '554 5.7.1 Service unavailable; Client host [192.0.2.10] blocked using zen.bl.test'
sink_rule yahoo 'busy*@yahoo.test' '421 4.7.0 [TSS04] Messages from 192.0.2.10 temporarily deferred due to unexpected volume or user complaints'

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"; : >"$keys/table"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORLD_DIR/intake.secret"
chown nobody "$WORLD_DIR/intake.secret"; chmod 600 "$WORLD_DIR/intake.secret"
echo "whsec-$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$WORLD_DIR/webhook.secret"
chown nobody "$WORLD_DIR/webhook.secret"; chmod 600 "$WORLD_DIR/webhook.secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
node = relay1
[redis]
$REDIS_CONF_SERVER
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
metrics_listen = 127.0.0.1:9430
# RFC 8058 one-click unsubscribe fields in shop.test's mail, under its DKIM signatures
list_unsubscribe_senders = shop.test
[suppress]
action = reject
on_redis_error = tempfail
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.0/8
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
metrics_listen = 127.0.0.1:9431
# the providers behind the test domains, found by MX: acme.test shares
# google's budget because its MX is google's
# (domains: what the milter, which does no MX lookups, counts them under)
[provider google]
mx = mx.gmail.test
domains = gmail.test, acme.test
rate = 60/m
burst = 12
[provider microsoft]
mx = mx.outlook.test
domains = outlook.test
[provider yahoo]
mx = mx.yahoo.test
domains = yahoo.test
[logd]
maillog = $MAILLOG
metrics_listen = 127.0.0.1:9432
blocklist_interval = 2s
# bounces, complaints and unsubscribes come back to bounce.shop.test (its MX
# is the relay): outgoing mail leaves with a tagged return path there
[intake]
bounce_domain = bounce.%d
secret_file = $WORLD_DIR/intake.secret
[dns]
relay_hostname = relay.esp.test
[pool main]
transport = smtp:
addresses = 192.0.2.10
[httpd]
public_url = https://links.shop.test
listen = 127.0.0.1:8480
# the platform API; its messages go to Postfix's smtpd on :10027 (XCLIENT)
api_listen = 127.0.0.1:8481
submit = inet:127.0.0.1:10027
# shop.test's platform: API keys, and its events posted to its webhook
[tenant shop]
domains = shop.test
webhook_url = http://127.0.0.1:8090/outpost-events
webhook_secret_file = $WORLD_DIR/webhook.secret
[blocklist zen]
zone = zen.bl.test
listed = 127.0.0.2-127.0.0.11
refused = 127.255.255.252-127.255.255.255
delist_url = https://check.bl.test/?q=%s
EOF

section "onboarding shop.test: DKIM keys (RSA-2048 and Ed25519) and its DNS records"
ctl dkim keygen shop.test s2026 --algorithm rsa --add >/dev/null
ctl dkim keygen shop.test e2026 --algorithm ed25519 --add >/dev/null
cat "$keys/table"
ctl dns --json shop.test | /usr/bin/python3 "$top/demo/publish-dns.py" >"$WORLD_DIR/publish.sh"
. "$WORLD_DIR/publish.sh"
dns_start
ctl dns shop.test | grep -v '^;' | cut -c1-110
section "outpostctl verify shop.test (what a receiver will find in DNS)"
ctl verify shop.test

ctl check-config "$conf" || exit 1
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
world_spawn logd "$OUTPOST_BUILDDIR/outpost-logd" -f -c "$conf"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
world_spawn webhookd "$WEBHOOKD_BIN" -f -c "$conf"
mkdir "$WORLD_DIR/webhook"	# shop.test's webhook receiver: one line a POST in its log
world_spawn receiver /usr/bin/python3 "$top/tests/helpers/webhook-receiver.py" \
    127.0.0.1 8090 "$WORLD_DIR/webhook" "$WORLD_DIR/webhook.secret"
wait_until 5 test -S "$WORLD_DIR/run/milter.sock" || { echo "milter did not start"; exit 1; }
wait_until 5 test -S "$WORLD_DIR/run/policy.sock" || { echo "policyd did not start"; exit 1; }
postfix_conf "myhostname = relay.esp.test" \
    "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, permit_auth_destination, reject" \
    "internal_mail_filter_classes = bounce" \
    "relay_domains = bounce.shop.test" \
    "transport_maps = regexp:$WORLD_DIR/transport, inline:{bounce.shop.test=discard:}"
# the API's own smtpd, which lets outpost-httpd name the tenant (XCLIENT LOGIN)
postfix_master "127.0.0.1:10027 inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.1"
# a test send's check address leaves for the bounce domain's MX from the relay's
# public address (here the MX is a second smtpd of this Postfix, with its own name)
echo '/^check-[a-z2-7]+@bounce\.shop\.test$/ outpost-check:[192.0.2.25]:25' >"$WORLD_DIR/transport"
tls_cert mx mx.bounce.shop.test
postfix_master "192.0.2.25:25 inet n - n - - smtpd -o myhostname=mx.bounce.shop.test -o smtpd_tls_security_level=may -o smtpd_tls_cert_file=$WORLD_TMP/mx.pem -o smtpd_tls_key_file=$WORLD_TMP/mx.key" \
    "outpost-check unix - - n - - smtp -o smtp_bind_address=192.0.2.10 -o smtp_tls_security_level=may"
postfix_start
section "does Postfix ask Outpost? (outpostctl check-config --postfix)"
ctl check-config --postfix "$POSTFIX_CONFIG_DIR" || exit 1

# the suppression list the relay already knows: earlier bounces, complaints
# and unsubscribes (one tenant's unsubscribe does not block other senders)
cat >"$WORLD_DIR/suppressions.csv" <<EOF
address,reason,scope,time
reader3@gmail.test,hard-bounce,global,2026-10-01T08:00:00Z
reader5@outlook.test,complaint,global,2026-10-12T17:30:00Z
reader2@yahoo.test,unsubscribe,shop.test,2026-11-02T09:15:00Z
reader4@yahoo.test,unsubscribe,other-tenant.test,2026-11-03T10:00:00Z
@closed.test,hard-bounce,global,2026-09-20T00:00:00Z
EOF
section "importing $(($(wc -l <"$WORLD_DIR/suppressions.csv") - 1)) suppressions"
ctl suppress import "$WORLD_DIR/suppressions.csv"

rcpts=$WORLD_DIR/recipients.txt
{
    for i in $(seq 1 14); do echo "reader$i@gmail.test"; done
    for i in $(seq 1 4); do echo "staff$i@acme.test"; done
    for i in $(seq 1 8); do echo "reader$i@outlook.test"; done
    for i in $(seq 1 6); do echo "reader$i@yahoo.test"; done
    echo "nosuchuser1@gmail.test"; echo "nosuchuser2@gmail.test"
    echo "full1@yahoo.test"
    echo "someone@closed.test"
    echo "busy1@yahoo.test"
    echo "blocked1@outlook.test"
} >"$rcpts"
section "sending a campaign of $(wc -l <"$rcpts") messages from news@shop.test (one recipient each)"
/usr/bin/python3 "$top/demo/campaign.py" "$SMTP_HOST" "$SMTP_PORT" "$rcpts" "$WORLD_DIR/results.tsv"
# the platform retries what the relay throttled, after the time it was told
cp "$WORLD_DIR/results.tsv" "$WORLD_DIR/final.tsv"
for round in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
    grep -P '\tdeferred\t.*retry in' "$WORLD_DIR/final.tsv" | cut -f1 >"$WORLD_DIR/retry.txt"
    [ -s "$WORLD_DIR/retry.txt" ] || break
    retry=$(sed -n 's/.*retry in \([0-9]*\) s.*/\1/p' "$WORLD_DIR/final.tsv" | sort -n | tail -n1)
    echo "round $round: $(wc -l <"$WORLD_DIR/retry.txt") recipients throttled at the google provider; retrying in ${retry}s"
    sleep "$retry"
    /usr/bin/python3 "$top/demo/campaign.py" "$SMTP_HOST" "$SMTP_PORT" "$WORLD_DIR/retry.txt" "$WORLD_DIR/round.tsv"
    # the latest answer for each recipient replaces the earlier one
    awk -F'\t' 'NR == FNR { latest[$1] = $0; next } ($1 in latest) { print latest[$1]; next } { print }' \
        "$WORLD_DIR/round.tsv" "$WORLD_DIR/final.tsv" >"$WORLD_DIR/final.new"
    mv "$WORLD_DIR/final.new" "$WORLD_DIR/final.tsv"
done
postfix_flush
accepted=$(grep -c $'\taccepted\t' "$WORLD_DIR/final.tsv")
wait_until 30 sh -c "[ \$(grep -c 'status=\\(sent\\|bounced\\)\\|status=deferred.*4[25][12]' '$MAILLOG') -ge $accepted ]"

section "what happened to each recipient"
printf '%-24s %-9s %s\n' RECIPIENT OUTCOME DETAIL
while IFS=$'\t' read -r rcpt kind reply; do
    first=$(grep -P "^\Q$rcpt\E\t" "$WORLD_DIR/results.tsv" | cut -f2)
    note=""
    [ "$first" = deferred ] && [ "$kind" = accepted ] && note=" (throttled, accepted on retry)"
    if [ "$kind" = accepted ]; then
        line=$(grep "to=<$rcpt>" "$MAILLOG" | tail -n1)
        st=$(sed -n 's/.*status=\([a-z]*\).*/\1/p' <<<"$line")
        relay=$(sed -n 's/.*relay=\([^,]*\).*/\1/p' <<<"$line")
        said=$(sed -n 's/.*said: \(.*\)/\1/p' <<<"$line" | cut -c1-60)
        printf '%-24s %-9s %s\n' "$rcpt" "${st:-queued}" "${relay}${said:+ said: $said}$note"
    else
        printf '%-24s %-9s %s\n' "$rcpt" "$kind" "$reply"
    fi
done <"$WORLD_DIR/final.tsv"

section "one-click unsubscribe: what reader6@yahoo.test's message carries (outpost-httpd answers the URL)"
eml=$(sink_find yahoo reader6@yahoo.test)
for f in List-Unsubscribe List-Unsubscribe-Post; do
    printf '%s: %s\n' "$f" "$(eml_header "$eml" "$f" | cut -c1-110)"
done
printf 'signed with them: %s\n' "$(eml_header "$eml" DKIM-Signature | head -n1 | tr -d ' \t' |
    grep -o 'h=[^;]*' | grep -io 'list-unsubscribe[^:]*' | tr '\n' ' ')"

section "the relay learns: bounces, a complaint and an unsubscribe come back"
rp=$(eml_envelope "$(sink_find yahoo reader6@yahoo.test)" mail_from)
echo "reader6@yahoo.test's message left with the return path $rp"
echo "Postfix's own bounces for the two unknown gmail users went back to the milter (tagged return path)"
cat >"$WORLD_DIR/arf.eml" <<EOF
From: fbl@feedback.yahoo.test
To: fbl@bounce.shop.test
Subject: complaint about message
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="F"

--F
Content-Type: text/plain

This is an email abuse report: the recipient pressed "this is spam".

--F
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: YahooFBL/1.0
Version: 1
Original-Mail-From: <$rp>

--F
Content-Type: text/rfc822-headers

Return-Path: <$rp>
From: news@shop.test
To: redacted@yahoo.test
Subject: Winter sale

--F--
EOF
send_mail fbl@feedback.yahoo.test fbl@bounce.shop.test --data "$WORLD_DIR/arf.eml"
echo "yahoo's feedback loop reported a complaint about that message"
send_mail reader7@outlook.test unsub@bounce.shop.test --header "Subject: unsubscribe"
echo "reader7@outlook.test mailed the List-Unsubscribe address"
learned() { ctl suppress check --sender news@shop.test "$1" >/dev/null; }
wait_until 5 sh -c "$(declare -f learned ctl); conf=$conf; CTL_BIN=$CTL_BIN; learned nosuchuser1@gmail.test && learned reader6@yahoo.test && learned reader7@outlook.test" || true
for a in nosuchuser1@gmail.test nosuchuser2@gmail.test reader6@yahoo.test reader7@outlook.test; do
    printf '  %-24s %s\n' "$a" "$(ctl suppress check --sender news@shop.test "$a" 2>&1 | head -n1)"
done
echo "intake counters today (outpostctl intake stats):"
ctl intake stats | sed 's/^/  /'
section "next week's campaign to the same four addresses"
sleep 2		# let the google budget refill: this is about suppression
printf '%s\n' nosuchuser1@gmail.test nosuchuser2@gmail.test reader6@yahoo.test reader7@outlook.test >"$WORLD_DIR/next.txt"
/usr/bin/python3 "$top/demo/campaign.py" "$SMTP_HOST" "$SMTP_PORT" "$WORLD_DIR/next.txt" "$WORLD_DIR/next.tsv"
while IFS=$'\t' read -r rcpt kind reply; do
    printf '  %-24s %-9s %s\n' "$rcpt" "$kind" "$reply"
done <"$WORLD_DIR/next.tsv"

section "the platform API (outpost-httpd on :8481): a key for tenant shop, a message, a suppression"
key=$(ctl apikey create shop 2>"$WORLD_DIR/apikey.err")
sed 's/^/  /' "$WORLD_DIR/apikey.err"
# api METHOD PATH [CURL-OPTION...] - the answer's status; its body in $WORLD_DIR/api.json
api() {
    local m=$1 p=$2; shift 2
    curl -s -o "$WORLD_DIR/api.json" -w '%{http_code}' -X "$m" -H "Authorization: Bearer $key" \
        "$@" "http://127.0.0.1:8481$p"
}
st=$(api POST /v1/messages -H 'Content-Type: application/json' --data-binary \
    '{"from": "news@shop.test", "to": ["vip1@outlook.test"], "subject": "Your order", "text": "Shipped today."}')
qid=$(/usr/bin/python3 -c 'import json, sys; m = json.load(open(sys.argv[1]))["messages"][0]
print(m["status"], m.get("queue_id") or m.get("smtp"))' "$WORLD_DIR/api.json")
echo "POST /v1/messages: $st, vip1@outlook.test $qid"
wait_until 20 grep -q 'to=<vip1@outlook.test>.*status=sent' "$MAILLOG" || true
echo "  Postfix: $(grep -o "${qid#* }: client=.*sasl_username=[a-z]*" "$MAILLOG" | sed 's/.*, //'), then $(grep 'to=<vip1@outlook.test>' "$MAILLOG" | grep -o 'status=[a-z]*' | tail -n1)"
eml=$(sink_find outlook vip1@outlook.test)
echo "  its DKIM signatures, by dkimpy: $([ -n "$eml" ] && /usr/bin/python3 "$top/demo/dkim-check.py" "$eml" | head -n1 | cut -c14-)"
st=$(api GET /v1/suppressions/reader6@yahoo.test)
echo "GET /v1/suppressions/reader6@yahoo.test: $st, $(/usr/bin/python3 -c 'import json, sys
d = json.load(open(sys.argv[1])); e = d["entry"]
print("suppressed for %s: %s, %s list, source %s, since %s" % (d["domain"], e["reason"],
      e["domain"] or "global", e["source"], e["created"]))' "$WORLD_DIR/api.json")"
st=$(api GET /v1/suppressions/reader1@yahoo.test)
echo "GET /v1/suppressions/reader1@yahoo.test: $st (nothing stops the mail)"

section "summary"
printf '%-10s %6s %8s %9s %11s %11s\n' PROVIDER SENT BOUNCED DEFERRED SUPPRESSED THROTTLED
for p in gmail outlook yahoo; do
    doms="$p"; [ $p = gmail ] && doms="gmail|acme"
    sent=$(grep "relay=mx.$p.test" "$MAILLOG" | grep -c "status=sent")
    bounced=$(grep "relay=mx.$p.test" "$MAILLOG" | grep -c "status=bounced")
    deferred=$(grep "relay=mx.$p.test" "$MAILLOG" | grep "status=deferred" | grep -o 'to=<[^>]*>' | sort -u | wc -l)
    supp=$(grep -cE "@($doms)\.test	rejected	550 5\.7\.1" "$WORLD_DIR/results.tsv")
    thr=$(grep -cE "@($doms)\.test	deferred	.*retry in" "$WORLD_DIR/results.tsv")
    printf '%-10s %6d %8d %9d %11d %11d\n' "$p" "$sent" "$bounced" "$deferred" "$supp" "$thr"
done
echo "(acme.test's MX is gmail.test's: it shares that provider's budget and sink)"
echo "refused for a suppressed domain: $(grep -c '@closed.test	rejected' "$WORLD_DIR/results.tsv")"

section "DKIM: every delivered message checked by dkimpy against the published keys"
msgs=$(for s in gmail outlook yahoo; do ls "$(sink_dir "$s")"/*.eml 2>/dev/null; done)
# shellcheck disable=SC2086
/usr/bin/python3 "$top/demo/dkim-check.py" $msgs | tail -n 4

section "suppression decisions today (outpostctl suppress stats)"
ctl suppress stats
section "throttle state (outpostctl throttle status)"
ctl throttle status 2>&1 | head -n 12

section "a test send, evaluated as a receiver does (outpostctl test-send)"
ctl test-send --from news@shop.test --via "$SMTP_HOST:$SMTP_PORT" --timeout 20s

section "reputation: is the relay on a blocklist? (outpostctl reputation)"
ctl reputation
wait_until 10 sh -c "\"$CTL_BIN\" -c \"$conf\" stats --json | grep -q '\"listed\": *\[ *{'" || true

section "statistics: milter, policyd, intake and outpost-logd (outpostctl stats --by provider)"
sent_total=$(grep -c 'status=sent' "$MAILLOG")
wait_until 10 sh -c "ctl() { \"$CTL_BIN\" -c \"$conf\" \"\$@\"; }; ctl stats --json | grep -q '\"delivered\": *$sent_total\\b'" || true
ctl stats --by provider
section "backoff: yahoo said TSS04, so outpost-policyd now slows yahoo down (outpostctl backoff list)"
ctl backoff list
section "Prometheus metrics of this node (outpost-logd :9432, outpost-milter :9430, outpost-policyd :9431), a few lines"
scrape() { /usr/bin/python3 -c 'import sys, urllib.request; print(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=5).read().decode())' "$1"; }
scrape 9432 | grep -E '^outpost_logd_deliveries_total\{.*provider="(google|yahoo)"' | head -n 6
scrape 9430 | grep -E '^outpost_milter_(dkim_signatures|suppressed)_total\{' | grep -v ' 0$'
scrape 9431 | grep -E '^outpost_policyd_decisions_total\{' | grep -v ' 0$'
section "several relays share this Redis: do they agree? (outpostctl check-config --cluster)"
ctl check-config --cluster "$conf" | sed -n '/^cluster:/,$p'

if redis_is_cluster; then
    section "the state spread over the Redis Cluster: keys per master (DBSIZE) and its replica"
    for p in $(cluster_masters); do
        echo "master 127.0.0.1:$p: $(cluster_cli "$p" DBSIZE) keys, replica at $(cluster_replica_of "$p")"
    done
fi

section "tenant shop's events: GET /v1/events and its webhook (outpost-webhookd)"
# counts - GET /v1/events, and how many of those events the webhook got, per type
counts() {
    api GET "/v1/events?limit=1000" >/dev/null
    touch "$WORLD_DIR/webhook/log"
    /usr/bin/python3 "$top/demo/event-counts.py" "$WORLD_DIR/api.json" "$WORLD_DIR/webhook/log" \
        >"$WORLD_DIR/counts.txt"
    awk '$1 == "total" { exit !($2 == $3) }' "$WORLD_DIR/counts.txt"
}
wait_until 20 counts || true
cat "$WORLD_DIR/counts.txt"
echo "the newest (outpostctl events shop):"
ctl events shop --limit 1000 2>&1 | grep -v '^next:' | tail -n 2 | cut -c1-110
