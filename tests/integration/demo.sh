#!/bin/bash
# demo.sh - the README's demo runs as written and shows what it says it shows (TAP)
#
# Runs demo/demo.sh with this build (it skips its own install and build when
# OUTPOST_BUILDDIR holds the programs) and checks its report: the domain's DNS
# verifies, Postfix asks Outpost, suppressed recipients are refused, every
# delivered message carries DKIM signatures an independent verifier accepts, the
# reports that come back suppress their addresses for the next campaign, the
# statistics and metrics carry the node's name, and the node agrees with itself;
# a message sent through the API is delivered as the tenant and signed, the API
# reads a suppression and the tenant's events, the webhook gets every one of those
# events signed, a test send passes every check, and the blocklist listing the
# relay's address is found by outpostctl reputation and shown in outpostctl stats.
. "$(dirname "$0")/../lib/world.sh"        # TAP functions only: the demo makes its own world
[ "$(id -u)" = 0 ] || skip_all "needs root (the demo makes a network namespace)"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

out=$(mktemp /tmp/outpost-demo-test.XXXXXX)
trap 'rm -f "$out"' EXIT
bash "$OUTPOST_SRCDIR/demo/demo.sh" >"$out" 2>&1
is "$?" 0 "demo/demo.sh exits 0"
report=$(cat "$out")

like "$report" "shop\\.test: [0-9]+ pass, 0 warn, 0 fail" "outpostctl verify: the published records all pass"
like "$report" "configuration OK" "the demo's outpost.conf is accepted"
like "$report" "postfix: configuration OK" "check-config --postfix: Postfix asks the policy service and the milter"
like "$report" "reader3@gmail\\.test +rejected +550 5\\.7\\.1 recipient suppressed \\(hard-bounce" \
    "an imported hard bounce is refused at RCPT"
like "$report" "someone@closed\\.test +rejected +550 5\\.7\\.1 recipient suppressed \\(domain" \
    "a suppressed domain is refused"
like "$report" "reader4@yahoo\\.test +sent" "another tenant's unsubscribe does not block shop.test's mail"
like "$report" "throttled, accepted on retry" "the google budget throttles, and the retries get through"
n=$(sed -n 's/^verified \([0-9]*\) of \([0-9]*\) messages$/\1 \2/p' <<<"$report")
ok '[ -n "$n" ] && [ "${n% *}" = "${n#* }" ] && [ "${n% *}" -gt 20 ]' \
    "dkimpy verifies every delivered message ($n)"
unlike "$report" "(rsa|ed25519)-sha256 (fail|neutral|temperror|permerror)" "no signature fails"
like "$report" "List-Unsubscribe-Post: List-Unsubscribe=One-Click" "shop.test's mail offers one-click unsubscribe"
like "$report" "signed with them: (List-Unsubscribe(-Post)? ){4}" "under its DKIM signature, oversigned"
for a in nosuchuser1@gmail.test nosuchuser2@gmail.test reader6@yahoo.test reader7@outlook.test; do
    like "$report" "  $a +rejected +550 5\\.7\\.1" "next campaign: $a is refused after its report came back"
done
like "$report" "yahoo +main +30/m" "yahoo's TSS04 deferral put its pool main (transport smtp:) into backoff"
like "$report" 'outpost_logd_deliveries_total\{node="relay1",sender="shop\.test"' \
    "logd's metrics carry the node and the sender's own domain"
like "$report" 'outpost_milter_dkim_signatures_total\{node="relay1",algorithm="ed25519",result="made"\} [1-9]' \
    "the milter's metrics count Ed25519 signatures"
like "$report" 'outpost_policyd_decisions_total\{node="relay1",answer="defer"\} [1-9]' \
    "policyd's metrics count its deferrals"
like "$report" "cluster: every node agrees" "check-config --cluster: the node agrees with itself"

