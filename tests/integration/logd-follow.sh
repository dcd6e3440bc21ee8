#!/bin/bash
# logd-follow.sh - outpost-logd follows a growing log: a rotation in the
# middle of a stream (rename + new file, with the old file's last line still
# unterminated) loses nothing; a rotation while the follower is stopped is
# caught up from maillog.1; garbage and overlong lines are skipped and
# counted; a truncated file is read again from its start.
#
# The log is written by the test (lines of the shapes Postfix writes, one
# queue id per message), so that the counts are known exactly.
#
# Run as root: tests/integration/logd-follow.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN" "$CTL_BIN"
redis_start

log=$WORLD_TMP/mail.log
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[logd]
maillog = $log
start_at = beginning
metrics_listen = 127.0.0.1:9433
poll_interval = 20ms
flush_interval = 50ms
[provider google]
mx = *.gmail.test
EOF

# msg N STATUS - the lines of one message: from=, one delivery, removed
msg() {
    local q; q=$(printf 'A%09X' "$1")
    local ts; ts=$(date '+%b %e %H:%M:%S')
    printf '%s relay postfix/qmgr[9]: %s: from=<news@shop.test>, size=100, nrcpt=1 (queue active)\n' "$ts" "$q"
    case $2 in
    sent) printf '%s relay postfix/smtp[10]: %s: to=<u%d@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=2.0.0, status=sent (250 2.0.0 Ok)\n' "$ts" "$q" "$1" ;;
    bounced) printf '%s relay postfix/smtp[10]: %s: to=<u%d@gmail.test>, relay=mx.gmail.test[127.0.0.11]:25, delay=0.1, delays=0/0/0/0.1, dsn=5.1.1, status=bounced (host mx.gmail.test[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))\n' "$ts" "$q" "$1" ;;
    esac
    printf '%s relay postfix/qmgr[9]: %s: removed\n' "$ts" "$q"
}
# batch FROM TO - messages FROM..TO, every 10th bounced
batch() {
    local i
    for ((i = $1; i <= $2; i++)); do
        if ((i % 10 == 0)); then msg "$i" bounced; else msg "$i" sent; fi
    done
}
stat_total() {     # stat_total KEY
    "$CTL_BIN" -c "$conf" stats --json |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["total"][sys.argv[1]])' "$1"
}
total_is() { test "$(stat_total "$1")" = "$2"; }
metric() {
    python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:9433/metrics").read().decode())' |
        sed -e 's/{node="[^"]*",\?/{/' -e 's/{}//' | sed -n "s/^$1 //p"
}

# --- a stream, rotated in the middle --------------------------------------------
batch 1 500 >"$log"
chmod 644 "$log"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 total_is delivered 450' "first 500 messages read (450 delivered)"
{
    batch 501 700
    printf 'this is not a log line\n\n'
    printf 'Nov 28 16:48:42 relay postfix/smtp[1]: ABC: to=<a@b.test>, relay=none, delay=1\n'
    head -c 20000 /dev/zero | tr '\0' x; printf '\n'
    msg 701 sent | head -c -1            # the last line has no newline yet
} >>"$log"
mv "$log" "$log.1"
batch 702 1000 >"$log"
chmod 644 "$log"
ok 'wait_until 10 total_is delivered 900' "after the rotation: 900 delivered"
is "$(stat_total bounced)" 100 "100 bounced: nothing lost, nothing twice"
ok 'grep -q "rotated: now reading the new file" "$WORLD_DIR/log/logd.log"' "the follower noticed the rotation"
is "$(metric 'outpost_logd_lines_total{result="garbage"}')" 3 "3 garbage lines counted (the empty line too)"
is "$(metric 'outpost_logd_lines_total{result="overlong"}')" 1 "1 overlong line skipped"
is "$("$CTL_BIN" -c "$conf" stats --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"]["reasons"])')" \
    "{'userunknown': 100}" "bounces classified: userunknown"

# --- rotated while stopped ----------------------------------------------------
world_kill logd
batch 1001 1100 >>"$log"
mv "$log" "$log.1"
batch 1101 1200 >"$log"
chmod 644 "$log"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
ok 'wait_until 10 total_is delivered 1080' "after a restart: the rest of maillog.1, then the new file"
ok 'grep -q "was rotated: reading the rest of .*mail.log.1 first" "$WORLD_DIR/log/logd.log"' \
    "it said it read the old file first"
is "$(stat_total bounced)" 120 "120 bounced"

# --- copytruncate ---------------------------------------------------------------
: >"$log"
batch 1201 1210 >>"$log"
ok 'wait_until 10 total_is delivered 1089' "a truncated file is read again from its start"
ok 'grep -q "truncated" "$WORLD_DIR/log/logd.log"' "and the follower says so"

# --- Redis down: nothing read, nothing lost ------------------------------------
redis_pause
batch 1211 1220 >>"$log"
sleep 0.5
redis_resume
ok 'wait_until 10 total_is delivered 1098' "counts written once Redis answers again"
is "$(stat_total bounced)" 122 "and nothing was lost"
done_testing
