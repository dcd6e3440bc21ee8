#!/bin/bash
# api-authlimit.sh - the platform API limits failed authentications per client
# address: wrong keys get 401 until [httpd] api_auth_burst, then every request from
# that address gets 429 with Retry-After and rate_limited (a good key too, a spoofed
# X-Forwarded-For from an untrusted peer too) without a key lookup in Redis (INFO
# commandstats of HGETALL stands still), while another address is served; behind a
# trusted proxy the last X-Forwarded-For address counts (of the last such line: a
# client's own line first changes nothing), IPv6 per /64; logged once; the
# metrics count each 401 and each 429; a reload changes the burst, a quick rate lets
# the address try again, a burst of 0 lifts the limit (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
need_programs "$HTTPD_BIN" "$CTL_BIN" /usr/bin/curl
"$PYTHON" -c 'import jsonschema, yaml' 2>/dev/null ||
    skip_all "python3-jsonschema and python3-yaml are needed (tests/install-deps.sh)"

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
# write_conf RATE BURST - the configuration with [httpd] api_auth_failures, api_auth_burst
write_conf() {
    cat >"$conf" <<EOF
[general]
user = nobody
node = t1
[redis]
$REDIS_CONF_SERVER
[intake]
secret_file = $secret
[httpd]
listen = 127.0.0.1:8480
api_listen = 127.0.0.1:8481
metrics_listen = 127.0.0.1:9434
trusted_proxies = 127.0.0.1
api_auth_failures = $1
api_auth_burst = $2
[tenant shop]
domains = shop.test
api_rate = 1000/s
api_burst = 1000
EOF
}
write_conf 1/h 5
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
base=http://127.0.0.1:8481
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body answers=$WORLD_TMP/answers.tsv
: >"$answers"
n401=0 n429=0 nans=0
# req FROM KEY [XFF] - GET /v1/stats from the address FROM with KEY ("-": none) and
# X-Forwarded-For XFF (after a line $xff_first, when set): the status in $st, headers
# in $hdr, body in $body; counted, and kept for the OpenAPI check
req() {
    local from=$1 key=$2 xff=${3:-} args=()
    [ "$key" != - ] && args+=(-H "Authorization: Bearer $key")
    [ -n "${xff_first:-}" ] && args+=(-H "X-Forwarded-For: $xff_first")
    [ -n "$xff" ] && args+=(-H "X-Forwarded-For: $xff")
    st=$(curl -s --interface "$from" -o "$body" -D "$hdr" -w '%{http_code}' "${args[@]}" \
        "$base/v1/stats")
    case $st in 401) n401=$((n401 + 1)) ;; 429) n429=$((n429 + 1)) ;; esac
    nans=$((nans + 1))
    cp "$hdr" "$WORLD_TMP/h.$nans"
    cp "$body" "$WORLD_TMP/b.$nans"
    printf 'GET\t/v1/stats\t%s\t%s\t%s\n' "$st" "$WORLD_TMP/h.$nans" "$WORLD_TMP/b.$nans" >>"$answers"
}
# reqs N FROM KEY [XFF] - N requests; their statuses, space separated, in $sts
reqs() {
    local n=$1 i; shift
    sts=""
    for ((i = 0; i < n; i++)); do req "$@"; sts="$sts${sts:+ }$st"; done
}
header() { tr -d '\r' <"$hdr" | awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" 'index(tolower($0), h ":") == 1 { sub(/^[^:]*: */, ""); print }'; }
j() { "$PYTHON" -c "import json,sys; d=json.load(open('$body')); print($1)"; }
# lookups - the HGETALL calls Redis has served (apikey_get reads a key with one)
lookups() {
    redis_cli INFO commandstats | tr -d '\r' |
        awk -F'[:=,]' '$1 == "cmdstat_hgetall" { n = $3 } END { print n + 0 }'
}
metric() {
    curl -s http://127.0.0.1:9434/metrics | awk -v m="$1{node=\"t1\"${2:+,}$2}" '$1 == m { print $2 }'
}
reloads_over() { [ "$(metric outpost_httpd_reloads_total 'result="done"')" -gt "$1" ]; }
# hup - SIGHUP, and wait until the reload is done
hup() {
    local before
    before=$(metric outpost_httpd_reloads_total 'result="done"')
    world_kill httpd HUP
    wait_until 10 reloads_over "$before"
}
wrong="op_0123456789abcdef_$(printf '%064d' 0)"

redis_start
"$HTTPD_BIN" -n -c "$conf" >/dev/null
is "$?" 0 "outpost-httpd -n accepts api_auth_failures and api_auth_burst"
write_conf 10/s -1
"$HTTPD_BIN" -n -c "$conf" >/dev/null 2>&1
is "$?" 1 "a negative api_auth_burst is refused"
write_conf 0/m 5
"$HTTPD_BIN" -n -c "$conf" >/dev/null 2>&1
is "$?" 1 "so is a rate of 0"
write_conf 1/h 5
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null $base/' "the API listens"
key=$(ctl apikey create shop 2>/dev/null)
like "$key" '^op_' "a key for tenant shop"
is "$(metric outpost_httpd_api_auth_failures_total) $(metric outpost_httpd_api_auth_limited_total)" \
    "0 0" "the metrics are there, at zero"

# ---------------------------------------------------------------- the peer's address
before=$(lookups)
reqs 5 127.0.0.2 "$wrong"
is "$sts" "401 401 401 401 401" "127.0.0.2: a well-formed unknown key, 5 times (the burst): 401 each"
after=$(lookups)
ok '[ "$after" -ge $((before + 5)) ]' "each of them was looked up in Redis ($before -> $after HGETALL)"
req 127.0.0.2 "$wrong"
is "$st" 429 "the 6th: 429"
ra=$(header Retry-After)
ok '[ "${ra:-0}" -ge 1 ]' "with Retry-After ($ra s)"
is "$(j 'd["error"]["code"]')" rate_limited "error code rate_limited"
like "$(j 'd["error"]["message"]')" "too many failed authentications from this address" "and says why"
reqs 10 127.0.0.2 "$wrong"
is "$sts" "$(printf '429 %.0s' {1..10} | sed 's/ $//')" "10 more wrong keys: 429 each"
req 127.0.0.2 "$key"
is "$st" 429 "a good key from that address: 429 too (the limit cannot tell)"
req 127.0.0.2 -
is "$st" 429 "no key: 429"
req 127.0.0.2 "$key" 198.51.100.1
is "$st" 429 "an X-Forwarded-For from a peer not in trusted_proxies changes nothing"
is "$(lookups)" "$after" "none of the refused requests was looked up in Redis"
req 127.0.0.1 "$key"
is "$st" 200 "a good key from another address (127.0.0.1): 200"
ok 'wait_until 5 grep -q "too many failed authentications from 127.0.0.2" "$WORLD_DIR/log/httpd.log"' \
    "the address going over is logged"
is "$(grep -c "too many failed authentications from 127.0.0.2" "$WORLD_DIR/log/httpd.log")" 1 \
    "once, however many requests it sent since"

# ---------------------------------------------------------------- behind a trusted proxy
reqs 3 127.0.0.1 "$wrong" "192.0.2.1, 2001:db8:1:2::1"
reqs 2 127.0.0.1 - "2001:db8:1:2::2"
is "$n401" 10 "from the proxy for 2001:db8:1:2::1 and ::2 (the last X-Forwarded-For address): 5 more 401s"
req 127.0.0.1 "$key" "2001:db8:1:2:ffff:ffff:ffff:ffff"
is "$st" 429 "another address of that /64, with a good key: 429"
req 127.0.0.1 "$key" "2001:db8:1:3::1"
is "$st" 200 "the next /64: 200"
# a proxy that adds a line of its own (HAProxy's option forwardfor) keeps the client's
xff_first=192.0.2.77 req 127.0.0.1 "$key" "2001:db8:1:2::9"
is "$st" 429 "the client's own X-Forwarded-For line, then the proxy's: the proxy's counts (429)"
xff_first=2001:db8:1:2::9 req 127.0.0.1 "$key" "2001:db8:1:3::1"
is "$st" 200 "and a client cannot make itself another by its own line first (200)"
xff_first=, req 127.0.0.1 "$key" "2001:db8:1:2::9"
is "$st" 429 "nor the proxy, by an empty one (429)"
req 127.0.0.1 "$key" "192.0.2.1"
is "$st" 200 "the address before the last in X-Forwarded-For is not the client: 200"
req 127.0.0.1 "$key"
is "$st" 200 "nor is the proxy itself limited"

# ---------------------------------------------------------------- metrics
is "$(metric outpost_httpd_api_auth_failures_total)" "$n401" "outpost_httpd_api_auth_failures_total: the $n401 401s"
is "$(metric outpost_httpd_api_auth_limited_total)" "$n429" "outpost_httpd_api_auth_limited_total: the $n429 429s"
is "$(metric outpost_httpd_api_requests_total 'endpoint="stats",status="429"')" "$n429" \
    "and each 429 is one of the API's answers"

# ---------------------------------------------------------------- reloads
write_conf 1/h 2
ok 'hup' "SIGHUP with api_auth_burst = 2"
reqs 3 127.0.0.3 "$wrong"
is "$sts" "401 401 429" "127.0.0.3: 2 failures, then 429"
write_conf 1/s 2
ok 'hup' "SIGHUP with api_auth_failures = 1/s"
for ((i = 0; i < 30; i++)); do req 127.0.0.4 "$wrong"; [ "$st" = 429 ] && break; done
is "$st" 429 "127.0.0.4: wrong keys until 429 ($i 401s)"
keyok() { req 127.0.0.4 "$key"; [ "$st" = 200 ]; }
ok 'wait_until 10 keyok' "a second later its good key is served: the limit recovers"
req 127.0.0.2 "$key"
is "$st" 429 "127.0.0.2, charged at 1/h, is still limited"
write_conf 1/h 0
ok 'hup' "SIGHUP with api_auth_burst = 0"
req 127.0.0.2 "$key"
is "$st" 200 "the limit is off: 127.0.0.2's good key is served"
reqs 3 127.0.0.2 "$wrong"
is "$sts" "401 401 401" "and wrong keys get 401, never 429"

# ---------------------------------------------------------------- the document
out=$("$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$answers" 2>&1)
is "$?" 0 "every answer is valid against doc/openapi.yaml"
like "$out" "^[0-9]+ answers valid$" "$(head -n 20 <<<"$out")"

done_testing