# the platform API, the webhook, test-send, reputation
like "$report" "key [0-9a-f]{16} for tenant shop: scopes send,suppress,stats,events" "apikey create shop"
like "$report" "POST /v1/messages: 202, vip1@outlook\\.test queued [0-9A-Z]+"$'\n' "POST /v1/messages: queued"
like "$report" "Postfix: sasl_username=shop, then status=sent" "sent as the tenant (XCLIENT LOGIN) and delivered"
like "$report" "by dkimpy: d=shop\\.test s=s2026 a=rsa-sha256 pass; d=shop\\.test s=e2026 a=ed25519-sha256 pass" \
    "the API's message carries both signatures, and they verify"
like "$report" "GET /v1/suppressions/reader6@yahoo\\.test: 200, suppressed for shop\\.test: complaint, global list, source arf" \
    "GET /v1/suppressions: the complaint the campaign brought back"
like "$report" "GET /v1/suppressions/reader1@yahoo\\.test: 404" "GET /v1/suppressions: 404 for an address nothing stops"
for t in accepted delivered deferred bounced suppressed throttled complaint unsubscribe; do
    c=$(awk -v t="$t" '$1 == t && NF == 3 { print $2, $3 }' <<<"$report")
    ok '[ -n "$c" ] && [ "${c% *}" -gt 0 ] && [ "${c% *}" = "${c#* }" ]' \
        "GET /v1/events lists $t events, and the webhook got each ($c)"
done
# one bounced event per recipient the report shows bounced: the relay's own DSN of a
# refusal (read back by the intake) adds none to what outpost-logd wrote from the log
is "$(awk '$1 == "bounced" && NF == 3 { print $2 }' <<<"$report")" \
    "$(grep -cE '^[^ ]+@[^ ]+ +bounced ' <<<"$report")" "one bounced event per bounced recipient"
c=$(awk '$1 == "total" && NF == 3 { print $2, $3 }' <<<"$report")
ok '[ -n "$c" ] && [ "${c% *}" -gt 50 ] && [ "${c% *}" = "${c#* }" ]' "the webhook got every event listed ($c)"
c=$(sed -n 's/^webhook: \([0-9]*\) POSTs, \([0-9]*\) with a valid Outpost-Signature$/\1 \2/p' <<<"$report")
ok '[ -n "$c" ] && [ "${c% *}" -gt 0 ] && [ "${c% *}" = "${c#* }" ]' "every webhook POST is signed validly ($c)"
for c in dkim spf dmarc received tls one-click bulk-sender; do
    like "$report" "(^|"$'\n'")pass  $c " "test-send: $c passes"
done
like "$report" "the hop from 192\\.0\\.2\\.10 was encrypted" "test-send: the hop left from the relay's address over TLS"
like "$report" $'\n'"0 checks failed"$'\n' "test-send: no check fails"
like "$report" $'\n'"192\\.0\\.2\\.10 zen listed 127\\.0\\.0\\.2 reason: Listed by ZEN" \
    "outpostctl reputation: the pool address is listed, with the list's reason"
like "$report" $'\n'"1 listed, 0 clean, 0 unknown"$'\n' "outpostctl reputation: the tally"
like "$report" "blocklists: listed now"$'\n'"  zen +192\\.0\\.2\\.10 +since " "outpostctl stats: the listing"
like "$report" "bounces naming a blocklist:"$'\n'"  list +pool +bounces"$'\n'"  zen +[a-z]+ +1"$'\n\n' \
    "outpostctl stats: blocked1@outlook.test's bounce counted once, under zen"
if redis_is_cluster; then                   # OUTPOST_TEST_REDIS=cluster: the demo's world too
    like "$report" "the relay's state is in Redis: cluster = " "the demo ran on a Redis Cluster"
    is "$(grep -cE '^master 127\.0\.0\.1:[0-9]+: [1-9][0-9]* keys, replica at [0-9]+$' <<<"$report")" 3 \
        "its state is spread over the three masters, each with a replica"
fi
[ "$_tap_failed" = 0 ] || sed 's/^/# /' "$out" | tail -n 120
done_testing
