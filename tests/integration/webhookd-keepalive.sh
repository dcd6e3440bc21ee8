#!/bin/bash
# webhookd-keepalive.sh - outpost-webhookd keeps its connection to a webhook open
# between POSTs, over https (a TLS handshake per connection, not per batch) as over
# http: N batches go on one connection; a receiver that closes the connection after
# its answer, says Connection: close, or is restarted between batches gets the next
# batch on a new connection, nothing lost and nothing failed; bytes sent after an
# answer are never taken for the next POST's answer (that connection is not used
# again); a POST cut on a kept
# connection before any answer is sent again at once on a new one (not a failure),
# and one cut on a new connection is a failure, retried after a delay as before;
# [webhookd] keepalive_idle bounds how long an idle connection is used (request_timeout
# does not), and 0 makes a connection per POST (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
WEBHOOKD_BIN=${WEBHOOKD_BIN:-$OUTPOST_BUILDDIR/outpost-webhookd}
RECEIVER=$OUTPOST_SRCDIR/tests/helpers/webhook-receiver.py
need_programs "$WEBHOOKD_BIN" /usr/bin/curl /usr/bin/openssl

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/webhook.secret
echo "whsec-$RANDOM$RANDOM" >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
tlsrx=$WORLD_TMP/tlsrx rx=$WORLD_TMP/rx rx6=$WORLD_TMP/rx6
mkdir -p "$tlsrx" "$rx" "$rx6"
tls_cert hooks hooks.test
# a certificate for the address ::1 (IP subjectAltName), from the test CA
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/CN=six" \
    -keyout "$WORLD_TMP/six.key" -out "$WORLD_TMP/six.csr" 2>/dev/null
openssl x509 -req -in "$WORLD_TMP/six.csr" -CA "$WORLD_TMP/ca.pem" -CAkey "$WORLD_TMP/ca.key" \
    -CAcreateserial -days 2 -out "$WORLD_TMP/six.pem" \
    -extfile <(printf 'subjectAltName = IP:::1\n') 2>/dev/null
