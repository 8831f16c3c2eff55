// The CLUSTER subcommands that change this node's topology (ADDSLOTS, DELSLOTS and their RANGE forms, FLUSHSLOTS,
// SETSLOT, FORGET, RESET, BUMPEPOCH, SET-CONFIG-EPOCH, REPLICATE) and persist it, plus MEET, SAVECONFIG and
// FAILOVER, with Redis 7.0.15's checks in Redis's order. Each change is this node's own: nothing is gossiped, so
// tools such as redis-cli --cluster send them to every node, as they do with Redis (a master passes its slot
// owners on to its replicas: src/server/clusterReplica.ts).

import { ClusterErr, CommandError, Err, errnoText } from '../errors';
import { isIP } from 'node:net';
import { CLUSTER_SLOTS } from '../cluster/keySlot';
import { newNodeId } from '../cluster/clusterState';
import { toInteger, keywordEquals } from './args';
import { clusterOf, nodeNamed } from './clusterReplies';
import { followClusterMaster, leaveClusterMaster } from '../server/clusterReplica';
import type { CommandContext } from './types';

/** Redis's getSlotOrReply. */
function slotArg(arg: Buffer): number {
  const slot = toInteger(arg, ClusterErr.slotRange);
  if (slot < 0 || slot >= CLUSTER_SLOTS) throw new CommandError(ClusterErr.slotRange);
  return slot;
}

/**
 * checkSlotAssignmentsOrReply over slot runs: every slot must be unassigned (ADD) or assigned (DEL), and named
 * once. Checked in full before anything changes.
 */
function checkedSlots(ctx: CommandContext, runs: [number, number][], del: boolean, seen = new Uint8Array(CLUSTER_SLOTS)): number[] {
  const owner = clusterOf(ctx).topology.owner;
  const slots: number[] = [];
  for (const [start, end] of runs) {
    for (let slot = start; slot <= end; slot++) {
      if (del && owner[slot] === null) throw new CommandError(ClusterErr.slotUnassigned(slot));
      if (!del && owner[slot] !== null) throw new CommandError(ClusterErr.slotBusy(slot));
      if (seen[slot]++ === 1) throw new CommandError(ClusterErr.slotTwice(slot));
      slots.push(slot);
    }
  }
  return slots;
}

/** clusterUpdateSlots: a slot given or taken is no longer being imported. */
function updateSlots(ctx: CommandContext, slots: number[], del: boolean): void {
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  for (const slot of slots) {
    topology.importing.delete(slot);
    if (del) topology.unassign(slot);
    else topology.assign(slot, topology.myself);
  }
  cluster.changed();
  ctx.reply.ok();
}

function slotsCommand(del: boolean) {
  return (ctx: CommandContext): void => {
    const args = ctx.args.slice(2);
    const slots = args.map(slotArg); // all parsed before any is checked, as Redis
    updateSlots(ctx, checkedSlots(ctx, slots.map((s) => [s, s]), del), del);
  };
}

function slotsRangeCommand(del: boolean) {
  return (ctx: CommandContext): void => {
    if (ctx.args.length % 2 === 1) throw new CommandError(Err.wrongArity(`cluster|${del ? 'delslotsrange' : 'addslotsrange'}`));
    const seen = new Uint8Array(CLUSTER_SLOTS);
    const all: number[] = [];
    for (let i = 2; i < ctx.args.length; i += 2) {
      const start = slotArg(ctx.args[i]);
      const end = slotArg(ctx.args[i + 1]);
      if (start > end) throw new CommandError(ClusterErr.rangeBackwards(start, end));
      // Checked run by run (each parsed just before), as Redis's loop does.
      for (const slot of checkedSlots(ctx, [[start, end]], del, seen)) all.push(slot);
    }
    updateSlots(ctx, all, del);
  };
}

export const clusterAddSlots = slotsCommand(false);
export const clusterDelSlots = slotsCommand(true);
export const clusterAddSlotsRange = slotsRangeCommand(false);
export const clusterDelSlotsRange = slotsRangeCommand(true);

export function clusterFlushSlots(ctx: CommandContext): void {
  if (ctx.server.databases[0].size !== 0) throw new CommandError(ClusterErr.flushslotsNotEmpty);
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) if (topology.owner[slot] === topology.myself) topology.unassign(slot);
  cluster.changed();
  ctx.reply.ok();
}

