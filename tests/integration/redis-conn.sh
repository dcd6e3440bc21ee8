#!/bin/bash
# redis-conn.sh - the Redis connection module against real servers (TAP)
#
# In a private network namespace: a master and a replica, three sentinels.
# One long-lived connection (tests/helpers/rconn_probe) must
#   - connect by a unix socket and by TCP with a password and a db number,
#   - fail fast while Redis is down and reconnect by itself when it is back,
#   - find the master through the sentinels and follow it after a failover.
set -u
if [ -z "${OUTPOST_IN_NS:-}" ]; then
    export OUTPOST_IN_NS=1
    exec unshare -mn -- bash "$0" "$@"
fi
ip link set lo up
B=${OUTPOST_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
PROBE=$B/tests/helpers/rconn_probe
W=$(mktemp -d /tmp/outpost-redis.XXXXXX)
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; failed=$((failed + 1)); fi; }
cleanup() {
    for f in "$W"/*.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null; done
    sleep 0.2; [ -n "${KEEP:-}" ] && echo "# kept $W" || rm -rf "$W"
}
trap cleanup EXIT

# redis NAME PORT [ARGS...] - one server in the background
redis() {
    local name=$1 port=$2; shift 2
    redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
        --dir "$W" --pidfile "$W/$name.pid" --daemonize yes \
        --logfile "$W/$name.log" "$@"
    for _ in $(seq 50); do redis-cli -p "$port" "${@:+-a}" ping >/dev/null 2>&1 && break; sleep 0.1; done
}
wait_ping() { for _ in $(seq 50); do redis-cli -p "$1" ping 2>/dev/null | grep -q PONG && return 0; sleep 0.1; done; return 1; }

# 1. unix socket
redis unix 6390 --unixsocket "$W/redis.sock" --unixsocketperm 700
wait_ping 6390
printf '[redis]\nserver = unix:%s/redis.sock\n' "$W" > "$W/unix.conf"
out=$("$PROBE" "$W/unix.conf" 2 10)
[ "$(echo "$out" | tail -n1)" = "ok 2" ]; ok $? "unix socket: two INCRs on one connection"

# 2. TCP with password and db; Redis down, then back
redis auth 6391 --requirepass s3cret
wait_ping 6391 || true
printf '[redis]\nserver = 127.0.0.1:6391\npassword = s3cret\ndb = 3\nreconnect_min = 50ms\nreconnect_max = 200ms\n' > "$W/auth.conf"
"$PROBE" "$W/auth.conf" 60 50 > "$W/auth.out" 2>"$W/auth.err" &
probe=$!
sleep 0.5
kill "$(cat "$W/auth.pid")"; sleep 1
redis auth 6391 --requirepass s3cret
wait "$probe"
first_fail=$(grep -n '^fail' "$W/auth.out" | head -n1 | cut -d: -f1)
last_ok=$(grep -n '^ok' "$W/auth.out" | tail -n1 | cut -d: -f1)
[ -n "$first_fail" ] && [ -n "$last_ok" ] && [ "$last_ok" -gt "$first_fail" ]
ok $? "password + db: failures while down, success again after restart (no new process)"
[ "$(redis-cli -p 6391 -a s3cret -n 3 --no-auth-warning get probe)" -ge 1 ]
ok $? "writes went to db 3"
grep -q 'next attempt in' "$W/auth.err"; ok $? "outage logged with the backoff delay"
printf '[redis]\nserver = 127.0.0.1:6391\npassword = wrong\n' > "$W/bad.conf"
"$PROBE" "$W/bad.conf" 1 0 | grep -q '^fail AUTH failed'; ok $? "a wrong password is reported as AUTH failed"

# 3. every client dropped (CLIENT KILL TYPE normal): the next command is answered, on
# a unix socket and by TCP, although the backoff (reconnect_min 5s) would refuse it
# for 5 s; the probe sends one INCR per line it reads
# killed NAME CONF REDIS-CLI-ARGS... - INCR, CLIENT KILL, INCR: the probe's two lines
killed() {
    local name=$1 conf=$2; shift 2
    mkfifo "$W/$name.in"
    "$PROBE" "$conf" 2 - <"$W/$name.in" >"$W/$name.out" 2>"$W/$name.err" &
    exec 7>"$W/$name.in"
    echo >&7
    for _ in $(seq 50); do [ -s "$W/$name.out" ] && break; sleep 0.1; done
    redis-cli "$@" CLIENT KILL TYPE normal >"$W/$name.killed"
    echo >&7
    exec 7>&-
    wait
    cat "$W/$name.out"
}
printf '[redis]\nserver = unix:%s/redis.sock\nreconnect_min = 5s\n' "$W" > "$W/unixkill.conf"
out=$(killed unixkill "$W/unixkill.conf" -p 6390)
[[ "$(echo "$out" | head -n1)" == "ok "* ]] && [ "$(cat "$W/unixkill.killed")" -ge 1 ]
ok $? "unix socket: connected, then CLIENT KILL dropped the connection"
[ "$(echo "$out" | wc -l)" = 2 ] && [[ "$(echo "$out" | tail -n1)" == "ok "* ]]
ok $? "unix socket: the next command after CLIENT KILL is answered ($(echo "$out" | tail -n1))"
printf '[redis]\nserver = 127.0.0.1:6391\npassword = s3cret\ndb = 3\nreconnect_min = 5s\n' > "$W/tcpkill.conf"
out=$(killed tcpkill "$W/tcpkill.conf" -p 6391 -a s3cret --no-auth-warning)
[[ "$(echo "$out" | head -n1)" == "ok "* ]] && [ "$(cat "$W/tcpkill.killed")" -ge 1 ]
ok $? "TCP: connected, then CLIENT KILL dropped the connection"
[ "$(echo "$out" | wc -l)" = 2 ] && [[ "$(echo "$out" | tail -n1)" == "ok "* ]]
ok $? "TCP: the next command after CLIENT KILL is answered ($(echo "$out" | tail -n1))"
grep -q 'closed the connection: reconnecting' "$W/tcpkill.err"; ok $? "the reconnect is logged"

# 4. Sentinel: master 6392, replica 6393, sentinels 26392-26394
redis master 6392
redis replica 6393 --replicaof 127.0.0.1 6392
for p in 26392 26393 26394; do
    cat > "$W/s$p.conf" <<EOC
port $p
bind 127.0.0.1
dir $W
sentinel monitor outpost 127.0.0.1 6392 2
sentinel down-after-milliseconds outpost 1000
sentinel failover-timeout outpost 5000
EOC
    redis-server "$W/s$p.conf" --sentinel --daemonize yes --pidfile "$W/s$p.pid" --logfile "$W/s$p.log"
done
for _ in $(seq 100); do
    redis-cli -p 6392 info replication | grep -q 'connected_slaves:1' &&
    redis-cli -p 26392 sentinel replicas outpost 2>/dev/null | grep -q 6393 && break
    sleep 0.1
done
printf '[redis]\nsentinels = 127.0.0.1:26392, 127.0.0.1:26393 127.0.0.1:26394\nsentinel_master = outpost\nreconnect_min = 50ms\nreconnect_max = 200ms\n' > "$W/sent.conf"
"$PROBE" "$W/sent.conf" 160 50 > "$W/sent.out" 2>"$W/sent.err" &
probe=$!
sleep 1
# the sentinel refuses (NOGOODSLAVE) until it has seen the replica healthy: ask until it agrees
for _ in $(seq 300); do
    [ "$(redis-cli -p 26392 sentinel failover outpost 2>&1)" = OK ] && break
    sleep 0.1
done
wait "$probe"
redis-cli -p 6393 info replication | grep -q 'role:master'; ok $? "sentinel failover made the replica master"
[ "$(tail -n1 "$W/sent.out" | cut -d' ' -f1)" = ok ]; ok $? "probe writes succeed after the failover"
[ "$(redis-cli -p 6393 get probe)" = "$(tail -n1 "$W/sent.out" | cut -d' ' -f2)" ]
ok $? "the last write went to the new master"

echo "1..$n"
if [ "$failed" -gt 0 ]; then
    for f in "$W"/*.out "$W"/*.err; do echo "# --- $f"; tail -n 5 "$f" | sed 's/^/# /'; done
fi
[ "$failed" -eq 0 ]
