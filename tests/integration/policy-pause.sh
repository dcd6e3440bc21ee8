#!/bin/bash
# policy-pause.sh - outpost-policyd at its connection cap with no idle connection to close (TAP)
#
# policyd runs with "ulimit -n 256" (room for 192 clients).  The oldest 70
# connections hold a request begun and never finished (not idle: never closed to
# make room), 121 more are idle but younger than the ones looked at for closing,
# and a 192nd client asks one request after another.  Accepting pauses at the
# cap; 60 more clients wait in the backlog.  The client's answers must not let
# them in one by one over the cap: policyd stays within it.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN"

psock=$WORLD_DIR/run/policy.sock
conf=$WORLD_DIR/policyd.conf
cat >"$conf" <<EOC
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[policy]
listen = unix:$psock
request_timeout = 60s
EOC
redis_start
world_spawn policyd bash -c 'ulimit -n 256 && exec "$0" -f -c "$1"' "$POLICYD_BIN" "$conf"
ok 'wait_until 5 test -S $psock' "policyd listens"
pid=$(world_pid policyd)
like "$(cat "$WORLD_DIR/log/policyd.log")" "accepting at most 192 connections" "the cap is 192"

py=$WORLD_TMP/clients.py
cat >"$py" <<'EOP'
import os, socket, sys, time
REQ = b"request=smtpd_access_policy\nprotocol_state=DATA\nrecipient=b@x.test\n\n"
mode, addr = sys.argv[1], sys.argv[2]
if mode == "hold":           # hold ADDR N STOPFILE [partial]: N connections until STOPFILE
    n, stop, partial = int(sys.argv[3]), sys.argv[4], len(sys.argv) > 5
    socks = []
    for i in range(n):
        s = socket.socket(socket.AF_UNIX)
        s.setblocking(False)
        try:
            s.connect(addr)
        except BlockingIOError:
            pass
        if partial:
            s.send(b"request=smtpd_access_policy\n")
        socks.append(s)
    print("held=%d" % len(socks), flush=True)
    while not os.path.exists(stop):
        time.sleep(0.1)
elif mode == "ask":          # ask ADDR N GO OUT: connect, then N requests once GO exists
    n, go, out = int(sys.argv[3]), sys.argv[4], sys.argv[5]
    s = socket.socket(socket.AF_UNIX)
    s.settimeout(10)
    s.connect(addr)
    open(out, "w").write("connected\n")
    while not os.path.exists(go):
        time.sleep(0.1)
    answered = 0
    for i in range(n):
        s.sendall(REQ)
        buf = b""
        while not buf.endswith(b"\n\n"):
            d = s.recv(512)
            if not d:
                break
            buf += d
        if buf == b"action=DUNNO\n\n":
            answered += 1
    open(out, "a").write("answered=%d\n" % answered)
EOP
held() { grep -qs "held=$2" "$WORLD_TMP/$1"; }
/usr/bin/python3 "$py" hold "$psock" 70 "$WORLD_TMP/stop" partial >"$WORLD_TMP/partial" &
holders=$!
ok 'wait_until 20 held partial 70' "70 connections with a request begun"
/usr/bin/python3 "$py" hold "$psock" 121 "$WORLD_TMP/stop" >"$WORLD_TMP/idle" &
holders="$holders $!"
ok 'wait_until 20 held idle 121' "121 idle connections"
/usr/bin/python3 "$py" ask "$psock" 40 "$WORLD_TMP/go" "$WORLD_TMP/ask" &
asker=$!
ok 'wait_until 20 grep -qs connected $WORLD_TMP/ask' "the 192nd client connects"
# clients - client connections policyd holds (its sockets less the listener)
clients() { echo $(( $(ls -l /proc/$pid/fd 2>/dev/null | grep -c socket) )); }
ok 'wait_until 20 test $(clients) -ge 192' "policyd holds the 192 ($(clients) sockets)"
/usr/bin/python3 "$py" hold "$psock" 60 "$WORLD_TMP/stop" >"$WORLD_TMP/wait" &
holders="$holders $!"
ok 'wait_until 20 held wait 60' "60 more clients wait in the backlog"
touch "$WORLD_TMP/go"
ok 'wait_until 30 grep -qs answered= $WORLD_TMP/ask' "the client asks 40 requests"
is "$(grep answered= "$WORLD_TMP/ask")" "answered=40" "each is answered"
n=$(clients)
# 192 clients, the listener, Redis, the DNS resolver, the log: a few over 192
ok '[ "$n" -le 200 ]' "the answers let nobody in over the cap ($n sockets)"
touch "$WORLD_TMP/stop"
wait $holders $asker
ok 'kill -0 $pid' "policyd still runs"
done_testing
