// Drives a real redis-server 7 and a Spool Stream with the same random workloads (mixed field sets, integer-
// looking values, long values, XDEL, exact and approximate trimming with LIMIT, several node limits) and
// compares what Redis's listpack layout decides: which entries survive, radix-tree-keys, radix-tree-nodes,
// recorded-first-entry-id, max-deleted-entry-id, entries-added.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText, type RespNode } from '../helpers/resp';
import { Stream, type StreamSettings } from '../../src/streams/stream';
import { formatId, parseStrictId } from '../../src/streams/streamId';
import { buildWorkload, rng } from './workload';

let redis: RunningRedis;
let conn: RespConnection;

beforeAll(async () => {
  redis = await startRedis();
  conn = await RespConnection.connect(redis.port);
}, 30000);

afterAll(async () => {
  conn?.close();
  await redis?.stop();
});

function infoField(info: RespNode, name: string): string | null {
  const c = info.children!;
  for (let i = 0; i < c.length; i += 2) if (nodeText(c[i]) === name) return nodeText(c[i + 1]);
  throw new Error(`no ${name} in XINFO STREAM`);
}

async function runScenario(seed: number, settings: StreamSettings, ops: number): Promise<void> {
  await conn.call(['DEL', 's']);
  await conn.call(['CONFIG', 'SET', 'stream-node-max-entries', String(settings.nodeMaxEntries)]);
  await conn.call(['CONFIG', 'SET', 'stream-node-max-bytes', String(settings.nodeMaxBytes)]);
  const workload = buildWorkload(seed, settings, ops);
  const stream = new Stream('s', settings);
  const checkEvery = 25;
  for (let start = 0; start < workload.length; start += checkEvery) {
    const batch = workload.slice(start, start + checkEvery);
    for (const op of batch) conn.sendCommand(op.args);
    conn.sendCommand(['XINFO', 'STREAM', 's']);
    conn.sendCommand(['XRANGE', 's', '-', '+']);
    const replies = await conn.read(batch.length + 2, 30000);
    for (let i = 0; i < batch.length; i++) {
      const expected = nodeText(replies[i]);
      const got = batch[i].local(stream);
      expect(got, `seed ${seed} op ${start + i}: ${batch[i].args.slice(0, 6).join(' ')}`).toBe(expected);
    }
    const info = replies[batch.length];
    const where = `seed ${seed} after op ${start + batch.length}`;
    expect(stream.length, `${where} length`).toBe(Number(infoField(info, 'length')));
    expect(stream.nodeCount, `${where} radix-tree-keys`).toBe(Number(infoField(info, 'radix-tree-keys')));
    expect(stream.radixTreeNodes, `${where} radix-tree-nodes`).toBe(Number(infoField(info, 'radix-tree-nodes')));
    expect(formatId(stream.recordedFirstId), `${where} first`).toBe(infoField(info, 'recorded-first-entry-id'));
    expect(formatId(stream.maxDeletedId), `${where} max-deleted`).toBe(infoField(info, 'max-deleted-entry-id'));
    expect(String(stream.entriesAdded), `${where} entries-added`).toBe(infoField(info, 'entries-added'));
    const redisIds = replies[batch.length + 1].children!.map((e) => nodeText(e.children![0])!);
    const localIds: string[] = [];
    stream.range(parseStrictId('0-0'), parseStrictId('18446744073709551615-18446744073709551615'), 0, false, (id) => {
      localIds.push(formatId(id));
    });
    expect(localIds, `${where} surviving entries`).toEqual(redisIds);
  }
}

describe('node model against redis-server', () => {
  const configs: StreamSettings[] = [
    { nodeMaxEntries: 100, nodeMaxBytes: 4096 },
    { nodeMaxEntries: 10, nodeMaxBytes: 4096 },
    { nodeMaxEntries: 5, nodeMaxBytes: 0 },
    { nodeMaxEntries: 0, nodeMaxBytes: 300 },
    { nodeMaxEntries: 50, nodeMaxBytes: 150 },
    { nodeMaxEntries: 1, nodeMaxBytes: 4096 },
    { nodeMaxEntries: 200, nodeMaxBytes: 20000 },
  ];
  configs.forEach((settings, ci) => {
    it(`random workloads, node-max-entries ${settings.nodeMaxEntries}, node-max-bytes ${settings.nodeMaxBytes}`, async () => {
      for (let seed = 1; seed <= 4; seed++) await runScenario(ci * 100 + seed, settings, 400);
    }, 120000);
  });
});

