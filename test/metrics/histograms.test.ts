// The histograms of /metrics end to end: a server under appendfsync always, XADDs from ioredis (one at a time
// and pipelined), then scrapes checking fsync latency, group-commit batch sizes, durability waits and command
// latency: bucket series present, cumulative, and counts that match what was sent.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { scrape, type Sample } from './scrape';

/** One histogram series (selected by `match` labels): its buckets by `le`, sum and count. */
function histogram(samples: Sample[], name: string, match: Record<string, string> = {}) {
  const fits = (s: Sample) => Object.entries(match).every(([k, v]) => s.labels[k] === v);
  const buckets = samples.filter((s) => s.name === `${name}_bucket` && fits(s)).map((s) => [s.labels.le, s.value] as const);
  const one = (suffix: string) => samples.find((s) => s.name === `${name}${suffix}` && fits(s))?.value;
  return { buckets, sum: one('_sum'), count: one('_count') };
}

/** Buckets must be cumulative, end with +Inf, and +Inf must equal the count. */
function expectWellFormed(h: ReturnType<typeof histogram>): void {
  expect(h.buckets.length).toBeGreaterThan(5);
  expect(h.buckets[h.buckets.length - 1][0]).toBe('+Inf');
  for (let i = 1; i < h.buckets.length; i++) {
    expect(h.buckets[i][1]).toBeGreaterThanOrEqual(h.buckets[i - 1][1]);
    if (h.buckets[i][0] !== '+Inf') expect(Number(h.buckets[i][0])).toBeGreaterThan(Number(h.buckets[i - 1][0]));
  }
  expect(h.buckets[h.buckets.length - 1][1]).toBe(h.count);
}

let spool: SpoolHandle;
let metricsPort: number;
let r: Redis;
beforeAll(async () => {
  metricsPort = await freePort();
  spool = await startSpool({ 'metrics-port': String(metricsPort), appendfsync: 'always' });
  r = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
});
afterAll(async () => {
  r?.disconnect();
  await spool?.stop();
});

const ONE_BY_ONE = 20;
const PIPELINED = 50;

describe('/metrics histograms', () => {
  test('are typed histograms and start empty but present', async () => {
    const { text, samples } = await scrape(metricsPort);
    for (const name of [
      'spool_fsync_duration_seconds', 'spool_commit_batch_records', 'spool_commit_sync_segments',
      'spool_durability_wait_seconds', 'spool_command_duration_seconds',
    ]) expect(text).toContain(`# TYPE ${name} histogram`);
    // unlabelled histograms show their zero series before the first observation
    expect(histogram(samples, 'spool_durability_wait_seconds').count).toBe(0);
    expect(histogram(samples, 'spool_fsync_duration_seconds').count).toBeGreaterThanOrEqual(0);
  });

  test('under appendfsync always, XADDs show in fsync, batch, durability-wait and command histograms', async () => {
    const before = histogram((await scrape(metricsPort)).samples, 'spool_fsync_duration_seconds').count ?? 0;
    for (let i = 0; i < ONE_BY_ONE; i++) await r.xadd('h', '*', 'i', String(i));
    const pipe = r.pipeline();
    for (let i = 0; i < PIPELINED; i++) pipe.xadd('h', '*', 'p', String(i));
    const results = await pipe.exec();
    expect(results!.every(([err]) => err === null)).toBe(true);

    const { samples } = await scrape(metricsPort);
    const total = ONE_BY_ONE + PIPELINED;

    const fsync = histogram(samples, 'spool_fsync_duration_seconds');
    expectWellFormed(fsync);
    expect(fsync.count).toBeGreaterThan(before);
    expect(fsync.sum).toBeGreaterThan(0);
    expect(Number(fsync.buckets[0][0])).toBe(0.00005); // 50 µs ... 5 s
    expect(Number(fsync.buckets[fsync.buckets.length - 2][0])).toBe(5);

    // every append joined a batch: the batch sizes add up to at least the appends (directory creation too)
    const batches = histogram(samples, 'spool_commit_batch_records');
    expectWellFormed(batches);
    expect(batches.count).toBeGreaterThan(0);
    expect(batches.sum).toBeGreaterThanOrEqual(total);
    // one at a time: at least ONE_BY_ONE batches; pipelined: fewer batches than appends
    expect(batches.count).toBeGreaterThanOrEqual(ONE_BY_ONE);
    expect(batches.count).toBeLessThan(total + 5);

    const segments = histogram(samples, 'spool_commit_sync_segments');
    expectWellFormed(segments);
    expect(segments.count).toBeGreaterThan(0);
    expect(segments.count).toBeLessThanOrEqual(fsync.count!);

    // each XADD reply was held until its batch was synced
    const wait = histogram(samples, 'spool_durability_wait_seconds');
    expectWellFormed(wait);
    expect(wait.count).toBe(total);
    expect(wait.sum).toBeGreaterThan(0);

    const xadd = histogram(samples, 'spool_command_duration_seconds', { cmd: 'xadd' });
    expectWellFormed(xadd);
    const calls = samples.find((s) => s.name === 'redis_commands_total' && s.labels.cmd === 'xadd')?.value;
    expect(calls).toBe(total);
    expect(xadd.count).toBe(calls);
    expect(xadd.sum).toBeGreaterThan(0);
    expect(Number(xadd.buckets[0][0])).toBe(0.000005);
  });

  test('commands that wait for nothing are timed but not counted as durability waits', async () => {
    const before = histogram((await scrape(metricsPort)).samples, 'spool_durability_wait_seconds').count!;
    for (let i = 0; i < 5; i++) await r.ping();
    await r.set('x', 'y').catch(() => undefined); // unknown command: rejected, not timed
    const { samples } = await scrape(metricsPort);
    expect(histogram(samples, 'spool_durability_wait_seconds').count).toBe(before);
    expect(histogram(samples, 'spool_command_duration_seconds', { cmd: 'ping' }).count).toBe(5);
  });

  test('CONFIG RESETSTAT clears commandstats but the command histogram keeps counting (no false reset)', async () => {
    const before = histogram((await scrape(metricsPort)).samples, 'spool_command_duration_seconds', { cmd: 'xadd' }).count!;
    await r.config('RESETSTAT');
    await r.xadd('h', '*', 'after', 'reset');
    const { samples } = await scrape(metricsPort);
    expect(samples.find((s) => s.name === 'redis_commands_total' && s.labels.cmd === 'xadd')?.value).toBe(1);
    expect(histogram(samples, 'spool_command_duration_seconds', { cmd: 'xadd' }).count).toBe(before + 1);
  });
});
