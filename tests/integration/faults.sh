#!/bin/bash
# faults.sh - faults under load: while a sending platform's client (tests/lib/campaign.py)
# sends a campaign through a real Postfix with outpost-milter (suppression, DKIM),
# outpost-policyd and outpost-logd, and retries what got 4xx, the test kills Redis
# (-9) and restarts it, freezes it (SIGSTOP), keeps it busy (DEBUG SLEEP), drops all
# its clients (CLIENT KILL), kills the milter and policyd (-9) and restarts them, one
# after another, each at a fixed point of the campaign.  Then: no accepted message
# lost, no suppressed recipient delivered, every delivered message DKIM-signed and
# verifying, every daemon alive.  Postfix is set up as INSTALL.md says
# (milter_default_action = tempfail, the policy service's default_action =
# DEFER_IF_PERMIT): a dead daemon means "try again later", never unchecked mail.
#
# Run as root: tests/integration/faults.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"
"$PYTHON" -c 'import dkim' 2>/dev/null || skip_all "python3-dkim not installed"
CAMPAIGN=$WORLD_LIB_DIR/campaign.py

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
: >"$keys/table"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
command_timeout = 300ms
# longer than a message takes: a message answered right after CLIENT KILL shows
# the connections were replaced at once, not after the backoff
reconnect_min = 1s
reconnect_max = 1s
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
on_redis_error = tempfail
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[logd]
maillog = $MAILLOG
start_at = beginning
poll_interval = 50ms
flush_interval = 100ms
[provider google]
domains = gmail.test
rate = 100000/h
burst = 100000
[provider microsoft]
domains = outlook.test
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
rec=$(ctl dkim keygen shop.test s1 --algorithm rsa --add 2>/dev/null | grep -o '"[^"]*"' | tr -d '"\n')
dns_txt s1._domainkey.shop.test "$rec"
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
# persistence as doc/REDIS.md asks: the suppression list survives a kill -9
redis_start --appendonly yes --appendfsync everysec
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12

# start_daemon NAME - (re)start the milter or policyd, wait for its socket to answer
start_daemon() {
    local sock=$WORLD_DIR/run/milter.sock bin=$MILTER_BIN
    [ "$1" = policyd ] && sock=$WORLD_DIR/run/policy.sock bin=$POLICYD_BIN
    world_spawn "$1" "$bin" -f -c "$conf"
    wait_until 10 _sock_answers "$sock"
}
_sock_answers() { "$PYTHON" -c 'import socket,sys; socket.socket(socket.AF_UNIX).connect(sys.argv[1])' "$1" 2>/dev/null; }
# kill9 NAME - SIGKILL a spawned daemon and wait until it is gone
kill9() {
    local p; p=$(world_pid "$1")
    kill -KILL "$p"
    wait "$p" 2>/dev/null      # reaped here: no "Killed" notice from bash
    wait_until 5 _pid_gone "$p"
}
ok 'start_daemon milter' "the milter listens"
ok 'start_daemon policyd' "policyd listens"
# (one try at the policy service, not two a second apart: keeps the test short)
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_policy_service_try_limit = 1" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
is "$(postfix_get milter_default_action)" tempfail "Postfix: the milter unreachable means tempfail"

# --- the campaign: 300 messages, every 7th to a suppressed recipient, every 5th to
# two recipients (one of them perhaps suppressed)
camp=$WORLD_DIR/campaign
mkdir -p "$camp"
: >"$camp/list"; : >"$camp/suppressed"
for ((i = 1; i <= 300; i++)); do
    dom=gmail.test; [ $((i % 3)) = 0 ] && dom=outlook.test
    r=u$i@$dom
    if [ $((i % 7)) = 0 ]; then r=gone$i@$dom; echo "$r" >>"$camp/suppressed"; fi
    [ $((i % 5)) = 0 ] && r=$r,v$i@gmail.test
    echo "$r" >>"$camp/list"
