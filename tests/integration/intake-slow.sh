#!/bin/bash
# intake-slow.sh - large reports cost the milter little CPU: an 8 MiB Amazon
# SES notice, a 4 MiB plain-text delivery notice and a plain notice naming
# 1,000 recipients each with its own diagnostic, mailed through Postfix to
# tagged bounce addresses, are accepted and acted on (their recipient is
# suppressed), the milter stays up, and the CPU time it and its report
# parsers spent on them (utime + stime from /proc/PID/stat, not wall time)
# stays within a budget: 2 s, or 10 s in a sanitizer build
# (OUTPOST_CPU_BUDGET overrides).  A notice to a
# forged address is not read at all (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN" /usr/bin/python3

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[intake]
bounce_domain = bounces.%d
secret_file = $secret
max_report_size = 10M
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
suppressed() { ctl suppress check "$1" >/dev/null; }
return_path() { eml_envelope "$(sink_find gmail "$1")" mail_from; }
# cpu_ticks PID - user + system CPU time of a process and of its children (the
# report parsers, running or reaped), in clock ticks
cpu_ticks() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk -v p="$1" '$1 == p { t += $14 + $15 + $16 + $17 } $4 == p { t += $14 + $15 }
                       END { print t + 0 }'
}
# seconds TICKS - clock ticks as seconds
seconds() { awk -v t="$1" -v c="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", t / c }'; }

# A sanitizer build is several times slower: scale the budget, not the test.
if [ -n "${OUTPOST_CPU_BUDGET:-}" ]; then
    budget=$OUTPOST_CPU_BUDGET
elif grep -q __asan_init "$MILTER_BIN"; then
    budget=10
else
    budget=2
fi

# gen KIND SIZE RCPT TO - a notice of about SIZE bytes about RCPT, first of many
gen() {
    /usr/bin/python3 - "$@" <<'PY'
import sys
kind, size, rcpt, to = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
if kind == "ses":
    head = ("From: AWS Notifications <no-reply@sns.amazonaws.com>\nTo: %s\n"
            "Subject: AWS Notification Message\nMessage-ID: <ses-slow@sns.test>\n"
            "MIME-Version: 1.0\nContent-Type: text/plain; charset=UTF-8\n\n" % to)
    out = [head, '{"notificationType":"Bounce","bounce":{"bounceType":"Permanent",'
           '"bouncedRecipients":[{"emailAddress":"%s","action":"failed","status":"5.1.1",'
           '"diagnosticCode":"smtp; 550 5.1.1 user unknown"}' % rcpt]
    tail = ']},"mail":{"source":"news@shop.test"}}\n'
    item = (',{"emailAddress":"user%d@example.org","action":"failed","status":"5.1.1",'
            '"diagnosticCode":"smtp; 550 5.1.1 <user%d@example.org>: Recipient address '
            'rejected \\"quoted\\" \\u00e9"}')
else:
    head = ("From: Mail Delivery Subsystem <MAILER-DAEMON@mx.gmail.test>\nTo: %s\n"
            "Subject: Delivery Status Notification (Failure)\n"
            "Message-ID: <plain-slow@mx.gmail.test>\nMIME-Version: 1.0\n"
            "Content-Type: text/plain\n\n" % to)
    out = [head, "Delivery to the following recipients failed permanently:\n\n"
           "    %s\n\nTechnical details of permanent failure:\n"
           "550 5.1.1 The email account that you tried to reach does not exist\n\n" % rcpt]
    tail = "\n"
    item = "    user%d@example.org: 550 5.1.1 unknown <id%d@mx.example.org>\n"
if kind == "many":
    # each recipient with its paragraph, spread over the whole notice
    out[0] = out[0].replace("<plain-slow@", "<many-slow@")
    out[1] = ("Delivery to the following recipients failed permanently:\n\n"
              "%s\n    host mx.gmail.test said: 550 5.1.1 The email account that "
              "you tried to reach does not exist\n\n" % rcpt)
    item = ("user%d@example.org\n    host mx.example.org said: 550 5.1.1 "
            "<user%d@example.org>: Recipient address rejected: User unknown in "
            "virtual mailbox table (in reply to RCPT TO command)\n"
            "    the remote server gave this answer about the address above\n\n")
n, i = sum(map(len, out)) + len(tail), 0
while n < size:
    s = item % (i, i)
    out.append(s)
    n += len(s)
    i += 1
sys.stdout.write("".join(out) + tail)
PY
}

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "message_size_limit = 20000000" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}"
postfix_start

