#!/bin/bash
# install-doc.sh - follow doc/INSTALL.md word by word on the installed package (TAP)
#
# SYNOPSIS
#	tests/package/install-doc.sh		(as root)
#
# DESCRIPTION
#	Installs outpost_*.deb (OUTPOST_DEB=path, else it builds one with
#	packaging/build-deb.sh; a package already installed is used as it is),
#	then, in a test world (tests/lib/world.sh: its own network and mount
#	namespace, Redis, DNS, Postfix and receiving servers), applies the blocks
#	of doc/INSTALL.md marked "outpost.conf", "setup" and "main.cf" as they
#	are written, in their order: outpost.conf keys set in
#	/etc/outpost/outpost.conf, setup blocks run by bash -e as root, main.cf
#	lines appended to the test Postfix's main.cf.  /etc/outpost, /run/outpost,
#	/var/lib/outpost, /var/log and /var/spool/postfix/outpost are private
#	copies inside the namespace (bind mounts); $MAIL_CONFIG names the test
#	Postfix, so that postconf and outpostctl check-config --postfix see it.
#	Each daemon is started as its installed unit's ExecStart= says, as the
#	unit's User=, Group=, SupplementaryGroups= and UMask=.
#
#	It proves: a client in mynetworks and a SASL client (Cyrus sasldb, not
#	in mynetworks) are both throttled by outpost-policyd under a test
#	limit; outgoing mail is DKIM-signed (dkimpy's dkimverify against the
#	record outpostctl dkim keygen printed); a suppressed recipient is
#	refused; a DSN sent to the return path the mail left with is
#	attributed and suppresses the address; outpost-logd reads the mail log
#	where the guide puts it.  Then the package is purged if this test
#	installed it.
#
#	The test's own settings, beside the guide's: mynetworks is 127.0.0.0/30
#	(so that the SASL client at 127.0.0.5 is outside it), SASL, Postfix's
#	default maillog_file_prefixes (the world narrows them), and the limits.
. "$(dirname "$0")/../lib/world.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
guide=$top/doc/INSTALL.md
blocks=$top/tests/lib/docblocks.py
units=/lib/systemd/system

# --- outside the namespace: install the package, run the test, purge
if [ -z "${_INSTALL_DOC_INNER:-}" ]; then
    [ "$(id -u)" = 0 ] || skip_all "needs root (apt-get install, namespaces)"
    command -v saslpasswd2 >/dev/null 2>&1 || skip_all "saslpasswd2 not installed (sasl2-bin, see tests/install-deps.sh)"
    command -v dkimverify >/dev/null 2>&1 || skip_all "dkimverify not installed (python3-dkim)"
    installed=0
    dpkg-query -W -f='${Status}' outpost 2>/dev/null | grep -q 'install ok installed' && installed=1
    work=$(mktemp -d /tmp/outpost-installdoc.XXXXXX)
    had_user=0; getent passwd outpost >/dev/null && had_user=1
    had_group=0; getent group outpost >/dev/null && had_group=1
    postfix_had_group=0
    getent passwd postfix >/dev/null && id -nG postfix | grep -qw outpost && postfix_had_group=1
    we_installed=0
    # outer_cleanup - purge what this test installed, as test-package.sh does
    outer_cleanup() {
        if [ $we_installed = 1 ]; then
            apt-get remove --purge -y -q outpost >>"$work/apt.log" 2>&1 || true
            if [ $postfix_had_group = 0 ] && id -nG postfix 2>/dev/null | grep -qw outpost; then
                gpasswd -d postfix outpost >/dev/null 2>&1 || true
            fi
            [ $had_user = 0 ] && getent passwd outpost >/dev/null && userdel outpost >/dev/null 2>&1
            [ $had_group = 0 ] && getent group outpost >/dev/null && groupdel outpost >/dev/null 2>&1
        fi
        rm -rf "$work"
    }
    trap outer_cleanup EXIT
    if [ $installed = 0 ]; then
        deb=${OUTPOST_DEB:-}
        if [ -z "$deb" ]; then
            for t in dpkg-buildpackage dh; do
                command -v "$t" >/dev/null 2>&1 || skip_all "$t not installed (see tests/install-deps.sh)"
            done
            deb=$(DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" "$top/packaging/build-deb.sh" "$work" 2>"$work/build.err" |
                grep '/outpost_[^/]*\.deb$') ||
                { echo "1..1"; echo "not ok 1 - packaging/build-deb.sh builds the package"; sed 's/^/# /' "$work/build.err" | tail -n 30; exit 1; }
        fi
        we_installed=1
        if ! apt-get install -y -q --no-install-recommends "$deb" >"$work/apt.log" 2>&1; then
            echo "1..1"; echo "not ok 1 - apt-get install ./${deb##*/}"; tail -n 20 "$work/apt.log" | sed 's/^/# /'
            exit 1
        fi
    fi
    _INSTALL_DOC_INNER=1 bash "$0" "$@"
    exit $?