done
# shellcheck disable=SC2046
ctl suppress add --reason unsubscribe $(cat "$camp/suppressed") >/dev/null
nsup=$(wc -l <"$camp/suppressed")
entries() { ctl suppress stats --json | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])'; }
is "$(entries)" "$nsup" "$nsup recipients suppressed before the campaign"
like "$(redis_cli INFO persistence)" 'aof_enabled:1' "Redis writes an append-only file"

# the faults, one after another: each starts after message 30 + 40 k and heals
# HEAL messages later
HEAL=4
faults=(redis-kill redis-stop redis-sleep client-kill milter-kill policyd-kill)
cps=""
for ((f = 0; f < ${#faults[@]}; f++)); do
    n=$((30 + f * 40)); cps=$cps${cps:+,}$n,$((n + HEAL))
done
"$PYTHON" "$CAMPAIGN" send --server "$SMTP_HOST:$SMTP_PORT" --from news@shop.test \
    --list "$camp/list" --out "$camp" --checkpoints "$cps" --max-tries 40 --deadline 150 \
    >"$WORLD_DIR/log/campaign.log" 2>&1 &
client=$!

# at N - wait until the client stopped at checkpoint N; go N - let it go on
at() { wait_until 60 grep -q "^$1 " "$camp/at" 2>/dev/null; }
# tempfails - how many sessions got 4xx so far, as the client said at its checkpoint
tempfails() { cut -d' ' -f2 "$camp/at"; }
go() { echo "$1" >"$camp/go"; }
redis_pid() { _pidfile "$WORLD_DIR/redis/redis.pid"; }
redis_dead() { ! redis-cli -s "$REDIS_SOCK" PING >/dev/null 2>&1; }
_count_lines() { grep -c "$1" "$WORLD_DIR/log/$2.log"; }
_clients_at_least() { [ "$(redis_cli INFO clients | sed -n 's/^connected_clients:\([0-9]*\).*/\1/p')" -ge "$1" ]; }

for ((f = 0; f < ${#faults[@]}; f++)); do
    n=$((30 + f * 40))
    at $n || { fail "the client reached message $n"; break; }
    case ${faults[f]} in
        redis-kill) p=$(redis_pid); kill -KILL "$p"; wait_until 5 _pid_gone "$p" ;;
        redis-stop) redis_pause ;;
        redis-sleep)
            redis_cli DEBUG SLEEP 2 >/dev/null &
            sleeper=$!
            wait_until 5 eval 'timeout 0.2 redis-cli -s "$REDIS_SOCK" PING >/dev/null 2>&1; [ $? = 124 ]' ;;
        client-kill)
            # the daemons reconnect by themselves after the earlier faults: wait for
            # all three (and this redis-cli) before dropping them
            ok 'wait_until 10 _clients_at_least 4' "milter, policyd and logd connected to Redis"
            mk=$(_count_lines "closed the connection: reconnecting" milter)
            pk=$(_count_lines "reconnecting at once" policyd)
            dropped=$(redis_cli CLIENT KILL TYPE normal)
            # the next message after it: the milter's check and policyd's decision
            # run on connections replaced at once, not after the backoff
            send_mail news@shop.test after-kill@gmail.test --header "Subject: after CLIENT KILL"
            like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "CLIENT KILL: the next message is accepted (no 4xx)" ;;
        milter-kill) kill9 milter ;;
        policyd-kill) kill9 policyd ;;
    esac
    t0=$(tempfails)
    go $n
    at $((n + HEAL)) || { fail "the client reached message $((n + HEAL))"; break; }
    t1=$(tempfails)
    note "${faults[f]}: $((t1 - t0)) sessions with 4xx while it lasted"
    case ${faults[f]} in
        redis-kill|redis-stop|milter-kill|policyd-kill)
            ok '[ $t1 -gt $t0 ]' "${faults[f]}: the client got 4xx while it lasted" ;;
        client-kill)
            is "$((t1 - t0))" 0 "client-kill: no session got 4xx after it (connections replaced at once)" ;;
    esac
    case ${faults[f]} in
        redis-kill)
            ok 'redis_dead' "Redis was dead for $HEAL messages"
            redis_start
            is "$(entries)" "$nsup" "the suppression list survived kill -9 (append-only file)" ;;
        redis-stop) redis_resume ;;
        redis-sleep) wait "$sleeper" ;;
        client-kill)
            ok '[ "$dropped" -ge 3 ]' "CLIENT KILL dropped the daemons' connections ($dropped)"
            ok '[ "$(_count_lines "closed the connection: reconnecting" milter)" -gt "$mk" ]' \
                "the milter found its connection closed and replaced it"
            ok '[ "$(_count_lines "reconnecting at once" policyd)" -gt "$pk" ]' \
                "policyd replaced its connection at once" ;;
        milter-kill) ok 'start_daemon milter' "the milter restarted" ;;
        policyd-kill) ok 'start_daemon policyd' "policyd restarted" ;;
    esac
    go $((n + HEAL))
