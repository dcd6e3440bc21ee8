#!/bin/bash
# ctl-cli.sh - outpostctl as an operator's tool: --help on every command and subcommand
# (read from "outpostctl --help", so a new one is covered without touching this test),
# --json that parses and follows one convention, one time format in text and JSON, CSV
# export/import that still agree, and no KEYS sent to Redis by any command (MONITOR,
# and an ACL user that may not run KEYS) (TAP)
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$CTL_BIN" "$POLICYD_BIN"

dns_mx gmail.test in1.mx.testmail.test 10
dns_a in1.mx.testmail.test 127.0.0.11
echo "local=/2.0.192.in-addr.arpa/" >>"$WORLD_DIR/dns/records.conf"
dns_start
redis_start

# outpostctl and the policy daemon connect as a user that may not run KEYS: Redis
# refuses it and records the refusal in ACL LOG
redis_cli ACL SETUSER ctl on '>ctlpass' '~*' '&*' '+@all' '-keys' >/dev/null
like "$(redis_cli --no-auth-warning --user ctl --pass ctlpass KEYS '*' 2>&1)" \
    "NOPERM" "the ACL user 'ctl' is refused KEYS"
like "$(redis_cli ACL LOG)" "keys" "and the refusal is in ACL LOG"
redis_cli ACL LOG RESET >/dev/null

# every command sent to Redis from here on, scripts' commands included
redis_cli MONITOR >"$WORLD_DIR/monitor.log" 2>&1 &
monitor_pid=$!
ok 'wait_until 5 grep -q "^OK" $WORLD_DIR/monitor.log' "Redis MONITOR records the run"

secret=$WORLD_DIR/intake.secret
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$secret"
chmod 600 "$secret"
chown nobody "$secret"		# the milter reads it as [general] user
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = nobody
[redis]
$REDIS_CONF_SERVER
username = ctl
password = ctlpass
# the listings' walk scripts read 2,050 keys a call, each echoed to MONITOR: a
# loaded machine (or a cluster, where a key costs more) must not time them out
command_timeout = 5s
[policy]
listen = unix:$WORLD_DIR/run/policy.sock
[milter]
socket = unix:$WORLD_DIR/run/milter.sock
socket_mode = 0666
[provider testmail]
mx = *.mx.testmail.test
rate = 1/h
burst = 2
[pool warm1]
transport = smtp_warm1
senders = shop.test
addresses = 192.0.2.2
schedule = 1:50, 10:1000
overflow = spill
[pool spill]
transport = smtp_spill
[intake]
bounce_domain = bounces.%d
secret_file = $secret
[blocklist testbl]
zone = bl.test
[tenant acme]
domains = acme.test
[tenant shop]
domains = shop.test
webhook_url = http://127.0.0.1:8090/
webhook_secret_file = $secret
EOF
ctl() { "$CTL_BIN" -c "$conf" "$@"; }

world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens"
# the milter publishes this node's fingerprints (check-config --cluster)
world_spawn milter "$MILTER_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/milter.sock' "the milter listens"
# test-send: Postfix sends the check address to its own second smtpd, the
# bounce domain's MX, from a sending address of its own (as in test-send.sh)
ip addr add 192.0.2.9/32 dev lo
ip addr add 192.0.2.25/32 dev lo
echo '/^check-[a-z2-7]+@bounces\.shop\.test$/ outpost-check:[192.0.2.25]:25' >"$WORLD_DIR/transport"
postfix_conf "smtpd_milters = unix:$WORLD_DIR/run/milter.sock" "relay_domains = bounces.shop.test" \
    "transport_maps = regexp:$WORLD_DIR/transport, inline:{bounces.shop.test=discard:}"
postfix_master "192.0.2.25:25 inet n - n - - smtpd" \
    "outpost-check unix - - n - - smtp -o smtp_bind_address=192.0.2.9 -o myhostname=check.relay.test"
postfix_start