# write_conf [KEEPALIVE] - the configuration, with [webhookd] keepalive_idle when given
write_conf() {
    cat >"$conf" <<CONF
[general]
user = nobody
node = t1
[redis]
$REDIS_CONF_SERVER
prefix = op:
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[webhookd]
batch_events = 5
request_timeout = 2s
backoff_min = 50ms
backoff_max = 200ms
poll_interval = 50ms
claim_idle = 1s
${1:+keepalive_idle = $1}
ca_file = $WORLD_TMP/ca.pem
metrics_listen = 127.0.0.1:9436
[tenant sure]
domains = sure.test
webhook_url = https://hooks.test:8443/in
webhook_secret_file = $secret
[tenant plain]
domains = plain.test
webhook_url = http://127.0.0.1:8090/in
webhook_secret_file = $secret
[tenant six]
domains = six.test
webhook_url = https://[::1]:8444/in
webhook_secret_file = $secret
CONF
}
metric() {
    curl -s http://127.0.0.1:9436/metrics | awk -v m="$1{node=\"t1\",$2}" '$1 == m { print $2 }'
}
conns() { metric outpost_webhook_connections_total "tenant=\"$1\""; }
batches() { metric outpost_webhook_batches_total "tenant=\"$1\""; }
# batches_are TENANT N - N batches answered 2xx (counted once the answer is in:
# after the receiver logged the request)
batches_are() { [ "$(batches "$1")" = "$2" ]; }
failures() {
    curl -s http://127.0.0.1:9436/metrics |
        awk -v t="tenant=\"$1\"" '/^outpost_webhook_failures_total/ && index($1, t) { s += $2 } END { print s + 0 }'
}
failures_at_least() { [ "$(failures "$1")" -ge "$2" ]; }
reloads() { metric outpost_webhook_reloads_total 'result="done"'; }
reloads_over() { [ "$(reloads)" -gt "$1" ]; }
hup() {
    local before
    before=$(reloads)
    kill -HUP "$wpid"
    wait_until 10 reloads_over "$before"
}
mode() { echo "$2" >"$1/mode"; }
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
all_in() {
    [ -z "$(comm -23 <(redis_cli XRANGE "op:{ev:$2}:s" - + | grep -E '^[0-9]+-[0-9]+$' | sort) \
        <(received "$1" | sort -u))" ]
}
# acked TENANT - every event read was answered and acknowledged (the receiver logs a
# request before it answers)
acked() { [ "$(redis_cli XPENDING "op:{ev:$1}:s" webhook | head -n1)" = 0 ]; }
# requests DIR - how many requests the receiver took
requests() { [ -s "$1/log" ] && wc -l <"$1/log" || echo 0; }
# handshakes DIR - how many connections the receiver took (over TLS: handshakes)
handshakes() { [ -s "$1/conns" ] && wc -l <"$1/conns" || echo 0; }
# phase DIR FROM - of the requests after the first FROM: "REQUESTS CONNECTIONS DROPPED
# AGAIN", AGAIN "again" when every dropped one came again, answered 200, in the next
# request, on another connection ("-": none dropped)
phase() {
    "$PYTHON" - "$1/log" "$2" <<'PY'
import json, sys
reqs = [json.loads(l) for l in open(sys.argv[1])][int(sys.argv[2]):]
drops = [i for i, r in enumerate(reqs) if r["answer"] == "drop"]
again = all(i + 1 < len(reqs) and reqs[i + 1]["answer"] == "200"
            and reqs[i + 1]["events"] == reqs[i]["events"]
            and reqs[i + 1]["conn"] != reqs[i]["conn"] for i in drops)
print(len(reqs), len(set(r["conn"] for r in reqs)), len(drops),
      "-" if not drops else "again" if again else "not-again")
PY
}
wlog() { cat "$WORLD_DIR/log/webhookd.log"; }

dns_a hooks.test 127.0.0.1
dns_start
redis_start
world_spawn rx8443 "$PYTHON" "$RECEIVER" 127.0.0.1 8443 "$tlsrx" "$secret" \
    "$WORLD_TMP/hooks.pem" "$WORLD_TMP/hooks.key"
world_spawn rx8090 "$PYTHON" "$RECEIVER" 127.0.0.1 8090 "$rx" "$secret"
world_spawn rx8444 "$PYTHON" "$RECEIVER" ::1 8444 "$rx6" "$secret" \
    "$WORLD_TMP/six.pem" "$WORLD_TMP/six.key"
ok 'wait_until 10 _listening tcp 127.0.0.1 8443 && wait_until 10 _listening tcp 127.0.0.1 8090 &&
    wait_until 10 _listening tcp "[::1]" 8444' \
    "the receivers listen (https with a test CA, http, and https on ::1)"
write_conf

# ---------------------------------------------------------------- N batches, one connection
add sure 25
add plain 25
world_spawn webhookd "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/webhookd.notify" \
    tcp:127.0.0.1:9436 -- "$WEBHOOKD_BIN" -f -v -c "$conf"
ok 'wait_until 10 grep -qs "^READY=1" "$WORLD_DIR/log/webhookd.notify"' "outpost-webhookd is ready"
wpid=$(pgrep -f "^$WEBHOOKD_BIN -f -v -c $conf" | head -n1)
ok 'wait_until 10 all_in "$tlsrx" sure' "https: the 25 events arrive"
ok 'wait_until 10 batches_are sure 5' "in 5 batches (batch_events 5)"
is "$(conns sure) $(handshakes "$tlsrx") $(phase "$tlsrx" 0)" "1 1 5 1 0 -" \
    "on one connection: connections_total 1, one TLS handshake at the receiver, 5 requests on it"
