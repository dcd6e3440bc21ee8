#!/bin/bash
# redis-cluster.sh - the Redis Cluster client (common/core/rcluster.c) against a real
# cluster of three masters and three replicas (TAP)
#
# One long-lived client (tests/helpers/rcluster_probe), logged in on every node as
# the ACL user of doc/REDIS.md (with the cluster commands that page adds), must
#   - compute the slots Redis computes (hash tags included),
#   - spread keys over the three masters and read them back,
#   - run a script where its keys live (EVALSHA, EVAL after SCRIPT FLUSH) and refuse
#     one whose keys are in two slots,
#   - follow ASK while a slot migrates, and MOVED once it has moved,
#   - go on after a master is killed -9 and its replica has taken over,
#   - read the map by CLUSTER SLOTS when CLUSTER SHARDS is not granted.
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
PROBE=$OUTPOST_BUILDDIR/tests/helpers/rcluster_probe
need_programs "$PROBE"

CLUSTER_PASSWORD=admin-secret
cluster_start
N1=$((CLUSTER_PORT0 + 1))
is "$(cluster_masters | wc -l)" 3 "three masters serve slots"

# --- the ACL user of doc/REDIS.md on every node, with what a cluster client needs
line=$(grep -m1 '^ACL SETUSER outpost ' "$OUTPOST_SRCDIR/doc/REDIS.md")
extra=$(grep -m1 '^ACL SETUSER outpost +' "$OUTPOST_SRCDIR/doc/REDIS.md")
read -ra acl <<<"$line"
read -ra acl_extra <<<"$extra"
password=$(printf '%s\n' "${acl[@]}" | sed -n 's/^>//p')
isnt "${acl_extra[*]}" "" "doc/REDIS.md names the commands a cluster client adds"
acl_ok=0
for p in $(cluster_ports); do
    [ "$(cluster_cli "$p" "${acl[@]}")" = OK ] && [ "$(cluster_cli "$p" "${acl_extra[@]}")" = OK ] ||
        acl_ok=1
done
is "$acl_ok" 0 "every node accepts the documented ACL lines"

cat >"$WORLD_TMP/outpost.conf" <<EOF
[redis]
username = outpost
password = $password
connect_timeout = 500ms
command_timeout = 1s
reconnect_min = 50ms
reconnect_max = 200ms
EOF
coproc PROBE_P { "$PROBE" "$WORLD_TMP/outpost.conf" "$CLUSTER_HOST:$((CLUSTER_PORT0 + 1)),$CLUSTER_HOST:$((CLUSTER_PORT0 + 2))" 2>"$WORLD_DIR/log/probe.log"; }

# probe REQUEST... - one request to the probe, its answer on stdout
probe() {
    echo "$*" >&"${PROBE_P[1]}"
    local a=""
    read -r -t 30 a <&"${PROBE_P[0]}"
    echo "$a"
}
# probe_is ANSWER REQUEST... - the probe answers exactly ANSWER
probe_is() { local want=$1; shift; [ "$(probe "$@")" = "$want" ]; }
# count_of NAME - a count of the probe's "ok moved M ask A refreshed R" (no pipe
# from probe: a pipeline's subshell does not get the coprocess' descriptors)
count_of() {
    local a; a=$(probe counts)
    awk -v k="$1" '{ for (i = 2; i < NF; i++) if ($i == k) print $(i + 1) }' <<<"$a"
}

# --- slots: ours and Redis' agree, hash tags included
bad=""
for k in outpost:a 'outpost:{gmail.com}:s:1' 'foo{}{bar}' 'foo{{bar}}zap' '{' '}{' 'a{b}c{d}' 123456789; do
    [ "$(probe slot "$k")" = "ok $(cluster_cli "$N1" CLUSTER KEYSLOT "$k")" ] || bad="$bad $k"
done
is "$bad" "" "rcluster_keyslot agrees with CLUSTER KEYSLOT"

# --- many keys in many slots, on every master
t0=$(_now_ms)
read -r st n slots <<<"$(probe fill 2000 outpost:k:)"
diag "2000 SET + 2000 GET through the client: $(( $(_now_ms) - t0 )) ms"
is "$st $n" "ok 2000" "2000 keys SET and read back through the client"
ok '[ "${slots:-0}" -gt 1500 ]' "they fell in many slots ($slots)"
sum=0 empty=0
for p in $(cluster_masters); do
    k=$(cluster_cli "$p" DBSIZE); sum=$((sum + k)); [ "$k" -gt 0 ] || empty=1
done
is "$sum/$empty" "2000/0" "every master holds some of them, 2000 in all"
is "$(cluster_cli "$N1" -c GET outpost:k:1234)" 1234 "redis-cli -c reads what the client wrote"

# --- scripts: where their keys are; NOSCRIPT answered with EVAL; two slots refused
is "$(probe eval 2 'outpost:{u}a' 'outpost:{u}b' 5)" "ok 10" "a script on two keys of one slot"
is "$(probe eval 2 'outpost:{u}a' 'outpost:{u}b' 5)" "ok 20" "and again (EVALSHA)"
for p in $(cluster_masters); do cluster_cli "$p" SCRIPT FLUSH >/dev/null; done
is "$(probe eval 2 'outpost:{u}a' 'outpost:{u}b' 5)" "ok 30" "after SCRIPT FLUSH on every master (EVAL)"
like "$(probe eval 2 'outpost:{a}x' 'outpost:{b}y' 1)" "^fail keys of one command in two slots" \
    "a script whose keys are in two slots is refused"
is "$(cluster_cli "$N1" -c EXISTS 'outpost:{a}x')$(cluster_cli "$N1" -c EXISTS 'outpost:{b}y')" 00 \
    "and nothing of it ran"