# State for the listings: four recipients at the provider (two pass, two are
# throttled: limits, warm-up use, statistics), a backoff, suppressions, and the
# day's counters of the bounce intake and the milter's suppression decisions as
# they do them (common/state/intake_act.h, common/state/suppress.c)
answers=$(/usr/bin/python3 - "$WORLD_DIR/run/policy.sock" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
for i in range(4):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\nsender=news@shop.test\n"
               "recipient=r%d@gmail.test\nqueue_id=Q%d\n\n" % (i, i)).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        buf += s.recv(4096)
    print(buf.decode().split("\n")[0])
PY
)
like "$answers" "rate limit of provider testmail" "policyd throttles beyond the burst"
is "$(ctl backoff set testmail warm1 1h 60/m '421 4.7.28 "slow down"')" "" "backoff set"
ctl suppress add --reason hard-bounce gone@gmail.test >/dev/null
ctl suppress add --reason unsubscribe --scope shop.test --expires 30d bob@gmail.test >/dev/null
day=$(date -u +%Y%m%d)
# on a cluster, one hash per bucket {intake:B}: the two halves are summed
itag() { if redis_is_cluster; then echo "{intake:$1}"; else echo "{intake}"; fi; }
redis_cli HINCRBY "outpost:$(itag 3):stats:$day" "shop.test testmail hard-bounce" 1 >/dev/null
redis_cli HINCRBY "outpost:$(itag 12):stats:$day" "shop.test testmail hard-bounce" 1 >/dev/null
redis_cli HINCRBY "outpost:$(itag 5):stats:$day" "- other unattributed" 1 >/dev/null
redis_cli HINCRBY "outpost:{sup}:stats:$day" "shop.test hard-bounce reject" 3 >/dev/null

# ---------------------------------------------------------------- --help
help=$("$CTL_BIN" --help 2>"$WORLD_TMP/help.err"); rc=$?
is "$rc" 0 "outpostctl --help exits 0"
is "$(cat "$WORLD_TMP/help.err")" "" "and writes nothing on standard error"
is "$("$CTL_BIN" -h 2>/dev/null)" "$help" "-h prints the same"
# "CMD" and "CMD SUB" of each form ("  outpostctl CMD [SUB] ARGS...")
forms=$(printf '%s\n' "$help" | sed -n 's/^  outpostctl \([a-z][a-z-]*\)\( [a-z][a-z-]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p' | sort -u)
commands=$(printf '%s\n' "$forms" | cut -d' ' -f1 | sort -u)
ok '[ "$(printf "%s\n" "$commands" | wc -l)" -ge 12 ]' "--help lists the commands ($(echo $commands))"
while read -r c; do
    for h in --help -h; do
        out=$("$CTL_BIN" -c /nonexistent/outpost.conf $c $h 2>"$WORLD_TMP/err"); rc=$?
        [ "$rc" = 0 ] && [ ! -s "$WORLD_TMP/err" ] && [[ $out == usage:*"outpostctl $c"* ]] ||
            fail "outpostctl $c $h: usage on stdout, exit 0" "rc $rc, stdout '$out', stderr '$(cat "$WORLD_TMP/err")'"
    done
    pass "outpostctl $c --help and -h: usage on stdout, exit 0, no configuration read"
done < <(printf '%s\n' "$forms")
# a subcommand's help shows that subcommand only
out=$("$CTL_BIN" suppress add --help)
like "$out" "outpostctl suppress add " "suppress add --help shows its form"
unlike "$out" "suppress remove" "and not the others"
# usage errors still go to stderr with status 2
out=$("$CTL_BIN" -c "$conf" nosuch 2>"$WORLD_TMP/err"); rc=$?
is "$rc $out" "2 " "an unknown command: exit 2, nothing on stdout"
like "$(cat "$WORLD_TMP/err")" "unknown command 'nosuch'" "and the error on stderr"
is "$(head -1 "$WORLD_TMP/err")" "outpostctl: unknown command 'nosuch'" \
    "an error is one plain line, \"outpostctl: \" and the text (no time, no severity)"
