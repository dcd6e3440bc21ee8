#!/bin/bash
# httpd-unsub.sh - outpost-httpd and RFC 8058 one-click unsubscribe: a POST
# with the one-click body (urlencoded or multipart) suppresses the recipient
# in the sender's scope and answers 200 without a redirect; a GET shows the
# page and changes nothing; a forged or stale token changes nothing and is
# counted; a repeat is idempotent (counted once); with Redis down the answer
# is 503 with Retry-After and the same request works once Redis is back;
# limits: body size, unknown paths, methods (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
MINT=$OUTPOST_BUILDDIR/tests/lib/webtoken-mint
need_programs "$HTTPD_BIN" "$CTL_BIN" "$MINT" /usr/bin/curl

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
$REDIS_CONF_SERVER
command_timeout = 300ms
reconnect_min = 50ms
reconnect_max = 200ms
[intake]
secret_file = $secret
token_max_age = 30d
[httpd]
listen = 127.0.0.1:8480
metrics_listen = 127.0.0.1:9434
max_body = 1k
EOF
base=http://127.0.0.1:8480
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
mint() { "$MINT" "$secret" "$@"; }
suppressed() { ctl suppress check --sender "$2" "$1" >/dev/null; }
# http METHOD PATH [CURL-OPTION...] - prints the status; headers in $hdr, body in $body
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body
http() {
    local m=$1 p=$2; shift 2
    curl -s -o "$body" -D "$hdr" -w '%{http_code}' -X "$m" "$@" "$base$p"
}
# metric NAME LABELS - a sample of the metrics page ("route=\"x\",why=\"y\""; node first)
metric() {
    curl -s http://127.0.0.1:9434/metrics | awk -v m="$1{node=\"t1\"${2:+,}$2}" '$1 == m { print $2 }'
}

redis_start
"$HTTPD_BIN" -n -c "$conf" >/dev/null
is "$?" 0 "outpost-httpd -n accepts the configuration"
# under tests/lib/notify.py, systemd's side of Type=notify
world_spawn httpd "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/httpd.notify" \
    tcp:127.0.0.1:8480,tcp:127.0.0.1:9434 -- "$HTTPD_BIN" -f -c "$conf"
notes() { cat "$WORLD_DIR/log/httpd.notify" 2>/dev/null; }
ok 'wait_until 10 grep -q "^READY=1" "$WORLD_DIR/log/httpd.notify"' "READY=1 arrives"
like "$(notes | grep -m1 '^READY=1')" 'STATUS=listening on 127\.0\.0\.1:8480.*pid=main sockets=ok' \
    "once it listens, and its metrics too, from the main process"
ok 'wait_until 10 curl -s -o /dev/null $base/' "outpost-httpd listens"
hpid=$(pgrep -f "^$HTTPD_BIN -f -c $conf" | head -n1)
is "$(awk '/^Uid:/ { print $2, $3 }' "/proc/$hpid/status")" "$(id -u nobody) $(id -u nobody)" \
    "it runs as [general] user, not root"

alice=$(mint u 0 alice@gmail.test shop.test)

# --- GET shows the page and changes nothing
is "$(http GET "/u/$alice")" 200 "GET /u/: 200"
like "$(cat "$body")" 'alice@gmail.test' "the page names the address"
like "$(cat "$body")" '<strong>shop.test</strong>' "and the sender"
like "$(tr '\n' ' ' <"$body")" '<form method="post">.*name="List-Unsubscribe" value="One-Click".*<button type="submit"' \
    "and has a button that POSTs the one-click form"
unlike "$(cat "$body")" '<script' "without JavaScript"
is "$(http HEAD "/u/$alice" -I)" 200 "HEAD /u/: 200"
ok '! suppressed alice@gmail.test shop.test' "a GET (or HEAD) does not unsubscribe"

# --- a POST without the one-click body changes nothing
is "$(http POST "/u/$alice" -d 'List-Unsubscribe=Maybe')" 400 "POST with another value: 400"
is "$(http POST "/u/$alice" -H 'Content-Type: text/plain' -d 'hello')" 400 "POST with another body: 400"
ok '! suppressed alice@gmail.test shop.test' "still not suppressed"

# --- forged, stale: nothing happens, each is counted
forged=${alice:0:20}$(tr 'A-Za-z' 'B-ZAb-za' <<<"${alice:20:1}")${alice:21}
is "$(http POST "/u/$forged" -d 'List-Unsubscribe=One-Click')" 400 "a forged token: 400"
like "$(cat "$body")" 'not valid' "with a page that says so"
other=$(printf 'another-secret-0123456789\n' >"$WORLD_TMP/other"; chmod 600 "$WORLD_TMP/other"; "$MINT" "$WORLD_TMP/other" u 0 alice@gmail.test shop.test)
is "$(http POST "/u/$other" -d 'List-Unsubscribe=One-Click')" 400 "a token signed with another secret: 400"
stale=$(mint u $((40 * 86400)) alice@gmail.test shop.test)
is "$(http POST "/u/$stale" -d 'List-Unsubscribe=One-Click')" 410 "a stale token: 410"
like "$(cat "$body")" 'expired' "with a page that says so"
ok '! suppressed alice@gmail.test shop.test' "none of them unsubscribed anyone"
is "$(metric outpost_httpd_tokens_refused_total 'route="unsubscribe",why="forged"')" 2 \
    "both forged tokens are counted"
