#!/bin/bash
# milter-track.sh - open and click tracking by outpost-milter through a real
# Postfix: multipart/alternative messages (HTML in quoted-printable and in
# base64) from a sender of [milter] tracking_senders arrive with their links
# rewritten and the open pixel, their DKIM signatures pass three verifiers no
# one here wrote, each rewritten link gives a 302 to its original URL through
# a running outpost-httpd (and headless Chromium lands on the page of one)
# and the pixel a GIF; the text part, other senders' mail and a
# multipart/signed message are left as they were (TAP)
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
tracking_senders = example.com
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
[intake]
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

# a web server for the landing page the browser is to reach
mkdir -p "$WORLD_TMP/www"
printf '<!DOCTYPE html><title>Spring sale</title><p>Welcome\n' >"$WORLD_TMP/www/landing.html"
world_spawn www "$PYTHON" -m http.server 8081 --bind 127.0.0.2 --directory "$WORLD_TMP/www"

# the messages, made by Python's email package: text and HTML alternatives
msgdir=$WORLD_DIR/msgs
mkdir -p "$msgdir"
"$PYTHON" - "$msgdir" <<'PY'
import sys
from email.message import EmailMessage
from email.policy import SMTP
html = ('<html><body><h1>Spring sale \u2013 caf\u00e9</h1>\n'
        '<p><a href="https://shop.example/sale?utm=mail&amp;id=42">See the sale</a></p>\n'
        '<p><a href=\'http://shop.example/a\'>A</a> and <a href="mailto:help@example.com">help</a>\n'
        '<a data-notrack href="https://shop.example/keep">kept</a>\n'
        '<a href="http://127.0.0.2:8081/landing.html?utm_campaign=spring&amp;id=7">landing</a></p>\n'
        '</body></html>\n')
text = 'Spring sale: https://shop.example/sale?utm=mail&id=42\n'
def msg(name, frm, text_cte, html_cte, campaign=None):
    m = EmailMessage(policy=SMTP)
    m['From'] = frm
    m['To'] = 'someone@gmail.test'
    m['Subject'] = 'Sale ' + name
    m['Date'] = 'Sat, 28 Nov 2026 10:00:00 +0000'
    m['Message-ID'] = '<%s@track.test>' % name
    if campaign:
        m['X-Campaign-ID'] = campaign
    m.set_content(text, cte=text_cte)
    m.add_alternative(html, subtype='html', cte=html_cte)
    open('%s/%s' % (sys.argv[1], name), 'wb').write(m.as_bytes())
msg('qp', 'Shop <news@example.com>', 'base64', 'quoted-printable', 'spring-sale')
msg('b64', 'Shop <news@example.com>', 'quoted-printable', 'base64')
msg('other', 'Other <news@other.test>', 'quoted-printable', 'quoted-printable')
PY
# a multipart/signed message: a change would break its signature
printf 'From: news@example.com\r\nTo: someone@gmail.test\r\nSubject: signed\r\nMessage-ID: <signed@track.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol="application/pgp-signature"; boundary="b1"\r\n\r\n--b1\r\nContent-Type: text/html\r\n\r\n<a href="https://shop.example/signed">x</a>\r\n--b1\r\nContent-Type: application/pgp-signature\r\n\r\nSIG\r\n--b1--\r\n' \
    >"$msgdir/signed"

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
# part EML TYPE - the decoded text of the first part of TYPE
part() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys, email
from email import policy
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
for p in m.walk():
    if p.get_content_type() == sys.argv[2]:
        sys.stdout.write(p.get_content()); break