out=$("$CTL_BIN" -c "$WORLD_TMP/none.conf" ping 2>&1); rc=$?
is "$rc $out" "1 outpostctl: $WORLD_TMP/none.conf: cannot open: No such file or directory" \
    "a configuration that cannot be read: exit 1 and that one line"
out=$(ctl backoff 2>"$WORLD_TMP/err"); rc=$?
is "$rc $out" "2 " "backoff without a subcommand: exit 2, nothing on stdout"
like "$(cat "$WORLD_TMP/err")" "outpostctl backoff list" "its forms on stderr"
out=$("$CTL_BIN" 2>"$WORLD_TMP/err"); rc=$?
is "$rc $out" "2 " "no command at all: exit 2"
for n in x 0 -3 10x; do
    out=$(ctl suppress list --limit "$n" 2>"$WORLD_TMP/err"); rc=$?
    is "$rc $out" "2 " "suppress list --limit $n: exit 2, nothing listed"
done
like "$(cat "$WORLD_TMP/err")" "--limit 10x: expected a number" "and says why"

# ---------------------------------------------------------------- every command
# args_of FORM - the arguments of a run of FORM with the state above.  A new form
# has none here: the run below then fails until one is added.
bounce_eml=$(ls "$OUTPOST_SRCDIR"/tests/data/bounces/*.eml | head -1)
args_of() {
    case $1 in
    "check-config") echo "check-config" ;;
    "dns") echo "dns shop.test" ;;
    "verify") echo "verify shop.test" ;;
    "classify") echo "classify $bounce_eml" ;;
    "ping") echo "ping" ;;
    "version") echo "version" ;;
    "dkim keygen") echo "dkim keygen shop.test s1 --algorithm ed25519 --dir $WORLD_TMP" ;;
    "dkim rotate") echo "dkim rotate shop.test s1 --dir $WORLD_TMP" ;;	# no key table here
    "suppress add") echo "suppress add --reason complaint x@gmail.test" ;;
    "suppress remove") echo "suppress remove x@gmail.test" ;;
    "suppress check") echo "suppress check --sender shop.test gone@gmail.test bob@gmail.test" ;;
    "suppress list") echo "suppress list" ;;
    "suppress import") echo "suppress import $WORLD_TMP/import.csv" ;;
    "suppress export") echo "suppress export $WORLD_TMP/export.csv" ;;
    "suppress purge") echo "suppress purge" ;;
    "suppress stats") echo "suppress stats" ;;
    "intake stats") echo "intake stats" ;;
    "intake address") echo "intake address gone@gmail.test shop.test" ;;
    "warmup status") echo "warmup status" ;;
    "warmup start") echo "warmup start warm1" ;;
    "throttle status") echo "throttle status" ;;
    "stats") echo "stats" ;;
    "backoff list") echo "backoff list" ;;
    "backoff clear") echo "backoff clear nosuch" ;;
    "backoff set") echo "backoff set other spill 10m 10/m" ;;
    "reputation") echo "reputation" ;;	# the test DNS has no bl.test names: clean
    "events") echo "events acme --limit 10" ;;	# nothing sent for acme.test: empty
    "test-send") echo "test-send --from news@shop.test --via 127.0.0.1:2525 --timeout 20s" ;;
    "apikey create") echo "apikey create shop --scopes stats" ;;
    "apikey list") echo "apikey list" ;;
    "apikey revoke") echo "apikey revoke $revoke_id" ;;
    "webhooks status") echo "webhooks status" ;;
    "webhooks replay") echo "webhooks replay shop --dead" ;;
    *) return 1 ;;
    esac
}
revoke_id=$(ctl apikey create shop 2>/dev/null | cut -c4-19)	# a key to revoke
printf 'address,reason,scope,time,expires,source\nnew@gmail.test,manual,global,2026-01-02T03:04:05Z,,import\n' \
    >"$WORLD_TMP/import.csv"
while read -r f; do
    if ! a=$(args_of "$f"); then
        fail "outpostctl $f: the test knows no arguments for this new form; add them to args_of"
        continue
    fi
    # shellcheck disable=SC2086
    out=$(ctl $a 2>"$WORLD_TMP/err"); rc=$?
    # dns, verify and test-send find unpublished records (exit 1), dkim rotate has no
    # key table to change (exit 1), the rest succeeds
    want=0; case $f in dns|verify|test-send|"dkim rotate") want=1 ;; esac
    is "$rc" "$want" "outpostctl $a: exit $want$([ "$rc" != "$want" ] && echo " ($(head -c 300 "$WORLD_TMP/err"))")"
    printf '%s\n' "$out" >"$WORLD_TMP/out.$(echo "$f" | tr ' ' _)"
done < <(printf '%s\n' "$forms")

# ---------------------------------------------------------------- one time format
# any date-like token in a text output must be RFC 3339 UTC or a day YYYY-MM-DD
check_times() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
bad = []
for path in sys.argv[1:]:
    for tok in re.findall(r"\b\d{4}-?\d{2}-?\d{2}[T ]?[0-9:.]*[Z+-]?[0-9:]*", open(path).read()):
        tok = tok.rstrip(" -+")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}Z)?", tok):
            bad.append("%s: %s" % (path.rsplit("/", 1)[1], tok))
print("\n".join(bad))
PY
}
ctl suppress list >"$WORLD_TMP/text.list"
ctl suppress check --sender shop.test bob@gmail.test >"$WORLD_TMP/text.check"
ctl suppress stats >"$WORLD_TMP/text.supstats"
ctl backoff list >"$WORLD_TMP/text.backoff"
ctl warmup status >"$WORLD_TMP/text.warmup"
like "$(cat "$WORLD_TMP/text.list")" "gone@gmail.test.*[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z" \
    "suppress list prints times as RFC 3339 UTC"
like "$(cat "$WORLD_TMP/text.supstats")" "decisions on $(date -u +%Y-%m-%d) " "suppress stats names its day YYYY-MM-DD"
like "$(cat "$WORLD_TMP/text.backoff")" "testmail +warm1 +60/m +[0-9-]{10}T[0-9:]{8}Z" "backoff list: until in RFC 3339 UTC"
is "$(check_times "$WORLD_TMP"/text.* "$WORLD_TMP"/out.{suppress_*,backoff_list,warmup_*,throttle_status,stats,intake_stats})" "" \
    "every date in the text outputs is RFC 3339 UTC or YYYY-MM-DD"
is "$(ctl intake stats --day "$(date -u +%Y-%m-%d)" | sort)" "$(ctl intake stats --day "$day" | sort)" \
    "intake stats --day takes YYYY-MM-DD, and YYYYMMDD as before"
is "$(ctl suppress stats --day "$day" | tail -n +2)" "$(tail -n +2 "$WORLD_TMP/text.supstats")" \
    "suppress stats --day takes YYYYMMDD too"

# CSV: an export imports again as it is; rows in the older time forms still import
is "$(head -1 "$WORLD_TMP/export.csv")" "address,reason,scope,time,expires,source" "export header"
is "$(check_times "$WORLD_TMP/export.csv")" "" "export: times in RFC 3339 UTC"
rm -f "$WORLD_TMP/export-new.csv"
(umask 022 && ctl suppress export "$WORLD_TMP/export-new.csv" 2>/dev/null)
is "$(stat -c %a "$WORLD_TMP/export-new.csv")" 600 "export: a new file is the owner's only, whatever the umask"
install -m 0640 /dev/null "$WORLD_TMP/export-old.csv"
ctl suppress export "$WORLD_TMP/export-old.csv" 2>/dev/null
is "$(stat -c %a "$WORLD_TMP/export-old.csv")" 640 "export: an existing file keeps its mode"
is "$(cmp "$WORLD_TMP/export-new.csv" "$WORLD_TMP/export-old.csv" && echo same)" same "export: same rows either way"
ctl suppress import --strict "$WORLD_TMP/export.csv" 2>"$WORLD_TMP/err"
is "$?" 0 "the export imports again with --strict ($(cat "$WORLD_TMP/err"))"
printf 'address,reason,scope,time,expires,source\nold1@gmail.test,manual,global,1780000000,,\nold2@gmail.test,manual,global,2026-05-01,,\nold3@gmail.test,manual,global,2026-05-01 10:00:00Z,2036-05-01T00:00:00Z,x\n' \
    >"$WORLD_TMP/old.csv"
ctl suppress import --strict "$WORLD_TMP/old.csv" 2>"$WORLD_TMP/err"
is "$?" 0 "epoch, date and 'date time' forms still import ($(cat "$WORLD_TMP/err"))"
like "$(ctl suppress check old1@gmail.test)" "since 2026-05-28T20:26:40Z" "an epoch time is shown in RFC 3339"

# ---------------------------------------------------------------- --json
# check_json ROWS_KEY - the document on stdin follows the convention of outpostctl(8)
check_json() {
    /usr/bin/python3 -c '
import json, re, sys
rows_key = sys.argv[1]
try:
    d = json.loads(sys.stdin.read())
except ValueError as e:
    print("not JSON:", e); sys.exit()
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
KEY = re.compile(r"[a-z][a-z0-9]*(_[a-z0-9]+)*")
TIMES = {"since", "until", "time", "expires", "now"}
DAYS = {"day", "today", "start_date"}
INTS = {"count", "used", "cap", "burst", "available", "entry_count", "ttl", "pass", "warn",
        "fail", "warmup_day", "left_seconds", "split_percent"}
NUMS = {"rate_per_second", "interval_seconds", "rested_in_seconds", "used_ratio"}
BOOLS = {"configured", "schedule"}
errs = []
def walk(v, path, key):
    if isinstance(v, dict):
        for k, x in v.items():
            if key != "reasons" and not KEY.fullmatch(k):   # reasons: a name -> count map
                errs.append("%s: key %r is not snake_case" % (path, k))
            walk(x, path + "." + k, k)
    elif isinstance(v, list):
        kinds = {tuple(sorted(x)) for x in v if isinstance(x, dict)}
        if len(kinds) > 1:
            errs.append("%s: rows with different keys %s" % (path, kinds))
        for i, x in enumerate(v):
            walk(x, "%s[%d]" % (path, i), None)
    elif key in TIMES:
        if not (v is None or isinstance(v, str) and TIME.fullmatch(v)):
            errs.append("%s: %r is not an RFC 3339 UTC time or null" % (path, v))
    elif key in DAYS:
        if not (v is None or isinstance(v, str) and DAY.fullmatch(v)):
            errs.append("%s: %r is not a day YYYY-MM-DD or null" % (path, v))
    elif key in INTS:
        if not (v is None or type(v) is int):
            errs.append("%s: %r is not an integer or null" % (path, v))
    elif key in NUMS or (key or "").startswith(("bounce_rate", "complaint_rate")):
        if not (v is None or type(v) in (int, float)):
            errs.append("%s: %r is not a number or null" % (path, v))
    elif key in BOOLS or key == "suppressed" and ".addresses[" in path:
        if type(v) is not bool:
            errs.append("%s: %r is not true or false" % (path, v))
    elif isinstance(v, str) and re.fullmatch(r"\d{8}|\d{9,10}", v):
        errs.append("%s: %r looks like a time in another format" % (path, v))
if not isinstance(d, dict):
    errs.append("not an object")
else:
    walk(d, "", None)
    if rows_key != "-":
        rows = d.get(rows_key)
        if not (isinstance(rows, list) and rows and all(isinstance(r, (dict, str)) for r in rows)):
            errs.append("no rows under %r: %r" % (rows_key, rows))
print("\n".join(errs))
' "$1"
}
# every form whose synopsis offers --json, with the key of its rows
while read -r f; do
    case $f in
    "dns") k=records ;; "verify") k=checks ;; "suppress check") k=addresses ;;
    "suppress list") k=entries ;; "suppress stats") k=decisions ;; "intake stats") k=counters ;;
    "intake address") k=- ;; "warmup status") k=pools ;; "throttle status") k=limits ;;
    "stats") k=rows ;; "backoff list") k=backoffs ;; "check-config") k=nodes ;;
    "reputation") k=checks ;; "test-send") k=checks ;; "apikey list") k=keys ;;
    "webhooks status") k=tenants ;;
    "events") k=- ;;	# GET /v1/events' body (time in ms), checked in events.sh
    *) fail "outpostctl $f --json: the test knows no rows key for this new form"; continue ;;
    esac
    a=$(args_of "$f")
    [ "$f" = check-config ] && a="check-config --cluster"	# the cluster's state is the document
    # shellcheck disable=SC2086
    ctl $a --json >"$WORLD_TMP/json" 2>"$WORLD_TMP/err"
    is "$(check_json "$k" <"$WORLD_TMP/json")" "" "outpostctl $a --json follows the convention"
done < <(printf '%s\n' "$help" | grep -- '\[--json\]' |
         sed -n 's/^  outpostctl \([a-z][a-z-]*\)\( [a-z][a-z-]*\)\{0,1\}\( .*\)\{0,1\}$/\1\2/p')
for f in "warmup status" "throttle status" "backoff list" "intake stats" "stats" "dns" "verify" \
         "suppress list" "check-config"; do
    printf '%s\n' "$help" | grep -q "^  outpostctl $f .*\[--json\]"
    is "$?" 0 "$f offers --json"
done

# a few values, not only their types
j=$(ctl check-config --cluster --json 2>/dev/null)
is "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d["nodes"]), d["nodes"][0]["stale"], d["differences"], d["agree"])' <<<"$j")" \
    "1 False [] True" "check-config --cluster --json: one node, fresh, no difference, agreeing"
j=$(ctl warmup status --json)
is "$(/usr/bin/python3 -c 'import json,sys; p={x["name"]:x for x in json.load(sys.stdin)["pools"]}; w=p["warm1"]; print(w["warmup_day"], w["cap"], w["used"], w["spills_over_to"], p["spill"]["cap"])' <<<"$j")" \
    "1 50 2 spill None" "warmup status --json: day 1 of warm1, cap 50, 2 used; spill has no cap"
j=$(ctl throttle status --json)
is "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); l=[x for x in d["limits"] if x["kind"]=="provider"]; print(len(l), l[0]["name"], l[0]["burst"], l[0]["available"], sorted(b["provider"] for b in d["backoffs"]))' <<<"$j")" \
    "1 testmail 2 0 ['other', 'testmail']" "throttle status --json: the provider's limit used up, its backoffs"
j=$(ctl suppress check --json --sender shop.test gone@gmail.test nobody@gmail.test)
is "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["sender"], [(a["address"], a["suppressed"], a["entry"] and a["entry"]["reason"]) for a in d["addresses"]])' <<<"$j")" \
    "shop.test [('gone@gmail.test', True, 'hard-bounce'), ('nobody@gmail.test', False, None)]" \
    "suppress check --json: one row per address, entry null when not suppressed"
j=$(ctl intake stats --json)
is "$(/usr/bin/python3 -c 'import json,sys; d=json.load(sys.stdin); print(sorted([(c["sender"], c["event"], c["count"]) for c in d["counters"]], key=str))' <<<"$j")" \
    "[('shop.test', 'hard-bounce', 2), (None, 'unattributed', 1)]" "intake stats --json: the day's counters, no sender as null"
is "$(ctl suppress list --json | wc -l)" "$(( $(ctl suppress list | wc -l) + 2 ))" \
    "suppress list --json: one line per entry between the object's first and last line"

# strings from outside are escaped and stay valid UTF-8
ctl backoff set 'quo"te' warm1 1h 1/m "$(printf 'bad \xff byte, tab\tand "quotes"')" >/dev/null
is "$(ctl backoff list --json | /usr/bin/python3 -c 'import json,sys; print(ascii([b["reason"] for b in json.load(sys.stdin)["backoffs"] if b["provider"]=="quo\"te"]))')" \
    "['bad \\ufffd byte, tab\\tand \"quotes\"']" "backoff list --json: a reason with an invalid byte, a tab and quotes"

# ---------------------------------------------------------------- failures in the exit status
# results that do not all reach standard output (a full disk) are a failure
ctl suppress list >/dev/full 2>"$WORLD_TMP/err"; rc=$?
is "$rc" 1 "suppress list onto a full disk: exit 1"
like "$(cat "$WORLD_TMP/err")" "standard output: No space left on device" "and says why"
"$CTL_BIN" version >/dev/full 2>/dev/null; rc=$?
is "$rc" 1 "version onto a full disk: exit 1"
# a value that is not one is a usage error, not a default
ctl suppress list --limit 1x >/dev/null 2>&1; rc=$?
is "$rc" 2 "suppress list --limit 1x: exit 2"
ctl suppress list --limit 0 >/dev/null 2>&1; rc=$?
is "$rc" 2 "suppress list --limit 0: exit 2"
is "$(ctl suppress list --limit 1 | wc -l)" 1 "suppress list --limit 1: one entry"
is "$(ctl suppress list --reas unsubscribe | cut -f3 | sort -u)" unsubscribe \
    "suppress list --reas (an abbreviation getopt takes): only those entries"
ctl suppress stats --day 2026-02-31 >/dev/null 2>&1; rc=$?
is "$rc" 2 "suppress stats --day 2026-02-31 (no such day): exit 2"
ctl suppress add --expires 0 zero@gmail.test >/dev/null 2>&1; rc=$?
ctl suppress check zero@gmail.test >/dev/null 2>&1; rc2=$?
is "$rc $rc2" "2 1" "suppress add --expires 0: exit 2, and no entry (not one that never expires)"
out=$(ctl suppress check --json gone@gmail.test 'no address' 2>/dev/null); rc=$?
is "$rc ${out:-nothing}" "2 nothing" "suppress check --json, a bad address: exit 2, no document cut short"
ctl intake address 'no address' shop.test >/dev/null 2>&1; rc=$?
is "$rc" 2 "intake address, a bad recipient: exit 2"
# a command that Redis refuses (writes, with too few replicas) is a failure, not "none"
redis_cli CONFIG SET min-replicas-to-write 9 >/dev/null
ctl backoff clear testmail >"$WORLD_TMP/out" 2>"$WORLD_TMP/err"; rc=$?
redis_cli CONFIG SET min-replicas-to-write 0 >/dev/null
is "$rc" 1 "backoff clear refused by Redis: exit 1 ($(cat "$WORLD_TMP/out"))"
like "$(cat "$WORLD_TMP/err")" "NOREPLICAS" "with Redis' answer on stderr"
like "$(ctl backoff list)" "testmail +warm1" "and the backoff is still in force"
# a read that Redis refuses (NOPERM) is not an empty state: webhooks status
redis_cli ACL SETUSER ctl -xinfo >/dev/null
ctl webhooks status >"$WORLD_TMP/out" 2>"$WORLD_TMP/err"; rc=$?
redis_cli ACL SETUSER ctl +xinfo >/dev/null
redis_cli ACL LOG RESET >/dev/null
is "$rc" 1 "webhooks status refused XINFO: exit 1 ($(cat "$WORLD_TMP/out"))"
like "$(cat "$WORLD_TMP/err")" "XINFO GROUPS .*NOPERM" "with Redis' answer on stderr"
ctl webhooks status >/dev/null 2>&1; rc=$?
is "$rc" 0 "and exit 0 once it may"
# ... nor is HGETALL refused: warmup status, check-config --cluster
redis_cli ACL SETUSER ctl -hgetall >/dev/null
ctl warmup status >"$WORLD_TMP/out" 2>"$WORLD_TMP/err"; rc=$?
ctl check-config --cluster >"$WORLD_TMP/out3" 2>"$WORLD_TMP/err3"; rc3=$?
redis_cli ACL SETUSER ctl +hgetall >/dev/null
redis_cli ACL LOG RESET >/dev/null
is "$rc" 1 "warmup status refused HGETALL: exit 1 ($(tail -1 "$WORLD_TMP/out"))"
like "$(cat "$WORLD_TMP/err")" "HGETALL .*NOPERM" "with Redis' answer on stderr"
is "$rc3" 2 "check-config --cluster refused HGETALL: exit 2, Redis not read ($(tail -1 "$WORLD_TMP/out3"))"
like "$(cat "$WORLD_TMP/err3")" "NOPERM" "with Redis' answer on stderr"
# ... nor HGET: the entry count that suppress purge tells the purged ones by (a list of
# its own, with global entries only: it is read without HGET)
sed 's/^\[redis\]$/[redis]\nprefix = purge:/' "$conf" >"$WORLD_TMP/purge.conf"
pctl() { "$CTL_BIN" -c "$WORLD_TMP/purge.conf" "$@"; }
pctl suppress add --expires 2020-01-01 purged@gmail.test >/dev/null
pctl suppress add kept@gmail.test >/dev/null
redis_cli ACL SETUSER ctl -hget >/dev/null
pctl suppress purge >"$WORLD_TMP/out" 2>"$WORLD_TMP/err"; rc=$?
redis_cli ACL SETUSER ctl +hget >/dev/null
redis_cli ACL LOG RESET >/dev/null
is "$rc" 1 "suppress purge refused HGET: exit 1 ($(cat "$WORLD_TMP/out"))"
like "$(cat "$WORLD_TMP/err")" "purge: .*NOPERM" "with Redis' answer on stderr"
# ... nor GET: a rate limit's state in throttle status
redis_cli ACL SETUSER ctl -get >/dev/null
ctl throttle status >"$WORLD_TMP/out" 2>"$WORLD_TMP/err"; rc=$?
redis_cli ACL SETUSER ctl +get >/dev/null
redis_cli ACL LOG RESET >/dev/null
is "$rc" 1 "throttle status refused GET: exit 1 ($(grep -m1 '^provider ' "$WORLD_TMP/out"))"
like "$(cat "$WORLD_TMP/err")" "GET .*NOPERM" "with Redis' answer on stderr"

# a report's text cannot forge classify's rows: a tab and a newline in an SES field
sed 's/"complaintFeedbackType" *: *"abuse"/"complaintFeedbackType":"abuse\\tforged\\nx.eml\\t1"/' \
    "$OUTPOST_SRCDIR/tests/data/bounces/lhost-amazonses-11.eml" >"$WORLD_TMP/forged.eml"
like "$(cat "$WORLD_TMP/forged.eml")" 'abuse\\tforged' "(the report holds them)"
out=$("$CTL_BIN" classify -k "$WORLD_TMP/forged.eml")
is "$(wc -l <<<"$out") $(awk -F'\t' '{ print NF }' <<<"$out")" "1 10" \
    "classify: they neither add a field nor start a row"

# ---------------------------------------------------------------- no KEYS
kill "$monitor_pid" 2>/dev/null
ok 'grep -q "\"SCAN\"" $WORLD_DIR/monitor.log' "the listings walked the keys with SCAN"
is "$(grep -ci '"keys"' "$WORLD_DIR/monitor.log")" 0 "no KEYS command reached Redis during the whole run"
is "$(redis_cli ACL LOG)" "" "Redis refused no command of outpostctl or policyd (ACL LOG is empty)"
done_testing