/** Redis's clusterBumpConfigEpochWithoutConsensus: true when this node took a new, highest epoch. */
function bumpEpoch(ctx: CommandContext): boolean {
  const topology = clusterOf(ctx).topology;
  const me = topology.myself;
  if (me.configEpoch !== 0 && me.configEpoch === topology.maxEpoch) return false;
  topology.currentEpoch++;
  me.configEpoch = topology.currentEpoch;
  return true;
}

export function clusterSetSlot(ctx: CommandContext): void {
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  const argc = ctx.args.length;
  // A replica takes slot owners from its master's stream only (src/server/clusterReplica.ts).
  if (topology.myself.role === 'slave' && ctx.client.replicationRole !== 'master') throw new CommandError(ClusterErr.setslotOnReplica);
  const slot = slotArg(ctx.args[2]);
  const action = ctx.args[3];
  if (keywordEquals(action, 'MIGRATING') && argc === 5) {
    if (topology.owner[slot] !== topology.myself) throw new CommandError(ClusterErr.notOwner(slot));
    const node = nodeNamed(ctx, ctx.args[4], ClusterErr.dontKnowNode);
    if (node.role !== 'master') throw new CommandError(ClusterErr.targetNotMaster);
    topology.migrating.set(slot, node);
  } else if (keywordEquals(action, 'IMPORTING') && argc === 5) {
    if (topology.owner[slot] === topology.myself) throw new CommandError(ClusterErr.alreadyOwner(slot));
    const node = nodeNamed(ctx, ctx.args[4], ClusterErr.dontKnowNode);
    if (node.role !== 'master') throw new CommandError(ClusterErr.targetNotMaster);
    topology.importing.set(slot, node);
  } else if (keywordEquals(action, 'STABLE') && argc === 4) {
    topology.importing.delete(slot);
    topology.migrating.delete(slot);
  } else if (keywordEquals(action, 'NODE') && argc === 5) {
    const node = nodeNamed(ctx, ctx.args[4]);
    if (node.role !== 'master') throw new CommandError(ClusterErr.targetNotMaster);
    const keys = cluster.countKeysInSlot(ctx.server.databases[0], slot);
    if (topology.owner[slot] === topology.myself && node !== topology.myself && keys !== 0)
      throw new CommandError(ClusterErr.stillHoldsKeys(slot));
    if (keys === 0) topology.migrating.delete(slot);
    topology.assign(slot, node);
    if (node === topology.myself && topology.importing.has(slot)) {
      bumpEpoch(ctx);
      topology.importing.delete(slot);
    }
  } else {
    throw new CommandError(ClusterErr.setslotSyntax);
  }
  cluster.changed();
  ctx.reply.ok();
}

/** MEET: checked as Redis's clusterStartHandshake, then accepted; the topology is declared, not learnt. */
export function clusterMeet(ctx: CommandContext): void {
  const argc = ctx.args.length;
  if (argc > 5) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'cluster'));
  const [ip, portArg] = [ctx.args[2].toString('latin1'), ctx.args[3].toString('latin1')];
  const port = toInteger(ctx.args[3], ClusterErr.badPort(portArg));
  const cport = argc === 5 ? toInteger(ctx.args[4], ClusterErr.badBusPort(ctx.args[4].toString('latin1'))) : port + 10000;
  const inRange = (p: number) => p > 0 && p <= 65535;
  if (isIP(ip) === 0 || !inRange(port) || !inRange(cport)) throw new CommandError(ClusterErr.badAddress(ip, portArg));
  ctx.reply.ok();
}

export function clusterForget(ctx: CommandContext): void {
  const cluster = clusterOf(ctx);
  const node = nodeNamed(ctx, ctx.args[2]);
  if (node === cluster.topology.myself) throw new CommandError(ClusterErr.forgetMyself);
  if (cluster.topology.replicates(node)) throw new CommandError(ClusterErr.forgetMyMaster);
  cluster.topology.removeNode(node);
  cluster.changed();
  ctx.reply.ok();
}

