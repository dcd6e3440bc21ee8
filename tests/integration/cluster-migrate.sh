#!/bin/bash
# cluster-migrate.sh - the relay rides through a slot migration (TAP). While the
# slot of a suppressed recipient's keys, then the slot of outpost-policyd's
# throttling keys ({rl}), is MIGRATING on its master and IMPORTING on another, a
# check's script is refused with TRYAGAIN (its keys are split between the two
# nodes, or some exist nowhere yet) and, once the keys have moved, redirected with
# ASK to the importing node, which refuses it with TRYAGAIN too. The clients wait
# (the command did not run) and send it again: when the migration ends the check
# answers what it would have answered without one (550 for the suppressed
# recipient through a real Postfix and the milter; policyd's decisions, its rate
# limit counted on the new master), not a temporary failure.
# The migration is driven step by step, not raced: each step waits until Redis
# counts the refusals (INFO errorstats errorstat_TRYAGAIN) on the node concerned.
# Always on a Redis Cluster of three masters (tests/lib/cluster.sh).
#
# Run as root: tests/integration/cluster-migrate.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source=../lib/cluster.sh
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
CLUSTER_NODES=3 CLUSTER_REPLICAS=0 cluster_start
sink_start gmail 127.0.0.11

# long enough that no assertion depends on how fast the steps below are
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
cluster = $(cluster_seeds)
command_timeout = 10s
reconnect_min = 50ms
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
on_redis_error = tempfail
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
decision_timeout = 20s
sender_rate = 100/s
sender_burst = 100
[provider bulkmail]
domains = bulk.test
rate = 1/h
burst = 4
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter listens"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail"
postfix_start

# rcpt_reply ADDR - the server's answer to RCPT TO:<ADDR> in the last transcript
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}
# tryagains PORT - how many TRYAGAIN errors the node has replied
tryagains() {
    cluster_cli "$1" INFO errorstats | tr -d '\r' |
        sed -n 's/^errorstat_TRYAGAIN:count=\([0-9]*\).*/\1/p' | grep . || echo 0
}
# mail_bg FROM TO - send_mail in the background, its transcript in $WORLD_TMP/bg.log
mail_bg() {
    swaks --server "$SMTP_HOST:$SMTP_PORT" --helo client.test --timeout 40 \
        --from "$1" --to "$2" </dev/null >"$WORLD_TMP/bg.log" 2>&1 &
    mail_pid=$!
}
# grew PORT BEFORE - the node has replied TRYAGAIN since it had replied BEFORE
grew() { [ "$(tryagains "$1")" -gt "$2" ]; }
# migrate_start SLOT SRC DST - SLOT is MIGRATING on SRC and IMPORTING on DST
migrate_start() {
    cluster_cli "$3" CLUSTER SETSLOT "$1" IMPORTING "$(cluster_id "$2")" >/dev/null
    cluster_cli "$2" CLUSTER SETSLOT "$1" MIGRATING "$(cluster_id "$3")" >/dev/null
}
# migrate_keys SLOT SRC DST - move every key of SLOT from SRC to DST
migrate_keys() {
    local keys
    mapfile -t keys < <(cluster_cli "$2" CLUSTER GETKEYSINSLOT "$1" 1000)
    [ ${#keys[@]} -gt 0 ] || return 0
    cluster_cli "$2" MIGRATE "$CLUSTER_HOST" "$3" "" 0 5000 KEYS "${keys[@]}" >/dev/null
}
# migrate_end SLOT SRC DST - SLOT is DST's, on every master (the importing one first)
migrate_end() {
    local p
    for p in "$3" "$2" $(cluster_masters | grep -vx "$2" | grep -vx "$3"); do
        cluster_cli "$p" CLUSTER SETSLOT "$1" NODE "$(cluster_id "$3")" >/dev/null
    done
}
# policy_ask ADDR [SENDER] - policyd's answer (the action line) to one RCPT request
policy_ask() {
    timeout 40 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
           "sender=%s\nrecipient=%s\n\n" % (sys.argv[3], sys.argv[2])).encode())
buf = b""
while not buf.endswith(b"\n\n"):
    d = s.recv(4096)
    if not d: break
    buf += d
for l in buf.decode(errors="replace").splitlines():
    if l.startswith("action="): print(l)' "$WORLD_DIR/run/policy.sock" "$1" "${2:-news@shop.test}"
}

# --- the suppression check -----------------------------------------------------
ctl suppress add --reason hard-bounce s1@gmail.test >/dev/null
bucket="" src=""
for p in $(cluster_masters); do
    for k in $(cluster_cli "$p" --scan --pattern 'outpost:{sup:*}:b:*'); do
        [ "$(cluster_cli "$p" HEXISTS "$k" s1@gmail.test)" = 1 ] && bucket=$k src=$p
    done
done
slot=$(cluster_cli "$src" CLUSTER KEYSLOT "$bucket")
dst=$(cluster_masters | grep -vx "$src" | head -n1)
ok '[ -n "$bucket" ] && [ -n "$dst" ]' "s1's bucket $bucket (slot $slot) is on $src; $dst will import it"
send_mail news@shop.test s1@gmail.test,ok0@gmail.test
like "$(rcpt_reply s1@gmail.test)" '^550 5\.7\.1' "before: the suppressed recipient is refused"

