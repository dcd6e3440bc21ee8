#!/bin/bash
# milter-dkim.sh - outpost-milter's DKIM conversation with an MTA, played by
# miltertest; key permission refusals; reload on SIGHUP (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"
command -v miltertest >/dev/null || skip_all "miltertest not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
node = relay-a
[milter]
socket = unix:$WORLD_DIR/run/mt.sock
metrics_listen = 127.0.0.1:9441
[suppress]
# this test is about signing only
enabled = no
[dkim]
key_table = $keys/table
sign_networks = 127.0.0.1
sasl_domains = $keys/sasl
EOC
printf 'tenant1 example.com\ntenant2 other.example\n' >"$keys/sasl"
: >"$keys/table"
"$CTL_BIN" -c "$conf" dkim keygen example.com rsa1 --add >/dev/null 2>&1
"$CTL_BIN" -c "$conf" dkim keygen example.com ed1 --algorithm ed25519 --add >/dev/null 2>&1
is "$(wc -l <"$keys/table")" 2 "outpostctl dkim keygen --add wrote two key table lines"
is "$(stat -c %a "$keys/example.com.rsa1.key")" 600 "key file is private"

out=$("$MILTER_BIN" -n -c "$conf" 2>&1)
like "$out" "configuration OK, 2 DKIM keys" "outpost-milter -n loads both keys"

# the conversation (miltertest prints its own TAP lines; renumber them into ours)
mtout=$(cd "$WORLD_DIR" && timeout 60 miltertest -w -D FILTER="$MILTER_BIN" -D CONF="$conf" \
    -D SOCK="$WORLD_DIR/run/mt.sock" -s "$OUTPOST_SRCDIR/tests/integration/milter-dkim.lua" 2>&1)
mtrc=$?
while IFS= read -r line; do
    case $line in
    "ok "*) pass "miltertest: ${line#ok * - }" ;;
    "not ok "*) fail "miltertest: ${line#not ok * - }" ;;
    esac
done <<<"$mtout"
is "$mtrc" 0 "miltertest script ran to its end" || diag "$mtout"
sleep 0.3

# unsafe keys refuse the start, naming the file
chmod 644 "$keys/example.com.ed1.key"
out=$("$MILTER_BIN" -n -c "$conf" 2>&1); rc=$?
isnt "$rc" 0 "a key readable by others refuses the start"
like "$out" "example.com.ed1.key.*group or others" "and names the file"
chmod 600 "$keys/example.com.ed1.key"
chown daemon "$keys/example.com.ed1.key"
out=$("$MILTER_BIN" -n -c "$conf" 2>&1); rc=$?
isnt "$rc" 0 "a key owned by another user refuses the start"
like "$out" "example.com.ed1.key.*not by the daemon user" "and names the file"
chown nobody "$keys/example.com.ed1.key"

# reload: a bad table keeps the running keys, a good one takes over; SIGHUP never stops it
rm -f "$WORLD_DIR/run/mt.sock"		# so that the wait below is for this milter's socket
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/mt.sock' "milter listens"
"$CTL_BIN" -c "$conf" dkim keygen other.example s1 --algorithm ed25519 --add >/dev/null 2>&1
chmod 640 "$keys/other.example.s1.key"
world_kill milter HUP
ok 'wait_until 5 grep -q "reload refused.*other.example.s1.key" $WORLD_DIR/log/milter.log' \
    "a reload with an unsafe key is refused and names the file"
chmod 600 "$keys/other.example.s1.key"
world_kill milter HUP
ok 'wait_until 5 grep -q "reloaded.*: 3 DKIM keys" $WORLD_DIR/log/milter.log' "a good reload takes the new key"
for i in 1 2 3 4 5; do world_kill milter HUP; sleep 0.05; done
sleep 0.5
ok '_pid_alive "$(world_pid milter)"' "SIGHUP reloads, never stops the milter"
ok 'test "$(grep -c reloaded $WORLD_DIR/log/milter.log)" -ge 6' "each SIGHUP was a reload"
# what is read at start only is said, and kept; the node's name is not of them
scrape() {
    /usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen("http://127.0.0.1:9441/metrics", timeout=10).read().decode())'
}
like "$(scrape)" 'node="relay-a"' "the metrics carry the node's name"
sed -i "s|^socket = .*|socket = unix:$WORLD_DIR/run/mt2.sock\ntimeout = 60s|; s|^node = .*|node = relay-b|" \
    "$conf"
world_kill milter HUP
# reloaded_after_change - the reload that saw the new timeout has ended
reloaded_after_change() {
    sed -n '/reload: \[milter\] timeout changed: restart outpost-milter/,$p' \
        "$WORLD_DIR/log/milter.log" | grep -q 'info: reloaded '
}
ok 'wait_until 5 reloaded_after_change' "a reload names a changed timeout, and is taken"
ok 'grep -q "reload: \[milter\] socket changed: restart outpost-milter" $WORLD_DIR/log/milter.log' \
    "and a changed socket"
ok 'test -S $WORLD_DIR/run/mt.sock && ! test -e $WORLD_DIR/run/mt2.sock' "the socket stays"
page=$(scrape)
like "$page" 'node="relay-b"' "the metrics carry the new name of the node"
unlike "$page" 'node="relay-a"' "and no longer the old one"
world_kill milter
done_testing
