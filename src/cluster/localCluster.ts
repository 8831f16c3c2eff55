// `spool-server --cluster-local N [--cluster-replicas R] [--port P] [--dir D] [options]`: one multi-core host as
// a cluster of N masters with R replicas each. Starts N*(R+1) server processes on ports P.. with data under
// D/node-<i>, from one generated topology file (D/cluster-local.conf: the slots split evenly over the masters and
// the replicas after them, as redis-cli --cluster create --cluster-replicas lays them out), copied to each
// node's directory as its cluster-config-file on first start. SIGTERM or SIGINT to this process stops every
// node; it exits once they all have (status 1 if any node failed or stopped on its own).

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CLUSTER_SLOTS } from './keySlot';
import { newNodeId } from './clusterState';
import { TopologyFile } from './topologyFile';

/** Takes `--<name> <value>` out of `argv` (case-insensitive name): the value, or null when absent. */
function takeOption(argv: string[], name: string): string | null {
  const at = argv.findIndex((a) => a.toLowerCase() === name);
  if (at < 0) return null;
  const value = argv[at + 1];
  argv.splice(at, 2);
  return value ?? '';
}

/**
 * The `--cluster-local N [--cluster-replicas R]` options, taken out of the arguments: N masters, R replicas
 * each (0 when not given), and the arguments left; null without --cluster-local.
 */
export function takeClusterLocal(argv: readonly string[]): { count: number; replicas: number; rest: string[] } | null {
  const rest = [...argv];
  const countText = takeOption(rest, '--cluster-local');
  const replicasText = takeOption(rest, '--cluster-replicas');
  if (countText === null) {
    if (replicasText !== null) throw new Error('--cluster-replicas is an option of --cluster-local');
    return null;
  }
  const count = Number(countText);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('--cluster-local takes a number of nodes (1 to 1000)');
  const replicas = replicasText === null ? 0 : Number(replicasText);
  if (replicasText === '' || !Number.isInteger(replicas) || replicas < 0 || count * (replicas + 1) > 1000)
    throw new Error('--cluster-replicas takes a number of replicas per master (0 or more, 1000 nodes in all at most)');
  return { count, replicas, rest };
}

/** Slot runs for `count` nodes, as redis-cli's clusterManagerCommandCreate assigns them to masters. */
export function evenSlotRanges(count: number): [number, number][] {
  const per = CLUSTER_SLOTS / count;
  const ranges: [number, number][] = [];
  let first = 0;
  let cursor = 0;
  for (let i = 0; i < count; i++) {
    let last = Math.round(cursor + per - 1);
    if (last > CLUSTER_SLOTS - 1 || i === count - 1) last = CLUSTER_SLOTS - 1;
    if (last < first) last = first;
    ranges.push([first, last]);
    first = last + 1;
    cursor += per;
  }
  return ranges;
}

/**
 * The topology of a local cluster, in the cluster-config-file format: `count` masters on ports port.., then
 * `replicas` replicas of each master in turn (master i's on the ports after the masters', consecutive), as
 * redis-cli --cluster create --cluster-replicas lays out nodes given in port order on one host.
 */
export function localTopology(host: string, port: number, count: number, replicas = 0): string {
  const ids = Array.from({ length: count }, () => newNodeId());
  const address = (i: number): string => `${host}:${port + i}@${port + i + 10000}`;
  const lines = evenSlotRanges(count).map(([first, last], i) => `${ids[i]} ${address(i)} master - 0 0 ${i + 1} connected ${first}-${last}`);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < replicas; j++) lines.push(`${newNodeId()} ${address(count + i * replicas + j)} slave ${ids[i]} 0 0 ${i + 1} connected`);
  }
  return `${lines.join('\n')}\nvars currentEpoch ${count} lastVoteEpoch 0\n`;
}

export interface LocalClusterOptions {
  /** Masters. */
  count: number;
  /** Replicas of each master. */
  replicas: number;
  port: number;
  dir: string;
  host: string;
  /** Arguments every node gets (the config file, other options); port, dir and cluster options are added. */
  args: string[];
  /** The node launcher: `node <script> args...`. */
  script: string;
  log: (line: string) => void;
}

/** Writes the topology (unless kept from an earlier run) and each node's copy, then runs the nodes. */
export async function runLocalCluster(options: LocalClusterOptions): Promise<number> {
  const { port, dir } = options;
  const count = options.count * (options.replicas + 1);
  await fsp.mkdir(dir, { recursive: true });
  const shared = path.join(dir, 'cluster-local.conf');
  let text = await TopologyFile.read(shared);
  if (text === null) {
    text = localTopology(options.host, port, options.count, options.replicas);
    await fsp.writeFile(shared, text);
  } else if (text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('vars')).length !== count) {
    throw new Error(`${shared} describes another number of nodes: remove it (and the node directories) to start ${count} nodes`);
  }
  const children: ChildProcess[] = [];
  for (let i = 0; i < count; i++) {
    const nodeDir = path.join(dir, `node-${i}`);
    await fsp.mkdir(nodeDir, { recursive: true });
    const nodeFile = path.join(nodeDir, 'nodes.conf');
    // A node's own file may hold changes made since (CLUSTER SETSLOT...): only a missing one is copied.
    if ((await TopologyFile.read(nodeFile)) === null) await fsp.writeFile(nodeFile, text);
    const args = [
      options.script,
      ...options.args,
      '--port', String(port + i),
      '--dir', nodeDir,
      '--cluster-enabled', 'yes',
      '--cluster-config-file', nodeFile,
      '--cluster-announce-ip', options.host,
    ];
    // Own process group (detached): a Ctrl-C at the terminal reaches the launcher only, which stops each node
    // once (a second signal would make a node exit at once, unclean). The IPC channel lets a node notice the
    // launcher's death, so no node outlives it (src/main.ts).
    children.push(spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true }));
  }
  const replicas = options.replicas > 0 ? ` (${options.count} masters, ${options.replicas} replica(s) each)` : '';
  options.log(`Spool local cluster: ${count} nodes${replicas} on ports ${port}..${port + count - 1}, data in ${dir}`);
  let stopping = false;
  let failed = false;
  const stopAll = (): void => {
    stopping = true;
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  const exits = children.map(
    (child, i) =>
      new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          if (code !== 0 || !stopping) {
            failed = true;
            options.log(`node ${i} (port ${port + i}) exited (${code ?? signal})${stopping ? '' : ': stopping the others'}`);
          }
          if (!stopping) stopAll();
          resolve();
        });
      }),
  );
  process.on('SIGTERM', stopAll);
  process.on('SIGINT', stopAll);
  await Promise.all(exits);
  return failed ? 1 : 0;
}
