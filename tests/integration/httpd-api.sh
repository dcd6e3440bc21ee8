#!/bin/bash
# httpd-api.sh - the platform API of outpost-httpd (/v1/ on [httpd] api_listen) with
# keys from "outpostctl apikey": 401 for no, malformed, unknown, wrong or revoked keys;
# 403 out of scope or domain; suppressions read, stored (the milter of the private
# Postfix then refuses the recipient), deleted, listed page by page and imported (CSV
# and JSON lines, streamed in batches, the CLI's validation); stats in the shape of
# "outpostctl stats --json" for the key's domains only; tenant isolation, one check
# per endpoint; 429 with Retry-After past the burst; 503 with Retry-After while Redis
# is down; every answer valid against doc/openapi.yaml (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
need_programs "$HTTPD_BIN" "$CTL_BIN" "$MILTER_BIN" /usr/bin/curl
"$PYTHON" -c 'import jsonschema, yaml' 2>/dev/null ||
    skip_all "python3-jsonschema and python3-yaml are needed (tests/install-deps.sh)"

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
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
action = reject
on_redis_error = tempfail
[intake]
secret_file = $secret
[httpd]
listen = 127.0.0.1:8480
api_listen = 127.0.0.1:8481
metrics_listen = 127.0.0.1:9434
max_body = 1k
api_import_max = 200k
[tenant shop]
domains = shop.test, shop2.test
api_rate = 1000/s
api_burst = 1000
[tenant other]
domains = other.test
api_rate = 1000/s
api_burst = 1000
[tenant slow]
domains = slow.test
api_rate = 1/h
api_burst = 3
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
suppressed() { ctl suppress check --sender "$2" "$1" >/dev/null; }
base=http://127.0.0.1:8481
# api KEY METHOD PATH [CURL-OPTION...] - prints the status; headers in $hdr, body in
# $body; each answer is kept for the OpenAPI check at the end (KEY "-": none)
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body answers=$WORLD_TMP/answers.tsv
: >"$answers"
api() {
    local key=$1 m=$2 p=$3 st n; shift 3
    local auth=(); [ "$key" != - ] && auth=(-H "Authorization: Bearer $key")
    if [ "$m" = HEAD ]; then set -- -I "$@"; fi
    : >"$body"
    st=$(curl -s -o "$body" -D "$hdr" -w '%{http_code}' -X "$m" "${auth[@]}" "$@" "$base$p")
    n=$(($(wc -l <"$answers") + 1))	# api runs in $(...): no counter survives it
    cp "$hdr" "$WORLD_TMP/h.$n"
    cp "$body" "$WORLD_TMP/b.$n"
    printf '%s\t%s\t%s\t%s\t%s\n' "$m" "$p" "$st" "$WORLD_TMP/h.$n" "$WORLD_TMP/b.$n" >>"$answers"
    echo "$st"
}
# j EXPR - a Python expression over the last body, d
j() { "$PYTHON" -c "import json,sys; d=json.load(open('$body')); print($1)"; }
header() { tr -d '\r' <"$hdr" | awk -v h="$(echo "$1" | tr 'A-Z' 'a-z')" 'index(tolower($0), h ":") == 1 { sub(/^[^:]*: */, ""); print }'; }
milter_start() {
    rm -f "$WORLD_DIR/run/milter.sock"
    world_spawn milter "$MILTER_BIN" -f -c "$conf"
    wait_until 5 test -S "$WORLD_DIR/run/milter.sock"
}
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11
ok 'milter_start' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "milter_default_action = tempfail"
postfix_start
"$HTTPD_BIN" -n -c "$conf" >/dev/null
is "$?" 0 "outpost-httpd -n accepts api_listen and the tenants"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null $base/' "the API listens on api_listen"

