#!/bin/bash
# api-submit-bench.sh - POST /v1/messages (api_messages_post() through
# tests/helpers/api-messages-probe, XCLIENT LOGIN as the tenant) against
# smtp-source submitting the same 4 KiB message over SMTP (a session per
# message, and with -d the sessions kept open as the API's are), to the same
# dedicated smtpd of a private Postfix (outpost-milter signing and checking
# suppression, outpost-policyd asked for each recipient), alternating
# A B A B; messages per second accepted by Postfix (wall time of the client),
# the queue drained between runs.  Prints figures; asserts nothing but that
# the work was real.  Needs root (a private network namespace).
#
#   tests/bench/api-submit-bench.sh        # 2000 messages, 8 connections, 2 rounds
#   BENCH_MSGS=500 BENCH_SESSIONS=4 BENCH_ROUNDS=1 tests/bench/api-submit-bench.sh
#
# Target: API >= 0.8x SMTP.
. "$(dirname "$0")/../lib/world.sh"
WORLD_TIMEOUT=${WORLD_TIMEOUT:-3000}
world_start "$@"
PROBE=$OUTPOST_BUILDDIR/tests/helpers/api-messages-probe
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN" "$PROBE" /usr/sbin/smtp-source /usr/sbin/smtp-sink

MSGS=${BENCH_MSGS:-2000}
SIZE=${BENCH_SIZE:-4096}
SESSIONS=${BENCH_SESSIONS:-8}
ROUNDS=${BENCH_ROUNDS:-2}

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
printf 'shop shop.test\n' >"$keys/sasl"
: >"$keys/table"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[dkim]
key_table = $keys/table
sasl_domains = $keys/sasl
sign_networks = 127.0.0.0/8
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[httpd]
submit = inet:127.0.0.1:10027
submit_connections = $SESSIONS
[tenant shop]
domains = shop.test
EOC
"$CTL_BIN" -c "$conf" dkim keygen shop.test s1 --add >/dev/null 2>&1
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
world_spawn smtpsink /usr/sbin/smtp-sink -u postfix 127.0.0.11:25 1000
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
wait_until 5 test -S "$WORLD_DIR/run/milter.sock" || BAIL_OUT "outpost-milter did not start"
wait_until 5 test -S "$WORLD_DIR/run/policy.sock" || BAIL_OUT "outpost-policyd did not start"
postfix_conf "milter_default_action = tempfail" \
    "outpost_api_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject" \
    "default_process_limit = 200" "smtpd_client_connection_count_limit = 0" \
    "default_destination_concurrency_limit = 20" "smtp_connection_cache_on_demand = yes"
postfix_master "127.0.0.1:10027 inet n - n - - smtpd -o smtpd_authorized_xclient_hosts=127.0.0.1 -o smtpd_milters=unix:$WORLD_DIR/run/milter.sock -o smtpd_recipient_restrictions=\$outpost_api_restrictions"
postfix_start

# the API's body: a text of SIZE bytes less the headers, lines of 72
body=$WORLD_TMP/body.json
/usr/bin/python3 - "$SIZE" >"$body" <<'PY'
import json, sys
n = int(sys.argv[1]) - 400
line = "abcdefghij" * 7 + "\n"
text = (line * (n // len(line) + 1))[:n]
print(json.dumps({"from": "sender@shop.test", "to": "rcpt@gmail.test",
                  "subject": "benchmark", "text": text}))
PY

# run api|smtp|smtpkeep - one timed batch; prints msg/s
run() {
    local t0 t1
    t0=$(_now_ms)
    if [ "$1" = api ]; then
        "$PROBE" -n "$MSGS" "$conf" shop <"$body" >"$WORLD_TMP/api.out" 2>"$WORLD_TMP/api.err" ||
            echo "# the probe failed" >&2
    else
        /usr/sbin/smtp-source ${1#smtp} -s "$SESSIONS" -l "$SIZE" -m "$MSGS" -f sender@shop.test \
            -t rcpt@gmail.test 127.0.0.1:10027 || echo "# smtp-source failed" >&2
    fi
    t1=$(_now_ms)
    awk -v n="$MSGS" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1000 / ms }'
    postfix_wait_queue_empty 600 || echo "# queue did not drain" >&2
}

declare -A RATE
for ((r = 1; r <= ROUNDS; r++)); do
    for name in api smtp smtpkeep; do
        if [ "$name" = smtpkeep ]; then rate=$(run smtp-d); else rate=$(run "$name"); fi
        note "round $r $name: $rate msg/s"
        RATE[$name]="${RATE[$name]} $rate"
    done
done
is "$(head -1 "$WORLD_TMP/api.out")" 202 "the API's last answer was 202"
like "$(tail -n +2 "$WORLD_TMP/api.out")" '"status":"queued"' "and queued"
like "$(maillog_grep 'sasl_username=shop' | wc -l)" "^[1-9]" "Postfix saw the tenant"
like "$(grep -c 'signed: 1 signature' "$WORLD_DIR/log/milter.log")" "^[1-9]" "outpost-milter signed"
mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.1f", s / NF }' <<<"$1"; }
echo "# --- $MSGS messages of $SIZE bytes, $SESSIONS connections, $ROUNDS rounds (mean)"
printf '# %-9s %8s msg/s\n' api "$(mean "${RATE[api]}")" smtp "$(mean "${RATE[smtp]}")" \
    "smtp -d" "$(mean "${RATE[smtpkeep]}")"
awk -v a="$(mean "${RATE[api]}")" -v b="$(mean "${RATE[smtp]}")" -v c="$(mean "${RATE[smtpkeep]}")" \
    'BEGIN { printf "# api/smtp throughput %.2fx, api/smtp -d %.2fx (target >= 0.8x)\n", a / b, a / c }'
done_testing
