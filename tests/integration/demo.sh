#!/bin/bash
# demo.sh - the README's demo runs as written and shows what it says it shows (TAP)
#
# Runs demo/demo.sh with this build (it skips its own install and build when
# OUTPOST_BUILDDIR holds the programs) and checks its report: the domain's DNS
# verifies, Postfix asks Outpost, suppressed recipients are refused, every
# delivered message carries DKIM signatures an independent verifier accepts, the
# reports that come back suppress their addresses for the next campaign, the
# statistics and metrics carry the node's name, and the node agrees with itself.
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
like "$report" "yahoo +default +30/m" "yahoo's TSS04 deferral put it into backoff"
like "$report" 'outpost_logd_deliveries_total\{node="relay1",sender="shop\.test"' \
    "logd's metrics carry the node and the sender's own domain"
like "$report" 'outpost_milter_dkim_signatures_total\{node="relay1",algorithm="ed25519",result="made"\} [1-9]' \
    "the milter's metrics count Ed25519 signatures"
like "$report" 'outpost_policyd_decisions_total\{node="relay1",answer="defer"\} [1-9]' \
    "policyd's metrics count its deferrals"
like "$report" "cluster: every node agrees" "check-config --cluster: the node agrees with itself"
[ "$_tap_failed" = 0 ] || sed 's/^/# /' "$out" | tail -n 80
done_testing
