#!/bin/bash
# dns-verify.sh - outpostctl dns and verify against the real DNS of the test world:
# a domain published right, and domains with each kind of mistake; libspf2's
# evaluation through the same resolver (include, a, mx) (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$CTL_BIN"
command -v openssl >/dev/null || skip_all "openssl not installed"

# resolver: give up fast (the timeout case below waits for this)
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_ADDR" >"$WORLD_DIR/resolv.conf"

# --- keys and key table: good.test signs with RSA and Ed25519; others with RSA
keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"
for k in rsa other; do
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$keys/$k.pem" 2>/dev/null
done
openssl genpkey -algorithm ED25519 -out "$keys/ed.pem" 2>/dev/null
chmod 600 "$keys"/*.pem
# the public keys as an independent tool sees them (SubjectPublicKeyInfo / raw 32 bytes)
pub_rsa=$(openssl pkey -in "$keys/rsa.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
pub_other=$(openssl pkey -in "$keys/other.pem" -pubout -outform DER 2>/dev/null | base64 -w0)
pub_ed=$(openssl pkey -in "$keys/ed.pem" -pubout -outform DER 2>/dev/null | tail -c 32 | base64 -w0)

cat >"$WORLD_DIR/keytable" <<EOF
good.test      s1   rsa      $keys/rsa.pem
good.test      e1   ed25519  $keys/ed.pem
mismatch.test  s1   rsa      $keys/rsa.pem
noalign.test   s1   rsa      $keys/rsa.pem  d=other.test
nospf.test     s1   rsa      $keys/rsa.pem
EOF
conf=$WORLD_DIR/outpost.conf
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$WORLD_DIR/intake.secret"
chmod 600 "$WORLD_DIR/intake.secret"
cat >"$conf" <<EOF
[dkim]
key_table = $WORLD_DIR/keytable
[intake]
bounce_domain = bounce.%d
secret_file = $WORLD_DIR/intake.secret
[dns]
relay_hostname = relay.test
lookup_timeout = 1s
[pool main]
transport = smtp:
addresses = 192.0.2.2
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }

# --- the relay and its reverse DNS (192.0.2.3's PTR names a host that is elsewhere)
# (not loopback: libspf2 passes any 127/8 sender unasked; nothing is sent to 192.0.2/24)
echo "local=/2.0.192.in-addr.arpa/" >>"$WORLD_DIR/dns/records.conf"
dns_a relay.test 192.0.2.2
dns_a relay3.test 192.0.2.9
dns_ptr 192.0.2.3 relay3.test
# 192.0.2.5 has two PTR names, neither resolving back to it
dns_a relay5a.test 192.0.2.51
dns_a relay5b.test 192.0.2.52
dns_ptr 192.0.2.5 relay5a.test
dns_ptr 192.0.2.5 relay5b.test

# good.test: everything right
publish_good() {    # DOMAIN [DMARC]
    dns_txt "$1" "v=spf1 ip4:192.0.2.2 ip4:192.0.2.3 -all"
    dns_txt "_dmarc.$1" "${2:-v=DMARC1; p=none; rua=mailto:dmarc@$1}"
    dns_mx "bounce.$1" relay.test
    dns_txt "bounce.$1" "v=spf1 ip4:192.0.2.2 ip4:192.0.2.3 -all"
}
publish_good good.test
dns_txt s1._domainkey.good.test "v=DKIM1; k=rsa; p=$pub_rsa"
dns_txt e1._domainkey.good.test "v=DKIM1; k=ed25519; p=$pub_ed"
dns_txt good.test "google-site-verification=abc"       # other TXT records are not SPF

# nospf.test: no SPF, no DMARC, no return-path at all
dns_txt s1._domainkey.nospf.test "v=DKIM1; k=rsa; p=$pub_rsa"
dns_mx nospf.test relay.test

# syntax.test: an SPF syntax error and a DMARC record receivers discard
dns_txt syntax.test "v=spf1 ip4:192.0.2.2 ip4:300.1.1.1 -all"
dns_txt _dmarc.syntax.test "v=DMARC1; p=block"

# many.test: 11 DNS-querying terms, 10 of them behind one include
inc="v=spf1"; for i in 1 2 3 4 5 6 7 8 9 10; do inc+=" a:h$i.many.test"; dns_a "h$i.many.test" "192.0.2.$((100 + i))"; done
dns_txt _spf.many.test "$inc -all"
dns_txt many.test "v=spf1 ip4:192.0.2.2 include:_spf.many.test mx -all"
dns_mx many.test relay.test
# voids.test: 3 void lookups
dns_txt voids.test "v=spf1 a:n1.voids.test a:n2.voids.test a:n3.voids.test ip4:192.0.2.2 -all"

# inc.test: addresses authorised through include:, a: and mx, which libspf2 asks for
dns_txt inc.test "v=spf1 include:_spf.inc.test a:relay3.test mx -all"
dns_txt _spf.inc.test "v=spf1 ip4:192.0.2.2 ~all"
dns_mx inc.test mx.inc.test
dns_a mx.inc.test 192.0.2.60

# mismatch.test: the published DKIM key is another key
publish_good mismatch.test
dns_txt s1._domainkey.mismatch.test "v=DKIM1; k=rsa; p=$pub_other"

# noalign.test: d=other.test, strict alignment: nothing can align
publish_good noalign.test "v=DMARC1; p=reject; adkim=s; aspf=s; rua=mailto:d@noalign.test"
dns_txt s1._domainkey.other.test "v=DKIM1; k=rsa; p=$pub_rsa"

# rpbad.test: the return-path MX points elsewhere
publish_good rpbad.test
dns_txt s1._domainkey.rpbad.test "v=DKIM1; k=rsa; p=$pub_rsa"
sed -i '/mx-host=bounce.rpbad.test/d' "$WORLD_DIR/dns/records.conf"
dns_mx bounce.rpbad.test mx.elsewhere.test
dns_a mx.elsewhere.test 192.0.2.50
# nullmx.test: the return-path domain takes no mail (RFC 7505)
publish_good nullmx.test
sed -i '/mx-host=bounce.nullmx.test/d' "$WORLD_DIR/dns/records.conf"
dns_mx bounce.nullmx.test . 0
# rptrouble.test: the return-path MX host is under broken.test (SERVFAIL)
publish_good rptrouble.test
sed -i '/mx-host=bounce.rptrouble.test/d' "$WORLD_DIR/dns/records.conf"
dns_mx bounce.rptrouble.test mx.broken.test

# broken.test: its name server answers SERVFAIL; slow.test: nothing answers
cat >"$WORLD_DIR/servfail.py" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(60)
while True:
    try:
        d, a = s.recvfrom(4096)
    except socket.timeout:
        break
    if len(d) < 12:
        continue
    i = 12
    while i < len(d) and d[i] != 0:
        i += d[i] + 1
    # the question back, QR and RA set, RCODE 2 (SERVFAIL), no records
    s.sendto(d[:2] + bytes([0x80 | (d[2] & 0x79), 0x82]) + d[4:6] + bytes(6) + d[12:i + 5], a)
EOF
world_spawn servfail "$PYTHON" "$WORLD_DIR/servfail.py" "$WORLD_DIR/run/servfail.port"
wait_until 5 test -s "$WORLD_DIR/run/servfail.port" || BAIL_OUT "SERVFAIL responder did not start"
echo "server=/broken.test/127.0.0.1#$(cat "$WORLD_DIR/run/servfail.port")" >>"$WORLD_DIR/dns/records.conf"
echo "server=/slow.test/127.0.0.1#9" >>"$WORLD_DIR/dns/records.conf"
dns_start

# ---------------------------------------------------------------- dns
out=$(ctl dns good.test); rc=$?
is "$rc" 0 "dns: exit 0 when every record can be printed"
like "$out" $'good.test.\t3600\tIN\tTXT\t"v=spf1 ip4:192.0.2.2 ~all"' "dns: SPF with the pool address"
dkim_line=$(grep '^s1._domainkey.good.test' <<<"$out" | sed 's/" "//g')
ok '[[ $dkim_line == *"k=rsa; p=$pub_rsa\"" ]]' "dns: RSA DKIM record holds the key openssl derives"
ok '[[ $out == *"e1._domainkey.good.test."*"k=ed25519; p=$pub_ed\""* ]]' "dns: Ed25519 DKIM record too"
like "$out" '_dmarc.good.test.*"v=DMARC1; p=none; rua=mailto:dmarc-reports@good.test"' "dns: starter DMARC"
like "$out" $'bounce.good.test.\t3600\tIN\tMX\t10 relay.test.' "dns: return-path MX at the relay"
like "$out" 'bounce.good.test.*"v=spf1 ip4:192.0.2.2 -all"' "dns: return-path SPF"
like "$out" '2.2.0.192.in-addr.arpa.*PTR	relay.test.' "dns: PTR of the relay address"
json=$(ctl dns --json good.test)
is "$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(sorted({r["purpose"] for r in d["records"]}))' <<<"$json")" \
   "['dkim', 'dmarc', 'ptr', 'return-path', 'spf']" "dns --json: every kind of record"
out=$(ctl dns nokey.test --ip 192.0.2.7); rc=$?
is "$rc" 1 "dns: exit 1 when a record cannot be printed (no DKIM key)"
like "$out" "ip4:192.0.2.7" "dns --ip replaces the pool addresses"
like "$out" "NOTE: no DKIM key for nokey.test" "dns: says what is missing"

# ---------------------------------------------------------------- verify: right
out=$(ctl verify good.test --ip 192.0.2.2); rc=$?
is "$rc" 0 "verify good.test: exit 0"
like "$out" "good.test: 1[0-9] pass, 0 warn, 0 fail" "verify good.test: nothing fails or warns" || diag "$out"
like "$out" "pass  spf +good.test: 192.0.2.2 may send" "spf: libspf2 says pass"
like "$out" "pass  dkim +s1._domainkey.good.test: published key matches" "dkim: RSA key matches"
like "$out" "pass  dkim +e1._domainkey.good.test: published key matches" "dkim: Ed25519 key matches"
like "$out" "pass  ptr +192.0.2.2 -> relay.test -> 192.0.2.2" "ptr: forward-confirmed"
like "$out" "pass  return-path +bounce.good.test: MX relay.test reaches the relay" "return-path MX"
like "$out" "pass  dmarc +good.test: alignment possible through DKIM d=good.test" "dmarc: alignment"
json=$(ctl verify --json good.test)
is "$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(all(set(c)=={"check","status","detail","fix"} for c in d["checks"]), d["fail"])' <<<"$json")" \
   "True 0" "verify --json: one object per check with check, status, detail, fix"

# ---------------------------------------------------------------- verify: mistakes
out=$(ctl verify nospf.test); rc=$?
is "$rc" 1 "verify nospf.test: exit 1"
like "$out" "fail  spf +nospf.test: no SPF record" "missing SPF record reported"
like "$out" '      fix: nospf.test.	3600	IN	TXT	"v=spf1 ip4:192.0.2.2 ~all"' "with the record to publish"
like "$out" "fail  dmarc +_dmarc.nospf.test: no DMARC record" "missing DMARC record reported"
like "$out" 'fix: _dmarc.nospf.test.*"v=DMARC1; p=none; rua=mailto:dmarc-reports@nospf.test"' "with a starter record"
like "$out" "fail  return-path +bounce.nospf.test: no MX record \\(no such domain" "missing return-path MX"
like "$out" "fix: bounce.nospf.test.	3600	IN	MX	10 relay.test." "with the MX to publish"

out=$(ctl verify syntax.test)
like "$out" "fail  spf +syntax.test: syntax error .*term 'ip4:300.1.1.1'" "SPF syntax error names the term"
like "$out" 'fix: syntax.test.	3600	IN	TXT	"v=spf1 ip4:192.0.2.2 -all"' "fix drops the bad term, keeps the rest"
like "$out" "fail  dmarc +_dmarc.syntax.test: receivers discard the record: p='block'" "DMARC bad policy"

out=$(ctl verify many.test); [ -n "${SHOW:-}" ] && diag "$out"
like "$out" "fail  spf +many.test: 12 DNS-querying terms \\(the limit is 10\\)" "too many lookups counted through include"
like "$out" "fix: .*include:_spf.many.test costs 11" "fix names the costly include"
like "$out" "pass  spf +many.test: 192.0.2.2 may send" "libspf2 still evaluates the address"
out=$(ctl verify voids.test)
like "$out" "fail  spf +voids.test: 3 void lookups \\(the limit is 2\\)" "void lookups counted"

out=$(ctl verify --ip 192.0.2.2 --ip 192.0.2.9 --ip 192.0.2.60 --ip 192.0.2.61 inc.test)
like "$out" "pass  spf +inc.test: 192.0.2.2 may send" "libspf2 through include: (TXT) passes"
like "$out" "pass  spf +inc.test: 192.0.2.9 may send" "  through a: (A)"
like "$out" "pass  spf +inc.test: 192.0.2.60 may send" "  through mx (MX, then A)"
like "$out" "fail  spf +inc.test: 192.0.2.61 is not authorised: SPF fail" "  and fails an address none names"

out=$(ctl verify mismatch.test)
like "$out" "fail  dkim +s1._domainkey.mismatch.test: key mismatch" "DKIM key mismatch"
fix=$(grep -A1 'key mismatch' <<<"$out" | tail -1 | sed 's/" "//g')
ok '[[ $fix == *"fix: s1._domainkey.mismatch.test."*"p=$pub_rsa\"" ]]' "fix publishes the table's key"

out=$(ctl verify noalign.test); [ -n "${SHOW:-}" ] && diag "$out"
like "$out" "fail  dmarc +noalign.test: no alignment possible: DKIM d=other.test does not align \\(adkim=s\\), return-path bounce.noalign.test \\(aspf=s\\)" \
    "DMARC: no alignment possible"
like "$out" 'fix: _dmarc.noalign.test.*"v=DMARC1; p=reject; adkim=r; aspf=r; rua=mailto:d@noalign.test"' \
    "fix relaxes alignment"
like "$out" "pass  dkim +s1._domainkey.other.test" "DKIM key looked up under d=other.test"

out=$(ctl verify --ip 192.0.2.2 --ip 192.0.2.3 --ip 192.0.2.4 good.test); rc=$?
is "$rc" 1 "verify with a bad PTR: exit 1"
like "$out" "fail  ptr +192.0.2.3: PTR mismatch: the PTR name relay3.test resolves to 192.0.2.9" "PTR mismatch"
like "$out" "fix: relay3.test.	3600	IN	A	192.0.2.3" "with the A record that confirms it"
like "$out" "fail  ptr +192.0.2.4: no PTR record" "missing PTR"
like "$out" "fix: 4.2.0.192.in-addr.arpa.	3600	IN	PTR	relay.test." "with the PTR to publish"
like "$out" "fail  spf +good.test: 192.0.2.4 is not authorised: SPF fail" "unlisted address fails SPF"
like "$out" 'fix: good.test.*"v=spf1 ip4:192.0.2.2 ip4:192.0.2.3 ip4:192.0.2.4 -all"' "fix adds the address before -all"
out=$(ctl verify --ip 192.0.2.5 good.test)
like "$out" "fail  ptr +192.0.2.5: PTR mismatch: the PTR name (relay5a.test resolves to 192.0.2.51|relay5b.test resolves to 192.0.2.52), not to 192.0.2.5" \
    "several PTR names: the one named with its own addresses"

out=$(ctl verify rpbad.test)
like "$out" "fail  return-path +bounce.rpbad.test: MX mx.elsewhere.test does not reach the relay" "return-path MX elsewhere"
out=$(ctl verify --ip 192.0.2.2 nullmx.test)
like "$out" "fail  return-path +bounce.nullmx.test: MX \\. \\(null MX\\) does not reach the relay" \
    "a null MX is named as such"

# ---------------------------------------------------------------- no bounce domain
sed '/^\[intake\]/,/^secret_file/d' "$conf" >"$WORLD_TMP/nobounce.conf"
out=$("$CTL_BIN" -c "$WORLD_TMP/nobounce.conf" dns good.test); rc=$?
is "$rc" 1 "dns without [intake] bounce_domain: exit 1"
like "$out" "NOTE: \\[intake\\] bounce_domain is not set" "dns: says the return-path domain is not set"
unlike "$out" "IN	MX" "dns: publishes no return-path MX for a domain the mail never uses"
out=$("$CTL_BIN" -c "$WORLD_TMP/nobounce.conf" verify --ip 192.0.2.2 good.test)
like "$out" "warn  return-path +good.test: \\[intake\\] bounce_domain is not set" "verify: warns instead of checking bounce.good.test"
unlike "$out" "bounce.good.test" "verify: checks no return-path domain the mail never uses"

# ---------------------------------------------------------------- DNS trouble
out=$(ctl verify x.broken.test); rc=$?
is "$rc" 1 "SERVFAIL: exit 1"
like "$out" "fail  spf +x.broken.test: DNS trouble: TXT lookup for x.broken.test: server failure \\(SERVFAIL\\)" "SERVFAIL reported as such"
unlike "$out" "no SPF record|no DMARC record|no MX record|no key record|no PTR" "never as a missing record"
out=$(ctl verify --ip 192.0.2.2 rptrouble.test)
like "$out" "fail  return-path +bounce.rptrouble.test: MX mx.broken.test: DNS trouble resolving it: server failure \\(SERVFAIL\\)" \
    "an MX host that does not resolve for DNS trouble is DNS trouble"
unlike "$out" "does not reach the relay" "not an MX elsewhere"
json=$(ctl verify --json x.broken.test)
is "$("$PYTHON" -c 'import json,sys; d=json.load(sys.stdin); print(sum("SERVFAIL" in c["detail"] for c in d["checks"]) >= 3)' <<<"$json")" \
   "True" "SERVFAIL in the JSON details of spf, dmarc and return-path"
start=$(_now_ms)
out=$(ctl verify --ip 192.0.2.2 x.slow.test); rc=$?
is "$rc" 1 "timeout: exit 1"
like "$out" "fail  spf +x.slow.test: DNS trouble: .*(timeout|SERVFAIL)" "an unanswered query is DNS trouble"
unlike "$out" "no SPF record|no DMARC record|no MX record" "never a missing record"
diag "timeout case took $(( $(_now_ms) - start )) ms"

done_testing