# ---------------------------------------------------------------- keys
keyA=$(ctl apikey create shop 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 0 "apikey create shop: exit 0"
like "$keyA" '^op_[0-9a-f]{16}_[0-9a-f]{64}$' "the key is printed once, shaped op_ID_SECRET"
idA=${keyA:3:16}
like "$(cat "$WORLD_TMP/err")" "key $idA for tenant shop: scopes send,suppress,stats,events, domains shop.test,shop2.test" \
    "its ID, default scopes and all the tenant's domains on stderr"
keyA1=$(ctl apikey create shop --domains shop.test --scopes suppress,stats 2>/dev/null)
keyStats=$(ctl apikey create shop --domains shop.test --scopes stats 2>/dev/null)
keyB=$(ctl apikey create other 2>/dev/null)
keySlow=$(ctl apikey create slow 2>/dev/null)
keyGone=$(ctl apikey create shop 2>/dev/null)
ctl apikey create shop --domains other.test >/dev/null 2>&1
is "$?" 1 "a domain of another tenant is refused (exit 1)"
ctl apikey create shop --scopes admin >/dev/null 2>&1
is "$?" 2 "an unknown scope is a usage error (exit 2)"
ctl apikey create nosuch >/dev/null 2>&1
is "$?" 1 "an unknown tenant is refused"
list=$(ctl apikey list shop)
is "$(grep -c . <<<"$list")" 5 "apikey list shop: a header and its four keys"
unlike "$list" "${keyA:20}" "the list never shows a secret"
is "$(redis_cli --scan | while read -r k; do redis_cli DUMP "$k"; done | grep -c "${keyA:20:40}")" 0 \
    "nor does Redis hold it"
is "$(redis_cli HGET "outpost:{api}:key:$idA" hash)" "$(printf %s "$keyA" | sha256sum | cut -d' ' -f1)" \
    "Redis keeps the key's SHA-256 under the {api} hash tag"
is "$(ctl apikey list --json | "$PYTHON" -c 'import json,sys; print(sorted(set(k["tenant"] for k in json.load(sys.stdin)["keys"])))')" \
    "['other', 'shop', 'slow']" "apikey list --json: every tenant's keys under keys"
idGone=${keyGone:3:16}
is "$(ctl apikey revoke "$idGone")" "revoked $idGone" "apikey revoke ID"
ctl apikey revoke "$idGone" 2>/dev/null
is "$?" 1 "revoking it again: no such key, exit 1"

# ---------------------------------------------------------------- 401
is "$(api - GET /v1/suppressions/a@gmail.test)" 401 "no Authorization header: 401"
is "$(j 'd["error"]["code"]')" unauthorized "as a JSON error"
is "$(api "not-a-key" GET /v1/suppressions/a@gmail.test)" 401 "a malformed key: 401"
is "$(api "op_0123456789abcdef_$(printf '%064d' 0)" GET /v1/suppressions/a@gmail.test)" 401 \
    "a well-formed unknown key: 401"
is "$(api "${keyA:0:20}$(printf '%064d' 0)" GET /v1/suppressions/a@gmail.test)" 401 \
    "a known ID with a wrong secret: 401"
is "$(api "$keyGone" GET /v1/suppressions/a@gmail.test)" 401 "a revoked key: 401"
like "$(j 'd["error"]["message"]')" "revoked" "and says unknown or revoked"
# a stranger's POST /v1/messages: its key is read when its body begins, not once
# api_max_message bytes of it (10M a connection by default) are kept
lookups() {
    redis_cli INFO commandstats | tr -d '\r' |
        awk -F'[:=,]' '$1 == "cmdstat_hgetall" { n = $3 } END { print n + 0 }'
}
if redis_is_cluster; then
    skip "a stranger's message body waits for its key" "INFO commandstats is a node's"
    skip "a stranger's import waits for its key" "INFO commandstats is a node's"
else
    before=$(lookups)
    "$PYTHON" - "$keyGone" <<'EOP' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 8481))
s.sendall(b"POST /v1/messages HTTP/1.1\r\nHost: relay.test\r\nAuthorization: Bearer "
          + sys.argv[1].encode() + b"\r\nContent-Length: 5000000\r\n\r\n{" + b" " * 65535)