ok 'wait_until 10 all_in "$rx" plain' "http: the 25 events arrive"
ok 'wait_until 10 batches_are plain 5' "in 5 batches"
is "$(conns plain) $(handshakes "$rx") $(phase "$rx" 0)" "1 1 5 1 0 -" "on one connection too"
is "$(failures sure) $(failures plain)" "0 0" "no failure"

# ---------------------------------------------------------------- an IPv6 address in the URL
add six 10
ok 'wait_until 10 all_in "$rx6" six' "https://[::1]:8444/in: the 10 events arrive (the certificate names ::1)"
read -r n c d _ <<<"$(phase "$rx6" 0)"
is "$(conns six) $c $d $(failures six)" "1 1 0 0" "its $n POSTs on one connection, none failed"
is "$("$PYTHON" -c 'import json, sys; print(" ".join(sorted(set(json.loads(l)["host"] for l in open(sys.argv[1])))))' "$rx6/log")" \
    "[::1]:8444" "with the Host header [::1]:8444"

# ---------------------------------------------------------------- the receiver closes it after its answer
for d in "$tlsrx" "$rx"; do mode "$d" shut; done
from=$(requests "$tlsrx") from_plain=$(requests "$rx")
add sure 12
add plain 12
ok 'wait_until 10 all_in "$tlsrx" sure' "https: a receiver that closes the connection after each answer gets every event"
read -r n c d _ <<<"$(phase "$tlsrx" "$from")"
is "$c $d $(failures sure)" "$n 0 0" "each of its $n requests on a connection of its own, none failed"
is "$(conns sure)" "$(handshakes "$tlsrx")" "connections_total counts every TLS handshake the receiver saw"
ok 'wait_until 10 all_in "$rx" plain' "http: so too"
read -r n c d _ <<<"$(phase "$rx" "$from_plain")"
is "$c $d $(failures plain) $(conns plain)" "$n 0 0 $(handshakes "$rx")" \
    "each request on a connection of its own, none failed, each connection counted"

# ---------------------------------------------------------------- Connection: close
mode "$tlsrx" close
from=$(requests "$tlsrx")
add sure 12
ok 'wait_until 10 all_in "$tlsrx" sure' "an answer with Connection: close: every event arrives"
read -r n c d _ <<<"$(phase "$tlsrx" "$from")"
is "$c $d $(failures sure) $(conns sure)" "$n 0 0 $(handshakes "$tlsrx")" \
    "the next POST makes a new connection each time; none failed"

# ---------------------------------------------------------------- bytes after the answer
# the receiver follows its first answer on a connection with a second one no request
# asked for, and answers 500 to any later request on it: the stray bytes must not be
# read as the answer of the next POST (its batch would be acknowledged unanswered)
for d in "$tlsrx" "$rx"; do mode "$d" extra; done
from=$(requests "$tlsrx") from_plain=$(requests "$rx")
f0=$(failures sure) f0_plain=$(failures plain)
add sure 12
add plain 12
ok 'wait_until 10 all_in "$tlsrx" sure && wait_until 10 acked sure' \
    "https: answers followed by bytes no request asked for: every event arrives, answered 200"
read -r n c d _ <<<"$(phase "$tlsrx" "$from")"
is "$c $(($(failures sure) - f0))" "$n 0" \
    "a connection with bytes left after the answer is not used again: $n POSTs, each on a new one"
ok 'wait_until 10 all_in "$rx" plain && wait_until 10 acked plain' "http: so too"
read -r n c d _ <<<"$(phase "$rx" "$from_plain")"
is "$c $(($(failures plain) - f0_plain))" "$n 0" "each of its $n POSTs on a new connection"
for d in "$tlsrx" "$rx"; do mode "$d" ok; done

# ---------------------------------------------------------------- the receiver restarted between batches
mode "$tlsrx" ok
add sure 3
ok 'wait_until 10 all_in "$tlsrx" sure && wait_until 10 acked sure' "back to keeping the connection"
kept=$(conns sure)
world_kill rx8443
world_spawn rx8443 "$PYTHON" "$RECEIVER" 127.0.0.1 8443 "$tlsrx" "$secret" \
    "$WORLD_TMP/hooks.pem" "$WORLD_TMP/hooks.key"
