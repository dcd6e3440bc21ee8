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
delivered_ge() { [ "$(delivered)" -ge "$1" ]; }
delivered_wait() {
    wait_until 90 delivered_ge "$1" && return 0
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
# every scope of the sender domain and its parents applies, not just the nearest
ctl suppress add --reason unsubscribe --scope mail.shop.test zoe@gmail.test >/dev/null
out=$(ctl suppress check --sender bounces@mail.shop.test bob@gmail.test); rc=$?
is "$rc" 0 "the tenant's scope applies to a subdomain that has a scope of its own"
like "$out" "unsubscribe, scope shop\.test" "and is named"
ctl suppress check --sender bounces@mail.shop.test zoe@gmail.test >/dev/null; rc=$?
is "$rc" 0 "so does the subdomain's own scope"
ctl suppress check --sender news@shop.test zoe@gmail.test >/dev/null; rc=$?
is "$rc" 1 "which does not apply to its parent"
ok 'delivered_wait 5' "the other recipients are delivered"
# a sender whose local part is longer than RFC 5321 allows (VERP-style senders are),
# which the MTA accepts: the scopes are those of its domain all the same
send_mail "bounces-$(printf 'x%.0s' $(seq 70))@shop.test" bob@gmail.test
like "$(rcpt_reply bob@gmail.test)" '^550 5\.7\.1 .*unsubscribe' \
    "a sender with an over-long local part still falls under its domain's scope"
# and such a recipient is still under the entries of its domain
long_rcpt="list-$(printf 'y%.0s' $(seq 70))@blocked.test"
send_mail news@shop.test "$long_rcpt"
like "$(rcpt_reply "$long_rcpt")" '^550 5\.7\.1 .*domain, complaint' \
    "a recipient with an over-long local part is refused by its domain's entry"

# --- counters; on a cluster the milter writes them from a later check (at most
# once a second): a message to a suppressed domain makes one
counts_written() {
    redis_is_cluster && send_mail news@other.test x@blocked.test >/dev/null 2>&1
    ctl suppress stats | grep -Eq 'other\.test +none +pass +1'
}
wait_until 30 counts_written
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

# --- what an import replaces: an expiring row never a permanent entry (unless --force),
# the same target twice in one file, a field too long for the compact buckets
# reason_of ADDRESS [SENDER] - the reason check --json gives
reason_of() {
    ctl suppress check --json ${2:+--sender "$2"} "$1" 2>/dev/null \
        | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)["addresses"][0]; print(a["entry"]["reason"] if a["suppressed"] else "none")'
}
entries() { ctl suppress stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])'; }
long=$(printf 'l%.0s' $(seq 40))@$(printf 'd%.0s' $(seq 30)).gmail.test
n0=$(entries)
{ echo address,reason,scope,time,expires; printf '%s\n' \
    "perm@gmail.test,hard-bounce,global,1717243200," \
    "twice1@gmail.test,soft-bounce,global,1717243200,2099-01-01" \
    "twice1@gmail.test,complaint,global,1717243200," \
    "twice2@gmail.test,complaint,global,1717243200," \
    "twice2@gmail.test,soft-bounce,global,1717243200,2099-01-01" \
    "$long,unsubscribe,shop.test,1717243200,"; } >"$WORLD_TMP/first.csv"
like "$(ctl suppress import "$WORLD_TMP/first.csv" 2>&1)" "imported 6 rows" "six rows imported"
is "$(entries)" "$((n0 + 4))" "four entries: a target given twice is one entry"
is "$(reason_of twice1@gmail.test)" complaint "an expiring row, then a permanent one: the permanent one"
is "$(reason_of twice2@gmail.test)" complaint "a permanent row, then an expiring one: the permanent one stays"
is "$(reason_of "$long" news@shop.test)" unsubscribe "a scoped entry too long for a compact bucket is found"
is "$(reason_of "$long" news@other.test)" none "in its scope only"
printf 'address,reason,scope,time,expires\nperm@gmail.test,soft-bounce,global,1717243200,2099-01-01\n' \
    >"$WORLD_TMP/second.csv"
ctl suppress import "$WORLD_TMP/second.csv" >/dev/null 2>&1
is "$(reason_of perm@gmail.test)" hard-bounce "an expiring row does not replace a permanent entry"
ctl suppress import --force "$WORLD_TMP/second.csv" >/dev/null 2>&1
is "$(reason_of perm@gmail.test)" soft-bounce "unless --force"
is "$(entries)" "$((n0 + 4))" "and the entry count did not change"

