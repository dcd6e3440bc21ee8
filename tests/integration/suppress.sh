#!/bin/bash
# suppress.sh - suppression list through a real Postfix: suppressed recipients are
# refused (or dropped in discard mode) while the others of the same message are
# delivered; a reload switches the action; scopes, domain entries, expiry; Redis down means a temporary failure,
# never delivery; CSV import of a malformed file (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"

# write_conf ACTION ON_ERROR - the configuration the milter and outpostctl read
conf=$WORLD_DIR/outpost.conf
write_conf() {
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
[suppress]
action = $1
on_redis_error = $2
EOF
}
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
milter_restart() {
    local old; old=$(world_pid milter 2>/dev/null)
    if [ -n "$old" ]; then     # libmilter takes seconds to stop on TERM
        world_kill milter KILL
        wait "$old" 2>/dev/null
    fi
    rm -f "$WORLD_DIR/run/milter.sock"
    world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
    wait_until 5 test -S "$WORLD_DIR/run/milter.sock"
}
# rcpt_reply ADDR - the server's answer to RCPT TO:<ADDR> in the last transcript
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}
# delivered - how many recipients the gmail sink has accepted so far
delivered() { sink_rcpts gmail | wc -l; }
# delivered_wait N - until the gmail sink has accepted N recipients; a bound past
# Postfix's service_throttle_time (60 s: a transport whose process failed to start
# is paused that long), and on a miss the log of the deliveries so far
delivered_wait() {
    wait_until 90 test "$(delivered)" -ge "$1" && return 0
    grep -E 'postfix/(smtp|qmgr|master)\[|fatal|warning' "$MAILLOG" | tail -n 30 |
        while read -r l; do diag "maillog: $l"; done >&2
    return 1
}

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx blocked.test mx.blocked.test 10
dns_a mx.blocked.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start blocked 127.0.0.12
write_conf reject tempfail
ok 'milter_restart' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail"
postfix_start

# --- the list
ctl suppress add --reason hard-bounce alice@gmail.test >/dev/null
ctl suppress add --reason unsubscribe --scope shop.test bob@gmail.test >/dev/null
ctl suppress add --reason complaint @blocked.test >/dev/null
ctl suppress add --reason soft-bounce --expires 2020-01-01 dave@gmail.test >/dev/null
ctl suppress add --reason unsubscribe --scope other.test erin@gmail.test >/dev/null
is "$(ctl suppress stats --json | /usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["entry_count"], d["day"])')" \
    "5 $(date -u +%Y-%m-%d)" \
    "five entries stored"
out=$(ctl suppress check --sender news@shop.test bob@gmail.test); rc=$?
is "$rc" 0 "check: bob is suppressed for shop.test"
like "$out" "unsubscribe, scope shop.test" "and says why"
ctl suppress check bob@gmail.test >/dev/null; rc=$?
is "$rc" 1 "check: bob is not suppressed globally"
like "$(ctl suppress check --json x@Blocked.TEST)" '"suppressed":true.*"target":"@blocked.test".*"reason":"complaint"' \
    "check --json: the domain entry covers any address in it"

# --- reject mode: one message, five recipients
send_mail news@shop.test alice@gmail.test,bob@gmail.test,carol@gmail.test,x@blocked.test,dave@gmail.test,erin@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^550 5\.7\.1 .*hard-bounce since [0-9]{4}-' "global hard bounce refused with 550 5.7.1, reason and date"
like "$(rcpt_reply bob@gmail.test)" '^550 5\.7\.1 .*unsubscribe' "unsubscribe in the sender's scope refused"
like "$(rcpt_reply x@blocked.test)" '^550 5\.7\.1 .*domain, complaint' "domain entry refused"
like "$(rcpt_reply carol@gmail.test)" '^250' "an unlisted recipient accepted"
like "$(rcpt_reply dave@gmail.test)" '^250' "an expired entry no longer suppresses"
like "$(rcpt_reply erin@gmail.test)" '^250' "another tenant's unsubscribe does not apply"
ok 'delivered_wait 3' "the accepted recipients are delivered"
is "$(sink_rcpts gmail | sort | tr '\n' ' ')" "carol@gmail.test dave@gmail.test erin@gmail.test " \
    "exactly carol, dave and erin"
is "$(sink_count blocked)" 0 "nothing reached the suppressed domain"

# --- scopes: another sender; a subdomain of the tenant
send_mail news@other.test alice@gmail.test,bob@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^550 5\.7\.1' "a global entry blocks every sender"
like "$(rcpt_reply bob@gmail.test)" '^250' "shop.test's unsubscribe does not block other.test"
send_mail bounces@mail.shop.test bob@gmail.test,carol@gmail.test
like "$(rcpt_reply bob@gmail.test)" '^550 5\.7\.1' "a sender subdomain falls under its tenant's scope"
ok 'delivered_wait 5' "the other recipients are delivered"

# --- counters
stats=$(ctl suppress stats)
like "$stats" 'shop\.test +hard-bounce +reject +1' "decisions counted per sender domain and reason"
like "$stats" 'other\.test +none +pass +1' "passes counted too"

