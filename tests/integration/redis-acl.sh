#!/bin/bash
# redis-acl.sh - every program works as the Redis ACL user that doc/REDIS.md
# documents (TAP): the ACL SETUSER line is read from the document and run as is;
# the milter (suppression check, return-path tagging, a bounce through the intake),
# policyd (a provider rate, a warm-up pool, a backoff), outpost-logd (counts, events,
# a hard-bounce suppression, a backoff) and outpostctl (suppress, stats, warmup,
# throttle, backoff, intake, ping, check-config) all run as that user, and Redis'
# ACL LOG records no refusal.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"

# --- the user, exactly as the document says
line=$(grep -m1 '^ACL SETUSER outpost ' "$OUTPOST_SRCDIR/doc/REDIS.md")
read -ra acl <<<"$line"
password=$(printf '%s\n' "${acl[@]}" | sed -n 's/^>//p')
isnt "$password" "" "doc/REDIS.md has an ACL SETUSER line with a password"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start --appendonly yes --appendfsync everysec     # as doc/REDIS.md says
sink_start gmail 127.0.0.11
sink_rule gmail 'nobody@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule gmail 'busy@gmail.test' '421 4.7.28 Our system has detected an unusual rate of unsolicited mail'
is "$(redis_cli "${acl[@]}")" OK "redis accepts the documented ACL SETUSER line"
as_outpost() { redis-cli -s "$REDIS_SOCK" --user outpost --pass "$password" --no-auth-warning "$@"; }
like "$(as_outpost FLUSHALL 2>&1)" "NOPERM" "the user cannot run what Outpost does not need (FLUSHALL)"
like "$(as_outpost SET other:key 1 2>&1)" "NOPERM" "nor touch keys outside the prefix"
redis_cli ACL LOG RESET >/dev/null

secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
username = outpost
password = $password
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
domain_rate = 1000/s
[intake]
bounce_domain = bounces.%d
secret_file = $secret
[logd]
maillog = $MAILLOG
metrics_listen = 127.0.0.1:9432
poll_interval = 50ms
flush_interval = 100ms
[provider google]
mx = *.gmail.test
rate = 1000/s
[pool warm1]
transport = smtp_warm1
senders = shop.test
schedule = 1:1000
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# ctl_ok DESC ARGS... - outpostctl ARGS succeeds and says nothing of NOPERM
ctl_ok() {
    local desc=$1 out rc; shift
    out=$(ctl "$@" 2>&1); rc=$?
    if [ "$rc" = 0 ] && ! grep -q NOPERM <<<"$out"; then pass "$desc"; else fail "$desc" "exit $rc: $out"; fi
}

# --- outpostctl before the daemons
ctl_ok "outpostctl ping" ping
ctl_ok "outpostctl check-config" check-config "$conf"
ctl_ok "suppress add" suppress add --reason complaint bob@gmail.test
printf 'address,reason,scope,time,expires\ncarol@gmail.test,unsubscribe,shop.test,2026-01-02,\n@spam.test,manual,global,2026-01-02,\ndan@gmail.test,soft-bounce,global,2026-01-02,2099-01-01\n' \
    >"$WORLD_TMP/list.csv"
ctl_ok "suppress import" suppress import "$WORLD_TMP/list.csv"
ctl_ok "suppress list" suppress list
ctl_ok "suppress check" suppress check --sender news@shop.test carol@gmail.test
ctl_ok "suppress export" suppress export "$WORLD_TMP/out.csv"
is "$(grep -c @ "$WORLD_TMP/out.csv")" 4 "the export holds the four entries"
ctl_ok "suppress remove" suppress remove dan@gmail.test
ctl_ok "suppress stats" suppress stats
ctl_ok "warmup start" warmup start warm1 "$(date -u +%F)"
ctl_ok "warmup status" warmup status

# --- the daemons, with Postfix
postfix_master 'smtp_warm1 unix - - n - - smtp -o syslog_name=postfix/smtp_warm1'
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "internal_mail_filter_classes = bounce" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}" \
    "sender_dependent_default_transport_maps = inline:{ @shop.test=smtp_warm1: }" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 10 test -S $WORLD_DIR/run/milter.sock' "the milter starts as the ACL user"
ok 'wait_until 10 test -S $WORLD_DIR/run/policy.sock' "policyd starts as the ACL user"
postfix_start
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 grep -q following $WORLD_DIR/log/logd.log' "outpost-logd starts as the ACL user"
like "$(cat "$WORLD_DIR/log/policyd.log")" "info: redis: maxmemory-policy noeviction, appendonly yes" \
    "without CONFIG the start check reads INFO"

send_mail news@shop.test alice@gmail.test
is "$?" 0 "a message passes policyd (rate, warm-up) and the milter"
ok 'sink_wait gmail 1' "and is delivered"
like "$(eml_envelope "$(sink_find gmail alice@gmail.test)" mail_from)" '^b-[a-z2-7]+@bounces\.shop\.test$' \
    "with a tagged return path"
send_mail news@shop.test bob@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +550 5\\.7\\.1" "the milter refuses a suppressed recipient"
send_mail news@shop.test nobody@gmail.test
ok 'wait_until 20 ctl suppress check nobody@gmail.test' \
    "a hard bounce is suppressed (the milter's intake and outpost-logd)"
ok 'wait_until 10 stats_total_is delivered 1' "outpost-logd counted the delivery"
send_mail news@shop.test busy@gmail.test
ok 'wait_until 20 eval "ctl backoff list | grep -q google"' "outpost-logd started a backoff for the 421"
send_mail news@shop.test erin@gmail.test
like "$(cat "$SWAKS_OUT")" "4\\.7\\.1 .*backoff|<- +250 2\\.0\\.0 Ok: queued" "policyd reads the backoff (deferred, or within its burst)"

# --- outpostctl on the state the daemons wrote
ctl_ok "stats" stats --by provider
ctl_ok "stats --json" stats --by sender --json
ctl_ok "throttle status" throttle status
ctl_ok "backoff list" backoff list
ctl_ok "backoff clear" backoff clear google
ctl_ok "backoff set" backoff set google warm1 10m 60/m "test"
ctl_ok "intake stats" intake stats
ctl_ok "intake address" intake address alice@gmail.test shop.test
ctl_ok "warmup status after use" warmup status

# --- no refusal anywhere
acl_log=$(redis_cli ACL LOG)
is "$acl_log" "" "Redis' ACL LOG recorded no refusal"
[ -z "$acl_log" ] || diag "$acl_log"
for p in milter policyd logd; do
    unlike "$(cat "$WORLD_DIR/log/$p.log")" "NOPERM|no permissions" "no NOPERM in the $p log"
done
done_testing
