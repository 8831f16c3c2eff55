// The stream families of /metrics: one family per quantity with the stream (and group) as labels, so sums over
// a family are the totals; per-group lag, pending and consumers equal what a real redis-server 7.0 reports in
// XINFO GROUPS after the same commands; and the cardinality cap (metrics-max-streams) keeps the first streams
// by database then key, counts the rest in spool_streams_unlabelled, and leaves redis_db_keys whole.
import Redis from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { scrape, series, sum, value } from './scrape';

let spool: SpoolHandle;
let metricsPort: number;
let r: Redis;
beforeAll(async () => {
  metricsPort = await freePort();
  spool = await startSpool({ 'metrics-port': String(metricsPort) });
  r = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
});
afterAll(async () => {
  r?.disconnect();
  await spool?.stop();
});
beforeEach(async () => {
  await r.flushall();
  await r.config('SET', 'metrics-max-streams', '1000');
});

/** Appends `n` entries to `key` in database `db` (one pipeline) and selects database 0 again. */
async function fill(db: number, key: string, n: number): Promise<void> {
  const p = r.pipeline().select(db);
  for (let i = 0; i < n; i++) p.xadd(key, '*', 'i', String(i));
  p.select(0);
  const results = await p.exec();
  expect(results!.every(([err]) => err === null)).toBe(true);
}

