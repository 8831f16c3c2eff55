// The cluster as this node sees it: the nodes (ID, address, role, config epoch), which node owns each of the
// 16384 slots, and the slots this node is migrating or importing. Declared, not gossiped: it is read from the
// cluster-config-file and changed only by CLUSTER commands sent to this node (redis-cli --cluster sends them to
// every node), which persist it again.

import { CLUSTER_SLOTS } from './keySlot';

export interface ClusterNode {
  /** 40 hex characters in Redis; any word without spaces is accepted. Changes only on CLUSTER RESET HARD. */
  id: string;
  /** Address clients are sent to (MOVED, CLUSTER SLOTS): an IP, or a DNS name (Kubernetes). */
  host: string;
  port: number;
  /** The cluster bus port Redis would gossip on: shown, never opened (nothing is gossiped). */
  cport: number;
  /** Redis 7's optional hostname (`,hostname` after the address). */
  hostname: string;
  role: 'master' | 'slave';
  /** The master of a replica, or null ('-'). */
  masterId: string | null;
  configEpoch: number;
}

/** A contiguous run of slots owned by one node. */
export interface SlotRange {
  readonly start: number;
  readonly end: number;
}

export class Topology {
  readonly nodes = new Map<string, ClusterNode>();
  /** Owner of each slot, or null while unassigned. */
  readonly owner: (ClusterNode | null)[] = new Array(CLUSTER_SLOTS).fill(null);
  /** Slots this node serves but is moving to another node (SETSLOT MIGRATING). */
  readonly migrating = new Map<number, ClusterNode>();
  /** Slots this node is receiving from another node (SETSLOT IMPORTING). */
  readonly importing = new Map<number, ClusterNode>();
  currentEpoch = 0;
  lastVoteEpoch = 0;
  /** cluster-require-full-coverage: the cluster is down while any slot has no owner. */
  requireFullCoverage = true;
  /** cluster-allow-reads-when-down: commands that do not write still run while the cluster is down. */
  allowReadsWhenDown = false;
  private assigned = 0;

  constructor(public myself: ClusterNode) {
    this.nodes.set(myself.id, myself);
  }

  addNode(node: ClusterNode): void {
    this.nodes.set(node.id, node);
  }

  /** Removes a node (CLUSTER FORGET): its slots become unassigned. */
  removeNode(node: ClusterNode): void {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (this.owner[slot] === node) this.unassign(slot);
    for (const [slot, n] of this.migrating) if (n === node) this.migrating.delete(slot);
    for (const [slot, n] of this.importing) if (n === node) this.importing.delete(slot);
    this.nodes.delete(node.id);
  }

  assign(slot: number, node: ClusterNode): void {
    if (this.owner[slot] === null) this.assigned++;
    this.owner[slot] = node;
  }

  unassign(slot: number): void {
    if (this.owner[slot] !== null) this.assigned--;
    this.owner[slot] = null;
  }

  /** Slots with an owner (CLUSTER INFO cluster_slots_assigned). */
  get assignedSlots(): number {
    return this.assigned;
  }

  /**
   * Redis's cluster_state: ok once every slot has an owner (or always, with cluster-require-full-coverage no).
   * No node is ever seen failing: nothing is gossiped.
   */
  get ok(): boolean {
    return !this.requireFullCoverage || this.assigned === CLUSTER_SLOTS;
  }

  /** The runs of slots `node` owns, in slot order. */
  rangesOf(node: ClusterNode): SlotRange[] {
    const ranges: SlotRange[] = [];
    let start = -1;
    for (let slot = 0; slot <= CLUSTER_SLOTS; slot++) {
      const mine = slot < CLUSTER_SLOTS && this.owner[slot] === node;
      if (mine && start < 0) start = slot;
      else if (!mine && start >= 0) {
        ranges.push({ start, end: slot - 1 });
        start = -1;
      }
    }
    return ranges;
  }

  /** Masters owning at least one slot (CLUSTER INFO cluster_size). */
  get size(): number {
    const owners = new Set<ClusterNode>();
    for (const node of this.owner) if (node !== null) owners.add(node);
    return owners.size;
  }

  /** The master a replica follows (null for a master, or a replica whose master is not listed). */
  masterOf(node: ClusterNode): ClusterNode | null {
    return node.masterId === null ? null : (this.nodes.get(node.masterId) ?? null);
  }

  /** The config epoch a node is shown with: a replica's is its master's (Redis's nodeEpoch). */
  nodeEpoch(node: ClusterNode): number {
    return node.role === 'slave' ? (this.masterOf(node)?.configEpoch ?? node.configEpoch) : node.configEpoch;
  }

  /** This node serves reads of `owner`'s slots to READONLY clients: it is a replica of `owner`. */
  replicates(owner: ClusterNode): boolean {
    return this.myself.role === 'slave' && this.myself.masterId === owner.id;
  }

  /** Makes this node a replica of `master` (Redis's clusterSetMaster): a master's open slots close. */
  setMaster(master: ClusterNode): void {
    const me = this.myself;
    if (me.role === 'master') {
      this.migrating.clear();
      this.importing.clear();
    }
    me.role = 'slave';
    me.masterId = master.id;
  }

  /** Makes this replica a master again (CLUSTER RESET on a replica: Redis's clusterSetNodeAsMaster). */
  setAsMaster(): void {
    this.myself.role = 'master';
    this.myself.masterId = null;
  }

  replicasOf(master: ClusterNode): ClusterNode[] {
    return [...this.nodes.values()].filter((n) => n.role === 'slave' && n.masterId === master.id);
  }

  /** The highest config epoch known (Redis's clusterGetMaxEpoch). */
  get maxEpoch(): number {
    let max = this.currentEpoch;
    for (const n of this.nodes.values()) if (n.configEpoch > max) max = n.configEpoch;
    return max;
  }

  /** Gives this node a new ID (CLUSTER RESET HARD). */
  renameMyself(id: string): void {
    this.nodes.delete(this.myself.id);
    this.myself.id = id;
    this.nodes.set(id, this.myself);
  }

  /** Drops every slot and every other node (CLUSTER RESET). */
  reset(): void {
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) this.owner[slot] = null;
    this.assigned = 0;
    this.migrating.clear();
    this.importing.clear();
    for (const id of [...this.nodes.keys()]) if (id !== this.myself.id) this.nodes.delete(id);
  }
}
