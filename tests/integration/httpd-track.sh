#!/bin/bash
# httpd-track.sh - outpost-httpd's tracked links and open pixel: /c/ answers
# 302 to exactly the URL the token carries and counts a click, /o/ answers a
# 1x1 GIF and counts an open; a second event of a message is counted but is
# not unique; machines (scanner agents, Apple's privacy proxy, proxy networks
# named through a trusted X-Forwarded-For, fetches right after sending) are
# counted apart; the counts reach the hourly statistics per sender domain,
# provider and campaign (outpostctl stats) and the metrics; a forged or
# altered token is no redirect; a stale one still redirects, uncounted (TAP)
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
[intake]
secret_file = $secret
token_max_age = 30d
[httpd]
listen = 127.0.0.1:8480
metrics_listen = 127.0.0.1:9434
machine_delay = 30s
[provider google]
domains = gmail.test
EOF
base=http://127.0.0.1:8480
chrome='Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36'
mint() { "$MINT" "$secret" "$@"; }
hdr=$WORLD_TMP/hdr body=$WORLD_TMP/body
# get PATH [CURL-OPTION...] - GET as a person's browser; prints the status
get() {
    local p=$1; shift
    curl -s -o "$body" -D "$hdr" -w '%{http_code}' -A "$chrome" "$@" "$base$p"
}
location() { tr -d '\r' <"$hdr" | sed -n 's/^[Ll]ocation: //p'; }
metric() {
    curl -s http://127.0.0.1:9434/metrics | awk -v m="$1{node=\"t1\"${2:+,}$2}" '$1 == m { print $2 }'
}
# count BY ROW KEY - one counter of outpostctl stats --by BY --json
count() { stats_field "$(stats_json "$1")" "$2" "$3"; }
# count_is BY ROW KEY N - for wait_until: the counter has reached N
count_is() { test "$(count "$1" "$2" "$3")" = "$4"; }

redis_start
world_spawn httpd "$HTTPD_BIN" -f -c "$conf"
ok 'wait_until 10 curl -s -o /dev/null $base/' "outpost-httpd listens"

url1='https://shop.test/landing?utm_source=mail&id=42#top'
url2='http://www.shop.test/p/%E2%9C%93?a=1&b=2'
c1=$(mint c 3600 alice@gmail.test shop.test '<m1@shop.test>' spring 0 "$url1")
c2=$(mint c 3600 alice@gmail.test shop.test '<m1@shop.test>' spring 1 "$url2")
c3=$(mint c 3600 bob@yahoo.test shop.test '<m2@shop.test>' spring 0 "$url1")

# --- clicks by a person
is "$(get "/c/$c1")" 302 "/c/: 302"
is "$(location)" "$url1" "to exactly the URL in the token"
like "$(cat "$hdr")" 'Cache-Control: no-store' "not cached"
is "$(get "/c/$c1")" 302 "the same link again"
is "$(get "/c/$c2")" 302 "another link of the same message"
is "$(location)" "$url2" "to its own URL"
is "$(get "/c/$c3")" 302 "a link of another message"
ok 'wait_until 10 count_is sender shop.test clicks 4' "four clicks for the sender"
is "$(count provider google clicks)" 3 "three for google's recipient"
is "$(count provider google clicks_unique)" 1 "one unique: one message, one recipient"
is "$(count provider other clicks_unique)" 1 "the other message's click is unique too (provider other)"
is "$(count campaign spring clicks)" 4 "and for its campaign"
is "$(count campaign spring clicks_unique)" 2 "two unique clicks in the campaign"

# --- machines: counted apart
is "$(curl -s -o /dev/null -w '%{http_code}' "$base/c/$c1")" 302 "a scanner (curl's agent) is redirected too"
early=$(mint c 0 carol@gmail.test shop.test '<m3@shop.test>' spring 0 "$url1")
is "$(get "/c/$early")" 302 "a click right after sending"
ok 'wait_until 10 count_is sender shop.test clicks_machine 2' "both are machine clicks"
is "$(count sender shop.test clicks)" 4 "and no person's clicks"
is "$(metric outpost_httpd_machine_signals_total 'signal="agent"')" 1 "signal: agent"
is "$(metric outpost_httpd_machine_signals_total 'signal="early"')" 1 "signal: early"

