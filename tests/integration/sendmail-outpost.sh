#!/bin/bash
# sendmail-outpost.sh - what Outpost does for a real Sendmail: outpost-milter signs
# (three verifiers no one here wrote check the delivered copies), refuses a suppressed
# recipient at RCPT while the others of the message are delivered, and asks
# outpost-policyd at RCPT time ([milter] policy_service): a provider's burst, then
# 4.7.1; a pool's warm-up cap, then a deferral; policyd gone, then 4.3.0 (TAP)
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/sendmail.sh"
sendmail_fetch || skip_all "no Sendmail: $SENDMAIL_WHY"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"
for p in opendkim-testmsg /usr/bin/dkimverify; do
    command -v "$p" >/dev/null || skip_all "$p not installed"
done
perl -MMail::DKIM::Verifier -e1 2>/dev/null || skip_all "Mail::DKIM not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
: >"$keys/table"
conf=$WORLD_DIR/outpost.conf
# one file for both daemons, as a site has it
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
policy_service = unix:$WORLD_DIR/run/policy.sock
policy_timeout = 3s
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[provider testmail]
domains = limited.test
rate = 1/h
burst = 3
[pool cold]
transport = smtp_cold
senders = cold.test
schedule = 1:2
[pool warm]
transport = smtp_warm
senders = warm.test
schedule = 1:1
overflow = spill
[pool spill]
transport = smtp_spill
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# keygen DOMAIN SELECTOR ALG - make a key, publish its TXT record
keygen() {
    local rec
    rec=$(ctl dkim keygen "$1" "$2" --algorithm "$3" --add 2>/dev/null |
        grep -o '"[^"]*"' | tr -d '"\n')
    dns_txt "$2._domainkey.$1" "$rec"
}
keygen example.com rsa1 rsa
keygen example.com ed1 ed25519
for d in gmail.test limited.test; do
    dns_mx "$d" "mx.$d" 10
    dns_a "mx.$d" 127.0.0.11
done
dns_start
redis_start
sink_start gmail 127.0.0.11

world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock" -a -S "$WORLD_DIR/run/policy.sock"' \
    "milter and policyd listen"
ok 'wait_until 5 grep -q "asking unix:.*policy.sock about each recipient" "$WORLD_DIR/log/milter.log"' \
    "the milter will ask policyd at RCPT"
ok 'wait_until 5 grep -q "\[pool warm\] overflow = spill: a milter cannot move mail" "$WORLD_DIR/log/milter.log"' \
    "and warns that a pool's overflow cannot work through a milter"
sendmail_start "unix:$WORLD_DIR/run/milter.sock"
pass "sendmail $(sendmail_version) listens"
cf=$WORLD_DIR/sendmail/sendmail.cf
for m in '\{client_addr\}' '\{client_name\}'; do
    like "$(grep '^O Milter.macros.connect' "$cf")" "$m" "connect macros of the shipped fragment: $m"
done
for m in '\{auth_authen\}' '\{mail_addr\}' '(=|, )i,' '(=|, )s(,|$)'; do
    like "$(grep '^O Milter.macros.envfrom' "$cf")" "$m" "MAIL macros of the shipped fragment: $m"
done
for m in '\{rcpt_addr\}' '(=|, )i,'; do
    like "$(grep '^O Milter.macros.envrcpt' "$cf")" "$m" "RCPT macros of the shipped fragment: $m"
done

# --- (a) DKIM: signed through Sendmail, verified by three verifiers
msgdir=$WORLD_DIR/msgs
mkdir -p "$msgdir"
mkmsg() {    # NAME FROM EXTRA-HEADERS BODY
    printf 'From: %s\r\nTo: rcpt@gmail.test\r\nSubject: test %s\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n%s\r\n%s' \
        "$2" "$1" "$1" "$3" "$4" >"$msgdir/$1"
}
mkmsg plain 'Alice <alice@example.com>' '' $'Hello from Sendmail.\r\n'
mkmsg folded $'Alice\r\n <alice@example.com>' \
    $'List-Unsubscribe: <https://example.com/u/1>,\r\n  <mailto:unsub@example.com?subject=x>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nX-Long:  a\r\n\tb   c\r\n' \
    $'Body  with   spaces \r\n\r\n\r\n'
n=0
for name in plain folded; do
    send_mail_sendmail "$name@example.com" "dkim-$name@gmail.test" --data "@$msgdir/$name"
    is "$?" 0 "$name: Sendmail accepts it"
    n=$((n + 1))
done
ok 'sink_wait gmail $n' "both are delivered"
for name in plain folded; do
    eml=$(sink_find gmail "dkim-$name@gmail.test")
    is "$(grep -ci '^DKIM-Signature:' "$eml")" 2 "$name: two signatures (RSA-2048, Ed25519)"
    py=0
    for i in 0 1; do
        /usr/bin/python3 /usr/bin/dkimverify --index "$i" <"$eml" >/dev/null 2>&1 && py=$((py + 1))
    done
    is "$py" 2 "$name: dkimpy verifies both"
    ok 'opendkim-testmsg <"$eml" >/dev/null 2>&1' "$name: opendkim-testmsg verifies"
    is "$(perl -MMail::DKIM::Verifier -e '
        my $v = Mail::DKIM::Verifier->new; $v->load(*STDIN); my $p = 0;
        for my $s ($v->signatures) { $p++ if $s->algorithm eq "rsa-sha256" && $s->result eq "pass" }
        print $p;' <"$eml")" 1 "$name: Mail::DKIM passes the RSA signature"
    like "$(eml_envelope "$eml" helo)" "^$SENDMAIL_HOSTNAME\$" "$name: relayed by Sendmail"
