#!/bin/bash
# httpd-reload.sh - outpost-httpd reloads on SIGHUP: a token of a new secret is
# refused before and accepted after; a token of the old secret still verifies while
# it is a later line of the file, and not once it is gone; a secret file made
# world-readable or a syntax error is refused (logged, counted, the running secrets
# kept); a tenant and its API key added are accepted after the reload, refused
# before and after they are taken away; a changed listen is named with "restart"
# and the old address still answers; /o/ and /c/ requests across 20 reloads all
# get their answer, none an error or a reset connection (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
MINT=$OUTPOST_BUILDDIR/tests/lib/webtoken-mint
need_programs "$HTTPD_BIN" "$CTL_BIN" "$MINT" /usr/bin/curl

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
# new_secret FILE - a random secret of its own, alone in FILE (mode 600)
new_secret() {
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$1"
    echo >>"$1"
    chmod 600 "$1"
}
new_secret "$WORLD_TMP/old"
new_secret "$WORLD_TMP/new"
new_secret "$WORLD_TMP/third"
cp "$WORLD_TMP/old" "$secret"
chown nobody "$secret"
chmod 600 "$secret"
write_conf() {
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
listen = ${LISTEN:-127.0.0.1:8480}
api_listen = 127.0.0.1:8481
metrics_listen = 127.0.0.1:9434
[tenant shop]
domains = shop.test
api_rate = 1000/s
api_burst = 1000
EOF
    [ -z "$TENANT_NEW" ] || printf '[tenant new]\ndomains = new.test\napi_rate = 1000/s\napi_burst = 1000\n' >>"$conf"
}
write_conf
base=http://127.0.0.1:8480
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# status PATH [CURL-OPTION...] - the HTTP status of a GET
status() { local p=$1; shift; curl -s -o /dev/null -w '%{http_code}' "$@" "$base$p"; }
api() { curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $1" "http://127.0.0.1:8481$2"; }
metric() {
    curl -s http://127.0.0.1:9434/metrics | awk -v m="$1{node=\"t1\"${2:+,}$2}" '$1 == m { print $2 }'
}
reloads() { metric outpost_httpd_reloads_total "result=\"$1\""; }
reloads_over() { [ "$(reloads "$1")" -gt "$2" ]; }
# hup RESULT - SIGHUP, then wait until the reload is counted as RESULT (done, refused)
hup() {
    local before
    before=$(reloads "$1")
    kill -HUP "$hpid"
    wait_until 10 reloads_over "$1" "$before"
}
log() { cat "$WORLD_DIR/log/httpd.log"; }
notes() { cat "$WORLD_DIR/log/httpd.notify" 2>/dev/null; }

redis_start
world_spawn httpd "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_DIR/log/httpd.notify" \
    tcp:127.0.0.1:8480 -- "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 grep -qs "^READY=1" "$WORLD_DIR/log/httpd.notify"' "outpost-httpd is ready"
hpid=$(pgrep -f "^$HTTPD_BIN -f -c $conf" | head -n1)
is "$(reloads done) $(reloads refused)" "0 0" "no reload counted yet"

# ---------------------------------------------------------------- secret rotation
tok_old=$("$MINT" "$WORLD_TMP/old" u 0 alice@gmail.test shop.test)
tok_new=$("$MINT" "$WORLD_TMP/new" u 0 alice@gmail.test shop.test)
is "$(status "/u/$tok_old")" 200 "a token of the running secret is accepted"
is "$(status "/u/$tok_new")" 400 "a token of a new secret is refused before the reload"
cat "$WORLD_TMP/new" "$WORLD_TMP/old" >"$secret"
is "$(status "/u/$tok_new")" 400 "and still refused with the file changed but no SIGHUP"
ok 'hup done' "SIGHUP: a reload, counted as done"
is "$(status "/u/$tok_new")" 200 "after it, the token of the new secret is accepted"
is "$(status "/u/$tok_old")" 200 "and the old secret, now the second line, still verifies"
like "$(log)" 'reloaded .*outpost\.conf: 2 secrets' "the reload is logged with its secrets"
is "$(notes | grep -E '^(READY|RELOADING)=1' | cut -d' ' -f1 | tr '\n' ' ')" "READY=1 RELOADING=1 READY=1 " \
    "RELOADING=1, then READY=1 (sd_notify)"
like "$(notes | tail -n1)" 'STATUS=reloaded: 2 secrets' "with a status that says so"
# a click token of the new secret redirects; what the milter signs now verifies here
click=$("$MINT" "$secret" c 0 bob@gmail.test shop.test m1 spring 0 https://shop.test/sale)
is "$(status "/c/$click")" 302 "a click token signed with the file's first line redirects"
cp "$WORLD_TMP/new" "$secret"
is "$(status "/u/$tok_old")" 200 "the old line removed: still accepted until the SIGHUP"
ok 'hup done' "SIGHUP"
is "$(status "/u/$tok_old")" 400 "after it, the old secret's token is refused"
is "$(status "/u/$tok_new")" 200 "and the new one's accepted"

# ---------------------------------------------------------------- broken configurations
chmod 644 "$secret"
ok 'hup refused' "a world-readable secret file: the reload is refused (counted)"
like "$(log)" 'reload refused, keeping the running configuration: .*intake\.secret' \
    "the reason is logged, naming the file"
like "$(notes | tail -n1)" '^READY=1 \| STATUS=reload refused: ' "READY=1 with the refusal as status"
is "$(status "/u/$tok_new")" 200 "the running secrets still serve"
chmod 600 "$secret"
cp "$conf" "$WORLD_TMP/conf.good"
printf '[httpd\nlisten 127.0.0.1:1\n' >>"$conf"
ok 'hup refused' "a syntax error in outpost.conf: refused too"
like "$(log | grep 'reload refused' | tail -n1)" 'outpost\.conf:[0-9]+' \
    "the log names the file and line"
is "$(status "/u/$tok_new")" 200 "and outpost-httpd still serves with its secrets"
is "$(reloads refused)" 2 "outpost_httpd_reloads_total{result=\"refused\"} counts both"
ok '[ -d /proc/$hpid ]' "it is still running"
cp "$WORLD_TMP/conf.good" "$conf"

# ---------------------------------------------------------------- tenants and API keys
keyShop=$(ctl apikey create shop 2>/dev/null)
is "$(api "$keyShop" /v1/stats)" 200 "a key of a configured tenant is accepted"
TENANT_NEW=1 write_conf
keyNew=$(ctl apikey create new 2>/dev/null)
like "$keyNew" '^op_' "outpostctl makes a key for a tenant just added to outpost.conf"
is "$(api "$keyNew" /v1/stats)" 401 "the API refuses it before the reload"
ok 'hup done' "SIGHUP"
is "$(api "$keyNew" /v1/stats)" 200 "and accepts it after"
is "$(api "$keyShop" /v1/stats)" 200 "the other tenant's key still works"
write_conf
ok 'hup done' "the tenant taken away again: SIGHUP"
is "$(api "$keyNew" /v1/stats)" 401 "its key is refused again"

# ---------------------------------------------------------------- settings fixed at start
LISTEN=127.0.0.1:8482 write_conf
ok 'hup done' "a changed listen: the reload is still done"
like "$(log)" 'reload: \[httpd\] listen changed: restart outpost-httpd to apply it' \
    "and the log names the key and says to restart"
is "$(status "/u/$tok_new")" 200 "the old address still answers"
isnt "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:8482/u/$tok_new")" 200 \
    "the new one is not listened on"
write_conf
ok 'hup done' "back to the old listen"

# ---------------------------------------------------------------- load across reloads
# a client sends /o/ and /c/ requests, on one kept-alive connection and on new
# ones, until told to stop; it writes how many it made as it goes, and at the
# end every status other than the expected one and every error
open=$("$MINT" "$WORLD_TMP/new" o 0 carol@gmail.test shop.test m2 spring 0 "")
click=$("$MINT" "$WORLD_TMP/new" c 0 carol@gmail.test shop.test m2 spring 1 https://shop.test/x)
stop=$WORLD_TMP/stop progress=$WORLD_TMP/progress result=$WORLD_TMP/result
"$PYTHON" - "$open" "$click" "$stop" "$progress" "$result" <<'PY' &
import http.client, os, sys
opn, clk, stop, progress, result = sys.argv[1:]
n, bad = 0, []
keep = http.client.HTTPConnection("127.0.0.1", 8480, timeout=20)
while not os.path.exists(stop):
    for path, want in (("/o/" + opn, 200), ("/c/" + clk, 302)):
        for c in (keep, http.client.HTTPConnection("127.0.0.1", 8480, timeout=20)):
            try:
                c.request("GET", path)
                r = c.getresponse()
                r.read()
                if r.status != want:
                    bad.append("%s: %d" % (path[:3], r.status))
            except Exception as e:
                bad.append("%s: %r" % (path[:3], e))
                if c is keep:
                    keep = http.client.HTTPConnection("127.0.0.1", 8480, timeout=20)
            if c is not keep:
                c.close()
            n += 1
    if n % 40 == 0:
        with open(progress + ".tmp", "w") as f:
            f.write("%d\n" % n)
        os.rename(progress + ".tmp", progress)
with open(result, "w") as f:
    f.write("%d\n" % n)
    f.write("".join(b + "\n" for b in bad))
PY
client=$!
made() { cat "$progress" 2>/dev/null || echo 0; }
made_over() { [ "$(made)" -gt "$1" ]; }
ok 'wait_until 20 made_over 0' "the client runs"
fails=0
for i in $(seq 1 20); do
    # the secrets change each time: a third one comes and goes, the new one stays
    if ((i % 2)); then cat "$WORLD_TMP/new" "$WORLD_TMP/third" >"$secret"; else cp "$WORLD_TMP/new" "$secret"; fi
    n=$(made)
    wait_until 20 made_over "$n" || fails=$((fails + 1))	# requests between reloads
    hup done || fails=$((fails + 1))
done
is "$fails" 0 "20 reloads, each done while requests went on"
n=$(made)
ok 'wait_until 20 made_over $n' "requests go on after the last one"
touch "$stop"
wait "$client"
is "$?" 0 "the client ends"
ok '[ "$(head -n1 "$result")" -ge 80 ]' "it made its requests ($(head -n1 "$result"))"
is "$(tail -n +2 "$result" | head -n5)" "" "every one got its answer: 200 for /o/, 302 for /c/, no reset"
is "$(reloads done)" 26 "every reload done is counted"
ok '[ -d /proc/$hpid ]' "outpost-httpd is still running"
unlike "$(log)" 'AddressSanitizer|runtime error' "no sanitizer report"
done_testing
