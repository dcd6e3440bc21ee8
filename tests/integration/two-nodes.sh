#!/bin/bash
# two-nodes.sh - two relay nodes share one Redis: node A (127.0.0.1:2525) and
# node B (127.0.0.2:2525), each a private Postfix with its own outpost-milter,
# outpost-policyd and outpost-logd.  A provider's rate holds across both (the
# accepted recipients over both nodes add up to its burst, the rest are
# deferred); a suppression added through node A's outpostctl applies on node B;
# the statistics (outpostctl stats --json) equal what the sinks received, under
# the sender's own domain although the mail leaves with a tagged return path;
# outpostctl check-config --cluster sees both nodes, and flags a node started
# with another DKIM key and a node whose entry is no longer refreshed.
#
# Run as root: tests/integration/two-nodes.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12

# what every node must share: the key table and its key, the intake secret
keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"; chmod 600 "$secret"

# node_conf NODE METRICS-PORT MAILLOG KEY-TABLE - one node's configuration
node_conf() {
    cat >"$WORLD_DIR/$1.conf" <<EOC
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
prefix = t:
[milter]
socket = unix:$WORLD_DIR/run/milter-$1.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy-$1.sock
[dkim]
key_table = $4
[intake]
bounce_domain = bounce.%d
secret_file = $secret
[logd]
node = $1
maillog = $3
metrics_listen = 127.0.0.1:$2
poll_interval = 50ms
flush_interval = 100ms
[provider google]
domains = gmail.test
rate = 1/h
burst = 4
[provider microsoft]
domains = outlook.test
EOC
}

# node_start NODE - its milter and policyd, waiting for their sockets
node_start() {
    world_spawn "milter-$1" "$MILTER_BIN" -f -c "$WORLD_DIR/$1.conf"
    world_spawn "policyd-$1" "$POLICYD_BIN" -f -c "$WORLD_DIR/$1.conf"
    wait_until 5 test -S "$WORLD_DIR/run/milter-$1.sock" &&
        wait_until 5 test -S "$WORLD_DIR/run/policy-$1.sock"
}

# node_postfix NODE - the current Postfix instance talks to NODE's daemons
node_postfix() {
    postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter-$1.sock" \
        "milter_default_action = tempfail" \
        "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy-$1.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
    postfix_start
    chmod 644 "$MAILLOG"
}

node_conf a 9441 "$WORLD_DIR/postfix/maillog" "$keys/table"
node_conf b 9442 "$WORLD_DIR/postfix-b/maillog" "$keys/table"
: >"$keys/table"
"$CTL_BIN" -c "$WORLD_DIR/a.conf" dkim keygen shop.test s1 --add >/dev/null 2>&1
is "$(wc -l <"$keys/table")" 1 "one DKIM key, shared by both nodes"

ok 'node_start a' "node A: milter and policyd listen"
ok 'node_start b' "node B: milter and policyd listen"
postfix_instance main
node_postfix a
postfix_instance b 127.0.0.2 2525
node_postfix b
for n in a b; do world_spawn "logd-$n" "$LOGD_BIN" -f -c "$WORLD_DIR/$n.conf"; done

ctl_a() { "$CTL_BIN" -c "$WORLD_DIR/a.conf" "$@"; }
ctl_b() { "$CTL_BIN" -c "$WORLD_DIR/b.conf" "$@"; }
conf=$WORLD_DIR/a.conf                      # for stats_json

# rcpt_code - the reply code to the (one) RCPT TO of the last transcript
rcpt_code() {
    awk '/ -> RCPT TO:/ { want = 1; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print substr($0, 1, 3); exit }' "$SWAKS_OUT"
}

# --- a global limit: google's burst of 4, one recipient a message, A and B in turn --
declare -A took=([a]=0 [b]=0)
deferred=0
for i in 1 2 3 4 5 6 7 8; do
    n=a inst=main
    [ $((i % 2)) = 0 ] && n=b inst=b
    postfix_instance "$inst"
    send_mail news@shop.test "g$i@gmail.test" --header "From: news@shop.test"
    case $(rcpt_code) in
        250) took[$n]=$((took[$n] + 1)) ;;
        450) deferred=$((deferred + 1)) ;;
    esac
done
is "$((took[a] + took[b]))" 4 "google's rate holds across the nodes: 4 of 8 accepted (the burst)"
is "$deferred" 4 "the other 4 deferred"
ok '[ "${took[a]}" -gt 0 ] && [ "${took[b]}" -gt 0 ]' \
    "both nodes accepted some (A ${took[a]}, B ${took[b]})"

# --- a suppression added on A applies on B -------------------------------------
ctl_a suppress add --reason unsubscribe gone@outlook.test >/dev/null
postfix_instance b
send_mail news@shop.test gone@outlook.test
is "$(rcpt_code)" 550 "suppressed through node A's outpostctl: refused by node B"
postfix_instance main
send_mail news@shop.test gone@outlook.test
is "$(rcpt_code)" 550 "and by node A"

