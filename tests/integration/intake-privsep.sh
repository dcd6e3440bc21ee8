#!/bin/bash
# intake-privsep.sh - reports are read by outpost-intake-parse, not by the milter
# that holds the keys: the parser runs as [general] user, sandboxed (seccomp, no
# new privileges, resource limits), with no descriptor but its socket, stdout
# and stderr, as /proc shows; killing it in the middle of a report gets that
# report a 451 (the sender retries, nothing is lost) and the next report is read
# by a new parser (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN" "$OUTPOST_INTAKE_PARSER"

conf=$WORLD_DIR/outpost.conf
keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"
secret=$keys/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
: >"$keys/table"
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[intake]
bounce_domain = bounces.%d
secret_file = $secret
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
suppressed() { ctl suppress check "$1" >/dev/null; }
return_path() { eml_envelope "$(sink_find gmail "$1")" mail_from; }
# dsn_file TO RCPT - a DSN about RCPT, sent to TO; prints its file name
dsn_file() {
    local f=$WORLD_TMP/dsn.$RANDOM
    cat >"$f" <<EOF
From: MAILER-DAEMON@mx.gmail.test
To: $1
Subject: Undelivered Mail Returned to Sender
Message-ID: <$RANDOM.$RANDOM@mx.gmail.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.gmail.test

Final-Recipient: rfc822; $2
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B--
EOF
    echo "$f"
}
# parsers - the pids of the milter's report parsers
parsers() {
    local st p milter; milter=$(world_pid milter)
    for st in /proc/[0-9]*/status; do
        p=${st%/status}; p=${p#/proc/}
        grep -q "^PPid:[[:space:]]*$milter\$" "$st" 2>/dev/null &&
            [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$(readlink -f "$OUTPOST_INTAKE_PARSER")" ] &&
            echo "$p"
    done
}
one_parser() { [ "$(parsers | wc -l)" = 1 ]; }
# status_of PID FIELD - a field of /proc/PID/status
status_of() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# limit_of PID NAME - the soft limit of /proc/PID/limits on the line starting NAME
limit_of() { grep "^$2" "/proc/$1/limits" | awk '{print $(NF-2)}'; }

ctl dkim keygen shop.test s1 --add >/dev/null 2>&1
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -v -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}"
postfix_start
key=$(find "$keys" -name '*.pem' -o -name '*.key' -o -name '*.private' | head -n1)
[ -n "$key" ] || key=$(find "$keys" -type f ! -name table ! -name intake.secret | head -n1)
ok '[ -n "$key" ] && [ -s "$key" ]' "a DKIM key file exists: ${key#"$WORLD_DIR"/}"

# --- outgoing mail, then a first report: it starts a parser
send_mail news@shop.test alice@gmail.test --header "Subject: campaign" >/dev/null
ok 'wait_until 10 sink_find gmail alice@gmail.test >/dev/null' "the campaign is delivered"
rp=$(return_path alice@gmail.test)
like "$rp" '^b-[a-z2-7]+@bounces\.shop\.test$' "the return path is tagged"
is "$(parsers | wc -l)" 0 "no parser before the first report"
send_mail '<>' "$rp" --data "$(dsn_file "$rp" alice@gmail.test)"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the DSN is accepted"
ok 'wait_until 5 suppressed alice@gmail.test' "and read: alice is suppressed"
ok 'wait_until 5 one_parser' "one parser runs"
pp=$(parsers)
milter=$(world_pid milter)

# --- what the parser may reach, seen from /proc
is "$(status_of "$pp" Seccomp)" 2 "the parser runs under a seccomp filter"
is "$(status_of "$pp" NoNewPrivs)" 1 "with no new privileges"
is "$(status_of "$pp" Uid | awk '{print $2}')" "$(id -u nobody)" "as [general] user, not root"
is "$(status_of "$milter" Seccomp)" 0 "(the milter itself has no filter: the check can fail)"
is "$(ls "/proc/$pp/fd" | sort -n | tr '\n' ' ')" "0 1 2 " "it has descriptors 0, 1 and 2 only"
like "$(readlink "/proc/$pp/fd/0")" '^socket:' "descriptor 0 is its socket"
ok '[ "$(ls /proc/$milter/fd | wc -l)" -gt 3 ]' "(the milter has more)"
fds=$(for f in /proc/"$pp"/fd/*; do readlink "$f"; done)
unlike "$fds" "$keys" "none of its descriptors is a key file or the token secret"
unlike "$(cat "/proc/$pp/maps")" "$keys" "no key file is mapped in its memory"
is "$(limit_of "$pp" 'Max open files')" 3 "it cannot have a fourth descriptor"
is "$(limit_of "$pp" 'Max core file size')" 0 "it leaves no core file"
is "$(limit_of "$pp" 'Max file size')" 0 "it writes no file"
ok '[ "$(limit_of "$pp" "Max cpu time")" != unlimited ]' \
    "its CPU time is limited: $(limit_of "$pp" 'Max cpu time') s so far"
# the uid alone would not stop it: the same user reads the key outside the sandbox
ok 'setpriv --reuid=nobody --regid=nogroup --clear-groups head -c1 "$key" >/dev/null' \
    "(the parser's user can read the key outside the sandbox)"

# --- the parser killed in the middle of a report: 451 for that report only
send_mail news@shop.test bob@gmail.test --header "Subject: campaign" >/dev/null
ok 'wait_until 10 sink_find gmail bob@gmail.test >/dev/null' "a campaign to bob"
rp=$(return_path bob@gmail.test)
kill -STOP "$pp"
before=$(grep -c "to parser pid $pp\$" "$WORLD_DIR/log/milter.log")
out=$WORLD_TMP/killed.swaks
swaks --server "$SMTP_HOST:$SMTP_PORT" --helo client.test --timeout 60 --from '<>' \
    --to "$rp" --data "$(dsn_file "$rp" bob@gmail.test)" </dev/null >"$out" 2>&1 &
swaks_pid=$!
# went_to_parser - a report more than before went to the stopped parser
went_to_parser() { [ "$(grep -c "to parser pid $pp\$" "$WORLD_DIR/log/milter.log")" -gt "$before" ]; }
ok 'wait_until 20 went_to_parser' "the report went to the stopped parser"
kill -KILL "$pp"
wait "$swaks_pid"
like "$(cat "$out")" '<\*\* +451 4\.3\.0 ' "the report in flight gets 451 4.3.0"
like "$(cat "$WORLD_DIR/log/milter.log")" "report parser pid $pp: no answer" \
    "the milter says the parser failed"
ok '! suppressed bob@gmail.test' "bob is not suppressed by a report not read"
ok "wait_until 5 sh -c '! test -e /proc/$pp'" "the killed parser is reaped"

# --- the next report is read by a new parser
send_mail '<>' "$rp" --data "$(dsn_file "$rp" bob@gmail.test)"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "the retried report is accepted"
ok 'wait_until 5 suppressed bob@gmail.test' "and read: bob is suppressed"
ok 'wait_until 5 one_parser' "one parser runs"
isnt "$(parsers)" "$pp" "a new one"
is "$(status_of "$(parsers)" Seccomp)" 2 "sandboxed too"

# --- a parser that died between reports costs no report
pp=$(parsers)
kill -KILL "$pp"
send_mail news@shop.test carol@gmail.test --header "Subject: campaign" >/dev/null
ok 'wait_until 10 sink_find gmail carol@gmail.test >/dev/null' "a campaign to carol"
rp=$(return_path carol@gmail.test)
send_mail '<>' "$rp" --data "$(dsn_file "$rp" carol@gmail.test)"
like "$(cat "$SWAKS_OUT")" '250 2\.0\.0 Ok' "a report after the parser died idle is accepted"
ok 'wait_until 5 suppressed carol@gmail.test' "and read by a new parser"
like "$(cat "$WORLD_DIR/log/milter.log")" "report parser pid $pp: gone while idle" \
    "the milter noticed the dead one first"

done_testing
