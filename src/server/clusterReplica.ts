// A cluster node whose own topology line says `slave <master-id>` replicates that master from the address the
// topology lists for it: at start-up and after CLUSTER REPLICATE, by the same path as REPLICAOF
// (Replication.becomeReplica), which also makes it read-only. Redis Cluster refuses REPLICAOF itself.

import type { ServerState } from './serverState';

/** Starts (or restarts) replication from this node's master when the topology makes it a replica. */
export function followClusterMaster(state: ServerState): void {
  const topology = state.cluster?.topology;
  if (topology === undefined || topology.myself.role !== 'slave') return;
  const master = topology.masterOf(topology.myself);
  if (master !== null) state.replication.becomeReplica(master.host, master.port);
}

/** A replica becomes a master again (CLUSTER RESET): it stops replicating, keeping no link. */
export function leaveClusterMaster(state: ServerState): void {
  state.cluster?.topology.setAsMaster();
  state.replication.becomeMaster();
}
