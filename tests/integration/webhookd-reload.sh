#!/bin/bash
# webhookd-reload.sh - outpost-webhookd reloads on SIGHUP: a tenant given a webhook
# begins posting (the events it had, then the next ones); one whose webhook is taken
# away stops, and its events wait in its stream until it is given one again; a new
# URL and secret are used for the next batch; an unreadable secret or a syntax error
# is refused (logged, counted) and the running tenants go on; a changed node is named
# with "restart" (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
WEBHOOKD_BIN=${WEBHOOKD_BIN:-$OUTPOST_BUILDDIR/outpost-webhookd}
RECEIVER=$OUTPOST_SRCDIR/tests/helpers/webhook-receiver.py
need_programs "$WEBHOOKD_BIN" /usr/bin/curl

conf=$WORLD_DIR/outpost.conf
# secrets: the daemon reads them again as [general] user
for s in a b c; do
    echo "whsec-$s-$RANDOM$RANDOM" >"$WORLD_DIR/secret.$s"
    chown nobody "$WORLD_DIR/secret.$s"
    chmod 600 "$WORLD_DIR/secret.$s"
done
rx=$WORLD_TMP/rx rx2=$WORLD_TMP/rx2 rx3=$WORLD_TMP/rx3
mkdir -p "$rx" "$rx2" "$rx3"
# write_conf [SHOP-URL] [OTHER-URL OTHER-SECRET] - shop and other, each with a webhook or not
write_conf() {
    cat >"$conf" <<CONF
[general]
user = nobody
node = ${NODE:-t1}
[redis]
$REDIS_CONF_SERVER
prefix = op:
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[webhookd]
batch_events = 5
request_timeout = 1s
backoff_min = 50ms
backoff_max = 400ms
poll_interval = 50ms
claim_idle = 1s
metrics_listen = 127.0.0.1:9436
[tenant shop]
domains = shop.test
CONF
    [ -z "$1" ] || printf 'webhook_url = %s\nwebhook_secret_file = %s\n' "$1" "$WORLD_DIR/secret.a" >>"$conf"
    printf '[tenant other]\ndomains = other.test\n' >>"$conf"
    [ -z "$2" ] || printf 'webhook_url = %s\nwebhook_secret_file = %s\n' "$2" "$3" >>"$conf"
}
metric() {
    curl -s http://127.0.0.1:9436/metrics | awk -v m="$1{node=\"t1\"${2:+,}$2}" '$1 == m { print $2 }'
}
reloads() { metric outpost_webhook_reloads_total "result=\"$1\""; }
reloads_over() { [ "$(reloads "$1")" -gt "$2" ]; }
# hup RESULT - SIGHUP, then wait until the reload is counted as RESULT (done, refused)
hup() {
    local before
    before=$(reloads "$1")
    kill -HUP "$wpid"
    wait_until 10 reloads_over "$1" "$before"
}
seq_no=0
add() {
    local i
    for ((i = 0; i < $2; i++)); do
        seq_no=$((seq_no + 1))
        redis_cli XADD "op:{ev:$1}:s" '*' type delivered time "$(_now_ms)" \
            rcpt "r$seq_no@gmail.test" sender "$1.test" msgid "m$seq_no" >/dev/null
    done
}
# received DIR - the ids answered 200 whose signature verified, one a line
received() {
    [ -s "$1/log" ] && "$PYTHON" -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r["answer"] == "200" and r["sig"]:
        for e in r["events"]:
            print(e[0])' "$1/log"
}
# has DIR TENANT FROM - every entry of the tenant's stream after id FROM is in DIR
has() {
    [ -z "$(comm -23 <(redis_cli XRANGE "op:{ev:$2}:s" "(${3:-0-0}" + | grep -E '^[0-9]+-[0-9]+$' | sort) \
        <(received "$1" | sort -u))" ]
}
last_id() { redis_cli XREVRANGE "op:{ev:$1}:s" + - COUNT 1 | head -n1; }
log() { cat "$WORLD_DIR/log/webhookd.log"; }

redis_start
world_spawn rx8090 "$PYTHON" "$RECEIVER" 127.0.0.1 8090 "$rx" "$WORLD_DIR/secret.a"
world_spawn rx8091 "$PYTHON" "$RECEIVER" 127.0.0.1 8091 "$rx2" "$WORLD_DIR/secret.b"
world_spawn rx8092 "$PYTHON" "$RECEIVER" 127.0.0.1 8092 "$rx3" "$WORLD_DIR/secret.c"
ok 'wait_until 10 _listening tcp 127.0.0.1 8092' "the receivers listen"
write_conf http://127.0.0.1:8090/
add shop 4
add other 6
world_spawn webhookd "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/webhookd.notify" \
    tcp:127.0.0.1:9436 -- "$WEBHOOKD_BIN" -f -c "$conf"
ok 'wait_until 10 grep -qs "^READY=1" "$WORLD_DIR/log/webhookd.notify"' "outpost-webhookd is ready"
wpid=$(pgrep -f "^$WEBHOOKD_BIN -f -c $conf" | head -n1)
ok 'wait_until 10 has "$rx" shop' "shop's events arrive"
is "$(redis_cli XINFO GROUPS "op:{ev:other}:s")" "" "other, without a webhook, is not read at all"

# ---------------------------------------------------------------- an endpoint added
write_conf http://127.0.0.1:8090/ http://127.0.0.1:8091/in "$WORLD_DIR/secret.b"
ok 'hup done' "other given a webhook: SIGHUP, a reload counted as done"
ok 'wait_until 10 has "$rx2" other' "the events other had arrive at its new endpoint, signed with its secret"
mark=$(last_id other)
add other 7
ok 'wait_until 10 has "$rx2" other "$mark"' "and its next events too"
like "$(log)" 'tenant other: posting its events to http://127\.0\.0\.1:8091/in' "the log says so"
is "$(notes=$(cat "$WORLD_DIR/log/webhookd.notify"); grep -E '^(READY|RELOADING)=1' <<<"$notes" | cut -d' ' -f1 | tr '\n' ' ')" \
    "READY=1 RELOADING=1 READY=1 " "RELOADING=1, then READY=1 (sd_notify)"
is "$(metric outpost_webhook_holder 'tenant="other"')" 1 "its metrics appear"

# ---------------------------------------------------------------- an endpoint taken away
write_conf "" http://127.0.0.1:8091/in "$WORLD_DIR/secret.b"
ok 'hup done' "shop's webhook taken away: SIGHUP"
like "$(log)" 'tenant shop: no webhook configured now' "the log says it stops"
is "$(metric outpost_webhook_holder 'tenant="shop"')" "" "its metrics are gone"
mark_shop=$(last_id shop)
add shop 3
mark=$(last_id other)
add other 2
ok 'wait_until 10 has "$rx2" other "$mark"' "other's events, added after shop's, arrive"
ok '! has "$rx" shop "$mark_shop"' "shop's do not: they wait in its stream"
is "$(redis_cli XINFO GROUPS "op:{ev:shop}:s" | awk 'p { print; exit } $0 == "lag" { p = 1 }')" 3 \
    "three events of shop unread (its group's lag)"
write_conf http://127.0.0.1:8090/ http://127.0.0.1:8091/in "$WORLD_DIR/secret.b"
ok 'hup done' "shop given its webhook again: SIGHUP"
ok 'wait_until 10 has "$rx" shop' "the events that waited arrive"

# ---------------------------------------------------------------- a new URL and secret
write_conf http://127.0.0.1:8090/ http://127.0.0.1:8092/v2 "$WORLD_DIR/secret.c"
ok 'hup done' "other's URL and secret changed: SIGHUP"
mark=$(last_id other)
add other 4
ok 'wait_until 10 has "$rx3" other "$mark"' "the next events go to the new URL, signed with the new secret"

# ---------------------------------------------------------------- refused reloads
write_conf http://127.0.0.1:8090/ http://127.0.0.1:8092/v2 /nonexistent/secret
ok 'hup refused' "an unreadable webhook secret: the reload is refused (counted)"
like "$(log)" 'reload refused, keeping the running configuration: \[tenant other\] webhook_secret_file /nonexistent/secret' \
    "the reason is logged"
like "$(tail -n1 "$WORLD_DIR/log/webhookd.notify")" '^READY=1 \| STATUS=reload refused: ' \
    "READY=1 with the refusal as status"
printf '[webhookd\n' >>"$conf"
ok 'hup refused' "a syntax error: refused too"
mark=$(last_id other)
add other 3
ok 'wait_until 10 has "$rx3" other "$mark"' "the running tenants go on as before"
is "$(reloads refused)" 2 "outpost_webhook_reloads_total{result=\"refused\"} counts both"

# ---------------------------------------------------------------- a setting fixed at start
NODE=t9 write_conf http://127.0.0.1:8090/ http://127.0.0.1:8092/v2 "$WORLD_DIR/secret.c"
ok 'hup done' "a changed node: the reload is done"
like "$(log)" 'reload: \[general\] node changed: restart outpost-webhookd to apply it' \
    "with a warning that names the key and says to restart"
mark=$(last_id shop)
add shop 2
ok 'wait_until 10 has "$rx" shop "$mark"' "posting goes on as node t1"
is "$(redis_cli GET 'op:{ev:shop}:lease')" t1 "the lease is still held as t1"
is "$(reloads done)" 5 "every reload done is counted"
ok '[ -d /proc/$wpid ]' "outpost-webhookd is still running"
unlike "$(log)" 'AddressSanitizer|runtime error' "no sanitizer report"
done_testing
