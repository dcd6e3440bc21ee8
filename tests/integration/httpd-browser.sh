#!/bin/bash
# httpd-browser.sh - a real browser against outpost-httpd: headless Chromium
# (chromium-driver, python3-selenium) opens an unsubscribe link, sees the
# page (sender and address), presses its button, sees the done page, and the
# recipient is suppressed; a tracked link lands on the original URL, served
# by a web server in the namespace.  Screenshots of both unsubscribe pages
# are kept beside the test's log, in httpd-browser.d/ (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
MINT=$OUTPOST_BUILDDIR/tests/lib/webtoken-mint
need_programs "$HTTPD_BIN" "$CTL_BIN" "$MINT" /usr/bin/chromium /usr/bin/chromedriver
"$PYTHON" -c 'import selenium' 2>/dev/null || skip_all "python3-selenium is not installed"
art=${ARTIFACT_DIR:-$OUTPOST_BUILDDIR/tests/integration/httpd-browser.d}
rm -rf "$art"
mkdir -p "$art"

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
cat >"$conf" <<EOF
[general]
user = nobody
node = t1
[redis]
server = unix:$REDIS_SOCK
[intake]
secret_file = $secret
[httpd]
listen = 127.0.0.1:8480
metrics_listen = 127.0.0.1:9434
EOF
base=http://127.0.0.1:8480
export HOME=$WORLD_TMP/home
mkdir -p "$HOME"
mint() { "$MINT" "$secret" "$@"; }
browser() { "$PYTHON" "$OUTPOST_SRCDIR/tests/lib/browser.py" "$@" 2>"$WORLD_TMP/browser.err"; }

redis_start
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null $base/' "outpost-httpd listens"

# --- the unsubscribe page, its button, the done page
tok=$(mint u 0 'erin.o+news@gmail.test' shop.test)
out=$(browser unsub "$base/u/$tok" "$art"); rc=$?
is "$rc" 0 "Chromium opened the page and pressed the button" || diag_file "$WORLD_TMP/browser.err"
page=$(sed -n 1,2p <<<"$out") done_=$(sed -n 3,4p <<<"$out")
like "$page" 'TITLE Unsubscribe' "the page's title"
like "$page" 'Stop mail from shop\.test to erin\.o\+news@gmail\.test\?' "it names the sender and the address"
like "$done_" 'TITLE You are unsubscribed' "the done page follows the button"
like "$done_" 'shop\.test will send no more mail to erin\.o\+news@gmail\.test' "and says what was done"
out=$("$CTL_BIN" -c "$conf" suppress check --sender shop.test 'erin.o+news@gmail.test'); rc=$?
is "$rc" 0 "the recipient is suppressed (outpostctl suppress check)"
like "$out" 'unsubscribe, scope shop\.test.*source web' "by the page (source web), in the sender's scope"
ok 'test -s "$art/page.png" && test -s "$art/done.png"' "screenshots kept in $art"
is "$(head -c 8 "$art/page.png" | od -An -c | tr -d ' ')" '211PNG\r\n032\n' "they are PNG images"

# --- a tracked link lands on the original page
mkdir -p "$WORLD_TMP/www"
printf '<!DOCTYPE html><title>Spring sale</title><p>Welcome\n' >"$WORLD_TMP/www/landing.html"
world_spawn www "$PYTHON" -m http.server 8081 --bind 127.0.0.2 --directory "$WORLD_TMP/www"
ok 'wait_until 10 curl -s -o /dev/null http://127.0.0.2:8081/landing.html' "a web server for the landing page"
url='http://127.0.0.2:8081/landing.html?utm_campaign=spring&id=7'
c=$(mint c 3600 'erin.o+news@gmail.test' shop.test '<m1@shop.test>' spring 0 "$url")
out=$(browser follow "$base/c/$c"); rc=$?
is "$rc" 0 "Chromium followed the tracked link" || diag_file "$WORLD_TMP/browser.err"
like "$out" "URL $(sed 's/[.?]/\\&/g' <<<"$url")" "and landed on the original URL"
like "$out" 'TITLE Spring sale' "whose page it shows"
machine_clicks_are() { test "$(stats_field "$(stats_json sender)" shop.test clicks_machine)" = "$1"; }
ok 'wait_until 10 machine_clicks_are 1' \
    "a headless browser's click counts as a machine's"
done_testing
