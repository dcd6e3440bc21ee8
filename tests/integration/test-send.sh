#!/bin/bash
# test-send.sh - outpostctl test-send through a real Postfix with outpost-milter:
# the message is signed and tagged, leaves over TLS for the bounce domain's MX
# (a second smtpd of the same Postfix, reached from a sending address of its
# own), and the milter there evaluates it as a receiver does.  With correct DNS
# every check passes; a broken DKIM record, no DMARC record and a return path
# outside SPF are each named with their fix; a forged token is not evaluated (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"
command -v openssl >/dev/null || skip_all "openssl not installed"

# not loopback: libspf2 passes any 127/8 sender unasked
ip addr add 192.0.2.9/32 dev lo     # the relay's sending address
ip addr add 192.0.2.25/32 dev lo    # the bounce domain's MX
printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$DNS_ADDR" >"$WORLD_DIR/resolv.conf"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"; chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
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
: >"$keys/table"
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
rec=$(ctl dkim keygen shop.test s1 --algorithm rsa --add 2>/dev/null | grep -o '"[^"]*"' | tr -d '"\n')
# a second key, never in the table: its record is a "broken" one for s1
other=$(ctl dkim keygen other.test s9 --algorithm rsa --dir "$WORLD_TMP" 2>/dev/null |
    grep -o '"[^"]*"' | tr -d '"\n')
chown -R nobody "$keys"

records=$WORLD_DIR/dns/records.conf
publish() {    # the correct records of shop.test
    [ ! -e "$records" ] || sed -i '/shop\.test/d' "$records"
    dns_txt s1._domainkey.shop.test "$rec"
    dns_txt bounces.shop.test "v=spf1 ip4:192.0.2.9 -all"
    dns_txt _dmarc.shop.test "v=DMARC1; p=none; rua=mailto:dmarc@shop.test"
}
publish
echo "local=/2.0.192.in-addr.arpa/" >>"$records"
dns_start
redis_start
tls_cert mx mx.bounces.shop.test
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
# as doc/INSTALL.md says: the bounce domain is dropped, but the check address
# leaves by SMTP for the MX (here a second smtpd of the same Postfix)
echo '/^check-[a-z2-7]+@bounces\.shop\.test$/ outpost-check:[192.0.2.25]:25' >"$WORLD_DIR/transport"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = regexp:$WORLD_DIR/transport, inline:{bounces.shop.test=discard:}"
postfix_master "192.0.2.25:25 inet n - n - - smtpd -o smtpd_tls_security_level=may -o smtpd_tls_cert_file=$WORLD_TMP/mx.pem -o smtpd_tls_key_file=$WORLD_TMP/mx.key" \
    "outpost-check unix - - n - - smtp -o smtp_bind_address=192.0.2.9 -o myhostname=check.relay.test -o smtp_tls_security_level=may"
postfix_start

out=$WORLD_TMP/out.json
# send [TIMEOUT] - test-send as a client would, the JSON report in $out; its exit status
send() {
    local rc=0
    ctl test-send --from news@shop.test --via 127.0.0.1:2525 --json --timeout "${1:-20s}" \
        >"$out" 2>"$WORLD_TMP/err" || rc=$?
    return $rc
}
# field CHECK KEY - a check's status, detail or fix in $out ("-": none)
field() {
    "$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
c = [x for x in d["checks"] if x["check"] == sys.argv[2]]
print(c[0][sys.argv[3]] if c and c[0][sys.argv[3]] is not None else "-")' "$out" "$1" "$2"
}

# --- correct DNS: every check passes
t0=$(date +%s%N)
rc=0; send || rc=$?
is "$rc" 0 "all correct: exit 0"
diag_file "$WORLD_TMP/err"
note "report after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
for c in dkim spf dmarc received tls one-click bulk-sender; do
    is "$(field $c status)" pass "all correct: $c passes ($(field $c detail))"
