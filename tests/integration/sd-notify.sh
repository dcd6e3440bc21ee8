#!/bin/bash
# sd-notify.sh - the three daemons speak systemd's Type=notify protocol: READY=1
# only once their sockets listen, RELOADING=1 then READY=1 around a SIGHUP
# reload (taken or refused), STOPPING=1 on SIGTERM, each from the main process.
# tests/lib/notify.py stands in for systemd (TAP).
#
# Run as root: tests/integration/sd-notify.sh   (KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN"
redis_start
touch "$WORLD_DIR/maillog" "$WORLD_TMP/backoff.rules"
chmod 644 "$WORLD_TMP/backoff.rules"

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[logd]
maillog = $WORLD_DIR/maillog
metrics_listen = 127.0.0.1:9433
backoff_rules = $WORLD_TMP/backoff.rules
EOF

# notes NAME - what the daemon told the stand-in, one message a line
notes() { cat "$WORLD_DIR/log/$1.notify" 2>/dev/null; }
# notes_at_least NAME REGEX N - at least N messages match (for wait_until)
notes_at_least() { [ "$(notes "$1" | grep -cE "$2")" -ge "$3" ]; }

# check NAME BIN SOCKETS - start BIN under notify.py and go through its life
check() {
    local name=$1 bin=$2 sockets=$3
    world_spawn "$name" "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/$name.notify" \
        "$sockets" -- "$bin" -f -c "$conf"
    ok 'wait_until 10 notes_at_least $name "^READY=1" 1' "$name: READY=1 arrives"
    like "$(notes "$name" | grep -m1 '^READY=1')" "sockets=ok" \
        "$name: READY=1 only once its sockets listen ($sockets)"
    like "$(notes "$name" | grep -m1 '^READY=1')" "pid=main" "$name: sent by the main process"
    like "$(notes "$name" | grep -m1 '^READY=1')" "STATUS=[a-z]" "$name: with a STATUS= line"

    world_kill "$name" HUP
    ok 'wait_until 10 notes_at_least $name "^READY=1" 2' "$name: READY=1 again after SIGHUP"
    is "$(notes "$name" | grep -E '^(READY|RELOADING)=1' | cut -d' ' -f1 | tr '\n' ' ')" \
        "READY=1 RELOADING=1 READY=1 " "$name: RELOADING=1 came first"

    # a broken file (outpost-logd reloads its rules): the reload is refused,
    # and the daemon says it is ready again
    cp "$conf" "$conf.good"
    printf '[policy]\nmax_request_size = lots\n' >>"$conf"
    printf 'google 4.7.28 * 1h\n' >"$WORLD_TMP/backoff.rules"
    world_kill "$name" HUP
    ok 'wait_until 10 notes_at_least $name "^READY=1" 3' "$name: a refused reload ends with READY=1 too"
    like "$(notes "$name" | grep '^READY=1' | tail -n1)" "STATUS=reload refused" \
        "$name: its STATUS= says the reload was refused"
    cp "$conf.good" "$conf"
    : >"$WORLD_TMP/backoff.rules"
    ok '_pid_alive "$(world_pid $name)"' "$name: still running"

    world_kill "$name"
    ok 'wait_until 10 notes_at_least $name "^STOPPING=1" 1' "$name: STOPPING=1 on SIGTERM"
}

check policyd "$POLICYD_BIN" "$WORLD_DIR/run/policy.sock"
check milter "$MILTER_BIN" "$WORLD_DIR/run/milter.sock"
check logd "$LOGD_BIN" "tcp:127.0.0.1:9433"

# without NOTIFY_SOCKET nothing is sent and nothing goes wrong
world_spawn plain "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "without systemd policyd starts as before"
unlike "$(cat "$WORLD_DIR/log/plain.log")" "systemd" "and says nothing about systemd"
done_testing
