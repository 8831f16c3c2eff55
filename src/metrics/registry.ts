// Prometheus metrics of one server instance: a prom-client Registry of its own (never the global one, so
// several servers in one process keep their numbers apart), Node's default metrics, and Spool's own.
//
// Names: where redis_exporter (the exporter people already run next to Redis) reports the same quantity, the
// metric has its name and label names (redis_commands_total{cmd}, redis_errors_total{err},
// redis_connected_clients, redis_stream_length{db,stream} ...); quantities only Spool has keep the spool_
// prefix. One name per quantity, and no metric that is only the sum of a labelled family. The README's
// metrics section lists them, with the table of the names they replaced.
//
// Nearly everything is read at scrape time in collect() callbacks from what the server keeps anyway
// (ServerStats, the commit batcher's counters, the streams, the logs' end positions, the recovery summary), so
// an unscraped server pays nothing for it. The histograms are the exception: they must see every observation.
//   - per command (spool_command_duration_seconds) and per held reply (spool_durability_wait_seconds): the
//     server records into Buckets (buckets.ts: a few array writes, no allocation) through the observers this
//     module installs on ServerStats; the prom-client Histograms load them at scrape time (loadHistogram);
//   - per batch and per sync (spool_fsync_duration_seconds, spool_commit_batch_records,
//     spool_commit_sync_segments): the commit batcher's CommitObserver hooks call prom-client's observe().
//
// The stream families and their cardinality cap are in streamMetrics.ts.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommitBatcher } from '../storage/commitBatcher';
import type { ServerState } from '../server/serverState';
import { REDIS_VERSION, SPOOL_VERSION } from '../version';
import { BATCH_RECORDS, Buckets, COMMAND_SECONDS, DURABILITY_WAIT_SECONDS, FSYNC_SECONDS, SYNC_SEGMENTS } from './buckets';
import { counter as counterOf, gauge as gaugeOf, labelledGauge, type SetSample } from './families';
import { registerStreamMetrics } from './streamMetrics';

/** One series of a histogram as prom-client 15 keeps it (Histogram#hashMap values); bucket counts not cumulative. */
interface HistogramSeries {
  labels: Record<string, string>;
  bucketValues: Record<number, number>;
  sum: number;
  count: number;
}

/**
 * Replaces the series of a prom-client Histogram with the contents of Buckets (bounds must be the histogram's).
 * prom-client has no public way to set a histogram from counts kept elsewhere, so this writes the series map
 * its exposition reads (stable from prom-client 11 to 15; test/metrics checks buckets, sum and count).
 */
export function loadHistogram(h: Histogram<string>, series: Iterable<[Record<string, string>, Buckets]>): void {
  const map: Record<string, HistogramSeries> = {};
  let n = 0;
  for (const [labels, b] of series) {
    const bucketValues: Record<number, number> = {};
    for (let i = 0; i < b.bounds.length; i++) bucketValues[b.bounds[i]] = b.counts[i];
    map[String(n++)] = { labels, bucketValues, sum: b.sum, count: b.count };
  }
  const internal = h as unknown as { hashMap?: Record<string, HistogramSeries> };
  if (typeof internal.hashMap !== 'object') throw new Error('prom-client Histogram internals changed: see loadHistogram');
  internal.hashMap = map;
}

/**
 * The commit histograms, fed by the batcher's hooks (per batch and per sync: observe() is cheap enough there).
 * Without a batcher (no storage engine) they stay empty.
 */
function observeBatcher(batcher: CommitBatcher | null, registry: Registry): void {
  const fsync = new Histogram({
    name: 'spool_fsync_duration_seconds',
    help: 'Latency of each fdatasync of a segment by the commit batcher (commits under always, everysec syncs, retries).',
    buckets: [...FSYNC_SECONDS],
    registers: [registry],
  });
  const records = new Histogram({
    name: 'spool_commit_batch_records',
    help: 'Appends per group-commit batch (the records of one event-loop turn that share a durability ticket).',
    buckets: [...BATCH_RECORDS],
    registers: [registry],
  });
  const segments = new Histogram({
    name: 'spool_commit_sync_segments',
    help: 'Segments synced (in parallel) per sync round: a commit under always, a periodic sync under everysec, a retry.',
    buckets: [...SYNC_SEGMENTS],
    registers: [registry],
  });
  if (batcher === null) return;
  batcher.observer = {
    batch: (n) => records.observe(n),
    syncRound: (n) => segments.observe(n),
    fsync: (seconds) => fsync.observe(seconds),
  };
}