fi

# --- inside: the world, the guide, the proofs
world_start "$@"
# the installed milter starts the installed parser (/usr/libexec/outpost), not a build's
unset OUTPOST_INTAKE_PARSER
conf=/etc/outpost/outpost.conf
CTL_BIN=/usr/sbin/outpostctl
ctl() { "$CTL_BIN" "$@"; }

is "$(dpkg-query -W -f='${Status}' outpost 2>&1)" "install ok installed" "the package is installed"

# Private copies of the directories the guide writes to or the daemons use; they
# are unmounted before the world is removed (a mount point cannot be).
root=$WORLD_DIR/root
mounts=()
private_umount() { local m; for m in "${mounts[@]}"; do umount -l "$m" 2>/dev/null; done; }
# shellcheck disable=SC2154
trap '_rc=$?; private_umount; (exit $_rc); _world_on_exit' EXIT
private_mount() {
    mount --bind "$1" "$2" || BAIL_OUT "cannot bind-mount $1 on $2"
    mounts+=("$2")
}
for d in /etc/outpost /run/outpost /var/lib/outpost /var/log /var/spool/postfix/outpost; do
    mkdir -p "$root$d" "$d" 2>/dev/null
    [ "$d" = /etc/outpost ] && cp -a /etc/outpost/. "$root$d/"
    private_mount "$root$d" "$d"
done
chown outpost:outpost /var/spool/postfix/outpost && chmod 0750 /var/spool/postfix/outpost
postfix_init
mkdir -p "$WORLD_DIR/postfix/spool/outpost"
private_mount "$root/var/spool/postfix/outpost" "$WORLD_DIR/postfix/spool/outpost"
export MAIL_CONFIG=$POSTFIX_CONFIG_DIR

# The test's own Postfix settings (not the guide's): a small mynetworks, SASL over
# Cyrus sasldb, Postfix's default log file prefixes.
# Debian's Postfix reads smtpd.conf from $config_directory/sasl.
sasl=$WORLD_DIR/sasl
mkdir -p "$sasl" "$POSTFIX_CONFIG_DIR/sasl"
printf 'pwcheck_method: auxprop\nauxprop_plugin: sasldb\nmech_list: PLAIN LOGIN\nsasldb_path: %s\n' \
    "$sasl/sasldb2" >"$POSTFIX_CONFIG_DIR/sasl/smtpd.conf"
echo 'campaign-pw' | saslpasswd2 -p -c -f "$sasl/sasldb2" -u relay.test tenant ||
    BAIL_OUT "saslpasswd2 failed"
chown postfix "$sasl/sasldb2"
postfix_conf 'mynetworks = 127.0.0.0/30' 'maillog_file_prefixes = /var, /dev/stdout' \
    'smtpd_sasl_auth_enable = yes' 'smtpd_sasl_type = cyrus' 'smtpd_sasl_path = smtpd'

# --- the guide's blocks, in order
list=$("$PYTHON" "$blocks" list "$guide")
for tag in outpost.conf setup main.cf; do
    like "$list" "^[0-9]+ $tag |
