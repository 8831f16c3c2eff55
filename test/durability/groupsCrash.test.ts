// Consumer groups under load, then SIGKILL + restart: the PEL of each group (XPENDING extended, overall and per
// consumer) equals the PEL implied by every acknowledged reply; only the operations in flight at the kill may
// or may not have applied, and each difference must be explained by one of them.
//
// Group g1 is driven by ONE pipelining connection (XREADGROUP >/0/NOACK, XACK, XCLAIM [JUSTID], XAUTOCLAIM
// [JUSTID]): its operations execute in send order, so a model fed with the replies in order is exact. Group g2
// is driven by another connection with XREADGROUP BLOCK (woken by XADDs from a third connection) and XACK.
// The groups are disjoint so the two models never race.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type Redis from 'ioredis';
import { client, connected, ensureBuilt, newDataDir, removeDir, rng, sleep, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

const KEY = 'gs:\r\n\0';
const GONE = /Connection is closed|ECONNRESET|EPIPE|ECONNREFUSED|Stream isn't writeable/i;

interface Nack {
  consumer: string;
  deliveries: number;
}
type Pel = Map<string, Nack>;

interface Op {
  kind: 'read' | 'history' | 'noack' | 'ack' | 'claim' | 'autoclaim';
  consumer: string;
  ids: string[];
  justid: boolean;
  done: boolean;
}

function compareIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(BigInt);
  const [bm, bs] = b.split('-').map(BigInt);
  return am !== bm ? (am < bm ? -1 : 1) : as === bs ? 0 : as < bs ? -1 : 1;
}

class GroupModel {
  readonly pel: Pel = new Map();
  readonly ops: Op[] = [];
  consumers = new Set<string>();

  inFlight(): Op[] {
    return this.ops.filter((o) => !o.done);
  }

  /** Applies a reply, in order. */
  apply(op: Op, reply: unknown): void {
    op.done = true;
    switch (op.kind) {
      case 'read':
      case 'history':
      case 'noack': {
        this.consumers.add(op.consumer);
        const streams = (reply as [string, [string, string[]][]][] | null) ?? [];
        for (const [, entries] of streams) {
          for (const [id] of entries) {
            if (op.kind === 'read') this.pel.set(id, { consumer: op.consumer, deliveries: 1 });
            else if (op.kind === 'history') this.pel.get(id)!.deliveries++;
          }
        }
        break;
      }
      case 'ack':
        for (const id of op.ids) this.pel.delete(id);
        break;
      case 'claim':
      case 'autoclaim': {
        this.consumers.add(op.consumer);
        const claimed = op.kind === 'claim' ? (reply as unknown[]) : ((reply as unknown[])[1] as unknown[]);
        for (const item of claimed) {
          const id = typeof item === 'string' ? item : (item as [string])[0];
          const prev = this.pel.get(id);
          expect(prev, `claimed ${id} was not pending`).toBeDefined();
          this.pel.set(id, { consumer: op.consumer, deliveries: prev!.deliveries + (op.justid ? 0 : 1) });
        }
        break;
      }
    }
  }

  /** Checks a recovered PEL against the model, allowing what the operations in flight could have done. */
  check(found: Pel, where: string): void {
    const flight = this.inFlight();
    const readers = new Set(flight.filter((o) => o.kind === 'read').map((o) => o.consumer));
    const claimers = new Set(flight.filter((o) => o.kind === 'claim' || o.kind === 'autoclaim').map((o) => o.consumer));
    const acked = new Set(flight.filter((o) => o.kind === 'ack').flatMap((o) => o.ids));
    const bumps = flight.filter((o) => o.kind === 'history' || ((o.kind === 'claim' || o.kind === 'autoclaim') && !o.justid)).length;
    const detail = () => `${where}; in flight: ${JSON.stringify(flight.map((o) => [o.kind, o.consumer, o.ids.length]))}`;
    for (const [id, m] of this.pel) {
      const f = found.get(id);
      if (!f) {
        expect(acked.has(id), `${where}: acknowledged pending entry ${id} (${m.consumer}) lost; ${detail()}`).toBe(true);
        continue;
      }
      if (f.consumer === m.consumer && f.deliveries === m.deliveries) continue;
      expect(f.consumer === m.consumer || claimers.has(f.consumer), `${where}: ${id} owner ${f.consumer}, expected ${m.consumer}; ${detail()}`).toBe(true);
      expect(f.deliveries >= m.deliveries && f.deliveries <= m.deliveries + bumps, `${where}: ${id} deliveries ${f.deliveries}, expected ${m.deliveries}; ${detail()}`).toBe(true);
    }
    for (const [id, f] of found) {
      if (this.pel.has(id)) continue;
      // only an XREADGROUP > in flight could have delivered it (then maybe claimed by another op in flight)
      expect(readers.size > 0 && (readers.has(f.consumer) || claimers.has(f.consumer)), `${where}: ${id} pending for ${f.consumer} but never delivered; ${detail()}`).toBe(true);
      expect(f.deliveries).toBeLessThanOrEqual(1 + bumps);
    }
  }
}

