#!/bin/bash
# policy-throttle.sh - outpost-policyd in a real Postfix with a real Redis: a burst to
# one provider is deferred beyond its limit and accepted after the retry time; three
# daemons sharing one Redis enforce one global limit; a bad reload keeps the running
# configuration; Redis stopped mid-run gives temporary failures, then recovery (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN" "$CTL_BIN"

# Two domains hosted by one provider ("testmail": MX under mx.testmail.test), one not.
dns_mx gmail.test in1.mx.testmail.test 10
dns_mx hosted.test in2.mx.testmail.test 10
dns_a in1.mx.testmail.test 127.0.0.11
dns_a in2.mx.testmail.test 127.0.0.11
dns_mx other.test mx.other.test 10
dns_a mx.other.test 127.0.0.12
dns_start
redis_start
sink_start testmail 127.0.0.11
sink_start other 127.0.0.12

# write_conf FILE LISTEN EXTRA... - a policyd configuration
write_conf() {
    local f=$1 listen=$2; shift 2
    {
        printf '[general]\nuser = nobody\n[redis]\n%s\n' "$REDIS_CONF_SERVER"
        printf 'reconnect_min = 50ms\nreconnect_max = 200ms\ncommand_timeout = 300ms\n'
        printf '[policy]\nlisten = %s\n' "$listen"
        printf '%s\n' "$@"
    } >"$f"
}
conf=$WORLD_DIR/policyd.conf
write_conf "$conf" "unix:$WORLD_DIR/run/policy.sock" \
    '[provider testmail]' 'mx = *.mx.testmail.test' 'rate = 1/3s' 'burst = 3'
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"

postfix_conf "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start

# --- a burst to one provider: its budget is shared by all of its domains
for i in 1 2 3; do
    d=gmail.test; [ $i = 2 ] && d=hosted.test
    send_mail news@shop.test "user$i@$d"
    is "$?" 0 "message $i to the provider (@$d) is accepted within the burst"
done
send_mail news@shop.test user4@hosted.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +450 4\\.7\\.1 .*rate limit of provider testmail; retry in [1-3] s" \
    "the 4th is deferred with the limit named and a retry time"
retry=$(sed -n 's/.*retry in \([0-9]*\) s.*/\1/p' "$SWAKS_OUT" | head -1)
send_mail news@shop.test user5@other.test
is "$?" 0 "a domain of another provider is not held back"
sleep "${retry:-3}"
send_mail news@shop.test user4@hosted.test
is "$?" 0 "after the retry time the deferred recipient is accepted"
ok 'sink_wait testmail 4' "the accepted messages are delivered"

# --- outpostctl throttle status shows the provider's state
out=$("$CTL_BIN" -c "$conf" throttle status 2>&1)
like "$out" "provider +testmail +rate 0.333/s burst 3: 0 may pass now" "throttle status shows the provider limit"

# --- three daemons, one Redis, one limit: 60 requests at once, 20 allowed in all
for n in 1 2 3; do
    write_conf "$WORLD_DIR/shared$n.conf" "unix:$WORLD_DIR/run/shared$n.sock" \
        '[provider bulkmail]' 'domains = bulk.test' 'rate = 1/h' 'burst = 20'
    world_spawn "shared$n" "$POLICYD_BIN" -f -c "$WORLD_DIR/shared$n.conf"
done
ok 'wait_until 5 test -S $WORLD_DIR/run/shared3.sock' "three daemons listen"
counts=$(/usr/bin/python3 - "$WORLD_DIR/run" <<'PY'
import socket, sys, threading
run = sys.argv[1]
results = []
def client(n, k):
    s = socket.socket(socket.AF_UNIX); s.connect("%s/shared%d.sock" % (run, n))
    for i in range(k):
        s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
                   "sender=a@shop.test\nrecipient=r%d.%d@bulk.test\n\n" % (n, i)).encode())
        buf = b""
        while not buf.endswith(b"\n\n"):
            buf += s.recv(4096)
        results.append(buf.decode())
threads = [threading.Thread(target=client, args=(n, 10)) for n in (1, 2, 3) for _ in (0, 1)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(r.startswith("action=DUNNO") for r in results),
      sum("rate limit of provider bulkmail" in r for r in results), len(results))
PY
)
is "$counts" "20 40 60" "60 requests over three daemons: exactly the burst of 20 allowed, 40 deferred"
tat=$(redis_cli GET 'outpost:{rl}:g:p:bulkmail')
now=$(redis_cli TIME | head -1)
ok '[ $(( (tat / 1000000 - now + 30) / 3600 )) = 20 ]' "refusals charged nothing: the stored state is 20 charges ahead"

# --- reload: a bad file keeps the running configuration, a good one applies
printf '[policy]\nno_such_key = 1\n' >>"$conf"
world_kill policyd HUP
ok 'wait_until 5 grep -q "reload failed, keeping the running configuration: .*no_such_key" $WORLD_DIR/log/policyd.log' \
    "a bad file on SIGHUP is logged and the old configuration kept"
send_mail news@shop.test user6@gmail.test
like "$(cat "$SWAKS_OUT")" "4\\.7\\.1 .*rate limit of provider testmail" "the old limits still apply"
write_conf "$conf.new" "unix:$WORLD_DIR/run/policy.sock" \
    'domain_rate = 100/s' 'domain_on_error = dunno' \
    '[provider testmail]' 'mx = *.mx.testmail.test' 'rate = 1/3s' 'burst = 3'
mv "$conf.new" "$conf"
world_kill policyd HUP
ok 'wait_until 5 grep -q "configuration reloaded" $WORLD_DIR/log/policyd.log' "a good file is loaded on SIGHUP"

# --- Redis down mid-run: temporary failures by default, DUNNO where configured
redis_stop
send_mail news@shop.test user7@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +450 4\\.3\\.0 .*policy state unavailable" \
    "Redis down: the provider limit fails closed with a temporary failure"
send_mail news@shop.test user8@other.test
is "$?" 0 "Redis down: a recipient under only the fail-open domain limit gets DUNNO"
ok '_pid_alive "$(world_pid policyd)"' "policyd keeps running without Redis"
redis_start
ok 'wait_until 5 grep -q "redis: connected again" $WORLD_DIR/log/policyd.log' "it reconnects by itself"
send_mail news@shop.test user9@gmail.test
is "$?" 0 "and decides again without a restart (a fresh Redis has the budget back)"
redis_cli SCRIPT FLUSH >/dev/null
send_mail news@shop.test user10@gmail.test
is "$?" 0 "after SCRIPT FLUSH the script is sent again (EVAL after NOSCRIPT)"

# --- a hanging Redis: answered within the decision timeout, never stuck
redis_pause
start=$(_now_ms)
send_mail news@shop.test user11@gmail.test
took=$(( $(_now_ms) - start ))
redis_resume
like "$(cat "$SWAKS_OUT")" "<\\*\\* +450 4\\.3\\.0" "a hanging Redis gives a temporary failure"
ok '[ $took -lt 5000 ]' "within the decision timeout (took ${took} ms)"
done_testing
