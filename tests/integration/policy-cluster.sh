#!/bin/bash
# policy-cluster.sh - outpost-policyd on a real Redis Cluster (three masters, three
# replicas): one limit enforced exactly through the master of the {rl} slot, the
# statistics written to the master of the sender's bucket, and decisions again after that
# master is killed -9 and its replica takes over (TAP)
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
need_programs "$POLICYD_BIN"

cluster_start
N1=$((CLUSTER_PORT0 + 1))
conf=$WORLD_DIR/policyd.conf
{
    printf '[general]\nuser = nobody\n[redis]\ncluster = %s\n' "$(cluster_seeds)"
    printf 'reconnect_min = 50ms\nreconnect_max = 200ms\ncommand_timeout = 300ms\n'
    printf '[policy]\nlisten = unix:%s/run/policy.sock\n' "$WORLD_DIR"
    printf '[provider bulkmail]\ndomains = bulk.test\nrate = 1/h\nburst = 5\n'
    printf '[tenant shop]\ndomains = shop.test\n'
} >"$conf"
world_spawn policyd "$POLICYD_BIN" -f -c "$conf"
ok 'wait_until 5 test -S $WORLD_DIR/run/policy.sock' "policyd listens with [redis] cluster"

# ask FIRST COUNT - COUNT requests for recipients rFIRST.. at bulk.test, one connection;
# prints "DUNNO-count limit-count other-count"
ask() {
    /usr/bin/python3 - "$WORLD_DIR/run/policy.sock" "$1" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
dunno = limit = other = 0
for i in range(int(sys.argv[2]), int(sys.argv[2]) + int(sys.argv[3])):
    s.sendall(("request=smtpd_access_policy\nprotocol_state=RCPT\n"
               "sender=a@shop.test\nrecipient=r%d@bulk.test\n\n" % i).encode())
    buf = b""
    while not buf.endswith(b"\n\n"):
        got = s.recv(4096)
        if not got:
            break
        buf += got
    r = buf.decode()
    if r.startswith("action=DUNNO"):
        dunno += 1
    elif "rate limit of provider bulkmail" in r:
        limit += 1
    else:
        other += 1
        sys.stderr.write(r)
print(dunno, limit, other)
PY
}

is "$(ask 1 8)" "5 3 0" "8 requests: exactly the burst of 5 allowed, 3 deferred by the limit"

key='outpost:{rl}:g:p:bulkmail'
slot=$(cluster_cli "$N1" CLUSTER KEYSLOT "$key")
rl_master=$(cluster_owner "$slot")
ok '[ "$(cluster_cli "$rl_master" EXISTS "$key")" = 1 ]' \
    "the limit's state is on the master of the {rl} slot ($slot, port $rl_master)"
hour=$(date -u +%Y%m%d%H)
# shop.test's statistics bucket is 5 (stats_sender_bucket(); test_stats knows it)
st_master=$(cluster_owner "$(cluster_cli "$N1" CLUSTER KEYSLOT "outpost:{st:5}:h:$hour")")
counted() { cluster_cli "$st_master" HGETALL 'outpost:{st:5}:total' | grep -q 'shop.test|bulkmail'; }
ok 'wait_until 5 counted' "the refusals are counted on the master of the sender's statistics slot (port $st_master)"
ev_master=$(cluster_owner "$(cluster_cli "$N1" CLUSTER KEYSLOT 'outpost:{ev:shop}:s')")
throttled() { [ "$(cluster_cli "$ev_master" XLEN 'outpost:{ev:shop}:s')" = 3 ]; }
ok 'wait_until 5 throttled' "and each is a throttled event on the master of the tenant's slot (port $ev_master)"

# --- the {rl} master killed -9: its replica takes over, decisions go on
has_replica() { replica=$(cluster_replica_of "$rl_master"); [ -n "$replica" ]; }
ok 'wait_until 20 has_replica' "the {rl} master has a replica connected"
ok '[ "$(cluster_cli "$rl_master" WAIT 1 5000)" -ge 1 ]' "which has the limit's state"
cluster_kill "$rl_master" KILL
ok 'wait_until 60 cluster_role_is "$replica" master' "the replica $replica is promoted"
# decided - one more request is answered by a decision, not a temporary failure
n=100
decided() { n=$((n + 1)); [ "$(ask "$n" 1)" = "0 1 0" ]; }
ok 'wait_until 30 decided' "after the failover policyd decides again (deferred by the limit, no temporary failure)"
is "$(ask 200 3)" "0 3 0" "the limit holds on the new master: every request deferred"
ok 'grep -q "redis cluster: connecting to 127.0.0.1:$replica (master of slot $slot)" $WORLD_DIR/log/policyd.log' \
    "the switch to the new master is logged"

# --- the {rl} slot moved to another master (a resharding): MOVED, then decisions there
src=$replica
dst=$(cluster_masters "$src" | grep -vx "$src" | head -n1)
cluster_cli "$dst" CLUSTER SETSLOT "$slot" IMPORTING "$(cluster_id "$src")" >/dev/null
cluster_cli "$src" CLUSTER SETSLOT "$slot" MIGRATING "$(cluster_id "$dst")" >/dev/null
mapfile -t keys < <(cluster_cli "$src" CLUSTER GETKEYSINSLOT "$slot" 100)
is "$(cluster_cli "$src" MIGRATE "$CLUSTER_HOST" "$dst" "" 0 5000 KEYS "${keys[@]}")" OK \
    "the slot's ${#keys[@]} keys migrated to port $dst"
for p in $(cluster_masters "$src"); do
    cluster_cli "$p" CLUSTER SETSLOT "$slot" NODE "$(cluster_id "$dst")" >/dev/null
done
is "$(ask 300 2)" "0 2 0" "after the move the next requests are decided on the new owner (MOVED followed)"
ok '[ "$(cluster_cli "$dst" EXISTS "$key")" = 1 ]' "the limit's state is there"
ok 'grep -q "the cluster moved the slot to another master" $WORLD_DIR/log/policyd.log' \
    "the MOVED reply is logged"
ok 'grep -q "redis cluster: connecting to 127.0.0.1:$dst (master of slot $slot)" $WORLD_DIR/log/policyd.log' \
    "and the connection made to the new owner"
done_testing
