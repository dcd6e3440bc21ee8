#!/bin/bash
# soak.sh - the whole job at a steady rate for a long time: do the daemons' memory
# and file descriptors stay flat?
#
# A private Postfix with outpost-milter (suppression check, DKIM signing),
# outpost-policyd (provider throttling) and outpost-logd (reading the mail log,
# bounces onto the suppression list) on one Redis, in a world namespace
# (tests/lib/world.sh).  A client sends at a steady rate, several messages per
# SMTP session: 1 in 20 to a suppressed recipient, 1 in 25 to an address the
# provider refuses with 550 5.1.1 (logd suppresses it), the rest delivered to two
# sinks.  Every 30 s it prints each daemon's resident memory (VmRSS) and open file
# descriptors, with what was sent so far; at the end a verdict per daemon and overall:
# "flat", or "growing" when the largest figure of the last third of the samples
# exceeds that of the first third (RSS: by more than 10% and 1 MiB; fds: by more
# than 2).
#
# Usage (as root): tests/bench/soak.sh [SECONDS]     (default 600)
#   SOAK_RATE=20 (messages/s)   SOAK_INTERVAL=30 (seconds between samples)
# Use a build without AddressSanitizer (its quarantine makes RSS grow by design).
# Prints figures; asserts nothing (exit 0 unless the world could not be set up).
. "$(dirname "$0")/../lib/world.sh"
DURATION=${1:-600}
RATE=${SOAK_RATE:-20}
INTERVAL=${SOAK_INTERVAL:-30}
# shellcheck disable=SC2034  # read by world_start (the watchdog)
WORLD_TIMEOUT=$((DURATION + 300))
world_start "$@"
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN" "$CTL_BIN"
if grep -q __asan_init "$MILTER_BIN" 2>/dev/null; then
    diag "warning: $MILTER_BIN is built with AddressSanitizer: RSS figures mean little"
fi

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"
: >"$keys/table"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[logd]
maillog = $MAILLOG
start_at = beginning
[provider google]
domains = gmail.test
rate = 1000000/h
burst = 100000
[provider microsoft]
domains = outlook.test
rate = 1000000/h
burst = 100000
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
rec=$(ctl dkim keygen shop.test s1 --algorithm rsa --add 2>/dev/null | grep -o '"[^"]*"' | tr -d '"\n')
dns_txt s1._domainkey.shop.test "$rec"
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_mx outlook.test mx.outlook.test 10
dns_a mx.outlook.test 127.0.0.12
dns_mx shop.test mx.shop.test 10          # bounces come back here
dns_a mx.shop.test 127.0.0.13
dns_start
redis_start
sink_start gmail 127.0.0.11
sink_start outlook 127.0.0.12
sink_start shop 127.0.0.13
for s in gmail outlook; do sink_rule $s 'gone*' '550 5.1.1 The email account that you tried to reach does not exist'; done
# shellcheck disable=SC2046
ctl suppress add --reason unsubscribe $(for ((i = 0; i < 200; i++)); do echo "sup$i@gmail.test sup$i@outlook.test"; done) >/dev/null

world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
wait_until 10 test -S "$WORLD_DIR/run/milter.sock" || BAIL_OUT "the milter does not listen"
wait_until 10 test -S "$WORLD_DIR/run/policy.sock" || BAIL_OUT "policyd does not listen"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject" \
    "default_process_limit = 50"
postfix_start
chmod 644 "$MAILLOG"
world_spawn logd "$LOGD_BIN" -f -c "$conf"
sleep 1

# the client: RATE messages a second for DURATION seconds, 20 messages a session;
# counts go to $WORLD_DIR/client.count ("sent accepted refused tempfail errors")
"$PYTHON" - "$SMTP_HOST" "$SMTP_PORT" "$RATE" "$DURATION" "$WORLD_DIR/client.count" <<'PY' &
import smtplib, sys, time
host, port, rate, duration, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
c = {"sent": 0, "accepted": 0, "refused": 0, "tempfail": 0, "errors": 0}
t0 = time.monotonic()
s = None
i = 0
def save():
    with open(out + ".tmp", "w") as f:
        f.write("%(sent)d %(accepted)d %(refused)d %(tempfail)d %(errors)d\n" % c)
    import os; os.rename(out + ".tmp", out)
