// Cluster test fixtures: real redis-server cluster nodes (cluster-enabled, joined by CLUSTER MEET, slots
// assigned, replicas attached with CLUSTER REPLICATE, waited for until they agree, bounded) and in-process Spool
// nodes sharing one declared topology (replicas included).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../helpers/ports';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection, escapeBytes, nodeText, serialize, type Arg, type RespNode } from '../helpers/resp';

export async function call(port: number, args: Arg[]): Promise<RespNode> {
  const conn = await RespConnection.connect(port);
  try {
    return await conn.call(args, 5000);
  } finally {
    conn.close();
  }
}

export async function text(port: number, args: Arg[]): Promise<string> {
  return nodeText(await call(port, args)) ?? '';
}

/**
 * The top-level entries of a topology reply (CLUSTER SLOTS / SHARDS: each element escaped; NODES: each line), in
 * `protocol`, to be neutralised and sorted by the caller (Redis lists nodes in its dictionary's order).
 */
export async function topologyEntries(port: number, args: string[], protocol: 2 | 3): Promise<string[]> {
  const conn = await RespConnection.connect(port);
  try {
    if (protocol === 3) await conn.call(['HELLO', '3']);
    const reply = await conn.call(args);
    if (args[1] === 'NODES') return reply.bytes.toString('latin1').match(/[0-9a-f]{40} [^\n]*/g) ?? [];
    return (reply.children ?? []).map((c) => escapeBytes(serialize(c)));
  } finally {
    conn.close();
  }
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RedisNode {
  redis: RunningRedis;
  port: number;
  id: string;
}

/**
 * Redis cluster nodes, node i owning `ranges[i]`, every node knowing every other and cluster_state ok. With
 * `replicas` R, R more nodes per master follow the masters (master i's at ranges.length + i*R + j, the layout of
 * --cluster-replicas), each made a replica with CLUSTER REPLICATE, and every node sees them all as replicas.
 */
export async function startRedisCluster(ranges: [number, number][], replicas = 0): Promise<RedisNode[]> {
  const nodes: RedisNode[] = [];
  const masters = ranges.length;
  try {
    for (let i = 0; i < masters * (replicas + 1); i++) {
      const redis = await startRedis(['--cluster-enabled', 'yes', '--cluster-announce-ip', '127.0.0.1', '--cluster-port', String(await freePort())]);
      nodes.push({ redis, port: redis.port, id: await text(redis.port, ['CLUSTER', 'MYID']) });
    }
    for (const n of nodes.slice(1)) {
      const cport = /@(\d+)/.exec(await text(n.port, ['CLUSTER', 'NODES']))![1];
      await call(nodes[0].port, ['CLUSTER', 'MEET', '127.0.0.1', String(n.port), cport]);
    }
    const known = async (n: RedisNode) => {
      const lines = (await text(n.port, ['CLUSTER', 'NODES'])).trim().split('\n');
      return lines.length === nodes.length && lines.every((l) => !/handshake|noaddr|fail/.test(l) && / connected/.test(l));
    };
    await waitFor('redis nodes to meet', async () => (await Promise.all(nodes.map(known))).every(Boolean));
    for (let i = 0; i < masters; i++) await call(nodes[i].port, ['CLUSTER', 'ADDSLOTSRANGE', String(ranges[i][0]), String(ranges[i][1])]);
    const masterOf = (i: number): RedisNode | null => (i < masters ? null : nodes[Math.floor((i - masters) / replicas)]);
    for (let i = masters; i < nodes.length; i++) await call(nodes[i].port, ['CLUSTER', 'REPLICATE', masterOf(i)!.id]);
    const ok = async (n: RedisNode) => {
      const info = await text(n.port, ['CLUSTER', 'INFO']);
      const lines = (await text(n.port, ['CLUSTER', 'NODES'])).trim().split('\n');
      return (
        info.includes('cluster_state:ok') &&
        nodes.every((m, i) => {
          const line = lines.find((l) => l.startsWith(m.id)) ?? '';
          const master = masterOf(i);
          return master === null ? /master - .* connected \d/.test(line) : line.includes(`slave ${master.id} `);
        })
      );
    };
    await waitFor('redis cluster state ok', async () => (await Promise.all(nodes.map(ok))).every(Boolean));
    return nodes;
  } catch (err) {
    for (const n of nodes) await n.redis.stop();
    throw err;
  }
}

export interface SpoolNode {
  spool: SpoolHandle;
  port: number;
  id: string;
}

export interface SpoolCluster {
  nodes: SpoolNode[];
  /** The topology file every node was started with. */
  file: string;
  stop(): Promise<void>;
}

/**
 * In-process Spool nodes with one topology file, node i owning `ranges[i]` (config epoch i + 1); with `replicas`
 * R, R replicas per master after them, laid out as startRedisCluster lays them out.
 */
export async function startSpoolCluster(ranges: [number, number][], extra: Record<string, string> = {}, replicas = 0): Promise<SpoolCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-cluster-'));
  const masters = ranges.length;
  const count = masters * (replicas + 1);
  const ports: number[] = [];
  for (let i = 0; i < count; i++) ports.push(await freePort());
  const ids = ports.map(() => randomBytes(20).toString('hex'));
  const lines = ranges.map(([a, b], i) => `${ids[i]} 127.0.0.1:${ports[i]}@${40000 + i} master - 0 0 ${i + 1} connected ${a}-${b}`);
  for (let i = masters; i < count; i++) {
    const m = Math.floor((i - masters) / replicas);
    lines.push(`${ids[i]} 127.0.0.1:${ports[i]}@${40000 + i} slave ${ids[m]} 0 0 ${m + 1} connected`);
  }
  const file = path.join(dir, 'nodes.conf');
  await writeFile(file, `${lines.join('\n')}\nvars currentEpoch ${masters} lastVoteEpoch 0\n`);
  const nodes: SpoolNode[] = [];
  const stop = async () => {
    for (const n of nodes) await n.spool.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) {
      // Each node its own copy, as in production (a node rewrites its file after CLUSTER commands).
      const own = path.join(dir, `node-${i}.conf`);
      await writeFile(own, `${lines.join('\n')}\n`);
      const spool = await startSpool({ port: String(ports[i]), 'cluster-enabled': 'yes', 'cluster-config-file': own, ...extra });
      nodes.push({ spool, port: ports[i], id: ids[i] });
    }
  } catch (err) {
    await stop();
    throw err;
  }
  return { nodes, file, stop };
}
