#!/bin/bash
# check-postfix.sh - outpostctl check-config --postfix reads Postfix's real settings (TAP)
#
# Builds Postfix configuration directories (Debian's master.cf, main.cf lines) and runs
# the check on them with the real postconf: the main.cf lines of doc/INSTALL.md pass
# (with the outpost.conf of the guide), a main.cf that puts the permits before the
# policy check (what the guide once said) fails and says why, and so do a missing
# milter, a socket a chrooted smtpd cannot reach, a submission service that demotes
# the policy check with -o; a content filter's return smtpd is left out; restriction
# classes are read where they are named; each [pool NAME]'s transport must be in master.cf.
. "$(dirname "$0")/../lib/world.sh"        # TAP functions only: no world is started

need_programs "$CTL_BIN"
command -v postconf >/dev/null 2>&1 || skip_all "postconf not installed (see tests/install-deps.sh)"
[ -r /usr/share/postfix/master.cf.dist ] || skip_all "no /usr/share/postfix/master.cf.dist"
guide=$OUTPOST_SRCDIR/doc/INSTALL.md
blocks=$WORLD_LIB_DIR/docblocks.py
work=$(mktemp -d /tmp/outpost-checkpf.XXXXXX)
trap 'rm -rf "$work"; _world_on_exit' EXIT

# The outpost.conf of the guide: the shipped file with the guide's keys set.
conf=$work/outpost.conf
cp "$OUTPOST_SRCDIR/conf-examples/outpost.conf" "$conf"
"$PYTHON" "$blocks" cat "$guide" outpost.conf | "$PYTHON" "$blocks" merge-ini "$conf"
like "$(grep -E '^(socket|listen) =' "$conf")" 'postfix/outpost/milter.sock.*postfix/outpost/policy.sock' \
    "the guide moves the sockets under /var/spool/postfix"

# pfdir NAME [main.cf lines...] - a configuration directory: Debian's master.cf (smtpd
# chrooted), a main.cf of the given lines; prints its path.
pfdir() {
    local d=$work/$1; shift
    mkdir -p "$d"
    cp /usr/share/postfix/master.cf.dist "$d/master.cf"
    { echo "compatibility_level = 3.6"; printf '%s\n' "$@"; } >"$d/main.cf"
    echo "$d"
}
check() { "$CTL_BIN" -c "$conf" check-config --postfix "$1" 2>&1; }
# guide_maincf DIR - the guide's main.cf blocks applied in order as it says: a
# parameter set again replaces the earlier line
guide_maincf() {
    local n
    for n in $("$PYTHON" "$blocks" list "$guide" | awk '$2 == "main.cf" { print $1 }'); do
        "$PYTHON" "$blocks" get "$guide" "$n" | "$PYTHON" "$blocks" merge-maincf "$1/main.cf"
    done
}

# --- the guide's main.cf
d=$(pfdir guide)
guide_maincf "$d"
ok 'grep -q check_policy_service "$d/main.cf"' "the guide has main.cf lines with the policy check"
out=$(check "$d/main.cf"); rc=$?
is "$rc" 0 "the guide's main.cf passes (smtpd chrooted, as on Debian)" || diag "$out"
like "$out" '^postfix: configuration OK \(1 smtpd service\)$' "and says so"
sed -i -E 's/^(smtp +inet +[-yn] +[-yn] +)y/\1n/' "$d/master.cf"
out=$(check "$d"); rc=$?
is "$rc" 0 "and with smtpd not chrooted (the directory named instead of main.cf)" || diag "$out"
out=$(MAIL_CONFIG=$d "$CTL_BIN" -c "$conf" check-config --postfix 2>&1); rc=$?
is "$rc" 0 "no argument: postconf's own directory (\$MAIL_CONFIG)" || diag "$out"

