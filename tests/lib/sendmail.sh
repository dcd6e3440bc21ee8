# shellcheck shell=bash
# sendmail.sh - a private, real Sendmail 8.17 in the test world, next to its Postfix.
#
# Source it after world.sh; fetch the binaries before world_start (inside the world
# there is no network), then start Sendmail inside the world:
#
#     . "$(dirname "$0")/../lib/world.sh"
#     . "$(dirname "$0")/../lib/sendmail.sh"
#     sendmail_fetch || skip_all "no Sendmail: $SENDMAIL_WHY"
#     world_start "$@"
#     dns_mx gmail.test mx.gmail.test; dns_a mx.gmail.test 127.0.0.11; dns_start
#     sink_start gmail 127.0.0.11
#     sendmail_start "unix:$WORLD_DIR/run/milter.sock"    # INPUT_MAIL_FILTER, F=T
#     send_mail_sendmail news@shop.test alice@gmail.test --header "Subject: hi"
#     sink_wait gmail 1
#
# Sendmail comes from Debian's own packages (sendmail-bin, sendmail-base, sendmail-cf,
# libwrap0), fetched with "apt-get download" and unpacked with "dpkg -x" -- never
# installed -- into a cache shared by all tests ($SENDMAIL_CACHE, default
# /var/cache/outpost-test/sendmail), so a machine downloads them once.  Run this file
# as a program ("bash tests/lib/sendmail.sh fetch") to fill the cache ahead of time.
#
# The instance listens on 127.0.0.1:2526, relays by MX lookup through the world's DNS
# to the world's sinks (no smart host, so it routes as the world's Postfix does), and
# delivers before it answers the final "." (DeliveryMode=interactive), so a sink holds
# the message once send_mail_sendmail returns.  Its syslog goes to $SENDMAIL_MAILLOG.
#
# Traps worked around here (Debian 12, sendmail 8.17.1.9):
#  - sendmail-bin's binary is setgid: glibc then ignores LD_LIBRARY_PATH (needed for the
#    unpacked libwrap.so.0).  We run a copy without the setgid bit.
#  - Sendmail qualifies gethostname() before reading its .cf; a short name that resolves
#    without a dotted alias costs a 60 s "unqualified host name; sleeping for retry".
#    It therefore runs in a UTS and mount namespace of its own, with a dotted host name
#    and private /etc/hosts and /etc/nsswitch.conf.
#  - A socket or queue under /tmp (mode 1777): "unsafe: World writable directory" and
#    the daemon exits -> DontBlameSendmail=TrustStickyBit.
#  - The default .cf also opens an MSA on 0.0.0.0:587 -> FEATURE(no_default_msa).
#  - QueueLA/RefuseLA default to 8/12 per CPU: a busy CI machine would only queue or
#    refuse -> both 999.
#  - MX lookups happen only if "hosts" in the service switch file names dns.
#  - No syslog daemon: Sendmail's /dev/log is, in its mount namespace, a bind mount of a
#    datagram socket read by a small receiver that writes $SENDMAIL_MAILLOG.
#  - The pid file has two lines (pid, then the command line).
#  - Recipients in $=w (localhost, [127.0.0.1], sendmail.test) are local and would go
#    to procmail: use remote-looking domains.
#
# Environment read:
#   SENDMAIL_CACHE    where the unpacked packages live (default above)
#   SENDMAIL_PORT     the SMTP port (default 2526)

[ -n "${_SENDMAIL_SH_LOADED:-}" ] && return 0
_SENDMAIL_SH_LOADED=1

SENDMAIL_CACHE=${SENDMAIL_CACHE:-/var/cache/outpost-test/sendmail}
SENDMAIL_PORT=${SENDMAIL_PORT:-2526}
SENDMAIL_HOST=127.0.0.1
SENDMAIL_HOSTNAME=sendmail.test
SENDMAIL_PKGS="sendmail-bin sendmail-base sendmail-cf libwrap0"
SENDMAIL_WHY=""
SENDMAIL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# The Sendmail fragment that sites include (it is tested here as shipped).
SENDMAIL_FRAGMENT=${SENDMAIL_FRAGMENT:-$SENDMAIL_LIB_DIR/../../conf-examples/sendmail.mc}

