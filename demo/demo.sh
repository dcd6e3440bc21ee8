#!/bin/bash
# demo.sh - Outpost's main job, end to end, on this machine only
#
# SYNOPSIS
#	demo/demo.sh		(as root on Debian 12)
#
# DESCRIPTION
#	Installs what is needed, builds Outpost, then inside a private network
#	namespace starts Redis, a DNS server with MX records for three test
#	mailbox providers, SMTP sinks standing in for them, a Postfix relay
#	with outpost-milter and outpost-policyd, sends a sample campaign
#	through it and reports what happened to each message.  Nothing leaves
#	the machine.  KEEP=1 keeps the private world's files for a look.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
if [ "${_WORLD_NS_PID:-}" != "$$" ]; then
    # first pass, outside the namespace: install and build
    [ "$(id -u)" = 0 ] || { echo "demo.sh: run as root" >&2; exit 1; }
    echo "== installing packages (tests/install-deps.sh)"
    bash "$top/tests/install-deps.sh" >/tmp/outpost-demo-install.log 2>&1 ||
        { tail -n 20 /tmp/outpost-demo-install.log; exit 1; }
    echo "== building Outpost in _build/demo"
    mkdir -p "$top/_build/demo"
    ( cd "$top" && { [ -x configure ] || ./autogen.sh >/dev/null 2>&1; } &&
      cd _build/demo && { [ -f Makefile ] || ../../configure >/dev/null; } &&
      make -j"$(nproc)" >/dev/null ) || { echo "build failed"; exit 1; }
    export OUTPOST_BUILDDIR=$top/_build/demo
fi
. "$top/tests/lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

echo "== starting a private relay world in $WORLD_DIR"
# three providers; acme.test is a company whose mail Google hosts
dns_mx gmail.test mx.gmail.test 10;      dns_a mx.gmail.test 127.0.0.11
dns_mx acme.test mx.gmail.test 10
dns_mx outlook.test mx.outlook.test 10;  dns_a mx.outlook.test 127.0.0.12
dns_mx yahoo.test mx.yahoo.test 10;      dns_a mx.yahoo.test 127.0.0.13
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
sink_start yahoo 127.0.0.13
sink_rule gmail 'nosuchuser*@gmail.test' '550 5.1.1 The email account that you tried to reach does not exist'
sink_rule yahoo 'full*@yahoo.test' '452 4.2.2 Mailbox full'

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
[suppress]
action = reject
on_redis_error = tempfail
EOF
"$CTL_BIN" check-config "$conf" || exit 1
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
wait_until 5 test -S "$WORLD_DIR/run/milter.sock" || { echo "milter did not start"; exit 1; }
wait_until 5 test -S "$WORLD_DIR/run/policy.sock" || { echo "policyd did not start"; exit 1; }
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start

# the suppression list the relay already knows: earlier bounces, complaints
# and unsubscribes (one tenant's unsubscribe does not block other senders)
cat >"$WORLD_DIR/suppressions.csv" <<EOF
address,reason,scope,time
reader3@gmail.test,hard-bounce,global,2026-10-01T08:00:00Z
reader5@outlook.test,complaint,global,2026-10-12T17:30:00Z
reader2@yahoo.test,unsubscribe,shop.test,2026-11-02T09:15:00Z
reader4@yahoo.test,unsubscribe,other-tenant.test,2026-11-03T10:00:00Z
@closed.test,hard-bounce,global,2026-09-20T00:00:00Z
EOF
echo "== importing $(($(wc -l <"$WORLD_DIR/suppressions.csv") - 1)) suppressions"
"$CTL_BIN" -c "$conf" suppress import "$WORLD_DIR/suppressions.csv"

# the campaign's list
rcpts=$WORLD_DIR/recipients.txt
{
    for i in $(seq 1 12); do echo "reader$i@gmail.test"; done
    for i in $(seq 1 4); do echo "staff$i@acme.test"; done
    for i in $(seq 1 8); do echo "reader$i@outlook.test"; done
    for i in $(seq 1 6); do echo "reader$i@yahoo.test"; done
    echo "nosuchuser1@gmail.test"; echo "nosuchuser2@gmail.test"
    echo "full1@yahoo.test"
    echo "someone@closed.test"
} >"$rcpts"
total=$(wc -l <"$rcpts")
echo "== sending a campaign of $total messages from news@shop.test"
/usr/bin/python3 "$top/demo/campaign.py" "$SMTP_HOST" "$SMTP_PORT" "$rcpts" "$WORLD_DIR/results.tsv"
postfix_flush
wait_until 20 sh -c "[ \$(grep -c 'status=' '$MAILLOG') -ge $(grep -c accepted "$WORLD_DIR/results.tsv") ]"
sleep 0.5

echo
echo "== what happened to each message"
printf '%-26s %-10s %s\n' RECIPIENT OUTCOME DETAIL
while IFS=$'\t' read -r rcpt kind reply; do
    if [ "$kind" = accepted ]; then
        line=$(grep "to=<$rcpt>" "$MAILLOG" | grep -o 'relay=[^,]*\|status=[a-z]*.*' | tr '\n' ' ')
        st=$(sed -n 's/.*status=\([a-z]*\).*/\1/p' <<<"$line")
        printf '%-26s %-10s %s\n' "$rcpt" "${st:-queued}" "$(cut -c1-90 <<<"$line")"
    else
        printf '%-26s %-10s %s\n' "$rcpt" "$kind" "$reply"
    fi
done <"$WORLD_DIR/results.tsv"

echo
echo "== summary"
printf '%-12s %8s %8s %8s %8s\n' PROVIDER SENT BOUNCED DEFERRED REFUSED
for p in gmail outlook yahoo; do
    sent=$(grep "relay=mx.$p.test" "$MAILLOG" | grep -c "status=sent")
    bounced=$(grep "relay=mx.$p.test" "$MAILLOG" | grep -c "status=bounced")
    deferred=$(grep "relay=mx.$p.test" "$MAILLOG" | grep -c "status=deferred")
    refused=$(grep -c -E "@($p|acme)\.test	(rejected|deferred)" "$WORLD_DIR/results.tsv")
    [ "$p" = gmail ] || refused=$(grep -c -E "@$p\.test	(rejected|deferred)" "$WORLD_DIR/results.tsv")
    printf '%-12s %8d %8d %8d %8d\n' "$p" "$sent" "$bounced" "$deferred" "$refused"
done
echo "messages at the providers' sinks: gmail $(sink_count gmail), outlook $(sink_count outlook), yahoo $(sink_count yahoo)"
echo "(acme.test's MX is Google's: its mail went to the gmail sink)"
echo
echo "== suppression decisions today (outpostctl suppress stats)"
"$CTL_BIN" -c "$conf" suppress stats
