// Replicas per shard: `spool-server --cluster-local 3 --cluster-replicas 1` (real processes from dist/): the
// generated topology lists a replica of each master, each replica replicates its master by itself, ioredis
// Cluster writes over many streams and the entries appear on the replica of the owning master; ioredis Cluster
// with scaleReads 'slave' reads them back from the replicas; a replica sends writes (and reads without READONLY)
// to its master with MOVED; redis-cli --cluster check is clean and shows the replicas; ROLE and INFO replication
// on both sides; redis-cli --cluster reshard moves slots and streams, the replicas following; SIGTERM stops
// every node. All bounded in count and time.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalCluster, type LocalCluster } from './localCluster';
import { until, infoField } from '../helpers/replication';
import { keyHashSlot } from '../../src/cluster/keySlot';
import { evenSlotRanges } from '../../src/cluster/localCluster';

const run = promisify(execFile);

const MASTERS = 3;
const STREAMS = 300;
const PER_STREAM = 5;

interface Layout {
  ids: string[];
  /** Index of the master each node replicates (-1 for masters). */
  masterOf: number[];
}

describe('a local cluster of three masters with a replica each', () => {
  let local: LocalCluster;
  let cluster: Cluster;
  let layout: Layout;
  const plain: Redis[] = [];
  const node = (i: number): Redis => {
    const r = new Redis({ host: '127.0.0.1', port: local.ports[i], maxRetriesPerRequest: 0, retryStrategy: () => null });
    plain.push(r);
    return r;
  };
  const ownerOf = (key: string): number => {
    const slot = keyHashSlot(Buffer.from(key, 'latin1'));
    return evenSlotRanges(MASTERS).findIndex(([a, b]) => slot >= a && slot <= b);
  };

  beforeAll(async () => {
    local = await startLocalCluster(MASTERS, [], 1);
    const text = await readFile(path.join(local.dir, 'cluster-local.conf'), 'utf8');
    const lines = text.trim().split('\n').filter((l) => !l.startsWith('vars'));
    const ids = lines.map((l) => l.split(' ')[0]);
    layout = { ids, masterOf: lines.map((l) => (l.split(' ')[2] === 'slave' ? ids.indexOf(l.split(' ')[3]) : -1)) };
    cluster = new Cluster([{ host: '127.0.0.1', port: local.ports[0] }], { enableAutoPipelining: true });
  }, 60000);
  afterAll(async () => {
    cluster?.disconnect();
    for (const r of plain) r.disconnect();
    await local?.stop();
  });

  test('the generated topology lists the masters on the first ports, then a replica of each in turn', async () => {
    expect(local.ports.length).toBe(6);
    expect(layout.masterOf).toEqual([-1, -1, -1, 0, 1, 2]);
    // Every node agrees: CLUSTER NODES of a replica shows itself as `myself,slave <master-id>`.
    const lines = ((await node(4).cluster('NODES')) as string).trim().split('\n');
    expect(lines.length).toBe(6);
    const own = lines.find((l) => l.includes('myself'))!.split(' ');
    expect(own.slice(0, 4)).toEqual([layout.ids[4], `127.0.0.1:${local.ports[4]}@${local.ports[4] + 10000}`, 'myself,slave', layout.ids[1]]);
    // A replica shows its master's config epoch, and owns no slot.
    expect(own.slice(6)).toEqual(['2', 'connected']);
  });

  test('each replica replicates its master by itself: ROLE and INFO replication on both sides', async () => {
    for (let r = MASTERS; r < 2 * MASTERS; r++) {
      const m = layout.masterOf[r];
      const replica = node(r);
      await until(`replica ${r} linked`, async () => infoField(await replica.info('replication'), 'master_link_status') === 'up', 20000);
      const info = await replica.info('replication');
      expect([infoField(info, 'role'), infoField(info, 'master_host'), infoField(info, 'master_port')]).toEqual(['slave', '127.0.0.1', String(local.ports[m])]);
      const role = (await replica.role()) as unknown[];
      expect(role.slice(0, 4)).toEqual(['slave', '127.0.0.1', local.ports[m], 'connected']);
      const master = node(m);
      await until(`master ${m} lists its replica`, async () => infoField(await master.info('replication'), 'connected_slaves') === '1');
      const masterRole = (await master.role()) as [string, number, string[][]];
      expect(masterRole[0]).toBe('master');
      expect(masterRole[2].map((row) => row.slice(0, 2))).toEqual([['127.0.0.1', String(local.ports[r])]]);
    }
  }, 60000);

  test(`ioredis Cluster writes ${STREAMS * PER_STREAM} entries over ${STREAMS} streams; each appears on the replica of its master`, async () => {
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < STREAMS * PER_STREAM; i++) writes.push(cluster.xadd(`r:${i % STREAMS}`, '*', 'n', String(i)));
    await Promise.all(writes);
    // Straight to each replica, with READONLY: its master's streams, all entries, within a bounded wait.
    for (let r = MASTERS; r < 2 * MASTERS; r++) {
      const replica = node(r);
      expect(await replica.call('READONLY')).toBe('OK');
      const keys = Array.from({ length: STREAMS }, (_, i) => `r:${i}`).filter((k) => ownerOf(k) === layout.masterOf[r]);
      expect(keys.length).toBeGreaterThan(0);
      await until(`replica ${r} has every entry`, async () => {
        const lengths = await Promise.all(keys.map((k) => replica.xlen(k)));
        return lengths.every((n) => n === PER_STREAM);
      }, 30000, 100);
      expect(await replica.dbsize()).toBe(keys.length);
    }
  }, 90000);

  test("ioredis Cluster with scaleReads 'slave' reads every entry back from the replicas", async () => {
    const readers = new Cluster([{ host: '127.0.0.1', port: local.ports[3] }], { scaleReads: 'slave' });
    const before = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => infoField(await node(i).info('commandstats'), 'cmdstat_xrange') ?? ''));
    try {
      for (let from = 0; from < STREAMS; from += 50) {
        const keys = Array.from({ length: 50 }, (_, j) => `r:${from + j}`);
        const replies = (await Promise.all(keys.map((k) => readers.xrange(k, '-', '+')))) as [string, string[]][][];
        replies.forEach((entries, j) => {
          expect(entries.map(([, fields]) => Number(fields[1]) % STREAMS)).toEqual(Array(PER_STREAM).fill(from + j));
        });
      }
    } finally {
      readers.disconnect();
    }
    // The reads went to the replicas, not to the masters.
    const calls = (stat: string) => Number(/calls=(\d+)/.exec(stat)?.[1] ?? 0);
    const after = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => infoField(await node(i).info('commandstats'), 'cmdstat_xrange') ?? ''));
    const served = after.map((s, i) => calls(s) - calls(before[i]));
    expect(served.slice(0, 3)).toEqual([0, 0, 0]);
    expect(served.slice(3).reduce((a, b) => a + b, 0)).toBe(STREAMS);
  }, 60000);

  test('a replica sends writes to its master with MOVED; reads too until READONLY, and again after READWRITE', async () => {
    const key = Array.from({ length: 100 }, (_, i) => `w:${i}`).find((k) => ownerOf(k) === 0)!;
    const slot = keyHashSlot(Buffer.from(key));
    const moved = `MOVED ${slot} 127.0.0.1:${local.ports[0]}`;
    const replica = node(3);
    await expect(replica.xadd(key, '*', 'f', 'v')).rejects.toThrow(moved);
    await expect(replica.xlen(key)).rejects.toThrow(moved);
    expect(await replica.call('READONLY')).toBe('OK');
    expect(await replica.xlen(key)).toBe(0);
    await expect(replica.xadd(key, '*', 'f', 'v')).rejects.toThrow(moved);
    // A key of another master's slots goes to that master even with READONLY.
    const other = Array.from({ length: 100 }, (_, i) => `w:${i}`).find((k) => ownerOf(k) === 2)!;
    await expect(replica.xlen(other)).rejects.toThrow(`MOVED ${keyHashSlot(Buffer.from(other))} 127.0.0.1:${local.ports[2]}`);
    expect(await replica.call('READWRITE')).toBe('OK');
    await expect(replica.xlen(key)).rejects.toThrow(moved);
    await expect(replica.call('REPLICAOF', 'NO', 'ONE')).rejects.toThrow('ERR REPLICAOF not allowed in cluster mode.');
  });

  test('redis-cli --cluster check is clean and shows each replica under its master', async () => {
    const { stdout } = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${local.ports[0]}`], { timeout: 30000 });
    const out = stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(out).toContain('[OK] All nodes agree about slots configuration.');
    expect(out).toContain('[OK] All 16384 slots covered.');
    expect(out).not.toMatch(/\[ERR\]|\[WARNING\]/);
    // Per master: "<host:port> (<id>...) -> N keys | S slots | 1 slaves."
    for (let m = 0; m < MASTERS; m++) expect(out).toMatch(new RegExp(`127\\.0\\.0\\.1:${local.ports[m]} \\(${layout.ids[m].slice(0, 8)}\\.\\.\\.\\) -> \\d+ keys \\| \\d+ slots \\| 1 slaves\\.`));
    // "S: <id> <host:port>" then "slots: (0 slots) slave" and "replicates <master-id>".
    const replicas = [...out.matchAll(/^S: ([0-9a-f]{40}) 127\.0\.0\.1:(\d+)\n\s+slots: \(0 slots\) slave\n\s+replicates ([0-9a-f]{40})$/gm)];
    expect(replicas.map((m) => [Number(m[2]), m[3]]).sort()).toEqual(
      [3, 4, 5].map((r) => [local.ports[r], layout.ids[layout.masterOf[r]]]).sort(),
    );
    expect([...out.matchAll(/^M: /gm)].length).toBe(MASTERS);
    expect([...out.matchAll(/1 additional replica\(s\)/g)].length).toBe(MASTERS);
  }, 40000);

  test('CLUSTER SHARDS, SLOTS and REPLICAS list each replica with its master', async () => {
    const shards = (await node(0).cluster('SHARDS')) as unknown[][];
    expect(shards.length).toBe(MASTERS);
    for (const shard of shards) {
      const nodes = (shard[3] as unknown[][]).map((n) => Object.fromEntries(Array.from({ length: n.length / 2 }, (_, i) => [n[2 * i], n[2 * i + 1]])));
      expect(nodes.map((n) => n.role)).toEqual(['master', 'replica']);
      expect(nodes.map((n) => n.health)).toEqual(['online', 'online']);
      const m = layout.ids.indexOf(nodes[0].id as string);
      expect(nodes[1].id).toBe(layout.ids[layout.masterOf.indexOf(m)]);
    }
    const slots = (await node(5).cluster('SLOTS')) as [number, number, ...[string, number, string][]][];
    expect(slots.map((row) => [row[0], row[1], row.slice(2).map((n) => (n as [string, number])[1])])).toEqual(
      evenSlotRanges(MASTERS).map(([a, b], m) => [a, b, [local.ports[m], local.ports[MASTERS + m]]]),
    );
    const replicas = (await node(1).cluster('REPLICAS', layout.ids[2])) as string[];
    expect(replicas.map((l) => l.split(' ').slice(0, 4))).toEqual([[layout.ids[5], `127.0.0.1:${local.ports[5]}@${local.ports[5] + 10000}`, 'slave', layout.ids[2]]]);
    const info = (await node(3).cluster('INFO')) as string;
    expect([infoField(info, 'cluster_known_nodes'), infoField(info, 'cluster_size'), infoField(info, 'cluster_my_epoch')]).toEqual(['6', '3', '1']);
  });

  test('redis-cli --cluster reshard moves slots and their streams; the replicas follow; check stays clean; reads still whole', async () => {
    await run('redis-cli', ['--cluster', 'reshard', `127.0.0.1:${local.ports[0]}`, '--cluster-from', layout.ids[0], '--cluster-to', layout.ids[1], '--cluster-slots', '200', '--cluster-yes'], { timeout: 60000 });
    // Every node, replicas included, sees master 1 own slots 0-199 now (SETSLOT went to masters, their replicas followed).
    for (let i = 0; i < 6; i++) {
      await until(`node ${i} sees the move`, async () => {
        const line = ((await node(i).cluster('NODES')) as string).split('\n').find((l) => l.startsWith(layout.ids[1]))!;
        return line.split(' ').slice(8).join(' ') === '0-199 5461-10922';
      }, 20000, 100);
    }
    const { stdout } = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${local.ports[0]}`], { timeout: 30000 });
    const out = stdout.replace(/\x1b\[[0-9;]*m/g, '');
    expect(out).toContain('[OK] All nodes agree about slots configuration.');
    expect(out).toContain('[OK] All 16384 slots covered.');
    expect(out).not.toMatch(/\[ERR\]|\[WARNING\]/);
    // The streams of the moved slots are on master 1's replica now, and gone from master 0's.
    const moved = Array.from({ length: STREAMS }, (_, i) => `r:${i}`).filter((k) => keyHashSlot(Buffer.from(k)) < 200);
    expect(moved.length).toBeGreaterThan(0);
    const [from, to] = [node(3), node(4)];
    await from.call('READONLY');
    await to.call('READONLY');
    await until('the moved streams on the new replica', async () => (await Promise.all(moved.map((k) => to.xlen(k)))).every((n) => n === PER_STREAM), 30000, 100);
    for (const k of moved) await expect(from.xlen(k)).rejects.toThrow(`MOVED ${keyHashSlot(Buffer.from(k))} 127.0.0.1:${local.ports[1]}`);
    expect(await from.dbsize()).toBe(Array.from({ length: STREAMS }, (_, i) => `r:${i}`).filter((k) => ownerOf(k) === 0 && keyHashSlot(Buffer.from(k)) >= 200).length);
    const readers = new Cluster([{ host: '127.0.0.1', port: local.ports[5] }], { scaleReads: 'slave' });
    try {
      const lengths = await Promise.all(Array.from({ length: STREAMS }, (_, i) => readers.xlen(`r:${i}`)));
      expect(lengths.every((n) => n === PER_STREAM)).toBe(true);
    } finally {
      readers.disconnect();
    }
  }, 120000);

  test('SIGTERM to the launcher stops every node, masters and replicas', async () => {
    for (const r of plain.splice(0)) r.disconnect();
    cluster.disconnect();
    expect(await local.stop()).toBe(0);
  }, 30000);
});