time.sleep(60)                  # the rest never comes
EOP
    slow_pid=$!
    looked_up() { [ "$(lookups)" -gt "$before" ]; }
    ok 'wait_until 5 looked_up' \
        "a stranger's message body, 64k of 5M sent: its key is read already"
    kill "$slow_pid" 2>/dev/null; wait "$slow_pid" 2>/dev/null
    # the same for an import whose rows are invalid: none waits for a valid one
    before=$(lookups)
    "$PYTHON" - "$keyGone" <<'EOP' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", 8481))
s.sendall(b"POST /v1/suppressions:import HTTP/1.1\r\nHost: relay.test\r\nAuthorization: Bearer "
          + sys.argv[1].encode() + b"\r\nContent-Length: 5000000\r\n\r\n"
          + b"not an address,manual,,,\n" * 2000)
time.sleep(60)                  # the rest never comes
EOP
    slow_pid=$!
    ok 'wait_until 5 looked_up' "a stranger's import of invalid rows: its key is read already"
    kill "$slow_pid" 2>/dev/null; wait "$slow_pid" 2>/dev/null
fi

# ---------------------------------------------------------------- routes
is "$(api "$keyA1" GET /v1/nothing)" 404 "an unknown path: 404"
is "$(api "$keyA1" POST /v1/stats)" 405 "a method the path has not: 405"
is "$(header Allow)" "GET, HEAD" "with the Allow header a 405 must have"
is "$(api "$keyA1" POST /v1/suppressions/a@gmail.test)" 405 "POST on an address: 405"
is "$(header Allow)" "GET, HEAD, PUT, DELETE" "Allow: the methods of an address"
is "$(api "$keyA1" GET '/v1/suppressions/not%20an%20address')" 400 "an address that is none: 400"
is "$(api "$keyA1" GET '/v1/suppressions?limit=0')" 400 "a bad limit: 400"
is "$(api "$keyA" GET /v1/suppressions/a@gmail.test)" 400 "a key of two domains without ?domain=: 400"
is "$(j 'd["error"]["code"]')" domain_required "domain_required"
is "$(api "$keyStats" GET /v1/suppressions/a@gmail.test)" 403 "a key without the suppress scope: 403"
is "$(api "$keyA1" GET '/v1/suppressions/a@gmail.test?domain=shop2.test')" 403 \
    "a domain of the tenant that the key was not given: 403"

# ---------------------------------------------------------------- one address
is "$(api "$keyA1" GET /v1/suppressions/alice@gmail.test)" 404 "GET of an address not suppressed: 404"
is "$(api "$keyA1" PUT /v1/suppressions/Alice@Gmail.test -H 'Content-Type: application/json' \
      -d '{"reason":"unsubscribe","source":"crm"}')" 200 "PUT with a body: 200"
is "$(j 'd["entry"]["address"], d["entry"]["domain"], d["entry"]["reason"], d["entry"]["source"], d["entry"]["expires"]')" \
    "alice@gmail.test shop.test unsubscribe crm None" "the entry: normalised, in the key's domain"
ok 'suppressed alice@gmail.test shop.test' "outpostctl sees alice suppressed for shop.test"
ok '! suppressed alice@gmail.test other.test' "and not for other.test"
send_mail news@shop.test alice@gmail.test,carol@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^550 5\.7\.1 .*unsubscribe' "the milter refuses alice for shop.test"
like "$(rcpt_reply carol@gmail.test)" '^250' "and takes carol"
send_mail news@other.test alice@gmail.test
like "$(rcpt_reply alice@gmail.test)" '^250' "another tenant still mails alice"
is "$(api "$keyA1" GET /v1/suppressions/alice@gmail.test)" 200 "GET: 200"
is "$(j 'd["suppressed"], d["domain"], d["entry"]["reason"]')" "True shop.test unsubscribe" "with its entry"
is "$(api "$keyA1" HEAD /v1/suppressions/alice@gmail.test)" 200 "HEAD: 200"
head -c 2000 /dev/zero | tr '\0' a >"$WORLD_TMP/getbody"
is "$(api "$keyA1" GET /v1/suppressions/alice@gmail.test --data-binary "@$WORLD_TMP/getbody")" 200 \
    "a GET with a body over max_body: the body is ignored"
