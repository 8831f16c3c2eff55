// A master's slot changes reach its replicas through the replication stream (Redis replicas learn them by
// gossip; redis-cli --cluster reshard tells masters only): two in-process Spool masters with a replica each; a
// slot moved with CLUSTER SETSLOT ... NODE on the masters, and one deleted and added again, show on the
// replicas (CLUSTER NODES, a READONLY read redirected to the new owner), and are saved in their files. A
// replica still refuses SETSLOT from its own clients.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { startSpoolCluster, text, type SpoolCluster } from './clusterHarness';
import { until, infoField } from '../helpers/replication';
import { RespConnection, nodeText } from '../helpers/resp';
import { keyHashSlot } from '../../src/cluster/keySlot';

let cluster: SpoolCluster;
const port = (i: number) => cluster.nodes[i].port;
const id = (i: number) => cluster.nodes[i].id;

/** Slot ranges of node `i` in the CLUSTER NODES of node `asked`. */
async function rangesSeen(asked: number, i: number): Promise<string> {
  const line = (await text(port(asked), ['CLUSTER', 'NODES'])).split('\n').find((l) => l.startsWith(id(i)))!;
  return line.split(' ').slice(8).join(' ');
}

beforeAll(async () => {
  cluster = await startSpoolCluster([[0, 8191], [8192, 16383]], {}, 1);
  for (const r of [2, 3]) await until(`replica ${r} linked`, async () => infoField(await text(port(r), ['INFO', 'replication']), 'master_link_status') === 'up');
}, 60000);
afterAll(async () => {
  await cluster?.stop();
});

test('a slot moved between masters moves on both replicas too, and they save it', async () => {
  const key = Array.from({ length: 10000 }, (_, i) => `k${i}`).find((k) => keyHashSlot(Buffer.from(k)) === 100)!;
  for (const m of [0, 1]) expect(await text(port(m), ['CLUSTER', 'SETSLOT', '100', 'NODE', id(1)])).toBe('OK');
  for (const r of [2, 3]) {
    await until(`replica ${r} sees slot 100 on B`, async () => (await rangesSeen(r, 1)) === '100 8192-16383');
    expect(await rangesSeen(r, 0)).toBe('0-99 101-8191');
  }
  // A READONLY read of slot 100 on A's replica now goes to B.
  const conn = await RespConnection.connect(port(2));
  try {
    await conn.call(['READONLY']);
    expect(nodeText(await conn.call(['XLEN', key]))).toBe(`MOVED 100 127.0.0.1:${port(1)}`);
  } finally {
    conn.close();
  }
  await until('replica 2 saved it', async () => (await readFile(path.join(path.dirname(cluster.file), 'node-2.conf'), 'utf8')).includes(`connected 100 8192-16383`));
  // And back.
  for (const m of [0, 1]) expect(await text(port(m), ['CLUSTER', 'SETSLOT', '100', 'NODE', id(0)])).toBe('OK');
  for (const r of [2, 3]) await until(`replica ${r} sees slot 100 on A`, async () => (await rangesSeen(r, 0)) === '0-8191');
});

test('slots deleted and added again on a master follow on its replica; a replica refuses SETSLOT from clients', async () => {
  expect(await text(port(0), ['CLUSTER', 'DELSLOTSRANGE', '10', '12'])).toBe('OK');
  await until('replica 2 sees 10-12 unassigned', async () => (await rangesSeen(2, 0)) === '0-9 13-8191');
  expect(await text(port(0), ['CLUSTER', 'ADDSLOTSRANGE', '10', '12'])).toBe('OK');
  await until('replica 2 sees 10-12 on A again', async () => (await rangesSeen(2, 0)) === '0-8191');
  expect(await text(port(2), ['CLUSTER', 'SETSLOT', '5', 'NODE', id(1)])).toBe('ERR Please use SETSLOT only with masters.');
});
