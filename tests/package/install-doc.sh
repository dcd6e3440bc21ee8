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
#	namespace, Redis, DNS, Postfix and receiving servers), applies the marked
#	blocks of doc/INSTALL.md (tests/lib/docblocks.py) as they are written, in
#	their order: "outpost.conf" keys set in /etc/outpost/outpost.conf,
#	"setup" blocks run by bash -e as root, "main.cf" lines merged into and
#	"master.cf" lines appended to the test Postfix's files, "run" blocks run
#	as root by a shell of this test that stops at the first command that
#	fails, and the "verify" function kept to check what the webhook receiver
#	got.  /etc/outpost, /run/outpost, /var/lib/outpost, /var/log and
#	/var/spool/postfix/outpost are private copies inside the namespace (bind
#	mounts); $MAIL_CONFIG names the test Postfix, so that postfix, postconf
#	and outpostctl check-config --postfix see it.  Redis, DNS and Postfix run
#	before the first block, as on the machine the guide is written for.
#
#	There is no systemd here; a guide's systemctl line is done by the
#	function systemctl below: "enable --now" and "start" start a daemon as its
#	installed unit says (ExecStartPre=, then ExecStart= as User=, Group=,
#	SupplementaryGroups= and UMask=, ready at its READY=1), "restart" stops
#	and starts it, "reload" checks the file (DAEMON -n) and sends SIGHUP,
#	"status" and "show -p MainPID --value" report the running process.
#
#	It proves: a client in mynetworks and a SASL client (Cyrus sasldb, not
#	in mynetworks) are both throttled by outpost-policyd under a test
#	limit; outgoing mail is DKIM-signed (dkimpy's dkimverify against the
#	record outpostctl dkim keygen printed); a suppressed recipient is
#	refused; a DSN sent to the return path the mail left with is
#	attributed and suppresses the address; outpost-logd reads the mail log
#	where the guide puts it; the guide's curl gets 400 from outpost-httpd
#	through nginx at https://links.shop.example; the API's PUT of a
#	suppression makes the milter refuse the address for shop.example; the
#	API's smtpd listens; webhooks status names the tenant; the receiver at
#	https://hooks.shop.example gets a batch from outpost-webhookd, and the
#	guide's verify() accepts it and the batch the guide's openssl line signed;
#	outpostctl test-send, through the guide's outpost-check transport and
#	back through the relay's MX, reports every check passed.
#	Then the package is purged if this test installed it.
#
#	The test's own settings, beside the guide's: mynetworks is 127.0.0.0/30
#	(so that the SASL client at 127.0.0.5 is outside it), SASL, Postfix's
#	default maillog_file_prefixes and the world's directory (the world
#	narrows them), the limits, DNS records for the names the guide uses,
#	and for test-send: the relay's port 25 on 127.0.0.1 (test-send's default
#	--via) and on 192.0.2.25 (the MX, with TLS), the sending address
#	192.0.2.9, SPF and DMARC records.
#	Substitutions: nginx runs the shipped examples/httpd-nginx.conf with a
#	certificate of a test CA in place of the Let's Encrypt paths and on
#	127.0.0.21 only; curl (CURL_CA_BUNDLE) and outpost-webhookd (SSL_CERT_FILE)
#	trust that CA; the receiver (tests/helpers/webhook-receiver.py) reads the
#	secret from a copy of the file the guide made.
#
#	Not run: the blocks of "Building the package" and "Installing" (this
#	test installs the package itself; test-package.sh builds it), the TLS
#	block (DANE needs a validating resolver, MTA-STS a resolver daemon), the
#	Sendmail blocks (tests/integration/sendmail-*.sh), and the bounce
#	domain's MX record (the test publishes it in its DNS itself).
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
    command -v nginx >/dev/null 2>&1 || skip_all "nginx not installed (nginx-light)"
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
for d in /etc/outpost /etc/postfix /run/outpost /var/lib/outpost /var/log /var/spool/postfix/outpost; do
    mkdir -p "$root$d" "$d" 2>/dev/null
    case $d in /etc/*) cp -a "$d/." "$root$d/" ;; esac
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
postfix_conf 'mynetworks = 127.0.0.0/30' "maillog_file_prefixes = /var, /dev/stdout, $WORLD_DIR" \
    'smtpd_sasl_auth_enable = yes' 'smtpd_sasl_type = cyrus' 'smtpd_sasl_path = smtpd'

# --- the world the guide's commands meet, up before its blocks run (the guide
# assumes a running Redis, DNS and Postfix)
for d in mynet.test sasl.test free.test; do dns_mx "$d" mx.provider.test 10; done
dns_a mx.provider.test 127.0.0.11
# test-send: the relay's MX address and sending address (not loopback: libspf2
# passes any 127/8 sender unasked), and the records of a correct domain
ip addr add 192.0.2.25/32 dev lo
ip addr add 192.0.2.9/32 dev lo
dns_a relay.example.net 192.0.2.25
dns_a check.relay.example.net 192.0.2.9
echo "local=/2.0.192.in-addr.arpa/" >>"$WORLD_DIR/dns/records.conf"
dns_txt shop.example "v=spf1 ip4:192.0.2.9 -all"
dns_txt bounces.shop.example "v=spf1 ip4:192.0.2.9 -all"
dns_txt _dmarc.shop.example "v=DMARC1; p=none; rua=mailto:dmarc@shop.example"
dns_mx bounces.shop.example relay.example.net 10
dns_a links.shop.example 127.0.0.21
dns_a hooks.shop.example 127.0.0.22
dns_start
redis_start
sink_start provider 127.0.0.11
sink_rule provider 'nobody@free.test' '550 5.1.1 user unknown'
# the certificates of links.shop.example (nginx) and hooks.shop.example (the
# tenant's receiver), from a test CA that curl and webhookd are told to trust
tls_cert links links.shop.example
tls_cert hooks hooks.shop.example
tls_cert mx relay.example.net
export CURL_CA_BUNDLE=$WORLD_TMP/ca.pem SSL_CERT_FILE=$WORLD_TMP/ca.pem
# nginx with the shipped example, its certificate paths replaced by the test's
nginx_dir=$WORLD_DIR/nginx
mkdir -p "$nginx_dir" /var/log/nginx
sed -e "s|/etc/letsencrypt/live/links.shop.example/fullchain.pem|$WORLD_TMP/links.pem|" \
    -e "s|/etc/letsencrypt/live/links.shop.example/privkey.pem|$WORLD_TMP/links.key|" \
    -e 's/listen \[::\]:[0-9]*.*;//' -e 's/listen \([0-9]*\)/listen 127.0.0.21:\1/' \
    /usr/share/doc/outpost/examples/httpd-nginx.conf >"$nginx_dir/outpost-links"
cat >"$nginx_dir/nginx.conf" <<NGINX
daemon off;
pid $nginx_dir/nginx.pid;
error_log $nginx_dir/error.log;
events { worker_connections 64; }
http {
    access_log $nginx_dir/access.log;
    client_body_temp_path $nginx_dir/body;
    proxy_temp_path $nginx_dir/proxy;
    fastcgi_temp_path $nginx_dir/fastcgi;
    uwsgi_temp_path $nginx_dir/uwsgi;
    scgi_temp_path $nginx_dir/scgi;
    include $nginx_dir/outpost-links;
}
NGINX
world_spawn nginx nginx -c "$nginx_dir/nginx.conf"
ok 'wait_until 10 _listening tcp 127.0.0.21 443' "nginx with examples/httpd-nginx.conf listens for links.shop.example"
# the tenant's webhook receiver
hooks=$WORLD_TMP/hooks
mkdir -p "$hooks"
hooks_secret=$WORLD_TMP/hooks.secret      # its copy of the secret: started once the guide made it
# The test's limits: one message an hour to each of two domains.
cat >>"$conf" <<'CONF'

[domain mynet.test]
rate = 1/h

[domain sasl.test]
rate = 1/h
CONF
# the relay's port 25, which the world leaves out: on 127.0.0.1, where
# outpostctl test-send submits, and on its public address (with TLS), the MX
postfix_master '127.0.0.1:25 inet n - n - - smtpd' \
    "192.0.2.25:25 inet n - n - - smtpd -o smtpd_tls_security_level=may -o smtpd_tls_cert_file=$WORLD_TMP/mx.pem -o smtpd_tls_key_file=$WORLD_TMP/mx.key"
postfix_start

# --- the daemons: systemctl as the guide uses it, without systemd
# unit_get UNIT KEY - the (last) value of KEY= in the installed unit
unit_get() { sed -n "s/^$2=//p" "$units/$1.service" | tail -n1; }
# unit_pid UNIT - the daemon's pid (systemd's MainPID)
unit_pid() { pgrep -n -f "^/usr/sbin/$1( |\$)"; }
# unit_start UNIT - start UNIT as it says: ExecStartPre= and ExecStart= as User=,
# Group=, SupplementaryGroups= and UMask=, after its RuntimeDirectory= and
# StateDirectory=; ready when it says READY=1 (Type=notify, tests/lib/notify.py)
unit_start() {
    local u=$1 exec_start user group sgroups umask d pre gopt=()
    exec_start=$(unit_get "$u" ExecStart)
    user=$(unit_get "$u" User) group=$(unit_get "$u" Group) sgroups=$(unit_get "$u" SupplementaryGroups)
    umask=$(unit_get "$u" UMask)
    for d in $(unit_get "$u" RuntimeDirectory); do
        install -d -o "$user" -g "$group" -m "$(unit_get "$u" RuntimeDirectoryMode)" "/run/$d"
    done
    for d in $(unit_get "$u" StateDirectory); do
        install -d -o "$user" -g "$group" -m "$(unit_get "$u" StateDirectoryMode)" "/var/lib/$d"
    done
    for g in $sgroups; do gopt+=(-G "$g"); done
    pre=$(unit_get "$u" ExecStartPre)
    # shellcheck disable=SC2086 # ExecStart= is split into words, as systemd does
    if [ -n "$pre" ]; then
        runuser -u "$user" -g "$group" "${gopt[@]}" -- $pre || return 1
    fi
    rm -f "$WORLD_TMP/$u.notify"
    # shellcheck disable=SC2086
    world_spawn "${u#outpost-}" "$PYTHON" "$WORLD_LIB_DIR/notify.py" "$WORLD_TMP/$u.notify" - -- \
        bash -c 'umask "$1"; shift; exec "$@"' _ "${umask:-0022}" \
        runuser -u "$user" -g "$group" "${gopt[@]}" -- $exec_start
    wait_until 10 grep -q 'READY=1' "$WORLD_TMP/$u.notify" ||
        { echo "$u: no READY=1 within 10 s" >&2; return 1; }
}
# unit_stop UNIT
unit_stop() {
    [ -n "$(world_pid "${1#outpost-}")" ] || return 0
    world_kill "${1#outpost-}"
    wait_until 10 bash -c "! pgrep -f '^/usr/sbin/$1( |\$)' >/dev/null"
}
for u in outpost-milter outpost-policyd outpost-logd outpost-httpd outpost-webhookd; do
    exec_start=$(unit_get $u ExecStart)
    like "$exec_start" "^/usr/sbin/$u( |$)" "$u.service: ExecStart=$exec_start"
done
# systemctl VERB UNIT... - what the guide's systemctl lines do, by hand: enable
# --now and start start a unit, restart stops and starts it, reload checks
# the file as ExecReload= does (DAEMON -n) and sends SIGHUP, status fails
# unless every unit runs, show -p MainPID --value prints the pid.  "enable"
# alone does nothing (nothing boots here).
systemctl() {
    local verb=$1 u rc=0; shift
    case $verb in
    enable)	[ "${1:-}" = --now ] || return 0; shift
		for u; do unit_start "${u%.service}" || rc=1; done ;;
    start)	for u; do unit_start "${u%.service}" || rc=1; done ;;
    restart)	for u; do unit_stop "${u%.service}"; unit_start "${u%.service}" || rc=1; done ;;
    reload)	for u; do
		    u=${u%.service}
		    runuser -u "$(unit_get "$u" User)" -- "/usr/sbin/$u" -n && kill -HUP "$(unit_pid "$u")" || rc=1
		done ;;
    status)	for u; do
		    u=${u%.service}
		    if unit_pid "$u" >/dev/null; then echo "$u.service - active (running), Main PID: $(unit_pid "$u")"
		    else echo "$u.service - inactive (dead)"; rc=3; fi
		done ;;
    show)	[ "$1 $2 $3" = "-p MainPID --value" ] || { echo "systemctl: only show -p MainPID --value here" >&2; return 1; }
		unit_pid "${4%.service}" ;;
    *)		echo "systemctl $verb: not known to this test" >&2; return 1 ;;
    esac
    return $rc
}

# --- the guide's blocks, in order
list=$("$PYTHON" "$blocks" list "$guide")
for tag in outpost.conf setup main.cf master.cf run verify; do
    like "$list" "^[0-9]+ $tag |
[0-9]+ $tag " "INSTALL.md has blocks marked $tag"
done
setup_out=$WORLD_DIR/setup.out
runs=$WORLD_DIR/runs
mkdir -p "$runs"
published=0
# block_out REGEX - the output of the (first) run block whose text matches REGEX
block_out() {
    local t
    for t in $(grep -lE -- "$1" "$runs"/*.text | sort -V); do cat "${t%.text}.out"; return; done
}
# run_block TEXT - a block's commands in a shell of this test (so that systemctl
# is the function above), stopping at the first that fails, as bash -e does
run_block() { (cd "$WORLD_TMP" && set -e && eval "$1") 2>&1; }
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
    /*)
        printf '%s\n' "$text" >"$tag"
        is "$?" 0 "INSTALL.md:$line: $tag written" ;;
    setup)
        out=$(cd "$WORLD_TMP" && bash -e -c "$text" 2>&1)
        rc=$?
        printf '%s\n' "$out" >>"$setup_out"
        is "$rc" 0 "INSTALL.md:$line: the commands run" || diag "$out" ;;
    run)
        out=$(run_block "$text")
        rc=$?
        printf '%s\n' "$text" >"$runs/$line.text"
        printf '%s\n' "$out" >"$runs/$line.out"
        is "$rc" 0 "INSTALL.md:$line: the commands run" || diag "$out" ;;
    verify)
        ;;	# a function for the tenant's receiver: used below
    *)
        fail "INSTALL.md:$line: a block marked '$tag', which this test does not know" ;;
    esac
    # the DKIM record keygen printed, published as the guide says, before any mail
    if [ $published = 0 ] && rec=$(grep '_domainkey\.' "$setup_out" 2>/dev/null | head -n1) && [ -n "$rec" ]; then
        published=1
        like "$rec" '^s2026\._domainkey\.shop\.example\. IN TXT \( "v=DKIM1; ' "dkim keygen printed the TXT record"
        txt=$(sed -E 's/^[^"]*//; s/"[^"]*$//; s/" +"//g; s/^"//' <<<"$rec")
        dns_txt s2026._domainkey.shop.example "$txt"
        dns_reload
    fi
    # the receiver holds the tenant's webhook secret as soon as the guide made it
    if [ ! -s "$hooks_secret" ] && [ -s /etc/outpost/webhook-shop.secret ]; then
        cp /etc/outpost/webhook-shop.secret "$hooks_secret"
        world_spawn hooks "$PYTHON" "$top/tests/helpers/webhook-receiver.py" 127.0.0.22 443 "$hooks" \
            "$hooks_secret" "$WORLD_TMP/hooks.pem" "$WORLD_TMP/hooks.key"
        wait_until 10 _listening tcp 127.0.0.22 443
    fi