for r in alice bob carol dave; do
    send_mail news@shop.test "$r@gmail.test" --header "Subject: campaign" >/dev/null
done
rcpts_ge() { [ "$(sink_rcpts "$1" | wc -l)" -ge "$2" ]; }	# read again on each try
ok 'wait_until 10 rcpts_ge gmail 4' "the campaign is delivered"
rp_bob=$(return_path bob@gmail.test)
rp_carol=$(return_path carol@gmail.test)
rp_dave=$(return_path dave@gmail.test)
like "$rp_bob" '^b-[a-z2-7]+@bounces\.shop\.test$' "bob's return path is tagged"
like "$rp_carol" '^b-[a-z2-7]+@bounces\.shop\.test$' "carol's too"
like "$rp_dave" '^b-[a-z2-7]+@bounces\.shop\.test$' "dave's too"

gen ses 8388608 bob@gmail.test "$rp_bob" >"$WORLD_TMP/ses.eml"
gen plain 4194304 carol@gmail.test "$rp_carol" >"$WORLD_TMP/plain.eml"
# the part of a notice that is read (256 KB), 1,000 recipients in it
gen many 262144 dave@gmail.test "$rp_dave" >"$WORLD_TMP/many.eml"
note "SES notice: $(stat -c %s "$WORLD_TMP/ses.eml") bytes; plain notice: $(stat -c %s "$WORLD_TMP/plain.eml") bytes"
note "notice of $(grep -c '^user[0-9]*@example.org$' "$WORLD_TMP/many.eml") more recipients: $(stat -c %s "$WORLD_TMP/many.eml") bytes"

pid=$(world_pid milter)
before=$(cpu_ticks "$pid")
send_mail '<>' "$rp_bob" --data "$WORLD_TMP/ses.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the 8 MiB SES notice is accepted"
send_mail '<>' "$rp_carol" --data "$WORLD_TMP/plain.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the 4 MiB plain notice is accepted"
send_mail '<>' "$rp_dave" --data "$WORLD_TMP/many.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the notice naming 1,000 recipients is accepted"
after=$(cpu_ticks "$pid")
ok 'kill -0 "$pid"' "the milter is still running"
ok 'wait_until 5 suppressed bob@gmail.test' "the SES notice was read: bob is suppressed"
like "$(ctl suppress check --json bob@gmail.test)" '"reason":"hard-bounce"' "as a hard bounce"
ok 'wait_until 5 suppressed carol@gmail.test' "the plain notice was read: carol is suppressed"
ok 'wait_until 5 suppressed dave@gmail.test' "the notice naming 1,000 was read: dave is suppressed"
like "$(ctl suppress check --json dave@gmail.test)" '"reason":"hard-bounce"' "as a hard bounce"
ok '! suppressed alice@gmail.test' "alice, named by no token, is not"
ok 'grep -q "report to $rp_bob names more than 1000 recipients" "$WORLD_DIR/log/milter.log"' \
    "the SES notice names ~30,000 recipients: read up to the cap, the rest skipped"
cpu=$(seconds $((after - before)))
ok "awk -v a=$cpu -v b=$budget 'BEGIN { exit !(a < b) }'" \
    "the milter spent ${cpu}s of CPU on the three (budget ${budget}s)"

# a forged token: the same notice is counted and not read
forged=${rp_bob:0:7}$([ "${rp_bob:7:1}" = a ] && echo b || echo a)${rp_bob:8}
before=$(cpu_ticks "$pid")
send_mail '<>' "$forged" --data "$WORLD_TMP/ses.eml" --suppress-data
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "an 8 MiB notice to a forged address is accepted"
ok 'wait_until 5 grep -q "report to $forged: forged token: nothing done" "$WORLD_DIR/log/milter.log"' \
    "and logged as forged"
note "milter CPU for the forged one (collected, not read): $(seconds $(($(cpu_ticks "$pid") - before)))s"
done_testing