# --- on a cluster: the spread layout
if redis_is_cluster; then
    # copies NAME - how many buckets of the spread layout hold the field NAME
    copies() {
        redis_cli --scan --pattern '*{sup:*}:b:*' | while read -r k; do
            redis_cli HKEYS "$k"; done | grep -cx "$1"
    }
    ctl suppress add --reason soft-bounce --expires 2020-01-01 @old.test >/dev/null
    is "$(copies @old.test)" 256 "a domain entry is written into its domain's 256 tags"
    like "$(ctl suppress purge)" "purged 1 expired entries" "purge counts it once"
    is "$(copies @old.test)" 0 "and deletes every copy"
    ctl suppress add --reason complaint @wide.test >/dev/null
    mapfile -t wide < <(seq -f 'u%g@wide.test' 1 2000)
    ctl suppress check "${wide[@]}" >/dev/null; rc=$?
    is "$rc" 0 "a domain entry suppresses its addresses in each of the 256 tags"
    ctl suppress remove @wide.test >/dev/null
    is "$(copies @wide.test)" 0 "remove deletes every copy"
    ctl suppress check u1@wide.test u2@wide.test >/dev/null; rc=$?
    is "$rc" 1 "and lifts the entry"

    /usr/bin/python3 "$OUTPOST_SRCDIR/tests/bench/gen-suppress-csv.py" 3000 7 >"$WORLD_TMP/big.csv"
    before=$(ctl suppress stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])')
    like "$(ctl suppress import "$WORLD_TMP/big.csv" 2>&1)" "imported 3000 rows" "3000 rows imported"
    total=0
    for p in $(cluster_masters); do
        n[p]=$(cluster_cli "$p" --scan --pattern '*{sup:*' | wc -l)
        total=$((total + n[p]))
    done
    for p in $(cluster_masters); do
        ok "[ $((n[p] * 5)) -ge $total ]" "master $p holds its share of the buckets (${n[p]} of $total keys)"
    done
    count=$(ctl suppress stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])')
    is "$count" "$((before + 3000))" "the entry count grew by 3000 (a domain entry counted once)"
    ctl suppress export >"$WORLD_TMP/out.csv" 2>/dev/null
    is "$(tail -n +2 "$WORLD_TMP/out.csv" | wc -l)" "$count" "export gives every entry"
    is "$(tail -n +2 "$WORLD_TMP/out.csv" | cut -d, -f1,3 | sort | uniq -d | wc -l)" 0 \
        "and each once"
    is "$(ctl suppress list | wc -l)" "$count" "so does list"
    ctl suppress check "$(grep -m1 '^user.*,global,' "$WORLD_TMP/big.csv" | cut -d, -f1)" \
        >/dev/null; rc=$?
    is "$rc" 0 "an imported global entry is found"
    row=$(grep -m1 '^user.*,unsubscribe,tenant' "$WORLD_TMP/big.csv")
    ctl suppress check --sender "news@$(cut -d, -f3 <<<"$row")" "$(cut -d, -f1 <<<"$row")" \
        >/dev/null; rc=$?
    is "$rc" 0 "an imported scoped entry is found"

    # an import while 200 slots move from the first master to the second
    /usr/bin/python3 "$OUTPOST_SRCDIR/tests/bench/gen-suppress-csv.py" 3000 8 |
        sed 's/^user/moved/; s/^@d/@m/' >"$WORLD_TMP/moved.csv"
    m1=$((CLUSTER_PORT0 + 1)) m2=$((CLUSTER_PORT0 + 2))
    redis-cli ${CLUSTER_PASSWORD:+-a "$CLUSTER_PASSWORD"} --no-auth-warning \
        --cluster reshard "$CLUSTER_HOST:$m1" --cluster-from "$(cluster_id "$m1")" \
        --cluster-to "$(cluster_id "$m2")" --cluster-slots 200 --cluster-yes \
        >"$WORLD_TMP/reshard.log" 2>&1 &
    resharding=$!
    out=$(ctl suppress import "$WORLD_TMP/moved.csv" 2>&1); rc=$?
    wait "$resharding"; rs=$?
    is "$rs" 0 "the slots moved"
    is "$rc" 0 "the import went on through the move"
    like "$out" "imported 3000 rows" "every row imported"
    n=$(ctl suppress export 2>/dev/null | tail -n +2 | wc -l)
    is "$n" "$((count + 3000))" "and exported"
    ctl suppress check "$(grep -m1 '^moved.*,global,' "$WORLD_TMP/moved.csv" | cut -d, -f1)" \
        >/dev/null; rc=$?
    is "$rc" 0 "and checked"
fi
done_testing