is "$(api "$keyA1" PUT /v1/suppressions/bob@gmail.test)" 200 "PUT without a body: 200"
is "$(j 'd["entry"]["reason"], d["entry"]["source"]')" "manual api" "reason manual, source api"
is "$(api "$keyA1" PUT /v1/suppressions/x@gmail.test -d '{"reason":"dislike"}')" 400 \
    "PUT with a reason the list does not know: 400"
is "$(api "$keyA1" PUT /v1/suppressions/x@gmail.test -d '{"scope":"shop2.test"}')" 403 \
    "PUT whose body names another domain: 403"
is "$(api "$keyA1" PUT /v1/suppressions/x@gmail.test -d "{\"source\":\"$(head -c 2000 /dev/zero | tr '\0' a)\"}")" 413 \
    "PUT with a body over max_body: 413"
is "$(api "$keyA1" PUT /v1/suppressions/x@gmail.test -d '{"time":0}')" 400 \
    "PUT with a time of 0 (\"created\": null would follow): 400"
ok '! suppressed x@gmail.test shop.test' "none of them stored anything"
ctl suppress add --reason hard-bounce global@gmail.test >/dev/null
is "$(api "$keyA1" GET /v1/suppressions/global@gmail.test)" 200 "an entry of the global list applies: 200"
is "$(j 'd["entry"]["domain"], d["entry"]["reason"]')" "None hard-bounce" "shown with domain null"
is "$(api "$keyA1" DELETE /v1/suppressions/global@gmail.test)" 404 "DELETE cannot touch the global list: 404"
ok 'suppressed global@gmail.test shop.test' "the global entry stays"
is "$(api "$keyA1" DELETE /v1/suppressions/bob@gmail.test)" 204 "DELETE: 204"
ok '! suppressed bob@gmail.test shop.test' "bob is no longer suppressed"
is "$(api "$keyA1" DELETE /v1/suppressions/bob@gmail.test)" 404 "DELETE again: 404"

# ---------------------------------------------------------------- import
{
    echo "address,reason,scope,time,expires,source"
    echo "imp1@gmail.test,complaint,,,,"
    echo "imp2@gmail.test,hard-bounce,shop.test,2026-01-02T03:04:05Z,,crm"
    echo '{"address":"imp3@gmail.test","reason":"unsubscribe"}'
    echo "bad address,manual,,,"
    echo "imp4@gmail.test,nonsense,,,"
    echo "old@gmail.test,manual,,2020-01-01T00:00:00Z,2020-02-01T00:00:00Z,"
    echo "steal@gmail.test,manual,other.test,,,"
    echo '{"address":"imp5@gmail.test","admin":1}'
    printf 'imp6@gmail.test,manual,,,,'		# no end of line at the end
} >"$WORLD_TMP/import.csv"
is "$(api "$keyA1" POST /v1/suppressions:import --data-binary "@$WORLD_TMP/import.csv" -H 'Content-Type: text/csv')" 200 \
    "POST /v1/suppressions:import: 200"
is "$(j 'd["added"], d["skipped"], d["invalid"]')" "4 1 4" "4 added, 1 expired skipped, 4 invalid"
is "$(j '[e["line"] for e in d["errors"]]')" "[5, 6, 9, 8]" "the invalid rows named by line"
ok 'suppressed imp1@gmail.test shop.test && suppressed imp3@gmail.test shop.test && suppressed imp6@gmail.test shop.test' \
    "CSV and JSON rows stored in the key's domain"
