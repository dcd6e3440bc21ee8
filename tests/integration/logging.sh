#!/bin/bash
# logging.sh - what the daemons log reaches syslog and the journal with its
# priority, and every line about a message names the queue id Postfix gave it
# (TAP).
#
# - outpost-milter without -f writes to syslog(3): a private /dev/log (a mount
#   namespace of its own, tests/lib/devlog.py listening) receives its lines
#   with [general] syslog_facility (local3) and their priority; a FAIL-OPEN
#   line is local3.warning, and nothing goes to stderr;
# - outpost-policyd with -f, stderr being the "journal" ($JOURNAL_STREAM names
#   it), prefixes each line with its sd-daemon priority (<4> for FAIL-OPEN);
#   with JOURNAL_STREAM naming another file it writes its usual lines; without
#   -f where there is no /dev/log at all (a container) it writes them too;
# - a suppressed second recipient: the milter's line carries the queue id of
#   Postfix's milter-reject line; a first recipient has none yet (NOQUEUE, as
#   Postfix says too); policyd's deferral of a second recipient carries the
#   queue id of Postfix's reject line.
#
# Run as root: tests/integration/logging.sh   (KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
syslog_facility = local3
[redis]
server = unix:$REDIS_SOCK
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
on_redis_error = accept
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
provider_on_error = dunno
[provider microsoft]
mx = *.outlook.test
rate = 1/h
burst = 1
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }

# --- the milter logs to a private /dev/log: a tmpfs over /dev in a mount
# namespace of its own, holding the few devices a daemon opens and the socket
SYSLOG=$WORLD_DIR/log/syslog.lines
world_spawn devlog "$PYTHON" "$WORLD_LIB_DIR/devlog.py" "$WORLD_DIR/run/devlog.sock" "$SYSLOG"
ok 'wait_until 5 test -S $WORLD_DIR/run/devlog.sock' "a syslog socket listens"
# spawn_with_dev NAME SOCKET|- CMD... - world_spawn CMD with a /dev of its own
# whose log is SOCKET ("-": no /dev/log at all)
spawn_with_dev() {
    local name=$1 sock=$2; shift 2
    mkdir -p "$WORLD_DIR/dev.$name"
    # shellcheck disable=SC2016
    world_spawn "$name" unshare -m --propagation private -- sh -c '
        sock=$1 dev=$2; shift 2
        mount -t tmpfs -o mode=755 tmpfs "$dev" || exit 1
        for n in null zero full random urandom; do
            : >"$dev/$n" && mount --bind "/dev/$n" "$dev/$n" || exit 1
        done
        if [ "$sock" != - ]; then ln -s "$sock" "$dev/log" || exit 1; fi
        mount --rbind "$dev" /dev && exec "$@"' sh "$sock" "$WORLD_DIR/dev.$name" "$@"
}
spawn_with_dev milter "$WORLD_DIR/run/devlog.sock" "$MILTER_BIN" -c "$conf"
ok 'wait_until 10 test -S $WORLD_DIR/run/milter.sock' "the milter runs without -f"
# facility local3 (19) * 8 + severity: 4 warning, 6 info
ok 'wait_until 5 grep -q "^<158>.*outpost-milter\[[0-9]*\]: info: listening on" "$SYSLOG"' \
    "its lines reach syslog as local3.info, named outpost-milter[pid]"

# --- policyd: stderr is the journal stream
plog=$WORLD_DIR/log/policyd.log
touch "$plog"
JOURNAL_STREAM=$(stat -c '%d:%i' "$plog") world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
like "$(grep -m1 'listening on' "$plog")" '^<6>info: listening on ' "on the journal stream a line begins with its priority, <6> for info"
unlike "$(grep -v '^<[0-7]>' "$plog")" '.' "and so does every other line"

postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service unix:$WORLD_DIR/run/policy.sock, permit_mynetworks, reject"
postfix_start

