#!/bin/bash
# redis-prod.sh - every daemon checks the Redis server's maxmemory-policy and
# persistence (TAP): an evicting policy is refused at start with the reason and the
# fix, unless [redis] allow_eviction; no persistence warns, AOF everysec is quiet; a
# CONFIG command renamed away or denied by an ACL is worked around with INFO; a policy
# changed to allkeys-lru under running daemons is noticed when they reconnect: they
# log an error, fail closed, and recover by themselves once it is noeviction again;
# with Sentinel, the master is checked, and a failover to a replica with an evicting
# policy is noticed.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
sink_start gmail 127.0.0.11

# write_conf [REDIS-LINE...] - the configuration of all programs
conf=$WORLD_DIR/outpost.conf
write_conf() {
    cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
$(printf '%s\n' "$@")
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
domain_rate = 1000/s
[logd]
maillog = $WORLD_DIR/tmp/mail.log
metrics_listen = 127.0.0.1:9432
EOF
}
touch "$WORLD_DIR/tmp/mail.log"
ctl() { "$CTL_BIN" -c "$conf" "$@"; }

# run_refused NAME CMD... - run a daemon that should refuse to start; sets $out, $rc
run_refused() {
    local name=$1; shift
    out=$(timeout 10 "$@" 2>&1); rc=$?
    is "$rc" 1 "$name exits with status 1"
}

# start_all / stop_all - the three daemons in the background, up and listening
start_all() {
    rm -f "$WORLD_DIR/run/milter.sock" "$WORLD_DIR/run/policy.sock"
    world_spawn milter "$MILTER_BIN" -f -c "$conf"
    world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
    world_spawn logd "$LOGD_BIN" -f -c "$conf"
    wait_until 10 test -S "$WORLD_DIR/run/milter.sock" &&
        wait_until 10 test -S "$WORLD_DIR/run/policy.sock" &&
        wait_until 10 grep -q following "$WORLD_DIR/log/logd.log"
}
stop_all() {
    local p
    for p in milter policyd logd; do
        world_kill "$p" KILL
        wait "$(world_pid "$p" 2>/dev/null)" 2>/dev/null
    done
    rm -f "$WORLD_DIR"/log/{milter,policyd,logd}.log
}
log() { cat "$WORLD_DIR/log/$1.log"; }

# policy_ask - one RCPT request to policyd; prints the action line
policy_ask() {
    printf 'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=news@shop.test\nrecipient=%s\n\n' "$1" |
        timeout 5 /usr/bin/python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(sys.stdin.buffer.read())
buf = b""
while b"\n\n" not in buf:
    d = s.recv(4096)
    if not d: break
    buf += d
sys.stdout.write(buf.decode(errors="replace").split("\n")[0])' "$WORLD_DIR/run/policy.sock"
}

# --- an evicting policy: every daemon refuses to start and says why and how to fix it
write_conf
redis_start --maxmemory-policy allkeys-lru
for d in "outpost-milter:$MILTER_BIN" "outpost-policyd:$POLICYD_BIN" "outpost-logd:$LOGD_BIN"; do
    name=${d%%:*}
    run_refused "$name (allkeys-lru)" "${d#*:}" -f -c "$conf"
    like "$out" "fatal: redis: refusing to start: maxmemory-policy is allkeys-lru: .*evicts any key" \
        "$name names the policy"
    like "$out" "suppressions are compliance data" "$name says why it matters"
    like "$out" 'CONFIG SET maxmemory-policy noeviction" and "maxmemory-policy noeviction" in redis.conf' \
        "$name says how to fix it"
    like "$out" "allow_eviction = yes" "$name names the setting that allows it"
done
ok '! test -S $WORLD_DIR/run/milter.sock' "the refused milter never opened its socket"
out=$(ctl check-config "$conf" 2>&1); rc=$?
is "$rc" 1 "outpostctl check-config fails on an evicting policy"
like "$out" "redis: error: maxmemory-policy is allkeys-lru" "and reports it"

redis_cli CONFIG SET maxmemory-policy volatile-ttl >/dev/null
run_refused "outpost-policyd (volatile-ttl)" "$POLICYD_BIN" -f -c "$conf"
like "$out" "maxmemory-policy is volatile-ttl: .*evicts the keys that have a TTL .*suppressions with an expiry" \
    "a volatile-* policy is refused too, saying which keys it evicts"