[0-9]+ $tag " "INSTALL.md has blocks marked $tag"
done
setup_out=$WORLD_DIR/setup.out
while read -r n tag line; do
    text=$("$PYTHON" "$blocks" get "$guide" "$n")
    case $tag in
    outpost.conf)
        printf '%s\n' "$text" | "$PYTHON" "$blocks" merge-ini "$conf"
        is "$?" 0 "INSTALL.md:$line: outpost.conf keys set" ;;
    main.cf)
        printf '%s\n' "$text" | "$PYTHON" "$blocks" merge-maincf "$POSTFIX_CONFIG_DIR/main.cf"
        is "$?" 0 "INSTALL.md:$line: main.cf lines added (replacing the parameters they set)"
        _pf_backdate ;;
    master.cf)
        printf '%s\n' "$text" >>"$POSTFIX_CONFIG_DIR/master.cf" && _pf_backdate
        pass "INSTALL.md:$line: master.cf lines added" ;;
    setup)
        out=$(cd "$WORLD_TMP" && bash -e -c "$text" 2>&1)
        rc=$?
        printf '%s\n' "$out" >>"$setup_out"
        is "$rc" 0 "INSTALL.md:$line: the commands run" || diag "$out" ;;
    *)
        fail "INSTALL.md:$line: a block marked '$tag', which this test does not know" ;;
    esac
done <<<"$list"
like "$(cat "$setup_out")" 'postfix: configuration OK' "check-config --postfix passes on the guide's Postfix"

# The DKIM record keygen printed, published in the test DNS.
rec=$(grep '_domainkey\.' "$setup_out" | head -n1)
like "$rec" '^s2026\._domainkey\.shop\.example\. IN TXT \( "v=DKIM1; ' "dkim keygen printed the TXT record"
txt=$(sed -E 's/^[^"]*//; s/"[^"]*$//; s/" +"//g; s/^"//' <<<"$rec")
dns_txt s2026._domainkey.shop.example "$txt"
for d in mynet.test sasl.test free.test; do dns_mx "$d" mx.provider.test 10; done
dns_a mx.provider.test 127.0.0.11
dns_a relay.example.net 127.0.0.1
dns_mx bounces.shop.example relay.example.net 10
dns_start
redis_start
sink_start provider 127.0.0.11
sink_rule provider 'nobody@free.test' '550 5.1.1 user unknown'

# The test's limits: one message an hour to each of two domains.
cat >>"$conf" <<'EOF'

[domain mynet.test]
rate = 1/h

[domain sasl.test]
rate = 1/h
EOF
out=$(ctl check-config "$conf" 2>&1)
is "$?" 0 "the guide's outpost.conf with the test's limits passes check-config" || diag "$out"

# --- each daemon as its unit starts it
# unit_get UNIT KEY - the (last) value of KEY= in the installed unit
unit_get() { sed -n "s/^$2=//p" "$units/$1.service" | tail -n1; }
for u in outpost-milter outpost-policyd outpost-logd; do
    exec_start=$(unit_get $u ExecStart)
    like "$exec_start" "^/usr/sbin/$u( |$)" "$u.service: ExecStart=$exec_start"
    user=$(unit_get $u User) group=$(unit_get $u Group) sgroups=$(unit_get $u SupplementaryGroups)
    umask=$(unit_get $u UMask)
    for d in $(unit_get $u RuntimeDirectory); do
        install -d -o "$user" -g "$group" -m "$(unit_get $u RuntimeDirectoryMode)" "/run/$d"
    done
    for d in $(unit_get $u StateDirectory); do
        install -d -o "$user" -g "$group" -m "$(unit_get $u StateDirectoryMode)" "/var/lib/$d"
    done
    gopt=(); for g in $sgroups; do gopt+=(-G "$g"); done
    # shellcheck disable=SC2086 # ExecStart= is split into words, as systemd does
    world_spawn "${u#outpost-}" bash -c 'umask "$1"; shift; exec "$@"' _ "${umask:-0022}" \
        runuser -u "$user" -g "$group" "${gopt[@]}" -- $exec_start
done
ok 'wait_until 10 test -S /var/spool/postfix/outpost/milter.sock' "outpost-milter listens where the guide says"
ok 'wait_until 10 test -S /var/spool/postfix/outpost/policy.sock' "outpost-policyd listens where the guide says"
is "$(awk '/^Uid:/ { print $2 }' "/proc/$(pgrep -f -n '^/usr/sbin/outpost-milter')/status" 2>&1)" \
    "$(id -u outpost)" "outpost-milter runs as outpost"
postfix_start