# --- queue ids: a suppressed recipient second in its message, then first
ctl suppress add --reason hard-bounce bob@gmail.test >/dev/null
send_mail news@shop.test alice@gmail.test,bob@gmail.test
qid=$LAST_QID
ok '[ -n "$qid" ]' "Postfix queued the message (queue id $qid)"
pfline=$(maillog_wait "milter-reject: RCPT from .*<bob@gmail.test>")
like "$pfline" "postfix/smtpd\[[0-9]+\]: $qid: milter-reject" "Postfix's milter-reject line names $qid"
ok 'wait_until 5 grep -q "info: $qid: suppress: bob@gmail.test from shop.test: rejected" "$SYSLOG"' \
    "the milter's line about bob begins with the same queue id"
send_mail news@shop.test bob@gmail.test,carol@gmail.test
qid2=$LAST_QID
like "$(maillog_wait "NOQUEUE: milter-reject: RCPT from .*<bob@gmail.test>")" "NOQUEUE" \
    "Postfix has no queue id yet for a first recipient"
ok 'wait_until 5 grep -q "info: NOQUEUE: suppress: bob@gmail.test from shop.test: rejected" "$SYSLOG"' \
    "and neither has the milter's line (NOQUEUE)"
ok 'sink_wait gmail 2' "alice and carol are delivered"
isnt "$qid2" "$qid" "the second message has a queue id of its own ($qid2)"

# policyd: the provider lets one recipient an hour through; the second waits
send_mail news@shop.test dave@outlook.test,erin@outlook.test
qid3=$LAST_QID
pfline=$(maillog_wait "reject: RCPT from .*<erin@outlook.test>")
like "$pfline" ": $qid3: reject: RCPT from .* 450 4\.7\.1 " "Postfix defers erin in message $qid3"
ok 'wait_until 5 grep -q "^<6>info: $qid3: outlook.test: DEFER" "$plog"' \
    "policyd's line about the deferral begins with the same queue id"

# --- FAIL-OPEN lines are warnings, in syslog and on the journal stream
redis_stop
send_mail news@shop.test greg@gmail.test
is "$?" 0 "with Redis down the milter lets greg through (on_redis_error = accept)"
ok 'wait_until 5 grep -q "^<156>.*warning: NOQUEUE: suppress: FAIL-OPEN: greg@gmail.test" "$SYSLOG"' \
    "its FAIL-OPEN line reaches syslog as local3.warning (<156>)"
unlike "$(cat "$WORLD_DIR/log/milter.log")" "FAIL-OPEN" "and not stderr"
send_mail news@shop.test frank@outlook.test
is "$?" 0 "with Redis down policyd lets frank through (provider_on_error = dunno)"
ok 'wait_until 5 grep -q "^<4>warning: NOQUEUE: outlook.test: FAIL-OPEN" "$plog"' \
    "its FAIL-OPEN line is a warning on the journal stream (<4>)"
unlike "$(cat "$plog")" '(^|'$'\n'')[^<]' "every policyd line carries a priority prefix"
redis_start

# --- JOURNAL_STREAM naming another file: stderr is not the journal
other=$WORLD_DIR/run/not-the-journal
touch "$other"
sed "s|^listen = .*|listen = unix:$WORLD_DIR/run/policy2.sock|" "$conf" >"$conf.2"
JOURNAL_STREAM=$(stat -c '%d:%i' "$other") world_spawn policyd2 "$POLICYD_BIN" -f -c "$conf.2"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy2.sock' "a second policyd listens"
like "$(grep -m1 'listening on' "$WORLD_DIR/log/policyd2.log")" '^[0-9-]+T[0-9:.]+Z outpost-policyd: info: listening on ' \
    "with stderr not the journal stream its lines carry time and name as usual"

# --- without -f and without any syslog socket (a container): stderr
sed "s|^listen = .*|listen = unix:$WORLD_DIR/run/policy3.sock|" "$conf" >"$conf.3"
spawn_with_dev policyd3 - "$POLICYD_BIN" -c "$conf.3"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy3.sock' "policyd without -f in a /dev without log listens"
like "$(cat "$WORLD_DIR/log/policyd3.log")" 'outpost-policyd: info: listening on ' \
    "and, with no syslog socket to write to, logs to stderr"
done_testing
