// Three Spool nodes started by `spool-server --cluster-local 3` (real processes from dist/), driven by the
// cluster clients and tools people use: ioredis Cluster writes 100k entries over 1000 streams and reads them
// back through consumer groups, every stream sitting on the node that owns its slot; MULTI/EXEC over hash-tagged
// keys; node-redis createCluster; redis-cli -c following MOVED; redis-cli --cluster check; redis-benchmark
// --cluster with a custom XADD. Finally SIGTERM to the launcher stops every node. All bounded in count and time.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { createCluster } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, waitForPort } from '../helpers/ports';
import { ROOT } from '../helpers/spool';
import { startLocalCluster, type LocalCluster } from '../cluster/localCluster';
import { keyHashSlot } from '../../src/cluster/keySlot';

const run = promisify(execFile);

const STREAMS = 1000;
const ENTRIES = 100_000;

describe('a three-node local cluster', () => {
  let local: LocalCluster;
  let cluster: Cluster;

  beforeAll(async () => {
    local = await startLocalCluster(3);
    cluster = new Cluster([{ host: '127.0.0.1', port: local.ports[0] }], { enableAutoPipelining: true });
  }, 60000);
  afterAll(async () => {
    cluster?.disconnect();
    await local?.stop();
  });

  test(`ioredis Cluster writes ${ENTRIES} entries over ${STREAMS} streams and reads them back through consumer groups`, async () => {
    const BATCH = 5000;
    for (let from = 0; from < ENTRIES; from += BATCH) {
      const writes: Promise<unknown>[] = [];
      for (let i = from; i < from + BATCH; i++) writes.push(cluster.xadd(`s:${i % STREAMS}`, '*', 'n', String(i)));
      await Promise.all(writes);
    }
    const seen = new Uint8Array(ENTRIES);
    let read = 0;
    for (let from = 0; from < STREAMS; from += 100) {
      const keys = Array.from({ length: 100 }, (_, j) => `s:${from + j}`);
      await Promise.all(keys.map((k) => cluster.xgroup('CREATE', k, 'g', '0')));
      const replies = (await Promise.all(
        keys.map((k) => cluster.xreadgroup('GROUP', 'g', 'c', 'COUNT', '1000', 'STREAMS', k, '>')),
      )) as [string, [string, string[]][]][][];
      const acks: Promise<unknown>[] = [];
      for (const reply of replies) {
        for (const [key, entries] of reply) {
          for (const [id, fields] of entries) {
            const n = Number(fields[1]);
            expect(n % STREAMS).toBe(Number(key.slice(2)));
            seen[n] = 1;
            read++;
          }
          acks.push(cluster.xack(key, 'g', ...entries.map(([id]) => id)));
        }
      }
      expect((await Promise.all(acks)).reduce((a: number, b) => a + Number(b), 0)).toBe(100 * (ENTRIES / STREAMS));
    }
    expect(read).toBe(ENTRIES);
    expect(seen.every((b) => b === 1)).toBe(true);

    // Every stream is on the node owning its slot, and nowhere else.
    const slots = (await cluster.cluster('SLOTS')) as [number, number, [string, number]][];
    let streams = 0;
    let entries = 0;
    for (const port of local.ports) {
      const node = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      await node.connect();
      try {
        const owned = slots.filter((s) => s[2][1] === port);
        expect(owned.length).toBeGreaterThan(0);
        const keys = await node.keys('*');
        for (const key of keys) {
          const slot = keyHashSlot(Buffer.from(key, 'latin1'));
          expect(owned.some(([a, b]) => slot >= a && slot <= b), `${key} (slot ${slot}) on ${port}`).toBe(true);
          entries += await node.xlen(key);
        }
        streams += keys.length;
      } finally {
        node.disconnect();
      }
    }
    expect([streams, entries]).toEqual([STREAMS, ENTRIES]);
  }, 240000);

  test('MULTI/EXEC over {user1}:a and {user1}:b runs on their one node', async () => {
    const result = await cluster.multi().xadd('{user1}:a', '1-1', 'f', 'v').xadd('{user1}:b', '1-1', 'f', 'v').xlen('{user1}:a').exec();
    expect(result).toEqual([[null, '1-1'], [null, '1-1'], [null, 1]]);
  });

  test('node-redis createCluster writes and reads streams', async () => {
    const client = createCluster({ rootNodes: [{ url: `redis://127.0.0.1:${local.ports[1]}` }] });
    await client.connect();
    try {
      const ids: string[] = [];
      for (let i = 0; i < 20; i++) ids.push(await client.xAdd(`nr:${i}`, '*', { f: String(i) }));
      for (let i = 0; i < 20; i++) {
        const entries = await client.xRange(`nr:${i}`, '-', '+');
        expect(entries.map((e) => [e.id, e.message.f])).toEqual([[ids[i], String(i)]]);
      }
    } finally {
      await client.close();
    }
  });

  test('redis-cli -c follows MOVED to the owner of the key', async () => {
    // foo (slot 12182) belongs to the third node: asked of the first, the reply is a redirection.
    const plain = await run('redis-cli', ['-p', String(local.ports[0]), 'XADD', 'foo', '1-1', 'f', 'v']);
    expect(plain.stdout.trim()).toBe(`MOVED 12182 127.0.0.1:${local.ports[2]}`);
    const followed = await run('redis-cli', ['-c', '-p', String(local.ports[0]), 'XADD', 'foo', '1-1', 'f', 'v']);
    expect(followed.stdout.trim()).toBe('1-1');
    const there = await run('redis-cli', ['-p', String(local.ports[2]), 'XLEN', 'foo']);
    expect(there.stdout.trim()).toBe('1');
  });

  test('redis-cli --cluster check reports all 16384 slots covered', async () => {
    const { stdout } = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${local.ports[1]}`], { timeout: 60000 });
    expect(stdout).toContain('[OK] All nodes agree about slots configuration.');
    expect(stdout).toContain('[OK] All 16384 slots covered.');
    expect(stdout).not.toMatch(/\[ERR\]|\[WARNING\]/);
    for (const port of local.ports) expect(stdout).toContain(`127.0.0.1:${port}`);
  }, 90000);

  test('redis-benchmark --cluster runs XADD s:{tag}:__rand_int__ * f v over the three nodes', async () => {
    const before = await Promise.all(local.ports.map((p) => run('redis-cli', ['-p', String(p), 'DBSIZE'])));
    const { stdout, stderr } = await run(
      'redis-benchmark',
      ['--cluster', '-h', '127.0.0.1', '-p', String(local.ports[0]), '-n', '10000', '-r', '1000', '-q', 'XADD', 's:{tag}:__rand_int__', '*', 'f', 'v'],
      { timeout: 120000 },
    );
    expect(`${stdout}${stderr}`).toMatch(/requests per second/);
    expect(`${stdout}${stderr}`).toMatch(/Cluster has 3 master nodes/);
    // Each node got streams of its own slots ({tag} is replaced by a tag hashing to a slot of that node).
    const after = await Promise.all(local.ports.map((p) => run('redis-cli', ['-p', String(p), 'DBSIZE'])));
    after.forEach((a, i) => expect(Number(a.stdout)).toBeGreaterThan(Number(before[i].stdout)));
  }, 150000);

  // Debian's python3-redis for the system python3 (scripts/ensure-test-deps.js installs it), as clients.test.ts.
  test('redis-py RedisCluster writes 10000 entries over 1000 streams and reads them through a group', async () => {
    const script = `
import sys
from redis.cluster import RedisCluster
rc = RedisCluster(host='127.0.0.1', port=int(sys.argv[1]))
for i in range(10000):
    rc.xadd('py:%d' % (i % 1000), {'n': str(i)})
total = 0
for s in range(1000):
    rc.xgroup_create('py:%d' % s, 'g', id='0')
    for _key, entries in rc.xreadgroup('g', 'c', {'py:%d' % s: '>'}, count=100):
        total += len(entries)
        assert all(int(f[b'n']) % 1000 == s for _id, f in entries)
assert total == 10000, total
print('ok')
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(local.ports[2])], { timeout: 120000 });
    expect(stdout.trim()).toBe('ok');
  }, 150000);

  test('SIGTERM to the launcher stops every node, then it exits 0', async () => {
    cluster.disconnect(); // else ioredis keeps trying to reconnect to the stopped nodes
    const code = await local.stop();
    expect(code).toBe(0);
    for (const port of local.ports) await expect(waitForPort(port, 200)).rejects.toThrow();
  }, 30000);
});

