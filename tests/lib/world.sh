# shellcheck shell=bash
# world.sh - the private "internet" that Outpost's integration tests run in.
#
# Source it from a test script (bash), then:
#
#     . "$(dirname "$0")/../lib/world.sh"
#     world_start "$@"            # re-executes the script in its own net+mount namespace
#     dns_mx gmail.test mx.gmail.test 10; dns_a mx.gmail.test 127.0.0.11
#     dns_start; redis_start; sink_start gmail 127.0.0.11; postfix_start
#     send_mail news@shop.test alice@gmail.test
#     sink_wait gmail 1; is "$(sink_rcpts gmail)" alice@gmail.test "delivered by MX"
#     done_testing
#
# Everything runs inside a network namespace of its own (all of 127/8 on lo, port 25 and
# 53 free, nothing reachable outside) and a temporary directory of its own, so that two
# tests can run at once.  Teardown happens on exit, pass or fail.  tests/lib/README.md
# lists the functions; the output is TAP for automake's tap-driver.sh.
#
# Needs root, util-linux (unshare), iproute2, postfix, redis-server, dnsmasq-base, swaks
# and /usr/bin/python3.  Environment read:
#   OUTPOST_BUILDDIR  where the built programs are (default: the source tree, or its
#                     build/ folder when only that holds outpost-milter)
#   OUTPOST_SRCDIR    the source tree (default: two levels above this file)
#   OUTPOST_INTAKE_PARSER  the milter's report parser (default: the one of OUTPOST_BUILDDIR;
#                     world_start copies it into the world, where the daemon user can run it)
#   KEEP=1            keep the temporary directory (KEEP=failed: only if a test failed)
#   WORLD_TIMEOUT     seconds before a hung test is killed (default 300)
#   WORLD_VERBOSE=1   echo each world step as a TAP comment

[ -n "${_WORLD_SH_LOADED:-}" ] && return 0
_WORLD_SH_LOADED=1

WORLD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUTPOST_SRCDIR=${OUTPOST_SRCDIR:-$(cd "$WORLD_LIB_DIR/../.." && pwd)}
if [ -z "${OUTPOST_BUILDDIR:-}" ]; then
    OUTPOST_BUILDDIR=$OUTPOST_SRCDIR
    # a VPATH build in build/ (and none in the source tree itself)
    [ ! -e "$OUTPOST_SRCDIR/outpost-milter" ] && [ -e "$OUTPOST_SRCDIR/build/outpost-milter" ] &&
        OUTPOST_BUILDDIR=$OUTPOST_SRCDIR/build
fi
MILTER_BIN=${MILTER_BIN:-$OUTPOST_BUILDDIR/outpost-milter}
POLICYD_BIN=${POLICYD_BIN:-$OUTPOST_BUILDDIR/outpost-policyd}
CTL_BIN=${CTL_BIN:-$OUTPOST_BUILDDIR/outpostctl}
# the milter's report parser, from the build tree rather than the libexec directory
OUTPOST_INTAKE_PARSER=${OUTPOST_INTAKE_PARSER:-$OUTPOST_BUILDDIR/outpost-intake-parse}
PYTHON=${WORLD_PYTHON:-/usr/bin/python3}    # Debian's python3-* modules live here
SINK_PY=$WORLD_LIB_DIR/sink.py
export OUTPOST_SRCDIR OUTPOST_BUILDDIR MILTER_BIN POLICYD_BIN CTL_BIN OUTPOST_INTAKE_PARSER

# Fixed addresses inside the namespace.
SMTP_HOST=127.0.0.1            # the private Postfix's smtpd
SMTP_PORT=2525
DNS_ADDR=127.0.0.1             # dnsmasq, port 53
REDIS_HOST=127.0.0.1
REDIS_PORT=${WORLD_REDIS_PORT:-6379}
WORLD_TIMEOUT=${WORLD_TIMEOUT:-300}

WORLD_DIR=""                   # the temporary directory; set by world_start
_world_in_ns=0
_world_started=0

# ---------------------------------------------------------------------------
# TAP
# ---------------------------------------------------------------------------
_tap_n=0
_tap_failed=0
_tap_plan=""
_tap_done=0
_tap_skip_all=0

# _tap_comment TEXT... - print TEXT as TAP comment lines ("# ...").
_tap_comment() {
    local line
    while IFS= read -r line || [ -n "$line" ]; do
        printf '# %s\n' "$line"
    done <<<"$*"
}

# plan N - announce N tests (alternative: done_testing at the end).
plan() { _tap_plan=$1; echo "1..$1"; }

# done_testing - print the plan "1..N" after the last test.
done_testing() {
    _tap_done=1
    [ -n "$_tap_plan" ] || { _tap_plan=$_tap_n; echo "1..$_tap_n"; }
}

# skip_all REASON - no test can run here; prints "1..0 # SKIP REASON" and exits 0.
skip_all() {
    _tap_skip_all=1
    echo "1..0 # SKIP $*"
    exit 0
}

# need_programs PATH... - skip the whole test unless each PATH is an executable file,
# e.g.  need_programs "$MILTER_BIN" "$POLICYD_BIN"  (call before the first test).
need_programs() {
    local p
    for p in "$@"; do
        [ -x "$p" ] || skip_all "$p not built"
    done
}

# BAIL_OUT REASON - stop the whole run (the world is torn down).
BAIL_OUT() {
    echo "Bail out! $*"
    _tap_failed=$((_tap_failed + 1))
    exit 1
}

diag() { _tap_comment "$*"; }
note() { _tap_comment "$*"; }