describe('node boundaries decided by bytes alone', () => {
  it('random stream-node-max-bytes limits (every node boundary is a byte decision)', async () => {
    const r = rng(4242);
    for (let k = 0; k < 24; k++) {
      const settings = { nodeMaxEntries: k % 3 === 0 ? 0 : 7 + Math.floor(r() * 40), nodeMaxBytes: 40 + Math.floor(r() * 3000) };
      await runScenario(1000 + k, settings, 250);
    }
  }, 180000);
});

describe('exact listpack sizes', () => {
  // The smallest stream-node-max-bytes that keeps a sequence of appends in one node is
  // max over appends of (listpack bytes before + raw field/value bytes) + 1: finding it by bisection on both
  // sides compares every intermediate listpack size, to the byte.
  type Step = { kind: 'add'; id: string; fv: string[] } | { kind: 'del'; id: string };

  function randomSteps(r: () => number): Step[] {
    const steps: Step[] = [];
    const n = 2 + Math.floor(r() * 9);
    let ms = BigInt(Math.floor(r() * 3)) * 1000000000n + BigInt(Math.floor(r() * 1000));
    let seq = BigInt(Math.floor(r() * 100));
    const fieldsets = [['f'], ['0', '1'], ['a', 'bb', 'ccc'], ['-5', 'x'.repeat(70)]];
    let fs = fieldsets[Math.floor(r() * fieldsets.length)];
    const added: string[] = [];
    for (let i = 0; i < n; i++) {
      if (r() < 0.3) fs = fieldsets[Math.floor(r() * fieldsets.length)];
      const roll = r();
      if (roll < 0.3) ms += BigInt(Math.floor(r() * 100000));
      else if (roll < 0.4) ms += BigInt(Math.floor(r() * 2 ** 40));
      if (roll < 0.4) seq = BigInt(Math.floor(r() * 3));
      else seq += 1n + BigInt(Math.floor(r() * (r() < 0.2 ? 70000 : 3)));
      const id = `${ms}-${seq}`;
      const fv: string[] = [];
      for (const f of fs) {
        const p = r();
        fv.push(f, p < 0.7 ? VALUES_FOR_SIZES[Math.floor(r() * VALUES_FOR_SIZES.length)] : 'q'.repeat(Math.floor(r() * 140)));
      }
      steps.push({ kind: 'add', id, fv });
      added.push(id);
      if (i > 0 && r() < 0.15) steps.push({ kind: 'del', id: added[Math.floor(r() * (added.length - 1))] });
    }
    return steps;
  }

  const VALUES_FOR_SIZES = [
    '0', '00', '-0', '127', '128', '-1', '-4096', '-4097', '4095', '4096', '32767', '-32768', '32768', '8388607',
    '8388608', '-8388609', '2147483647', '2147483648', '-2147483648', '-2147483649', '9223372036854775807',
    '9223372036854775808', '-9223372036854775808', '99999999999999999999', '1e3', ' 1', 'a', '',
    'x'.repeat(62), 'x'.repeat(63), 'x'.repeat(64), 'x'.repeat(125), 'x'.repeat(126), 'x'.repeat(127),
  ];

  function localOneNode(steps: Step[], maxBytes: number): boolean {
    const s = new Stream('s', { nodeMaxEntries: 0, nodeMaxBytes: maxBytes });
    for (const st of steps) {
      if (st.kind === 'add') s.append(st.fv.map((x) => Buffer.from(x)), { id: parseStrictId(st.id), seqGiven: true }, 0);
      else s.delete(parseStrictId(st.id));
    }
    return s.nodeCount === 1;
  }

  async function redisOneNode(steps: Step[], maxBytes: number): Promise<boolean> {
    conn.sendCommand(['DEL', 's']);
    conn.sendCommand(['CONFIG', 'SET', 'stream-node-max-bytes', String(maxBytes)]);
    for (const st of steps) {
      if (st.kind === 'add') conn.sendCommand(['XADD', 's', st.id, ...st.fv]);
      else conn.sendCommand(['XDEL', 's', st.id]);
    }
    conn.sendCommand(['XINFO', 'STREAM', 's']);
    const replies = await conn.read(steps.length + 3);
    return Number(infoField(replies[replies.length - 1], 'radix-tree-keys')) === 1;
  }

  async function bisect(oneNode: (b: number) => boolean | Promise<boolean>): Promise<number> {
    let lo = 1;
    let hi = 1 << 20;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (await oneNode(mid)) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  it('smallest one-node byte limit matches redis-server for random entry sequences', async () => {
    await conn.call(['CONFIG', 'SET', 'stream-node-max-entries', '0']);
    const r = rng(777);
    for (let c = 0; c < 60; c++) {
      const steps = randomSteps(r);
      const expected = await bisect((b) => redisOneNode(steps, b));
      const got = await bisect((b) => localOneNode(steps, b));
      expect(got, `case ${c}: ${JSON.stringify(steps)}`).toBe(expected);
    }
  }, 120000);
});