is "$(metric outpost_httpd_tokens_refused_total 'route="unsubscribe",why="stale"')" 1 \
    "the stale one too"

# --- the one-click POST: 200, no redirect, suppressed in the sender's scope
is "$(http POST "/u/$alice" -d 'List-Unsubscribe=One-Click')" 200 "POST one-click: 200"
unlike "$(cat "$hdr")" '^[Ll]ocation:' "no redirect"
out=$(ctl suppress check --sender shop.test alice@gmail.test); rc=$?
is "$rc" 0 "alice is suppressed for shop.test"
like "$out" 'unsubscribe, scope shop.test.*source one-click' "reason unsubscribe, source one-click"
ok '! suppressed alice@gmail.test other.test' "but not for another sender"
ok 'wait_until 5 stats_total_is unsubscribes 1' "the unsubscribe is counted"

# --- idempotent: the same request again is answered the same, counted once
is "$(http POST "/u/$alice" -d 'List-Unsubscribe=One-Click')" 200 "the same POST again: 200"
ok 'stats_total_is unsubscribes 1' "and not counted twice"
is "$(metric outpost_httpd_unsubscribes_total 'source="one-click",result="already"')" 1 \
    "it is seen as done already"

# --- suppressed already, but by another entry (a global soft bounce, which
# expires, or is removed): the unsubscribe is written in its own scope all
# the same, and outlives that entry
ivy=$(mint u 0 ivy@gmail.test shop.test)
ctl suppress add --reason soft-bounce --expires 7d ivy@gmail.test >/dev/null
ctl suppress add --reason complaint --scope other.test ivy@gmail.test >/dev/null
is "$(http POST "/u/$ivy" -d 'List-Unsubscribe=One-Click')" 200 "ivy, soft-bounced: POST one-click: 200"
ctl suppress remove ivy@gmail.test >/dev/null
out=$(ctl suppress check --sender shop.test ivy@gmail.test)
like "$out" 'unsubscribe, scope shop.test' "once the bounce has gone, ivy stays unsubscribed from shop.test"
is "$(http POST "/u/$ivy" -d 'List-Unsubscribe=One-Click')" 200 "ivy again: 200"
is "$(metric outpost_httpd_unsubscribes_total 'source="one-click",result="already"')" 2 \
    "now seen as done already"

# --- multipart/form-data, as RFC 8058 recommends
bob=$(mint u 0 bob@gmail.test shop.test)
is "$(http POST "/u/$bob" -F 'List-Unsubscribe=One-Click')" 200 "a multipart/form-data one-click POST: 200"
ok 'suppressed bob@gmail.test shop.test' "suppresses too"

# --- a body that comes in two reads, cut inside the value: the value is
# read whole (libmicrohttpd hands it over in pieces)
# post_cut TOKEN TYPE BODY CUT - POST BODY in two writes, cut at CUT; the status
post_cut() {
    "$PYTHON" - "$@" <<'PY'
import socket, sys, time
tok, ctype, body, cut = sys.argv[1], sys.argv[2], sys.argv[3].encode(), int(sys.argv[4])
c = socket.create_connection(("127.0.0.1", 8480), timeout=20)
c.sendall(b"POST /u/%s HTTP/1.1\r\nHost: t\r\nContent-Type: %s\r\nContent-Length: %d\r\n"
          b"Connection: close\r\n\r\n" % (tok.encode(), ctype.encode(), len(body)))
c.sendall(body[:cut])
time.sleep(0.3)
c.sendall(body[cut:])
r = b""
while True:
    d = c.recv(4096)
    if not d:
        break
    r += d
print(r.split(b" ")[1].decode())
PY
}
frank=$(mint u 0 frank@gmail.test shop.test)
is "$(post_cut "$frank" application/x-www-form-urlencoded 'List-Unsubscribe=One-Click' 21)" 200 \
    "an urlencoded one-click body in two reads, cut in its value: 200"
ok 'suppressed frank@gmail.test shop.test' "suppresses"
grace=$(mint u 0 grace@gmail.test shop.test)
mp=$'--XX\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--XX--\r\n'
is "$(post_cut "$grace" 'multipart/form-data; boundary=XX' "$mp" 70)" 200 \
    "a multipart one-click body in two reads, cut in its value: 200"
ok 'suppressed grace@gmail.test shop.test' "suppresses"
heidi=$(mint u 0 heidi@gmail.test shop.test)
is "$(post_cut "$heidi" application/x-www-form-urlencoded 'List-Unsubscribe=One-Clickety' 21)" 400 \
    "a longer value, in two reads: 400"
is "$(post_cut "$heidi" application/x-www-form-urlencoded 'List-Unsubscribe=One-Click&List-Unsubscribe=No' 30)" 400 \
    "the field given again with another value: 400"
