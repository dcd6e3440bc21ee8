#!/bin/bash
# second-start.sh - a second start of outpost-milter or outpost-policyd never disturbs
# the running one (TAP)
#
# A milter that signs and a policyd in a real Postfix.  Second instances on the same
# sockets -- one configured to run as root, one with an unsafe key, one with a valid
# configuration -- must each be refused and leave the running daemons' sockets alone:
# the same socket files, and a message sent afterwards is delivered and signed
# (milter_default_action = tempfail and the policy service's default_action =
# DEFER_IF_PERMIT: an unreachable daemon means no delivery).  After kill -9, the
# socket files left behind are replaced by the next start.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN" "$CTL_BIN"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
: >"$keys/table"
msock=$WORLD_DIR/run/milter.sock
psock=$WORLD_DIR/run/policy.sock
# write_conf FILE USER KEYTABLE - milter and policyd on the same sockets
write_conf() {
    cat >"$1" <<EOC
[general]
user = $2
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$msock
socket_mode = 0666
[suppress]
enabled = no
[dkim]
key_table = $3
sign_networks = 127.0.0.1
[policy]
listen = unix:$psock
EOC
}
conf=$WORLD_DIR/outpost.conf
write_conf "$conf" nobody "$keys/table"
rec=$("$CTL_BIN" -c "$conf" dkim keygen example.com s1 --algorithm rsa --add 2>/dev/null |
    grep -o '"[^"]*"' | tr -d '"\n')
dns_txt s1._domainkey.example.com "$rec"
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
redis_start
sink_start gmail 127.0.0.11

world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 grep -q "listening on" $WORLD_DIR/log/milter.log' "milter listens"
ok 'wait_until 5 grep -q "listening on" $WORLD_DIR/log/policyd.log' "policyd listens"
postfix_conf "smtpd_milters = unix:$msock" "milter_default_action = tempfail" \
    "smtpd_recipient_restrictions = check_policy_service { unix:$psock, timeout=10s, default_action=DEFER_IF_PERMIT }, permit_mynetworks, reject"
postfix_start

n=0
# delivered_signed WHAT - one message through Postfix, the milter and policyd
delivered_signed() {
    local eml
    n=$((n + 1))
    send_mail alice@example.com "rcpt$n@gmail.test" --header "From: alice@example.com" >/dev/null
    ok '[ -n "$LAST_QID" ]' "$1: accepted (policyd answered)"
    ok 'sink_wait gmail $n 30' "$1: delivered"
    eml=$(sink_find gmail "rcpt$n@gmail.test")
    like "$(eml_header "$eml" DKIM-Signature)" "d=example.com; s=s1;" "$1: signed"
    ok '/usr/bin/python3 /usr/bin/dkimverify <"$eml" >/dev/null 2>&1' "$1: the signature verifies"
}
delivered_signed "first instances"

minode=$(stat -c %i "$msock"); pinode=$(stat -c %i "$psock"); mctime=$(stat -c %z "$msock")
# second PROGRAM CONF NAME - start a second instance; its exit status, log in NAME.log
second() {
    timeout 20 "$1" -f -c "$2" </dev/null >"$WORLD_DIR/log/$3.log" 2>&1
}
# untouched WHAT - the first instances' socket files are still in place
untouched() {
    is "$(stat -c %i "$msock" 2>&1) $(stat -c %i "$psock" 2>&1)" "$minode $pinode" \
        "$1: the first instances' socket files are still there"
}

# --- configured to run as root
write_conf "$WORLD_DIR/root.conf" root "$keys/table"
second "$MILTER_BIN" "$WORLD_DIR/root.conf" milter-root; is "$?" 1 "milter, user = root: refused (exit 1)"
like "$(cat "$WORLD_DIR/log/milter-root.log")" "refusing to run as root" "milter, user = root: says why"
second "$POLICYD_BIN" "$WORLD_DIR/root.conf" policyd-root; is "$?" 1 "policyd, user = root: refused (exit 1)"
like "$(cat "$WORLD_DIR/log/policyd-root.log")" "refusing to run as root" "policyd, user = root: says why"
untouched "user = root"

# --- an unsafe key (readable by others)
cp -a "$keys" "$WORLD_DIR/keys2"
sed -i "s|$keys/|$WORLD_DIR/keys2/|" "$WORLD_DIR/keys2/table"
chmod 0644 "$(awk '$4 ~ /keys2/ { print $4; exit }' "$WORLD_DIR/keys2/table")"
write_conf "$WORLD_DIR/badkey.conf" nobody "$WORLD_DIR/keys2/table"
second "$MILTER_BIN" "$WORLD_DIR/badkey.conf" milter-badkey; is "$?" 1 "milter, unsafe key: refused (exit 1)"
like "$(cat "$WORLD_DIR/log/milter-badkey.log")" "key file $WORLD_DIR/keys2/.* lets group or others read it" \
    "milter, unsafe key: names the key"
untouched "unsafe key"

# --- a valid configuration, the same sockets
second "$MILTER_BIN" "$conf" milter-valid; is "$?" 1 "milter, valid configuration: refused (exit 1)"
like "$(cat "$WORLD_DIR/log/milter-valid.log")" "another instance listens on $msock" \
    "milter, valid configuration: another instance listens"
second "$POLICYD_BIN" "$conf" policyd-valid; is "$?" 1 "policyd, valid configuration: refused (exit 1)"
like "$(cat "$WORLD_DIR/log/policyd-valid.log")" "another instance listens on $psock" \
    "policyd, valid configuration: another instance listens"

# --- the first instances are untouched
is "$(stat -c %i "$msock" 2>&1)" "$minode" "the milter's socket file is the same one"
is "$(stat -c %i "$psock" 2>&1)" "$pinode" "policyd's socket file is the same one"
ok 'kill -0 $(world_pid milter) && kill -0 $(world_pid policyd)' "both first instances run"
delivered_signed "after the second starts"

# --- kill -9 leaves the socket files; the next start replaces them
kill -9 "$(world_pid milter)" "$(world_pid policyd)"
gone() { ! kill -0 "$1" 2>/dev/null; }
ok 'wait_until 5 gone $(world_pid milter) && wait_until 5 gone $(world_pid policyd)' "killed with SIGKILL"
ok '[ -S "$msock" ] && [ -S "$psock" ]' "stale socket files are left behind"
: >"$WORLD_DIR/log/milter.log"; : >"$WORLD_DIR/log/policyd.log"
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 10 grep -q "listening on" $WORLD_DIR/log/milter.log' "milter starts over a stale socket"
ok 'wait_until 10 grep -q "listening on" $WORLD_DIR/log/policyd.log' "policyd starts over a stale socket"
isnt "$(stat -c %z "$msock")" "$mctime" "the milter's stale socket was replaced"
delivered_signed "after the restart"
done_testing