test('--cluster-local stops every node and exits 1 when one node cannot start', async () => {
  // A port of the run is taken: that node fails, the launcher stops the others and reports it.
  let base = 0;
  let blocker: net.Server | null = null;
  for (let attempt = 0; attempt < 20 && blocker === null; attempt++) {
    base = await freePort();
    if (base > 55000) continue;
    const srv = net.createServer();
    const ok = await new Promise<boolean>((resolve) => {
      srv.once('error', () => resolve(false));
      srv.listen({ port: base + 1, host: '127.0.0.1' }, () => resolve(true));
    });
    if (ok) blocker = srv;
  }
  expect(blocker).not.toBeNull();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-local-fail-'));
  try {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'spool-server.js'), '--cluster-local', '2', '--port', String(base), '--bind', '127.0.0.1', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await Promise.race([
      new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c))),
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 60000)),
    ]);
    if (code === 'timeout') child.kill('SIGKILL');
    expect(code, out).toBe(1);
    expect(out).toContain(`node 1 (port ${base + 1}) exited (1): stopping the others`);
    await expect(waitForPort(base, 200)).rejects.toThrow();
  } finally {
    blocker!.close();
    await rm(dir, { recursive: true, force: true });
  }
}, 90000);

test('the nodes of --cluster-local stop when their launcher is killed (SIGKILL)', async () => {
  const local = await startLocalCluster(2);
  try {
    local.process.kill('SIGKILL');
    await local.exited;
    // Each node notices its launcher's IPC channel closing and shuts down cleanly.
    for (const port of local.ports) {
      const deadline = Date.now() + 20000;
      for (;;) {
        const open = await waitForPort(port, 100).then(() => true, () => false);
        if (!open) break;
        expect(Date.now() < deadline, `node on ${port} still running`).toBe(true);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  } finally {
    await local.stop();
  }
}, 90000);