PY
}
# cte EML TYPE - the Content-Transfer-Encoding of the first part of TYPE
cte() {
    "$PYTHON" - "$1" "$2" <<'PY'
import sys, email
m = email.message_from_binary_file(open(sys.argv[1], 'rb'))
for p in m.walk():
    if p.get_content_type() == sys.argv[2]:
        print(p.get('Content-Transfer-Encoding', '')); break
PY
}
# hrefs - the links of HTML on stdin, in double or single quotes, entities decoded
hrefs() {
    grep -oE "href=(\"[^\"]*\"|'[^']*')" | sed -E "s/^href=.//; s/.\$//; s/&amp;/\\&/g"
}
# follow URL - the status and the Location of a GET, as "302 URL"
follow() {
    curl -s -o /dev/null -D "$WORLD_TMP/hdr" -w '%{http_code}' "$1"
    printf ' %s\n' "$(tr -d '\r' <"$WORLD_TMP/hdr" | sed -n 's/^[Ll]ocation: //p')"
}

n=0
for name in qp b64; do
    send_mail news@example.com "$name@gmail.test" --data "@$msgdir/$name" >/dev/null
    n=$((n + 1))
    ok "sink_wait gmail $n" "$name: delivered"
    eml=$(sink_find gmail "$name@gmail.test")
    html=$(part "$eml" text/html)
    want=$(grep -c . <<<"$(part "$msgdir/$name" text/html | hrefs)")
    is "$(cte "$eml" text/html)" "$(cte "$msgdir/$name" text/html)" "$name: the HTML part keeps its encoding"
    links=$(hrefs <<<"$html")
    is "$(grep -c '^http://127\.0\.0\.1:8480/c/' <<<"$links")" 3 "$name: the three http(s) links rewritten"
    is "$(grep -c . <<<"$links")" "$want" "$name: no link lost or added"
    ok 'grep -qx "mailto:help@example.com" <<<"$links"' "$name: the mailto: link left alone"
    ok 'grep -qx "https://shop.example/keep" <<<"$links"' "$name: the data-notrack link left alone"
    like "$html" '<img src="http://127\.0\.0\.1:8480/o/[A-Za-z0-9_-]+"[^>]*>' "$name: the open pixel"
    like "$html" 'caf'$'\xc3\xa9' "$name: the text around is intact (UTF-8 kept)"
    is "$(part "$eml" text/plain)" "$(part "$msgdir/$name" text/plain)" "$name: the text part unchanged"
    is "$(verify "$eml")" "2/2/ok/1" \
        "$name: two signatures: dkimpy and opendkim-testmsg pass them, Mail::DKIM the RSA one"
    set -- $(grep '/c/' <<<"$links")
    is "$(follow "$1")" "302 https://shop.example/sale?utm=mail&id=42" \
        "$name: the first link redirects to its original URL"
    is "$(follow "$2")" "302 http://shop.example/a" "$name: the second too"
    pixel=$(grep -o 'http://127\.0\.0\.1:8480/o/[A-Za-z0-9_-]*' <<<"$html")
    is "$(curl -s -o "$WORLD_TMP/gif" -w '%{http_code} %{content_type}' "$pixel")" "200 image/gif" \
        "$name: the pixel is a GIF"
done
ok 'grep -q "tracked: 3 links rewritten, open pixel added" $WORLD_DIR/log/milter.log' \
    "the milter logs what it did"
# an altered link is no redirect
altered=$(sed 's/\(.*\/c\/.\{30\}\)./\1A/' <<<"$1")
[ "$altered" = "$1" ] && altered=$(sed 's/\(.*\/c\/.\{30\}\)./\1B/' <<<"$1")
like "$(follow "$altered")" '^4[0-9][0-9] $' "an altered link is refused, no redirect"

