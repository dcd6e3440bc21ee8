#!/bin/bash
# policy-limits.sh - outpost-policyd when clients take every file descriptor (TAP)
#
# policyd runs with "ulimit -n 256" (room for 192 clients).  Against it:
#   - 2,000 idle connections on its unix socket: the least recently active idle ones
#     are closed to make room, a valid client is answered, policyd's CPU time over the
#     episode stays low and its log short (no accept() loop);
#   - its open-file limit lowered under it (prlimit) and another flood: accept() fails
#     with EMFILE, policyd closes idle connections or pauses instead of spinning;
#   - 100 connections from one TCP address: max_client_connections of them are kept,
#     and a client from another address is answered;
#   - a client sending a request one byte a second is closed after request_timeout,
#     while a normal client is served;
#   - every slot taken by a request begun and never finished: accepting pauses (no
#     connection is idle, none is closed to make room), a new client waits in the
#     backlog and is answered once request_timeout has freed the slots.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN"
command -v prlimit >/dev/null && command -v setpriv >/dev/null || skip_all "prlimit or setpriv not installed"

psock=$WORLD_DIR/run/policy.sock
conf=$WORLD_DIR/policyd.conf
cat >"$conf" <<EOC
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
[policy]
listen = unix:$psock, inet:127.0.0.1:10040
request_timeout = 3s
max_client_connections = 20
EOC
redis_start
world_spawn policyd bash -c 'ulimit -n 256 && exec "$0" -f -c "$1"' "$POLICYD_BIN" "$conf"
ok 'wait_until 5 test -S $psock' "policyd listens"
pid=$(world_pid policyd)
like "$(cat "$WORLD_DIR/log/policyd.log")" "accepting at most 192 connections, 20 from one TCP client address" \
    "max_connections comes from the open-file limit (256 less a reserve of 64)"

# clients: flood (many idle connections), ask (one valid request), slow (a byte a second)
py=$WORLD_TMP/clients.py
cat >"$py" <<'EOP'
import os, resource, select, socket, sys, time
REQ = (b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@shop.test\n"
       b"recipient=b@gmail.test\nclient_address=127.0.0.1\nqueue_id=ABC\n\n")
def conn(addr, src=None, timeout=5):
    if addr.startswith("/"):
        s = socket.socket(socket.AF_UNIX)
    else:
        s = socket.socket(socket.AF_INET)
        if src:
            s.bind((src, 0))
    s.settimeout(timeout)
    host, _, port = addr.rpartition(":")
    s.connect(addr if addr.startswith("/") else (host, int(port)))
    return s
def alive(s):
    """the server has not closed s"""
    p = select.poll()
    p.register(s, select.POLLIN)
    if not p.poll(0):
        return True
    try:
        return s.recv(1, socket.MSG_PEEK) != b""
    except OSError:
        return False
mode, addr = sys.argv[1], sys.argv[2]
if mode == "flood":          # flood ADDR N SRC STOPFILE [partial]: hold N connections until
    n, src, stop = int(sys.argv[3]), sys.argv[4] or None, sys.argv[5]   # STOPFILE exists
    partial = len(sys.argv) > 6       # each sends the first line of a request, no more
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 100, n + 100))
    socks, failed = [], 0
    for i in range(n):
        try:
            socks.append(conn(addr, src, 0.2))
            if partial:
                socks[-1].sendall(b"request=smtpd_access_policy\n")
        except OSError:
            failed += 1
    time.sleep(1)
    open_ = [alive(s) for s in socks]
    print("connected=%d failed=%d open=%d first_open=%d last_open=%d"
          % (len(socks), failed, sum(open_), open_[0] if open_ else 0, open_[-1] if open_ else 0),
          flush=True)
    for _ in range(600):
        if os.path.exists(stop):
            break
        time.sleep(0.1)
elif mode == "ask":          # ask ADDR [SRC]: the answer to one request
    s = conn(addr, sys.argv[3] if len(sys.argv) > 3 else None)
    s.sendall(REQ)
    print(s.recv(512).decode().strip())
elif mode == "slow":         # slow ADDR: a byte a second; how many were sent before the close
    s = conn(addr)
    start, sent = time.time(), 0
    for b in REQ:
        try:
            if not alive(s):
                break
            s.sendall(bytes([b]))
            sent += 1
        except OSError:
            break
        time.sleep(1)
    print("sent=%d of=%d seconds=%d" % (sent, len(REQ), time.time() - start))
EOP
ask() { timeout 10 /usr/bin/python3 "$py" ask "$@" 2>&1; }
# cpu - policyd's CPU time so far, in clock ticks (user + system)
cpu() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
loglines() { wc -l <"$WORLD_DIR/log/policyd.log"; }
is "$(ask "$psock")" "action=DUNNO" "a client is answered"

# --- 2,000 idle connections on the unix socket
c0=$(cpu); l0=$(loglines)
/usr/bin/python3 "$py" flood "$psock" 2000 "" "$WORLD_TMP/stop1" >"$WORLD_TMP/flood1" &
flood=$!
ok 'wait_until 60 grep -q connected= $WORLD_TMP/flood1' "2,000 connections attempted"
note "$(cat "$WORLD_TMP/flood1")"
is "$(ask "$psock")" "action=DUNNO" "with 2,000 idle connections, a client is still answered"
read -r _ _ open first last < <(tr '=' ' ' <"$WORLD_TMP/flood1" | awk '{ print $2, $4, $6, $8, $10 }')
ok '[ "$open" -le 192 ] && [ "$first" = 0 ] && [ "$last" = 1 ]' \
    "at most 192 kept open: the oldest idle ones were closed, the newest kept (open=$open)"