done

# --- (b) suppression: one recipient refused at RCPT, the other delivered
ctl suppress add --reason hard-bounce gone@gmail.test >/dev/null
before=$(sink_count gmail)
send_mail_sendmail news@shop.test gone@gmail.test,here@gmail.test --header "Subject: two"
is "$?" 0 "a message for a suppressed and a clean recipient is accepted"
like "$(smtp_rcpt_reply gone@gmail.test)" '^550 5\.7\.1 <gone@gmail\.test>\.\.\. recipient suppressed \(hard-bounce since [0-9-]+\)' \
    "the suppressed one gets 550 5.7.1 at RCPT"
like "$(smtp_rcpt_reply here@gmail.test)" '^250 ' "the clean one is accepted"
ok 'grep -q "$LAST_SM_QID: suppress: gone@gmail.test from shop.test: rejected" "$WORLD_DIR/log/milter.log"' \
    "the milter's log names Sendmail's queue id ($LAST_SM_QID) at RCPT"
ok 'sink_wait gmail $((before + 1))' "and delivered"
is "$(eml_envelope "$(sink_find gmail here@gmail.test)" rcpt_to)" "here@gmail.test" \
    "to the clean recipient only"
is "$(sink_find gmail gone@gmail.test)" "" "nothing reaches the suppressed address"

# --- (c) throttling: the provider's burst of 3, then policyd's 4.7.1 through Sendmail
before=$(sink_count gmail)
send_mail_sendmail news@shop.test a1@limited.test,a2@limited.test,a3@limited.test,a4@limited.test \
    --header "Subject: burst"
is "$?" 0 "Sendmail accepts the message"
for r in a1 a2 a3; do
    like "$(smtp_rcpt_reply $r@limited.test)" '^250 ' "$r: within the provider's burst: accepted"
done
like "$(smtp_rcpt_reply a4@limited.test)" \
    '^450 4\.7\.1 <a4@limited\.test>\.\.\. rate limit of provider testmail; retry in [0-9]+ s' \
    "a4: beyond the burst: policyd's 450 4.7.1, with the limit named"
ok 'sink_wait gmail $((before + 1))' "the message is delivered"
is "$(eml_envelope "$(sink_find gmail a1@limited.test)" rcpt_to | sort | tr '\n' ' ')" \
    "a1@limited.test a2@limited.test a3@limited.test " "to the three accepted recipients"
send_mail_sendmail news@shop.test a5@limited.test --header "Subject: still limited"
like "$(smtp_rcpt_reply a5@limited.test)" '^450 4\.7\.1 <a5@limited\.test>\.\.\. rate limit of provider testmail' \
    "the next message too (the limit holds across messages and connections)"
like "$(sendmail_maillog_wait 'a5@limited.test.*[Rr]ate limit' 10)" 'Milter' \
    "Sendmail logs the refusal as the milter's"

# --- a warm-up cap: two a day for cold.test, then a deferral until tomorrow
send_mail_sendmail news@cold.test c1@gmail.test,c2@gmail.test,c3@gmail.test --header "Subject: cold"
like "$(smtp_rcpt_reply c2@gmail.test)" '^250 ' "the cold pool's second recipient of the day passes"
like "$(smtp_rcpt_reply c3@gmail.test)" \
    '^450 4\.7\.1 <c3@gmail\.test>\.\.\. warm-up cap of pool cold for today; retry in [0-9]+ s' \
    "the third is deferred: the pool's cap is reached"
# a pool with an overflow: its spill-over (FILTER) needs transports, so it defers too
send_mail_sendmail news@warm.test w1@gmail.test,w2@gmail.test --header "Subject: warm"
like "$(smtp_rcpt_reply w1@gmail.test)" '^250 ' "the warm pool's first recipient passes"
like "$(smtp_rcpt_reply w2@gmail.test)" '^451 4\.7\.1 sending pool full for today' \
    "beyond its cap policyd says FILTER, which Sendmail cannot do: deferred, not sent"
ok 'grep -q "w2@gmail.test deferred: FILTER smtp_spill: cannot be carried out" "$WORLD_DIR/log/milter.log"' \
    "the milter logs why"

# --- policyd gone: policy_default_action = tempfail
world_kill policyd
send_mail_sendmail news@shop.test later@gmail.test --header "Subject: no policyd"
isnt "$?" 0 "with policyd stopped the message is not accepted"
like "$(smtp_rcpt_reply later@gmail.test)" '^451 4\.3\.0 policy service unavailable' \
    "the recipient gets 451 4.3.0, it is not let through unchecked"
ok 'grep -q "later@gmail.test deferred: connect .*policy.sock" "$WORLD_DIR/log/milter.log"' \
    "the milter logs the failure"
rm -f "$WORLD_DIR/run/policy.sock"	# (left by the stopped one) wait for the new socket
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/policy.sock"' "policyd back"
send_mail_sendmail news@shop.test later@gmail.test --header "Subject: policyd back"
is "$?" 0 "the milter reconnects: mail flows again"
is "$(sendmail_queue_count)" 0 "nothing waits in Sendmail's queue"
done_testing
