#!/bin/bash
# return-path.sh - one return-path domain: the milter tags outgoing mail with
# [intake] bounce_domain, and outpostctl dns publishes, and outpostctl verify
# checks, the very domain the mail leaves with; both for a per-sender
# bounce_domain (bounces.%d) and for one shared by every sender (TAP)
#
# Run as root: tests/integration/return-path.sh   (TAP output; KEEP=1 keeps the world)

# The conditions given to ok are single-quoted on purpose: ok evaluates them.
# shellcheck disable=SC2016,SC2034
# shellcheck source=../lib/world.sh
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$CTL_BIN"

conf=$WORLD_DIR/outpost.conf
secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chown nobody "$secret"
chmod 600 "$secret"
# write_conf BOUNCE_DOMAIN - the configuration, with this return-path domain
write_conf() {
    cat >"$conf" <<EOF
[general]
user = nobody
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[intake]
bounce_domain = $1
secret_file = $secret
[dns]
relay_hostname = relay.test
[pool main]
transport = smtp:
addresses = 192.0.2.2
EOF
}
ctl() { "$CTL_BIN" -c "$conf" "$@"; }
# rp_domain RCPT - the domain of the envelope sender the sink saw for RCPT
rp_domain() { local rp; rp=$(eml_envelope "$(sink_find gmail "$1")" mail_from); echo "${rp#*@}"; }
# publish DOMAIN - put what outpostctl dns --json prints into the test's DNS
publish() {
    ctl dns --json "$1" | /usr/bin/python3 -c '
import json, shlex, sys
for r in json.load(sys.stdin)["records"]:
    if r["type"] == "MX":
        pref, host = r["value"].split()
        print("dns_mx %s %s %s" % (r["name"], host.rstrip("."), pref))
    elif r["type"] == "TXT":
        print("dns_txt %s %s" % (r["name"], shlex.quote(r["value"])))
' >"$WORLD_TMP/publish.sh"
    . "$WORLD_TMP/publish.sh"
    dns_reload
}
# json_get KEY - a top-level value of a JSON object on stdin ("None" for null)
json_get() { /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }
# mx_names - the names of the MX records in outpostctl dns --json output on stdin
mx_names() {
    /usr/bin/python3 -c 'import json,sys; print(" ".join(r["name"] for r in json.load(sys.stdin)["records"] if r["type"] == "MX"))'
}

dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_a relay.test 192.0.2.2
dns_start
redis_start
sink_start gmail 127.0.0.11
write_conf 'bounces.%d'
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" \
    "milter_default_action = tempfail"
postfix_start

# --- bounce_domain = bounces.%d -------------------------------------------------
send_mail news@shop.test alice@gmail.test --header "Subject: one"
ok 'sink_wait gmail 1' "delivered"
rp=$(rp_domain alice@gmail.test)
is "$rp" "bounces.shop.test" "the milter tags the return path with bounces.shop.test"
json=$(ctl dns --json shop.test)
is "$(json_get return_path <<<"$json")" "$rp" "dns --json: return_path is the domain the mail left with"
is "$(mx_names <<<"$json")" "$rp" "dns: the one MX it prints is for that domain"
like "$(ctl dns shop.test)" "$rp.	3600	IN	MX	10 relay.test." "dns: zone line for it"
publish shop.test
out=$(ctl verify --ip 192.0.2.2 shop.test)
like "$out" "pass  return-path +$rp: MX relay.test reaches the relay" "verify checks the MX of that domain"
like "$out" "pass  return-path +$rp: 192.0.2.2 may send" "and its SPF"

# --- one bounce domain for every sender ---------------------------------------------
world_kill milter
rm -f "$WORLD_DIR/run/milter.sock"	# so that the wait below waits for the new one
write_conf 'rp.esp.test'
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$WORLD_DIR/run/milter.sock"' "milter listens again"
send_mail news@shop.test bob@gmail.test --header "Subject: two"
ok 'sink_wait gmail 2' "delivered"
rp=$(rp_domain bob@gmail.test)
is "$rp" "rp.esp.test" "the milter tags the return path with rp.esp.test"
json=$(ctl dns --json shop.test)
is "$(json_get return_path <<<"$json")" "$rp" "dns --json: return_path follows"
is "$(mx_names <<<"$json")" "$rp" "dns: its MX is for rp.esp.test"
out=$(ctl verify --ip 192.0.2.2 shop.test)
like "$out" "fail  return-path +$rp: no MX record" "verify checks rp.esp.test, unpublished yet"
publish shop.test
out=$(ctl verify --ip 192.0.2.2 shop.test)
like "$out" "pass  return-path +$rp: MX relay.test reaches the relay" "published: verify passes"

# --- the old key is refused, and says which one to use ------------------------------
printf '[dns]\nreturn_path = bounce.%%d\n' >"$WORLD_TMP/old.conf"
out=$("$CTL_BIN" -c "$WORLD_TMP/old.conf" dns shop.test 2>&1); rc=$?
ok '[ "$rc" -ne 0 ]' "a configuration with [dns] return_path does not load"
like "$out" "old.conf:2: \\[dns\\] return_path is gone: set \\[intake\\] bounce_domain" "the error names the key to use"
done_testing