ok '! suppressed heidi@gmail.test shop.test' "and not suppressed"

# --- the page's own form (urlencoded, via=page): source web
dave=$(mint u 0 dave@gmail.test shop.test)
is "$(http POST "/u/$dave" -d 'List-Unsubscribe=One-Click&via=page')" 200 "the page's form: 200"
like "$(cat "$body")" 'You are unsubscribed' "with the done page"
like "$(ctl suppress check --sender shop.test dave@gmail.test)" 'source web' "source web"

# --- limits
is "$(http POST "/u/$dave" -H 'Content-Type: text/plain' --data-binary "@$OUTPOST_SRCDIR/doc/DESIGN.md")" 413 \
    "a body over max_body: 413"
is "$(http GET /x/abc)" 404 "an unknown path: 404"
is "$(http GET /)" 404 "the root: 404"
is "$(http PUT "/u/$dave")" 405 "PUT: 405"
like "$(cat "$hdr")" 'Allow: GET, HEAD, POST' "with Allow"
is "$(http PUT "/u/$dave" -H 'Content-Type: text/plain' -d 'hello')" 405 "PUT with a body: 405"
is "$(http GET "/u/$dave" -H 'Content-Type: text/plain' -d 'hello')" 200 "GET /u/ with a body: the page"
is "$(http POST "/c/$dave")" 405 "POST to /c/: 405"

# --- Redis down: 503 with Retry-After, nothing lost; the retry works
carol=$(mint u 0 carol@gmail.test shop.test)
redis_stop
is "$(http POST "/u/$carol" -d 'List-Unsubscribe=One-Click')" 503 "Redis down: 503"
like "$(cat "$hdr")" 'Retry-After: [0-9]+' "with Retry-After"
like "$(cat "$body")" 'try again' "and a page that says to try again"
is "$(http GET "/u/$carol")" 200 "the page still shows (it needs no Redis)"
redis_restart
ok '! suppressed carol@gmail.test shop.test' "carol is not suppressed yet"
post_ok() { test "$(http POST "/u/$1" -d 'List-Unsubscribe=One-Click')" = 200; }
ok 'wait_until 10 post_ok $carol' \
    "once Redis is back the same request succeeds"
ok 'suppressed carol@gmail.test shop.test' "and carol is suppressed"
ok '[ "$(metric outpost_httpd_unsubscribes_total '"'"'source="one-click",result="redis_error"'"'"')" -ge 1 ]' \
    "the 503 is counted"

# --- limits of connections: a second instance on two addresses
sed -e 's/^listen = .*/listen = 127.0.0.1:8490, 127.0.0.3:8490/' -e 's/^metrics_listen = .*/metrics_listen =/' \
    -e 's/^max_body = 1k/max_body = 1k\nmax_connections_per_ip = 2\nrequest_timeout = 10s/' "$conf" >"$conf.2"
world_spawn httpd2 "$HTTPD_BIN" -f -c "$conf.2"
ok 'wait_until 10 curl -s -o /dev/null http://127.0.0.3:8490/' "it listens on each [httpd] listen address"
ok 'curl -s -o /dev/null http://127.0.0.1:8490/' "both of them"
# per_ip - three connections from one address: the third is closed at once,
# the first two still answer a request (request_timeout, 10s, is far away even on a loaded machine)
per_ip() {
    "$PYTHON" - <<'PY'
import socket, sys
a = [socket.create_connection(("127.0.0.1", 8490), timeout=20) for _ in range(2)]
third = socket.create_connection(("127.0.0.1", 8490), timeout=20)
if third.recv(1) != b"":
    sys.exit("the third connection was not closed")
for c in a:
    c.sendall(b"GET /x HTTP/1.1\r\nHost: t\r\n\r\n")
    if not c.recv(64).startswith(b"HTTP/1.1 404"):
        sys.exit("an earlier connection did not answer")
PY
}
ok 'per_ip' "max_connections_per_ip = 2: a third connection is closed, the two others are served"
# idle_closed - an unfinished request is closed by the server, in the end
idle_closed() {
    "$PYTHON" - <<'PY'
import socket, sys
c = socket.create_connection(("127.0.0.1", 8490))
c.sendall(b"GET /u/")          # a request that never ends
c.settimeout(60)
try:
    sys.exit(0 if c.recv(1) == b"" else 1)
except OSError:
    sys.exit(1)
PY
}
ok 'idle_closed' "an unfinished request is closed after request_timeout"
world_kill httpd2

pid=$(world_pid httpd)
kill -TERM "$pid"
# gone, or a zombie that the test's shell has not reaped yet
gone() { ! grep -qs '^State:[[:space:]]*[^Z]' "/proc/$1/status"; }
ok 'wait_until 10 gone $pid' "SIGTERM stops it"
like "$(cat "$WORLD_DIR/log/httpd.log")" 'stopping' "and it says so"
like "$(notes)" 'STOPPING=1' "STOPPING=1 on SIGTERM"
done_testing
