#!/bin/bash
# metrics.sh - the Prometheus endpoints of outpost-milter, outpost-policyd and
# outpost-logd after real traffic through Postfix: each page passes
# "promtool check metrics" (an independent checker), every sample carries
# node="relay-a" ([general] node), and the counts equal what was sent: policy
# answers, suppression checks and refusals, DKIM signatures by algorithm,
# intake reports, deliveries and bounces from the log.  With Redis hung, the
# fail-open checks and the Redis errors are counted, and outpost-logd still
# answers with its own counts (outpost_logd_redis_up 0).
#
# Run as root: tests/integration/metrics.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"
command -v promtool >/dev/null || skip_all "promtool (Debian package prometheus) not installed"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
sink_rule outlook 'gone@outlook.test' '550 5.1.1 The email account that you tried to reach does not exist'

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"
: >"$keys/table"
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"; chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
node = relay-a
[redis]
$REDIS_CONF_SERVER
prefix = t:
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
metrics_listen = 127.0.0.1:9441
[suppress]
action = reject
on_redis_error = accept
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[intake]
bounce_domain = bounces.%d
secret_file = $secret
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
metrics_listen = 127.0.0.1:9442
provider_on_error = dunno
warmup_on_error = dunno
[logd]
maillog = $MAILLOG
metrics_listen = 127.0.0.1:9443
poll_interval = 50ms
flush_interval = 100ms
[provider google]
domains = gmail.test
rate = 1/h
burst = 2
[provider microsoft]
domains = outlook.test
[pool warm1]
transport = warm1
senders = shop.test
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
ctl dkim keygen shop.test rsa1 --algorithm rsa --add >/dev/null 2>&1
ctl dkim keygen shop.test ed1 --algorithm ed25519 --add >/dev/null 2>&1
is "$(wc -l <"$keys/table")" 2 "two keys for shop.test: RSA and Ed25519"

world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter listens"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
postfix_master 'warm1 unix - - n - - smtp -o syslog_name=postfix/warm1'
postfix_conf "sender_dependent_default_transport_maps = inline:{ @shop.test=warm1:, @bounces.shop.test=warm1: }" \
    "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "internal_mail_filter_classes = bounce" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"

# scrape PORT - the page of the endpoint on 127.0.0.1:PORT
scrape() {
    /usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:%s/metrics" % sys.argv[1], timeout=10).read().decode())' "$1"
}
# value PAGE NAME [LABEL=VALUE...] - the sum of NAME's samples with these labels
value() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
page, name, want = sys.argv[1], sys.argv[2], sys.argv[3:]
total, seen = 0.0, False
for line in page.splitlines():
    m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$', line)
    if not m or m.group(1) != name:
        continue
    labels = dict(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"', m.group(3) or ""))
    if all(labels.get(w.split("=", 1)[0]) == w.split("=", 1)[1] for w in want):
        total += float(m.group(4)); seen = True
print(("%g" % total) if seen else "none")
PY
}
# check_page WHAT PAGE - promtool is content, and every sample names the node
check_page() {
    local out samples without
    out=$(printf '%s\n' "$2" | promtool check metrics 2>&1)
    is "$?:$out" "0:" "$1: promtool check metrics finds nothing to say"
    samples=$(printf '%s\n' "$2" | grep -vc '^#')
    without=$(printf '%s\n' "$2" | grep -v '^#' | grep -vc '{node="relay-a"[,}]')
    ok '[ "$samples" -gt 0 ] && [ "$without" = 0 ]' \
        "$1: all $samples samples carry node=\"relay-a\" first"
    is "$(printf '%s\n' "$2" | grep '^# HELP ' | cut -d' ' -f3 | sort | uniq -d)" "" \
        "$1: HELP once per family"
    is "$(printf '%s\n' "$2" | grep -c '^# HELP ')" "$(printf '%s\n' "$2" | grep -c '^# TYPE ')" \
        "$1: as many HELP as TYPE lines"
}
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}

# --- the pages before any mail ---------------------------------------------------
ok 'wait_until 5 scrape 9443 >/dev/null 2>&1' "logd answers on its metrics port"
check_page "milter, idle" "$(scrape 9441)"
check_page "policyd, idle" "$(scrape 9442)"
check_page "logd, idle" "$(scrape 9443)"