ok '! suppressed steal@gmail.test other.test' "a row naming another tenant's domain is not stored"
is "$(ctl suppress list | awk '$1 == "imp2@gmail.test" { print $2, $3, $NF }')" "shop.test hard-bounce crm" "the row's source kept"
# a large import: many batches, the connection suspended between them
"$PYTHON" -c '
for i in range(5000):
    print("bulk%04d@gmail.test,manual,,,," % i if i % 2 else "{\"address\":\"bulk%04d@gmail.test\"}" % i)' >"$WORLD_TMP/bulk.csv"
is "$(api "$keyA1" POST /v1/suppressions:import --data-binary "@$WORLD_TMP/bulk.csv")" 200 "a 5000-row import: 200"
is "$(j 'd["added"], d["invalid"]')" "5000 0" "5000 added"
is "$(ctl suppress list | awk '$1 ~ /^bulk/ && $2 == "shop.test"' | wc -l)" 5000 "all 5000 in the list, in shop.test's scope"

# a stranger's import is refused at its first row; one over api_import_max gets 413
is "$(api "$keyGone" POST /v1/suppressions:import --data-binary "@$WORLD_TMP/bulk.csv")" 401 \
    "an import with a revoked key: 401"
"$PYTHON" -c '
for i in range(10000):
    print("big%05d@gmail.test,manual,,,," % i)' >"$WORLD_TMP/big.csv"
is "$(api "$keyA1" POST /v1/suppressions:import --data-binary "@$WORLD_TMP/big.csv")" 413 \
    "an import over api_import_max (200k): 413"

# ---------------------------------------------------------------- the list, page by page
ctl suppress add --scope other.test --reason manual otherlist@gmail.test >/dev/null
want=$(ctl suppress list | awk '$2 == "shop.test"' | wc -l)
cursor="" pages=0
: >"$WORLD_TMP/listed"
while :; do
    st=$(api "$keyA1" GET "/v1/suppressions?limit=500${cursor:+&cursor=$cursor}")
    [ "$st" = 200 ] || break
    j '"\n".join(e["address"] + " " + e["domain"] for e in d["entries"])' | grep . >>"$WORLD_TMP/listed"
    pages=$((pages + 1))
    cursor=$(j 'd["next"] or ""')
    [ -z "$cursor" ] && break
    [ "$pages" -gt 200 ] && break
done
is "$st" 200 "every page: 200"
ok '[ "$pages" -gt 2 ]' "the list came in several pages ($pages)"
is "$(wc -l <"$WORLD_TMP/listed")" "$want" "the pages hold every entry of shop.test ($want)"
is "$(sort "$WORLD_TMP/listed" | uniq -d | wc -l)" 0 "none twice"
is "$(awk '$2 != "shop.test"' "$WORLD_TMP/listed" | wc -l)" 0 "and nothing of another scope"
is "$(api "$keyA1" GET '/v1/suppressions?cursor=9999999')" 400 "a cursor out of range: 400"
# small pages over entries whose field is longer than SUP_FIELD_MAX (on a cluster
# those of a tag share its long bucket, read with the tag): each once, in order
"$PYTHON" -c '
for i in range(120):
    print("longlonglonglonglonglonglonglonglonglonglong%03d@a-rather-long-recipient-domain.test,manual,,,," % i)
for i in range(40):
    print("s%03d@a-rather-long-recipient-domain.test,manual,,,," % i)' >"$WORLD_TMP/long.csv"
is "$(api "$keyA" POST '/v1/suppressions:import?domain=shop2.test' --data-binary "@$WORLD_TMP/long.csv")" 200 \
    "160 entries in shop2.test, 120 of them long"
cursor="" pages=0
: >"$WORLD_TMP/listed"
while :; do
    st=$(api "$keyA" GET "/v1/suppressions?domain=shop2.test&limit=1${cursor:+&cursor=$cursor}")
    [ "$st" = 200 ] || break
    j '"\n".join(e["address"] for e in d["entries"])' | grep . >>"$WORLD_TMP/listed"
    pages=$((pages + 1))
    cursor=$(j 'd["next"] or ""')
    [ -z "$cursor" ] && break
    [ "$pages" -gt 600 ] && break
