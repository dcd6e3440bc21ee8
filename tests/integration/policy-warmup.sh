#!/bin/bash
# policy-warmup.sh - IP warm-up in a real Postfix: a pool's daily cap is reached, then
# its mail spills over (FILTER) to another pool and is delivered from that pool's
# address, or is deferred until the next day (the retry time: when the first pool of the
# chain frees up); outpostctl warmup shows and sets it (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11

conf=$WORLD_DIR/policyd.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
timezone = +02:00
[pool warm1]
transport = smtp_warm1
senders = shop.test
schedule = 1:3, 10:1000
overflow = spill
[pool spill]
transport = smtp_spill
[pool cold]
transport = smtp_cold
senders = cold.test
schedule = 1:2
EOF
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"

# one transport per pool, each with its own source address
postfix_master 'smtp_warm1 unix - - n - - smtp -o smtp_bind_address=127.0.0.2' \
    'smtp_spill unix - - n - - smtp -o smtp_bind_address=127.0.0.3' \
    'smtp_cold unix - - n - - smtp -o smtp_bind_address=127.0.0.4'
postfix_conf "sender_dependent_default_transport_maps = inline:{ @shop.test=smtp_warm1:, @cold.test=smtp_cold: }" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start

# peer_of RCPT - the address the sink saw the message for RCPT come from
peer_of() { eml_envelope "$(sink_find gmail "$1")" peer | sed 's/:[0-9]*$//'; }

for i in 1 2 3 4 5; do
    send_mail news@shop.test "w$i@gmail.test"
    is "$?" 0 "message $i from the warming pool's sender is accepted"
done
ok 'sink_wait gmail 5' "all five are delivered"
is "$(peer_of w1@gmail.test) $(peer_of w3@gmail.test)" "127.0.0.2 127.0.0.2" \
    "the first three (today's cap) leave from the warming pool's address"
is "$(peer_of w4@gmail.test) $(peer_of w5@gmail.test)" "127.0.0.3 127.0.0.3" \
    "beyond the cap they spill over to the overflow pool's address"

out=$("$CTL_BIN" -c "$conf" warmup status 2>&1)
like "$out" "pool warm1: filter smtp_warm1:, started [0-9-]+, day 1, cap 3, used 3 \\(100\\.0%\\), spills over to spill" \
    "outpostctl warmup status: day, cap and use of the warming pool"
like "$out" "pool spill: filter smtp_spill:, no warm-up schedule" "and the overflow pool"

# warm1's cap is used and spill is slowed down by a backoff: the retry time is when the
# first pool of the chain would take the recipient (spill's backoff), not warm1's midnight
"$CTL_BIN" -c "$conf" backoff set gmail.test spill 1h 1/10s >/dev/null
send_mail news@shop.test b1@gmail.test
is "$?" 0 "a backoff on the overflow pool lets its first recipient through"
send_mail news@shop.test b2@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +450 4\\.7\\.1 .*backoff of gmail\\.test on pool spill; retry in [0-9]+ s" \
    "the next is deferred, naming what holds the pool that frees up first"
retry=$(sed -n 's/.*retry in \([0-9]*\) s.*/\1/p' "$SWAKS_OUT" | head -1)
ok '[ "${retry:-99}" -le 10 ]' "retry time is the backoff's (at most 10 s): $retry s"
"$CTL_BIN" -c "$conf" backoff clear gmail.test >/dev/null
ok 'sink_wait gmail 6' "the recipient the overflow pool took is delivered"

# a pool without overflow defers once its cap is used, until midnight at +02:00
send_mail news@cold.test c1@gmail.test; a=$?
send_mail news@cold.test c2@gmail.test; b=$?
is "$a $b" "0 0" "the cold pool takes its two messages of the day"
send_mail news@cold.test c3@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +450 4\\.7\\.1 .*warm-up cap of pool cold for today; retry in [0-9]+ s" \
    "the third is deferred: the cap is reached"
retry=$(sed -n 's/.*retry in \([0-9]*\) s.*/\1/p' "$SWAKS_OUT" | head -1)
now=$(redis_cli TIME | head -1)
want=$(( ( (now + 7200) / 86400 + 1) * 86400 - 7200 - now ))
ok '[ $((retry - want)) -ge -3 ] && [ $((retry - want)) -le 3 ]' \
    "retry time is the next midnight in the pool's time zone (+02:00): $retry s, want $want s"

# outpostctl warmup start: twenty days into the schedule, the cap has grown
start=$(date -u -d "@$((now + 7200 - 20 * 86400))" +%Y-%m-%d)
out=$("$CTL_BIN" -c "$conf" warmup start warm1 "$start" 2>&1)
like "$out" "pool warm1: warm-up starts $start" "outpostctl warmup start sets the start date"
like "$("$CTL_BIN" -c "$conf" warmup status 2>&1)" "pool warm1: .*day 21, cap 1000, used 3" \
    "status shows day 21 and its cap"
send_mail news@shop.test w6@gmail.test
ok 'sink_wait gmail 9' "the next message is delivered"
is "$(peer_of w6@gmail.test)" "127.0.0.2" "and leaves from the warming pool again"
out=$("$CTL_BIN" -c "$conf" warmup start nosuch 2>&1)
like "$out" "no \\[pool nosuch\\]" "an unknown pool is refused"
done_testing