migrate_start "$slot" "$src" "$dst"
t_src=$(tryagains "$src") t_dst=$(tryagains "$dst")
mail_bg news@shop.test s1@gmail.test,ok1@gmail.test
# the bucket is on the source, the check's other keys nowhere: refused there
ok 'wait_until 8 grew $src $t_src' "the check is refused with TRYAGAIN by $src"
ok 'kill -0 $mail_pid' "and the message waits"
migrate_keys "$slot" "$src" "$dst"
is "$(cluster_cli "$src" CLUSTER COUNTKEYSINSLOT "$slot")" 0 "the bucket moved to $dst"
# the source now answers ASK; the importing node refuses the split script in turn
ok 'wait_until 8 grew $dst $t_dst' "the check follows ASK to $dst and is refused with TRYAGAIN there"
ok 'kill -0 $mail_pid' "and the message still waits"
t0=$(_now_ms)
migrate_end "$slot" "$src" "$dst"
wait "$mail_pid"
diag "the check answered $(($(_now_ms) - t0)) ms after the CLUSTER SETSLOT ... NODE began; $(tryagains "$src") + $(tryagains "$dst") TRYAGAIN replies"
is "$(cluster_owner "$slot")" "$dst" "slot $slot is $dst's"
SWAKS_OUT=$WORLD_TMP/bg.log
like "$(rcpt_reply s1@gmail.test)" '^550 5\.7\.1' "once the migration ended, the suppressed recipient is refused (not 451)"
like "$(rcpt_reply ok1@gmail.test)" '^250' "and another recipient accepted"
send_mail news@shop.test s1@gmail.test,ok2@gmail.test
like "$(rcpt_reply s1@gmail.test)" '^550 5\.7\.1' "after: the check reads the new master"

# --- outpost-policyd and the {rl} slot ---------------------------------------------
# two limits (the provider's, the sender's): the decision's script has two keys there
is "$(policy_ask r1@bulk.test)" "action=DUNNO" "before: policyd decides through Redis (1 of a burst of 4)"
rl=$(cluster_cli "$src" CLUSTER KEYSLOT '{rl}')
src=$(cluster_owner "$rl")
dst=$(cluster_masters | grep -vx "$src" | head -n1)
pkey=$(cluster_cli "$src" --scan --pattern '*{rl}:g:*bulkmail*' | head -n1)
skey=$(cluster_cli "$src" --scan --pattern '*{rl}:g:*shop.test*' | head -n1)
ok '[ -n "$pkey" ] && [ -n "$skey" ]' "the {rl} slot ($rl) holds both limits' state ($pkey, $skey) on $src"
migrate_start "$rl" "$src" "$dst"
cluster_cli "$src" MIGRATE "$CLUSTER_HOST" "$dst" "" 0 5000 KEYS "$pkey" >/dev/null
is "$(printf 'ASKING\nEXISTS %s\n' "$pkey" | cluster_cli "$dst" | tail -n1) $(cluster_cli "$src" EXISTS "$skey")" \
    "1 1" "the provider's state moved to $dst, the sender's not yet"
# shellcheck disable=SC2034 # t_src is read by the condition given to ok
t_src=$(tryagains "$src") t_dst=$(tryagains "$dst")
policy_ask r2@bulk.test >"$WORLD_TMP/policy2" &
ask_pid=$!
ok 'wait_until 8 grew $src $t_src' "a decision is refused with TRYAGAIN by $src (its keys are split)"
ok 'kill -0 $ask_pid' "and waits"
migrate_keys "$rl" "$src" "$dst"
is "$(cluster_cli "$src" CLUSTER COUNTKEYSINSLOT "$rl")" 0 "the rest of the throttling state moved to $dst"
# the source answers ASK now; the importing node has both keys and runs the script
wait "$ask_pid"
is "$(cat "$WORLD_TMP/policy2")" "action=DUNNO" "the decision comes back through ASK (2 of 4)"
is "$(cluster_owner "$rl")" "$src" "while the slot is still $src's"
is "$(tryagains "$dst")" "$t_dst" "$dst ran it at once"
like "$(cat "$WORLD_DIR/log/policyd.log")" "slot $rl is migrating: following ASK to 127\.0\.0\.1:$dst" \
    "policyd said it followed ASK"
is "$(policy_ask r3@bulk.test)" "action=DUNNO" "another decision, at once through ASK (3 of 4)"
# a new sender: its limit's key exists nowhere yet, so the importing node refuses
policy_ask r4@bulk.test news@new.test >"$WORLD_TMP/policy4" &
ask_pid=$!
ok 'wait_until 8 grew $dst $t_dst' "a decision with a key absent from both nodes gets TRYAGAIN from $dst after ASK"
ok 'kill -0 $ask_pid' "and waits"
migrate_end "$rl" "$src" "$dst"
wait "$ask_pid"
is "$(cluster_owner "$rl")" "$dst" "slot $rl is $dst's"
is "$(cat "$WORLD_TMP/policy4")" "action=DUNNO" "once the migration ended, that decision comes back too (4 of 4)"
like "$(policy_ask r5@bulk.test)" "^action=.*rate limit of provider bulkmail" \
    "on the new master the 5th is held back: every decision was counted once, where the state went"
unlike "$(cat "$WORLD_DIR/log/milter.log" "$WORLD_DIR/log/policyd.log")" "TRYAGAIN" \
    "no TRYAGAIN reached the programs' logs"
ok 'postfix_wait_queue_empty 60' "every accepted message left the queue"
is "$(sink_rcpts gmail | grep -c '^s1@gmail.test')" 0 "the suppressed recipient never reached the sink"
done_testing
