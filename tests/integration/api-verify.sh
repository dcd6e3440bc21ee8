#!/bin/bash
# api-verify.sh - GET /v1/domains/DOMAIN/verify of outpost-httpd's API against the
# DNS of the test world: the very document "outpostctl verify --json" prints (one
# code, common/check); a domain published right passes, a broken DKIM record is
# named with its fix; another tenant's domain, a key without the stats scope: 403;
# DNS that does not answer is DNS trouble, each query bounded by [dns]
# lookup_timeout, libspf2's evaluation of the relay addresses included (an SPF
# record whose evaluation reaches a name server that never answers: temperror,
# well within a bound that resolv.conf's timeouts would exceed); an answer is kept per domain (a DNS change shows in the CLI, not
# in the API's answer of a moment ago); every answer valid against
# doc/openapi.yaml (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
HTTPD_BIN=${HTTPD_BIN:-$OUTPOST_BUILDDIR/outpost-httpd}
need_programs "$HTTPD_BIN" "$CTL_BIN" /usr/bin/curl
command -v openssl >/dev/null || skip_all "openssl not installed"
"$PYTHON" -c 'import jsonschema, yaml' 2>/dev/null ||
    skip_all "python3-jsonschema and python3-yaml are needed (tests/install-deps.sh)"

# the key table: outpost-httpd reads it as nobody
keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"
for k in good bad other; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/$k.pem" 2>/dev/null
done
pub() { openssl pkey -in "$keys/$1.pem" -pubout -outform DER 2>/dev/null | base64 -w0; }
cat >"$WORLD_DIR/keytable" <<EOF
good.test  s1  rsa  $keys/good.pem
bad.test   s1  rsa  $keys/bad.pem
spfdead.test  s1  rsa  $keys/good.pem
spfwalk.test  s1  rsa  $keys/good.pem
EOF
chmod 600 "$keys"/*.pem
chown -R nobody "$keys" "$WORLD_DIR/keytable"

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
[dkim]
key_table = $WORLD_DIR/keytable
[intake]
bounce_domain = bounce.%d
secret_file = $secret
[dns]
relay_hostname = relay.test
lookup_timeout = 1s
[pool main]
transport = smtp:
addresses = 192.0.2.2, 192.0.2.3, 192.0.2.4, 192.0.2.5
[httpd]
listen = 127.0.0.1:8480
api_listen = 127.0.0.1:8481
metrics_listen = 127.0.0.1:9434
[tenant shop]
domains = good.test, bad.test, x.slow.test, spfdead.test, spfwalk.test
api_rate = 1000/s
api_burst = 1000
[tenant other]
domains = other.test
api_rate = 1000/s
api_burst = 1000
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
base=http://127.0.0.1:8481
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body answers=$WORLD_TMP/answers.tsv
: >"$answers"
# api KEY METHOD PATH - prints the status; the body in $body, kept for the OpenAPI check
api() {
    local st n
    : >"$body"
    st=$(curl -s -o "$body" -D "$hdr" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $1" "$base$3")
    n=$(($(wc -l <"$answers") + 1))
    cp "$hdr" "$WORLD_TMP/h.$n"
    cp "$body" "$WORLD_TMP/b.$n"
    printf '%s\t%s\t%s\t%s\t%s\n' "$2" "$3" "$st" "$WORLD_TMP/h.$n" "$WORLD_TMP/b.$n" >>"$answers"
    echo "$st"
}
# j EXPR - a Python expression over the last body, d
j() { "$PYTHON" -c "import json,sys; d=json.load(open('$body')); print($1)"; }

# --- the DNS: good.test right; bad.test publishes another key; x.slow.test unanswered;
# spfdead.test's SPF evaluation asks, for each relay address, a name under dead.test,
# whose name server reads the queries and never answers
echo "local=/2.0.192.in-addr.arpa/" >>"$WORLD_DIR/dns/records.conf"
for a in 2 3 4 5; do dns_a relay.test 192.0.2.$a; done
dns_ptr 192.0.2.2 relay.test
publish() {    # DOMAIN KEY [SPF [RETURN-PATH-SPF]]
    local spf=${3:-v=spf1 ip4:192.0.2.2/31 ip4:192.0.2.4/31 -all}
    dns_txt "$1" "$spf"
    dns_txt "_dmarc.$1" "v=DMARC1; p=none; rua=mailto:dmarc@$1"
    dns_mx "bounce.$1" relay.test
    dns_txt "bounce.$1" "${4:-$spf}"
    dns_txt "s1._domainkey.$1" "v=DKIM1; k=rsa; p=$(pub "$2")"
}
publish good.test good
publish bad.test other
publish spfdead.test good "v=spf1 exists:%{i}._spf.dead.test ip4:192.0.2.0/24 -all"
# spfwalk.test's own walk meets ten silent MX hosts three times (63 queries);
# the evaluations pass at ip4: before any of them
publish spfwalk.test good "v=spf1 ip4:192.0.2.0/24 mx:m.many.test mx:m.many.test mx:m.many.test -all" \
    "v=spf1 ip4:192.0.2.0/24 -all"
for h in 0 1 2 3 4 5 6 7 8 9; do dns_mx m.many.test "h$h.dead.test" "1$h"; done
echo "server=/slow.test/127.0.0.1#9" >>"$WORLD_DIR/dns/records.conf"
cat >"$WORLD_DIR/silent.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
while True:
    s.recvfrom(4096)    # read each query, answer none
EOF
world_spawn silent "$PYTHON" "$WORLD_DIR/silent.py" "$WORLD_DIR/run/silent.port"
wait_until 5 test -s "$WORLD_DIR/run/silent.port" || BAIL_OUT "the silent name server did not start"
echo "server=/dead.test/127.0.0.1#$(cat "$WORLD_DIR/run/silent.port")" >>"$WORLD_DIR/dns/records.conf"
dns_start
redis_start
"$HTTPD_BIN" -n -c "$conf" >/dev/null
is "$?" 0 "outpost-httpd -n accepts [dns] lookup_timeout"
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null $base/' "the API listens on api_listen"

key=$(ctl apikey create shop 2>/dev/null)
keySup=$(ctl apikey create shop --scopes suppress 2>/dev/null)
keyB=$(ctl apikey create other 2>/dev/null)

# ---------------------------------------------------------------- a domain published right
is "$(api "$key" GET /v1/domains/good.test/verify)" 200 "GET /v1/domains/good.test/verify: 200"
is "$(j 'd["domain"], d["fail"], d["warn"], d["pass"] > 5')" "good.test 0 0 True" "every check passes" ||
    diag_file "$body"
is "$(j 'sorted({c["check"] for c in d["checks"]})')" "['dkim', 'dmarc', 'ptr', 'return-path', 'spf']" \
    "spf, dkim, dmarc, ptr and return-path checked"
ctl verify --json good.test >"$WORLD_TMP/cli.json"
ok 'cmp -s "$WORLD_TMP/cli.json" "$body"' "byte for byte what outpostctl verify --json prints" ||
    diag "$(diff "$WORLD_TMP/cli.json" "$body")"
cp "$body" "$WORLD_TMP/good.json"
is "$(api "$key" GET /v1/domains/GOOD.test/verify)" 200 "the domain is normalised"
ok 'cmp -s "$WORLD_TMP/good.json" "$body"' "to the same answer"

# ---------------------------------------------------------------- a broken DKIM record
is "$(api "$key" GET /v1/domains/bad.test/verify)" 200 "a domain with mistakes is still a 200"
is "$(j 'd["fail"] >= 1, [c["status"] for c in d["checks"] if c["check"] == "dkim"]')" "True ['fail']" \
    "the DKIM check fails"
like "$(j '[c["detail"] for c in d["checks"] if c["check"] == "dkim"][0]')" "s1._domainkey.bad.test" \
    "naming the record"
like "$(j '[c["fix"] for c in d["checks"] if c["check"] == "dkim"][0]')" "^s1._domainkey.bad.test.*p=$(pub bad | cut -c1-40)" \
    "its fix is the record of the key the relay signs with"
is "$(j '[c["status"] for c in d["checks"] if c["check"] != "dkim"].count("fail")')" 0 "and nothing else fails"

# ---------------------------------------------------------------- who may ask
is "$(api "$keyB" GET /v1/domains/good.test/verify)" 403 "another tenant's domain: 403"
is "$(j 'd["error"]["code"]')" forbidden "  forbidden"
is "$(api "$key" GET /v1/domains/other.test/verify)" 403 "a domain of another tenant, asked by shop: 403"
is "$(api "$keySup" GET /v1/domains/good.test/verify)" 403 "a key without the stats scope: 403"
is "$(api "$key" GET '/v1/domains/good.test/verify?domain=other.test')" 200 "?domain= does not replace the path's domain"
is "$(j 'd["domain"]')" good.test "  the path's domain answered"
is "$(api op_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000 GET /v1/domains/good.test/verify)" 401 \
    "an unknown key: 401"
is "$(api "$key" POST /v1/domains/good.test/verify)" 405 "POST: 405"
is "$(api "$key" GET /v1/domains/good.test/nothing)" 404 "another path under the domain: 404"
is "$(api "$key" GET /v1/domains//verify)" 404 "no domain: 404"

# ---------------------------------------------------------------- DNS that does not answer
start=$(_now_ms)
is "$(api "$key" GET /v1/domains/x.slow.test/verify)" 200 "a domain whose DNS does not answer: 200"
took=$(( $(_now_ms) - start ))
like "$(j '[c["detail"] for c in d["checks"] if c["check"] == "spf"][0]')" "DNS trouble" \
    "an unanswered query is DNS trouble"
unlike "$(j '[c["detail"] for c in d["checks"]]')" "no SPF record|no DMARC record|no MX record" "never a missing record"
diag "x.slow.test answered in $took ms ([dns] lookup_timeout = 1s, one try per query)"

# ---------------------------------------------------------------- libspf2's lookups
# Each relay address's evaluation asks A 192.0.2.N._spf.dead.test (a macro: the
# record's own walk does not follow it): 8 evaluations (spfdead.test and its return
# path), each waiting one lookup_timeout, where resolv.conf's 2 s x 2 tries wait 6 s.
start=$(_now_ms)
is "$(api "$key" GET /v1/domains/spfdead.test/verify)" 200 \
    "an SPF record whose evaluation reaches a silent name server: 200"
took=$(( $(_now_ms) - start ))
ok '[ "$took" -lt 30000 ]' "within 30 s: libspf2's lookups wait [dns] lookup_timeout" ||
    diag "took $took ms"
temperror() { j "[c['detail'] for c in d['checks'] if c['check'] == '$1' and c['status'] == 'fail']"; }
is "$(temperror spf)" "$(printf "'spfdead.test: 192.0.2.%s: DNS trouble while evaluating SPF (temperror)', " 2 3 4 5 |
    sed 's/^/[/; s/, $/]/')" "each relay address: SPF temperror (DNS trouble), never not authorised" ||
    diag_file "$body"
is "$(temperror return-path)" "$(printf "'bounce.spfdead.test: 192.0.2.%s: DNS trouble while evaluating SPF (temperror)', " 2 3 4 5 |
    sed 's/^/[/; s/, $/]/')" "  and for the return-path domain's record"
is "$(j 'd["fail"], sorted({c["check"] for c in d["checks"]})')" \
    "8 ['dkim', 'dmarc', 'ptr', 'return-path', 'spf']" "the other checks still run, and pass"
diag "spfdead.test answered in $took ms"

# ---------------------------------------------------------------- the record's own walk
# A walk may make 100 queries; each MX host's A and AAAA wait one lookup_timeout,
# 60 s in all, where the walk's budget is 10 timeouts
start=$(_now_ms)
is "$(api "$key" GET /v1/domains/spfwalk.test/verify)" 200 \
    "an SPF record whose own walk meets a silent name server 60 times: 200"
took=$(( $(_now_ms) - start ))
ok '[ "$took" -lt 30000 ]' "within 30 s: the walk's lookups wait 10 lookup timeouts together" ||
    diag "took $took ms"
like "$(j '[c["detail"] for c in d["checks"] if c["check"] == "spf" and c["status"] == "fail"]')" \
    "spfwalk.test: DNS trouble: (A|AAAA) lookup for h0.dead.test: .*the walk stopped there" \
    "the SPF check: DNS trouble, the walk stopped" || diag_file "$body"
is "$(j 'sorted({c["check"] for c in d["checks"] if c["status"] == "fail"})')" "['spf']" \
    "the other checks pass"
diag "spfwalk.test answered in $took ms"

# ---------------------------------------------------------------- the answer is kept
sed -i '/^txt-record=s1._domainkey.good.test,/d' "$WORLD_DIR/dns/records.conf"
dns_txt s1._domainkey.good.test "v=DKIM1; k=rsa; p=$(pub other)"	# another key now
dns_reload
like "$(ctl verify good.test)" "fail  dkim" "the CLI sees the changed DKIM record"
is "$(api "$key" GET /v1/domains/good.test/verify)" 200 "asked again at once"
ok 'cmp -s "$WORLD_TMP/good.json" "$body"' "the API answers what it found a moment ago: no new lookups" ||
    diag "$(diff "$WORLD_TMP/good.json" "$body")"

# ---------------------------------------------------------------- the OpenAPI document
out=$("$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$answers")
is "$?" 0 "every answer is valid against doc/openapi.yaml" || diag "$out"
printf 'GET\t/v1/domains/good.test/verify\t200\t%s\t%s\n' "$WORLD_TMP/h.1" "$WORLD_TMP/b.4" >"$WORLD_TMP/wrong.tsv"
"$PYTHON" "$OUTPOST_SRCDIR/tests/lib/openapi-check.py" "$OUTPOST_SRCDIR/doc/openapi.yaml" "$WORLD_TMP/wrong.tsv" >/dev/null
is "$?" 1 "and refuses another answer given as a verify document"

done_testing
