// The Prometheus endpoint end to end: a server with metrics-port, traffic from ioredis, then scrapes of
// /metrics over HTTP checking the metric names (redis_exporter's where the quantity is the same) and values
// (commands, streams, groups, storage, bounded labels).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { scrape, series, types, value } from './scrape';

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
    const { text, contentType } = await scrape(metricsPort);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    const declared = types(text);
    for (const [name, type] of [
      ['spool_info', 'gauge'], ['redis_uptime_in_seconds', 'gauge'],
      ['redis_commands_total', 'counter'], ['redis_commands_duration_seconds_total', 'counter'],
      ['redis_commands_failed_calls_total', 'counter'], ['redis_commands_rejected_calls_total', 'counter'],
      ['redis_errors_total', 'counter'], ['redis_connected_clients', 'gauge'], ['redis_blocked_clients', 'gauge'],
      ['redis_pubsub_channels', 'gauge'], ['redis_pubsub_patterns', 'gauge'], ['redis_pubsubshard_channels', 'gauge'],
      ['redis_connections_received_total', 'counter'], ['redis_rejected_connections_total', 'counter'],
      ['redis_net_input_bytes_total', 'counter'], ['redis_net_output_bytes_total', 'counter'],
      ['redis_db_keys', 'gauge'], ['redis_stream_length', 'gauge'], ['redis_stream_groups', 'gauge'],
      ['redis_stream_last_generated_id', 'gauge'], ['redis_stream_group_consumers', 'gauge'],
      ['redis_stream_group_messages_pending', 'gauge'], ['redis_stream_group_lag', 'gauge'],
      ['spool_stream_size_bytes', 'gauge'], ['spool_streams_unlabelled', 'gauge'],
      ['spool_entries_appended_total', 'counter'], ['spool_bytes_appended_total', 'counter'],
      ['spool_commit_batches_total', 'counter'], ['spool_commit_syncs_total', 'counter'],
      ['spool_commit_sync_errors_total', 'counter'], ['spool_commit_slow_syncs_total', 'counter'],
      ['spool_commit_last_sync_seconds', 'gauge'], ['spool_storage_writable', 'gauge'],
      ['spool_recovery_duration_seconds', 'gauge'], ['spool_disk_free_bytes', 'gauge'],
      ['process_cpu_seconds_total', 'counter'], ['nodejs_heap_size_used_bytes', 'gauge'],
      ['spool_command_duration_seconds', 'histogram'], ['spool_durability_wait_seconds', 'histogram'],
      ['spool_fsync_duration_seconds', 'histogram'], ['spool_commit_batch_records', 'histogram'],
      ['spool_commit_sync_segments', 'histogram'],
    ]) expect([name, declared.get(name)]).toEqual([name, type]);
  });

  test('one name per quantity: the replaced spool_ names and the totals of labelled families are gone', async () => {
    const declared = types((await scrape(metricsPort)).text);
    for (const name of [
      'spool_uptime_seconds', 'spool_commands_total', 'spool_command_errors_total', 'spool_error_replies_total',
      'spool_connected_clients', 'spool_blocked_clients', 'spool_connections_received_total',
      'spool_rejected_connections_total', 'spool_net_input_bytes_total', 'spool_net_output_bytes_total',
      'spool_streams', 'spool_stream_entries', 'spool_stream_bytes', 'spool_consumer_groups',
      'spool_group_pending_entries', 'spool_group_lag_entries', 'spool_stream_length', 'spool_group_lag',
      'spool_group_pending',
    ]) expect([name, declared.has(name)]).toEqual([name, false]);
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

    const { samples: m } = await scrape(metricsPort);
    expect(value(m, 'redis_commands_total', { cmd: 'xadd' })).toBe(10);
    expect(value(m, 'redis_commands_failed_calls_total', { cmd: 'xadd' })).toBe(1);
    expect(value(m, 'redis_commands_rejected_calls_total', { cmd: 'xadd' })).toBe(0);
    expect(value(m, 'redis_commands_duration_seconds_total', { cmd: 'xadd' })).toBeGreaterThan(0);
    expect(value(m, 'redis_errors_total', { err: 'ERR' })).toBeGreaterThanOrEqual(2);
    expect(value(m, 'spool_command_duration_seconds_count', { cmd: 'xadd' })).toBe(10);
    expect(value(m, 'spool_command_duration_seconds_sum', { cmd: 'xadd' })).toBeGreaterThan(0);
    expect(value(m, 'redis_connected_clients')).toBe(1);
    expect(value(m, 'redis_db_keys', { db: 'db0' })).toBe(3);
    expect(value(m, 'redis_db_keys', { db: 'db1' })).toBe(0);
    expect(value(m, 'spool_entries_appended_total')).toBeGreaterThanOrEqual(9);
    expect(value(m, 'spool_bytes_appended_total')).toBeGreaterThan(500);
    // metrics-max-streams 2: the first two streams by name get series, the third none
    expect(value(m, 'redis_stream_length', { db: 'db0', stream: 'big' })).toBe(5);
    expect(value(m, 'redis_stream_length', { db: 'db0', stream: 'mid' })).toBe(3);
    expect(value(m, 'redis_stream_length', { db: 'db0', stream: 'small' })).toBeUndefined();
    expect(value(m, 'spool_streams_unlabelled')).toBe(1);
    expect(value(m, 'spool_stream_size_bytes', { db: 'db0', stream: 'big' })).toBeGreaterThan(500);
    expect(value(m, 'redis_stream_groups', { db: 'db0', stream: 'big' })).toBe(1);
    expect(value(m, 'redis_stream_groups', { db: 'db0', stream: 'mid' })).toBe(0);
    expect(value(m, 'redis_stream_group_messages_pending', { db: 'db0', stream: 'big', group: 'g1' })).toBe(2);
    expect(value(m, 'redis_stream_group_lag', { db: 'db0', stream: 'big', group: 'g1' })).toBe(3);
    expect(value(m, 'redis_stream_group_consumers', { db: 'db0', stream: 'big', group: 'g1' })).toBe(1);
    const last = (await r.xinfo('STREAM', 'big')) as unknown[];
    const lastId = String(last[last.indexOf('last-generated-id') + 1]);
    expect(value(m, 'redis_stream_last_generated_id', { db: 'db0', stream: 'big' })).toBe(Number(lastId.split('-')[0]));
    // appendfsync always: every acknowledged XADD was behind a sync
    expect(value(m, 'spool_commit_batches_total')).toBeGreaterThanOrEqual(9);
    expect(value(m, 'spool_commit_syncs_total')).toBeGreaterThanOrEqual(1);
    expect(value(m, 'spool_commit_sync_errors_total')).toBe(0);
    expect(value(m, 'spool_storage_writable')).toBe(1);
    expect(value(m, 'spool_disk_free_bytes')).toBeGreaterThan(0);
    expect(value(m, 'spool_recovery_duration_seconds')).toBeGreaterThanOrEqual(0);
    expect(value(m, 'spool_info', { version: '0.1.0', redis_version: '7.0.15', appendfsync: 'always' })).toBe(1);
  });

  test('follows deletes without a false counter reset, and CONFIG SET metrics-max-streams', async () => {
    const before = value((await scrape(metricsPort)).samples, 'spool_entries_appended_total')!;
    await r.del('big');
    await r.config('SET', 'metrics-max-streams', '0');
    const { samples: m } = await scrape(metricsPort);
    expect(value(m, 'spool_entries_appended_total')).toBe(before); // monotonic: the delete does not lower it
    expect(series(m, 'redis_stream_length')).toEqual([]);
    expect(value(m, 'spool_streams_unlabelled')).toBe(2);
    expect(value(m, 'redis_db_keys', { db: 'db0' })).toBe(2); // not capped
    await r.config('SET', 'metrics-max-streams', '100');
  });

  test('every metric the Grafana dashboard (conf/grafana-dashboard.json) queries exists', async () => {
    const dashboard = readFileSync(path.join(__dirname, '..', '..', 'conf', 'grafana-dashboard.json'), 'utf8');
    const used = new Set(dashboard.match(/\b(?:spool|redis|process|nodejs)_[a-z0-9_]+/g));
    expect(used.size).toBeGreaterThan(20);
    const declared = types((await scrape(metricsPort)).text);
    const exists = (n: string) => declared.has(n) || declared.get(n.replace(/_(?:bucket|sum|count)$/, '')) === 'histogram';
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
      const a = (await scrape(metricsPort)).samples;
      const b = (await scrape(port2)).samples;
      c.disconnect();
      expect(value(b, 'redis_commands_total', { cmd: 'xadd' })).toBe(1);
      expect(value(b, 'redis_db_keys', { db: 'db0' })).toBe(1);
      expect(value(a, 'redis_commands_total', { cmd: 'xadd' })).toBe(10);
      expect(value(a, 'redis_stream_length', { db: 'db0', stream: 'only-here' })).toBeUndefined();
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