_sm_root() { echo "$SENDMAIL_CACHE/root"; }

# sendmail_fetch - make sure the unpacked packages are in $SENDMAIL_CACHE (apt-get
# download once per machine; safe to run from several tests at once).  Returns 1 with
# the reason in $SENDMAIL_WHY when that is impossible (no root, no network, no m4).
sendmail_fetch() {
    local root; root=$(_sm_root)
    command -v m4 >/dev/null 2>&1 || { SENDMAIL_WHY="m4 not installed"; return 1; }
    [ -x "$root/usr/libexec/sendmail/sendmail" ] && [ -e "$SENDMAIL_CACHE/.complete" ] && return 0
    [ "$(id -u)" = 0 ] || { SENDMAIL_WHY="fetching Sendmail needs root"; return 1; }
    mkdir -p "$SENDMAIL_CACHE" || { SENDMAIL_WHY="cannot create $SENDMAIL_CACHE"; return 1; }
    (
        flock 9
        [ -e "$SENDMAIL_CACHE/.complete" ] && exit 0
        tmp=$(mktemp -d "$SENDMAIL_CACHE/.new.XXXXXX") || exit 1
        mkdir "$tmp/debs" "$tmp/root"
        # "Download is performed unsandboxed as root" is only a warning.
        # shellcheck disable=SC2086
        (cd "$tmp/debs" && apt-get download -q $SENDMAIL_PKGS) >"$tmp/download.log" 2>&1 ||
            { cat "$tmp/download.log" >&2; rm -rf "$tmp"; exit 1; }
        for d in "$tmp"/debs/*.deb; do dpkg -x "$d" "$tmp/root" || { rm -rf "$tmp"; exit 1; }; done
        rm -rf "$SENDMAIL_CACHE/root" "$SENDMAIL_CACHE/debs"
        mv "$tmp/root" "$tmp/debs" "$SENDMAIL_CACHE/" && rm -rf "$tmp" &&
            : >"$SENDMAIL_CACHE/.complete"
    ) 9>"$SENDMAIL_CACHE/.lock" || { SENDMAIL_WHY="apt-get download $SENDMAIL_PKGS failed"; return 1; }
    [ -x "$root/usr/libexec/sendmail/sendmail" ] ||
        { SENDMAIL_WHY="no sendmail binary in $root"; return 1; }
}

# sendmail_version - the version of the cached sendmail-bin package.
sendmail_version() { dpkg-deb -f "$SENDMAIL_CACHE"/debs/sendmail-bin_*.deb Version 2>/dev/null; }

_sm_dir() { echo "$WORLD_DIR/sendmail"; }
_sm_mc_extra=()

# sendmail_mc 'M4 LINE'... - add lines to the .mc (e.g. a define() or a FEATURE()),
# placed before the milter fragment and the mailers.  Call before sendmail_start
# (or follow with sendmail_restart).
sendmail_mc() { _sm_mc_extra+=("$@"); }

# sendmail_start [MILTER_SOCKET [MILTER_FLAGS]] - build the .cf and start Sendmail on
# 127.0.0.1:$SENDMAIL_PORT; wait until it listens.  MILTER_SOCKET (unix:/path, /path or
# inet:PORT@HOST) puts conf-examples/sendmail.mc's INPUT_MAIL_FILTER in the path;
# MILTER_FLAGS overrides its flags (default "F=T": tempfail when the filter is down).
sendmail_start() {
    local sock=${1:-} flags=${2:-} d root
    d=$(_sm_dir); root=$(_sm_root)
    [ -x "$root/usr/libexec/sendmail/sendmail" ] ||
        _world_die "no Sendmail in $SENDMAIL_CACHE: call sendmail_fetch before world_start"
    [ -n "$sock" ] && [[ $sock != *:* ]] && sock=unix:$sock
    SENDMAIL_MILTER_SOCKET=$sock
    SENDMAIL_MILTER_FLAGS=$flags
    mkdir -p "$d/mqueue" "$d/etc"
    chmod 0700 "$d/mqueue"
    install -m 0755 "$root/usr/libexec/sendmail/sendmail" "$d/sendmail"   # not setgid
    printf '127.0.0.1\t%s %s localhost\n::1\tlocalhost\n' \
        "$SENDMAIL_HOSTNAME" "${SENDMAIL_HOSTNAME%%.*}" >"$d/etc/hosts"
    printf 'hosts: files dns\n' >"$d/etc/nsswitch.conf"
    printf 'hosts\tfiles dns\naliases\tfiles\n' >"$d/etc/service.switch"
    _sm_write_mc >"$d/sendmail.mc"
    m4 -D_CF_DIR_="$root/usr/share/sendmail/cf/" "$root/usr/share/sendmail/cf/m4/cf.m4" \
        "$d/sendmail.mc" >"$d/sendmail.cf" 2>"$d/m4.log" ||
        _world_die "m4 could not build sendmail.cf: $(cat "$d/m4.log")"
    # m4 warns about promiscuous_relay on stderr; anything else is a mistake.
    if grep -v -e 'promiscuous_relay' -e 'Do NOT use it on a server' "$d/m4.log" | grep -q .; then
        _world_die "m4 complained about sendmail.mc: $(cat "$d/m4.log")"
    fi
    _sm_start_syslog
    rm -f "$d/sendmail.pid"
    SENDMAIL_TRAFFIC=$d/traffic.log
    # -bD: daemon in the foreground, so world_spawn's pid is Sendmail's own (unshare
    # and sh exec into it).  -q2s: retry deferred mail quickly, as the world's Postfix.
    world_spawn sendmail unshare --uts --mount --propagation private \
        env LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu" \
        sh -c "$(_sm_ns_script)" sendmail-ns "$d" "$SENDMAIL_HOSTNAME" \
        "$d/sendmail" -C "$d/sendmail.cf" -bD -q2s -X "$SENDMAIL_TRAFFIC"
    wait_until 15 _listening tcp "$SENDMAIL_HOST" "$SENDMAIL_PORT" ||
        _world_die "sendmail does not listen on $SENDMAIL_HOST:$SENDMAIL_PORT: $(tail -n 5 "$WORLD_DIR/log/sendmail.log")"
    _world_say "sendmail $(sendmail_version) started (pid $(world_pid sendmail))"
}

# _sm_ns_script - what runs (as sh) in Sendmail's own UTS and mount namespace, before
# it execs Sendmail: a dotted host name, private hosts/nsswitch files, and a /dev whose
# "log" is the world's syslog receiver.  Arguments: DIR HOSTNAME CMD...
_sm_ns_script() {
    cat <<'EOF'
set -e
d=$1; hostname "$2"; shift 2
mount --bind "$d/etc/hosts" /etc/hosts
mount --bind "$d/etc/nsswitch.conf" /etc/nsswitch.conf
mkdir -p "$d/hostdev"
mount --rbind /dev "$d/hostdev"
mount -t tmpfs -o mode=0755 outpost-dev /dev
for n in null zero full random urandom; do
    : >"/dev/$n"; mount --bind "$d/hostdev/$n" "/dev/$n"
done
ln -s /proc/self/fd /dev/fd
: >/dev/log; mount --bind "$d/syslog.sock" /dev/log
exec "$@"
EOF
}

# _sm_start_syslog - a syslog receiver (unix datagram socket) writing $SENDMAIL_MAILLOG.
_sm_start_syslog() {
    local d; d=$(_sm_dir)
    SENDMAIL_MAILLOG=$WORLD_DIR/log/sendmail-maillog.log
    export SENDMAIL_MAILLOG
    [ -n "$(world_pid sendmail-maillog)" ] && _pid_alive "$(world_pid sendmail-maillog)" && return 0
    rm -f "$d/syslog.sock"
    world_spawn sendmail-maillog "$PYTHON" -u -c '
import re, socket, sys
# write lines as a syslog daemon writes its files: "Mmm dd hh:mm:ss HOST tag[pid]: text"
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    m = s.recv(65536).decode("utf-8", "replace").rstrip("\n\0")
    m = re.sub(r"^<\d+>", "", m)
    print(re.sub(r"^(\w{3} [ \d]\d \d\d:\d\d:\d\d) ", r"\1 " + sys.argv[2] + " ", m), flush=True)' \
        "$d/syslog.sock" "${SENDMAIL_HOSTNAME:-sm-test.localdomain}"
    wait_until 5 test -S "$d/syslog.sock" || _world_die "sendmail syslog receiver did not start"
}

# _sm_write_mc - the instance's .mc: the test-world settings, then the lines from
# sendmail_mc, then conf-examples/sendmail.mc (if a milter is wanted), then the mailers.
_sm_write_mc() {
    local d root l
    d=$(_sm_dir); root=$(_sm_root)
    cat <<EOF
divert(-1)
# Outpost test world: a private Sendmail (loopback only, in its own network namespace)
divert(0)dnl
VERSIONID(\`outpost test world')dnl
OSTYPE(\`linux')dnl
define(\`confDOMAIN_NAME', \`$SENDMAIL_HOSTNAME')dnl
define(\`QUEUE_DIR', \`$d/mqueue')dnl
define(\`STATUS_FILE', \`$d/statistics')dnl
define(\`ALIAS_FILE', \`')dnl
define(\`HELP_FILE', \`$root/etc/mail/helpfile')dnl
define(\`confPID_FILE', \`$d/sendmail.pid')dnl
define(\`confSERVICE_SWITCH_FILE', \`$d/etc/service.switch')dnl
define(\`confDONT_BLAME_SENDMAIL', \`TrustStickyBit')dnl
define(\`confDONT_PROBE_INTERFACES', \`true')dnl
define(\`confTO_IDENT', \`0s')dnl
define(\`confTO_CONNECT', \`5s')dnl
define(\`confQUEUE_LA', \`999')dnl
define(\`confREFUSE_LA', \`999')dnl
define(\`confMIN_QUEUE_AGE', \`0s')dnl
define(\`confDELIVERY_MODE', \`interactive')dnl
define(\`confLOG_LEVEL', \`14')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`promiscuous_relay')dnl
FEATURE(\`accept_unresolvable_domains')dnl
FEATURE(\`accept_unqualified_senders')dnl
FEATURE(\`nocanonify')dnl
DAEMON_OPTIONS(\`Port=$SENDMAIL_PORT, Addr=$SENDMAIL_HOST, Name=MTA')dnl
EOF
    for l in "${_sm_mc_extra[@]}"; do printf '%s\n' "$l"; done
    if [ -n "$SENDMAIL_MILTER_SOCKET" ]; then
        printf "define(\`OUTPOST_MILTER_SOCKET', \`%s')dnl\n" "$SENDMAIL_MILTER_SOCKET"
        [ -n "$SENDMAIL_MILTER_FLAGS" ] &&
            printf "define(\`OUTPOST_MILTER_FLAGS', \`%s')dnl\n" "$SENDMAIL_MILTER_FLAGS"
        printf "include(\`%s')dnl\n" "$(cd "$(dirname "$SENDMAIL_FRAGMENT")" && pwd)/${SENDMAIL_FRAGMENT##*/}"
    fi
    printf "MAILER(\`local')dnl\nMAILER(\`smtp')dnl\n"
}

