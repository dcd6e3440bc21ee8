#!/bin/bash
# reputation.sh - outpostctl reputation against blocklists served by the test DNS:
# a listed and a clean pool address (IPv4 and IPv6), a listed and a clean sending
# domain, a list that refuses the query (Spamhaus' 127.255.255.254, asked with a DQS
# key) and a list whose name server never answers: both unknown, never clean (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$CTL_BIN"
command -v openssl >/dev/null || skip_all "openssl not installed"

# resolver: give up fast (the timeout case waits for this)
printf 'nameserver %s\noptions timeout:1 attempts:1\n' "$DNS_ADDR" >"$WORLD_DIR/resolv.conf"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"
openssl genpkey -algorithm ED25519 -out "$keys/ed.pem" 2>/dev/null
chmod 600 "$keys/ed.pem"
echo "shop.test  s1  ed25519  $keys/ed.pem" >"$WORLD_DIR/keytable"

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF2
[dkim]
key_table = $WORLD_DIR/keytable
[pool main]
transport = smtp:
addresses = 192.0.2.10, 192.0.2.20, 2001:db8::5
senders = clean.test, someuser
[blocklist zen]
zone = zen.bl.test
listed = 127.0.0.2-127.0.0.11
refused = 127.255.255.252-127.255.255.255
delist_url = https://check.bl.test/?q=%s
[blocklist quota]
zone = quota.bl.test
key = k3y
listed = 127.0.0.2-127.0.0.11
refused = 127.255.255.252-127.255.255.255
[blocklist slow]
zone = slow.bl.test
[blocklist dbl]
zone = dbl.bl.test
kind = domain
listed = 127.0.1.2-127.0.1.99
refused = 127.255.255.252-127.255.255.255
EOF2
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
like "$(ctl check-config 2>&1)" "$conf: configuration OK" "blocklist sections are valid"

# the lists as the DNS publishes them (RFC 5782): reversed octets, reversed nibbles
v6=$("$PYTHON" -c 'import ipaddress; print(ipaddress.ip_address("2001:db8::5").reverse_pointer[:-len(".ip6.arpa")])')
dns_a 10.2.0.192.zen.bl.test 127.0.0.2
dns_txt 10.2.0.192.zen.bl.test "Listed by ZEN, see https://check.bl.test/?q=192.0.2.10"
dns_a "$v6.zen.bl.test" 127.0.0.4
dns_a 10.2.0.192.k3y.quota.bl.test 127.255.255.254
dns_a 20.2.0.192.k3y.quota.bl.test 127.255.255.254
dns_a shop.test.dbl.bl.test 127.0.1.2
dns_txt shop.test.dbl.bl.test "spam domain"
dns_a news.test.dbl.bl.test 127.0.1.3
# slow.bl.test: its name server takes the questions and never answers
cat >"$WORLD_DIR/silent.py" <<'EOF2'
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    s.recvfrom(4096)
EOF2
world_spawn silent "$PYTHON" "$WORLD_DIR/silent.py" "$WORLD_DIR/run/silent.port"
wait_until 5 test -s "$WORLD_DIR/run/silent.port" || BAIL_OUT "silent name server did not start"
echo "server=/slow.bl.test/127.0.0.1#$(cat "$WORLD_DIR/run/silent.port")" >>"$WORLD_DIR/dns/records.conf"
dns_start
redis_start
# a sender domain the statistics have counted (logd writes these), listed on dbl;
# a sender that is no domain name is not asked about
redis_cli HSET 'outpost:{st}:total' 'news.test|other|main|delivered' 5 \
    'bad name|other|main|delivered' 1 '-|other|main|delivered' 2 >/dev/null

# ---------------------------------------------------------------- text
out=$(ctl reputation); rc=$?
diag "$out"
is "$rc" 1 "exit 1: something is listed"
like "$out" "(^|"$'\n'")192.0.2.10 zen listed 127.0.0.2 reason: Listed by ZEN, see https://check.bl.test/\?q=192.0.2.10 delist: https://check.bl.test/\?q=192.0.2.10"$'\n' \
    "listed address: code, reason TXT, delisting page"
