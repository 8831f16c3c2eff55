// CLUSTER REPLICATE: an empty master without slots becomes a replica of another node, as in Redis: its topology
// changes and is written to its cluster-config-file, replication starts (INFO replication), the master's
// streams arrive, it serves READONLY reads of its master's slots, and after a restart it replicates again from
// its file alone. Also a master's REPLICATE refusals, and CLUSTER RESET turning a replica into an empty master.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection, nodeText } from '../helpers/resp';
import { until, infoField } from '../helpers/replication';
import { text } from './clusterHarness';

const A = 'a'.repeat(40);
const C = 'c'.repeat(40);

let dir = '';
const running: SpoolHandle[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'spool-replicate-'));
});
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop();
  await rm(dir, { recursive: true, force: true });
});

async function node(port: number, file: string): Promise<SpoolHandle> {
  const spool = await startSpool({ port: String(port), 'cluster-enabled': 'yes', 'cluster-config-file': file });
  running.push(spool);
  return spool;
}

/** A owns every slot, C is a master without slots: each node its own copy of the topology. */
async function twoNodes(): Promise<{ portA: number; portC: number; fileC: string }> {
  const [portA, portC] = [await freePort(), await freePort()];
  const lines = `${A} 127.0.0.1:${portA}@1 master - 0 0 1 connected 0-16383\n${C} 127.0.0.1:${portC}@2 master - 0 0 0 connected\n`;
  const fileA = path.join(dir, 'a.conf');
  const fileC = path.join(dir, 'c.conf');
  await writeFile(fileA, lines);
  await writeFile(fileC, lines);
  await node(portA, fileA);
  await node(portC, fileC);
  return { portA, portC, fileC };
}

async function readonlyXlen(port: number, key: string): Promise<string> {
  const conn = await RespConnection.connect(port);
  try {
    await conn.call(['READONLY']);
    return nodeText(await conn.call(['XLEN', key])) ?? '';
  } finally {
    conn.close();
  }
}

test('CLUSTER REPLICATE: the topology changes and is saved, replication starts, READONLY reads are served; a restart keeps it', async () => {
  const { portA, portC, fileC } = await twoNodes();
  expect(await text(portA, ['XADD', 'bar', '1-1', 'f', 'v'])).toBe('1-1');
  expect(await text(portC, ['CLUSTER', 'REPLICATE', A])).toBe('OK');
  await until('C saved its new role', async () => (await readFile(fileC, 'utf8')).includes(`${C} 127.0.0.1:${portC}@2 myself,slave ${A} 0 0 1 connected\n`));
  await until('C linked to A', async () => infoField(await text(portC, ['INFO', 'replication']), 'master_link_status') === 'up');
  const info = await text(portC, ['INFO', 'replication']);
  expect([infoField(info, 'role'), infoField(info, 'master_port')]).toEqual(['slave', String(portA)]);
  expect(await text(portC, ['CLUSTER', 'NODES'])).toContain(`myself,slave ${A} 0 0 1 connected`);
  // The stream written before and one written after both arrive.
  expect(await text(portA, ['XADD', 'bar', '2-1', 'f', 'v'])).toBe('2-1');
  await until('C has both entries', async () => (await readonlyXlen(portC, 'bar')) === '2');
  expect(await text(portC, ['XLEN', 'bar'])).toBe(`MOVED 5061 127.0.0.1:${portA}`);
  expect(await text(portC, ['XADD', 'bar', '3-1', 'f', 'v'])).toBe(`MOVED 5061 127.0.0.1:${portA}`);
  // A knows nothing of it (nothing is gossiped): the replica is declared on each node's own file.
  expect(await text(portA, ['CLUSTER', 'REPLICAS', A])).toBe('');

  // Restarted, C replicates A again from its file alone.
  await running.pop()!.stop();
  await node(portC, fileC);
  await until('C linked to A again', async () => infoField(await text(portC, ['INFO', 'replication']), 'master_link_status') === 'up');
  expect(await text(portA, ['XADD', 'bar', '3-1', 'f', 'v'])).toBe('3-1');
  await until('C has the third entry', async () => (await readonlyXlen(portC, 'bar')) === '3');
});

test('a master with slots or keys cannot become a replica; a node cannot replicate itself', async () => {
  const { portA, portC } = await twoNodes();
  expect(await text(portA, ['CLUSTER', 'REPLICATE', C])).toBe('ERR To set a master the node must be empty and without assigned slots.');
  expect(await text(portA, ['CLUSTER', 'REPLICATE', A])).toBe("ERR Can't replicate myself");
  expect(await text(portA, ['CLUSTER', 'REPLICATE', 'nosuch'])).toBe('ERR Unknown node nosuch');
  expect(await text(portC, ['CLUSTER', 'REPLICATE', A])).toBe('OK');
  expect(await text(portA, ['CLUSTER', 'REPLICATE', C])).toBe('ERR To set a master the node must be empty and without assigned slots.');
  expect(await text(portA, ['CLUSTER', 'NODES'])).toContain(`${C} 127.0.0.1:${portC}@2 master - 0`);
});

test('CLUSTER RESET makes a replica a master again: it stops replicating and is emptied, also after a restart', async () => {
  const { portA, portC, fileC } = await twoNodes();
  expect(await text(portA, ['XADD', 'bar', '1-1', 'f', 'v'])).toBe('1-1');
  expect(await text(portC, ['CLUSTER', 'REPLICATE', A])).toBe('OK');
  await until('C has the stream', async () => (await readonlyXlen(portC, 'bar')) === '1');
  expect(await text(portC, ['CLUSTER', 'RESET'])).toBe('OK');
  expect(await text(portC, ['DBSIZE'])).toBe('0');
  expect(infoField(await text(portC, ['INFO', 'replication']), 'role')).toBe('master');
  expect(await text(portC, ['CLUSTER', 'NODES'])).toBe(`${C} 127.0.0.1:${portC}@2 myself,master - 0 0 0 connected\n`);
  await until('C saved it', async () => (await readFile(fileC, 'utf8')).startsWith(`${C} 127.0.0.1:${portC}@2 myself,master - 0 0 0 connected\n`));
  expect(await text(portA, ['XADD', 'bar', '2-1', 'f', 'v'])).toBe('2-1');
  // Restarted, C is a master without slots or keys: nothing came back from its logs.
  await running.pop()!.stop();
  await node(portC, fileC);
  expect(await text(portC, ['DBSIZE'])).toBe('0');
  expect(infoField(await text(portC, ['INFO', 'replication']), 'role')).toBe('master');
});

test('a replicaof directive is refused in cluster mode, as Redis', async () => {
  const port = await freePort();
  await expect(
    startSpool({ port: String(port), 'cluster-enabled': 'yes', 'cluster-config-file': path.join(dir, 'n.conf'), replicaof: '127.0.0.1 1' }),
  ).rejects.toThrow('replicaof directive not allowed in cluster mode');
});