# --- allowed explicitly: all three start, with a warning
write_conf "allow_eviction = yes"
redis_cli CONFIG SET maxmemory-policy allkeys-lru >/dev/null
ok 'start_all' "with allow_eviction = yes all three daemons start"
for p in milter policyd logd; do
    like "$(log $p)" "warning: redis: maxmemory-policy is allkeys-lru: .*allowed by \[redis\] allow_eviction" \
        "$p warns that eviction is allowed"
done
out=$(ctl check-config "$conf" 2>&1); rc=$?
is "$rc" 0 "check-config accepts an allowed evicting policy"
stop_all

# --- noeviction without persistence: a warning at start
write_conf
redis_restart --maxmemory-policy noeviction
ok 'start_all' "noeviction: all three daemons start"
for p in milter policyd logd; do
    like "$(log $p)" "info: redis: maxmemory-policy noeviction, appendonly no, save \"\"" \
        "$p logs what it checked"
    like "$(log $p)" "warning: redis: no persistence \(appendonly no, no save points\): every suppression is lost when Redis restarts" \
        "$p warns about no persistence"
done
is "$(log policyd | grep -c 'no persistence')" 1 "policyd warns once (start check and connection check)"
out=$(ctl check-config "$conf" 2>&1); rc=$?
is "$rc" 0 "check-config: no persistence is not an error"
like "$out" "redis: warning: no persistence" "but it is reported"
stop_all

# --- AOF with appendfsync everysec: quiet
redis_restart --maxmemory-policy noeviction --appendonly yes --appendfsync everysec
ok 'start_all' "AOF everysec: all three daemons start"
for p in milter policyd logd; do
    like "$(log $p)" "info: redis: maxmemory-policy noeviction, appendonly yes" "$p logs what it checked"
    unlike "$(log $p)" "(warning|error|fatal): redis:" "$p has nothing to warn about"
done
out=$(ctl check-config "$conf" 2>&1)
unlike "$out" "warning|error" "check-config has nothing to report either"
stop_all

# --- CONFIG renamed away: INFO still gives the policy
redis_restart --maxmemory-policy allkeys-lru --appendonly no --rename-command CONFIG ""
ok '! redis_cli CONFIG GET maxmemory-policy 2>&1 | grep -q allkeys' "CONFIG is not available"
run_refused "outpost-milter (CONFIG renamed)" "$MILTER_BIN" -f -c "$conf"
like "$out" "refusing to start: maxmemory-policy is allkeys-lru: " \
    "the evicting policy is still seen (INFO memory)"
out=$(ctl check-config "$conf" 2>&1)
like "$out" "could not check RDB save points \(appendonly is no\) \(CONFIG GET: ERR unknown command" \
    "check-config says what INFO cannot tell and why"

# --- CONFIG denied by an ACL: the same through INFO
redis_restart --maxmemory-policy allkeys-lru
redis_cli ACL SETUSER noconfig on '>pw' '~*' '&*' '+@all' '-config' >/dev/null
write_conf "username = noconfig" "password = pw"
run_refused "outpost-policyd (CONFIG denied)" "$POLICYD_BIN" -f -c "$conf"
like "$out" "refusing to start: maxmemory-policy is allkeys-lru: " \
    "an ACL user without CONFIG is still checked"
out=$(ctl check-config "$conf" 2>&1)
like "$out" "CONFIG GET: NOPERM" "check-config names the ACL refusal"

# --- changed under running daemons: noticed on reconnect, fail closed, recover
write_conf
redis_cli CONFIG SET maxmemory-policy noeviction >/dev/null
ctl suppress add --reason complaint bob@gmail.test >/dev/null
ok 'start_all' "noeviction again: the daemons start"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = accept"
postfix_start
send_mail news@shop.test bob@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +550 5\\.7\\.1" "before: the milter refuses a suppressed recipient"
is "$(policy_ask carol@gmail.test)" "action=DUNNO" "before: policyd decides through Redis"

redis_cli CONFIG SET maxmemory-policy allkeys-lru >/dev/null
redis_cli CLIENT KILL TYPE normal >/dev/null        # every daemon reconnects
# milter_noticed - the milter reconnects when it next needs Redis: send until it has
milter_noticed() {
    send_mail news@shop.test bob@gmail.test >/dev/null
    grep -q "error: redis: refusing to use the server until this is fixed: maxmemory-policy is allkeys-lru" \
        "$WORLD_DIR/log/milter.log"
}
ok 'wait_until 20 milter_noticed' "the milter notices the evicting policy on reconnect, at error priority"
ok 'wait_until 10 grep -q "error: redis: refusing to use the server until this is fixed: maxmemory-policy is allkeys-lru" $WORLD_DIR/log/policyd.log' \
    "so does policyd on its asynchronous connection"
