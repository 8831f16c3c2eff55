// The read-only answers of CLUSTER (SLOTS, SHARDS, NODES, INFO, MYID, KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT,
// REPLICAS, COUNT-FAILURE-REPORTS, LINKS), shaped as Redis 7.0.15's cluster.c from the declared topology.
// Nodes are always reported connected: nothing is gossiped, so nothing is known to fail. Replication offsets
// are those this node knows first-hand (its own, its master's, its attached replicas').

import { ClusterErr, CommandError } from '../errors';
import { keyHashSlot } from '../cluster/keySlot';
import { nodeLine, nodesText } from '../cluster/nodesFormat';
import type { ClusterState } from '../cluster/clusterState';
import type { ClusterNode, Topology } from '../cluster/topology';
import type { ReplyWriter } from '../protocol/replyWriter';
import { replicaRows } from '../server/replication/replicationInfo';
import type { CommandContext } from './types';

/** The cluster state of this server; the CLUSTER container checks cluster mode before any subcommand runs. */
export function clusterOf(ctx: CommandContext): ClusterState {
  return ctx.server.cluster!;
}

/** A node as CLUSTER SLOTS lists it: endpoint, port, ID, and the endpoints not already given (its hostname). */
function nodeEntry(reply: ReplyWriter, node: ClusterNode): void {
  reply.array(4);
  reply.bulk(node.host);
  reply.integer(node.port);
  reply.bulk(node.id);
  if (node.hostname) {
    reply.map(1);
    reply.bulk('hostname');
    reply.bulk(node.hostname);
  } else reply.map(0);
}

function masters(topology: Topology): ClusterNode[] {
  return [...topology.nodes.values()].filter((n) => n.role === 'master');
}

/**
 * The replication offset of a node as far as this node knows it without gossip: its own, that of a replica
 * attached to it (its REPLCONF ACK, matched by address and listening port), that of its master (what was read
 * from it); null for any other node.
 */
function knownOffset(ctx: CommandContext, node: ClusterNode): number | null {
  const topology = clusterOf(ctx).topology;
  const replication = ctx.server.replication;
  if (node === topology.myself) return replication.offset;
  if (replication.master !== null && topology.replicates(node)) return replication.master.readOffset;
  if (node.masterId !== topology.myself.id) return null;
  const row = replicaRows(ctx.server, ctx.now).find((r) => r.port === node.port && r.ip === node.host);
  return row === undefined ? null : row.offset;
}

/** Redis's isReplicaAvailable: a replica known to have no data yet (offset 0) is left out of CLUSTER SLOTS. */
function available(ctx: CommandContext, replica: ClusterNode): boolean {
  return knownOffset(ctx, replica) !== 0;
}

export function clusterSlots(ctx: CommandContext): void {
  const topology = clusterOf(ctx).topology;
  const rows: [number, number, ClusterNode][] = [];
  for (const node of masters(topology)) for (const r of topology.rangesOf(node)) rows.push([r.start, r.end, node]);
  const reply = ctx.reply;
  reply.array(rows.length);
  for (const [start, end, node] of rows) {
    const replicas = topology.replicasOf(node).filter((r) => available(ctx, r));
    reply.array(3 + replicas.length);
    reply.integer(start);
    reply.integer(end);
    nodeEntry(reply, node);
    for (const r of replicas) nodeEntry(reply, r);
  }
}

/**
 * A node as CLUSTER SHARDS lists it: a map of these fields (strings as bulk strings, numbers as integers). A
 * replica known to be at offset 0 is `loading`, as in Redis; offsets this node cannot know are shown as 0.
 */
function shardNode(ctx: CommandContext, node: ClusterNode): void {
  const reply = ctx.reply;
  const offset = knownOffset(ctx, node);
  const fields: [string, string | number][] = [['id', node.id], ['port', node.port], ['ip', node.host], ['endpoint', node.host]];
  if (node.hostname) fields.push(['hostname', node.hostname]);
  const replica = node.role === 'slave';
  fields.push(['role', replica ? 'replica' : 'master'], ['replication-offset', offset ?? 0], ['health', replica && offset === 0 ? 'loading' : 'online']);
  reply.map(fields.length);
  for (const [name, value] of fields) {
    reply.bulk(name);
    if (typeof value === 'number') reply.integer(value);
    else reply.bulk(value);
  }
}