# --- traffic ----------------------------------------------------------------------
ctl suppress add --reason unsubscribe alice@outlook.test >/dev/null
send_mail news@shop.test g1@gmail.test,g2@gmail.test,g3@gmail.test,o1@outlook.test,alice@outlook.test
like "$(rcpt_reply g3@gmail.test)" "^450 4.7.1 .*rate limit of provider google" "the 3rd at google (burst 2): deferred by policyd"
like "$(rcpt_reply alice@outlook.test)" "^550 5.7.1 recipient suppressed" "a suppressed recipient: refused by the milter"
like "$(rcpt_reply o1@outlook.test)" "^250 " "the others: accepted"
send_mail news@shop.test gone@outlook.test
is "$?" 0 "a message the provider will refuse with 550 5.1.1"
ok 'sink_wait gmail 1' "google's sink has its message"
ok 'sink_wait outlook 1' "microsoft's sink has its message"
ok 'maillog_wait "gone@outlook.test.*status=bounced"' "the 550 is logged"
# Postfix's bounce goes to the tagged return path, which the milter reads
ok 'maillog_wait "milter-discard: END-OF-MESSAGE.*to=<b-[a-z2-7]+@bounces.shop.test>"' \
    "Postfix's DSN reached the return path, where the milter read and dropped it"
ok 'postfix_wait_queue_empty 30' "every message left the queue"

# --- policyd ----------------------------------------------------------------------
page=$(scrape 9442)
check_page policyd "$page"
is "$(value "$page" outpost_policyd_decisions_total answer=dunno)" 5 \
    "policyd: 5 answered DUNNO (g1, g2, o1, alice; gone)"
is "$(value "$page" outpost_policyd_decisions_total answer=defer)" 1 "policyd: 1 deferred (g3)"
is "$(value "$page" outpost_policyd_decisions_total answer=filter)/$(value "$page" outpost_policyd_decisions_total answer=tempfail)" \
    "0/0" "policyd: no filter, no tempfail"
is "$(value "$page" outpost_policyd_decision_duration_seconds_count)" 6 "policyd: 6 latencies in the histogram"
is "$(value "$page" outpost_policyd_decision_duration_seconds_bucket le=+Inf)" 6 "policyd: the +Inf bucket holds them all"
is "$(value "$page" outpost_policyd_fail_open_total)/$(value "$page" outpost_policyd_redis_errors_total)" "0/0" \
    "policyd: no fail-open, no Redis error yet"

# --- the milter ---------------------------------------------------------------------
intake_seen() { [ "$(value "$(scrape 9441)" outpost_milter_intake_reports_total kind=bounce)" = 1 ]; }
ok 'wait_until 10 intake_seen' "milter: the DSN is counted as a bounce report"
page=$(scrape 9441)
check_page milter "$page"
is "$(value "$page" outpost_milter_suppression_checks_total result=not_suppressed)" 4 \
    "milter: 4 recipients checked and not suppressed (g1, g2, o1, gone)"
is "$(value "$page" outpost_milter_suppression_checks_total result=suppressed)" 1 "milter: 1 found suppressed (alice)"
is "$(value "$page" outpost_milter_suppressed_total action=reject)" 1 "milter: and refused"
is "$(value "$page" outpost_milter_dkim_messages_total result=signed)" 2 "milter: 2 messages signed"
is "$(value "$page" outpost_milter_dkim_signatures_total algorithm=rsa result=made)/$(value "$page" outpost_milter_dkim_signatures_total algorithm=ed25519 result=made)" \
    "2/2" "milter: 2 RSA and 2 Ed25519 signatures"
is "$(value "$page" outpost_milter_dkim_signatures_total result=failed)" 0 "milter: none failed"
is "$(value "$page" outpost_milter_envelope_senders_tagged_total)" 2 "milter: 2 return paths tagged"
is "$(value "$page" outpost_milter_intake_events_total event=hard_bounce)" 1 "milter: the report is a hard bounce"
is "$(value "$page" outpost_milter_intake_unread_total why=busy)/$(value "$page" outpost_milter_intake_unread_total why=over_budget)" \
    "0/0" "milter: the report was read (none busy, none over budget)"