done
is "$st" 200 "every page of one entry: 200"
ok '[ "$pages" -le 600 ]' "the pages come to an end ($pages)"
is "$(sort -u "$WORLD_TMP/listed" | wc -l)" 160 "they hold every entry of shop2.test"
is "$(sort "$WORLD_TMP/listed" | uniq -d | wc -l)" 0 "none twice"

# ---------------------------------------------------------------- stats
hour=$(date -u +%Y%m%d%H)
# st_tag SENDER - the tag of SENDER's counters: {st}, or on a cluster {st:B} with
# B = FNV-1a of the name modulo 16 (stats_sender_bucket())
st_tag() {
    local i h=2166136261 c
    redis_is_cluster || { echo '{st}'; return; }
    for ((i = 0; i < ${#1}; i++)); do
        printf -v c %d "'${1:i:1}"
        h=$(((h ^ c) * 16777619 & 0xffffffff))
    done
    echo "{st:$((h % 16))}"
}
for s in shop.test:7 shop2.test:5 other.test:11; do
    redis_cli HINCRBY "outpost:$(st_tag "${s%:*}"):h:$hour" "${s%:*}|gmail|-|delivered" "${s#*:}" >/dev/null
done
is "$(api "$keyA" GET '/v1/stats?by=sender')" 200 "GET /v1/stats: 200"
is "$(j '[(r["name"], r["delivered"]) for r in d["rows"]]')" "[('shop.test', 7), ('shop2.test', 5)]" \
    "by sender: the key's two domains only"
ctl stats --by sender --json >"$WORLD_TMP/cli.json"
is "$("$PYTHON" -c '
import json, sys
a = json.load(open(sys.argv[1])); c = json.load(open(sys.argv[2]))
c["rows"] = [r for r in c["rows"] if r["name"] in ("shop.test", "shop2.test")]
print(sorted(a) == sorted(c) and a["rows"] == c["rows"] and sorted(a["total"]) == sorted(c["total"]))' "$body" "$WORLD_TMP/cli.json")" \
    True "the same document as outpostctl stats --json, limited to them"
is "$(api "$keyStats" GET '/v1/stats?by=sender')" 200 "a stats key of one domain: 200"
is "$(j '[r["name"] for r in d["rows"]], d["total"]["delivered"]')" "['shop.test'] 7" "its domain only"
is "$(api "$keyA" GET '/v1/stats?domain=shop2.test')" 200 "?domain= narrows to one domain"
is "$(j 'd["total"]["delivered"], d["by"]')" "5 provider" "shop2.test's 5, by provider"
is "$(api "$keyA" GET '/v1/stats?since=bogus')" 400 "a since it cannot read: 400"

# ---------------------------------------------------------------- tenant isolation
is "$(api "$keyB" GET '/v1/suppressions/alice@gmail.test?domain=shop.test')" 403 "isolation: GET of another tenant's domain: 403"
is "$(api "$keyB" PUT '/v1/suppressions/mallory@gmail.test?domain=shop.test')" 403 "isolation: PUT: 403"
ok '! suppressed mallory@gmail.test shop.test' "nothing stored"
is "$(api "$keyB" DELETE '/v1/suppressions/alice@gmail.test?domain=shop.test')" 403 "isolation: DELETE: 403"
ok 'suppressed alice@gmail.test shop.test' "alice stays suppressed"
is "$(api "$keyB" GET '/v1/suppressions?domain=shop.test')" 403 "isolation: list: 403"
printf 'mallory2@gmail.test,manual,,,,\n' >"$WORLD_TMP/m.csv"
is "$(api "$keyB" POST '/v1/suppressions:import?domain=shop.test' --data-binary "@$WORLD_TMP/m.csv")" 403 \
    "isolation: import into another tenant's domain: 403"
printf 'mallory3@gmail.test,manual,shop.test,,,\n' >"$WORLD_TMP/m.csv"
is "$(api "$keyB" POST '/v1/suppressions:import' --data-binary "@$WORLD_TMP/m.csv")" 200 \
    "isolation: import of a row naming another tenant's domain: 200"
is "$(j 'd["added"], d["invalid"], d["domain"]')" "0 1 other.test" "the row is invalid, nothing added"
ok '! suppressed mallory2@gmail.test shop.test && ! suppressed mallory3@gmail.test shop.test' "nothing stored for shop.test"
is "$(api "$keyB" GET '/v1/stats?domain=shop.test')" 403 "isolation: stats of another tenant's domain: 403"
is "$(api "$keyB" GET '/v1/stats?by=sender')" 200 "stats of its own"
is "$(j '[r["name"] for r in d["rows"]], d["total"]["delivered"]')" "['other.test'] 11" "show its domain only"
is "$(api "$keyB" GET /v1/suppressions/alice@gmail.test)" 404 "alice, suppressed by shop, is not in other's scope"

# ---------------------------------------------------------------- 429
for i in 1 2 3; do
    api "$keySlow" GET /v1/suppressions/a@gmail.test >/dev/null
done
is "$(j 'd.get("error", {}).get("code")')" not_found "the burst of 3 passes"
is "$(api "$keySlow" GET /v1/suppressions/a@gmail.test)" 429 "the 4th request: 429"
ra=$(header Retry-After)
ok '[ "${ra:-0}" -ge 1 ]' "with Retry-After ($ra s)"
is "$(j 'd["error"]["code"]')" rate_limited "rate_limited"
is "$(api "$keyA1" GET /v1/suppressions/alice@gmail.test)" 200 "another key is not limited by it"

# ---------------------------------------------------------------- Redis away
redis_stop
is "$(api "$keyA1" GET /v1/suppressions/alice@gmail.test)" 503 "Redis stopped: 503"
ra=$(header Retry-After)
ok '[ "${ra:-0}" -ge 1 ]' "with Retry-After"
is "$(j 'd["error"]["code"]')" unavailable "unavailable"
is "$(api "$keyA1" PUT /v1/suppressions/late@gmail.test)" 503 "a PUT too"
redis_start
# a new server, empty: a new key
keyN=$(ctl apikey create shop --domains shop.test 2>/dev/null)
answers_with() { local want=$1; shift; [ "$(api "$@")" = "$want" ]; }
ok 'wait_until 10 answers_with 200 "$keyN" PUT /v1/suppressions/late@gmail.test' "Redis back: the API answers again" ||
    diag "last answer: $(cat "$body")"
ok 'suppressed late@gmail.test shop.test' "and stores"

# ---------------------------------------------------------------- metrics
metric() {
    curl -s http://127.0.0.1:9434/metrics |
        awk -v m="outpost_httpd_api_requests_total{node=\"t1\",endpoint=\"$1\",status=\"$2\"}" '$1 == m { print $2 }'
}
is "$(metric suppression 429)" 1 "metrics: the one 429"
is "$(metric suppression 401)" 5 "metrics: the five 401s"
is "$(metric import 403)" 1 "metrics: the import refused for another tenant's domain"
is "$(metric other 404)" 2 "metrics: the unknown paths (/v1/nothing, and / that the start waited on)"

# ---------------------------------------------------------------- the document
out=$("$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$answers")
is "$?" 0 "every answer is valid against doc/openapi.yaml"
like "$out" "^[0-9]+ answers valid$" "$(head -n 20 <<<"$out")"
# the check itself fails on an answer the document does not allow
printf 'GET\t/v1/stats\t200\t%s\t%s\n' "$WORLD_TMP/h.1" "$WORLD_TMP/b.1" >"$WORLD_TMP/wrong.tsv"
"$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$WORLD_TMP/wrong.tsv" >/dev/null
is "$?" 1 "and refuses an error body given as stats"

done_testing