# --- demoted: the permits first, in the one list that holds the policy check
d=$(pfdir demoted \
    'smtpd_milters = unix:outpost/milter.sock' \
    'smtpd_recipient_restrictions = permit_sasl_authenticated, permit_mynetworks,
    reject_unauth_destination,
    check_policy_service { unix:outpost/policy.sock, default_action=DEFER_IF_PERMIT }')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "permits before check_policy_service: exit 1"
like "$out" 'smtp/inet: smtpd_recipient_restrictions: permit_sasl_authenticated comes before check_policy_service unix:outpost/policy.sock' \
    "it names the service, the list, the first permit and the policy check"
unlike "$out" 'configuration OK' "and does not say OK"

# --- restriction classes: the policy check inside one counts; a permit inside one ends
# the list before a later policy check
d=$(pfdir classes 'smtpd_milters = unix:outpost/milter.sock' \
    'smtpd_restriction_classes = outpost_checks, outer' \
    'outpost_checks = check_policy_service unix:outpost/policy.sock' \
    'outer = reject_unauth_pipelining, outpost_checks' \
    'smtpd_recipient_restrictions = reject_unauth_destination, outer')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 0 "the policy check in a class within a class: pass" || diag "$out"
d=$(pfdir classpermit 'smtpd_milters = unix:outpost/milter.sock' \
    'smtpd_restriction_classes = trusted' \
    'trusted = permit_mynetworks' \
    'smtpd_recipient_restrictions = trusted, check_policy_service unix:outpost/policy.sock')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "a permit in a class before the policy check: exit 1"
like "$out" 'smtpd_recipient_restrictions: permit_mynetworks comes before check_policy_service' \
    "it names the permit read in the class"
d=$(pfdir classwrong 'smtpd_milters = unix:outpost/milter.sock' \
    'smtpd_restriction_classes = outpost_checks' \
    'outpost_checks = check_policy_service unix:elsewhere/policy.sock' \
    'smtpd_recipient_restrictions = outpost_checks')
out=$(check "$d/main.cf"); rc=$?
like "$out" 'check_policy_service unix:elsewhere/policy.sock is /var/spool/postfix/elsewhere/policy.sock' \
    "a class's policy socket is compared with [policy] listen like any"

# --- no policy check at all; no milter
d=$(pfdir nopolicy 'smtpd_milters = unix:outpost/milter.sock')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "no check_policy_service: exit 1"
like "$out" 'no check_policy_service in its restriction lists' "and why"
d=$(pfdir nomilter 'smtpd_recipient_restrictions = check_policy_service unix:outpost/policy.sock')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "smtpd_milters empty: exit 1"
like "$out" 'smtpd_milters is empty' "and why"
d=$(pfdir othermilter 'smtpd_milters = inet:127.0.0.1:8891' \
    'smtpd_recipient_restrictions = check_policy_service unix:outpost/policy.sock')
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "only another milter (opendkim on TCP): exit 1"
like "$out" 'smtpd_milters does not reach outpost-milter at unix:/var/spool/postfix/outpost/milter.sock' "and why"

# --- absolute sockets: fine unchrooted, unreachable chrooted
d=$(pfdir run 'smtpd_milters = unix:/var/spool/postfix/outpost/milter.sock' \
    'smtpd_recipient_restrictions = check_policy_service unix:/var/spool/postfix/outpost/policy.sock')
sed -i -E 's/^(smtp +inet +[-yn] +[-yn] +)y/\1n/' "$d/master.cf"
out=$(check "$d/main.cf"); rc=$?
is "$rc" 0 "absolute socket paths, smtpd not chrooted: pass" || diag "$out"
sed -i -E 's/^(smtp +inet +[-yn] +[-yn] +)n/\1y/' "$d/master.cf"
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "the same, smtpd chrooted: exit 1"
like "$out" 'milter.sock is /var/spool/postfix/var/spool/postfix/outpost/milter.sock for a chrooted smtpd' \
    "it says where the chrooted smtpd looks for the milter"
like "$out" 'check_policy_service unix:/var/spool/postfix/outpost/policy.sock is /var/spool/postfix/var/spool/postfix/outpost/policy.sock for a chrooted smtpd' \
    "and for the policy service"

# --- master.cf: a submission service that demotes the policy check; a content
# filter's return smtpd (-o content_filter=) is not checked
d=$(pfdir guide2)
guide_maincf "$d"
cat >>"$d/master.cf" <<'EOF'
127.0.0.1:10025 inet n - n - - smtpd
  -o content_filter=
  -o smtpd_recipient_restrictions=permit_mynetworks,reject
  -o smtpd_milters=
EOF
out=$(check "$d/main.cf"); rc=$?
is "$rc" 0 "a content filter's return smtpd is left out" || diag "$out"
cat >>"$d/master.cf" <<'EOF'
submission inet n - y - - smtpd
  -o smtpd_sasl_auth_enable=yes
  -o smtpd_recipient_restrictions=permit_sasl_authenticated,check_policy_service,unix:outpost/policy.sock,reject
EOF
out=$(check "$d/main.cf"); rc=$?
is "$rc" 1 "submission with -o permits before the policy check: exit 1"
like "$out" 'submission/inet: smtpd_recipient_restrictions: permit_sasl_authenticated comes before' "it names that service"
unlike "$out" 'smtp/inet:' "and not the smtp service, which is right"

# --- the pools' transports: outpost-policyd answers FILTER with them, and the sender's
# pool leaves by it; one missing from master.cf leaves that mail in the queue
pconf=$work/pools.conf
cp "$conf" "$pconf"
printf '%s\n' '[pool warm1]' 'transport = smtp_warm1' 'overflow = shared' \
    '[pool shared]' 'transport = smtp_shared:[192.0.2.1]' '[pool plain]' 'transport = smtp:' >>"$pconf"
d=$(pfdir pools)
"$PYTHON" "$blocks" cat "$guide" main.cf >>"$d/main.cf"
out=$("$CTL_BIN" -c "$pconf" check-config --postfix "$d/main.cf" 2>&1); rc=$?
is "$rc" 1 "pools whose transports master.cf lacks: exit 1"
like "$out" 'postfix: \[pool warm1\]: transport smtp_warm1 is no unix service of master.cf' \
    "it names the pool and the missing service"
like "$out" 'postfix: \[pool shared\]: transport smtp_shared is no unix service of master.cf' \
    "the service of a transport with a next hop too"
unlike "$out" 'pool plain' "and not a pool on Debian's own smtp service"
cat "$OUTPOST_SRCDIR/conf-examples/postfix-policyd-master.cf" >>"$d/master.cf"
out=$("$CTL_BIN" -c "$pconf" check-config --postfix "$d/main.cf" 2>&1); rc=$?
is "$rc" 0 "with conf-examples/postfix-policyd-master.cf added: pass" || diag "$out"

# --- outpost.conf unreadable: the lists are still checked
out=$("$CTL_BIN" -c "$work/none.conf" check-config --postfix "$work/demoted" 2>&1); rc=$?
is "$rc" 1 "without outpost.conf the demoted main.cf still fails"
like "$out" 'none.conf: cannot open: No such file or directory; the sockets are not compared' \
    "and it says what it could not compare, with the system error"
done_testing