async function pelOf(c: Redis, group: string): Promise<Pel> {
  const rows = (await c.xpending(KEY, group, '-', '+', 1000000)) as [string, string, number, number][];
  const pel: Pel = new Map();
  for (const [id, consumer, , deliveries] of rows) pel.set(id, { consumer, deliveries: Number(deliveries) });
  // per consumer, the same rows
  const consumers = [...new Set(rows.map((r) => r[1]))];
  for (const consumer of consumers) {
    const mine = (await c.xpending(KEY, group, '-', '+', 1000000, consumer)) as [string, string, number, number][];
    expect(mine.map((r) => [r[0], r[3]])).toEqual(rows.filter((r) => r[1] === consumer).map((r) => [r[0], r[3]]));
  }
  const summary = (await c.xpending(KEY, group)) as [number, ...unknown[]];
  expect(Number(summary[0])).toBe(rows.length);
  return pel;
}

/** Group g1: one pipelined connection, operations chosen from the model, at most `depth` in flight. */
async function driveG1(c: Redis, model: GroupModel, r: () => number, stop: () => boolean, depth = 12): Promise<void> {
  const window: Promise<void>[] = [];
  const consumers = ['alice', 'bob', 'carol\r\n'];
  while (!stop()) {
    const who = consumers[Math.floor(r() * consumers.length)];
    const roll = r();
    const pending = [...model.pel.keys()];
    let op: Op;
    let send: () => Promise<unknown>;
    if (roll < 0.35 || pending.length < 5) {
      const noack = r() < 0.1;
      op = { kind: noack ? 'noack' : 'read', consumer: who, ids: [], justid: false, done: false };
      const count = String(1 + Math.floor(r() * 5));
      send = () => (noack ? c.xreadgroup('GROUP', 'g1', who, 'COUNT', count, 'NOACK', 'STREAMS', KEY, '>') : c.xreadgroup('GROUP', 'g1', who, 'COUNT', count, 'STREAMS', KEY, '>'));
    } else if (roll < 0.4) {
      op = { kind: 'history', consumer: who, ids: [], justid: false, done: false };
      send = () => c.xreadgroup('GROUP', 'g1', who, 'COUNT', '3', 'STREAMS', KEY, '0');
    } else if (roll < 0.65) {
      const ids = pending.filter(() => r() < 0.3).slice(0, 6);
      ids.push('1-1'); // never pending
      op = { kind: 'ack', consumer: who, ids, justid: false, done: false };
      send = () => c.xack(KEY, 'g1', ...ids);
    } else if (roll < 0.85) {
      const ids = pending.filter(() => r() < 0.2).slice(0, 4);
      if (ids.length === 0) ids.push(pending[0]);
      const justid = r() < 0.4;
      op = { kind: 'claim', consumer: who, ids, justid, done: false };
      send = () => (justid ? c.xclaim(KEY, 'g1', who, 0, ...ids, 'JUSTID') : c.xclaim(KEY, 'g1', who, 0, ...ids));
    } else {
      const justid = r() < 0.4;
      op = { kind: 'autoclaim', consumer: who, ids: [], justid, done: false };
      send = () => (justid ? c.xautoclaim(KEY, 'g1', who, 0, '0-0', 'COUNT', 3, 'JUSTID') : c.xautoclaim(KEY, 'g1', who, 0, '0-0', 'COUNT', 3));
    }
    model.ops.push(op);
    let dead = false;
    window.push(
      send().then(
        (reply) => model.apply(op, reply),
        (err: Error) => {
          if (GONE.test(err.message)) dead = true;
          else throw new Error(`g1 ${op.kind}: ${err.message}`);
        },
      ),
    );
    if (window.length >= depth) await window.shift();
    if (dead) break;
  }
  await Promise.allSettled(window);
}

