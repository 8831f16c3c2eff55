// The Prometheus endpoint end to end: a server with metrics-port, traffic from ioredis, then scrapes of
// /metrics over HTTP checking the metric names and values (commands, streams, groups, storage, bounded labels).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';

/** Parses the text format into `name{labels}` -> value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function scrape(port: number): Promise<{ text: string; m: Map<string, number>; type: string | null }> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, m: parse(text), type: res.headers.get('content-type') };
}

let spool: SpoolHandle;
let metricsPort: number;
let r: Redis;
beforeAll(async () => {
  metricsPort = await freePort();
  spool = await startSpool({ 'metrics-port': String(metricsPort), 'metrics-max-streams': '2', appendfsync: 'always' });
  r = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
});
afterAll(async () => {
  r?.disconnect();
  await spool?.stop();
});

describe('/metrics', () => {
  test('serves the metric names in the text format, with default Node metrics', async () => {
    const { text, type } = await scrape(metricsPort);
    expect(type).toMatch(/^text\/plain; version=0\.0\.4/);
    for (const name of [
      'spool_info', 'spool_uptime_seconds', 'spool_commands_total', 'spool_command_errors_total',
      'spool_command_duration_seconds', 'spool_connected_clients', 'spool_blocked_clients',
      'spool_streams', 'spool_stream_entries', 'spool_entries_appended_total', 'spool_bytes_appended_total',
      'spool_stream_length', 'spool_stream_size_bytes', 'spool_group_lag', 'spool_group_pending',
      'spool_commit_batches_total', 'spool_commit_syncs_total', 'spool_commit_sync_errors_total',
      'spool_commit_slow_syncs_total', 'spool_commit_last_sync_seconds', 'spool_storage_writable',
      'spool_recovery_duration_seconds', 'spool_disk_free_bytes', 'process_cpu_seconds_total',
      'nodejs_heap_size_used_bytes',
    ]) expect(text).toContain(`# TYPE ${name} `);
    for (const name of [
      'spool_command_duration_seconds', 'spool_durability_wait_seconds', 'spool_fsync_duration_seconds',
      'spool_commit_batch_records', 'spool_commit_sync_segments',
    ]) expect(text).toContain(`# TYPE ${name} histogram`);
  });

  test('counts commands, entries, groups, syncs; per-stream series are bounded', async () => {
    await r.flushall();
    for (let i = 0; i < 5; i++) await r.xadd('big', '*', 'f', 'v'.repeat(100));
    for (let i = 0; i < 3; i++) await r.xadd('mid', '*', 'f', 'v');
    await r.xadd('small', '*', 'f', 'v');
    await r.xgroup('CREATE', 'big', 'g1', '0');
    await r.xreadgroup('GROUP', 'g1', 'c1', 'COUNT', '2', 'STREAMS', 'big', '>');
    await expect(r.xadd('big', '1-1', 'f', 'v')).rejects.toThrow(/equal or smaller/);
    await r.set('x', 'y').catch(() => undefined); // unknown command: counted in error replies

    const { m } = await scrape(metricsPort);
    expect(m.get('spool_commands_total{command="xadd"}')).toBe(10);
    expect(m.get('spool_command_errors_total{command="xadd"}')).toBe(1);
    expect(m.get('spool_command_duration_seconds_count{command="xadd"}')).toBe(10);
    expect(m.get('spool_command_duration_seconds_sum{command="xadd"}')).toBeGreaterThan(0);
    expect(m.get('spool_connected_clients')).toBe(1);
    expect(m.get('spool_streams')).toBe(3);
    expect(m.get('spool_stream_entries')).toBe(9);
    expect(m.get('spool_entries_appended_total')).toBeGreaterThanOrEqual(9);
    expect(m.get('spool_bytes_appended_total')).toBeGreaterThan(500);
    // metrics-max-streams 2: the two longest streams get series, the third only the aggregates
    expect(m.get('spool_stream_length{db="0",stream="big"}')).toBe(5);
    expect(m.get('spool_stream_length{db="0",stream="mid"}')).toBe(3);
    expect(m.has('spool_stream_length{db="0",stream="small"}')).toBe(false);
    expect(m.get('spool_streams_unlabelled')).toBe(1);
    expect(m.get('spool_stream_size_bytes{db="0",stream="big"}')).toBeGreaterThan(500);
    expect(m.get('spool_group_pending{db="0",stream="big",group="g1"}')).toBe(2);
    expect(m.get('spool_group_lag{db="0",stream="big",group="g1"}')).toBe(3);
    expect(m.get('spool_group_pending_entries')).toBe(2);
    expect(m.get('spool_group_lag_entries')).toBe(3);
    // appendfsync always: every acknowledged XADD was behind a sync
    expect(m.get('spool_commit_batches_total')).toBeGreaterThanOrEqual(9);
    expect(m.get('spool_commit_syncs_total')).toBeGreaterThanOrEqual(1);
    expect(m.get('spool_commit_sync_errors_total')).toBe(0);
    expect(m.get('spool_storage_writable')).toBe(1);
    expect(m.get('spool_disk_free_bytes')).toBeGreaterThan(0);
    expect(m.get('spool_recovery_duration_seconds')).toBeGreaterThanOrEqual(0);
    expect(m.get('spool_info{version="0.1.0",redis_version="7.0.15",appendfsync="always"}')).toBe(1);
  });

  test('follows deletes without a false counter reset, and CONFIG SET metrics-max-streams', async () => {
    const before = (await scrape(metricsPort)).m.get('spool_entries_appended_total')!;
    await r.del('big');
    await r.config('SET', 'metrics-max-streams', '0');
    const { m } = await scrape(metricsPort);
    expect(m.get('spool_entries_appended_total')).toBe(before); // monotonic: the delete does not lower it
    expect([...m.keys()].some((k) => k.startsWith('spool_stream_length{'))).toBe(false);
    expect(m.get('spool_streams_unlabelled')).toBe(2);
    await r.config('SET', 'metrics-max-streams', '100');
  });

  test('every metric the Grafana dashboard (conf/grafana-dashboard.json) queries exists', async () => {
    const dashboard = readFileSync(path.join(__dirname, '..', '..', 'conf', 'grafana-dashboard.json'), 'utf8');
    const used = new Set(dashboard.match(/\b(?:spool|process|nodejs)_[a-z0-9_]+/g));
    expect(used.size).toBeGreaterThan(20);
    const { text } = await scrape(metricsPort);
    const names = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const histograms = new Set([...text.matchAll(/^# TYPE (\S+) histogram$/gm)].map((m) => m[1]));
    const exists = (n: string) => names.has(n) || histograms.has(n.replace(/_(?:bucket|sum|count)$/, ''));
    expect([...used].filter((n) => !exists(n))).toEqual([]);
  });

  test('/healthz answers ok, unknown paths 404, other methods 405', async () => {
    const ok = await fetch(`http://127.0.0.1:${metricsPort}/healthz`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toBe('ok\n');
    expect((await fetch(`http://127.0.0.1:${metricsPort}/nope`)).status).toBe(404);
    expect((await fetch(`http://127.0.0.1:${metricsPort}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  test('one registry per server: two servers in one process keep their numbers apart', async () => {
    const port2 = await freePort();
    const other = await startSpool({ 'metrics-port': String(port2) });
    try {
      const c = new Redis({ port: other.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await c.connect();
      await c.xadd('only-here', '*', 'a', 'b');
      const a = (await scrape(metricsPort)).m;
      const b = (await scrape(port2)).m;
      c.disconnect();
      expect(b.get('spool_commands_total{command="xadd"}')).toBe(1);
      expect(b.get('spool_streams')).toBe(1);
      expect(a.get('spool_commands_total{command="xadd"}')).toBe(10);
      expect(a.has('spool_stream_length{db="0",stream="only-here"}')).toBe(false);
    } finally {
      await other.stop();
    }
    // the endpoint closed with its server
    await expect(fetch(`http://127.0.0.1:${port2}/metrics`)).rejects.toThrow();
  });

  test('a metrics port already taken stops start-up with the option named', async () => {
    await expect(startSpool({ 'metrics-port': String(metricsPort) })).rejects.toThrow(/metrics-port .*EADDRINUSE/);
  });
});