export interface MetricsOptions {
  /** Directory whose file system's free space is reported (the `dir` option). */
  dataDir?: string;
}

export function buildRegistry(state: ServerState, opts: MetricsOptions = {}): Registry {
  const registry = new Registry();
  // Node's process_* and nodejs_* metrics, unprefixed as every Node dashboard expects them.
  collectDefaultMetrics({ register: registry });
  const dataDir = path.resolve(opts.dataDir ?? state.config.get('dir'));
  const gauge = (name: string, help: string, collect: (g: Gauge) => void | Promise<void>) => gaugeOf(registry, name, help, collect);
  const counter = (name: string, help: string, collect: (set: SetSample) => void, labelNames: string[] = []) =>
    counterOf(registry, name, help, collect, labelNames);

  labelledGauge(registry, 'spool_info', 'Spool build and settings (value 1).', ['version', 'redis_version', 'appendfsync'], (set) =>
    set({ version: SPOOL_VERSION, redis_version: REDIS_VERSION, appendfsync: state.config.get('appendfsync') }, 1),
  );
  gauge('redis_uptime_in_seconds', 'Seconds since the server started.', (g) => g.set((state.clock() - state.startedAt) / 1000));

  // ---- commands (ServerStats.commands, kept by the dispatcher; CONFIG RESETSTAT resets them, as in Redis) ----
  const perCommand = (name: string, help: string, value: (c: { calls: number; usec: number; failedCalls: number; rejectedCalls: number }) => number) =>
    counter(name, help, (set) => {
      for (const [cmd, c] of state.stats.commands) set({ cmd }, value(c));
    }, ['cmd']);
  perCommand('redis_commands_total', 'Calls per command (INFO commandstats calls).', (c) => c.calls);
  perCommand('redis_commands_duration_seconds_total', 'Seconds spent executing each command (INFO commandstats usec).', (c) => c.usec / 1e6);
  perCommand('redis_commands_failed_calls_total', 'Calls that failed while running (error reply), per command.', (c) => c.failedCalls);
  perCommand('redis_commands_rejected_calls_total', 'Calls refused before running (arity, authentication, MISCONF...), per command.', (c) => c.rejectedCalls);
  // Per command name (bounded by the command table). Kept here rather than in ServerStats so that CONFIG
  // RESETSTAT (which clears the commandstats) does not make the histogram go back.
  const commandBuckets = new Map<string, Buckets>();
  state.stats.observeCommands((name) => {
    let b = commandBuckets.get(name);
    if (b === undefined) commandBuckets.set(name, (b = new Buckets(COMMAND_SECONDS)));
    return b;
  });
  new Histogram({
    name: 'spool_command_duration_seconds',
    help: 'Time executing each command (the handler; not the wait for durability), by command.',
    labelNames: ['cmd'],
    buckets: [...COMMAND_SECONDS],
    registers: [registry],
    collect() {
      loadHistogram(this, [...commandBuckets].map(([cmd, b]) => [{ cmd }, b]));
    },
  });
  const waits = new Buckets(DURABILITY_WAIT_SECONDS);
  state.stats.durabilityWait = waits;
  new Histogram({
    name: 'spool_durability_wait_seconds',
    help: 'Time a reply was held for its durability ticket, from its command until its release (replies that waited only).',
    buckets: [...DURABILITY_WAIT_SECONDS],
    registers: [registry],
    collect() {
      loadHistogram(this, [[{}, waits]]);
    },
  });
  counter('redis_errors_total', 'Error replies sent, by error code (INFO errorstats).', (set) => {
    for (const [err, n] of state.stats.errors) set({ err }, n);
  }, ['err']);

  // ---- clients ----
  gauge('redis_connected_clients', 'Clients connected.', (g) => g.set(state.clients.size));
  gauge('redis_blocked_clients', 'Clients blocked in XREAD/XREADGROUP.', (g) => g.set(state.blocking.blockedCount));
  gauge('redis_pubsub_channels', 'Pub/Sub channels with at least one subscriber.', (g) => g.set(state.pubsub.size('channel')));
  gauge('redis_pubsub_patterns', 'Pub/Sub patterns with at least one subscriber.', (g) => g.set(state.pubsub.size('pattern')));
  gauge('redis_pubsubshard_channels', 'Pub/Sub shard channels with at least one subscriber.', (g) => g.set(state.pubsub.size('shard')));
  counter('redis_connections_received_total', 'Connections accepted by the listeners.', (set) => set({}, state.stats.totalConnections));
  counter('redis_rejected_connections_total', 'Connections refused (maxclients, protected mode).', (set) => set({}, state.stats.rejectedConnections));
  counter('redis_net_input_bytes_total', 'Bytes read from clients.', (set) => set({}, state.stats.netInputBytes));
  counter('redis_net_output_bytes_total', 'Bytes written to clients.', (set) => set({}, state.stats.netOutputBytes));

  // ---- streams (streamMetrics.ts) and the bytes written for them ----
  registerStreamMetrics(registry, state);
  counter('spool_bytes_appended_total', 'Record bytes appended to the stream logs (entries, journaled commands, checkpoints).', (set) =>
    set({}, state.persistence?.bytesAppended ?? 0),
  );

  // ---- storage: group commit (persistence.batcher) ----
  const batcher = () => state.persistence?.batcher ?? null;
  observeBatcher(state.persistence?.batcher ?? null, registry);
  counter('spool_commit_batches_total', 'Group-commit batches closed.', (set) => set({}, batcher()?.batches ?? 0));
  counter('spool_commit_syncs_total', 'fdatasync rounds of the commit batcher.', (set) => set({}, batcher()?.syncs ?? 0));
  counter('spool_commit_sync_errors_total', 'Failed syncs (writes are refused with MISCONF until a retry succeeds).', (set) => set({}, batcher()?.syncErrors ?? 0));
  counter('spool_commit_slow_syncs_total', 'Syncs slower than 2 s (Redis: aof_delayed_fsync).', (set) => set({}, batcher()?.delayedSyncs ?? 0));
  gauge('spool_commit_last_sync_seconds', 'Duration of the last sync.', (g) => g.set((batcher()?.lastSyncMs ?? 0) / 1000));
  gauge('spool_storage_writable', '1 while writes are accepted, 0 while a storage error is sticky (MISCONF).', (g) =>
    g.set(state.persistence === null || state.persistence.writable() ? 1 : 0),
  );

  // ---- recovery and disk ----
  counter('spool_checkpoints_total', 'Checkpoint records written (before deleting old segments, and at shutdown).', (set) =>
    set({}, state.persistence?.checkpointsWritten ?? 0),
  );
  counter('spool_segments_deleted_total', 'Segment files deleted behind checkpoints.', (set) => set({}, state.persistence?.segmentsDeleted ?? 0));
  gauge('spool_segments_open', 'Segment files open and mapped now (bounded by open-segments-limit).', (g) =>
    g.set(state.persistence?.openSegments.open ?? 0),
  );
  counter('spool_segments_evicted_total', 'Segment files closed by the open-segments LRU.', (set) =>
    set({}, state.persistence?.openSegments.evictions ?? 0),
  );
  gauge('spool_recovery_duration_seconds', 'Time start-up recovery took.', (g) => g.set(state.recovery?.seconds ?? 0));
  gauge('spool_recovery_entries', 'Entries recovered at start-up.', (g) => g.set(state.recovery?.entries ?? 0));
  gauge('spool_recovery_repairs', 'Repairs (torn tails cut) made by start-up recovery.', (g) => g.set(state.recovery?.repairs.length ?? 0));
  const disk = async (g: Gauge, pick: (s: { bavail: number; blocks: number; bsize: number }) => number) => {
    try {
      g.set(pick(await fsp.statfs(dataDir)));
    } catch {
      g.reset(); // the directory is gone or unreadable: no sample rather than a wrong one
    }
  };
  gauge('spool_disk_free_bytes', 'Bytes available to Spool on the data directory\'s file system.', (g) => disk(g, (s) => s.bavail * s.bsize));
  gauge('spool_disk_size_bytes', 'Size of the data directory\'s file system.', (g) => disk(g, (s) => s.blocks * s.bsize));

  return registry;
}
