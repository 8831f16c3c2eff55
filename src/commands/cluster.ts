// CLUSTER and the cluster-mode connection commands ASKING, READONLY, READWRITE. Outside cluster mode every one
// of them answers Redis's "cluster support disabled" error, as a Redis started without cluster-enabled.

import { ClusterErr, CommandError } from '../errors';
import { command, type CommandContext, type CommandHandler, type CommandSpec } from './types';
import { writeHelp } from './streamGroups';
import {
  clusterCountFailureReports,
  clusterCountKeysInSlot,
  clusterGetKeysInSlot,
  clusterInfo,
  clusterKeyslot,
  clusterNodes,
  clusterReplicas,
  clusterShards,
  clusterSlots,
} from './clusterReplies';
import {
  clusterAddSlots,
  clusterAddSlotsRange,
  clusterBumpEpoch,
  clusterDelSlots,
  clusterDelSlotsRange,
  clusterFailover,
  clusterFlushSlots,
  clusterForget,
  clusterMeet,
  clusterReplicate,
  clusterReset,
  clusterSaveConfig,
  clusterSetConfigEpoch,
  clusterSetSlot,
} from './clusterConfig';

/** Redis 7.0.15's CLUSTER HELP. */
const CLUSTER_HELP = [
  'ADDSLOTS <slot> [<slot> ...]',
  '    Assign slots to current node.',
  'ADDSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Assign slots which are between <start-slot> and <end-slot> to current node.',
  'BUMPEPOCH',
  '    Advance the cluster config epoch.',
  'COUNT-FAILURE-REPORTS <node-id>',
  '    Return number of failure reports for <node-id>.',
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'DELSLOTS <slot> [<slot> ...]',
  '    Delete slots information from current node.',
  'DELSLOTSRANGE <start slot> <end slot> [<start slot> <end slot> ...]',
  '    Delete slots information which are between <start-slot> and <end-slot> from current node.',
  'FAILOVER [FORCE|TAKEOVER]',
  '    Promote current replica node to being a master.',
  'FORGET <node-id>',
  '    Remove a node from the cluster.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'FLUSHSLOTS',
  '    Delete current node own slots information.',
  'INFO',
  '    Return information about the cluster.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'MEET <ip> <port> [<bus-port>]',
  '    Connect nodes into a working cluster.',
  'MYID',
  '    Return the node id.',
  'NODES',
  '    Return cluster configuration seen by node. Output format:',
  '    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...',
  'REPLICATE <node-id>',
  '    Configure current node as replica to <node-id>.',
  'RESET [HARD|SOFT]',
  '    Reset current node (default: soft).',
  'SET-CONFIG-EPOCH <epoch>',
  '    Set config epoch of current node.',
  'SETSLOT <slot> (IMPORTING <node-id>|MIGRATING <node-id>|STABLE|NODE <node-id>)',
  '    Set slot state.',
  'REPLICAS <node-id>',
  '    Return <node-id> replicas.',
  'SAVECONFIG',
  '    Force saving cluster configuration on disk.',
  'SLOTS',
  '    Return information about slots range mappings. Each range is made of:',
  '    start, end, master and replicas IP addresses, ports and ids',
  'SHARDS',
  '    Return information about slot range mappings and the nodes associated with them.',
  'LINKS',
  '    Return information about all network links between this node and its peers.',
  '    Output format is an array where each array element is a map containing attributes of a link',
];

/** Runs `handler` only in cluster mode. */
function clusterOnly(handler: CommandHandler): CommandHandler {
  return (ctx) => {
    if (ctx.server.cluster === null) throw new CommandError(ClusterErr.disabled);
    handler(ctx);
  };
}


function sub(name: string, arity: number, handler: CommandHandler, summary: string, since: string, admin = false): CommandSpec {
  return command({
    name: `cluster|${name}`,
    arity,
    flags: admin ? ['admin', 'stale'] : ['stale'],
    aclCategories: admin ? ['@admin', '@slow', '@dangerous'] : ['@slow'],
    group: 'cluster',
    summary,
    since,
    handler: clusterOnly(handler),
  });
}

function clusterMyId(ctx: CommandContext): void {
  ctx.reply.bulk(ctx.server.cluster!.topology.myself.id);
}

function clusterLinks(ctx: CommandContext): void {
  ctx.reply.array(0); // no cluster bus: no links
}

function asking(ctx: CommandContext): void {
  ctx.client.asking = true;
  ctx.reply.ok();
}

