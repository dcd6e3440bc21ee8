#!/bin/bash
# privileges.sh - the daemons give up root after start-up, refuse to run as root,
# and their sockets stay usable by a real Postfix (TAP)
#
# The world gets private /etc/passwd and /etc/group (bind mounts in its own mount
# namespace: the machine's files are untouched) with a user and group "outpost" and
# postfix a member of that group -- what the Debian package sets up.  The sockets sit
# in a directory of group outpost, mode 0750, as /run/outpost does.
. "$(dirname "$0")/../lib/world.sh"
world_start "$@"
need_programs "$MILTER_BIN" "$POLICYD_BIN"
getent passwd postfix >/dev/null || skip_all "no user postfix"

# --- a private user database: user and group outpost, postfix in that group
mkdir -p "$WORLD_DIR/etc"
cp /etc/passwd "$WORLD_DIR/etc/passwd"
cp /etc/group "$WORLD_DIR/etc/group"
if ! getent passwd outpost >/dev/null; then
    id=64900
    while getent passwd $id >/dev/null || getent group $id >/dev/null; do id=$((id + 1)); done
    echo "outpost:x:$id:$id:Outpost test:/nonexistent:/usr/sbin/nologin" >>"$WORLD_DIR/etc/passwd"
    getent group outpost >/dev/null || echo "outpost:x:$id:" >>"$WORLD_DIR/etc/group"
fi
grep -q '^outpost:.*[:,]postfix\(,\|$\)' "$WORLD_DIR/etc/group" ||
    sed -i '/^outpost:/{s/:$/:postfix/;t;s/$/,postfix/}' "$WORLD_DIR/etc/group"
# (edit first: "sed -i" replaces the file, and a bind mount keeps the old one)
mount --bind "$WORLD_DIR/etc/passwd" /etc/passwd
mount --bind "$WORLD_DIR/etc/group" /etc/group
uid=$(id -u outpost); gid=$(id -g outpost)
like " $(id -nG postfix) " " outpost " "world: postfix is in group outpost (uid $uid, gid $gid)"

sockdir=$WORLD_DIR/outpost
install -d -o outpost -g outpost -m 0750 "$sockdir"
conf=$WORLD_DIR/outpost.conf
cat >"$conf" <<EOF
[general]
user = outpost
[redis]
server = unix:$REDIS_SOCK
[milter]
socket = unix:$sockdir/milter.sock
socket_mode = 0660
[policy]
listen = unix:$sockdir/policy.sock
EOF
chmod 0644 "$conf"