like "$out" $'\n''192.0.2.20 zen clean'$'\n' "clean address (NXDOMAIN)"
like "$out" $'\n''2001:db8::5 zen listed 127.0.0.4' "listed IPv6 address (nibble name)"
like "$out" $'\n''192.0.2.10 quota unknown 127.255.255.254: the list refused the query' \
    "refused answer (asked as ADDR.KEY.ZONE) is unknown"
like "$out" $'\n''192.0.2.20 quota unknown 127.255.255.254' "refused answer for a clean address too"
like "$out" $'\n''2001:db8::5 quota clean' "the keyed list answers NXDOMAIN elsewhere"
for ip in 192.0.2.10 192.0.2.20 2001:db8::5; do
    like "$out" $'\n'"$ip slow unknown: .*(timeout|SERVFAIL)" "unanswered query for $ip is unknown"
done
like "$out" $'\n''shop.test dbl listed 127.0.1.2 reason: spam domain' "key table domain listed"
like "$out" $'\n''clean.test dbl clean' "pool sender domain clean"
like "$out" $'\n''news.test dbl listed 127.0.1.3' "sender domain of the statistics listed"
unlike "$out" 'bad name|(^|'$'\n'')- dbl' "statistics senders that are no domains are not asked"
unlike "$out" 'someuser' "a SASL user is not a domain to check"
unlike "$out" 'shop.test (zen|quota|slow)|192.0.2.10 dbl' "ip lists get addresses, domain lists domains"
like "$out" $'\n''4 listed, 3 clean, 5 unknown$' "the tally"

