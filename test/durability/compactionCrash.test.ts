// SIGKILL while checkpoints are written and old segments deleted: producers pipeline XADD MAXLEN ~ into streams
// with 64 KiB segments (a checkpoint and a deletion every few hundred entries) while a consumer group reads and
// acknowledges, and the server is killed at random moments. After each restart: start-up succeeds, every stream
// holds the newest acknowledged entries in order (MAXLEN ~ keeps the newest: the last acknowledged one must be
// there), entries-added counts every acknowledged XADD, the stream directories hold a bounded number of
// segments, and the group's PEL comes back whole.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { SpoolProcess } from '../helpers/spool';
import { client, connected, ensureBuilt, killHard, newDataDir, parseId, removeDir, sleep, spawnSpool } from './helpers';

const ROUNDS = 3;
const STREAMS = ['c:a', 'c:b'];
const ARGS = ['--appendfsync', 'everysec', '--segment-initial-size', '64kb', '--segment-max-size', '64kb'];

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('compaction-crash');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

interface Acked {
  /** IDs acknowledged per stream, in order. */
  ids: Map<string, string[]>;
}

/** Pipelines XADD MAXLEN ~ 300 batches into each stream until stopped; records every acknowledged ID. */
async function produce(conn: Redis, acked: Acked, stop: () => boolean): Promise<void> {
  const value = 'v'.repeat(150);
  let n = 0;
  while (!stop()) {
    const pipeline = conn.pipeline();
    for (let i = 0; i < 50; i++) for (const key of STREAMS) pipeline.xadd(key, 'MAXLEN', '~', '300', '*', 'n', String(n++), 'v', value);
    const results = await pipeline.exec().catch(() => null);
    if (!results) return;
    let k = 0;
    for (let i = 0; i < 50; i++) {
      for (const key of STREAMS) {
        const [err, id] = results[k++];
        if (err) return; // the server is gone: later replies are lost too
        acked.ids.get(key)!.push(id as string);
      }
    }
  }
}

/** Reads with the group and acknowledges all but every tenth entry, so the PEL stays non-empty across trims. */
async function consume(conn: Redis, stop: () => boolean): Promise<void> {
  let flip = 0;
  while (!stop()) {
    const reply = (await conn
      .xreadgroup('GROUP', 'g', 'worker', 'COUNT', '40', 'STREAMS', ...STREAMS, '>', '>')
      .catch(() => null)) as [string, [string, string[]][]][] | null;
    if (reply === null) {
      if (conn.status !== 'ready') return;
      await sleep(5);
      continue;
    }
    for (const [key, entries] of reply) {
      const ids = entries.map(([id]) => id).filter(() => flip++ % 10 !== 0);
      if (ids.length > 0 && (await conn.xack(key, 'g', ...ids).catch(() => null)) === null) return;
    }
  }
}

function segmentCounts(): number[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => readdirSync(path.join(dir, e.name)).filter((f) => f.endsWith('.log')).length);
}

describe('SIGKILL during checkpoints and segment deletion', () => {
  it('restarts with the newest acknowledged entries, counters and a consistent PEL', async () => {
    const acked: Acked = { ids: new Map(STREAMS.map((k) => [k, []])) };
    let server: SpoolProcess = await spawnSpool(dir, ARGS);
    try {
      const setup = await connected(client(server.port));
      for (const key of STREAMS) await setup.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
      setup.disconnect();
      for (let round = 0; round < ROUNDS; round++) {
        const producer = await connected(client(server.port));
        const consumer = await connected(client(server.port));
        let stopped = false;
        const running = Promise.all([produce(producer, acked, () => stopped), consume(consumer, () => stopped)]);
        const killAfter = 400 + Math.floor(Math.random() * 1200);
        await sleep(killAfter);
        await killHard(server);
        stopped = true;
        await running;
        producer.disconnect();
        consumer.disconnect();

        server = await spawnSpool(dir, ARGS);
        const check = await connected(client(server.port));
        try {
          for (const key of STREAMS) {
            const ids = acked.ids.get(key)!;
            const context = `${key} round ${round} (killed after ${killAfter} ms, ${ids.length} acknowledged)`;
            expect(ids.length, context).toBeGreaterThan(0);
            const info = (await check.call('XINFO', 'STREAM', key)) as unknown[];
            const field = (name: string) => info[info.indexOf(name) + 1];
            // every acknowledged XADD counted, and beyond them at most those in flight at each kill so far: one
            // pipeline of 50 per stream per round (a pipeline cut by the kill acknowledges none of its XADDs)
            const added = Number(field('entries-added'));
            expect(added, context).toBeGreaterThanOrEqual(ids.length);
            expect(added - ids.length, context).toBeLessThanOrEqual(50 * (round + 1));
            const range = (await check.xrange(key, '-', '+')) as [string, string[]][];
            const present = range.map(([id]) => id);
            // the newest acknowledged entries are all there, in order
            const last = ids[ids.length - 1];
            const at = present.indexOf(last);
            expect(at, `${context}: last acknowledged ${last} missing`).toBeGreaterThanOrEqual(0);
            // MAXLEN ~ keeps the newest: no acknowledged entry newer than the first one kept is missing (entries in
            // flight at an earlier kill may sit between them: added, never acknowledged)
            expect(present.length, context).toBeGreaterThanOrEqual(Math.min(300, ids.length));
            const [firstMs, firstSeq] = parseId(present[0]);
            const kept = new Set(present);
            for (const id of ids) {
              const [ms, seq] = parseId(id);
              if (ms > firstMs || (ms === firstMs && seq >= firstSeq)) expect(kept.has(id), `${context}: ${id} missing`).toBe(true);
            }
            // the PEL survived as a whole: its summary and its entries agree
            const summary = (await check.xpending(key, 'g')) as [number, ...unknown[]];
            const pending = (await check.xpending(key, 'g', '-', '+', 100000)) as unknown[];
            expect(pending.length, context).toBe(Number(summary[0]));
          }
          // old segments were deleted behind checkpoints (each stream wrote far more than this); a kill between a
          // checkpoint and its deletion leaves them to the restarted server, which deletes them shortly. What stays:
          // the live entries' segments, the active one and the spare, plus the checkpoint records after the live
          // entries, which carry the whole PEL (every tenth entry stays pending, so it grows round by round: about
          // 45 bytes of JSON per pending entry, counted here as 80, for the last two checkpoints)
          let pel = 0;
          for (const key of STREAMS) pel = Math.max(pel, ((await check.xpending(key, 'g')) as [number])[0]);
          const bound = 6 + 2 * Math.ceil((pel * 80) / (64 * 1024));
          let counts = segmentCounts();
          for (let waited = 0; waited < 5000 && counts.some((n) => n > bound); waited += 100) {
            await sleep(100);
            counts = segmentCounts();
          }
          for (const n of counts) expect(n, `segment files per stream (PEL ${pel}, bound ${bound})`).toBeLessThanOrEqual(bound);
        } finally {
          check.disconnect();
        }
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 120000);
});