describe('stream metrics', () => {
  test('per-stream series of one family sum to the totals', async () => {
    const lengths: [number, string, number][] = [
      [0, 'orders', 7], [0, 'payments', 3], [0, 'audit', 11], [1, 'orders', 5], [3, 'events', 2],
    ];
    for (const [db, key, n] of lengths) await fill(db, key, n);
    await r.xgroup('CREATE', 'orders', 'billing', '0');
    await r.xgroup('CREATE', 'orders', 'shipping', '0');
    await r.xgroup('CREATE', 'audit', 'archive', '0');
    await r.xreadgroup('GROUP', 'billing', 'c1', 'COUNT', '4', 'STREAMS', 'orders', '>');
    await r.xreadgroup('GROUP', 'archive', 'c1', 'COUNT', '2', 'STREAMS', 'audit', '>');

    const { samples: m } = await scrape(metricsPort);
    const total = lengths.reduce((a, [, , n]) => a + n, 0);
    expect(series(m, 'redis_stream_length')).toHaveLength(lengths.length);
    expect(sum(m, 'redis_stream_length')).toBe(total);
    for (const [db, key, n] of lengths) expect(value(m, 'redis_stream_length', { db: `db${db}`, stream: key })).toBe(n);
    // the same key in two databases: two series, told apart by db
    expect(value(m, 'redis_stream_length', { db: 'db1', stream: 'orders' })).toBe(5);
    expect(sum(m, 'redis_db_keys')).toBe(lengths.length);
    expect(value(m, 'redis_db_keys', { db: 'db0' })).toBe(3);
    expect(value(m, 'redis_db_keys', { db: 'db3' })).toBe(1);
    expect(series(m, 'redis_db_keys')).toHaveLength(16); // every database, as redis_exporter reports them
    expect(sum(m, 'redis_stream_groups')).toBe(3);
    expect(sum(m, 'redis_stream_group_messages_pending')).toBe(6);
    // lag: orders has 7 entries, billing read 4, shipping none; audit has 11, archive read 2
    expect(sum(m, 'redis_stream_group_lag')).toBe(3 + 7 + 9);
    expect(sum(m, 'spool_stream_size_bytes')).toBeGreaterThan(0);
    expect(value(m, 'spool_streams_unlabelled')).toBe(0);
  });

  test('group lag, pending and consumers per group equal XINFO GROUPS of redis-server after the same commands', async () => {
    const redis: RunningRedis = await startRedis();
    const ref = new Redis({ port: redis.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    try {
      await ref.connect();
      const script: (string | number)[][] = [];
      for (let i = 1; i <= 10; i++) script.push(['XADD', 's', `${i}-1`, 'f', `v${i}`]);
      script.push(['XADD', 'other', '1-1', 'f', 'v']);
      for (const [group, from] of [['ga', '0'], ['gb', '0'], ['gc', '$'], ['gd', '0']]) script.push(['XGROUP', 'CREATE', 's', group, from]);
      script.push(['XGROUP', 'CREATE', 'other', 'ga', '0']);
      script.push(['XREADGROUP', 'GROUP', 'ga', 'c1', 'COUNT', 4, 'STREAMS', 's', '>']);
      script.push(['XREADGROUP', 'GROUP', 'ga', 'c2', 'COUNT', 2, 'STREAMS', 's', '>']);
      script.push(['XACK', 's', 'ga', '1-1', '2-1', '5-1']);
      script.push(['XREADGROUP', 'GROUP', 'gb', 'c1', 'COUNT', 10, 'STREAMS', 's', '>']);
      script.push(['XACK', 's', 'gb', ...Array.from({ length: 10 }, (_, i) => `${i + 1}-1`)]);
      script.push(['XREADGROUP', 'GROUP', 'gd', 'c1', 'COUNT', 8, 'STREAMS', 's', '>']);
      script.push(['XGROUP', 'CREATECONSUMER', 's', 'gd', 'idle']);
      script.push(['XREADGROUP', 'GROUP', 'ga', 'c1', 'COUNT', 1, 'STREAMS', 'other', '>']);
      // a deletion after ga's and gd's last delivered entries (not gb's): Redis cannot always tell their lag (nil)
      script.push(['XDEL', 's', '9-1']);
      for (const [cmd, ...args] of script) {
        await r.call(String(cmd), ...args.map(String));
        await ref.call(String(cmd), ...args.map(String));
      }

      const { samples: m } = await scrape(metricsPort);
      let compared = 0;
      for (const key of ['s', 'other']) {
        const groups = (await ref.call('XINFO', 'GROUPS', key)) as unknown[][];
        expect(groups.length).toBeGreaterThan(0);
        for (const flat of groups) {
          const g = new Map<string, unknown>();
          for (let i = 0; i < flat.length; i += 2) g.set(String(flat[i]), flat[i + 1]);
          const labels = { db: 'db0', stream: key, group: String(g.get('name')) };
          expect([labels, value(m, 'redis_stream_group_consumers', labels)]).toEqual([labels, g.get('consumers')]);
          expect([labels, value(m, 'redis_stream_group_messages_pending', labels)]).toEqual([labels, g.get('pending')]);
          // nil lag in Redis: no sample
          const lag = g.get('lag');
          expect([labels, value(m, 'redis_stream_group_lag', labels)]).toEqual([labels, lag === null ? undefined : lag]);
          compared++;
        }
      }
      expect(compared).toBe(5);
      // the script's expectations, in case both sides were wrong in the same way
      expect(value(m, 'redis_stream_group_messages_pending', { db: 'db0', stream: 's', group: 'ga' })).toBe(3);
      expect(value(m, 'redis_stream_group_lag', { db: 'db0', stream: 's', group: 'ga' })).toBeUndefined();
      expect(value(m, 'redis_stream_group_lag', { db: 'db0', stream: 's', group: 'gc' })).toBe(0);
      expect(value(m, 'redis_stream_group_consumers', { db: 'db0', stream: 's', group: 'gd' })).toBe(2);
    } finally {
      ref.disconnect();
      await redis.stop();
    }
  });

  test('metrics-max-streams: the first streams by database then key get series, the rest are counted', async () => {
    // created out of name order, and the longest stream sorts last
    for (const [db, key, n] of [[0, 'zeta', 9], [1, 'alpha', 1], [0, 'mike', 2], [0, 'bravo', 1], [0, 'echo', 1]] as const) {
      await fill(db, key, n);
    }
    await r.xgroup('CREATE', 'zeta', 'gz', '0');
    await r.xgroup('CREATE', 'bravo', 'gb', '0');
    await r.config('SET', 'metrics-max-streams', '3');

    let m = (await scrape(metricsPort)).samples;
    const labelled = (name: string) => series(m, name).map((s) => `${s.labels.db}/${s.labels.stream}`).sort();
    for (const name of ['redis_stream_length', 'redis_stream_groups', 'redis_stream_last_generated_id', 'spool_stream_size_bytes']) {
      expect([name, labelled(name)]).toEqual([name, ['db0/bravo', 'db0/echo', 'db0/mike']]);
    }
    expect(value(m, 'spool_streams_unlabelled')).toBe(2);
    // groups of left-out streams are left out too
    expect(labelled('redis_stream_group_lag')).toEqual(['db0/bravo']);
    // the per-database key count is not capped
    expect(value(m, 'redis_db_keys', { db: 'db0' })).toBe(4);
    expect(value(m, 'redis_db_keys', { db: 'db1' })).toBe(1);

    // many streams: the scrape stays at the cap
    const p = r.pipeline();
    for (let i = 0; i < 200; i++) p.xadd(`bulk:${String(i).padStart(3, '0')}`, '*', 'f', 'v');
    await p.exec();
    m = (await scrape(metricsPort)).samples;
    expect(series(m, 'redis_stream_length')).toHaveLength(3);
    expect(labelled('redis_stream_length')).toEqual(['db0/bravo', 'db0/bulk:000', 'db0/bulk:001']);
    expect(value(m, 'spool_streams_unlabelled')).toBe(202);

    // CONFIG SET raises the cap at once
    await r.config('SET', 'metrics-max-streams', '1000');
    m = (await scrape(metricsPort)).samples;
    expect(series(m, 'redis_stream_length')).toHaveLength(205);
    expect(sum(m, 'redis_stream_length')).toBe(9 + 1 + 2 + 1 + 1 + 200);
    expect(value(m, 'spool_streams_unlabelled')).toBe(0);
  });
});