# --- opens
o1=$(mint o 3600 alice@gmail.test shop.test '<m1@shop.test>' spring 0 -)
o2=$(mint o 3600 dave@gmail.test shop.test '<m4@shop.test>' '' 0 -)
is "$(get "/o/$o1")" 200 "/o/: 200"
like "$(cat "$hdr")" 'Content-Type: image/gif' "an image"
is "$(head -c 6 "$body")" GIF89a "a GIF"
is "$(stat -c %s "$body")" 43 "of 43 bytes (1x1, transparent)"
is "$(get "/o/$o1")" 200 "opened again"
is "$(get "/o/$o2")" 200 "another message opened (no campaign)"
ok 'wait_until 10 count_is provider google opens 3' "three opens"
is "$(count provider google opens_unique)" 2 "two unique"
is "$(count campaign spring opens)" 2 "two in the campaign"
is "$(count campaign spring opens_unique)" 1 "one unique there"
is "$(get "/o/$o1" -A 'Mozilla/5.0')" 200 "Apple's privacy proxy fetches the image"
is "$(get "/o/$o2" -H 'X-Forwarded-For: 198.51.100.1, 66.249.84.7')" 200 \
    "a fetch from Google's image proxy network, through the trusted proxy"
ok 'wait_until 10 count_is sender shop.test opens_machine 2' "both are machine opens"
is "$(count sender shop.test opens)" 3 "and no person's"
is "$(metric outpost_httpd_machine_signals_total 'signal="apple"')" 1 "signal: apple"
is "$(metric outpost_httpd_machine_signals_total 'signal="network"')" 1 "signal: network"

# --- HEAD: the same answer, nothing counted (link checkers send it, people's
# mail clients do not)
o3=$(mint o 3600 ivan@gmail.test head.test '<m5@head.test>' '' 0 -)
c4=$(mint c 3600 ivan@gmail.test head.test '<m5@head.test>' '' 0 "$url1")
is "$(get "/o/$o3" -I)" 200 "HEAD /o/: 200"
like "$(cat "$hdr")" 'Content-Type: image/gif' "the image's header"
is "$(get "/c/$c4" -I)" 302 "HEAD /c/: 302"
is "$(location)" "$url1" "to the URL in the token"
is "$(get "/o/$o3")" 200 "then a GET of the image"
ok 'wait_until 10 count_is sender head.test opens 1' "the GET is counted"
is "$(count sender head.test opens_unique)" 1 "as the message's unique open"
is "$(count sender head.test clicks)" 0 "the HEAD of the link counts no click"
is "$(count sender head.test clicks_machine)" 0 "not even a machine's"

# --- a GET with a body (allowed, if meaningless): the body is read and
# dropped, the answer is the same
is "$(get "/c/$c4" -X GET -H 'Content-Type: text/plain' --data-binary 'hello')" 302 \
    "GET /c/ with a body: 302"
is "$(location)" "$url1" "to the URL in the token"
is "$(get "/o/$o3" -X GET -H 'Content-Type: text/plain' --data-binary 'hello')" 200 \
    "GET /o/ with a body: 200"
ok 'wait_until 10 count_is sender head.test clicks 1' "the click is counted, once"
is "$(count sender head.test opens)" 2 "the open too"

# --- no open redirect: only a URL the token signs
forged=${c1:0:30}$(tr 'A-Za-z' 'B-ZAb-za' <<<"${c1:30:1}")${c1:31}
is "$(get "/c/$forged")" 400 "an altered click token: 400"
is "$(location)" "" "and no redirect"
is "$(get "/c/$o1")" 400 "an open token on /c/: 400"
is "$(location)" "" "no redirect"
is "$(get "/c/https://evil.test/")" 400 "a URL in place of the token: 400"
js=$(mint c 3600 alice@gmail.test shop.test '<m1@shop.test>' spring 0 'javascript:alert(1)' 2>/dev/null)
is "$js" "" "no token can carry a javascript: URL"
is "$(metric outpost_httpd_tokens_refused_total 'route="click",why="forged"')" 2 "the forged ones are counted"
stale=$(mint c $((40 * 86400)) alice@gmail.test shop.test '<m1@shop.test>' spring 0 "$url1")
is "$(get "/c/$stale")" 302 "a stale but genuine link still redirects"
is "$(location)" "$url1" "to its URL"
is "$(get "/o/$forged")" 200 "a bad open token still gets the image"
sleep 0.5
is "$(count sender shop.test clicks)" 4 "neither is counted"
is "$(metric outpost_httpd_tokens_refused_total 'route="click",why="stale"')" 1 "the stale one is counted apart"

