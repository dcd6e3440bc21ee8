#!/bin/bash
# sup-slots-bench.sh - the suppression check's two layouts on a Redis Cluster:
# its four candidates in one slot (one EVALSHA on one master) or in two slots on two
# masters (HMGETs sent to both at once).  doc/REDIS-KEYS.md (Slots) keeps the faster.
#
# Usage (as root, from the build directory, after "make tests/bench/sup_slots"):
#     ../tests/bench/sup-slots-bench.sh [SECONDS] [THREADS...]   # default 5, 1 and 32
# Starts a cluster of three masters in its own test world; prints figures, asserts nothing.
export OUTPOST_BUILDDIR=${OUTPOST_BUILDDIR:-$PWD}
. "$(dirname "$0")/../lib/world.sh"
. "$(dirname "$0")/../lib/cluster.sh"
world_start "$@"
bench=$OUTPOST_BUILDDIR/tests/bench/sup_slots
need_programs "$bench"
secs=${1:-5}; shift || true
[ $# -gt 0 ] || set -- 1 32
CLUSTER_NODES=3 CLUSTER_REPLICAS=0 cluster_start
echo "# $(nproc) cores, redis $(redis-server --version | cut -d' ' -f3), $(date -u +%F)"
for t in "$@"; do "$bench" "$CLUSTER_HOST" "$((CLUSTER_PORT0 + 1))" "$t" "$secs" | sed 's/^/# /'; done
pass "bench ran"
done_testing
