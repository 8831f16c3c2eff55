// Cluster mode of one server: its topology, the file it is persisted to, and the per-slot views of the keyspace
// CLUSTER COUNTKEYSINSLOT / GETKEYSINSLOT / SETSLOT need. ServerState holds one while cluster-enabled is yes
// (null otherwise, which is all cluster mode costs a server without it).

import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { keySlotOf } from './keySlot';
import { parseTopology, topologyFileText } from './nodesFormat';
import { Topology, type ClusterNode } from './topology';
import { TopologyFile } from './topologyFile';

/** A database's keys, as far as slots are concerned. */
export interface KeySource {
  keys(): IterableIterator<string>;
}

export class ClusterState {
  constructor(
    readonly topology: Topology,
    readonly file: TopologyFile,
  ) {}

  /**
   * Keys a MIGRATE of this node is sending right now (its payloads are made, the target has not answered).
   * Redis runs MIGRATE while blocking every other client; Spool serves others meanwhile, so requests on these
   * keys get -TRYAGAIN until the MIGRATE settles (then the key is either gone, so -ASK, or still here).
   */
  readonly keysInFlight = new Set<string>();

  /** Told after every topology change (the server redirects clients blocked on slots it no longer serves). */
  onChange: (() => void) | null = null;

  /** Persists the topology after a change (asynchronously; see TopologyFile). */
  changed(): void {
    this.file.save();
    this.onChange?.();
  }

  /**
   * Keys of `slot`, at most `max`, newest first (Redis keeps each slot's keys in a list it adds to at the
   * head). A scan of the database: Spool keeps no per-slot index, so key creation (the first XADD of a stream)
   * costs nothing extra; these commands are for resharding tools, not hot paths.
   */
  keysInSlot(db: KeySource, slot: number, max = Infinity): string[] {
    const found: string[] = [];
    if (max <= 0) return found;
    for (const key of db.keys()) if (keySlotOf(key) === slot) found.push(key);
    return found.reverse().slice(0, max);
  }

  countKeysInSlot(db: KeySource, slot: number): number {
    let n = 0;
    for (const key of db.keys()) if (keySlotOf(key) === slot) n++;
    return n;
  }
}

/** A fresh node ID: 40 hex characters, as Redis's getRandomHexChars. */
export function newNodeId(): string {
  return randomBytes(20).toString('hex');
}

/** Addresses that name this machine: its interfaces, loopback names and its host name (bare or as a DNS prefix). */
function isThisHost(host: string): boolean {
  if (host === 'localhost' || host === '127.0.0.1' || host === '::1') return true;
  const name = os.hostname();
  if (host === name || host.startsWith(`${name}.`)) return true;
  for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) if (a.address === host) return true;
  return false;
}

export interface ClusterOptions {
  /** cluster-config-file, resolved against the data directory. */
  file: string;
  /** The port this server listens on. */
  port: number;
  /** cluster-announce-ip ('' when unset): the address this node is known by. */
  announceIp: string;
  /** Address a node that starts without a file gives itself when announceIp is unset. */
  defaultHost: string;
  onSaveError: (err: Error) => void;
}

/**
 * Loads the topology (or, without a file, starts as a lone node owning no slot, as Redis does, and saves that;
 * an existing file is left as it is until a CLUSTER command changes the topology).
 * This node is the line flagged `myself`, else the one listing this port at cluster-announce-ip or at an
 * address of this machine.
 */
export async function openCluster(options: ClusterOptions): Promise<ClusterState> {
  const text = await TopologyFile.read(options.file);
  const isMe = (node: ClusterNode): boolean =>
    node.port === options.port && (options.announceIp !== '' ? node.host === options.announceIp : isThisHost(node.host));
  let topology: Topology;
  if (text === null) {
    topology = new Topology({
      id: newNodeId(),
      host: options.announceIp || options.defaultHost,
      port: options.port,
      cport: options.port + 10000,
      hostname: '',
      role: 'master',
      masterId: null,
      configEpoch: 0,
    });
  } else {
    topology = parseTopology(text, path.basename(options.file), options.port, isMe);
  }
  const cluster = new ClusterState(topology, new TopologyFile(options.file, () => topologyFileText(topology), options.onSaveError));
  if (text === null) {
    cluster.changed();
    await cluster.file.settled();
  }
  return cluster;
}
