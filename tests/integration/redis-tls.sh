#!/bin/bash
# redis-tls.sh - Outpost reaches a TLS-only Redis through stunnel, as doc/REDIS.md
# ("Redis on another host: TLS") says (TAP)
#
# Redis runs with the document's redis.conf lines (no plain port, client certificates
# required), stunnel with the document's /etc/stunnel/redis.conf (paths moved into the
# test's directory), and Outpost with the document's [redis] server.  The milter (a
# suppression check, a tagged return path) and policyd work through Postfix, and
# outpostctl too; Redis sees their connections on its TLS port only.  A tunnel that
# expects another server name, and one without the relay's certificate, are refused
# and give temporary failures, never a plain connection; a tunnel stopped and started
# again is used again without restarting a daemon.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"
redis_single_only "a tunnel carries one server's address"
STUNNEL=$(command -v stunnel4 || command -v stunnel) ||
    skip_all "stunnel4 not installed (tests/install-deps.sh)"
command -v openssl >/dev/null || skip_all "openssl not installed"
doc=$OUTPOST_SRCDIR/doc/REDIS.md

# block TAG - the lines of the document's code block whose fence reads TAG
block() { awk -v f="$1" '$0 == "```" f { on = 1; next } on && /^```/ { exit } on' "$doc"; }
rconf=$(block "conf redis-tls")
sconf=$(block "ini stunnel")
oconf=$(block "ini redis-tls")
like "$rconf" "tls-auth-clients yes" "doc/REDIS.md has the redis.conf lines"
like "$sconf" "checkHost = redis.example.net" "and the stunnel configuration"
like "$oconf" "server = 127.0.0.1:6380" "and outpost.conf's [redis] server"
is "$(cat "$OUTPOST_SRCDIR/conf-examples/stunnel-redis.conf")" "$sconf" \
    "conf-examples/stunnel-redis.conf is the document's stunnel file"

# --- certificates: Redis' for redis.example.net, the relay's, by one CA
tls_cert redis redis.example.net
tls_cert relay relay1.example.net
tls_cert other other.example.net
tdir=$WORLD_DIR/tls
mkdir -m 755 "$tdir"
cp "$WORLD_TMP/ca.pem" "$tdir/ca.crt"
for n in redis relay; do
    cp "$WORLD_TMP/$n.pem" "$tdir/$n.crt"
    install -m 0600 "$WORLD_TMP/$n.key" "$tdir/$n.key"
done
dns_a redis.example.net 127.0.0.1
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start

# --- Redis with the document's lines, as options (its paths moved here)
read -ra ropts <<<"$(sed "s#/etc/redis/tls/#$tdir/#; s/^/--/" <<<"$rconf" | tr '\n' ' ')"
redis_start "${ropts[@]}"
tlsport=$(sed -n 's/^tls-port //p' <<<"$rconf")
ok '! redis-cli -h 127.0.0.1 -p "$tlsport" PING 2>/dev/null | grep -q PONG' \
    "Redis answers no plain connection on its port ($tlsport)"
is "$(redis_cli CONFIG GET port | tail -n1)" 0 "Redis has no plain TCP port"

# --- stunnel with the document's file (its paths moved here, another port)
# stunnel_start NAME PORT [SED] - a tunnel from 127.0.0.1:PORT (SED: changes to the file)
stunnel_start() {
    local name=$1 port=$2 f=$WORLD_DIR/stunnel-$1.conf
    sed "s#/etc/stunnel/redis/ca.crt#$tdir/ca.crt#; s#/etc/stunnel/redis/#$tdir/#;
         s#^accept = .*#accept = 127.0.0.1:$port#; ${3:-}" <<<"$sconf" >"$f"
    [ "$(id -u)" = 0 ] || sed -i '/^set[ug]id =/d' "$f"
    world_spawn "stunnel-$name" "$STUNNEL" "$f"
    wait_until 10 _listening tcp 127.0.0.1 "$port" || fail "stunnel $name listens on $port" "$(cat "$WORLD_DIR/log/stunnel-$name.log")"
}
stunnel_start main 6380
port=$(sed -n 's/^server = 127.0.0.1://p' <<<"$oconf")
is "$port" 6380 "the tunnel listens where outpost.conf points"
stunnel_start wrongname 6381 's#^checkHost = .*#checkHost = other.example.net#'
stunnel_start nocert 6382 '/^cert = /d; /^key = /d'

secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
$oconf
reconnect_max = 200ms
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
domain_rate = 1000/s
[intake]
bounce_domain = bounces.%d
secret_file = $secret
[provider google]
mx = *.gmail.test
rate = 1000/s
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# rcpt_reply ADDR - the server's answer to RCPT TO:<ADDR> in the last transcript
rcpt_reply() {
    awk -v a="<$1>" '/ -> RCPT TO:/ { want = index($0, a) > 0; next }
        want && /^<[-*~]* +[0-9][0-9][0-9] / { sub(/^<[-*~]* +/, ""); print; exit }' "$SWAKS_OUT"
}
# with_server PORT ARGS... - outpostctl through another tunnel
with_server() {
    local p=$1; shift
    sed "s/^server = .*/server = 127.0.0.1:$p/" "$conf" >"$WORLD_DIR/other.conf"
    "$CTL_BIN" -c "$WORLD_DIR/other.conf" "$@"
}

like "$(ctl ping 2>&1)" "redis: PONG" "outpostctl ping through the tunnel"
is "$(ctl suppress add --reason complaint bob@gmail.test >/dev/null 2>&1; echo $?)" 0 \
    "outpostctl suppress add through the tunnel"
is "$(redis_cli EXISTS "$(redis_cli --scan --pattern 'outpost:*' | head -n1)")" 1 \
    "the entry is in Redis"

# --- refused tunnels: no answer, no plain connection
with_server 6381 ping >"$WORLD_TMP/wrong.out" 2>&1
isnt "$?" 0 "a server certificate that does not name checkHost: outpostctl ping fails"
ok 'wait_until 5 grep -q "Rejected by CERT" $WORLD_DIR/log/stunnel-wrongname.log' \
    "  stunnel says why" || diag_file "$WORLD_DIR/log/stunnel-wrongname.log"
with_server 6382 ping >"$WORLD_TMP/nocert.out" 2>&1
isnt "$?" 0 "a relay without its certificate: outpostctl ping fails"
with_server 6382 suppress check bob@gmail.test >/dev/null 2>&1
isnt "$?" 0 "  and a suppression check is not answered (no 'not suppressed')"

# --- the daemons through Postfix
sink_start gmail 127.0.0.11
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "relay_domains = bounces.shop.test" \
    "transport_maps = inline:{bounces.shop.test=discard:}" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$WORLD_DIR/run/policy.sock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 10 test -S $WORLD_DIR/run/milter.sock' "the milter starts"
ok 'wait_until 10 test -S $WORLD_DIR/run/policy.sock' "policyd starts"
postfix_start
like "$(cat "$WORLD_DIR/log/milter.log")" "maxmemory-policy" "the milter checked the server through the tunnel"
clients=$(redis_cli CLIENT LIST)
like "$clients" "laddr=127\\.0\\.0\\.1:$tlsport" "Redis has the daemons' connections on its TLS port"

send_mail news@shop.test alice@gmail.test
is "$?" 0 "a message passes policyd and the milter"
ok 'sink_wait gmail 1' "and is delivered"
like "$(eml_envelope "$(sink_find gmail alice@gmail.test)" mail_from)" '^b-[a-z2-7]+@bounces\.shop\.test$' \
    "with a tagged return path (its id from Redis)"
send_mail news@shop.test bob@gmail.test
like "$(rcpt_reply bob@gmail.test)" "^550 5\\.7\\.1" "the milter refuses the suppressed recipient"

# --- the tunnel stops: temporary failures; it starts again: used again
world_kill stunnel-main
send_mail news@shop.test bob@gmail.test
like "$(rcpt_reply bob@gmail.test)" "^4[0-9][0-9] " "tunnel down: the suppressed recipient gets a 4xx"
send_mail news@shop.test carol@gmail.test
like "$(rcpt_reply carol@gmail.test)" "^4[0-9][0-9] " "  and so does another (nothing decided without Redis)"
stunnel_start main 6380
ok 'wait_until 20 eval "send_mail news@shop.test bob@gmail.test; rcpt_reply bob@gmail.test | grep -q \"^550 5\\.7\\.1\""' \
    "tunnel up again: the suppressed recipient is refused again, no daemon restarted"
send_mail news@shop.test carol@gmail.test
is "$?" 0 "and another is accepted"
ok 'sink_wait gmail 2' "and delivered"
for p in milter policyd; do
    ok '_pid_alive "$(world_pid '$p')"' "$p still runs"
done
ok '! sink_find gmail bob@gmail.test >/dev/null' "the suppressed recipient got nothing"
done_testing