# --- others are left alone
send_mail news@other.test other@gmail.test --data "@$msgdir/other" >/dev/null
ok 'sink_wait gmail 3' "a sender not opted in: delivered"
eml=$(sink_find gmail other@gmail.test)
is "$(part "$eml" text/html)" "$(part "$msgdir/other" text/html)" "its HTML unchanged"
is "$(verify "$eml")" "1/1/ok/1" "signed as before"
send_mail news@example.com signed@gmail.test --data "@$msgdir/signed" >/dev/null
ok 'sink_wait gmail 4' "a multipart/signed message: delivered"
eml=$(sink_find gmail signed@gmail.test)
like "$(cat "$eml")" 'href="https://shop\.example/signed"' "its link unchanged"
unlike "$(cat "$eml")" '/o/' "no pixel"
is "$(verify "$eml")" "2/2/ok/1" "signatures pass"
metric() {
    curl -s http://127.0.0.1:9431/metrics |
        awk -v m="outpost_milter_tracking_total{node=\"t1\",result=\"$1\"}" '$1 == m { print $2 }'
}
is "$(metric rewritten)/$(metric signed)" 2/1 "counted: two rewritten, one sent unchanged (signed)"

# --- a reload that turns tracking on: a session opened before it, for which the MTA
# was not asked to let the milter replace bodies, sends its mail unchanged, not 451
sed -i 's/^tracking_senders = .*/tracking_senders =/' "$conf"
world_kill milter KILL
rm -f "$WORLD_DIR/run/milter.sock"
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter starts again, tracking nobody"
go=$WORLD_TMP/reloaded
"$PYTHON" - "$SMTP_HOST" "$SMTP_PORT" "$go" "$msgdir/other" >"$WORLD_TMP/session.out" 2>&1 <<'PY' &
import os, smtplib, sys, time
host, port, go, msg = sys.argv[1:5]
s = smtplib.SMTP(host, int(port), timeout=30)
s.ehlo("client.test")
open(go + ".open", "w").close()
while not os.path.exists(go):
    time.sleep(0.1)
try:
    s.sendmail("news@other.test", ["late@gmail.test"], open(msg, "rb").read())
    print(250)
except smtplib.SMTPResponseException as e:
    print(e.smtp_code)
s.quit()
PY
session=$!
ok 'wait_until 10 test -e "$go.open"' "a session opens"
sed -i 's/^tracking_senders =.*/tracking_senders = other.test/' "$conf"
reloads() { grep -c "reloaded $conf" "$WORLD_DIR/log/milter.log"; }
reloaded_since() { [ "$(reloads)" -gt "$1" ]; }
n=$(reloads)
world_kill milter HUP
ok "wait_until 5 reloaded_since $n" "a reload adds other.test to tracking_senders"
touch "$go"
wait "$session"
is "$(cat "$WORLD_TMP/session.out")" 250 "the session opened before it has its message accepted"
ok 'sink_wait gmail 5' "and delivered"
eml=$(sink_find gmail late@gmail.test)
is "$(part "$eml" text/html)" "$(part "$msgdir/other" text/html)" "unchanged"
is "$(verify "$eml")" "1/1/ok/1" "signed"
send_mail news@other.test early@gmail.test --data "@$msgdir/other" >/dev/null
ok 'sink_wait gmail 6' "a session opened after the reload: delivered"
like "$(part "$(sink_find gmail early@gmail.test)" text/html)" '/c/' "tracked"

# --- a real browser follows the delivered message's third link to the landing page
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ] &&
    "$PYTHON" -c 'import selenium' 2>/dev/null; then
    export HOME=$WORLD_TMP/home
    mkdir -p "$HOME"
    landing=$(part "$(sink_find gmail b64@gmail.test)" text/html | hrefs | grep '/c/' | sed -n 3p)
    ok 'wait_until 10 curl -s -o /dev/null http://127.0.0.2:8081/landing.html' "the landing page is served"
    out=$("$PYTHON" "$OUTPOST_SRCDIR/tests/lib/browser.py" follow "$landing" 2>"$WORLD_TMP/browser.err")
    is "$?" 0 "Chromium followed the delivered message's tracked link" ||
        diag_file "$WORLD_TMP/browser.err"
    like "$out" 'URL http://127\.0\.0\.2:8081/landing\.html\?utm_campaign=spring&id=7' \
        "and landed on the original URL"
    like "$out" 'TITLE Spring sale' "whose page it shows"
else
    pass "# SKIP no chromium, chromedriver or python3-selenium: the browser part is left out"
fi
done_testing