done
ok 'wait_until 170 _pid_gone $client' "the campaign ended"
wait "$client"
is "$?" 0 "the client exited cleanly"
diag_file "$WORLD_DIR/log/campaign.log" 5
ok 'postfix_wait_queue_empty 40' "the Postfix queue drained"

# --- the outcome -----------------------------------------------------------------
res=$camp/result.json
figure() { "$PYTHON" -c 'import json,sys; r=json.load(open(sys.argv[1])); v=r[sys.argv[2]]; print(len(v) if isinstance(v, list) else v)' "$res" "$1"; }
total=$(tr ',' '\n' <"$camp/list" | grep -c .)
note "attempts $(figure attempts), sessions with a temporary failure $(figure tempfails), $(figure seconds) s"
ok '[ "$(figure tempfails)" -gt 0 ]' "the faults were felt: some attempts got 4xx"
is "$(figure gave_up)/$(figure not_sent)" 0/0 "no recipient given up on after the faults healed"
is "$(figure refused)" "$nsup" "every suppressed recipient refused with 5xx, nothing else"
is "$(figure accepted)" $((total - nsup)) "every other recipient accepted in the end"
ok '"$PYTHON" -c "import json,sys; sys.exit(any(not r[2].startswith(\"550\") for r in json.load(open(sys.argv[1]))[\"refused\"]))" "$res"' \
    "each refusal is a 550"

"$PYTHON" "$CAMPAIGN" check --out "$camp" --suppressed "$camp/suppressed" \
    --sinks "$(sink_dir gmail),$(sink_dir outlook)" >"$camp/check" 2>"$camp/check.err"
v() { sed -n "s/^$1 //p" "$camp/check"; }
ok '[ "$(v delivered)" -gt 0 ]' "messages were delivered ($(v delivered))"
is "$(v lost)" 0 "no accepted message lost (Message-ID and recipient at a sink)"
is "$(v suppressed_delivered)" 0 "no suppressed recipient delivered"
is "$(v unsigned)" 0 "every delivered message carries a DKIM signature"
is "$(v dkim_fail)" 0 "every signature verifies (dkimpy)"
grep '^example' "$camp/check" | head -n 20 | while read -r l; do diag "$l"; done
diag_file "$camp/check.err" 5

# --- everyone alive, and working
for d in milter policyd logd; do
    ok '_pid_alive "$(world_pid '$d')"' "outpost-$d alive afterwards"
done
ok '_pid_alive "$(redis_pid)" && _redis_up' "Redis alive"
# a failing statistics write is said once a minute, not at each flush (every 100 ms here)
n=$(grep -c 'writing statistics' "$WORLD_DIR/log/logd.log")
diag "outpost-logd said a failed statistics write $n time(s)"
ok '[ "$n" -le 20 ]' "outpost-logd's failed statistics writes are said at most once a minute per outage"
send_mail news@shop.test last@gmail.test,gone7@gmail.test --header "Subject: after the faults"
ok 'grep -q "550 5.7.1" "$SWAKS_OUT" && [ -n "$LAST_QID" ]' "after the faults: suppression still refuses, the rest is accepted"
ok 'wait_until 20 sink_find gmail last@gmail.test' "and delivered"
done_testing
