#!/bin/bash
# milter-listunsub.sh - List-Unsubscribe and List-Unsubscribe-Post added by
# outpost-milter for the senders of [milter] list_unsubscribe_senders, through
# a real Postfix: covered and oversigned by the DKIM signatures (checked by
# three verifiers no one here wrote), the https URL works against a running
# outpost-httpd (the one-click POST suppresses the recipient, whose next
# message is refused), nothing added for others, for a message with its own
# field, or for a message with several recipients (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
need_programs "$MILTER_BIN" "$CTL_BIN" "$HTTPD_BIN" /usr/bin/curl
for p in opendkim-testmsg /usr/bin/dkimverify; do
    command -v "$p" >/dev/null || skip_all "$p not installed"
done
perl -MMail::DKIM::Verifier -e1 2>/dev/null || skip_all "Mail::DKIM not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
: >"$keys/table"
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"; chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
node = t1
[redis]
$REDIS_CONF_SERVER
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
metrics_listen = 127.0.0.1:9431
list_unsubscribe_senders = example.com, tenant7
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[intake]
bounce_domain = bounce.example.com
secret_file = $secret
[httpd]
listen = 127.0.0.1:8480
metrics_listen =
public_url = http://127.0.0.1:8480
EOC
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
keygen() {    # DOMAIN SELECTOR ALG - make a key, publish its TXT record
    local rec
    rec=$(ctl dkim keygen "$1" "$2" --algorithm "$3" --add 2>/dev/null |
        grep -o '"[^"]*"' | tr -d '"\n')
    dns_txt "$2._domainkey.$1" "$rec"
}
keygen example.com rsa1 rsa
keygen example.com ed1 ed25519
keygen other.test rsa1 rsa

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "milter listens"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null http://127.0.0.1:8480/' "outpost-httpd listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "disable_mime_output_conversion = yes"
postfix_start

msgdir=$WORLD_DIR/msgs
mkdir -p "$msgdir"
mkmsg() {    # NAME FROM EXTRA-HEADERS
    printf 'From: %s\r\nTo: someone@gmail.test\r\nSubject: news %s\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@lu.test>\r\n%s\r\nNews of the week.\r\n' \
        "$2" "$1" "$1" "$3" >"$msgdir/$1"
}
mkmsg optin 'Shop <news@example.com>' ''
mkmsg own 'Shop <news@example.com>' $'List-Unsubscribe: <https://example.com/own>\r\n'
mkmsg other 'Other <news@other.test>' ''