# sendmail_stop - stop Sendmail (its syslog receiver keeps running).
sendmail_stop() {
    world_kill sendmail
    rm -f "$(_sm_dir)/sendmail.pid"
}

# sendmail_restart - stop and start again with the same filter (after sendmail_mc).
sendmail_restart() {
    sendmail_stop
    sendmail_start "$SENDMAIL_MILTER_SOCKET" "$SENDMAIL_MILTER_FLAGS"
}

# sendmail_flush - run the queue now, in the foreground (sendmail -qf): deferred mail
# is delivered, or deferred again, when it returns.
sendmail_flush() {
    local d root; d=$(_sm_dir); root=$(_sm_root)
    unshare --uts --mount --propagation private \
        env LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu" \
        sh -c "$(_sm_ns_script)" sendmail-ns "$d" "$SENDMAIL_HOSTNAME" \
        "$d/sendmail" -C "$d/sendmail.cf" -qf </dev/null >>"$WORLD_DIR/log/sendmail.log" 2>&1
}

# sendmail_queue_count - the number of messages in Sendmail's queue.
sendmail_queue_count() {
    local f n=0
    for f in "$(_sm_dir)"/mqueue/qf*; do [ -e "$f" ] && n=$((n + 1)); done
    echo $n
}

# sendmail_maillog - print Sendmail's syslog so far.
sendmail_maillog() { cat "$SENDMAIL_MAILLOG" 2>/dev/null; }