# ---------------------------------------------------------------- json
json=$(ctl reputation --json); rc=$?
is "$rc" 1 "--json: exit 1"
sum=$("$PYTHON" -c '
import json, sys
d = json.load(sys.stdin)
for c in d["checks"]:
    print(c["target"], c["list"], c["status"], c["code"], c["reason"], c["delist_url"])
print(d["listed"], d["clean"], d["unknown"])' <<<"$json")
like "$sum" "192.0.2.10 zen listed 127.0.0.2 Listed by ZEN, see https://check.bl.test/\?q=192.0.2.10 https://check.bl.test/\?q=192.0.2.10" \
    "--json: the listing with its reason and page"
like "$sum" "192.0.2.10 quota unknown 127.255.255.254 None None" "--json: refused is unknown"
like "$sum" "192.0.2.20 slow unknown None None None" "--json: timeout is unknown"
like "$sum" "clean.test dbl clean None None None" "--json: clean domain"
is "$(tail -1 <<<"$sum")" "4 3 5" "--json: the tally"

# ---------------------------------------------------------------- exit status
cat >"$WORLD_DIR/clean.conf" <<EOF2
[pool main]
transport = smtp:
addresses = 192.0.2.20
[blocklist zen]
zone = zen.bl.test
EOF2
out=$("$CTL_BIN" -c "$WORLD_DIR/clean.conf" reputation); rc=$?
is "$rc" 0 "exit 0: nothing listed, every list answered"
is "$(tail -1 <<<"$out")" "0 listed, 1 clean, 0 unknown" "clean tally"
cat >"$WORLD_DIR/unknown.conf" <<EOF2
[pool main]
transport = smtp:
addresses = 192.0.2.20
[blocklist quota]
zone = quota.bl.test
key = k3y
refused = 127.255.255.252-127.255.255.255
EOF2
"$CTL_BIN" -c "$WORLD_DIR/unknown.conf" reputation >/dev/null; rc=$?
is "$rc" 3 "exit 3: nothing listed but an answer is unknown"
sed 's/^refused = .*/refused = 127.255.255.252-127.0.0.300/' "$WORLD_DIR/unknown.conf" >"$WORLD_DIR/bad.conf"
out=$("$CTL_BIN" -c "$WORLD_DIR/bad.conf" check-config 2>&1); rc=$?
like "$out" "refused" "check-config names a bad code"
isnt "$rc" 0 "and fails"

# ---------------------------------------------------------------- outpost-logd
# the same lists asked on a schedule, asynchronously; gauges and a warning per new listing
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
need_programs "$LOGD_BIN"
touch "$WORLD_DIR/mail.log"
sed -e '/^\[dkim\]/i [general]\nuser = nobody\n[redis]\nserver = unix:'"$REDIS_SOCK"'\n[logd]\nmaillog = '"$WORLD_DIR"'/mail.log\nmetrics_listen = 127.0.0.1:9450\nblocklist_interval = 1s' \
    "$conf" >"$WORLD_DIR/logd.conf"
world_spawn logd "$LOGD_BIN" -f -c "$WORLD_DIR/logd.conf"
scrape() {
    "$PYTHON" -c 'import urllib.request, sys
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9450/metrics", timeout=10).read().decode())'
}
# gauge NAME LIST TARGET - the sample's value, or "none"
gauge() {
    scrape | "$PYTHON" -c '
import re, sys
name, lst, target = sys.argv[1:]
for line in sys.stdin:
    m = re.match(r"^(\w+)\{(.*)\} (\S+)$", line.strip())
    if m and m.group(1) == name and "list=\"%s\"" % lst in m.group(2) and "target=\"%s\"" % target in m.group(2):
        print("%g" % float(m.group(3))); break
else:
    print("none")' "$@"
}
# listed LIST TARGET - the gauge says listed (wait_until runs it again each time)
listed() { test "$(gauge outpost_blocklisted "$1" "$2")" = 1; }
ok 'wait_until 20 listed zen 192.0.2.10' "logd: listed address gauge 1"
is "$(gauge outpost_blocklisted zen 192.0.2.20)" 0 "logd: clean address gauge 0"
is "$(gauge outpost_blocklisted zen 2001:db8::5)" 1 "logd: listed IPv6 address"
is "$(gauge outpost_blocklisted dbl shop.test)" 1 "logd: listed domain"
is "$(gauge outpost_blocklisted dbl clean.test)" 0 "logd: clean domain"
is "$(gauge outpost_blocklisted quota 192.0.2.10)" none "logd: a refused answer is neither listed nor clean"
is "$(gauge outpost_blocklist_answered quota 192.0.2.10)" 0 "logd: ... and counts as not answered"
is "$(gauge outpost_blocklist_answered zen 192.0.2.20)" 1 "logd: a clean answer is an answer"
like "$(cat "$WORLD_DIR/log/logd.log")" "warning: blocklist zen lists 192.0.2.10 \(127.0.0.2\)" \
    "logd: a new listing is a warning"
# a new listing shows at the next round; the old one is not warned about again
dns_a 20.2.0.192.zen.bl.test 127.0.0.3
dns_reload
ok 'wait_until 20 listed zen 192.0.2.20' "logd: a new listing is seen on schedule"
like "$(cat "$WORLD_DIR/log/logd.log")" "warning: blocklist zen lists 192.0.2.20 \(127.0.0.3\)" "logd: and warned about"
is "$(grep -c "blocklist zen lists 192.0.2.10 " "$WORLD_DIR/log/logd.log")" 1 "logd: a listing is warned about once"
ok 'grep -q "forwarded 10.2.0.192.slow.bl.test" "$WORLD_DIR/dns/dnsmasq.log"' "logd: the unanswering list was asked"
is "$(gauge outpost_blocklisted slow 192.0.2.10)" none "logd: a timeout is neither listed nor clean"
is "$(gauge outpost_blocklist_answered slow 192.0.2.10)" 0 "logd: ... nor an answer"
done_testing
