#!/bin/bash
# policy-reload.sh - outpost-policyd's connection settings after a reload (TAP)
#
# A client connected before a reload that raises max_request_size keeps its
# connection (Postfix keeps one per smtpd process for a long time): a request
# larger than the old size but within the new one is answered on it, as on a
# new connection, not left unread until request_timeout closes it.
# A reload that changes what is read at start only (listen, [redis]) says
# so for each key, and keeps it: the counters stay under the first prefix.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN"

psock=$WORLD_DIR/run/policy.sock
conf=$WORLD_DIR/policyd.conf
# writeconf SIZE [PREFIX [LISTEN...]] - the configuration with this max_request_size
writeconf() {
    cat >"$conf" <<EOC
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
prefix = ${2:-t:}
[policy]
listen = unix:$psock ${*:3}
request_timeout = 3s
max_request_size = $1
[domain x.test]
rate = 1000/h
burst = 1000
EOC
}
writeconf 1k
redis_start
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $psock' "policyd listens"

py=$WORLD_TMP/client.py
cat >"$py" <<'EOP'
import os, socket, sys, time
def req(pad, state=b"DATA"):
    return (b"request=smtpd_access_policy\nprotocol_state=" + state + b"\n"
            b"sender=a@shop.test\nrecipient=b@x.test\npad=" + b"x" * pad + b"\n\n")
def answer(s):
    buf = b""
    while not buf.endswith(b"\n\n"):
        try:
            d = s.recv(512)
        except ConnectionResetError:
            return "closed"
        except OSError as e:
            return "error " + str(e)
        if not d:
            return "closed" + (" after " + buf.decode() if buf else "")
        buf += d
    return buf.decode().strip()
s = socket.socket(socket.AF_UNIX)
s.settimeout(8)
s.connect(sys.argv[1])
if sys.argv[2] == "old":     # old SOCK GO OUT: a small request, then a large one once GO exists
    s.sendall(req(10))
    first = answer(s)
    with open(sys.argv[4], "w") as f:
        f.write("first=%s\n" % first)
    for _ in range(100):
        if os.path.exists(sys.argv[3]):
            break
        time.sleep(0.1)
    s.sendall(req(3000))
    with open(sys.argv[4], "a") as f:
        f.write("second=%s\n" % answer(s))
elif sys.argv[2] == "rcpt":  # rcpt SOCK: a RCPT request, which counts
    s.sendall(req(10, b"RCPT"))
    print(answer(s))
else:                        # new SOCK: one large request
    try:
        s.sendall(req(3000))
    except (BrokenPipeError, ConnectionResetError):
        pass                 # closed while it was sent: the answer says so
    print(answer(s))
EOP
/usr/bin/python3 "$py" "$psock" old "$WORLD_TMP/go" "$WORLD_TMP/old" &
client=$!
ok 'wait_until 10 grep -qs first= $WORLD_TMP/old' "a client connects before the reload"
is "$(grep first= "$WORLD_TMP/old")" "first=action=DUNNO" "and is answered"
is "$(timeout 10 /usr/bin/python3 "$py" "$psock" new)" "closed" \
    "a 3 kB request is refused with max_request_size = 1k"

writeconf 8k
world_kill policyd HUP
ok 'wait_until 5 grep -q "configuration reloaded" $WORLD_DIR/log/policyd.log' "reloaded with 8k"
is "$(timeout 10 /usr/bin/python3 "$py" "$psock" new)" "action=DUNNO" \
    "a new connection gets an answer to a 3 kB request"
touch "$WORLD_TMP/go"
ok 'wait_until 15 grep -qs second= $WORLD_TMP/old' "the older client sends a 3 kB request"
is "$(grep second= "$WORLD_TMP/old")" "second=action=DUNNO" \
    "the connection made before the reload is answered too"
wait "$client"
unlike "$(cat "$WORLD_DIR/log/policyd.log")" "no complete request within request_timeout" \
    "no request was left to time out"
ok 'kill -0 $(world_pid policyd)' "policyd still runs"

# --- a reload that changes settings read at start only ---------------------------
is "$(timeout 10 /usr/bin/python3 "$py" "$psock" rcpt)" "action=DUNNO" "a RCPT request"
ok '[ -n "$(redis_cli --scan --pattern "t:*x.test*")" ]' "the domain's counter is under t:"
writeconf 8k u: unix:$WORLD_DIR/run/policy2.sock
world_kill policyd HUP
reloaded_twice() { [ "$(grep -c "configuration reloaded" "$WORLD_DIR/log/policyd.log")" = 2 ]; }
ok 'wait_until 5 reloaded_twice' "a reload with another listen and prefix is taken"
log=$(cat "$WORLD_DIR/log/policyd.log")
like "$log" "reload: \\[policy\\] listen changed: restart outpost-policyd" "the new listen is said"
like "$log" "reload: \\[redis\\] prefix changed: restart outpost-policyd" "the new prefix is said"
ok '[ ! -e $WORLD_DIR/run/policy2.sock ]' "no new socket was opened"
is "$(timeout 10 /usr/bin/python3 "$py" "$psock" rcpt)" "action=DUNNO" "a RCPT request after the reload"
is "$(redis_cli --scan --pattern "u:*")" "" "its counter stays under t:, nothing under u:"
done_testing
