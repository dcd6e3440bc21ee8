#!/bin/bash
# logd-missing.sh - outpost-logd in its first hour: a log file that does not
# exist is reported at once, naming the file and what to do, and not again at
# every retry; when it appears it is read from its start.  With no saved
# position and no start_at, an existing file is read from its end: what it
# held before is not counted, what is logged after is (TAP)
#
# The log is written by the test (lines of the shapes Postfix writes), so
# that the counts are known exactly.
#
# Run as root: tests/integration/logd-missing.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"
redis_start

log=$WORLD_TMP/postfix.log
logd_log=$WORLD_DIR/log/logd.log
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[logd]
maillog = $log
metrics_listen =
node = n1
poll_interval = 20ms
flush_interval = 50ms
[provider google]
mx = *.gmail.test
EOF

# msg N STATUS - the lines of one message, logged now: from=, one delivery, removed
msg() {
    local q; q=$(printf 'B%09X' "$1")
    local ts; ts=$(date '+%b %d %H:%M:%S')
    printf '%s relay postfix/qmgr[9]: %s: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$ts" "$q"
    case $2 in
    sent) printf '%s relay postfix/smtp[10]: %s: to=<u%d@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n' "$ts" "$q" "$1" ;;
    bounced) printf '%s relay postfix/smtp[10]: %s: to=<u%d@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host mx.gmail.test[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))\n' "$ts" "$q" "$1" ;;
    esac
    printf '%s relay postfix/qmgr[9]: %s: removed\n' "$ts" "$q"
}
warnings() { grep -c "$log: no such file" "$logd_log"; }
# read_all - exit 0 when outpost-logd has handled every line of the file
read_all() { test "$(redis_cli HGET 'outpost:{st}:logd:n1' offset)" = "$(stat -c %s "$log")"; }

# --- the file is missing --------------------------------------------------------
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 5 grep -q "$log: no such file: nothing is counted, no backoff starts and no bounce is suppressed" "$logd_log"' \
    "a missing log is reported at start, naming the file"
like "$(cat "$logd_log")" "maillog_file = $log" "the warning says how Postfix writes it (maillog_file)"
like "$(cat "$logd_log")" "install rsyslog" "and names the other way (rsyslog)"
# at a 20 ms poll interval it retries about fifty times a second: the warning
# must not follow each retry (it comes again after a minute)
sleep 1
is "$(warnings)" 1 "one warning, not one per retry"
is "$(redis_cli HGET 'outpost:{st}:logd:n1' offset)" "" "no position is saved while there is no file"

# --- it appears ------------------------------------------------------------------
{ msg 1 sent; msg 2 sent; msg 3 bounced; } >"$log"
ok 'wait_until 10 stats_total_is delivered 2' "once it appears, the file is read from its start"
ok 'wait_until 5 stats_total_is bounced 1' "every line of it (the bounce too; the test writes the lines one by one)"
like "$(cat "$logd_log")" "$log: found after [0-9]+s: reading it" "outpost-logd says it found the file"
ok 'wait_until 5 "$CTL_BIN" -c "$conf" suppress check u3@gmail.test' "a fresh hard bounce suppresses"

# --- no saved position, file there: start at its end (the default) -------------
world_kill logd
redis_cli FLUSHALL >/dev/null
: >"$logd_log"
{ msg 4 sent; msg 5 bounced; } >>"$log"
size=$(stat -c %s "$log")
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 5 grep -q "no saved position: reading from its end (offset $size)" "$logd_log"' \
    "no saved position: outpost-logd starts at the end of the file ($size bytes)"
{ msg 6 sent; msg 7 sent; } >>"$log"
ok 'wait_until 10 stats_total_is delivered 2' "what is logged after the start is counted"
ok 'wait_until 5 read_all' "every line up to the end was handled"
is "$(stats_field "$(stats_json provider)" TOTAL delivered)" 2 "what the file held before is not (4 sent, 5 bounced)"
ok '! "$CTL_BIN" -c "$conf" suppress check u5@gmail.test >/dev/null' "the bounce from before the start suppresses no one"

# --- start_at = beginning still replays the file ------------------------------------
world_kill logd
redis_cli FLUSHALL >/dev/null
sed -i 's/^node = n1$/node = n1\nstart_at = beginning/' "$conf"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 stats_total_is delivered 5' "start_at = beginning reads all 7 messages (5 sent)"
ok 'wait_until 5 stats_total_is bounced 2' "and both bounces"
done_testing
