#!/bin/bash
# dkim-bench.sh - messages per second through a private Postfix
# (smtp-source -> Postfix -> smtp-sink) with no milter, with outpost-milter
# signing RSA-2048, the same with [milter] statistics (accepted recipients counted
# in Redis), and with OpenDKIM's milter signing with the same key, alternating
# A B C D A B C D; plus each milter's own CPU time per message.
# Prints figures; asserts nothing.  Needs root (a private network namespace).
#
#   tests/bench/dkim-bench.sh              # 5000 messages of 4 KiB, 20 sessions, 2 rounds
#   BENCH_MSGS=1000 BENCH_ROUNDS=1 tests/bench/dkim-bench.sh
. "$(dirname "$0")/../lib/world.sh"
WORLD_TIMEOUT=${WORLD_TIMEOUT:-3000}
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN" /usr/sbin/opendkim /usr/sbin/smtp-source /usr/sbin/smtp-sink

MSGS=${BENCH_MSGS:-5000}
SIZE=${BENCH_SIZE:-4096}
SESSIONS=${BENCH_SESSIONS:-20}
ROUNDS=${BENCH_ROUNDS:-2}
HZ=$(getconf CLK_TCK)

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
[milter]
socket = unix:$WORLD_DIR/run/outpost.sock
socket_mode = 0666
[suppress]
# this benchmark measures signing only (OpenDKIM does no suppression check)
enabled = no
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.0/8
EOC
# the same milter counting accepted recipients in Redis ([milter] statistics)
redis_start
sed -e "s|^socket = .*|socket = unix:$WORLD_DIR/run/outstats.sock|" \
    -e "s|^\[milter\]|[redis]\nserver = unix:$REDIS_SOCK\n[milter]|" "$conf" >"$conf.stats"
sed -i "s|^\[suppress\]|statistics = no\n&|" "$conf"

: >"$keys/table"
"$CTL_BIN" -c "$conf" dkim keygen example.com rsa1 --add >/dev/null 2>&1
cat >"$WORLD_DIR/opendkim.conf" <<EOC
Syslog no
Background no
Mode s
Socket local:$WORLD_DIR/run/opendkim.sock
UMask 000
Domain example.com
Selector rsa1
KeyFile $keys/example.com.rsa1.key
RequireSafeKeys no
Canonicalization relaxed/relaxed
InternalHosts 127.0.0.0/8
UserID root
PidFile $WORLD_DIR/run/opendkim.pid
EOC

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
world_spawn smtpsink /usr/sbin/smtp-sink -u postfix 127.0.0.11:25 1000
world_spawn outpost "$MILTER_BIN" -f -c "$conf"
world_spawn outstats "$MILTER_BIN" -f -c "$conf.stats"
world_spawn opendkim /usr/sbin/opendkim -f -x "$WORLD_DIR/opendkim.conf"
wait_until 5 test -S "$WORLD_DIR/run/outpost.sock" || BAIL_OUT "outpost-milter did not start"
wait_until 5 test -S "$WORLD_DIR/run/outstats.sock" || BAIL_OUT "outpost-milter (statistics) did not start"
wait_until 5 test -S "$WORLD_DIR/run/opendkim.sock" || BAIL_OUT "opendkim did not start"
postfix_conf "milter_default_action = tempfail" "milter_protocol = 6" \
    "default_process_limit = 200" "smtpd_client_connection_count_limit = 0" \
    "default_destination_concurrency_limit = 20" "smtp_connection_cache_on_demand = yes"
postfix_start

# cpu PID - user+system clock ticks so far
cpu() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# run NAME MILTER-SOCKET - one timed batch; prints "msg/s cpu-ms-per-msg"
run() {
    local name=$1 sock=$2 pid="" c0=0 c1=0 t0 t1 rate ms
    postfix_conf "smtpd_milters = ${sock:+unix:$sock}"
    postfix_reload >/dev/null 2>&1
    sleep 1
    case $name in
    outpost) pid=$(world_pid outpost) ;;
    outstats) pid=$(world_pid outstats) ;;
    opendkim) pid=$(world_pid opendkim) ;;
    esac
    [ -n "$pid" ] && c0=$(cpu "$pid")
    t0=$(_now_ms)
    /usr/sbin/smtp-source -s "$SESSIONS" -l "$SIZE" -m "$MSGS" -f sender@example.com \
        -t "rcpt@gmail.test" 127.0.0.1:2525 || echo "# smtp-source failed"
    postfix_wait_queue_empty 600 || echo "# queue did not drain"
    t1=$(_now_ms)
    [ -n "$pid" ] && c1=$(cpu "$pid")
    rate=$(awk -v n="$MSGS" -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", n * 1000 / ms }')
    ms=$(awk -v n="$MSGS" -v t=$((c1 - c0)) -v hz="$HZ" 'BEGIN { printf "%.3f", t * 1000 / hz / n }')
    echo "$rate $ms"
}

declare -A RATE CPU
for ((r = 1; r <= ROUNDS; r++)); do
    for name in plain outpost outstats opendkim; do
        case $name in
        plain) sock="" ;;
        outpost) sock=$WORLD_DIR/run/outpost.sock ;;
        outstats) sock=$WORLD_DIR/run/outstats.sock ;;
        opendkim) sock=$WORLD_DIR/run/opendkim.sock ;;
        esac
        read -r rate ms <<<"$(run "$name" "$sock")"
        note "round $r $name: $rate msg/s, milter CPU $ms ms/msg"
        RATE[$name]="${RATE[$name]} $rate"
        CPU[$name]="${CPU[$name]} $ms"
    done
done
# checks that the work was real: the milters signed what they were sent
like "$(grep -c 'signed: 1 signature' "$WORLD_DIR/log/outpost.log")" "^[1-9]" "outpost-milter signed"
world_kill outpost
grep 'dkim: signed=' "$WORLD_DIR/log/outpost.log" | tail -1 | sed 's/^/# /'
mean() { awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.2f", s / NF }' <<<"$1"; }
echo "# --- $MSGS messages of $SIZE bytes, $SESSIONS sessions, $ROUNDS rounds (mean)"
for name in plain outpost outstats opendkim; do
    printf '# %-9s %8s msg/s   milter CPU %s ms/msg\n' "$name" "$(mean "${RATE[$name]}")" "$(mean "${CPU[$name]}")"
done
awk -v a="$(mean "${RATE[outpost]}")" -v b="$(mean "${RATE[opendkim]}")" \
    -v c="$(mean "${CPU[outpost]}")" -v d="$(mean "${CPU[opendkim]}")" 'BEGIN {
    printf "# outpost/opendkim throughput %.2fx (target >= 1.3x), CPU per message %.2fx (target <= 0.5x)\n", a / b, c / d }'
awk -v a="$(mean "${RATE[outstats]}")" -v b="$(mean "${RATE[outpost]}")" \
    -v c="$(mean "${CPU[outstats]}")" -v d="$(mean "${CPU[outpost]}")" 'BEGIN {
    printf "# with statistics/without: throughput %.3fx, milter CPU per message %.3fx\n", a / b, c / d }'
echo "# accepted recipients counted by the statistics milter: $(redis_cli HGET 'outpost:{st}:total' 'example.com|other|default|accepted')"
done_testing