like "$(probe cmd 2 DEL 'outpost:{a}x' 'outpost:k:1')" "^fail keys of one command in two slots" \
    "a command whose keys are in two slots is refused too"

# --- a slot migrating (ASK), then moved (MOVED)
slot=$(cluster_cli "$N1" CLUSTER KEYSLOT mig)
src=$(cluster_owner "$slot")
dst=$(cluster_masters | grep -vx "$src" | head -n1)
is "$(probe cmd 1 SET 'outpost:{mig}old' 1)" "ok OK" "a key written in slot $slot (on $src)"
cluster_cli "$dst" CLUSTER SETSLOT "$slot" IMPORTING "$(cluster_id "$src")" >/dev/null
cluster_cli "$src" CLUSTER SETSLOT "$slot" MIGRATING "$(cluster_id "$dst")" >/dev/null
is "$(probe cmd 1 SET 'outpost:{mig}new' 2)" "ok OK" "while the slot migrates, a new key is written"
is "$(count_of ask)" 1 "through one ASK"
is "$(printf 'ASKING\nGET outpost:{mig}new\n' | cluster_cli "$dst" | tail -n1)" 2 \
    "and it is on the importing node ($dst)"
is "$(probe cmd 1 GET 'outpost:{mig}old')" "ok 1" "a key not yet moved is read where it was"
is "$(count_of ask)" 1 "without a redirection"
# a script whose keys are split between the two nodes: TRYAGAIN as long as that lasts
like "$(probe eval 2 'outpost:{mig}old' 'outpost:{mig}new' 1)" "^err TRYAGAIN" \
    "a script whose keys are split gets TRYAGAIN once command_timeout has passed"
ok '[ "$(count_of tryagain)" -ge 3 ]' "after being sent again a few times ($(count_of tryagain))"
cluster_cli "$src" MIGRATE "$CLUSTER_HOST" "$dst" "" 0 5000 AUTH "$CLUSTER_PASSWORD" \
    KEYS 'outpost:{mig}old' >/dev/null
for p in "$dst" "$src" $(cluster_masters | grep -vx "$src" | grep -vx "$dst"); do
    cluster_cli "$p" CLUSTER SETSLOT "$slot" NODE "$(cluster_id "$dst")" >/dev/null
done
is "$(cluster_owner "$slot")" "$dst" "slot $slot is $dst's now"
is "$(probe cmd 1 GET 'outpost:{mig}old')" "ok 1" "the moved key is read"
is "$(count_of moved)" 1 "through one MOVED"
is "$(probe cmd 1 GET 'outpost:{mig}new')" "ok 2" "another key of the slot is read"
is "$(count_of moved)" 1 "straight from the new owner: the map was updated"

# --- a master killed -9, its replica promoted
fslot=$(cluster_cli "$N1" CLUSTER KEYSLOT fo)
victim=$(cluster_owner "$fslot")
has_replica() { replica=$(cluster_replica_of "$victim"); [ -n "$replica" ]; }
ok 'wait_until 20 has_replica' "master $victim (slot $fslot) has a replica connected"
is "$(probe cmd 1 SET 'outpost:{fo}k' before)" "ok OK" "a key written on $victim"
ok '[ "$(cluster_cli "$victim" WAIT 1 5000)" -ge 1 ]' "and copied to its replica"
# shellcheck disable=SC2034 # read in ok '...' below
refreshed=$(count_of refreshed)
t0=$(_now_ms)
cluster_kill "$victim" KILL
ok 'wait_until 60 cluster_role_is "$replica" master' "the replica $replica took over"
ok "wait_until 30 probe_is 'ok before' cmd 1 GET 'outpost:{fo}k'" \
    "the client reads the key from the new master"
diag "first answer from the new master $(( $(_now_ms) - t0 )) ms after the kill (cluster-node-timeout $CLUSTER_NODE_TIMEOUT ms)"
is "$(probe cmd 1 SET 'outpost:{fo}k' after)" "ok OK" "and writes there"
is "$(cluster_cli "$replica" GET 'outpost:{fo}k')" after "the write is on the new master"
ok '[ "$(count_of refreshed)" -gt "$refreshed" ]' "the slot map was read again"
like "$(cat "$WORLD_DIR/log/probe.log")" "$CLUSTER_HOST:$victim unreachable: reading the slot map again" \
    "the lost master is logged"
like "$(cat "$WORLD_DIR/log/probe.log")" "slot map from [0-9.:]+: [1-9][0-9]* slots moved to another master" \
    "and the switch"
read -r st n slots <<<"$(probe fill 300 outpost:after:)"
is "$st $n" "ok 300" "keys over all slots are written and read after the failover"

# --- CLUSTER SLOTS when CLUSTER SHARDS is not granted (or the server predates 7.0)
for p in $(cluster_ports); do cluster_cli "$p" ACL SETUSER outpost -cluster\|shards >/dev/null 2>&1; done
out=$(printf 'fill 300 outpost:slots:\ncounts\n' |
    "$PROBE" "$WORLD_TMP/outpost.conf" "$CLUSTER_HOST:$replica" 2>"$WORLD_DIR/log/probe-slots.log")
is "$(head -n1 <<<"$out" | cut -d' ' -f1-2)" "ok 300" "a client not granted CLUSTER SHARDS reads the map by CLUSTER SLOTS"
is "$(tail -n1 <<<"$out")" "ok moved 0 ask 0 refreshed 1 tryagain 0" "one map read, no redirection: the map was right"
like "$(cluster_cli "$replica" ACL LOG 1)" 'cluster\|shards' "CLUSTER SHARDS was refused to it"

# shellcheck disable=SC1083,SC2093 # the bash manual's way to close a coprocess' input
exec {PROBE_P[1]}>&-
done_testing