export function clusterReset(ctx: CommandContext): void {
  const argc = ctx.args.length;
  if (argc > 3) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'cluster'));
  let hard = false;
  if (argc === 3) {
    if (keywordEquals(ctx.args[2], 'HARD')) hard = true;
    else if (!keywordEquals(ctx.args[2], 'SOFT')) throw new CommandError(Err.syntax);
  }
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  const replica = topology.myself.role === 'slave';
  if (!replica && ctx.db.size !== 0) throw new CommandError(ClusterErr.resetWithKeys);
  // A replica becomes a master again (it stops replicating) and is emptied below, as Redis's clusterReset.
  if (replica) leaveClusterMaster(ctx.server);
  topology.reset();
  if (hard) {
    topology.currentEpoch = 0;
    topology.lastVoteEpoch = 0;
    topology.myself.configEpoch = 0;
    topology.renameMyself(newNodeId());
  }
  cluster.changed();
  // The emptying runs as a FLUSHALL through the command path, so it is journaled (it survives a restart) like
  // any write; its +OK is this command's reply.
  if (replica) ctx.callQueued([Buffer.from('FLUSHALL')]);
  else ctx.reply.ok();
}

/**
 * SAVECONFIG: writes the file and answers once it is renamed into place (or with the write's error), the client
 * waiting meanwhile as for CONFIG REWRITE. Inside EXEC, where a client cannot wait, it answers once scheduled.
 */
export function clusterSaveConfig(ctx: CommandContext): void {
  const cluster = clusterOf(ctx);
  cluster.changed();
  if (ctx.inTransaction) {
    ctx.reply.ok();
    return;
  }
  ctx.block({ keys: [], timeoutMs: 0, tryServe: () => false, onTimeout: () => undefined });
  const blocked = ctx.client.blocked!;
  void cluster.file.settled().then(() => {
    const failed = cluster.file.lastError as NodeJS.ErrnoException | null;
    const reason = failed === null ? '' : failed.code ? errnoText(failed.code) : failed.message;
    ctx.server.blocking.resolve(blocked, (r) => (failed === null ? r.ok() : r.error(ClusterErr.saveConfig(reason))));
  });
}

export function clusterBumpEpoch(ctx: CommandContext): void {
  const bumped = bumpEpoch(ctx);
  if (bumped) clusterOf(ctx).changed();
  ctx.reply.bulk(`${bumped ? 'BUMPED' : 'STILL'} ${clusterOf(ctx).topology.myself.configEpoch}`);
}

export function clusterSetConfigEpoch(ctx: CommandContext): void {
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  const epoch = toInteger(ctx.args[2]);
  if (epoch < 0) throw new CommandError(ClusterErr.badEpoch(String(epoch)));
  if (topology.nodes.size > 1) throw new CommandError(ClusterErr.epochWithOthers);
  if (topology.myself.configEpoch !== 0) throw new CommandError(ClusterErr.epochNonZero);
  topology.myself.configEpoch = epoch;
  if (topology.currentEpoch < epoch) topology.currentEpoch = epoch;
  cluster.changed();
  ctx.reply.ok();
}

/** CLUSTER REPLICATE <node-id>: this node becomes a replica of that master, as Redis's clusterSetMaster. */
export function clusterReplicate(ctx: CommandContext): void {
  const cluster = clusterOf(ctx);
  const topology = cluster.topology;
  const master = nodeNamed(ctx, ctx.args[2]);
  if (master === topology.myself) throw new CommandError(ClusterErr.replicateMyself);
  if (master.role !== 'master') throw new CommandError(ClusterErr.replicateReplica);
  // A master must be empty and own no slot; a replica may switch masters.
  if (topology.myself.role === 'master' && (topology.rangesOf(topology.myself).length > 0 || ctx.server.databases[0].size !== 0))
    throw new CommandError(ClusterErr.replicateNotEmpty);
  topology.setMaster(master);
  cluster.changed();
  followClusterMaster(ctx.server);
  ctx.reply.ok();
}

/** FAILOVER: a replica cannot take over without a cluster bus to agree on it; after the option check it is refused as on a Redis master. */
export function clusterFailover(ctx: CommandContext): void {
  const argc = ctx.args.length;
  if (argc > 3) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'cluster'));
  if (argc === 3 && !keywordEquals(ctx.args[2], 'FORCE') && !keywordEquals(ctx.args[2], 'TAKEOVER')) throw new CommandError(Err.syntax);
  throw new CommandError(ClusterErr.failoverOnMaster);
}
