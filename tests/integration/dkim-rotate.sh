#!/bin/bash
# dkim-rotate.sh - a DKIM key rotation as outpostctl(8) describes it, through a real
# Postfix and outpost-milter, signatures checked by python3-dkim's dkimverify against
# the test DNS: keygen --add refuses a second key of one algorithm and writes nothing;
# rotate refuses while the new record is missing, holds another key or the DNS is in
# trouble, and then changes only the domain's line (its d= kept, mode and owner kept);
# after SIGHUP the milter signs with the new selector (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"
[ -x /usr/bin/dkimverify ] || skip_all "python3-dkim's dkimverify not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
table=$keys/table
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOC
[general]
user = nobody
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[suppress]
# this test is about signing only
enabled = no
[dkim]
key_table = $table
sign_networks = 127.0.0.1
[dns]
lookup_timeout = 2s
EOC
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# record_of - the TXT record text keygen printed (its strings joined)
record_of() { grep -o '"[^"]*"' "$1" | tr -d '"\n'; }
# loads - outpost-milter -n loads the configuration and every key as it would at start
loads() { "$MILTER_BIN" -n -c "$conf" >/dev/null 2>&1; }
# sign_and_check N RCPT - send a message as news@shop.test, wait for the sink's Nth, then
# print the s= and d= of its signature and what dkimverify says
sign_and_check() {
    local eml sig
    send_mail news@shop.test "$2" --header "Subject: rotation $2" >/dev/null
    sink_wait gmail "$1" 30 || { echo "not delivered"; return; }
    eml=$(sink_find gmail "$2")
    sig=$(eml_header "$eml" DKIM-Signature)
    printf '%s %s %s\n' "$(grep -o 's=[^;]*' <<<"$sig")" "$(grep -o 'd=[^;]*' <<<"$sig")" \
        "$(/usr/bin/python3 /usr/bin/dkimverify <"$eml" 2>&1 | tr '\n' ' ')"
}

# another domain's key, then shop.test's first key; shop.test's line gets a d= and a
# comment by hand, and the table a mode and owner of its own
ctl dkim keygen other.test o1 --algorithm ed25519 --add >/dev/null 2>&1
ctl dkim keygen shop.test s1 --add >"$WORLD_TMP/s1.rec" 2>"$WORLD_TMP/err"
is "$?" 0 "keygen shop.test s1 --add ($(cat "$WORLD_TMP/err"))"
sed -i 's|^\(shop.test .*\)$|\1	d=mail.shop.test  # the shop|' "$table"
chown nobody:nogroup "$table"
chmod 640 "$table"
like "$(sed -n 2p "$table")" "^shop.test s1 rsa $keys/shop.test.s1.key	d=mail.shop.test  # the shop$" \
    "the table: shop.test s1 with d=mail.shop.test"
other_line=$(sed -n 1p "$table")
perm=$(stat -c '%a %U:%G' "$table")

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_txt s1._domainkey.mail.shop.test "$(record_of "$WORLD_TMP/s1.rec")"
dns_start
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail"
postfix_start

like "$(sign_and_check 1 first@gmail.test)" "^s=s1 d=mail.shop.test signature ok" \
    "signed with s=s1, d=mail.shop.test; dkimverify: signature ok"