# --- discard mode: accepted at RCPT, removed at end of message
write_conf discard tempfail
milter_restart
send_mail news@shop.test alice@gmail.test,frank@gmail.test --header "Subject: discard mode"
like "$(rcpt_reply alice@gmail.test)" '^250' "discard mode accepts the suppressed recipient"
ok 'delivered_wait 6' "the message is delivered"
f=$(sink_find gmail frank@gmail.test)
is "$(eml_envelope "$f" rcpt_to)" "frank@gmail.test" "to frank only: alice was removed"
is "$(sink_rcpts gmail | grep -c alice)" 0 "alice never received anything"
send_mail news@shop.test alice@gmail.test --header "Subject: all suppressed"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a message to suppressed recipients only is accepted"
ok 'maillog_wait "discard: END-OF-MESSAGE" 10' "and discarded by Postfix"
sleep 1
is "$(delivered)" 6 "nothing more delivered"

# --- a reload (SIGHUP) changes [suppress] action for the messages that follow
write_conf reject tempfail
world_kill milter HUP
ok 'wait_until 5 grep -q "reloaded $conf" "$WORLD_DIR/log/milter.log"' "the milter reloads on SIGHUP"
send_mail news@shop.test alice@gmail.test --header "Subject: after the reload"
like "$(rcpt_reply alice@gmail.test)" '^550 5\.7\.1' "after the reload the suppressed recipient is refused again"

# --- Redis down: temporary failure, nothing delivered
write_conf reject tempfail
milter_restart
redis_stop
send_mail news@shop.test alice@gmail.test,carol@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^451 4\.3\.0' "Redis down: a suppressed recipient gets 451 4.3.0"
like "$(rcpt_reply carol@gmail.test)" '^451 4\.3\.0' "and so does every other recipient"
redis_start
redis_pause
send_mail news@shop.test alice@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^451 4\.3\.0' "Redis hanging: 451 after the command timeout"
redis_resume
sleep 1
is "$(delivered)" 6 "nothing was delivered while Redis was away"
like "$(cat "$WORLD_DIR/log/milter.log")" "suppress: alice@gmail.test from shop.test: " "the failure is logged"
# (Redis restarted empty: the list has to be loaded again)
ctl suppress add --reason hard-bounce alice@gmail.test >/dev/null
send_mail news@shop.test alice@gmail.test,carol@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^550 5\.7\.1' "Redis back: checks work again"
ok 'delivered_wait 7' "carol delivered"

# --- fail-open, explicitly configured
write_conf reject accept
milter_restart
redis_stop
send_mail news@shop.test greg@gmail.test
like "$(rcpt_reply greg@gmail.test)" '^250' "on_redis_error = accept lets mail through"
like "$(cat "$WORLD_DIR/log/milter.log")" "FAIL-OPEN: greg@gmail.test" "loudly logged"
redis_start

# --- import of a malformed file
csv=$WORLD_TMP/list.csv
cat >"$csv" <<'EOF'
address,reason,scope,time,expires
ok1@gmail.test,hard-bounce,global,2024-06-01T12:00:00Z,
not-an-address,hard-bounce,global,2024-06-01,
ok2@gmail.test,unsubscribe,shop.test,1717243200,
ok3@gmail.test,bounced,global,1717243200,
"unterminated@gmail.test,manual,global,1
ok4@gmail.test,complaint,global,1717243200,2099-01-01
EOF
out=$(ctl suppress import --strict "$csv" 2>&1); rc=$?
is "$rc" 1 "import --strict refuses a file with bad rows"
like "$out" "list\.csv:3: address has no '@'" "names line 3 and the problem"
like "$out" "list\.csv:5: .*bounced|list\.csv:5: unknown reason" "and line 5"
like "$out" "nothing written" "and says nothing was written"
ctl suppress check ok1@gmail.test >/dev/null; rc=$?
is "$rc" 1 "indeed nothing was written"
out=$(ctl suppress import <"$csv" 2>&1); rc=$?
is "$rc" 1 "a plain import of the same file exits 1"
like "$out" "stdin:6: unterminated quoted field" "each bad row reported (line 6)"
like "$out" "imported 3 rows, 3 invalid skipped" "the valid rows are imported"
ctl suppress check --sender shop.test ok1@gmail.test ok2@gmail.test ok4@gmail.test >/dev/null; rc=$?
is "$rc" 0 "the three valid rows are in the list"

# --- export, remove, purge
exp=$(ctl suppress export 2>/dev/null)
is "$(head -1 <<<"$exp")" "address,reason,scope,time,expires,source" "export starts with a header"
like "$exp" 'ok2@gmail.test,unsubscribe,shop.test,2024-06-01T12:00:00Z,,import' "and holds the imported rows"
ctl suppress remove ok1@gmail.test >/dev/null
ctl suppress check ok1@gmail.test >/dev/null; rc=$?
is "$rc" 1 "remove lifts an entry"
ctl suppress add --reason soft-bounce --expires 2020-01-01 old@gmail.test >/dev/null
like "$(ctl suppress purge)" "purged 1 expired entries" "purge deletes expired entries"
done_testing