# _tap_result STATUS DESC - record one result; STATUS 0 means pass.
_tap_result() {
    local desc=${2:-}
    desc=${desc//\#/\\#}                    # a '#' would start a TAP directive
    desc=${desc//$'\n'/ }
    _tap_n=$((_tap_n + 1))
    if [ "$1" = 0 ]; then
        echo "ok $_tap_n${desc:+ - $desc}"
    else
        _tap_failed=$((_tap_failed + 1))
        echo "not ok $_tap_n${desc:+ - $desc}"
        # shellcheck disable=SC2016
        _tap_comment "  Failed test${2:+ '$2'} (${BASH_SOURCE[2]##*/} line ${BASH_LINENO[1]})"
    fi
    return "$1"
}

# skip DESC REASON - a test not run here: "ok N - DESC # SKIP REASON" (counted as a skip).
skip() {
    local desc=${1//\#/\\#}
    _tap_n=$((_tap_n + 1))
    echo "ok $_tap_n - ${desc//$'\n'/ } # SKIP $2"
}

# pass DESC / fail DESC [DIAG] - unconditional results.
pass() { _tap_result 0 "${1:-}"; }
fail() {
    _tap_result 1 "${1:-}" || true
    [ -z "${2:-}" ] || _tap_comment "$2"
    return 1
}

# ok 'SHELL CONDITION' DESC - passes when the condition (eval'd in this shell, its
# stdout discarded) exits 0, e.g.  ok '[ -s "$f" ]' "file written".
ok() {
    local _ok_st=0
    eval "$1" >/dev/null || _ok_st=1
    if [ $_ok_st = 0 ]; then _tap_result 0 "${2:-}"; else
        _tap_result 1 "${2:-}" || true
        _tap_comment "    condition: $1"
        return 1
    fi
}

# is GOT WANT DESC - string equality.
is() {
    if [ "$1" == "$2" ]; then _tap_result 0 "${3:-}"; else
        _tap_result 1 "${3:-}" || true
        _tap_comment "         got: '$1'"
        _tap_comment "    expected: '$2'"
        return 1
    fi
}

# isnt GOT UNWANTED DESC - string inequality.
isnt() {
    if [ "$1" != "$2" ]; then _tap_result 0 "${3:-}"; else
        _tap_result 1 "${3:-}" || true
        _tap_comment "         got: '$1'"
        _tap_comment "    expected: anything else"
        return 1
    fi
}

# like GOT REGEX DESC - GOT matches the bash extended regex (=~; '.' also matches a
# newline, ^ and $ anchor at the ends of the whole string).
like() {
    if [[ $1 =~ $2 ]]; then _tap_result 0 "${3:-}"; else
        _tap_result 1 "${3:-}" || true
        _tap_comment "                  '$1'"
        _tap_comment "    doesn't match '$2'"
        return 1
    fi
}

# unlike GOT REGEX DESC - GOT does not match REGEX.
unlike() {
    if ! [[ $1 =~ $2 ]]; then _tap_result 0 "${3:-}"; else
        _tap_result 1 "${3:-}" || true
        _tap_comment "                  '$1'"
        _tap_comment "          matches '$2'"
        return 1
    fi
}

# diag_file FILE [LINES] - the last LINES (default 20) lines of FILE as TAP comments.
diag_file() {
    local f=$1 n=${2:-20}
    if [ -s "$f" ]; then
        _tap_comment "--- last $n lines of ${f#"$WORLD_DIR"/}:"
        _tap_comment "$(tail -n "$n" "$f" | tr -d '\r')"
    fi
}

# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------

_world_t0=${EPOCHREALTIME/[.,]/}
_world_say() {
    [ "${WORLD_VERBOSE:-0}" = 0 ] && return 0
    local t=$(( (10#${EPOCHREALTIME/[.,]/} - 10#$_world_t0) / 1000 ))
    _tap_comment "world +$((t / 1000)).$(printf %03d $((t % 1000)))s: $*"
}
_world_die() { BAIL_OUT "world: $*"; }

# wait_until TIMEOUT CMD [ARG...] - run CMD every 0.1 s until it succeeds (return 0)
# or TIMEOUT seconds (may be fractional) have passed (return 1).
wait_until() {
    local _wu_t=$1 _wu_frac=0; shift
    [[ $_wu_t == *.* ]] && { _wu_frac=${_wu_t#*.}000; _wu_frac=$((10#${_wu_frac:0:3})); }
    local _wu_end=$(( $(_now_ms) + 10#${_wu_t%%.*} * 1000 + _wu_frac ))
    while :; do
        "$@" && return 0
        (( $(_now_ms) >= _wu_end )) && return 1
        sleep 0.1
    done
}

# _now_ms - milliseconds since the epoch (no fork: bash 5's EPOCHREALTIME).
_now_ms() { local t=${EPOCHREALTIME/[.,]/}; echo $((10#$t / 1000)); }

# _pid_alive PID - true if PID runs and is not a zombie.
_pid_alive() {
    local p=$1 stat
    [ -n "$p" ] && [ -r "/proc/$p/stat" ] || return 1
    read -r stat <"/proc/$p/stat" 2>/dev/null || return 1
    stat=${stat##*) }
    [ "${stat%% *}" != Z ]
}

_pid_gone() { ! _pid_alive "$1"; }

# _kill_pid PID [SECONDS] - SIGTERM, wait, then SIGKILL.
_kill_pid() {
    local p=$1 t=${2:-5} i
    _pid_alive "$p" || return 0
    kill -CONT "$p" 2>/dev/null     # a paused (SIGSTOP) process cannot act on TERM
    kill -TERM "$p" 2>/dev/null
    for ((i = 0; i < t * 20; i++)); do
        _pid_alive "$p" || return 0
        sleep 0.05
    done
    kill -KILL "$p" 2>/dev/null
    for ((i = 0; i < 40; i++)); do
        _pid_alive "$p" || return 0
        sleep 0.05
    done
}

_pidfile() { local p=""; [ -r "$1" ] && read -r p <"$1"; echo "$p"; }

# _listening PROTO ADDR PORT - true if something listens there (ss, iproute2).
_listening() {
    local opt=-Hltn
    [ "$1" = udp ] && opt=-Hlun
    [ -n "$(ss $opt "src $2:$3" 2>/dev/null)" ]
}

# ---------------------------------------------------------------------------
# namespace and lifecycle
# ---------------------------------------------------------------------------

# world_enter "$@" - re-execute the calling script inside a new network and mount
# namespace (unless already inside it), then bring lo up there.  Skips the test
# (TAP "1..0 # SKIP") when not root or a needed tool is missing.
world_enter() {
    if [ "${_WORLD_NS_PID:-}" = "$$" ]; then
        # We are the re-executed script.  Forget the marker so that a test started
        # from here (a nested world) makes a namespace of its own.
        unset _WORLD_NS_PID
        _world_in_ns=1
        ip link set lo up || _world_die "cannot bring up lo in the namespace"
        return 0
    fi
    [ "$(id -u)" = 0 ] || skip_all "integration tests need root (network namespace, Postfix)"
    local t
    for t in unshare ip ss postfix postconf postqueue redis-server redis-cli dnsmasq swaks "$PYTHON"; do
        command -v "$t" >/dev/null 2>&1 || skip_all "$t not installed (see tests/install-deps.sh)"
    done
    unshare -mn true 2>/dev/null || skip_all "cannot create network namespaces here (unshare -mn)"
    case $0 in
        bash|-bash|*/bash) _world_die "world_enter must be called from a script file, not a shell" ;;
    esac
    export _WORLD_NS_PID=$$
    # unshare without --fork execs in place, so the pid (and the marker) stays the same.
    exec unshare --mount --net --propagation private -- "$BASH" "$0" "$@"
}

# world_start "$@" - enter the namespace (world_enter), make the temporary directory,
# install the teardown trap, point /etc/resolv.conf (privately) at the test DNS.
world_start() {
    world_enter "$@"
    [ "$_world_started" = 0 ] || return 0
    WORLD_DIR=$(mktemp -d /tmp/outpost-world.XXXXXX) || _world_die "mktemp failed"
    chmod 755 "$WORLD_DIR"             # postfix and nobody must traverse it
    mkdir -p "$WORLD_DIR"/{dns,redis,postfix,sinks,swaks,run,log,tmp}
    chmod 1777 "$WORLD_DIR/tmp"
    WORLD_TMP=$WORLD_DIR/tmp           # scratch space for the test itself
    _world_started=1
    export WORLD_DIR WORLD_TMP
    # The milter starts its report parser after dropping privileges: a copy here
    # is one that the daemon user can run when the build tree is not (a clone
    # under a 0700 /root, say).
    if [ -f "$OUTPOST_INTAKE_PARSER" ] && [ -x "$OUTPOST_INTAKE_PARSER" ]; then
        install -D -m 0755 "$OUTPOST_INTAKE_PARSER" "$WORLD_DIR/libexec/outpost-intake-parse" &&
            OUTPOST_INTAKE_PARSER=$WORLD_DIR/libexec/outpost-intake-parse
        export OUTPOST_INTAKE_PARSER
    fi

    printf 'nameserver %s\noptions timeout:2 attempts:2\n' "$DNS_ADDR" >"$WORLD_DIR/resolv.conf"
    # The mount namespace is private: the host's /etc/resolv.conf is unaffected.
    mount --bind "$WORLD_DIR/resolv.conf" /etc/resolv.conf ||
        _world_die "cannot bind-mount /etc/resolv.conf"

    # Watchdog: a hung test must not hang "make check".
    (
        exec >/dev/null 2>&1 </dev/null
        sleep "$WORLD_TIMEOUT" &
        echo $! >"$WORLD_DIR/run/watchdog.pid"
        wait $! || exit 0
        : >"$WORLD_DIR/.timeout"
        kill -TERM $$
        # bash runs its TERM trap only once the foreground command ends: end that too.
        _world_kill_children_of $$ "$BASHPID"
    ) &

    REDIS_SOCK=$WORLD_DIR/redis/redis.sock
    if redis_is_cluster; then
        CLUSTER_NODES=6 CLUSTER_REPLICAS=1
        REDIS_CONF_SERVER="cluster = $(cluster_seeds)"
    else
        REDIS_CONF_SERVER="server = unix:$REDIS_SOCK"
    fi
    POSTFIX_DIR=$WORLD_DIR/postfix
    MAILLOG=$POSTFIX_DIR/maillog
    POSTFIX_CONFIG_DIR=$POSTFIX_DIR/etc
    export REDIS_HOST REDIS_PORT REDIS_SOCK REDIS_CONF_SERVER OUTPOST_TEST_REDIS MAILLOG POSTFIX_DIR POSTFIX_CONFIG_DIR SMTP_HOST SMTP_PORT
    _world_say "started in $WORLD_DIR (pid $$)"
}

# world_diag_logs [LINES] - print the tail of every log of the world as TAP comments.
world_diag_logs() {
    local n=${1:-25} f
    [ -n "$WORLD_DIR" ] && [ -d "$WORLD_DIR" ] || return 0
    diag_file "$WORLD_DIR/postfix/maillog" "$n"
    for f in "$WORLD_DIR"/postfix-*/maillog "$WORLD_DIR"/sinks/*/log "$WORLD_DIR"/log/*.log \
        "$WORLD_DIR/redis/redis.log" "$WORLD_DIR/dns/dnsmasq.log" \
        "$WORLD_DIR"/postfix*/postfix.out; do
        [ -f "$f" ] && diag_file "$f" "$n"
    done
    [ -n "${SWAKS_OUT:-}" ] && diag_file "$SWAKS_OUT" "$n"
}

# world_stop - tear everything down (idempotent; the EXIT trap calls it).
world_stop() {
    [ "$_world_started" = 1 ] || return 0
    _world_started=0
    local f p
    for f in "$WORLD_DIR"/postfix-*; do          # postfix_instance'd ones
        [ -s "$f/smtpd.addr" ] && postfix_instance "${f##*/postfix-}" && postfix_stop
    done
    postfix_instance main
    postfix_stop
    for f in "$WORLD_DIR"/run/*.pid; do          # world_spawn'ed daemons
        [ -e "$f" ] || continue
        [ "$f" = "$WORLD_DIR/run/watchdog.pid" ] && continue
        _kill_pid "$(_pidfile "$f")" 5
    done
    for f in "$WORLD_DIR"/sinks/*; do
        [ -d "$f" ] && sink_stop "${f##*/}"
    done
    redis_stop
    dns_stop
    _kill_pid "$(_pidfile "$WORLD_DIR/run/watchdog.pid")" 1
    _world_sweep
    if [ "${KEEP:-0}" = 1 ] || { [ "${KEEP:-0}" = failed ] && [ "$_tap_failed" -gt 0 ]; }; then
        diag "world kept in $WORLD_DIR"
    else
        rm -rf "$WORLD_DIR"
    fi
}

# _world_kill_children_of PID [EXCEPT] - SIGTERM the direct children of PID.
_world_kill_children_of() {
    local f stat ppid
    for f in /proc/[0-9]*/stat; do
        read -r stat <"$f" 2>/dev/null || continue
        stat=${stat##*) }          # "S PPID ..." after the command name
        ppid=${stat#* }; ppid=${ppid%% *}
        f=${f#/proc/}; f=${f%/stat}
        [ "$ppid" = "$1" ] && [ "$f" != "${2:-}" ] && kill -TERM "$f" 2>/dev/null
    done
    return 0
}

# _world_sweep - kill any process left in our private network namespace.  Only ever
# acts when this shell really is in a namespace other than pid 1's.
_world_sweep() {
    [ "$_world_in_ns" = 1 ] || return 0
    [[ /proc/$$/ns/net -ef /proc/1/ns/net ]] && return 0
    local p pids=() i round
    for round in TERM KILL; do
        pids=()
        for p in /proc/[0-9]*; do
            p=${p#/proc/}
            [ "$p" = "$$" ] && continue
            [ "$p" = "$BASHPID" ] && continue
            [[ /proc/$p/ns/net -ef /proc/$$/ns/net ]] || continue
            _pid_alive "$p" || continue
            pids+=("$p")
        done
        [ ${#pids[@]} = 0 ] && return 0
        [ $round = TERM ] && diag "world: killing leftover processes: $(for p in "${pids[@]}"; do
            printf '%s(%s) ' "$p" "$(tr -d '\n' <"/proc/$p/comm" 2>/dev/null)"; done)"
        kill -CONT "${pids[@]}" 2>/dev/null
        kill -"$round" "${pids[@]}" 2>/dev/null
        for ((i = 0; i < 40; i++)); do
            local alive=0
            for p in "${pids[@]}"; do _pid_alive "$p" && { alive=1; break; }; done
            [ $alive = 0 ] && return 0
            sleep 0.05
        done
    done
}

_world_on_exit() {
    local rc=$?
    trap - EXIT INT TERM HUP
    if [ "$_tap_skip_all" = 1 ]; then world_stop; exit 0; fi
    if [ -n "$WORLD_DIR" ] && [ -e "$WORLD_DIR/.timeout" ]; then
        diag "world: test killed after WORLD_TIMEOUT=${WORLD_TIMEOUT}s"
        rc=124
    fi
    if [ "$_tap_failed" -gt 0 ] || [ "$rc" != 0 ]; then
        world_diag_logs 25
    fi
    world_stop
    if [ -n "$_tap_plan" ] && [ "$_tap_plan" != "$_tap_n" ]; then
        diag "Looks like you planned $_tap_plan tests but ran $_tap_n."
        [ "$rc" = 0 ] && rc=255
    elif [ -z "$_tap_plan" ] && [ "$_tap_n" -gt 0 ]; then
        diag "Tests ended without a plan (no done_testing)."
        [ "$rc" = 0 ] && rc=255
    fi
    if [ "$_tap_failed" -gt 0 ]; then
        diag "Looks like you failed $_tap_failed test(s) of $_tap_n."
        [ "$rc" = 0 ] && rc=1
    fi
    exit "$rc"
}
trap _world_on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# world_spawn NAME CMD [ARG...] - run a daemon in the background (foreground mode),
# stdout+stderr to $WORLD_DIR/log/NAME.log, pid in $WORLD_DIR/run/NAME.pid; it is
# stopped at teardown (or by world_kill NAME) and its log is shown on failure.
world_spawn() {
    local name=$1; shift
    "$@" </dev/null >>"$WORLD_DIR/log/$name.log" 2>&1 &
    echo $! >"$WORLD_DIR/run/$name.pid"
    _world_say "spawned $name (pid $!): $*"
}

# world_kill NAME [SIGNAL] - stop a world_spawn'ed daemon (SIGTERM then SIGKILL), or
# just send SIGNAL (e.g. HUP) when given.
world_kill() {
    local p; p=$(_pidfile "$WORLD_DIR/run/$1.pid")
    if [ -n "${2:-}" ]; then kill -"$2" "$p"; return; fi
    _kill_pid "$p" 5
    rm -f "$WORLD_DIR/run/$1.pid"
}

# world_pid NAME - the pid of a world_spawn'ed daemon.
world_pid() { _pidfile "$WORLD_DIR/run/$1.pid"; }

# ---------------------------------------------------------------------------
# DNS (dnsmasq)
# ---------------------------------------------------------------------------
# Records are appended to $WORLD_DIR/dns/records.conf; dns_start serves them, and after
# dns_start any new record needs dns_reload (dnsmasq re-reads its options only on start).
# Everything under .test and 127.in-addr.arpa is ours: unknown names there are NXDOMAIN.
# Other names get REFUSED (no upstream: there is no network).

_dns_records() { echo "$WORLD_DIR/dns/records.conf"; }

# dns_mx DOMAIN HOST [PREF] - an MX record (PREF defaults to 10).
dns_mx() { echo "mx-host=$1,$2,${3:-10}" >>"$(_dns_records)"; }

# dns_a NAME IPV4 - an A record (exact name, no wildcard).  The first A record of an
# address also answers its PTR query unless dns_ptr names another host.
dns_a() { echo "host-record=$1,$2" >>"$(_dns_records)"; }

# dns_cname ALIAS TARGET - a CNAME record.
dns_cname() { echo "cname=$1,$2" >>"$(_dns_records)"; }

# dns_ptr IPV4 NAME - a PTR record for IPV4.
dns_ptr() {
    local a b c d
    IFS=. read -r a b c d <<<"$1"
    echo "ptr-record=$d.$c.$b.$a.in-addr.arpa,$2" >>"$(_dns_records)"
}

# _dns_quote STRING - one or more dnsmasq quoted strings, each at most 255 bytes
# (a DNS character-string), separated by commas.
_dns_quote() {
    local s=$1 out="" chunk
    local LC_ALL=C                       # count bytes, not characters
    while :; do
        chunk=${s:0:255}
        s=${s:255}
        chunk=${chunk//\\/\\\\}
        chunk=${chunk//\"/\\\"}
        out+="${out:+,}\"$chunk\""
        [ -n "$s" ] || break
    done
    printf '%s' "$out"
}

# dns_txt NAME STRING [STRING...] - one TXT record.  Each STRING longer than 255 bytes
# is split into 255-byte character-strings (as DKIM keys are published); several
# STRINGs give several character-strings in the same record.  Call again for a
# second TXT record at the same name.
dns_txt() {
    local name=$1 line="" s; shift
    for s in "$@"; do line+="${line:+,}$(_dns_quote "$s")"; done
    echo "txt-record=$name,$line" >>"$(_dns_records)"
}

# dns_start - start dnsmasq on 127.0.0.1:53 (UDP and TCP).
dns_start() {
    local d=$WORLD_DIR/dns
    touch "$d/records.conf"
    cat >"$d/dnsmasq.conf" <<EOF
# Outpost test DNS - generated by tests/lib/world.sh
no-resolv
no-hosts
no-poll
listen-address=$DNS_ADDR
bind-interfaces
port=53
user=root
local=/test/
local=/127.in-addr.arpa/
log-queries
log-facility=$d/dnsmasq.log
pid-file=$d/dnsmasq.pid
conf-file=$d/records.conf
EOF
    dnsmasq --test -C "$d/dnsmasq.conf" >"$d/dnsmasq.test" 2>&1 ||
        _world_die "dnsmasq rejects the test zones: $(cat "$d/dnsmasq.test")"
    rm -f "$d/dnsmasq.pid"
    dnsmasq -C "$d/dnsmasq.conf" </dev/null >>"$d/dnsmasq.out" 2>&1 ||
        _world_die "dnsmasq did not start: $(cat "$d/dnsmasq.out")"
    wait_until 5 _listening udp "$DNS_ADDR" 53 || _world_die "dnsmasq does not listen"
    _world_say "dnsmasq started (pid $(_pidfile "$d/dnsmasq.pid"))"
}

# dns_stop - stop dnsmasq.
dns_stop() {
    local p; p=$(_pidfile "$WORLD_DIR/dns/dnsmasq.pid")
    [ -n "$p" ] && _kill_pid "$p" 5
    rm -f "$WORLD_DIR/dns/dnsmasq.pid"
}

# dns_reload - serve the records as they are now (restarts dnsmasq, ~10 ms).
dns_reload() { dns_stop; dns_start; }

# dns_query TYPE NAME - ask the test DNS (A, MX, TXT, PTR, CNAME, NS, SOA, AAAA) like
# "dig +short": one answer a line; MX as "PREF HOST."; TXT as its quoted strings
# ("a" "b"); PTR takes an IPv4 address or an in-addr.arpa name.  Retries over TCP when
# the UDP answer is truncated.  Bytes outside printable ASCII in TXT strings are shown
# as \DDD (as dig does).  Exit status: 0 answered, 1 NXDOMAIN or no data (the rcode
# name is printed to stderr), 2 no answer at all.
dns_query() { _dns_py show "$1" "$2" "${3:-$DNS_ADDR}"; }

# dns_txt_get NAME - each TXT record at NAME with its strings joined and decoded as
# UTF-8 (what a DKIM or SPF verifier sees), one record a line.
dns_txt_get() { _dns_py join TXT "$1" "${2:-$DNS_ADDR}"; }

_dns_py() {
    "$PYTHON" - "$@" <<'PYEOF'
import random, socket, struct, sys
mode, qtype, name, server = sys.argv[1], sys.argv[2].upper(), sys.argv[3], sys.argv[4]
TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}
if qtype == "PTR" and name.replace(".", "").isdigit():
    name = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
t = TYPES[qtype]
qid = random.randrange(65536)
qname = b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".") if l) + b"\0"
pkt = (struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 1) + qname + struct.pack(">HH", t, 1)
       + b"\0" + struct.pack(">HHIH", 41, 1232, 0, 0))          # EDNS0, 1232-byte UDP

def ask(tcp):
    if tcp:
        s = socket.create_connection((server, 53), timeout=3)
        s.sendall(struct.pack(">H", len(pkt)) + pkt)
        buf = b""
        while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
            c = s.recv(65535)
            if not c:
                raise EOFError("short TCP answer")
            buf += c
        return buf[2:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    s.sendto(pkt, (server, 53))
    while True:
        r, _ = s.recvfrom(65535)
        if r[:2] == pkt[:2]:
            return r

def name_at(r, off):
    labels, jumped, end = [], False, None
    while True:
        n = r[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = struct.unpack(">H", r[off:off + 2])[0] & 0x3FFF
            continue
        off += 1
        if n == 0:
            break
        labels.append(r[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels) + ".", (end if end is not None else off)

try:
    r = ask(False)
    if r[2] & 0x02:                      # TC: truncated, retry over TCP
        r = ask(True)
except Exception as e:
    print(f"no answer from {server}: {e}", file=sys.stderr)
    sys.exit(2)
flags, qd, an = struct.unpack(">HHH", r[2:8])
rcode = flags & 0xF
off = 12
for _ in range(qd):
    _, off = name_at(r, off)
    off += 4
out = []
for _ in range(an):
    _, off = name_at(r, off)
    rtype, _, _, rdlen = struct.unpack(">HHIH", r[off:off + 10])
    off += 10
    rd = r[off:off + rdlen]
    if rtype == t == 1:
        out.append(socket.inet_ntoa(rd))
    elif rtype == t == 28:
        out.append(socket.inet_ntop(socket.AF_INET6, rd))
    elif rtype == t == 15:
        out.append(f"{struct.unpack('>H', rd[:2])[0]} {name_at(r, off + 2)[0]}")
    elif rtype == t == 16:
        parts, i = [], 0
        while i < len(rd):
            n = rd[i]
            parts.append(rd[i + 1:i + 1 + n])
            i += 1 + n
        if mode == "join":
            out.append(b"".join(parts).decode("utf-8", "replace"))
        else:
            out.append(" ".join('"' + "".join(
                "\\" + chr(b) if b in (34, 92) else chr(b) if 32 <= b < 127 else f"\\{b:03d}"
                for b in p) + '"' for p in parts))
    elif rtype == t or rtype == 5:
        if rtype in (2, 5, 12):
            out.append(name_at(r, off)[0])
        else:
            out.append(rd.hex())
    off += rdlen
for line in out:
    print(line)
if rcode != 0 or not out:
    print(RCODES.get(rcode, str(rcode)) if rcode else "NODATA", file=sys.stderr)
    sys.exit(1)
PYEOF
}


# ---------------------------------------------------------------------------
# Redis
# ---------------------------------------------------------------------------
# Listens on $REDIS_HOST:$REDIS_PORT and on the unix socket $REDIS_SOCK (mode 777), no
# persistence: a restart starts empty.  DEBUG is enabled (DEBUG SLEEP for "slow Redis").
#
# OUTPOST_TEST_REDIS=cluster makes the same functions run a Redis Cluster of three
# masters and three replicas (tests/lib/cluster.sh, 127.0.0.1:7001-7006) instead:
# redis_stop, redis_pause and redis_resume act on every node, redis_start starts them
# again (their nodes.conf keeps the slots; the data is gone), redis_cli follows
# redirections (-c), sends --scan, KEYS, FLUSHALL and FLUSHDB to every master, ACL and
# CONFIG to every node, and MONITOR to every node at once.  A configuration names the world's Redis with the line $REDIS_CONF_SERVER
# ("server = unix:..." or "cluster = host:port,...").  A test that needs one Redis
# server calls redis_single_only REASON (skips it whole in a cluster world), or asks
# redis_is_cluster before a part that does.
OUTPOST_TEST_REDIS=${OUTPOST_TEST_REDIS:-single}

# redis_is_cluster - is the world's Redis a cluster?
redis_is_cluster() { [ "$OUTPOST_TEST_REDIS" = cluster ]; }

# redis_single_only REASON - skip the whole test in a cluster world
redis_single_only() { ! redis_is_cluster || skip_all "needs a single Redis: $*"; }

# redis_start [OPTION...] - start redis-server (daemonized) and wait until it answers
# PING.  OPTIONs are more redis-server options (e.g. --appendonly yes); they override
# the defaults and are kept for redis_restart.
redis_start() {
    local d=$WORLD_DIR/redis
    [ $# -gt 0 ] && REDIS_OPTS=("$@")
    if redis_is_cluster; then _redis_cluster_start; return; fi
    rm -f "$d/redis.pid"
    redis-server --port "$REDIS_PORT" --bind "$REDIS_HOST" \
        --unixsocket "$REDIS_SOCK" --unixsocketperm 777 \
        --save "" --appendonly no --dir "$d" \
        --daemonize yes --pidfile "$d/redis.pid" --logfile "$d/redis.log" \
        --enable-debug-command local ${REDIS_OPTS[@]+"${REDIS_OPTS[@]}"} \
        </dev/null >>"$d/redis.out" 2>&1 ||
        _world_die "redis-server did not start: $(cat "$d/redis.out")"
    wait_until 5 _redis_up || _world_die "redis-server does not answer PING"
    _world_say "redis started (pid $(_pidfile "$d/redis.pid"))"
}

_redis_up() { [ "$(redis-cli -s "$REDIS_SOCK" PING 2>/dev/null)" = PONG ]; }

# _redis_cluster_start - create the cluster, or start its nodes again
_redis_cluster_start() {
    local p
    if [ ! -e "$WORLD_DIR/cluster/created" ]; then
        cluster_start ${REDIS_OPTS[@]+"${REDIS_OPTS[@]}"}
        : >"$WORLD_DIR/cluster/created"
        return
    fi
    for p in $(cluster_ports); do
        cluster_spawn "$p" ${REDIS_OPTS[@]+"${REDIS_OPTS[@]}"}
    done
    wait_until 30 cluster_state_ok || _world_die "the cluster's state is not ok after a restart"
}

# _redis_cluster_signal SIGNAL - send SIGNAL to every node
_redis_cluster_signal() {
    local p
    for p in $(cluster_ports); do kill -"$1" "$(world_pid "cluster-$p")"; done
}

# redis_stop - stop redis-server (SIGTERM; "Redis stopped mid-run"), wait until gone.
redis_stop() {
    local p
    if redis_is_cluster; then
        for p in $(cluster_ports); do world_kill "cluster-$p"; done
        return
    fi
    p=$(_pidfile "$WORLD_DIR/redis/redis.pid")
    [ -n "$p" ] && _kill_pid "$p" 5
    rm -f "$WORLD_DIR/redis/redis.pid"
}

# redis_restart [OPTION...] - stop and start again (the data is lost: no persistence).
redis_restart() { redis_stop; redis_start "$@"; }

# redis_pause / redis_resume - freeze redis-server with SIGSTOP (connections hang, data
# kept: "Redis unresponsive"), and let it go on with SIGCONT.
redis_pause() {
    if redis_is_cluster; then _redis_cluster_signal STOP; return; fi
    kill -STOP "$(_pidfile "$WORLD_DIR/redis/redis.pid")"
}
redis_resume() {
    if redis_is_cluster; then _redis_cluster_signal CONT; return; fi
    kill -CONT "$(_pidfile "$WORLD_DIR/redis/redis.pid")"
}

# redis_cli ARG... - redis-cli on the world's unix socket (or on the cluster).
redis_cli() {
    redis_is_cluster || { redis-cli -s "$REDIS_SOCK" "$@"; return; }
    local a cmd="" all=0 p pids=()
    for a in "$@"; do                   # the command: the first word not an option
        case $a in --scan) all=1 ;; -*) ;; *) cmd=${a^^}; break ;; esac
    done
    case $cmd in KEYS | ACL | CONFIG | FLUSHALL | FLUSHDB | MONITOR) all=1 ;; esac
    if [ $all = 0 ]; then
        redis-cli -c -h "$CLUSTER_HOST" -p "$((CLUSTER_PORT0 + 1))" "$@"
    elif [ "$cmd" = MONITOR ]; then     # one stream: every node's lines
        for p in $(cluster_ports); do
            redis-cli -h "$CLUSTER_HOST" -p "$p" "$@" &
            pids+=($!)
        done
        wait "${pids[@]}"
    elif [ "$cmd" = ACL ] || [ "$cmd" = CONFIG ]; then   # every node, replicas too
        for p in $(cluster_ports); do redis-cli -h "$CLUSTER_HOST" -p "$p" "$@"; done
    else                                # the keys: every master (a replica holds copies)
        for p in $(cluster_masters); do redis-cli -h "$CLUSTER_HOST" -p "$p" "$@"; done
    fi
}

# ---------------------------------------------------------------------------
# Postfix (a private instance)
# ---------------------------------------------------------------------------
# config_directory  $WORLD_DIR/postfix/etc   ($POSTFIX_CONFIG_DIR)
# queue_directory   $WORLD_DIR/postfix/spool
# maillog           $WORLD_DIR/postfix/maillog ($MAILLOG)
# smtpd listens on 127.0.0.1:2525 only; mail is relayed by MX lookup in the test DNS.
# postfix_instance makes further instances (several relay nodes), each in
# $WORLD_DIR/postfix-NAME with an smtpd address of its own.

# postfix_instance NAME [HOST [PORT]] - make the Postfix instance NAME the one that the
# postfix_* functions, maillog* and send_mail act on (setting POSTFIX_DIR,
# POSTFIX_CONFIG_DIR, MAILLOG, SMTP_HOST, SMTP_PORT).  "main" is the first instance
# (127.0.0.1:2525); another NAME lives in $WORLD_DIR/postfix-NAME, its smtpd on HOST
# (given the first time, e.g. 127.0.0.2) and PORT (default 2525).
postfix_instance() {
    local name=$1
    if [ "$name" = main ]; then
        POSTFIX_DIR=$WORLD_DIR/postfix SMTP_HOST=127.0.0.1 SMTP_PORT=2525
    else
        POSTFIX_DIR=$WORLD_DIR/postfix-$name
        mkdir -p "$POSTFIX_DIR"
        [ -n "${2:-}" ] && echo "$2 ${3:-2525}" >"$POSTFIX_DIR/smtpd.addr"
        [ -s "$POSTFIX_DIR/smtpd.addr" ] || _world_die "postfix_instance $name: no address"
        read -r SMTP_HOST SMTP_PORT <"$POSTFIX_DIR/smtpd.addr"
        # Postfix binds inet_interfaces only to an address an interface has
        ip -4 addr show dev lo | grep -q " $SMTP_HOST/" ||
            ip addr add "$SMTP_HOST/32" dev lo 2>/dev/null
    fi
    MAILLOG=$POSTFIX_DIR/maillog
    POSTFIX_CONFIG_DIR=$POSTFIX_DIR/etc
    export POSTFIX_DIR MAILLOG POSTFIX_CONFIG_DIR SMTP_HOST SMTP_PORT
}

# postfix_init - write main.cf and master.cf (done by the other postfix_* functions
# when needed; call it yourself only to start from a fresh configuration).
postfix_init() {
    local d=$POSTFIX_DIR
    mkdir -p "$d/etc" "$d/spool" "$d/data"
    chown postfix: "$d/data"
    cat >"$d/etc/main.cf" <<EOF
# Outpost test relay - generated by tests/lib/world.sh
compatibility_level = 3.6
queue_directory = $d/spool
data_directory = $d/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.test
mydomain = relay.test
myorigin = \$myhostname
mydestination =
local_recipient_maps =
alias_maps =
alias_database =
relay_domains =
# one address only: MX hosts on other 127.x addresses must not look like "myself".
inet_interfaces = $SMTP_HOST
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
smtpd_banner = \$myhostname ESMTP Outpost test relay
biff = no
append_dot_mydomain = no
readme_directory = no
# no syslog daemon here: log to a file in the world
maillog_file = $d/maillog
maillog_file_prefixes = $WORLD_DIR
smtp_tls_security_level = none
smtpd_tls_security_level = none
# quick retries and no warnings, for tests
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
maximal_queue_lifetime = 1d
bounce_queue_lifetime = 1d
smtp_connect_timeout = 5s
EOF
    cp /usr/share/postfix/master.cf.dist "$d/etc/master.cf"
    sed -i -E \
        -e 's/^(smtp +inet .*)$/#\1/' \
        -e 's/^([a-z0-9]+ +(unix|unix-dgram|inet|fifo|pass) +[-yn] +[-yn] +)y/\1n/' \
        "$d/etc/master.cf"
    echo "$SMTP_HOST:$SMTP_PORT inet n - n - - smtpd" >>"$d/etc/master.cf"
    _pf_backdate
}

_pf_ensure() { [ -e "$POSTFIX_CONFIG_DIR/master.cf" ] || postfix_init; }

# Postfix re-reads a main.cf younger than about two seconds every 300 ms until it is
# older (so as not to read a file being edited): each command would stall ~2 s after
# any edit.  Back-date the configuration files before every start or reload.
_pf_backdate() {
    touch -d "@$(( ${EPOCHREALTIME%[.,]*} - 10 ))" \
        "$POSTFIX_CONFIG_DIR/main.cf" "$POSTFIX_CONFIG_DIR/master.cf"
}

# postfix_conf 'name = value' ... - set main.cf parameters (postconf -e); after
# postfix_start, follow with postfix_reload.
postfix_conf() { _pf_ensure; postconf -c "$POSTFIX_CONFIG_DIR" -e "$@" && _pf_backdate; }

# postfix_get NAME - the value of a main.cf parameter.
postfix_get() { _pf_ensure; postconf -c "$POSTFIX_CONFIG_DIR" -h "$1"; }

# postfix_master 'LINE' ... - append service lines to master.cf, e.g.
#   postfix_master 'pool1 unix - - n - - smtp -o smtp_bind_address=127.0.0.2'
postfix_master() {
    _pf_ensure
    local l
    for l in "$@"; do echo "$l" >>"$POSTFIX_CONFIG_DIR/master.cf"; done
    _pf_backdate
}

_pf_master_pid() { _pidfile "$POSTFIX_DIR/spool/pid/master.pid" | tr -d ' '; }

# postfix_start - start the private Postfix (which checks its configuration and creates
# the queue), wait until smtpd listens.
postfix_start() {
    _pf_ensure
    local out=$POSTFIX_DIR/postfix.out
    _pf_backdate
    # "postfix start" runs the checks of "postfix check" itself (and creates the queue).
    postfix -c "$POSTFIX_CONFIG_DIR" start </dev/null >>"$out" 2>&1 ||
        _world_die "postfix start failed: $(tail -n 5 "$out")"
    wait_until 10 _listening tcp "$SMTP_HOST" "$SMTP_PORT" ||
        _world_die "postfix smtpd does not listen on $SMTP_HOST:$SMTP_PORT"
    _world_say "postfix started (master pid $(_pf_master_pid))"
}

# postfix_stop - stop Postfix (postfix stop, then SIGKILL whatever is left of it).
postfix_stop() {
    local p; p=$(_pf_master_pid)
    _pid_alive "$p" || return 0
    postfix -c "$POSTFIX_CONFIG_DIR" stop </dev/null >>"$POSTFIX_DIR/postfix.out" 2>&1
    wait_until 5 _pid_gone "$p" ||
        postfix -c "$POSTFIX_CONFIG_DIR" abort </dev/null >>"$POSTFIX_DIR/postfix.out" 2>&1
    _kill_pid "$p" 2
}

# postfix_reload - re-read main.cf/master.cf (running processes finish first).
postfix_reload() {
    _pf_backdate
    postfix -c "$POSTFIX_CONFIG_DIR" reload </dev/null >>"$POSTFIX_DIR/postfix.out" 2>&1
}

# postfix_flush - retry all deferred mail now (postqueue -f).
postfix_flush() { postqueue -c "$POSTFIX_CONFIG_DIR" -f; }

# postfix_queue - the queue listing (postqueue -p).
postfix_queue() { postqueue -c "$POSTFIX_CONFIG_DIR" -p; }

# postfix_queue_count - the number of messages in the queue.
postfix_queue_count() { postqueue -c "$POSTFIX_CONFIG_DIR" -j | grep -c . ; }

# postfix_wait_queue_empty [TIMEOUT] - wait (default 20 s) until the queue is empty.
postfix_wait_queue_empty() { wait_until "${1:-20}" _pf_queue_empty; }
_pf_queue_empty() { [ "$(postfix_queue_count)" = 0 ]; }

# maillog - print the Postfix log so far.
maillog() { cat "$MAILLOG" 2>/dev/null; }

# maillog_grep REGEX - the log lines matching the extended REGEX (grep -E).
maillog_grep() { grep -E -- "$1" "$MAILLOG" 2>/dev/null; }

# maillog_wait REGEX [TIMEOUT] - wait (default 20 s) until a log line matches REGEX;
# prints the first matching line.
maillog_wait() {
    if wait_until "${2:-20}" grep -qE -- "$1" "$MAILLOG" 2>/dev/null; then
        grep -m1 -E -- "$1" "$MAILLOG"
    else
        return 1
    fi
}

# ---------------------------------------------------------------------------
# SMTP sinks (tests/lib/sink.py)
# ---------------------------------------------------------------------------
# $WORLD_DIR/sinks/NAME/ holds: mail/ (NNNNNN.eml + NNNNNN.json per accepted message),
# rules (PATTERN<TAB>REPLY), log (every command and reply), pid, addr.

# tls_cert NAME HOST [self] - a server certificate for HOST (P-256, 2 days) in
# $WORLD_TMP/NAME.pem and NAME.key, signed by the test CA $WORLD_TMP/ca.pem (made
# at the first call), or self-signed.  For sink_start's --tls-cert/--tls-key.
tls_cert() {
    local t=$WORLD_TMP ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2)
    [ -s "$t/ca.pem" ] || openssl req -x509 "${ec[@]}" -keyout "$t/ca.key" -out "$t/ca.pem" \
        -subj "/CN=Outpost test CA" 2>/dev/null || _world_die "openssl: no test CA"
    if [ "${3:-}" = self ]; then
        openssl req -x509 "${ec[@]}" -keyout "$t/$1.key" -out "$t/$1.pem" -subj "/CN=$2" \
            -addext "subjectAltName = DNS:$2" 2>/dev/null
    else
        openssl req "${ec[@]}" -keyout "$t/$1.key" -out "$t/$1.csr" -subj "/CN=$2" 2>/dev/null &&
            openssl x509 -req -in "$t/$1.csr" -CA "$t/ca.pem" -CAkey "$t/ca.key" -CAcreateserial \
                -days 2 -out "$t/$1.pem" -extfile <(printf 'subjectAltName = DNS:%s\n' "$2") 2>/dev/null
    fi || _world_die "openssl: no certificate for $2"
    chmod 644 "$t/ca.pem" "$t/$1.pem" "$t/$1.key"
}

# sink_start NAME IP[:PORT] [OPTION...] - start a sink (port 25 by default) and wait until
# it listens; options go to sink.py (--tls-cert CERT --tls-key KEY: offer STARTTLS).
sink_start() {
    local name=$1 addr=$2
    shift 2
    [[ $addr == *:* ]] || addr=$addr:25
    local d=$WORLD_DIR/sinks/$name
    mkdir -p "$d/mail"
    touch "$d/rules"
    echo "$addr" >"$d/addr"
    rm -f "$d/pid"
    # shellcheck disable=SC2094
    "$PYTHON" "$SINK_PY" --name "$name" --listen "$addr" --dir "$d/mail" \
        --rules "$d/rules" --log "$d/log" --pid "$d/pid" "$@" </dev/null >>"$d/log" 2>&1 &
    echo $! >"$d/pid.start"
    wait_until 10 test -s "$d/pid" || _world_die "sink $name did not start on $addr"
    _world_say "sink $name listening on $addr (pid $(_pidfile "$d/pid"))"
}

# sink_rule NAME PATTERN REPLY - add a reply rule (see sink.py: PATTERN is an fnmatch
# glob of the recipient, or stage:GLOB with stage connect|helo|mail|rcpt|data; REPLY
# "550 5.1.1 user unknown", "421 ..." closes the connection, DROP closes silently).
# Takes effect with the next command the sink reads.
sink_rule() { printf '%s\t%s\n' "$2" "$3" >>"$WORLD_DIR/sinks/$1/rules"; }

# sink_rules_clear NAME - remove all rules (accept everything again).
sink_rules_clear() { : >"$WORLD_DIR/sinks/$1/rules"; }

# sink_stop NAME - stop a sink.
sink_stop() {
    local d=$WORLD_DIR/sinks/$1 p
    p=$(_pidfile "$d/pid"); [ -n "$p" ] || p=$(_pidfile "$d/pid.start")
    _kill_pid "$p" 5
    rm -f "$d/pid" "$d/pid.start"
}

# sink_dir NAME - the directory holding NAME's messages.
sink_dir() { echo "$WORLD_DIR/sinks/$1/mail"; }

# sink_log NAME - the path of NAME's transaction log.
sink_log() { echo "$WORLD_DIR/sinks/$1/log"; }

# sink_count NAME - how many messages NAME accepted.
sink_count() {
    local f n=0
    for f in "$WORLD_DIR/sinks/$1/mail"/*.eml; do [ -e "$f" ] && n=$((n + 1)); done
    echo $n
}

# sink_wait NAME N [TIMEOUT] - wait (default 20 s) until NAME accepted at least N
# messages; returns 1 on timeout.
sink_wait() { wait_until "${3:-20}" _sink_has "$1" "$2"; }
_sink_has() { [ "$(sink_count "$1")" -ge "$2" ]; }

# sink_messages NAME - the .eml paths of NAME, oldest first.
sink_messages() {
    local f
    for f in "$WORLD_DIR/sinks/$1/mail"/*.eml; do [ -e "$f" ] && echo "$f"; done
}

# sink_rcpts NAME - every recipient NAME accepted, one a line, in order of arrival.
sink_rcpts() { _sink_py "$1" rcpts; }

# sink_find NAME RCPT - the path of the newest message NAME accepted for RCPT
# (case-insensitive); returns 1 if none.
sink_find() { _sink_py "$1" find "$2"; }

_sink_py() {
    "$PYTHON" - "$WORLD_DIR/sinks/$1/mail" "$2" "${3:-}" <<'PYEOF'
import glob, json, os, sys
d, what, arg = sys.argv[1:4]
found = None
for eml in sorted(glob.glob(os.path.join(d, "*.eml"))):
    env = json.load(open(eml[:-4] + ".json"))
    if what == "rcpts":
        for r in env["rcpt_to"]:
            print(r)
    elif arg.lower() in (r.lower() for r in env["rcpt_to"]):
        found = eml
if what == "find":
    if not found:
        sys.exit(1)
    print(found)
PYEOF
}

# eml_envelope EML FIELD - a field of the message's JSON envelope (mail_from, rcpt_to
# (one a line), helo, peer, size, seq, time, mail_params).
eml_envelope() {
    "$PYTHON" -c '
import json, sys
v = json.load(open(sys.argv[1]))[sys.argv[2]]
print("\n".join(v) if isinstance(v, list) else v)' "${1%.eml}.json" "$2"
}

# stats_json BY - "outpostctl stats --by BY --json" with the test's $conf.
stats_json() { "$CTL_BIN" -c "$conf" stats --by "$1" --json; }

# stats_field JSON ROW KEY - one value of a row of stats_json's output ("TOTAL":
# the total); "none" when absent.
stats_field() {
    "$PYTHON" -c 'import json,sys
d=json.loads(sys.argv[1]); rows={r["name"]:r for r in d["rows"]}; rows["TOTAL"]=d["total"]
print(rows.get(sys.argv[2],{}).get(sys.argv[3],"none"))' "$@"
}

# stats_total_is KEY VALUE - exit 0 when the statistics' total of KEY is VALUE.
stats_total_is() { test "$(stats_field "$(stats_json provider)" TOTAL "$1")" = "$2"; }

# eml_header EML NAME - the unfolded value(s) of header NAME, one a line.
eml_header() {
    tr -d '\r' <"$1" | awk -v name="$2" '
        BEGIN { want = tolower(name) }
        /^$/ { exit }
        /^[ \t]/ { if (cur != "") cur = cur " " substr($0, match($0, /[^ \t]/)); next }
        { if (cur != "") print cur; cur = ""
          i = index($0, ":"); if (i == 0) next
          n = tolower(substr($0, 1, i - 1))
          if (n == want) { v = substr($0, i + 1); sub(/^[ \t]+/, "", v); cur = v } }
        END { if (cur != "") print cur }'
}

# eml_body EML - the body (after the first empty line), CRLF turned into LF.
eml_body() { tr -d '\r' <"$1" | sed '1,/^$/d'; }

# ---------------------------------------------------------------------------
# sending mail
# ---------------------------------------------------------------------------

_swaks_n=0
SWAKS_OUT=""
LAST_QID=""

# send_mail FROM TO[,TO...] [SWAKS-OPTION...] - submit one message to the private
# Postfix (127.0.0.1:2525) with swaks.  Extra options go to swaks as they are, e.g.
#   --header "Subject: hi" --header "X-Campaign: 7" --body @file --data @whole.eml
# The transcript is saved in $SWAKS_OUT; LAST_QID is the Postfix queue id (empty if
# the message was not accepted).  Returns swaks' exit status (0: accepted by all).
# Call it directly, not in $(...), or the two variables are lost.
send_mail() {
    local from=$1 to=$2; shift 2
    _swaks_n=$((_swaks_n + 1))
    SWAKS_OUT=$WORLD_DIR/swaks/$(printf '%03d' $_swaks_n).log
    local rc=0
    swaks --server "$SMTP_HOST:$SMTP_PORT" --helo client.test --timeout 20 \
        --from "$from" --to "$to" "$@" </dev/null >"$SWAKS_OUT" 2>&1 || rc=$?
    LAST_QID=$(sed -n 's/.*250 2\.0\.0 Ok: queued as \([0-9A-Za-z]*\).*/\1/p' "$SWAKS_OUT" | tail -n1)
    _world_say "send_mail $from -> $to: swaks rc=$rc qid=${LAST_QID:-none}"
    return $rc
}

# In a cluster world the nodes are tests/lib/cluster.sh's.
# shellcheck source=tests/lib/cluster.sh
[ "${OUTPOST_TEST_REDIS:-single}" != cluster ] || . "$WORLD_LIB_DIR/cluster.sh"
