#!/bin/bash
# redis-auth.sh - a wrong Redis password backs off like any failed connection and is
# said once, then the daemons recover when the password is right again (TAP)
#
# policyd with a wrong password (requirepass, then an ACL user): it answers the
# configured on-error action, and while it retries its log holds only a few lines
# (counted after Redis saw several attempts, not after some time); once the password
# is fixed in Redis it says "connected again" -- never before -- and decides again.
# The synchronous connection module (tests/helpers/rconn_probe) likewise says a
# repeated AUTH failure once.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$POLICYD_BIN" "$OUTPOST_BUILDDIR/tests/helpers/rconn_probe"

psock=$WORLD_DIR/run/policy.sock
conf=$WORLD_DIR/policyd.conf
# write_conf USERNAME-LINE - policyd with the password "wrong"
write_conf() {
    cat >"$conf" <<EOC
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
$1
password = wrong
reconnect_min = 50ms
reconnect_max = 400ms
[policy]
listen = unix:$psock
domain_rate = 100/1s
domain_on_error = tempfail
EOC
}
ask='import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall(b"request=smtpd_access_policy\nprotocol_state=RCPT\nsender=a@shop.test\n"
          b"recipient=b@gmail.test\nclient_address=127.0.0.1\n\n")
print(s.recv(512).decode().strip())'
ask() { timeout 10 /usr/bin/python3 -c "$ask" "$psock" 2>&1; }
# rcli ARGS... - redis-cli, with the password $AUTH if set
rcli() { if [ -n "${AUTH:-}" ]; then REDISCLI_AUTH=$AUTH redis_cli --no-auth-warning "$@"; else redis_cli "$@"; fi; }
# connections - connections Redis has received so far
connections() { rcli INFO stats |
    tr -d '\r' | sed -n 's/^total_connections_received://p'; }
# auth_lines - policyd's log lines about the password (or "connected again")
auth_lines() { grep -cE 'WRONGPASS|NOAUTH|NOPERM|AUTH failed|connected again' "$WORLD_DIR/log/policyd.log"; }
tempfail="action=DEFER_IF_PERMIT 4.3.0 policy state unavailable, try again later"
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start

# run_case WHAT FIX... - policyd started with the wrong password, then FIX run in Redis
run_case() {
    local what=$1 c0; shift
    c0=$(connections)
    : >"$WORLD_DIR/log/policyd.log"
    world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
    # (the previous case's socket file may still be there: wait for this one's line)
    ok 'wait_until 5 grep -q "listening on" $WORLD_DIR/log/policyd.log' "$what: policyd listens"
    is "$(ask)" "$tempfail" "$what: answers the on-error action"
    ok 'wait_until 20 eval "[ \$(( \$(connections) - c0 )) -ge 8 ]"' \
        "$what: Redis saw 8 attempts or more (backoff from 50 to 400 ms)"
    ok '[ "$(auth_lines)" -le 3 ]' "$what: the refusal is said once ($(auth_lines) lines)"
    is "$(grep -c 'connected again' "$WORLD_DIR/log/policyd.log")" 0 \
        "$what: no \"connected again\" while AUTH fails"
    is "$(rcli "$@")" OK "$what: password fixed in Redis"
    ok 'wait_until 10 grep -q "connected again" $WORLD_DIR/log/policyd.log' "$what: connected again"
    is "$(ask)" "action=DUNNO" "$what: decides again"
    is "$(grep -c 'connected again' "$WORLD_DIR/log/policyd.log")" 1 "$what: said once"
    world_kill policyd
}

# --- requirepass
AUTH=right
redis_cli CONFIG SET requirepass right >/dev/null
write_conf ""
run_case requirepass CONFIG SET requirepass wrong
AUTH=wrong
is "$(rcli CONFIG SET requirepass '')" OK "requirepass removed"
AUTH=

# --- an ACL user
is "$(redis_cli ACL SETUSER outpost on '>right' '~*' '&*' +@all)" OK "ACL user outpost"
write_conf "username = outpost"
run_case "ACL user" ACL SETUSER outpost '>wrong'

# --- the synchronous module: 40 commands over about 2 s, one line about them
printf '[redis]\nserver = unix:%s\nusername = outpost\npassword = bad\nreconnect_min = 50ms\nreconnect_max = 200ms\n' \
    "$REDIS_SOCK" >"$WORLD_DIR/sync.conf"
"$OUTPOST_BUILDDIR/tests/helpers/rconn_probe" "$WORLD_DIR/sync.conf" 40 50 \
    >"$WORLD_TMP/probe.out" 2>"$WORLD_TMP/probe.err"
is "$(grep -c '^fail AUTH failed' "$WORLD_TMP/probe.out")" 40 "rconn: every command fails (AUTH failed)"
is "$(grep -c 'AUTH failed' "$WORLD_TMP/probe.err")" 1 "rconn: the failure is logged once"
done_testing
