#!/bin/bash
# cluster-failover.sh - the suppression check through a real Postfix while the master
# that holds a suppressed recipient's bucket is killed with kill -9 and its replica takes over: no
# suppressed recipient is accepted or delivered, the others get a temporary failure at
# most while the slot has no master, and the checks work again on the new master (TAP).
# Always on a Redis Cluster of three masters and three replicas (tests/lib/cluster.sh).
#
# Run as root: tests/integration/cluster-failover.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
# shellcheck source=../lib/cluster.sh
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
CLUSTER_NODES=6 CLUSTER_REPLICAS=1 cluster_start
sink_start gmail 127.0.0.11

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
cluster = $(cluster_seeds)
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
on_redis_error = tempfail
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail"
postfix_start

# rcpt_reply ADDR - the server's answer to RCPT TO:<ADDR> in the last transcript
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}

for i in 1 2 3 4 5; do ctl suppress add --reason hard-bounce "s$i@gmail.test" >/dev/null; done
# the entries spread over the masters: kill the one that holds s1's bucket
master=""
for p in $(cluster_ports); do
    for k in $(cluster_cli "$p" --scan --pattern 'outpost:{sup:*}:b:*'); do
        [ "$(cluster_cli "$p" HEXISTS "$k" s1@gmail.test)" = 1 ] && master=$p
    done
done
has_replica() { replica=$(cluster_replica_of "$master"); [ -n "$replica" ]; }
ok '[ -n "$master" ] && wait_until 20 has_replica' "s1's master ($master) has a replica"
# replication is asynchronous: the list must be on the replica before its master dies
is "$(cluster_cli "$master" WAIT 1 5000)" 1 "the replica ($replica) has acknowledged the list"

send_mail news@shop.test s1@gmail.test,ok0@gmail.test
like "$(rcpt_reply s1@gmail.test)" '^550 5\.7\.1' "before: a suppressed recipient is refused"
like "$(rcpt_reply ok0@gmail.test)" '^250' "and another accepted"

# --- kill -9 the master, go on sending until the new master answers -----------
t0=$(_now_ms)
cluster_kill "$master" KILL
mailed=0 tempfail=0 other=0 refused=0 recovered="" i=0
while [ $(($(_now_ms) - t0)) -lt 60000 ]; do
    i=$((i + 1))
    s="s$((i % 5 + 1))@gmail.test"
    [ $((i % 2)) = 0 ] && s=s1@gmail.test     # s1's master is the one killed
    send_mail news@shop.test "$s,ok$i@gmail.test"
    rs=$(rcpt_reply "$s") ro=$(rcpt_reply "ok$i@gmail.test")
    case $rs in 550\ 5.7.1*) refused=$((refused + 1)) ;; 451\ 4.3.0*) tempfail=$((tempfail + 1)) ;;
        250*) mailed=$((mailed + 1)); diag "accepted: $s" ;; *) other=$((other + 1)); diag "$s: $rs" ;; esac
    case $ro in 250*) ;; 451\ 4.3.0*) tempfail=$((tempfail + 1)) ;; *) other=$((other + 1)); diag "ok$i: $ro" ;; esac
    if cluster_role_is "$replica" master && [[ $rs == 550* ]] && [[ $ro == 250* ]]; then
        recovered=$(($(_now_ms) - t0)); break
    fi
done
ok 'cluster_role_is "$replica" master' "the replica has taken over"
ok '[ -n "$recovered" ]' "checks work again on the new master"
diag "kill -9 to the first good check: ${recovered:-none} ms; $i messages, $tempfail temporary failures, $refused suppressed recipients refused"
is "$mailed" 0 "no suppressed recipient was accepted during the switch"
is "$other" 0 "every other answer was a refusal (550), an acceptance (250) or a temporary failure (451)"
like "$(cat "$WORLD_DIR/log/milter.log")" "redis cluster: .* slots moved to another master" "the milter read the new map"

# --- after: everything on the new master ---------------------------------------
send_mail news@shop.test s2@gmail.test,after@gmail.test
like "$(rcpt_reply s2@gmail.test)" '^550 5\.7\.1' "after: a suppressed recipient is still refused"
ctl suppress add --reason complaint s6@gmail.test >/dev/null
send_mail news@shop.test s6@gmail.test
like "$(rcpt_reply s6@gmail.test)" '^550 5\.7\.1' "a suppression written after the failover applies"
ok 'postfix_wait_queue_empty 60' "every accepted message left the queue"
is "$(sink_rcpts gmail | grep -c '^s[0-9]@gmail.test')" 0 "no suppressed recipient reached the sink"
ok 'sink_rcpts gmail | grep -q "^after@gmail.test"' "the others did"
done_testing
