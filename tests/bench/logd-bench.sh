#!/bin/bash
# logd-bench.sh - how fast outpost-logd reads a Postfix log (lines/s)
#
# Writes a log of N messages (from=, one delivery, removed: 3 lines each;
# 10% bounced, 10% deferred), starts a private redis-server on a unix
# socket, and runs "outpost-logd -r" over it, which reads the whole file,
# writes every count, event and backoff to Redis, and prints the time.
#
# Usage: tests/bench/logd-bench.sh [MESSAGES]    (default 200000)
# Needs redis-server.  Prints figures; asserts nothing.
set -eu
n=${1:-200000}
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${OUTPOST_BUILDDIR:-$src/build}
[ -x "$build/outpost-logd" ] || build=$src
dir=$(mktemp -d /tmp/logd-bench.XXXXXX)
trap 'redis-cli -s "$dir/r.sock" shutdown nosave >/dev/null 2>&1 || true; rm -rf "$dir"' EXIT
redis-server --port 0 --unixsocket "$dir/r.sock" --save '' --daemonize yes \
    --pidfile "$dir/r.pid" --logfile "$dir/redis.log"
for _ in $(seq 50); do [ -S "$dir/r.sock" ] && break; sleep 0.1; done
python3 - "$n" >"$dir/mail.log" <<'PY'
import sys
n = int(sys.argv[1])
w = sys.stdout.write
for i in range(n):
    q = "B%09X" % i
    s = "shop%d.test" % (i % 20)
    d = ("gmail.test", "outlook.test", "yahoo.test")[i % 3]
    w("Nov 28 16:48:42 relay postfix/qmgr[9]: %s: from=<news@%s>, size=2048, nrcpt=1 (queue active)\n" % (q, s))
    if i % 10 == 3:
        st = "dsn=5.1.1, status=bounced (host mx.%s[127.0.0.11] said: 550 5.1.1 user unknown (in reply to RCPT TO command))" % d
    elif i % 10 == 7:
        st = "dsn=4.2.2, status=deferred (host mx.%s[127.0.0.11] said: 452 4.2.2 mailbox full (in reply to RCPT TO command))" % d
    else:
        st = "dsn=2.0.0, status=sent (250 2.0.0 Ok: queued as 123)"
    w("Nov 28 16:48:42 relay postfix/warm%d/smtp[10]: %s: to=<user%d@%s>, relay=mx.%s[127.0.0.11]:25, delay=0.12, delays=0.01/0/0.05/0.06, %s\n" % (i % 2, q, i, d, d, st))
    w("Nov 28 16:48:42 relay postfix/qmgr[9]: %s: removed\n" % q)
PY
cat >"$dir/o.conf" <<EOF
[redis]
server = unix:$dir/r.sock
[logd]
events_max = 100000
# the log's lines carry a fixed date: act on them all (backoffs, suppressions)
max_line_age = 0
[provider google]
mx = *.gmail.test
[provider microsoft]
mx = *.outlook.test
[pool warm0]
transport = warm0
[pool warm1]
transport = warm1
EOF
lines=$(wc -l <"$dir/mail.log")
size=$(du -m "$dir/mail.log" | cut -f1)
echo "log: $lines lines, ${size} MiB, $n messages"
out=$("$build/outpost-logd" -c "$dir/o.conf" -r "$dir/mail.log" 2>/dev/null)
echo "$out"
ms=${out##* ms }
echo "lines/s: $((lines * 1000 / (ms > 0 ? ms : 1)))  (events to the stream on)"
redis-cli -s "$dir/r.sock" flushall >/dev/null
sed -i 's/^events_max = .*/events_max = 0/' "$dir/o.conf"
out=$("$build/outpost-logd" -c "$dir/o.conf" -r "$dir/mail.log" 2>/dev/null)
ms=${out##* ms }
echo "lines/s: $((lines * 1000 / (ms > 0 ? ms : 1)))  (no event stream)"
