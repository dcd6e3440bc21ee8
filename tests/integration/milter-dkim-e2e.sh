#!/bin/bash
# milter-dkim-e2e.sh - mail through a real Postfix with outpost-milter signing;
# every delivered message is checked by three verifiers no one here wrote:
# opendkim-testmsg (libopendkim), python3-dkim's dkimverify, Perl's Mail::DKIM,
# with the public keys served by the test DNS (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"
for p in opendkim-testmsg /usr/bin/dkimverify; do
    command -v "$p" >/dev/null || skip_all "$p not installed"
done
perl -MMail::DKIM::Verifier -e1 2>/dev/null || skip_all "Mail::DKIM not installed"

keys=$WORLD_DIR/keys
mkdir -m 700 "$keys"; chown nobody "$keys"   # the milter reads keys as [general] user
conf=$WORLD_DIR/outpost.conf
write_conf() {
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
key_table = $keys/table
sign_networks = 127.0.0.1
canonicalization = $1
EOC
}
write_conf relaxed/relaxed
: >"$keys/table"
# keygen DOMAIN SELECTOR ALG - make a key, publish its TXT record
keygen() {
    local rec
    rec=$("$CTL_BIN" -c "$conf" dkim keygen "$1" "$2" --algorithm "$3" --add 2>/dev/null |
        grep -o '"[^"]*"' | tr -d '"\n')
    dns_txt "$2._domainkey.$1" "$rec"
}
keygen example.com rsa1 rsa
keygen example.com ed1 ed25519

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
like "$(dns_txt_get rsa1._domainkey.example.com)" "^v=DKIM1; k=rsa; p=MIIBIjAN" \
    "RSA-2048 key published (a TXT record of several strings)"
sink_start gmail 127.0.0.11
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "non_smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail" \
    "disable_mime_output_conversion = yes"
postfix_start

# messages: NAME -> file
msgdir=$WORLD_DIR/msgs
mkdir -p "$msgdir"
long=$(head -c 998 /dev/zero | tr '\0' 'x')
mkmsg() {    # NAME FROM EXTRA-HEADERS BODY
    printf 'From: %s\r\nTo: rcpt@gmail.test\r\nSubject: test %s\r\nDate: Sat, 28 Nov 2026 10:00:00 +0000\r\nMessage-ID: <%s@example.com>\r\n%s\r\n%s' \
        "$2" "$1" "$1" "$3" "$4" >"$msgdir/$1"
}
mkmsg plain 'Alice <alice@example.com>' '' $'Hello.\r\n'
mkmsg eightbit 'alice@example.com' $'MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n' \
    $'Gr\xc3\xbc\xc3\x9fe aus K\xc3\xb6ln  \r\n\tmit   Tab \r\n\r\n\r\n'
mkmsg longline '"Long, Line" <ll@example.com>' '' "$long"$'\r\n'"${long:0:700}"$'\r\nend\r\n'
mkmsg folded $'Alice\r\n <alice@example.com>' \
    $'List-Unsubscribe: <https://example.com/u/1>,\r\n  <mailto:unsub@example.com?subject=x>\r\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\r\nFeedback-ID: c1:list:example\r\nX-Long:  a\r\n\tb   c\r\n' \
    $'Body\r\n'
mkmsg presigned 'alice@example.com' \
    $'DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=other.example; s=x;\r\n\th=From; bh=AAAA; b=AAAA\r\n' $'Signed elsewhere before.\r\n'
mkmsg subdomain 'News <news@mail.example.com>' '' $'From a subdomain.\r\n'

# verify EML - how many signatures each verifier passes: "n dkimpy testmsg mdkim mdkim_detail"
verify() {
    local eml=$1 n i py=0 tm mp
    n=$(grep -ci '^DKIM-Signature:' "$eml")
    for ((i = 0; i < n; i++)); do
        /usr/bin/python3 /usr/bin/dkimverify --index "$i" <"$eml" >/dev/null 2>&1 && py=$((py + 1))
    done
    opendkim-testmsg <"$eml" >/dev/null 2>&1 && tm=ok || tm=fail
    mp=$(perl -MMail::DKIM::Verifier -e '
        my $v = Mail::DKIM::Verifier->new; $v->load(*STDIN);
        my ($p, @d) = (0);
        for my $s ($v->signatures) {
            next unless $s->domain eq "example.com";
            $p++ if $s->result eq "pass";
            push @d, $s->algorithm . "=" . $s->result_detail;
        }
        print "$p ", join(",", @d);' <"$eml")
    echo "$n $py $tm $mp"
}

# run_set CANON - send every message, check each delivered copy
run_set() {
    local canon=$1 name eml res n py tm mp detail
    for name in plain eightbit longline folded presigned subdomain; do
        send_mail "$name@example.com" "$canon-$name@gmail.test" --data "@$msgdir/$name" >/dev/null
        [ -n "$LAST_QID" ] || { fail "$canon $name: not accepted"; continue; }
    done
    sink_wait gmail "$2" 30 || fail "$canon: not all delivered"
    for name in plain eightbit longline folded presigned subdomain; do
        eml=$(sink_find gmail "$canon-$name@gmail.test")
        [ -n "$eml" ] || { fail "$canon $name: not delivered"; continue; }
        read -r n py tm mp detail <<<"$(verify "$eml")"
        [ "$name" = presigned ] && n=$((n - 1))  # the foreign one does not count
        is "$n" 2 "$canon $name: two signatures added (RSA-2048 + Ed25519)"
        [ "$name" = presigned ] && py=$((py - 0))
        ok "[ $py -ge 2 ]" "$canon $name: dkimpy verifies both signatures"
        is "$tm" ok "$canon $name: opendkim-testmsg verifies"
        is "$mp" 1 "$canon $name: Mail::DKIM passes the RSA signature"
        note "Mail::DKIM says: $detail"
    done
    like "$(eml_header "$(sink_find gmail "$canon-subdomain@gmail.test")" DKIM-Signature)" \
        "d=example.com;" "$canon: subdomain sender signed with d=example.com"
}

run_set relaxed 6

# an unauthorised client (not in sign_networks, no SASL) is relayed but never signed
send_mail alice@example.com stranger@gmail.test --data "@$msgdir/plain" --local-interface 127.0.0.5
sink_wait gmail 7
eml=$(sink_find gmail stranger@gmail.test)
is "$(grep -ci '^DKIM-Signature:' "$eml")" 0 "unauthorised client: delivered unsigned"
ok 'maillog_wait "$LAST_QID: .*" 1 || grep -q "$LAST_QID: not signed: client is neither" $WORLD_DIR/log/milter.log' \
    "unauthorised client: the milter logs why"

# simple/simple after a reload (SIGHUP), same messages
write_conf simple/simple
world_kill milter HUP
ok 'wait_until 5 grep -q reloaded $WORLD_DIR/log/milter.log' "reloaded with simple/simple"
run_set simple 13

# locally submitted mail (non_smtpd_milters, sendmail command) is signed too
/usr/sbin/sendmail -C "$POSTFIX_CONFIG_DIR" -f alice@example.com local@gmail.test <"$msgdir/plain"
sink_wait gmail 14
read -r n py tm mp detail <<<"$(verify "$(sink_find gmail local@gmail.test)")"
is "$n/$py/$tm" "2/2/ok" "sendmail(1) submission signed and verified"
done_testing