# sendmail_maillog_grep REGEX - the log lines matching the extended REGEX.
sendmail_maillog_grep() { grep -E -- "$1" "$SENDMAIL_MAILLOG" 2>/dev/null; }

# sendmail_maillog_wait REGEX [TIMEOUT] - wait (default 20 s) until a Sendmail log line
# matches REGEX; prints the first matching line.
sendmail_maillog_wait() {
    if wait_until "${2:-20}" grep -qE -- "$1" "$SENDMAIL_MAILLOG" 2>/dev/null; then
        grep -m1 -E -- "$1" "$SENDMAIL_MAILLOG"
    else
        return 1
    fi
}

LAST_SM_QID=""

# send_mail_sendmail FROM TO[,TO...] [SWAKS-OPTION...] - send_mail, but to the private
# Sendmail (127.0.0.1:$SENDMAIL_PORT).  Sets $SWAKS_OUT and $LAST_SM_QID (Sendmail's
# queue id, empty if the message was not accepted); returns swaks' status.
send_mail_sendmail() {
    local from=$1 to=$2; shift 2
    _swaks_n=$((_swaks_n + 1))
    SWAKS_OUT=$WORLD_DIR/swaks/$(printf '%03d' $_swaks_n)-sendmail.log
    local rc=0
    swaks --server "$SENDMAIL_HOST:$SENDMAIL_PORT" --helo client.test --timeout 30 \
        --from "$from" --to "$to" "$@" </dev/null >"$SWAKS_OUT" 2>&1 || rc=$?
    LAST_SM_QID=$(sed -n 's/.*<- *250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' "$SWAKS_OUT" | tail -n1)
    _world_say "send_mail_sendmail $from -> $to: swaks rc=$rc qid=${LAST_SM_QID:-none}"
    return $rc
}

# smtp_rcpt_reply RCPT [TRANSCRIPT] - the server's reply to "RCPT TO:<RCPT>" in the
# last swaks transcript (send_mail or send_mail_sendmail), e.g. "550 5.7.1 ..." for a
# suppressed recipient; returns 1 if RCPT was not sent.  Works for Postfix's and
# Sendmail's transcripts alike.
smtp_rcpt_reply() {
    awk -v want="$1" '
        found && /^ *<[-*~]+ / { sub(/^ *<[-*~]+ +/, ""); print; exit }
        { line = tolower($0) }
        index(line, "-> rcpt to:<" tolower(want) ">") { found = 1 }
        END { if (!found) exit 1 }' "${2:-$SWAKS_OUT}"
}

# Run as a program: "sendmail.sh fetch" fills the cache (tests/install-deps.sh does).
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    case ${1:-} in
        fetch)
            if sendmail_fetch; then
                echo "sendmail $(sendmail_version) unpacked in $SENDMAIL_CACHE"
            else
                echo "sendmail.sh: $SENDMAIL_WHY" >&2
                exit 1
            fi ;;
        *) echo "usage: $0 fetch" >&2; exit 2 ;;
    esac
fi
