#!/bin/bash
# sendmail-relay.sh - outpost-milter in the mail path of a real Sendmail, next to the
# world's Postfix: delivery by MX lookup, and a tempfail while the filter is down (TAP)
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/sendmail.sh"
sendmail_fetch || skip_all "no Sendmail: $SENDMAIL_WHY"
world_start "$@"
need_programs "$MILTER_BIN"

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
EOF

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx1.outlook.test 10
dns_a mx1.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"

sendmail_start "unix:$WORLD_DIR/run/milter.sock"
pass "sendmail $(sendmail_version) listens on $SENDMAIL_HOST:$SENDMAIL_PORT"
like "$(grep -c '^Xoutpost' "$WORLD_DIR/sendmail/sendmail.cf")" '^1$' \
    "the .cf built with conf-examples/sendmail.mc has the filter"
like "$(grep '^Xoutpost' "$WORLD_DIR/sendmail/sendmail.cf")" 'F=T, T=C:30s;S:30s;R:30s;E:5m' \
    "with F=T and Postfix-like timeouts"
like "$(grep '^O Milter.macros.envrcpt' "$WORLD_DIR/sendmail/sendmail.cf")" '\{rcpt_addr\}' \
    "and the macros the milter needs"

# --- two providers, routed by MX through the world's DNS
send_mail_sendmail news@shop.test alice@gmail.test,bob@outlook.test \
    --header "Subject: via sendmail" --header "Message-ID: <sm1@shop.test>"
is "$?" 0 "sendmail accepts a message for two providers"
isnt "$LAST_SM_QID" "" "and names its queue id ($LAST_SM_QID)"
ok 'sink_wait gmail 1' "gmail's sink got it"
ok 'sink_wait outlook 1' "outlook's sink got it"
is "$(sink_rcpts gmail)" alice@gmail.test "only gmail's recipient at gmail's MX"
is "$(sink_rcpts outlook)" bob@outlook.test "only outlook's recipient at outlook's MX"
eml=$(sink_find gmail alice@gmail.test)
is "$(eml_header "$eml" Subject)" "via sendmail" "the message arrives intact"
is "$(eml_envelope "$eml" helo)" "$SENDMAIL_HOSTNAME" "sent by the Sendmail (its HELO name)"
ok 'sendmail_maillog_wait "$LAST_SM_QID: to=<alice@gmail.test>.*mailer=esmtp, .*relay=mx\\.gmail\\.test\\. \\[127\\.0\\.0\\.11\\].*stat=Sent"' \
    "Sendmail's log: relayed to gmail's MX host"
like "$(sendmail_maillog_grep "$LAST_SM_QID: Milter")" "." "Sendmail's log shows the filter saw the message" ||
    diag "$(sendmail_maillog | tail -n 20)"
is "$(sendmail_queue_count)" 0 "Sendmail's queue is empty"

# --- a provider says "later": Sendmail queues, and a queue run delivers
sink_rule outlook '*@outlook.test' '451 4.7.1 try later'
send_mail_sendmail news@shop.test frank@outlook.test --header "Subject: deferred once"
is "$?" 0 "sendmail accepts mail a provider defers"
is "$(sendmail_queue_count)" 1 "and keeps it in its queue"
sink_rules_clear outlook
sendmail_flush     # (the daemon's own queue runner, -q2s, may get there first)
ok 'wait_until 10 eval "sink_find outlook frank@outlook.test"' "a queue run delivers it"
ok 'wait_until 5 eval "[ \$(sendmail_queue_count) = 0 ]"' "and the queue is empty again"

# --- Postfix in the same world, through the same filter, routes the same way
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail"
postfix_start
send_mail news@shop.test carol@gmail.test --header "Subject: via postfix"
ok 'sink_wait gmail 2' "Postfix next to it delivers to the same sink"
is "$(eml_envelope "$(sink_find gmail carol@gmail.test)" helo)" relay.test "(sent by Postfix)"

# --- the filter gone (killed: libmilter takes ~5 s to stop on SIGTERM): F=T makes
# Sendmail answer "try again later"
mpid=$(world_pid milter)
world_kill milter KILL
wait "$mpid" 2>/dev/null      # reap it here, quietly (no "Killed" job notice)
ok '_pid_gone "$mpid"' "milter killed"
send_mail_sendmail news@shop.test dave@gmail.test --header "Subject: must not pass"
isnt "$?" 0 "with the milter stopped Sendmail does not accept the message"
like "$(cat "$SWAKS_OUT")" '<\*\* +451 4\.3\.2 ' "it tempfails (451 4.3.2), it does not pass mail unfiltered"
sleep 1
is "$(sink_count gmail)" 2 "nothing more was delivered"
is "$(sendmail_queue_count)" 0 "and nothing was queued"

# --- the filter back: mail flows again without restarting Sendmail
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter restarted"
send_mail_sendmail news@shop.test erin@gmail.test --header "Subject: again"
is "$?" 0 "Sendmail accepts again once the milter is back"
ok 'sink_wait gmail 3' "and delivers"
done_testing
