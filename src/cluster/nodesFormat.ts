// The cluster-config-file format, which is Redis's nodes.conf line format (also what CLUSTER NODES prints): one
// line per node `<id> <host:port@cport[,hostname]> <flags> <master|-> <ping-sent> <pong-recv> <config-epoch>
// <link-state> <slot|start-end> ...`, open slots of the node itself as `[slot->-id]` (migrating) and
// `[slot-<-id]` (importing), and a last line `vars currentEpoch N lastVoteEpoch M`. One reader and one writer,
// so the file a person writes, the file a node saves and CLUSTER NODES agree.

import { CLUSTER_SLOTS } from './keySlot';
import { Topology, type ClusterNode } from './topology';

export class TopologyError extends Error {}

interface ParsedLine {
  node: ClusterNode;
  myself: boolean;
  slots: number[];
  migrating: [number, string][];
  importing: [number, string][];
}

function parseSlot(text: string, where: string): number {
  if (!/^[0-9]+$/.test(text) || Number(text) >= CLUSTER_SLOTS) throw new TopologyError(`${where}: bad slot '${text}'`);
  return Number(text);
}

function parseAddress(text: string, where: string): Pick<ClusterNode, 'host' | 'port' | 'cport' | 'hostname'> {
  const comma = text.indexOf(',');
  const hostname = comma < 0 ? '' : text.slice(comma + 1);
  const address = comma < 0 ? text : text.slice(0, comma);
  const at = address.indexOf('@');
  const hostPort = at < 0 ? address : address.slice(0, at);
  const colon = hostPort.lastIndexOf(':');
  const port = Number(hostPort.slice(colon + 1));
  const cport = at < 0 ? port + 10000 : Number(address.slice(at + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535 || !Number.isInteger(cport) || cport < 0 || cport > 65535)
    throw new TopologyError(`${where}: bad address '${text}' (expected host:port@cport)`);
  return { host: hostPort.slice(0, colon), port, cport, hostname };
}

function parseLine(fields: string[], where: string): ParsedLine {
  if (fields.length < 8) throw new TopologyError(`${where}: a node line has at least 8 fields`);
  const [id, address, flagText, master, , , epochText] = fields;
  const flags = flagText.split(',');
  const role = flags.includes('slave') ? 'slave' : 'master';
  if (!/^[0-9]+$/.test(epochText)) throw new TopologyError(`${where}: bad config epoch '${epochText}'`);
  const node: ClusterNode = {
    id,
    ...parseAddress(address, where),
    role,
    masterId: master === '-' ? null : master,
    configEpoch: Number(epochText),
  };
  if (role === 'slave' && node.masterId === null) throw new TopologyError(`${where}: a replica names its master`);
  const parsed: ParsedLine = { node, myself: flags.includes('myself'), slots: [], migrating: [], importing: [] };
  for (const field of fields.slice(8)) {
    const open = /^\[([0-9]+)-([<>])-(.+)\]$/.exec(field);
    if (open) {
      (open[2] === '>' ? parsed.migrating : parsed.importing).push([parseSlot(open[1], where), open[3]]);
      continue;
    }
    const dash = field.indexOf('-');
    const start = parseSlot(dash < 0 ? field : field.slice(0, dash), where);
    const end = dash < 0 ? start : parseSlot(field.slice(dash + 1), where);
    if (start > end) throw new TopologyError(`${where}: slot range '${field}' runs backwards`);
    for (let slot = start; slot <= end; slot++) parsed.slots.push(slot);
  }
  return parsed;
}

/**
 * Reads a topology. The node this process is comes from the `myself` flag on the line of its `port` (a file
 * this node saved), else from `isMe` (the same file on every node: matched by address).
 */
export function parseTopology(text: string, file: string, port: number, isMe: (node: ClusterNode) => boolean): Topology {
  const lines: ParsedLine[] = [];
  let currentEpoch = 0;
  let lastVoteEpoch = 0;
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(/\s+/);
    const where = `${file}:${i + 1}`;
    if (fields[0] === 'vars') {
      for (let j = 1; j + 1 < fields.length; j += 2) {
        if (fields[j] === 'currentEpoch') currentEpoch = Number(fields[j + 1]) || 0;
        if (fields[j] === 'lastVoteEpoch') lastVoteEpoch = Number(fields[j + 1]) || 0;
      }
      return;
    }
    const parsed = parseLine(fields, where);
    if (lines.some((l) => l.node.id === parsed.node.id)) throw new TopologyError(`${where}: node ${parsed.node.id} is listed twice`);
    lines.push(parsed);
  });
  // A `myself` flag counts only on the line of this server's port: a file saved by another node and copied
  // here (or shared by mistake) must not make this server take that node's identity.
  const flagged = lines.filter((l) => l.myself && l.node.port === port);
  const mine = flagged.length === 1 ? flagged : lines.filter((l) => isMe(l.node));
  if (mine.length !== 1) {
    throw new TopologyError(
      mine.length === 0
        ? `${file}: no node of the topology is this server (set cluster-announce-ip, or list this host and port)`
        : `${file}: several nodes of the topology match this server (${mine.map((l) => l.node.id).join(', ')}): set cluster-announce-ip`,
    );
  }
  const topology = new Topology(mine[0].node);
  topology.currentEpoch = currentEpoch;
  for (const l of lines) topology.currentEpoch = Math.max(topology.currentEpoch, l.node.configEpoch);
  topology.lastVoteEpoch = lastVoteEpoch;
  for (const l of lines) topology.addNode(l.node);
  for (const l of lines) {
    for (const slot of l.slots) {
      const other = topology.owner[slot];
      if (other !== null) throw new TopologyError(`${file}: slot ${slot} is given to both ${other.id} and ${l.node.id}`);
      topology.assign(slot, l.node);
    }
  }
  const lookup = (id: string): ClusterNode => {
    const n = topology.nodes.get(id);
    if (!n) throw new TopologyError(`${file}: open slot names unknown node ${id}`);
    return n;
  };
  const me = topology.myself;
  if (me.role === 'slave') {
    // A replica replicates its master from the address listed for it: the master must be there.
    const master = topology.masterOf(me);
    if (master === null) throw new TopologyError(`${file}: this node replicates ${me.masterId}, which is not listed`);
    if (master.role !== 'master') throw new TopologyError(`${file}: this node replicates ${master.id}, which is not a master`);
  }
  for (const [slot, id] of mine[0].migrating) topology.migrating.set(slot, lookup(id));
  for (const [slot, id] of mine[0].importing) topology.importing.set(slot, lookup(id));
  return topology;
}

