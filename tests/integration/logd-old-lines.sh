#!/bin/bash
# logd-old-lines.sh - a replayed log (start_at = beginning) holds an old "slow
# down" deferral and old hard bounces, in syslog's year-less format (hours and
# months ago) and in RFC 3339: they are counted in the statistics but start no
# backoff and suppress no one ([logd] max_line_age, 1h by default), while the
# same lines logged now do; with max_line_age = 0 the old lines act (TAP)
#
# Run as root: tests/integration/logd-old-lines.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"
redis_start

log=$WORLD_TMP/mail.log
logd_log=$WORLD_DIR/log/logd.log
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[logd]
maillog = $log
start_at = beginning
metrics_listen =
node = n1
poll_interval = 20ms
flush_interval = 50ms
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
suppressed() { ctl suppress check "$1" >/dev/null; }
backoff_of() { redis_cli HGET "outpost:{rl}:backoff:$1:default" until; }
in_backoff() { test -n "$(backoff_of "$1")"; }
# read_all - exit 0 when outpost-logd has handled every line of the file
read_all() { test "$(redis_cli HGET 'outpost:{st}:logd:n1' offset)" = "$(stat -c %s "$log")"; }

# deferral TIME QID RCPT - a "slow down" (Gmail's 421 4.7.28) and its from= line
deferral() {
    printf '%s relay postfix/qmgr[9]: %s: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$1" "$2"
    printf '%s relay postfix/smtp[10]: %s: to=<%s>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.2, delays=0/0/0/0.2, dsn=4.7.28, status=deferred (host mx.gmail.test[127.0.0.11] said: 421-4.7.28 Our system has detected an unusual rate of unsolicited mail (in reply to end of DATA command))\n' "$1" "$2" "$3"
}
# bounce TIME QID RCPT HOST - a hard bounce (550 5.1.1) and the message's lines
bounce() {
    printf '%s relay postfix/qmgr[9]: %s: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$1" "$2"
    printf '%s relay postfix/smtp[10]: %s: to=<%s>, relay=mx.%s[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host mx.%s[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))\n' "$1" "$2" "$3" "$4" "$4"
    printf '%s relay postfix/qmgr[9]: %s: removed\n' "$1" "$2"
}
old_log() {
    deferral "$(date -d '3 hours ago' '+%b %e %H:%M:%S')" C000000001 slow@gmail.test
    bounce "$(date -d '2 days ago' '+%Y-%m-%dT%H:%M:%S.123456%:z')" C000000002 gone1@gmail.test gmail.test
    bounce "$(date -d '200 days ago' '+%b %d %H:%M:%S')" C000000003 gone2@outlook.test outlook.test
    bounce "$(date -u -d '90 minutes ago' '+%Y-%m-%dT%H:%M:%SZ')" C000000004 gone3@gmail.test gmail.test
}

# --- a replayed log: old lines ---------------------------------------------------
old_log >"$log"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 read_all' "outpost-logd read the replayed log to its end"
is "$(backoff_of google)" "" "an old \"slow down\" deferral (3 hours ago) starts no backoff"
is "$(ctl backoff list)" "no backoff in force" "backoff list: nothing"
ok '! suppressed gone1@gmail.test' "an old hard bounce (RFC 3339, 2 days ago) suppresses no one"
ok '! suppressed gone2@outlook.test' "nor one from 200 days ago (year-less)"
ok '! suppressed gone3@gmail.test' "nor one 90 minutes ago (RFC 3339, UTC)"
ok 'stats_total_is deferred 1' "the old deferral is still counted in the statistics"
ok 'stats_total_is bounced 1' "so is the old bounce within the last 24 hours (90 minutes ago)" \
    || diag "$(stats_json provider)"
like "$(cat "$logd_log")" "older than \\[logd\\] max_line_age \\(3600s\\).*start no backoff and suppress no one" \
    "outpost-logd says why it did nothing"

# --- the same, logged now --------------------------------------------------------
now=$(date '+%b %e %H:%M:%S')
{ deferral "$now" C000000011 slow2@gmail.test; bounce "$now" C000000012 fresh@gmail.test gmail.test; } >>"$log"
ok 'wait_until 10 in_backoff google' "a fresh \"slow down\" deferral starts the backoff"
like "$(ctl backoff list)" "google +default +60/m .*4\\.7\\.28" "backoff list shows it"
ok 'wait_until 5 suppressed fresh@gmail.test' "a fresh hard bounce suppresses"
ok '! suppressed gone1@gmail.test' "the old one still does not"

# --- max_line_age = 0: no limit -------------------------------------------------------
world_kill logd
redis_cli FLUSHALL >/dev/null
old_log >"$log"
sed -i 's/^node = n1$/node = n1\nmax_line_age = 0/' "$conf"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 read_all' "the replayed log read again, with max_line_age = 0"
ok 'wait_until 5 in_backoff google' "now the old deferral starts a backoff"
ok 'wait_until 5 suppressed gone2@outlook.test' "and the old hard bounces suppress"
ok 'suppressed gone1@gmail.test' "all of them"
done_testing