# status_field PID FIELD - a line of /proc/PID/status without its name (Uid, Gid, ...)
status_field() { awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status"; }

# --- started as root: each daemon opens its socket, then runs as outpost
redis_start
world_spawn milter "$MILTER_BIN" -f -c "$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S "$sockdir/milter.sock"' "milter (started as root) listens"
ok 'wait_until 5 test -S "$sockdir/policy.sock"' "policyd (started as root) listens"
sleep 0.5                                   # past start-up: the drop is done
for d in milter policyd; do
    p=$(world_pid $d)
    is "$(status_field "$p" Uid)" "$uid $uid $uid $uid" "$d runs as outpost (real, effective, saved, fs uid)"
    is "$(status_field "$p" Gid)" "$gid $gid $gid $gid" "$d runs with group outpost"
    unlike " $(status_field "$p" Groups) " " 0 " "$d keeps no supplementary group root"
    is "$(status_field "$p" CapEff)" 0000000000000000 "$d has no effective capabilities"
    is "$(status_field "$p" CapPrm)" 0000000000000000 "$d cannot get any back"
done
is "$(stat -c '%U:%G %a' "$sockdir/milter.sock")" "outpost:outpost 660" "milter socket: outpost:outpost 0660"
is "$(stat -c '%U:%G' "$sockdir/policy.sock")" "outpost:outpost" "policy socket belongs to outpost"

# --- Postfix (smtpd as user postfix) reaches both through group outpost; the lines
# are conf-examples/postfix-sockets.cf's, with the world's socket paths
dns_mx gmail.test mx.gmail.test 10
dns_a mx.gmail.test 127.0.0.11
dns_start
sink_start gmail 127.0.0.11
example=$OUTPOST_SRCDIR/conf-examples/postfix-sockets.cf
mapfile -t lines < <(sed -e 's/#.*//' -e "s|/run/outpost/|$sockdir/|g" "$example" |
    awk '/^[a-z_]+ *=/ { if (l != "") print l; l = $0; next }
         /^[ \t]+[^ \t]/ { sub(/^[ \t]+/, " "); l = l $0; next }
         END { if (l != "") print l }')
postfix_conf "${lines[@]}"
like "$(postfix_get smtpd_milters)" "^unix:$sockdir/milter.sock\$" "Postfix uses the example's milter line"
like "$(postfix_get smtpd_recipient_restrictions)" "check_policy_service \\{ unix:$sockdir/policy.sock" \
    "and its policy line"
postfix_start
send_mail news@shop.test alice@gmail.test --header "Subject: through both, unprivileged"
is "$?" 0 "Postfix accepts mail through milter and policyd running as outpost"
ok 'sink_wait gmail 1' "and delivers it"
unlike "$(maillog)" "Permission denied" "no permission problem in Postfix's log"

# --- never as root
world_kill milter
world_kill policyd
ok '! test -e "$sockdir/milter.sock" && ! test -e "$sockdir/policy.sock"' \
    "stopped, both leave no socket file behind (their directory is outpost's)"
rootconf=$WORLD_DIR/root.conf
sed 's/^user = outpost$/user = root/' "$conf" >"$rootconf"
for d in "$MILTER_BIN" "$POLICYD_BIN"; do
    out=$(timeout 3 "$d" -f -c "$rootconf" 2>&1); rc=$?
    n=${d##*/}
    ok '[ "$rc" != 0 ] && [ "$rc" != 124 ]' "$n refuses to run with user = root (exits at once, rc $rc)"
    like "$out" "root" "and says why"
done

# The build tree may lie where user outpost cannot go (a clone under /root, mode
# 0700): the runs as outpost below use copies of the programs, as installed ones would be.
bindir=$WORLD_DIR/bin
install -d -m 0755 "$bindir"
install -m 0755 "$MILTER_BIN" "$POLICYD_BIN" "$bindir/"
MILTER_RUN=$bindir/${MILTER_BIN##*/}
POLICYD_RUN=$bindir/${POLICYD_BIN##*/}

# --- started by another user than the configured one: refused
nobodyconf=$WORLD_DIR/nobody.conf
sed "s|^user = outpost\$|user = nobody|; s|$sockdir/|$WORLD_TMP/|" "$conf" >"$nobodyconf"
chmod 0644 "$nobodyconf"
out=$(timeout 3 runuser -u outpost -- "$POLICYD_RUN" -f -c "$nobodyconf" 2>&1); rc=$?
ok '[ "$rc" != 0 ] && [ "$rc" != 124 ]' "policyd started as outpost with user = nobody refuses (rc $rc)"
like "$out" "nobody" "and names the configured user"

# --- started as the user itself (systemd's User=outpost): runs, no drop needed,
# and Postfix still reaches the sockets through group outpost
rm -f "$sockdir"/*.sock
world_spawn milter runuser -u outpost -- "$MILTER_RUN" -f -c "$conf"
world_spawn policyd runuser -u outpost -- "$POLICYD_RUN" -f -c "$conf"
ok 'wait_until 10 sh -c "test -S $sockdir/milter.sock && test -S $sockdir/policy.sock"' \
    "both daemons started as outpost listen"
for d in milter policyd; do
    bin=$MILTER_RUN; [ $d = policyd ] && bin=$POLICYD_RUN
    p=$(pgrep -u outpost -f "$bin -f -c $conf" | head -n1)
    is "$(status_field "$p" Uid)" "$uid $uid $uid $uid" "$d runs as outpost"
done
is "$(stat -c '%U:%G %a' "$sockdir/milter.sock")" "outpost:outpost 660" "milter socket: outpost:outpost 0660"
send_mail news@shop.test bob@gmail.test --header "Subject: daemons started as outpost"
is "$?" 0 "Postfix (in group outpost) passes mail through both"
ok 'wait_until 20 eval "sink_find gmail bob@gmail.test"' "and delivers it"
done_testing