# verify EML - signatures, those dkimpy passes, opendkim-testmsg, RSA ones Mail::DKIM
# passes (Debian 12's has no Ed25519)
verify() {
    local eml=$1 n i py=0 tm mp
    n=$(grep -ci '^DKIM-Signature:' "$eml")
    for ((i = 0; i < n; i++)); do
        /usr/bin/python3 /usr/bin/dkimverify --index "$i" <"$eml" >/dev/null 2>&1 && py=$((py + 1))
    done
    opendkim-testmsg <"$eml" >/dev/null 2>&1 && tm=ok || tm=fail
    mp=$(perl -MMail::DKIM::Verifier -e '
        my $v = Mail::DKIM::Verifier->new; $v->load(*STDIN); my $p = 0;
        for my $s ($v->signatures) {
            $p++ if $s->result eq "pass" && $s->algorithm eq "rsa-sha256" } print $p;' <"$eml")
    echo "$n/$py/$tm/$mp"
}
# hcount EML NAME - how often the first signature's h= names NAME (2: oversigned)
hcount() {
    eml_header "$1" DKIM-Signature | head -n1 | tr -d ' \t' |
        grep -o 'h=[^;]*' | tr ':' '\n' | sed 's/^h=//' | grep -cix "$2"
}
count() { grep -ci "^$2:" "$1"; }

# --- an opted-in sender domain, one recipient: both fields, signed
send_mail news@example.com alice@gmail.test --data "@$msgdir/optin" >/dev/null
ok 'sink_wait gmail 1' "delivered"
eml=$(sink_find gmail alice@gmail.test)
lu=$(eml_header "$eml" List-Unsubscribe)
like "$lu" '^<http://127\.0\.0\.1:8480/u/[A-Za-z0-9_-]+>, <mailto:unsub-[^@>]+@bounce\.example\.com>$' \
    "List-Unsubscribe: the https URL of outpost-httpd, then the intake's mailto:"
is "$(eml_header "$eml" List-Unsubscribe-Post)" "List-Unsubscribe=One-Click" \
    "List-Unsubscribe-Post: List-Unsubscribe=One-Click"
is "$(count "$eml" List-Unsubscribe)/$(count "$eml" List-Unsubscribe-Post)" 1/1 "each once"
is "$(verify "$eml")" "2/2/ok/1" \
    "two signatures (RSA, Ed25519): dkimpy and opendkim-testmsg pass them, Mail::DKIM the RSA one"
is "$(hcount "$eml" List-Unsubscribe)/$(hcount "$eml" List-Unsubscribe-Post)" 2/2 \
    "the signature covers both fields, and oversigns them"
# the fields are what was signed: change one and the signatures fail
sed 's/^List-Unsubscribe-Post: .*/List-Unsubscribe-Post: List-Unsubscribe=Something/' "$eml" >"$WORLD_TMP/altered.eml"
is "$(verify "$WORLD_TMP/altered.eml")" "2/0/fail/0" "an altered List-Unsubscribe-Post breaks every signature"

# --- the URL works: GET shows the page, the one-click POST suppresses
url=$(sed -n 's/^<\([^>]*\)>.*/\1/p' <<<"$lu")
is "$(curl -s -o "$WORLD_TMP/page" -w '%{http_code}' "$url")" 200 "GET of the URL: the page"
like "$(cat "$WORLD_TMP/page")" 'alice@gmail\.test' "naming the recipient"
ok '! ctl suppress check --sender example.com alice@gmail.test >/dev/null' "the GET changes nothing"
is "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d 'List-Unsubscribe=One-Click' "$url")" 200 \
    "the one-click POST: 200"
like "$(ctl suppress check --sender example.com alice@gmail.test)" 'unsubscribe.*source one-click' \
    "alice is suppressed for example.com"
send_mail news@example.com alice@gmail.test --data "@$msgdir/optin" >/dev/null
is "$LAST_QID" "" "and her next message from example.com is refused"

# --- opted in by SASL user name is in the unit test; here: who gets nothing
send_mail news@other.test bob@gmail.test --data "@$msgdir/other" >/dev/null
ok 'sink_wait gmail 2' "a sender not opted in: delivered"
eml=$(sink_find gmail bob@gmail.test)
is "$(count "$eml" List-Unsubscribe)/$(count "$eml" List-Unsubscribe-Post)" 0/0 "with nothing added"
is "$(verify "$eml")" "1/1/ok/1" "and signed as before"

send_mail news@example.com carol@gmail.test --data "@$msgdir/own" >/dev/null
ok 'sink_wait gmail 3' "a message with its own List-Unsubscribe: delivered"
eml=$(sink_find gmail carol@gmail.test)
is "$(eml_header "$eml" List-Unsubscribe)" "<https://example.com/own>" "its own field kept"
is "$(count "$eml" List-Unsubscribe)/$(count "$eml" List-Unsubscribe-Post)" 1/0 "nothing added"
is "$(verify "$eml")" "2/2/ok/1" "signatures pass"

send_mail news@example.com dave@gmail.test,erin@gmail.test --data "@$msgdir/optin" >/dev/null
ok 'sink_wait gmail 4' "a message for two recipients: delivered"
eml=$(sink_find gmail dave@gmail.test)
is "$(count "$eml" List-Unsubscribe)" 0 "without List-Unsubscribe (a token names one recipient)"
ok 'grep -q "no List-Unsubscribe added: recipients" $WORLD_DIR/log/milter.log' "the milter says why"
metric() {
    curl -s http://127.0.0.1:9431/metrics |
        awk -v m="outpost_milter_list_unsubscribe_total{node=\"t1\",result=\"$1\"}" '$1 == m { print $2 }'
}
is "$(metric added)/$(metric present)/$(metric recipients)" 1/1/1 \
    "counted: one added, one present, one with several recipients"

# --- a reload (SIGHUP) changes list_unsubscribe_senders for the messages that follow
sed -i 's/^list_unsubscribe_senders = .*/list_unsubscribe_senders = example.com, other.test/' "$conf"
world_kill milter HUP
ok 'wait_until 5 grep -q "reloaded $conf" "$WORLD_DIR/log/milter.log"' "the milter reloads"
send_mail news@other.test frank@gmail.test --data "@$msgdir/other" >/dev/null
ok 'sink_wait gmail 5' "a sender opted in by the reload: delivered"
eml=$(sink_find gmail frank@gmail.test)
is "$(count "$eml" List-Unsubscribe)/$(count "$eml" List-Unsubscribe-Post)" 1/1 \
    "with both fields added"
is "$(verify "$eml")" "1/1/ok/1" "and signed over them"
done_testing
