#!/bin/bash
# intake-caps.sh - the caps on reports, through a real Postfix and milter (TAP):
#   - a report naming more than 1000 recipients (to a return path that names the
#     sender domain only, so the report says whom it is about) is acted on for the
#     first 1000; the rest are skipped, logged and counted
#     (outpost_milter_intake_truncated_total);
#   - at most 4 reports are read and acted on at once: with Redis frozen (SIGSTOP),
#     four reports hold the four places (each is read, then waits for Redis); a
#     fifth is answered 451 4.3.2 at once, while the four still wait, and counted
#     as busy; once Redis goes on the four are acted on, the milter is alive, and
#     the fifth, sent again, is acted on too.
# The per-report CPU budget is shown by tests/unit/test_bounce (test_cpu_budget),
# and the CPU a large report costs the milter by intake-slow.sh.
#
# Run as root: tests/integration/intake-caps.sh   (KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN" /usr/bin/python3

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
# command_timeout: a frozen Redis holds the reports for as long as the test needs
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
command_timeout = 60s
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
metrics_listen = 127.0.0.1:9451
[intake]
bounce_domain = bounces.%d
secret_file = $secret
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
suppressed() { ctl suppress check "$1" >/dev/null; }
# metric NAME [LABEL=VALUE] - one sample of the milter's metrics page
metric() {
    /usr/bin/python3 - "$@" <<'PY'
import sys, urllib.request
name, label = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
page = urllib.request.urlopen("http://127.0.0.1:9451/metrics", timeout=10).read().decode()
for line in page.splitlines():
    key, _, value = line.rpartition(" ")
    if key.split("{")[0] == name and (not label or ('%s"' % label.replace("=", '="')) in key):
        print(int(float(value)))
        break
else:
    print("none")
PY
}
# ses FIRST COUNT TO - an SES bounce notice naming userFIRST.. userFIRST+COUNT-1@example.org
ses() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
first, count, to = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
items = ",".join('{"emailAddress":"user%d@example.org","action":"failed","status":"5.1.1",'
                 '"diagnosticCode":"smtp; 550 5.1.1 user unknown"}' % i
                 for i in range(first, first + count))
sys.stdout.write("From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: %s\n"
                 "Subject: AWS Notification Message\nMessage-ID: <ses-%d-%d@sns.test>\n"
                 "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n"
                 '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
                 '"bouncedRecipients":[%s]},"mail":{"source":"news@shop.test"}}\n'
                 % (to, first, count, items))
PY
}

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
# -v: the milter says when it has read a report (before acting on it)
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}"
postfix_start

# one message to two recipients: its return path names the sender domain only
send_mail news@shop.test alice@gmail.test,bob@gmail.test --header "Subject: campaign" >/dev/null
ok 'wait_until 10 sink_find gmail alice@gmail.test' "the campaign is delivered"
rp=$(eml_envelope "$(sink_find gmail alice@gmail.test)" mail_from)
like "$rp" '^b-[a-z2-7]+@bounces\.shop\.test$' "its return path is tagged"

# --- the recipient cap -----------------------------------------------------------
ses 0 1200 "$rp" >"$WORLD_TMP/many.eml"
send_mail '<>' "$rp" --data "$WORLD_TMP/many.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a notice naming 1200 recipients is accepted"
ok 'suppressed user0@example.org && suppressed user999@example.org' \
    "the first 1000 recipients are suppressed (user0, user999)"
ok '! suppressed user1000@example.org && ! suppressed user1199@example.org' \
    "the rest are not (user1000, user1199)"
is "$(ctl suppress stats --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])')" \
    1000 "exactly 1000 suppressed"
ok 'grep -q "names more than 1000 recipients: the rest not read" "$WORLD_DIR/log/milter.log"' \
    "the skip is logged"
is "$(metric outpost_milter_intake_truncated_total)" 1 "and counted (outpost_milter_intake_truncated_total)"

# --- at most 4 reports at once ---------------------------------------------------
read_before=$(grep -c "intake: .* report to .* about" "$WORLD_DIR/log/milter.log")
busy_before=$(metric outpost_milter_intake_unread_total why=busy)
redis_pause
# _read N - N more reports have been read
_read() { [ "$(grep -c "intake: .* report to .* about" "$WORLD_DIR/log/milter.log")" -ge $((read_before + $1)) ]; }
for i in 1 2 3 4; do
    ses $((5000 + i)) 1 "$rp" >"$WORLD_TMP/hold$i.eml"
    swaks --server "$SMTP_HOST:$SMTP_PORT" --helo client.test --timeout 90 --from '<>' \
        --to "$rp" --data "$WORLD_TMP/hold$i.eml" --suppress-data </dev/null \
        >"$WORLD_DIR/swaks/hold$i.log" 2>&1 &
    holders[i]=$!
    wait_until 30 _read $i || break
done
ok '_read 4' "with Redis frozen, four reports are read and wait to be acted on"
ses 5005 1 "$rp" >"$WORLD_TMP/hold5.eml"
send_mail '<>' "$rp" --data "$WORLD_TMP/hold5.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '451 4\.3\.2 too many reports at once' "a fifth is answered 451 4.3.2"
waiting=0
for i in 1 2 3 4; do kill -0 "${holders[i]}" 2>/dev/null && waiting=$((waiting + 1)); done
is "$waiting" 4 "at once: the four are still waiting when the fifth is answered"
is "$(metric outpost_milter_intake_unread_total why=busy)" $((busy_before + 1)) "the fifth is counted as busy"
redis_resume
for i in 1 2 3 4; do wait "${holders[i]}"; done
accepted=0
for i in 1 2 3 4; do grep -q '250 2\.0\.0 Ok' "$WORLD_DIR/swaks/hold$i.log" && accepted=$((accepted + 1)); done
is "$accepted" 4 "once Redis goes on, the four are accepted"
ok 'suppressed user5001@example.org && suppressed user5004@example.org' "and acted on"
ok '! suppressed user5005@example.org' "the fifth's recipient is not suppressed yet"
ok 'kill -0 "$(world_pid milter)"' "the milter is alive"
send_mail '<>' "$rp" --data "$WORLD_TMP/hold5.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the fifth, sent again, is accepted"
ok 'suppressed user5005@example.org' "and acted on"
done_testing