is "$(value "$page" outpost_milter_fail_open_total)/$(value "$page" outpost_milter_redis_errors_total)" "0/0" \
    "milter: no fail-open, no Redis error yet"
like "$(sink_find gmail g1@gmail.test | xargs cat)" "DKIM-Signature: v=1; a=ed25519-sha256" "the signatures are in the mail"

# --- outpost-logd ------------------------------------------------------------------
logd_delivered() { [ "$(value "$(scrape 9443)" outpost_cluster_delivered_total)" = "$1" ]; }
ok 'wait_until 10 logd_delivered 3' "logd: the cluster total shows 3 delivered"
page=$(scrape 9443)
check_page logd "$page"
is "$(value "$page" outpost_logd_deliveries_total outcome=delivered)" 3 \
    "logd: this node read 3 deliveries (g1, g2, o1)"
is "$(value "$page" outpost_logd_deliveries_total outcome=delivered provider=google pool=warm1)" 2 \
    "logd: 2 of them at google through pool warm1"
is "$(value "$page" outpost_logd_deliveries_total outcome=bounced)" 1 "logd: 1 bounced (gone)"
is "$(value "$page" outpost_logd_bounces_total class=hard provider=microsoft)" 1 "logd: a hard bounce at microsoft"
is "$(value "$page" outpost_logd_bounce_reasons_total reason=userunknown)" 1 "logd: reason userunknown"
is "$(value "$page" outpost_logd_redis_up)" 1 "logd: Redis read for the cluster figures"
is "$(value "$page" outpost_cluster_accepted_total)/$(value "$page" outpost_cluster_suppressed_total)/$(value "$page" outpost_cluster_throttled_total)" \
    "4/1/1" "logd: cluster totals from the milter and policyd: 4 accepted, 1 suppressed, 1 throttled"
is "$(value "$page" outpost_cluster_throttled_total provider=google pool=warm1)" 1 "logd: throttled at google in warm1"

# --- Redis hangs: fail-open and Redis errors are counted ----------------------------
redis_pause
send_mail news@shop.test g4@gmail.test
like "$(rcpt_reply g4@gmail.test)" "^250 " "with Redis hung, a recipient is accepted (both checks fail open)"
page=$(scrape 9443)
check_page "logd, Redis hung" "$page"
is "$(value "$page" outpost_logd_redis_up)" 0 "logd: redis_up 0"
is "$(value "$page" outpost_cluster_delivered_total)" none "logd: no cluster figures without Redis"
is "$(value "$page" outpost_logd_deliveries_total outcome=delivered)" 3 "logd: its own counts are still there"
page=$(scrape 9442)
check_page "policyd, Redis hung" "$page"
is "$(value "$page" outpost_policyd_fail_open_total)" 1 "policyd: 1 fail-open decision"
is "$(value "$page" outpost_policyd_decisions_total answer=dunno)" 6 "policyd: answered DUNNO"
ok '[ "$(value "$page" outpost_policyd_redis_errors_total)" -ge 1 ]' "policyd: Redis errors counted"
page=$(scrape 9441)
check_page "milter, Redis hung" "$page"
is "$(value "$page" outpost_milter_fail_open_total check=suppress)" 1 "milter: 1 recipient accepted unchecked"
is "$(value "$page" outpost_milter_suppression_checks_total result=error)" 1 "milter: its check failed"
ok '[ "$(value "$page" outpost_milter_redis_errors_total)" -ge 1 ]' "milter: Redis errors counted"
redis_resume
logd_up() { [ "$(value "$(scrape 9443)" outpost_logd_redis_up)" = 1 ]; }
ok 'wait_until 10 logd_up' "logd: Redis read again once it answers"
logd_node_delivered() { [ "$(value "$(scrape 9443)" outpost_logd_deliveries_total outcome=delivered)" = "$1" ]; }
ok 'wait_until 20 logd_node_delivered 4' "logd: the 4th delivery is counted"
done_testing