function readonly(ctx: CommandContext): void {
  ctx.client.readonlyCluster = true;
  ctx.reply.ok();
}

function readwrite(ctx: CommandContext): void {
  ctx.client.readonlyCluster = false;
  ctx.reply.ok();
}

const CONNECTION = { group: 'cluster', flags: ['fast', 'loading', 'stale'], aclCategories: ['@fast', '@connection'] } as const;

export const clusterCommands: CommandSpec[] = [
  command({
    name: 'cluster',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'cluster',
    summary: 'A container for cluster commands',
    since: '3.0.0',
    subcommands: [
      sub('addslots', -3, clusterAddSlots, 'Assign new hash slots to receiving node', '3.0.0', true),
      sub('addslotsrange', -4, clusterAddSlotsRange, 'Assign new hash slots to receiving node', '7.0.0', true),
      sub('bumpepoch', 2, clusterBumpEpoch, 'Advance the cluster config epoch', '3.0.0', true),
      sub('count-failure-reports', 3, clusterCountFailureReports, 'Return the number of failure reports active for a given node', '3.0.0', true),
      sub('countkeysinslot', 3, clusterCountKeysInSlot, 'Return the number of local keys in the specified hash slot', '3.0.0'),
      sub('delslots', -3, clusterDelSlots, 'Set hash slots as unbound in receiving node', '3.0.0', true),
      sub('delslotsrange', -4, clusterDelSlotsRange, 'Set hash slots as unbound in receiving node', '7.0.0', true),
      sub('failover', -2, clusterFailover, 'Forces a replica to perform a manual failover of its master.', '3.0.0', true),
      sub('flushslots', 2, clusterFlushSlots, "Delete a node's own slots information", '3.0.0', true),
      sub('forget', 3, clusterForget, 'Remove a node from the nodes table', '3.0.0', true),
      sub('getkeysinslot', 4, clusterGetKeysInSlot, 'Return local key names in the specified hash slot', '3.0.0'),
      sub('help', 2, (ctx) => writeHelp(ctx.reply, 'CLUSTER', CLUSTER_HELP), 'Show helpful text about the different subcommands', '5.0.0'),
      sub('info', 2, clusterInfo, 'Provides info about Redis Cluster node state', '3.0.0'),
      sub('keyslot', 3, clusterKeyslot, 'Returns the hash slot of the specified key', '3.0.0'),
      sub('links', 2, clusterLinks, 'Returns a list of all TCP links to and from peer nodes in cluster', '7.0.0'),
      sub('meet', -4, clusterMeet, 'Force a node cluster to handshake with another node', '3.0.0', true),
      sub('myid', 2, clusterMyId, 'Return the node id', '3.0.0'),
      sub('nodes', 2, clusterNodes, 'Get Cluster config for the node', '3.0.0'),
      sub('replicate', 3, clusterReplicate, 'Reconfigure a node as a replica of the specified master node', '3.0.0', true),
      sub('replicas', 3, clusterReplicas, 'List replica nodes of the specified master node', '5.0.0', true),
      sub('reset', -2, clusterReset, 'Reset a Redis Cluster node', '3.0.0', true),
      sub('saveconfig', 2, clusterSaveConfig, 'Forces the node to save cluster state on disk', '3.0.0', true),
      sub('set-config-epoch', 3, clusterSetConfigEpoch, 'Set the configuration epoch in a new node', '3.0.0', true),
      sub('setslot', -4, clusterSetSlot, 'Bind a hash slot to a specific node', '3.0.0', true),
      sub('shards', 2, clusterShards, 'Get array of cluster slots to node mappings', '7.0.0'),
      sub('slaves', 3, clusterReplicas, 'List replica nodes of the specified master node', '3.0.0', true),
      sub('slots', 2, clusterSlots, 'Get array of Cluster slot to node mappings', '3.0.0'),
    ],
  }),
  command({ name: 'asking', arity: 1, ...CONNECTION, summary: 'Sent by cluster clients after an -ASK redirect', since: '3.0.0', complexity: 'O(1)', handler: clusterOnly(asking) }),
  command({ name: 'readonly', arity: 1, ...CONNECTION, summary: 'Enables read queries for a connection to a cluster replica node', since: '3.0.0', complexity: 'O(1)', handler: clusterOnly(readonly) }),
  command({ name: 'readwrite', arity: 1, ...CONNECTION, summary: 'Disables read queries for a connection to a cluster replica node', since: '3.0.0', complexity: 'O(1)', handler: clusterOnly(readwrite) }),
];