while time.monotonic() - t0 < duration:
    due = t0 + i / rate
    now = time.monotonic()
    if due > now:
        time.sleep(due - now)
    i += 1
    dom = "gmail.test" if i % 3 else "outlook.test"
    rcpt = "u%d@%s" % (i, dom)
    if i % 20 == 0:
        rcpt = "sup%d@%s" % (i // 20 % 200, dom)
    elif i % 25 == 0:
        rcpt = "gone%d@%s" % (i, dom)
    msg = ("From: News <news@shop.test>\r\nTo: %s\r\nSubject: soak %d\r\n"
           "Message-ID: <soak-%d@shop.test>\r\n\r\n" % (rcpt, i, i)) + \
          "".join("line %d of message %d\r\n" % (n, i) for n in range(40))
    try:
        if s is None or i % 20 == 1:
            if s is not None:
                try: s.quit()
                except Exception: pass
            s = smtplib.SMTP(host, port, local_hostname="client.test", timeout=30)
        c["sent"] += 1
        s.sendmail("news@shop.test", [rcpt], msg)
        c["accepted"] += 1
    except smtplib.SMTPRecipientsRefused as e:
        code = list(e.recipients.values())[0][0]
        c["refused" if code >= 500 else "tempfail"] += 1
    except smtplib.SMTPResponseException as e:
        c["refused" if e.smtp_code >= 500 else "tempfail"] += 1
    except Exception:
        c["errors"] += 1
        s = None
    if i % 20 == 0:
        save()
save()
PY
client=$!

# sample - one line of figures per daemon: "NAME RSS_KB FDS"
sample() {
    local d p rss
    for d in milter policyd logd; do
        p=$(world_pid $d)
        rss=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$p/status" 2>/dev/null)
        echo "$d ${rss:-0} $(ls "/proc/$p/fd" 2>/dev/null | wc -l)"
    done
}
samples=$WORLD_DIR/samples
: >"$samples"
note "soak: $DURATION s at $RATE msg/s, a sample every $INTERVAL s (RSS in kB)"
printf '# %6s  %-20s %-20s %-20s %s\n' time milter policyd logd "sent accepted refused tempfail errors"
t0=$(_now_ms)
k=0
while :; do
    k=$((k + 1))
    # the next sample at a fixed time from the start (no drift)
    while (( $(_now_ms) < t0 + k * INTERVAL * 1000 )) && _pid_alive "$client"; do sleep 0.5; done
    now=$(( ($(_now_ms) - t0) / 1000 ))
    [ "$now" = "${last:-}" ] && break        # the client ended just after a sample
    last=$now
    line=$(sample)
    echo "$line" | sed "s/^/$now /" >>"$samples"
    # shellcheck disable=SC2046,SC2183  # the awk output is split into the three columns
    printf '# %5ss  %-20s %-20s %-20s %s\n' "$now" \
        $(echo "$line" | awk '{printf "rss=%s,fd=%s ", $2, $3}') "$(cat "$WORLD_DIR/client.count" 2>/dev/null)"
    _pid_alive "$client" || break
done
wait "$client"
for d in milter policyd logd; do
    _pid_alive "$(world_pid $d)" || diag "outpost-$d DIED during the soak"
done
note "Postfix queue at the end: $(postfix_queue_count) messages; delivered: gmail $(sink_count gmail), outlook $(sink_count outlook); suppression entries: $(ctl suppress stats --json 2>/dev/null | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["entry_count"])' 2>/dev/null)"

# verdict: compare the last third's largest figure with the first third's
"$PYTHON" - "$samples" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
names = ["milter", "policyd", "logd"]
overall = "flat"
for name in names:
    s = [(int(r[2]), int(r[3])) for r in rows if r[1] == name]
    if len(s) < 3:
        print("# %s: too few samples (%d) for a verdict" % (name, len(s)))
        overall = "unknown"
        continue
    third = len(s) // 3
    first, last = s[:third], s[-third:]
    rss0, rss1 = max(x[0] for x in first), max(x[0] for x in last)
    fd0, fd1 = max(x[1] for x in first), max(x[1] for x in last)
    grow = []
    if rss1 > rss0 * 1.10 and rss1 - rss0 > 1024:
        grow.append("RSS %d -> %d kB" % (rss0, rss1))
    if fd1 > fd0 + 2:
        grow.append("fds %d -> %d" % (fd0, fd1))
    v = "growing (%s)" % ", ".join(grow) if grow else "flat"
    if grow and overall == "flat":
        overall = "growing"
    print("# %-8s %s (first third max RSS %d kB, %d fds; last third max RSS %d kB, %d fds)"
          % (name, v, rss0, fd0, rss1, fd1))
print("# verdict: %s" % overall)
PY
pass "soak finished"
done_testing