# ---------------------------------------------------------------- keygen --add refused
cp -p "$table" "$WORLD_TMP/table.before"
out=$(ctl dkim keygen shop.test s2 --add 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 1 "keygen shop.test s2 --add: exit 1"
like "$(cat "$WORLD_TMP/err")" "shop.test already has an rsa key \(s1, line 2 of $table\); nothing was written" \
    "it says which key is in the way"
like "$(cat "$WORLD_TMP/err")" "to rotate: outpostctl dkim keygen shop.test s2 \(without --add\), publish the record, then outpostctl dkim rotate shop.test s2" \
    "and how to rotate"
is "$out" "" "no record printed"
ok 'cmp -s "$table" "$WORLD_TMP/table.before"' "the table is byte for byte unchanged"
ok '[ ! -e "$keys/shop.test.s2.key" ]' "no key file written"
ok loads "the table still loads (outpost-milter -n)"

# ---------------------------------------------------------------- the new key
ctl dkim keygen shop.test s2 >"$WORLD_TMP/s2.rec" 2>"$WORLD_TMP/err"
is "$?" 0 "keygen shop.test s2 (without --add) ($(cat "$WORLD_TMP/err"))"
ok '[ -s "$keys/shop.test.s2.key" ]' "s2's key file is in the table's directory"
ok 'cmp -s "$table" "$WORLD_TMP/table.before"' "the table is unchanged"

# ---------------------------------------------------------------- rotate refused
out=$(ctl dkim rotate shop.test s2 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 1 "rotate before the record is published: exit 1"
like "$(cat "$WORLD_TMP/err")" "s2._domainkey.mail.shop.test: no record published \(no such domain" \
    "it says the record (at the d= domain) is missing"
like "$(cat "$WORLD_TMP/err")" "s2._domainkey.mail.shop.test. IN TXT \( \"v=DKIM1; k=rsa; p=" \
    "and prints the record to publish"
ok 'cmp -s "$table" "$WORLD_TMP/table.before"' "the table is unchanged"

# s1's key published under s2's name: another key
dns_txt s2._domainkey.mail.shop.test "$(record_of "$WORLD_TMP/s1.rec")"
dns_reload
out=$(ctl dkim rotate shop.test s2 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 1 "rotate with another key published: exit 1"
like "$(cat "$WORLD_TMP/err")" "s2._domainkey.mail.shop.test: key mismatch: the published p= is not the public half of the private key $keys/shop.test.s2.key; nothing changed" \
    "it says the record holds another key"
ok 'cmp -s "$table" "$WORLD_TMP/table.before"' "the table is unchanged"

# DNS trouble is not a missing record: the test DNS refuses names outside .test
ctl dkim keygen trouble.example t1 >/dev/null 2>&1
out=$(ctl dkim rotate trouble.example t1 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 1 "rotate when the DNS refuses to answer: exit 1"
like "$(cat "$WORLD_TMP/err")" "t1._domainkey.trouble.example: DNS trouble" "reported as DNS trouble"
unlike "$(cat "$WORLD_TMP/err")" "no record" "not as a missing record"
ok 'cmp -s "$table" "$WORLD_TMP/table.before"' "the table is unchanged"

# ---------------------------------------------------------------- rotate
# the right record in place of the wrong one (dns_txt can only add)
sed -i '/^txt-record=s2\._domainkey\.mail\.shop\.test,/d' "$WORLD_DIR/dns/records.conf"
dns_txt s2._domainkey.mail.shop.test "$(record_of "$WORLD_TMP/s2.rec")"
dns_reload
out=$(ctl dkim rotate shop.test s2 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 0 "rotate with the record published: exit 0 ($(cat "$WORLD_TMP/err"))"
like "$out" "s2._domainkey.mail.shop.test: published key matches" "it found the record"
like "$out" "$table:2: shop.test rsa: selector s1 -> s2, key file $keys/shop.test.s1.key -> $keys/shop.test.s2.key \(d=mail.shop.test kept\)" \
    "it says what changed"
like "$out" "systemctl reload outpost-milter \(or send it SIGHUP\)" "next: reload the milter"
like "$out" "keep s1._domainkey.mail.shop.test published for some days" "next: keep the old record a while"
is "$(sed -n 2p "$table")" "shop.test s2 rsa $keys/shop.test.s2.key	d=mail.shop.test  # the shop" \
    "the line has s2 and its key file, d= and comment kept"
is "$(sed -n 1p "$table")" "$other_line" "other.test's line is untouched"
is "$(wc -l <"$table")" 2 "no line added"
is "$(stat -c '%a %U:%G' "$table")" "$perm" "mode and owner kept ($perm)"
ok '[ -z "$(find "$keys" -name ".table.*")" ]' "no temporary file left"
ok loads "the table loads"
is "$(ctl dkim rotate shop.test s2 2>&1)" "$table:2: shop.test already signs with s=s2 (rsa): nothing to change" \
    "rotate again: nothing to change"

world_kill milter HUP
ok 'wait_until 10 grep -q "reloaded.*2 DKIM keys" $WORLD_DIR/log/milter.log' "milter reloaded after SIGHUP"
like "$(sign_and_check 2 second@gmail.test)" "^s=s2 d=mail.shop.test signature ok" \
    "signed with s=s2, d=mail.shop.test; dkimverify: signature ok"

# ---------------------------------------------------------------- a domain without a key
ctl dkim keygen new.test n1 --algorithm ed25519 >/dev/null 2>&1
out=$(ctl dkim rotate new.test n1 --force 2>"$WORLD_TMP/err"); rc=$?
is "$rc" 0 "rotate --force for a domain without a key: exit 0 ($(cat "$WORLD_TMP/err"))"
like "$out" "added selector n1, key file $keys/new.test.n1.key \(the domain had no ed25519 key\)" \
    "it says the line was added"
is "$(sed -n 3p "$table")" "new.test n1 ed25519 $keys/new.test.n1.key" "the line is at the end"
is "$(stat -c '%a %U:%G' "$table")" "$perm" "mode and owner kept"
ok loads "the table loads"
done_testing