ok '[ "$(ls /proc/$pid/fd | wc -l)" -le 256 ]' "policyd stays within its open-file limit"
used=$(( $(cpu) - c0 )); lines=$(( $(loglines) - l0 ))
ok '[ $((used * 1000 / hz)) -lt 500 ]' "CPU time over the episode under 0.5 s ($((used * 1000 / hz)) ms)"
ok '[ "$lines" -le 10 ]' "the log grew by a few lines only ($lines)"
touch "$WORLD_TMP/stop1"; wait "$flood"

# --- the open-file limit lowered under a running policyd: accept() gets EMFILE
# as policyd's own user: root here may lack CAP_SYS_RESOURCE
as_policyd() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups "$@"; }
as_policyd prlimit --pid "$pid" --nofile=100:256
c0=$(cpu); l0=$(loglines)
/usr/bin/python3 "$py" flood "$psock" 2000 "" "$WORLD_TMP/stop2" >"$WORLD_TMP/flood2" &
flood=$!
ok 'wait_until 60 grep -q connected= $WORLD_TMP/flood2' "2,000 more connections attempted (limit 100)"
note "$(cat "$WORLD_TMP/flood2")"
is "$(ask "$psock")" "action=DUNNO" "out of descriptors: a client is still answered"
used=$(( $(cpu) - c0 )); lines=$(( $(loglines) - l0 ))
ok '[ $((used * 1000 / hz)) -lt 500 ]' "no accept() loop: CPU time under 0.5 s ($((used * 1000 / hz)) ms)"
ok '[ "$lines" -le 10 ]' "the log grew by a few lines only ($lines)"
read -r _ _ open _ < <(tr '=' ' ' <"$WORLD_TMP/flood2" | awk '{ print $2, $4, $6, $8 }')
ok '[ "$open" -le 50 ]' "at most 50 kept open, what a limit of 100 leaves room for (open=$open)"
like "$(cat "$WORLD_DIR/log/policyd.log")" "accept: Too many open files: at most [0-9]+ connections until the next reload" \
    "EMFILE is logged with the new cap"
touch "$WORLD_TMP/stop2"; wait "$flood"
as_policyd prlimit --pid "$pid" --nofile=256:256
world_kill policyd HUP                      # the cap follows the limit again
# caps192 - the start's line and the reload's
caps192() { [ "$(grep -c "accepting at most 192" "$WORLD_DIR/log/policyd.log")" -ge 2 ]; }
ok 'wait_until 10 caps192' "a reload sets the cap from the open-file limit again"

# --- one TCP address takes at most max_client_connections
l0=$(loglines)
/usr/bin/python3 "$py" flood 127.0.0.1:10040 100 127.0.0.5 "$WORLD_TMP/stop3" >"$WORLD_TMP/flood3" &
flood=$!
ok 'wait_until 30 grep -q connected= $WORLD_TMP/flood3' "100 TCP connections from 127.0.0.5 attempted"
note "$(cat "$WORLD_TMP/flood3")"
like "$(cat "$WORLD_TMP/flood3")" " open=20 " "20 of them are kept (max_client_connections)"
is "$(ask 127.0.0.1:10040 127.0.0.6)" "action=DUNNO" "a client from 127.0.0.6 is answered"
ok '[ $(( $(loglines) - l0 )) -le 5 ]' "refusals are logged a few lines only"
touch "$WORLD_TMP/stop3"; wait "$flood"

# --- a request one byte a second: closed after request_timeout (3 s)
/usr/bin/python3 "$py" slow "$psock" >"$WORLD_TMP/slow" &
slow=$!
sleep 1
is "$(ask "$psock")" "action=DUNNO" "a normal client is served meanwhile"
ok 'wait_until 15 grep -q sent= $WORLD_TMP/slow' "the slow client's connection is closed"
note "$(cat "$WORLD_TMP/slow")"
read -r sent total < <(tr '=' ' ' <"$WORLD_TMP/slow" | awk '{ print $2, $4 }')
ok '[ "${sent:-999}" -lt 10 ] && [ "${sent:-999}" -lt "${total:-0}" ]' \
    "closed after a few bytes, long before the request was complete ($sent of $total)"
like "$(cat "$WORLD_DIR/log/policyd.log")" "no complete request within request_timeout" "and logged"
wait "$slow"

# --- every slot holds an unfinished request: accepting pauses, a client waits
c0=$(cpu); l0=$(loglines)
/usr/bin/python3 "$py" flood "$psock" 250 "" "$WORLD_TMP/stop5" partial >"$WORLD_TMP/flood5" &
flood=$!
ok 'wait_until 30 grep -q connected= $WORLD_TMP/flood5' "250 connections, each with a request begun"
note "$(cat "$WORLD_TMP/flood5")"
is "$(ask "$psock")" "action=DUNNO" "a new client waits and is answered once request_timeout frees the slots"
used=$(( $(cpu) - c0 )); lines=$(( $(loglines) - l0 ))
ok '[ $((used * 1000 / hz)) -lt 500 ]' "no accept() loop while paused: CPU time under 0.5 s ($((used * 1000 / hz)) ms)"
ok '[ "$lines" -le 10 ]' "the log grew by a few lines only ($lines)"
like "$(cat "$WORLD_TMP/flood5")" " open=250 " \
    "none was refused or closed to make room: unfinished requests are not idle"
touch "$WORLD_TMP/stop5"; wait "$flood"
ok 'kill -0 $pid' "policyd still runs"
done_testing