/** One node's line as CLUSTER NODES shows it (no newline). `pongMs`: the pong-recv time shown for other nodes. */
export function nodeLine(topology: Topology, node: ClusterNode, pongMs: number): string {
  const me = node === topology.myself;
  const address = `${node.host}:${node.port}@${node.cport}${node.hostname ? `,${node.hostname}` : ''}`;
  const flags = `${me ? 'myself,' : ''}${node.role}`;
  let line = `${node.id} ${address} ${flags} ${node.masterId ?? '-'} 0 ${me ? 0 : pongMs} ${topology.nodeEpoch(node)} connected`;
  for (const { start, end } of topology.rangesOf(node)) line += start === end ? ` ${start}` : ` ${start}-${end}`;
  if (me) {
    const open = [...new Set([...topology.migrating.keys(), ...topology.importing.keys()])].sort((a, b) => a - b);
    for (const slot of open) {
      const to = topology.migrating.get(slot);
      line += to ? ` [${slot}->-${to.id}]` : ` [${slot}-<-${topology.importing.get(slot)!.id}]`;
    }
  }
  return line;
}

/** CLUSTER NODES: every node's line, each ended by a newline. */
export function nodesText(topology: Topology, pongMs: number): string {
  let text = '';
  for (const node of topology.nodes.values()) text += `${nodeLine(topology, node, pongMs)}\n`;
  return text;
}

/** The file this node saves: its CLUSTER NODES lines (itself flagged `myself`) and the epochs. */
export function topologyFileText(topology: Topology): string {
  return `${nodesText(topology, 0)}vars currentEpoch ${topology.currentEpoch} lastVoteEpoch ${topology.lastVoteEpoch}\n`;
}