done <<<"$list"
like "$(cat "$setup_out")" 'postfix: configuration OK' "check-config --postfix passes on the guide's Postfix"

out=$(ctl check-config "$conf" 2>&1)
is "$?" 0 "the guide's outpost.conf with the test's limits passes check-config" || diag "$out"
ok 'wait_until 10 test -S /var/spool/postfix/outpost/milter.sock' "outpost-milter listens where the guide says"
ok 'wait_until 10 test -S /var/spool/postfix/outpost/policy.sock' "outpost-policyd listens where the guide says"
is "$(awk '/^Uid:/ { print $2 }' "/proc/$(unit_pid outpost-milter)/status" 2>&1)" \
    "$(id -u outpost)" "outpost-milter runs as outpost"

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
ok 'stats_total_is delivered 3' "and the three deliveries (two to the provider, test-send's to the MX)"
# --- the later sections: what the guide says their blocks do
out=$(block_out 'links\.shop\.example/u/x')
is "$(tail -n1 <<<"$out")" 400 "curl https://links.shop.example/u/x, through nginx to outpost-httpd: 400" ||
    diag "$out"
send_mail news@shop.example alice@example.org
like "$(cat "$SWAKS_OUT")" '<\*\* +550 5\.7\.1 ' "after the API's PUT the milter refuses alice@example.org for shop.example"
ok '_listening tcp 127.0.0.1 10027' "the API's smtpd (the guide's master.cf line) listens on 127.0.0.1:10027"
like "$(block_out 'outpostctl webhooks status')" 'shop' "outpostctl webhooks status shows the tenant"
like "$(block_out 'outpostctl ping')" 'outpost-webhookd\.service - active' "the checks: every daemon runs"
out=$(block_out 'outpostctl test-send')
like "$out" 'pass +dkim ' "test-send reports the DKIM check" || diag "$out"
like "$out" '(^|
)0 checks failed' "and no check failed: the message went out through the guide's outpost-check transport"
# the receiver: the guide's curl posted it an empty batch signed by openssl,
# outpost-webhookd a batch of the events of the mail above
ok 'wait_until 20 grep -qE "\"count\": \"[1-9]" "$hooks/log"' "the receiver at hooks.shop.example got a batch from outpost-webhookd"
"$PYTHON" "$blocks" cat "$guide" verify >"$WORLD_TMP/verify.py"
res=$("$PYTHON" - "$WORLD_TMP/verify.py" /etc/outpost/webhook-shop.secret "$hooks/log" <<'PY' 2>&1
import json
import sys
exec(open(sys.argv[1]).read())
with open(sys.argv[2], "rb") as f:
    secret = f.readline().rstrip(b"\n")
for line in open(sys.argv[3]):
    r = json.loads(line)
    print(r["count"], verify(secret, r["sighdr"] or "", r["body"].encode()))
PY
)
like "$res" '(^|
)0 True' "the guide's verify() accepts the batch the guide's openssl line signed" || diag "$res"
like "$res" '(^|
)[1-9][0-9]* True' "and outpost-webhookd's batch: the openssl line and the daemon sign alike" || diag "$res"
unlike "$res" 'False|Error' "and no request it refuses"
done_testing