/** Group g2: XREADGROUP BLOCK (woken by the XADD load) then XACK of about half, one at a time. */
async function driveG2(c: Redis, model: GroupModel, r: () => number, stop: () => boolean): Promise<void> {
  while (!stop()) {
    const read: Op = { kind: 'read', consumer: 'blk', ids: [], justid: false, done: false };
    model.ops.push(read);
    try {
      model.apply(read, await c.xreadgroup('GROUP', 'g2', 'blk', 'COUNT', '20', 'BLOCK', '1000', 'STREAMS', KEY, '>'));
      const ids = [...model.pel.keys()].filter(() => r() < 0.5);
      if (ids.length === 0) continue;
      const ack: Op = { kind: 'ack', consumer: 'blk', ids, justid: false, done: false };
      model.ops.push(ack);
      model.apply(ack, await c.xack(KEY, 'g2', ...ids));
    } catch (err) {
      if (GONE.test((err as Error).message)) return;
      throw err;
    }
  }
}

/** XADD load with bursts and pauses (the pauses let BLOCK reads actually block). */
async function driveAdds(c: Redis, r: () => number, stop: () => boolean): Promise<void> {
  let n = 0;
  while (!stop()) {
    const burst: Promise<unknown>[] = [];
    for (let i = 0; i < 1 + Math.floor(r() * 20); i++) burst.push(c.xadd(KEY, '*', 'n', String(n++), 'b', Buffer.from([0, 13, 10, n & 255])));
    const res = await Promise.allSettled(burst);
    if (res.some((x) => x.status === 'rejected')) return;
    if (r() < 0.3) await sleep(5 + Math.floor(r() * 30));
  }
}

describe.each(['always', 'everysec'] as const)('consumer groups, SIGKILL under load (appendfsync %s)', (policy) => {
  it('the recovered PEL is the acknowledged one, up to the operations in flight', async () => {
    const dir = await newDataDir(`groups-${policy}`);
    dirs.push(dir);
    const seed = Math.floor(Math.random() * 1e6);
    const r = rng(seed);
    const args = ['--appendfsync', policy, '--segment-initial-size', '64kb', '--segment-max-size', '256kb'];
    let server = await spawnSpool(dir, args);
    try {
      const setup = await connected(client(server.port));
      await setup.xgroup('CREATE', KEY, 'g1', '$', 'MKSTREAM');
      await setup.xgroup('CREATE', KEY, 'g2', '$');
      for (let i = 0; i < 50; i++) await setup.xadd(KEY, '*', 'seed', String(i));
      const g1 = new GroupModel();
      const g2 = new GroupModel();
      const [c1, c2, c3] = await Promise.all([1, 2, 3].map(() => connected(client(server.port))));
      let stopped = false;
      const stop = () => stopped;
      const running = Promise.all([driveG1(c1, g1, r, stop), driveG2(c2, g2, r, stop), driveAdds(c3, r, stop)]);
      const killAfter = 400 + Math.floor(r() * 1200);
      await sleep(killAfter);
      await server.kill('SIGKILL');
      await running;
      stopped = true;
      for (const c of [setup, c1, c2, c3]) c.disconnect();
      const where = `seed ${seed}, killed after ${killAfter} ms`;
      expect(g1.ops.filter((o) => o.done).length, `${where}: g1 did nothing`).toBeGreaterThan(20);
      expect(g2.ops.filter((o) => o.done && o.kind === 'read').length, `${where}: g2 did nothing`).toBeGreaterThan(0);

      server = await spawnSpool(dir, args);
      const check = await connected(client(server.port));
      try {
        g1.check(await pelOf(check, 'g1'), `${where} g1`);
        g2.check(await pelOf(check, 'g2'), `${where} g2`);
        // every model consumer still exists
        const names = ((await check.xinfo('CONSUMERS', KEY, 'g1')) as unknown[][]).map((c) => String(c[1]));
        for (const c of g1.consumers) expect(names).toContain(c);
      } finally {
        check.disconnect();
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 30000);
});
