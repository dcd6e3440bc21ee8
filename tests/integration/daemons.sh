#!/bin/bash
# daemons.sh - the three programs start, check configurations and sit in the
# mail path of a real Postfix (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy.sock, inet:127.0.0.1:10040
EOF

# --- configuration checks: good file, and a mistake on a known line
out=$("$CTL_BIN" check-config "$conf" 2>&1); rc=$?
is "$rc" 0 "outpostctl check-config accepts a good file"
like "$out" "configuration OK" "and says so"
bad=$WORLD_DIR/bad.conf
printf '[redis]\nserver = unix:/x\n\n[policy]\nmax_request_size = lots\n' >"$bad"
for prog in "$CTL_BIN check-config" "$MILTER_BIN -n -c" "$POLICYD_BIN -n -c"; do
    out=$($prog "$bad" 2>&1); rc=$?
    name=${prog%% *}; name=${name##*/}
    isnt "$rc" 0 "$name refuses a bad file"
    like "$out" "$bad:5: max_request_size: 'lots'" "$name names file, line 5 and the key"
    [ "$name" = outpostctl ] ||
        like "$out" "$name: error: $bad:5: " "$name says it through its log module, as an error"
done
# under systemd, stderr is the journal: a bad file is said at error priority
LOGD_BIN=${LOGD_BIN:-$OUTPOST_BUILDDIR/outpost-logd}
jlog=$WORLD_TMP/journal.log
: >"$jlog"
for prog in "$MILTER_BIN" "$POLICYD_BIN" "$LOGD_BIN"; do
    JOURNAL_STREAM=$(stat -c '%d:%i' "$jlog") "$prog" -n -c "$bad" 2>>"$jlog"
done
is "$(grep -c "^<3>error: $bad:5: max_request_size: 'lots'" "$jlog")" 3 \
    "with stderr the journal, milter, policyd and logd say it at priority 3 (error)"
out=$("$MILTER_BIN" -n -c "$conf" 2>&1)
like "$out" "configuration OK" "outpost-milter -n accepts the good file"

# --- Redis through the configured socket
redis_start
out=$("$CTL_BIN" -c "$conf" ping 2>&1)
is "$out" "redis: PONG" "outpostctl ping reaches Redis"
redis_stop
out=$("$CTL_BIN" -c "$conf" ping 2>&1); rc=$?
isnt "$rc" 0 "outpostctl ping fails with Redis down"
like "$out" "redis:.*(No such file|refused)" "and says why"
redis_start

# policy_ask SOCKET|HOST:PORT COUNT - send stdin, print the answers
policy_ask() {
    timeout 5 /usr/bin/python3 -c '
import socket, sys
addr, want = sys.argv[1], int(sys.argv[2])
if addr.startswith("/"):
    s = socket.socket(socket.AF_UNIX); s.connect(addr)
else:
    h, p = addr.rsplit(":", 1); s = socket.create_connection((h, int(p)))
try:
    s.sendall(sys.stdin.buffer.read())
    buf = b""
    while buf.count(b"\n\n") < want:
        d = s.recv(4096)
        if not d: break
        buf += d
except OSError:
    pass
sys.stdout.write(buf.decode(errors="replace"))' "$@"
}

# --- policyd speaks the policy protocol on both listeners
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens on its unix socket"
req=$'request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@shop.test\nrecipient=b@gmail.test\n\n'
ans=$(printf '%s%s' "$req" "$req" | policy_ask "$WORLD_DIR/run/policy.sock" 2)
is "$(grep -c '^action=' <<<"$ans")" 2 "two requests on one connection get two answers"
like "$ans" '^action=DUNNO' "an unlimited recipient gets DUNNO"
ans=$(printf '%s' "$req" | policy_ask 127.0.0.1:10040 1)
like "$ans" '^action=' "the inet listener answers too"
{ printf 'recipient='; head -c 40000 /dev/zero | tr '\0' x; printf '\n\n'; } |
    policy_ask "$WORLD_DIR/run/policy.sock" 1 >/dev/null
ok '_pid_alive "$(world_pid policyd)"' "an oversized request does not kill policyd"
like "$(cat "$WORLD_DIR/log/policyd.log")" "longer than|larger than" "and is logged"

# --- the milter in a real Postfix's path
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "milter listens on its socket"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service unix:$WORLD_DIR/run/policy.sock, permit_mynetworks, reject"
postfix_start
send_mail news@shop.test alice@gmail.test --header "Subject: through both daemons"
ok 'sink_wait gmail 1' "a message passes milter and policyd and is delivered"
world_kill milter
send_mail news@shop.test carol@gmail.test
like "$(cat "$SWAKS_OUT")" "<\\*\\* +4[0-9][0-9] " "with the milter stopped Postfix tempfails (nothing passes unfiltered)"
sleep 1
is "$(sink_count gmail)" 1 "and nothing more was delivered"
done_testing