done
like "$(field dkim detail)" "d=shop.test s=s1" "the relay's own signature was verified"
like "$(field spf detail)" "192.0.2.9 may send for bounces.shop.test" \
    "SPF evaluated for the sending address and the tagged return path"
like "$(field tls detail)" "TLSv1" "the hop's TLS version, from the MTA"
is "$("$PYTHON" -c 'import json,sys; print(json.load(open(sys.argv[1]))["failed"])' "$out")" 0 \
    "failed: 0"
is "$(redis_cli --scan --pattern 'outpost:{intake}:testsend:*' | wc -l)" 1 "the report is in Redis"
key=$(redis_cli --scan --pattern 'outpost:{intake}:testsend:*')
ok '[ "$(redis_cli ttl "$key")" -gt 0 ]' "with a TTL"
ok 'maillog_wait "relay=192.0.2.25.*status=sent"' "the message left through the MX hop"

# --- a broken DKIM record: named, with its fix
sed -i '/s1\._domainkey\.shop\.test/d' "$records"
dns_txt s1._domainkey.shop.test "$other"
dns_reload
rc=0; send || rc=$?
is "$rc" 1 "broken DKIM: exit 1"
is "$(field dkim status)" fail "broken DKIM: dkim fails ($(field dkim detail))"
like "$(field dkim fix)" "s1._domainkey.shop.test" "broken DKIM: the fix names the record"
is "$(field spf status)" pass "broken DKIM: SPF still passes"
is "$(field dmarc status)" pass "broken DKIM: DMARC passes through SPF alignment"

# --- no DMARC record
publish
sed -i '/_dmarc\.shop\.test/d' "$records"
dns_reload
rc=0; send || rc=$?
is "$rc" 1 "no DMARC: exit 1"
is "$(field dkim status)" pass "no DMARC: DKIM passes again"
is "$(field dmarc status)" none "no DMARC: dmarc is none ($(field dmarc detail))"
like "$(field dmarc fix)" 'publish _dmarc\.shop\.test TXT "v=DMARC1; p=none' \
    "no DMARC: the fix is the record to publish"
is "$(field bulk-sender status)" fail "no DMARC: the bulk-sender rules fail"
like "$(field bulk-sender detail)" "a DMARC record" "no DMARC: named among them"

# --- the return path outside SPF
publish
sed -i '/v=spf1/d' "$records"
dns_txt bounces.shop.test "v=spf1 ip4:192.0.2.99 -all"
dns_reload
rc=0; send || rc=$?
is "$rc" 1 "return path outside SPF: exit 1"
is "$(field spf status)" fail "outside SPF: spf fails ($(field spf detail))"
like "$(field spf fix)" "add ip4:192.0.2.9 to the SPF record of bounces.shop.test" \
    "outside SPF: the fix names the address and the record"
is "$(field dmarc status)" pass "outside SPF: DMARC passes through DKIM"

# --- a forged token (signed with another secret) is not evaluated
publish
dns_reload
n=$(redis_cli --scan --pattern 'outpost:{intake}:testsend:*' | wc -l)
forged=$WORLD_DIR/forged.conf
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORLD_TMP/other.secret"
chmod 600 "$WORLD_TMP/other.secret"
sed "s|^secret_file = .*|secret_file = $WORLD_TMP/other.secret|" "$conf" >"$forged"
rc=0
"$CTL_BIN" -c "$forged" test-send --from news@shop.test --via 127.0.0.1:2525 --timeout 2s \
    >/dev/null 2>&1 || rc=$?
is "$rc" 3 "forged token: no report (exit 3)"
ok 'wait_until 10 grep -q "test message to check-.*forged token: not evaluated" "$WORLD_DIR/log/milter.log"' \
    "forged token: the milter logs it, unread"
is "$(redis_cli --scan --pattern 'outpost:{intake}:testsend:*' | wc -l)" "$n" "forged token: no report stored"
ok 'postfix_wait_queue_empty 10' "forged token: dropped, not bounced around"
done_testing