send_mail news@shop.test bob@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +4[0-9][0-9] " "the milter fails closed: a temporary failure, not delivery"
send_mail news@shop.test carol@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +4[0-9][0-9] " "for an unsuppressed recipient too (its state cannot be trusted)"
like "$(policy_ask carol@gmail.test)" "action=DEFER_IF_PERMIT 4\\.3\\.0" "policyd fails closed with its tempfail reply"
ok '_pid_alive "$(world_pid milter)" && _pid_alive "$(world_pid policyd)"' "both keep running"
is "$(sink_count gmail)" 0 "nothing was delivered meanwhile"

redis_cli CONFIG SET maxmemory-policy noeviction >/dev/null
policy_dunno() { [ "$(policy_ask carol@gmail.test)" = action=DUNNO ]; }
ok 'wait_until 10 policy_dunno' "fixed: policyd decides again without a restart"
like "$(log policyd)" "info: redis: maxmemory-policy fixed, using the server again" "and says so"
milter_refuses_bob() {
    send_mail news@shop.test bob@gmail.test >/dev/null
    grep -q "<\\*\\* *550 5\\.7\\.1" "$SWAKS_OUT"
}
ok 'wait_until 10 milter_refuses_bob' "fixed: the milter checks the suppression list again"

# --- Sentinel: the master the sentinels name is checked, again after a failover
stop_all
sd=$WORLD_DIR/sentinel
mkdir -p "$sd"
# sredis PORT [OPTION...] - one more redis-server for the Sentinel set-up
sredis() {
    local port=$1; shift
    redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly yes --dir "$sd" \
        --appendfilename "ao-$port.aof" --appenddirname "aof-$port" \
        --daemonize yes --pidfile "$sd/$port.pid" --logfile "$sd/$port.log" "$@" </dev/null
}
sredis 6401                                              # master: noeviction
sredis 6402 --replicaof 127.0.0.1 6401 --maxmemory-policy allkeys-lru
printf 'port 26401\nbind 127.0.0.1\ndir %s\nsentinel monitor om 127.0.0.1 6401 1\nsentinel down-after-milliseconds om 1000\nsentinel failover-timeout om 5000\n' \
    "$sd" >"$sd/sentinel.conf"
redis-server "$sd/sentinel.conf" --sentinel --daemonize yes --pidfile "$sd/s.pid" --logfile "$sd/s.log"
sentinel_ready() {
    redis-cli -p 6401 INFO replication 2>/dev/null | grep -q connected_slaves:1 &&
        redis-cli -p 26401 SENTINEL replicas om 2>/dev/null | grep -q 6402
}
ok 'wait_until 20 sentinel_ready' "a master, a replica with allkeys-lru, and a sentinel"
write_conf "sentinels = 127.0.0.1:26401" "sentinel_master = om"
ok 'start_all' "through the sentinel all three daemons start: the master has noeviction"
like "$(log policyd)" "info: redis: maxmemory-policy noeviction, appendonly yes" "policyd checked the master"
out=$(ctl check-config "$conf" 2>&1); rc=$?
is "$rc" 0 "check-config, through the sentinel, checks the master, not the replica"
# the sentinel refuses (NOGOODSLAVE) until it has seen the replica healthy: ask until it agrees
failover_started() { [ "$(redis-cli -p 26401 SENTINEL FAILOVER om 2>&1)" = OK ]; }
ok 'wait_until 30 failover_started' "the sentinel starts a failover"
ok 'wait_until 20 eval "redis-cli -p 6402 ROLE | head -1 | grep -qx master"' "a failover promotes the replica"
ok 'wait_until 20 grep -q "error: redis: refusing to use the server until this is fixed: maxmemory-policy is allkeys-lru" $WORLD_DIR/log/policyd.log' \
    "policyd checks the new master and refuses its policy"
like "$(policy_ask carol@gmail.test)" "action=DEFER_IF_PERMIT 4\\.3\\.0" "and fails closed"
ok 'wait_until 20 milter_noticed' "so does the milter"
out=$(ctl check-config "$conf" 2>&1); rc=$?
is "$rc" 1 "check-config now reports the new master's policy"
redis-cli -p 6402 CONFIG SET maxmemory-policy noeviction >/dev/null
ok 'wait_until 10 policy_dunno' "fixed on the new master: policyd decides again"
done_testing