export function clusterShards(ctx: CommandContext): void {
  const topology = clusterOf(ctx).topology;
  const reply = ctx.reply;
  const shards = masters(topology);
  reply.array(shards.length);
  for (const master of shards) {
    const ranges = topology.rangesOf(master);
    reply.map(2);
    reply.bulk('slots');
    reply.array(ranges.length * 2);
    for (const r of ranges) {
      reply.integer(r.start);
      reply.integer(r.end);
    }
    reply.bulk('nodes');
    const nodes = [master, ...topology.replicasOf(master)];
    reply.array(nodes.length);
    for (const n of nodes) shardNode(ctx, n);
  }
}

export function clusterNodes(ctx: CommandContext): void {
  ctx.reply.verbatim(nodesText(clusterOf(ctx).topology, ctx.now));
}

export function clusterInfo(ctx: CommandContext): void {
  const topology = clusterOf(ctx).topology;
  const assigned = topology.assignedSlots;
  const fields: [string, string | number][] = [
    ['cluster_state', topology.ok ? 'ok' : 'fail'],
    ['cluster_slots_assigned', assigned],
    ['cluster_slots_ok', assigned],
    ['cluster_slots_pfail', 0],
    ['cluster_slots_fail', 0],
    ['cluster_known_nodes', topology.nodes.size],
    ['cluster_size', topology.size],
    ['cluster_current_epoch', topology.currentEpoch],
    ['cluster_my_epoch', topology.nodeEpoch(topology.myself)],
    ['cluster_stats_messages_sent', 0],
    ['cluster_stats_messages_received', 0],
    ['total_cluster_links_buffer_limit_exceeded', 0],
  ];
  ctx.reply.verbatim(fields.map(([k, v]) => `${k}:${v}\r\n`).join(''));
}

export function clusterKeyslot(ctx: CommandContext): void {
  ctx.reply.integer(keyHashSlot(ctx.args[2]));
}

/** A slot number for COUNTKEYSINSLOT / GETKEYSINSLOT: an integer (else Redis's integer error) in range. */
function slotInRange(slot: number): boolean {
  return slot >= 0 && slot < 16384;
}

export function clusterCountKeysInSlot(ctx: CommandContext): void {
  const slot = ctx.argv.int();
  if (!slotInRange(slot)) throw new CommandError(ClusterErr.slot);
  ctx.reply.integer(clusterOf(ctx).countKeysInSlot(ctx.server.databases[0], slot));
}

export function clusterGetKeysInSlot(ctx: CommandContext): void {
  const slot = ctx.argv.int();
  const max = ctx.argv.int();
  if (!slotInRange(slot) || max < 0) throw new CommandError(ClusterErr.slotOrCount);
  ctx.reply.bulkArray(clusterOf(ctx).keysInSlot(ctx.server.databases[0], slot, max).map((k) => Buffer.from(k, 'latin1')));
}

/** The node an ID names, or the error reply `unknown` gives. */
export function nodeNamed(ctx: CommandContext, id: Buffer, unknown: (id: string) => string = ClusterErr.unknownNode): ClusterNode {
  const text = id.toString('latin1');
  const node = clusterOf(ctx).topology.nodes.get(text);
  if (!node) throw new CommandError(unknown(text));
  return node;
}

export function clusterReplicas(ctx: CommandContext): void {
  const node = nodeNamed(ctx, ctx.args[2]);
  if (node.role !== 'master') throw new CommandError(ClusterErr.notAMaster);
  const topology = clusterOf(ctx).topology;
  const replicas = topology.replicasOf(node);
  ctx.reply.array(replicas.length);
  for (const r of replicas) ctx.reply.bulk(nodeLine(topology, r, ctx.now));
}

export function clusterCountFailureReports(ctx: CommandContext): void {
  nodeNamed(ctx, ctx.args[2]);
  ctx.reply.integer(0);
}