# --- outpostctl stats and the metrics
out=$("$CTL_BIN" -c "$conf" stats --by sender)
like "$out" 'opens +unique +machine +clicks +unique +machine' "outpostctl stats shows opens and clicks"
like "$out" 'shop\.test +3 +2 +2 +4 +2 +2' "with the sender's figures"
like "$("$CTL_BIN" -c "$conf" stats --by campaign)" 'spring +2 +1 +1 +4 +2 +2' "and per campaign"
is "$(metric outpost_httpd_events_total 'route="click",by="person"')" 5 "metrics: person clicks"
is "$(metric outpost_httpd_events_total 'route="open",by="machine"')" 2 "metrics: machine opens"
# the counters' hashes: {st} on one Redis, {st:B} by sender bucket on a cluster
st_keys() { redis_cli --scan --pattern "outpost:{st*}:$1"; }
total=$(for k in $(st_keys total); do redis_cli HKEYS "$k"; done)
like "$total" 'shop\.test\|google\|-\|opens' "the totals hold the sender and provider counts"
unlike "$total" 'campaign' "but no campaign (hourly only)"
hours=$(for k in $(st_keys 'h:*'); do redis_cli HKEYS "$k"; done)
like "$hours" 'shop\.test\|google\|-\|campaign\.opens\.spring' "which the hours hold"

# --- campaigns without bound: 6,000 more in the hour, one open each (as many
# messages, each naming its own campaign, would leave); the report keeps 5,000
# rows by name and sums the others into one last row, losing no count
hk=$(for k in $(st_keys 'h:*'); do redis_cli HEXISTS "$k" 'shop.test|google|-|campaign.opens.spring' | grep -q 1 && echo "$k"; done)
redis_cli EVAL "for i = 1, 6000 do redis.call('HSET', KEYS[1], 'shop.test|google|-|campaign.opens.c' .. i, 1) end" \
    1 "$hk" >/dev/null
"$CTL_BIN" -c "$conf" stats --by campaign --json >"$WORLD_TMP/camp.json"
is "$("$PYTHON" -c '
import json, sys
d = json.load(open(sys.argv[1]))
r = d["rows"]
print(len(r), r[-1]["name"], d["folded"], sum(x["opens"] for x in r), d["total"]["opens"],
      r[:-1] == sorted(r[:-1], key=lambda x: x["name"]))' "$WORLD_TMP/camp.json")" \
    "5001 (others) True 6002 6002 True" \
    "6,001 campaigns: 5,000 rows by name (sorted), the others in one last row, every open counted"

# --- the answers kept per link: more links than are kept, each clicked
# twice in turn, each lands on its own URL, and each click is counted
bad=0
for round in 1 2; do
    for i in $(seq 100); do
        u="https://many.test/p/$i?r=x"
        t=$(mint c 3600 "r$i@many.test" many.test "<k$i@many.test>" '' 0 "$u")
        [ "$(get "/c/$t")" = 302 ] && [ "$(location)" = "$u" ] || bad=$((bad + 1))
    done
done
is "$bad" 0 "200 clicks on 100 links: each to its own URL"
ok 'wait_until 10 count_is sender many.test clicks 200' "each counted"
is "$(count sender many.test clicks_unique)" 100 "once unique per recipient"

# --- a write that times out (Redis frozen longer than command_timeout) but
# reaches Redis afterwards is not counted twice when it is sent again: the
# clicks are made while Redis is frozen, it is let go once the worker has
# said that its write timed out (the write waits in the socket meanwhile)
log=$WORLD_DIR/log/httpd.log
redis_pause
bad=0
# machines' clicks: no seen script, only the stats batch times out
for i in $(seq 10); do
    t=$(mint c 3600 "m$i@late.test" late.test "<l$i@late.test>" '' 0 "https://late.test/$i")
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$base/c/$t")" = 302 ] || bad=$((bad + 1))
done
ok 'wait_until 10 grep -q "writing statistics" "$log"' "the write timed out"
redis_resume
is "$bad" 0 "clicks answered while Redis is frozen"
ok 'wait_until 10 count_is sender late.test clicks_machine 10' "the ten machine clicks are counted"
ok 'wait_until 10 grep -q "the last write had reached Redis after all" "$log"' \
    "and was found written when sent again"
sleep 1
is "$(count sender late.test clicks_machine)" 10 "counted once"
# a person's clicks: the seen script times out, its marks are its own
redis_pause
for i in $(seq 10); do
    t=$(mint c 3600 "p$i@late.test" late.test "<q$i@late.test>" '' 0 "https://late.test/$i")
    get "/c/$t" >/dev/null
done
ok 'wait_until 10 grep -q "counting opens and clicks" "$log"' "the seen script timed out"
redis_resume
ok 'wait_until 10 count_is sender late.test clicks 10' "the ten clicks of people are counted"
sleep 1
is "$(count sender late.test clicks)" 10 "counted once"
is "$(count sender late.test clicks_unique)" 10 "each one unique"
state=$(redis_cli --scan --pattern 'outpost:{st}:httpd:*')
like "$(redis_cli HGET "$state" batch)" '^[1-9][0-9]*$' "the batches written are numbered"
world_kill httpd
gone() { test "$(redis_cli EXISTS "$state")" = 0; }
ok 'wait_until 10 gone' "and the number goes when outpost-httpd stops"
done_testing