ok 'wait_until 10 _listening tcp 127.0.0.1 8443' "the receiver restarted (its connections closed)"
add sure 3
ok 'wait_until 10 all_in "$tlsrx" sure' "the next batch arrives"
is "$(failures sure) $(conns sure)" "0 $((kept + 1))" "on a new connection, without a failure"

# ---------------------------------------------------------------- cut under a POST on a kept connection
mode "$tlsrx" dropkept
from=$(requests "$tlsrx")
add sure 12
ok 'wait_until 10 all_in "$tlsrx" sure' \
    "a receiver that drops every request after the first on a connection: every event arrives"
read -r n c d again <<<"$(phase "$tlsrx" "$from")"
ok "[ $d -ge 1 ]" "requests were dropped on kept connections ($d)"
is "$again $(failures sure)" "again 0" \
    "each came again at once, answered 200, on a new connection; no failure counted"
like "$(wlog)" 'kept connection was closed under the POST: sent again' "(logged with -v)"

# ---------------------------------------------------------------- cut under every POST
mode "$tlsrx" drop
from=$(requests "$tlsrx")
f0=$(failures sure)
add sure 2
ok "wait_until 10 failures_at_least sure $((f0 + 3))" \
    "a receiver that drops every request: failures are counted"
like "$(wlog)" "tenant sure: webhook https://hooks.test:8443/in: .*posted again after a delay" \
    "and the batch is posted again after a delay, as before"
mode "$tlsrx" ok
ok 'wait_until 10 all_in "$tlsrx" sure && wait_until 10 acked sure' "once it answers, every event arrives"
read -r n c d _ <<<"$(phase "$tlsrx" "$from")"
is "$d" "$(($(failures sure) - f0 + 1))" \
    "one more drop than failures: only the POST on the kept connection was sent again at once"

# ---------------------------------------------------------------- keepalive_idle = 0: a connection per POST
write_conf 0
ok 'hup' "keepalive_idle = 0: SIGHUP, the reload is done"
c0=$(conns sure) from=$(requests "$tlsrx")
add sure 12
ok 'wait_until 10 all_in "$tlsrx" sure' "every event arrives"
read -r n c d _ <<<"$(phase "$tlsrx" "$from")"
is "$c $(($(conns sure) - c0))" "$n $n" "each of the $n POSTs on a connection of its own"

# ---------------------------------------------------------------- keepalive_idle: idle too long
write_conf 1s
ok 'hup' "keepalive_idle = 1s: SIGHUP"
add sure 1
ok 'wait_until 10 all_in "$tlsrx" sure' "a batch arrives"
c0=$(conns sure) f1=$(failures sure)
sleep 2
add sure 1
ok 'wait_until 10 all_in "$tlsrx" sure' "another, after the connection was idle for 2s"
is "$(($(conns sure) - c0)) $(failures sure)" "1 $f1" "on a new connection"

# ---------------------------------------------------------------- idle longer than request_timeout
write_conf 30s
ok 'hup' "keepalive_idle = 30s (request_timeout 2s): SIGHUP"
add sure 1
ok 'wait_until 10 all_in "$tlsrx" sure' "a batch arrives"
c0=$(conns sure) f1=$(failures sure)
sleep 3
add sure 1
ok 'wait_until 10 all_in "$tlsrx" sure' "another, after the connection was idle for 3s"
is "$(($(conns sure) - c0)) $(failures sure)" "0 $f1" \
    "on the same connection: request_timeout bounds a POST, not an idle connection"

ok '[ -d /proc/$wpid ]' "outpost-webhookd is still running"
world_kill webhookd
unlike "$(wlog)" 'Sanitizer|runtime error' "no sanitizer report"
done_testing
