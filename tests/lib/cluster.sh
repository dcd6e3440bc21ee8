# shellcheck shell=bash
# cluster.sh - a real Redis Cluster inside the test world (source after world.sh)
#
# cluster_start starts CLUSTER_NODES redis-server processes (default 6) with
# --cluster-enabled yes on 127.0.0.1, ports CLUSTER_PORT0+1 ... (default 7001 ...),
# joins them with "redis-cli --cluster create ... --cluster-replicas 1" (three
# masters, three replicas; CLUSTER_REPLICAS=0 with CLUSTER_NODES=3: masters only)
# and waits until every node says cluster_state:ok.
# Each node is a world_spawn'ed daemon named cluster-PORT (log in
# $WORLD_DIR/log/cluster-PORT.log, stopped at teardown).  With CLUSTER_PASSWORD
# set, every node wants it (requirepass, and masterauth for its replication).
# CLUSTER_NODE_TIMEOUT (ms, default 2000) is how long a master may be silent
# before its replica takes over.

CLUSTER_HOST=127.0.0.1
CLUSTER_PORT0=${CLUSTER_PORT0:-7000}
CLUSTER_NODES=${CLUSTER_NODES:-6}
CLUSTER_REPLICAS=${CLUSTER_REPLICAS:-1}
CLUSTER_NODE_TIMEOUT=${CLUSTER_NODE_TIMEOUT:-2000}
CLUSTER_PASSWORD=${CLUSTER_PASSWORD:-}

# cluster_ports - the nodes' ports, one per line
cluster_ports() { seq $((CLUSTER_PORT0 + 1)) $((CLUSTER_PORT0 + CLUSTER_NODES)); }

# cluster_seeds - "host:port,host:port,..." of every node
cluster_seeds() { cluster_ports | sed "s/^/$CLUSTER_HOST:/" | paste -sd, -; }

# cluster_cli PORT ARG... - redis-cli on one node (with the password if any)
cluster_cli() {
    local port=$1; shift
    redis-cli -h "$CLUSTER_HOST" -p "$port" ${CLUSTER_PASSWORD:+-a "$CLUSTER_PASSWORD"} \
        --no-auth-warning "$@"
}

_cluster_up() { [ "$(cluster_cli "$1" PING 2>/dev/null)" = PONG ]; }

# cluster_state_ok [PORT...] - every node named (default all that run) says cluster_state:ok
cluster_state_ok() {
    local p ports=("$@")
    [ $# = 0 ] && mapfile -t ports < <(cluster_ports)
    for p in "${ports[@]}"; do
        _pid_alive "$(world_pid "cluster-$p")" || continue
        cluster_cli "$p" CLUSTER INFO 2>/dev/null | grep -q '^cluster_state:ok' || return 1
    done
}

# cluster_spawn PORT [OPTION...] - start one node (again: its nodes.conf says its
# place in the cluster, its data is gone)
cluster_spawn() {
    local p=$1 d=$WORLD_DIR/cluster/$1; shift
    mkdir -p "$d"
    world_spawn "cluster-$p" redis-server --port "$p" --bind "$CLUSTER_HOST" \
        --cluster-enabled yes --cluster-config-file "$d/nodes.conf" \
        --cluster-node-timeout "$CLUSTER_NODE_TIMEOUT" --dir "$d" \
        --save "" --appendonly no --enable-debug-command local \
        ${CLUSTER_PASSWORD:+--requirepass "$CLUSTER_PASSWORD" --masterauth "$CLUSTER_PASSWORD"} \
        "$@"
    wait_until 10 _cluster_up "$p" || _world_die "cluster node $p does not answer PING"
}

# cluster_start [OPTION...] - start the nodes (OPTIONs: more redis-server options),
# create the cluster, wait until its state is ok
cluster_start() {
    local p nodes=()
    for p in $(cluster_ports); do
        cluster_spawn "$p" "$@"
        nodes+=("$CLUSTER_HOST:$p")
    done
    redis-cli ${CLUSTER_PASSWORD:+-a "$CLUSTER_PASSWORD"} --no-auth-warning \
        --cluster create "${nodes[@]}" --cluster-replicas "$CLUSTER_REPLICAS" --cluster-yes \
        </dev/null >"$WORLD_DIR/log/cluster-create.log" 2>&1 ||
        _world_die "redis-cli --cluster create failed: $(tail -5 "$WORLD_DIR/log/cluster-create.log")"
    wait_until 30 cluster_state_ok || _world_die "the cluster's state is not ok"
    _world_say "cluster of $CLUSTER_NODES nodes up: $(cluster_seeds)"
}

# cluster_id PORT - the node's id
cluster_id() { cluster_cli "$1" CLUSTER MYID; }

# cluster_owner SLOT [ASKED-PORT] - the port of the master serving SLOT, by CLUSTER NODES
cluster_owner() {
    cluster_cli "${2:-$((CLUSTER_PORT0 + 1))}" CLUSTER NODES | awk -v s="$1" '
        $3 ~ /master/ && $3 !~ /fail/ {
            for (i = 9; i <= NF; i++) {
                if ($i ~ /^\[/) continue            # a slot being moved
                n = split($i, r, "-"); lo = r[1]; hi = n > 1 ? r[2] : r[1]
                if (s + 0 >= lo + 0 && s + 0 <= hi + 0) {
                    split($2, a, "[:@]"); print a[2]; exit
                }
            }
        }'
}

# cluster_masters - the ports of the masters that serve slots, one per line
cluster_masters() {
    cluster_cli "${1:-$((CLUSTER_PORT0 + 1))}" CLUSTER NODES |
        awk '$3 ~ /master/ && $3 !~ /fail/ && NF >= 9 { split($2, a, "[:@]"); print a[2] }'
}

# cluster_replica_of PORT - the port of a replica connected to the master at PORT
# (ROLE: "master", offset, then host, port, offset of each replica); empty if none
cluster_replica_of() { cluster_cli "$1" ROLE 2>/dev/null | sed -n '4p'; }

# cluster_role_is PORT ROLE - ROLE's first word on the node is ROLE (master, slave)
cluster_role_is() { [ "$(cluster_cli "$1" ROLE 2>/dev/null | head -n1)" = "$2" ]; }

# cluster_kill PORT [SIGNAL] - stop one node (SIGTERM, or SIGNAL such as KILL)
cluster_kill() {
    if [ -n "${2:-}" ]; then kill -"$2" "$(world_pid "cluster-$1")"
    else world_kill "cluster-$1"; fi
}
