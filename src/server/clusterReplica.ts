// Cluster replicas on the server side. A node whose own topology line says `slave <master-id>` replicates that
// master from the address the topology lists for it: at start-up and after CLUSTER REPLICATE, by the same path as
// REPLICAOF (Replication.becomeReplica), which also makes it read-only; Redis Cluster refuses REPLICAOF itself.
// And, since nothing is gossiped, a master tells its replicas who owns each slot it sees change (Redis replicas
// learn it by gossip), through the replication stream: a replica runs what its master sends whatever its role.

import { CLUSTER_SLOTS } from '../cluster/keySlot';
import { commandOf } from './replication/respCommand';
import type { ClusterNode } from '../cluster/topology';
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

/**
 * A master's slot owners as its replicas were last told. After each topology change the slots whose owner
 * changed go into the replication stream as `CLUSTER SETSLOT <slot> NODE <id>` (or `CLUSTER DELSLOTS <slot>`),
 * after the command that changed them, so `redis-cli --cluster reshard` (which sends SETSLOT to masters only)
 * moves the slots on the replicas too. A replica that resynchronizes fully learns nothing of earlier changes.
 */
export class SlotOwnersFeed {
  private readonly shared: (ClusterNode | null)[];

  constructor(private readonly state: ServerState) {
    this.shared = [...state.cluster!.topology.owner];
  }

  /** The topology changed: queues the owner changes for the replicas (while this master feeds any). */
  changed(): void {
    const topology = this.state.cluster!.topology;
    const feed = topology.myself.role === 'master' ? this.state.propagation : null;
    const owner = topology.owner;
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      if (owner[slot] === this.shared[slot]) continue;
      const now = owner[slot];
      this.shared[slot] = now;
      feed?.alsoPropagate(0, now === null ? commandOf('CLUSTER', 'DELSLOTS', slot) : commandOf('CLUSTER', 'SETSLOT', slot, 'NODE', now.id));
    }
  }
}
