#!/bin/bash
# redis-sizing.sh - how much Redis memory Outpost's state takes, for doc/REDIS.md
#
# Usage (from the build directory, after "make"):
#     ../tests/bench/redis-sizing.sh [SUPPRESSIONS]     # default 1000000
# Starts its own redis-server on a unix socket in a temporary directory and prints
# figures; asserts nothing.
#   - suppressions: imported by the real "outpostctl suppress import" (synthetic list
#     of tests/bench/gen-suppress-csv.py); used_memory before and after.
#   - rate limits: one GCRA key per limit and name, written as policy/gcra.lua writes
#     it (SET P{rl}:g:d:DOMAIN TAT PX ttl), by a Lua loop inside Redis.
#   - statistics: one hour hash P{st}:h:YYYYMMDDHH with fields
#     SENDER|PROVIDER|POOL|COUNTER (HINCRBY, EXPIREAT as common/state/stats.c), and the
#     events stream of outpost-logd (XADD ... MAXLEN ~ N with the fields of
#     logd/track.c).
# Each figure is used_memory's growth divided by the count, and MEMORY USAGE KEY
# SAMPLES 0 of the keys (the command to use on a production server: it is O(1) for
# a string and walks every field of a hash with SAMPLES 0).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$PWD}
ctl=$build/outpostctl
[ -x "$ctl" ] || { echo "build outpostctl first (run from the build directory)" >&2; exit 1; }
nsup=${1:-1000000}
dir=$(mktemp -d /tmp/outpost-sizing.XXXXXX)
trap 'redis-cli -s "$dir/redis.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/redis.sock" --save '' --appendonly no \
    --daemonize yes --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" --dir "$dir"
for _ in $(seq 50); do redis-cli -s "$dir/redis.sock" ping >/dev/null 2>&1 && break; sleep 0.1; done
printf '[redis]\nserver = unix:%s/redis.sock\ncommand_timeout = 5s\n' "$dir" >"$dir/outpost.conf"
rc() { redis-cli -s "$dir/redis.sock" "$@"; }
mem() { rc info memory | sed -n 's/^used_memory:\([0-9]*\).*/\1/p'; }
per() { awk -v a="$1" -v b="$2" -v n="$3" 'BEGIN { printf "%.1f", (b - a) / n }'; }
echo "# $(nproc) cores, redis $(redis-server --version | cut -d' ' -f3), $(date -u +%F)"

# --- suppressions, through outpostctl
rc flushall >/dev/null
base=$(mem)
/usr/bin/python3 "$src/tests/bench/gen-suppress-csv.py" "$nsup" >"$dir/list.csv"
"$ctl" -c "$dir/outpost.conf" suppress import "$dir/list.csv" >/dev/null 2>&1
echo "suppressions: $nsup entries, $(per "$base" "$(mem)" "$nsup") bytes/entry (used_memory)," \
    "one bucket: MEMORY USAGE outpost:{sup}:b:00000 = $(rc memory usage 'outpost:{sup}:b:00000' samples 0) bytes"
rm -f "$dir/list.csv"

# --- rate limits: one key per limited name
n=100000
rc flushall >/dev/null
base=$(mem)
rc eval "local t = redis.call('TIME')
local tat = string.format('%.0f', (tonumber(t[1]) + 60) * 1000000)
for i = 1, tonumber(ARGV[1]) do
  redis.call('SET', string.format('outpost:{rl}:g:d:d%06d.example', i), tat, 'PX', 3600000)
end" 0 "$n" >/dev/null
echo "rate limits: $n keys, $(per "$base" "$(mem)" "$n") bytes/key (used_memory)," \
    "MEMORY USAGE outpost:{rl}:g:d:d000001.example = $(rc memory usage 'outpost:{rl}:g:d:d000001.example' samples 0) bytes"

# --- statistics: one hour of S senders x P providers x 1 pool x C counters
hour() {
    local s=$1 p=$2
    rc flushall >/dev/null
    rc eval "local k = KEYS[1]
local counters = {'accepted', 'delivered', 'deferred', 'bounced', 'bounced_hard',
                  'bounced_soft', 'reason.userunknown', 'throttled'}
for s = 1, tonumber(ARGV[1]) do
  for p = 1, tonumber(ARGV[2]) do
    for _, c in ipairs(counters) do
      redis.call('HINCRBY', k, string.format('shop%d.example|provider%d|default|%s', s, p, c), 17)
    end
  end
end
redis.call('EXPIREAT', k, 1999999999)" 1 'outpost:{st}:h:2026120610' "$s" "$p" >/dev/null
    local f=$((s * p * 8)) mu
    mu=$(rc memory usage 'outpost:{st}:h:2026120610' samples 0)
    echo "statistics: one hour of $s senders x $p providers x 8 counters = $f fields:" \
        "MEMORY USAGE outpost:{st}:h:2026120610 = $mu bytes ($(per 0 "$mu" "$f") bytes/field)," \
        "encoding $(rc object encoding 'outpost:{st}:h:2026120610')"
}
hour 1 8
hour 10 8
hour 100 8

# --- outpost-logd's events stream
n=100000
rc flushall >/dev/null
base=$(mem)
rc eval "for i = 1, tonumber(ARGV[1]) do
  redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*',
    'time', tostring(1796549574 + i), 'qid', string.format('4Q%08XZ', i),
    'rcpt', string.format('user%d@gmail.test', i), 'sender', 'shop.example',
    'relay', 'gmail-smtp-in.l.google.com[142.250.102.26]', 'provider', 'gmail',
    'pool', 'default', 'status', 'sent', 'dsn', '2.0.0', 'delay', '0.83',
    'reason', '', 'reply', '250 2.0.0 OK  1796549574 a1-20020a05600c000000b0040e.1 - gsmtp')
end" 1 'outpost:{st}:events' "$n" >/dev/null
echo "events stream: $n entries, $(per "$base" "$(mem)" "$n") bytes/entry (used_memory)," \
    "MEMORY USAGE outpost:{st}:events = $(rc memory usage 'outpost:{st}:events' samples 0) bytes"
