// `spool-server --cluster-local N [--port P] [--dir D] [options]`: one multi-core host as an N-node cluster.
// Starts N server processes on ports P..P+N-1 with data under D/node-<i>, from one generated topology file
// (D/cluster-local.conf: the slots split evenly, as redis-cli --cluster create splits them), copied to each
// node's directory as its cluster-config-file on first start. SIGTERM or SIGINT to this process stops every
// node; it exits once they all have (status 1 if any node failed or stopped on its own).

import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { CLUSTER_SLOTS } from './keySlot';
import { newNodeId } from './clusterState';
import { TopologyFile } from './topologyFile';

/** The `--cluster-local N` option, taken out of the arguments: N, and the arguments left. */
export function takeClusterLocal(argv: readonly string[]): { count: number; rest: string[] } | null {
  const at = argv.findIndex((a) => a.toLowerCase() === '--cluster-local');
  if (at < 0) return null;
  const count = Number(argv[at + 1]);
  if (!Number.isInteger(count) || count < 1 || count > 1000) throw new Error('--cluster-local takes a number of nodes (1 to 1000)');
  return { count, rest: [...argv.slice(0, at), ...argv.slice(at + 2)] };
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

/** The topology of a local cluster, in the cluster-config-file format. */
export function localTopology(host: string, port: number, count: number): string {
  const lines = evenSlotRanges(count).map(
    ([first, last], i) => `${newNodeId()} ${host}:${port + i}@${port + i + 10000} master - 0 0 ${i + 1} connected ${first}-${last}`,
  );
  return `${lines.join('\n')}\nvars currentEpoch ${count} lastVoteEpoch 0\n`;
}

export interface LocalClusterOptions {
  count: number;
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
  const { count, port, dir } = options;
  await fsp.mkdir(dir, { recursive: true });
  const shared = path.join(dir, 'cluster-local.conf');
  let text = await TopologyFile.read(shared);
  if (text === null) {
    text = localTopology(options.host, port, count);
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
  options.log(`Spool local cluster: ${count} nodes on ports ${port}..${port + count - 1}, data in ${dir}`);
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