# --- a client in mynetworks: signed, tagged, throttled
send_mail news@shop.example alice@mynet.test --header "Subject: first"
ok '[ -n "$LAST_QID" ]' "a client in mynetworks: the first message is accepted"
ok 'sink_wait provider 1' "and delivered"
eml=$(sink_find provider alice@mynet.test)
like "$(eml_header "$eml" DKIM-Signature)" 'd=shop\.example; s=s2026' "signed with the guide's key"
out=$(dkimverify <"$eml" 2>&1)
is "$?" 0 "dkimverify checks the signature against the published record" || diag "$out"
rp=$(eml_envelope "$eml" mail_from)
like "$rp" '^b-[a-z0-9]+@bounces\.shop\.example$' "the return path is in the guide's bounce domain"
send_mail news@shop.example bob@mynet.test --header "Subject: second"
like "$(cat "$SWAKS_OUT")" '<\*\* +4[0-9][0-9] 4\.7\.1 ' "the second within the hour is deferred (4.7.1) by outpost-policyd"
ok '[ -z "$LAST_QID" ]' "and not queued"

# --- a SASL client outside mynetworks
sasl_send() { send_mail "$@" --local-interface 127.0.0.5 --auth PLAIN --auth-user tenant@relay.test --auth-password campaign-pw; }
send_mail news@shop.example carol@sasl.test --local-interface 127.0.0.5
like "$(cat "$SWAKS_OUT")" '<\*\* +554 5\.7\.1 .*Relay access denied' "127.0.0.5 without SASL may not relay (it is not in mynetworks)"
sasl_send news@shop.example carol@sasl.test --header "Subject: sasl first"
ok '[ -n "$LAST_QID" ]' "a SASL client: the first message is accepted"
like "$(cat "$SWAKS_OUT")" '235 2\.7\.0 Authentication successful' "after authenticating"
ok 'sink_wait provider 2' "and delivered"
like "$(eml_header "$(sink_find provider carol@sasl.test)" DKIM-Signature)" 'd=shop\.example' "signed"
sasl_send news@shop.example dave@sasl.test --header "Subject: sasl second"
like "$(cat "$SWAKS_OUT")" '<\*\* +4[0-9][0-9] 4\.7\.1 ' "the second is deferred (4.7.1) by outpost-policyd"

# --- suppression
ctl suppress add erin@free.test >/dev/null
send_mail news@shop.example erin@free.test
like "$(cat "$SWAKS_OUT")" '<\*\* +550 5\.7\.1 ' "a suppressed recipient is refused (550 5.7.1)"

# --- a bounce to the return path, from a provider's server (not in mynetworks)
dsn=$WORLD_TMP/dsn.eml
cat >"$dsn" <<EOF
From: MAILER-DAEMON@mx.provider.test
To: $rp
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn.1@mx.provider.test>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.provider.test

Final-Recipient: rfc822; alice@mynet.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B--
EOF
[ -n "$rp" ] || BAIL_OUT "no return path to send a bounce to"
ok '! ctl suppress check alice@mynet.test >/dev/null' "alice@mynet.test is not suppressed yet"
send_mail '<>' "$rp" --local-interface 127.0.0.30 --helo mx.provider.test --data "$dsn"
like "$(cat "$SWAKS_OUT")" '<- +250 2\.0\.0 Ok' "a DSN to the return path is accepted"
ok 'wait_until 10 ctl suppress check alice@mynet.test' "and suppresses the address it names"
like "$(ctl suppress check --json alice@mynet.test)" '"reason":"hard-bounce"' "as a hard bounce"
like "$(ctl intake stats)" 'shop\.example [a-z]+ hard-bounce' "attributed to shop.example"

# --- outpost-logd reads the log where the guide puts it
ok '[ -s /var/log/mail.log ]' "Postfix writes /var/log/mail.log (the guide's maillog_file)"
# shellcheck disable=SC2034 # used in the condition below
lu=$(unit_get outpost-logd User) lg=$(unit_get outpost-logd SupplementaryGroups)
ok 'runuser -u "$lu" ${lg:+-G "$lg"} -- test -r /var/log/mail.log' \
    "the unit's user may read it ($(stat -c '%U:%G %a' /var/log/mail.log))"
send_mail news@shop.example nobody@free.test --header "Subject: to bounce"
ok 'wait_until 20 stats_total_is bounced_hard 1' "outpost-logd counted the hard bounce it read in the log"
ok 'stats_total_is delivered 2' "and the two deliveries"
done_testing