# --- more mail through both nodes ----------------------------------------------
for i in 1 2 3; do postfix_instance main; send_mail news@shop.test "a$i@outlook.test" || break; done
is "$?" 0 "3 messages to microsoft through node A"
for i in 1 2; do postfix_instance b; send_mail news@shop.test "b$i@outlook.test" || break; done
is "$?" 0 "2 messages to microsoft through node B"
ok 'sink_wait gmail 4 && sink_wait outlook 5' "the sinks have them all"
postfix_instance main
ok 'postfix_wait_queue_empty 30' "node A's queue is empty"
postfix_instance b
ok 'postfix_wait_queue_empty 30' "node B's queue is empty"
sent=$(( $(sink_count gmail) + $(sink_count outlook) ))
eml=$(sink_find outlook b1@outlook.test)
like "$(eml_envelope "$eml" mail_from)" '^b-[a-z2-7]+@bounce\.shop\.test$' \
    "the mail left with a tagged return path under bounce.shop.test"
dkim=$(eml_header "$eml" DKIM-Signature)
ok '[[ $dkim == *"d=shop.test;"* && $dkim == *"s=s1;"* ]]' "signed by node B with the shared key"

# --- the statistics add up -------------------------------------------------------
ok 'wait_until 10 stats_total_is delivered '"$sent" "outpost-logd of both nodes counted $sent deliveries"
j=$(stats_json provider)
is "$(stats_field "$j" TOTAL accepted)" "$sent" "accepted over both nodes = what the sinks received ($sent)"
is "$(stats_field "$j" TOTAL delivered)" "$sent" "delivered over both nodes = the same"
is "$(stats_field "$j" google accepted)/$(stats_field "$j" google throttled)" "4/4" \
    "google: 4 accepted, 4 throttled"
is "$(stats_field "$j" TOTAL suppressed)" 2 "suppressed: 2 (one on each node)"
j=$(stats_json sender)
is "$(stats_field "$j" shop.test accepted)/$(stats_field "$j" shop.test delivered)" "$sent/$sent" \
    "the milter's accepted and outpost-logd's delivered under the same sender domain, shop.test"
is "$(stats_field "$j" bounce.shop.test delivered)" none "nothing under the return-path domain bounce.shop.test"
ok 'redis_cli HEXISTS "t:{st}:logd:a" pos | grep -qx 1 && redis_cli HEXISTS "t:{st}:logd:b" pos | grep -qx 1' \
    "each node's outpost-logd keeps its own position"

# --- check-config --cluster ------------------------------------------------------
out=$(ctl_a check-config --cluster 2>&1); rc=$?
is "$rc" 0 "check-config --cluster: the nodes agree (exit 0)"
like "$out" "cluster: 2 nodes" "it sees both nodes"
like "$out" "  a: .*updated" "node a listed"
like "$out" "  b: .*updated" "node b listed"
like "$(redis_cli HGET "t:{cluster}:node:a" dkim:shop.test:s1)" '^rsa sha256:[0-9a-f]{64} d=shop\.test$' \
    "node A publishes its key's fingerprint"
like "$(redis_cli HGET "t:{cluster}:node:b" intake_secret:1)" '^[0-9a-f]{16}$' "and node B its secret's id"
unlike "$(redis_cli HGETALL "t:{cluster}:node:b")" "$(cat "$secret")" "never the secret itself"

# node B restarts with a key of its own under the same selector
keys_b=$WORLD_DIR/keys-b
mkdir -m 700 "$keys_b"; chown nobody "$keys_b"
: >"$keys_b/table"
sed -i "s|^key_table = .*|key_table = $keys_b/table|" "$WORLD_DIR/b.conf"
"$CTL_BIN" -c "$WORLD_DIR/b.conf" dkim keygen shop.test s1 --add >/dev/null 2>&1
fp_b_old=$(redis_cli HGET "t:{cluster}:node:b" dkim:shop.test:s1)
world_kill milter-b
world_spawn milter-b "$MILTER_BIN" -f -c "$WORLD_DIR/b.conf"
new_fp() { [ "$(redis_cli HGET "t:{cluster}:node:b" dkim:shop.test:s1)" != "$fp_b_old" ]; }
ok 'wait_until 10 new_fp' "node B publishes its new key's fingerprint at start"
out=$(ctl_a check-config --cluster 2>&1); rc=$?
is "$rc" 1 "check-config --cluster: exit 1"
like "$out" "differs: dkim:shop.test:s1" "names the key that differs"
like "$out" "  a: rsa sha256:" "with node A's fingerprint"
like "$out" "  b: rsa sha256:" "and node B's"
unlike "$out" "differs: (intake_secret|bounce_domain|limits|version)" "and nothing else"

# node B stops: its entry is no longer refreshed (made older by hand: no waiting)
world_kill milter-b
old=$(( ${EPOCHREALTIME%[.,]*} - 1000 ))
redis_cli ZADD "t:{cluster}:nodes" "$old" b >/dev/null
out=$(ctl_a check-config --cluster 2>&1); rc=$?
is "$rc" 1 "a node not heard of for 1000 s: exit 1"
like "$out" "stale: b: not refreshed" "named stale"
unlike "$out" "stale: a" "node A is not"
done_testing
