// Prometheus metrics of one server instance: a prom-client Registry of its own (never the global one, so
// several servers in one process keep their numbers apart), Node's default metrics, and Spool's own.
//
// Nearly everything is read at scrape time in collect() callbacks from what the server keeps anyway
// (ServerStats, the commit batcher's counters, the streams' counters, the recovery summary), so an unscraped
// server pays nothing for it. The histograms are the exception: they must see every observation.
//   - per command (spool_command_duration_seconds) and per held reply (spool_durability_wait_seconds): the
//     server records into Buckets (buckets.ts: a few array writes, no allocation) through the observers this
//     module installs on ServerStats; the prom-client Histograms load them at scrape time (loadHistogram);
//   - per batch and per sync (spool_fsync_duration_seconds, spool_commit_batch_records,
//     spool_commit_sync_segments): the commit batcher's CommitObserver hooks call prom-client's observe().
//
// Per-stream series are bounded: at most `metrics-max-streams` streams (the largest by length) get their own
// series (and as many consumer-group series); everything else shows in the aggregates only.

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CommitBatcher } from '../storage/commitBatcher';
import type { ServerState, StreamTotals } from '../server/serverState';
import type { Stream } from '../streams/stream';
import { streamFacts } from '../commands/streamGroups';
import { REDIS_VERSION, SPOOL_VERSION } from '../version';
import { BATCH_RECORDS, Buckets, COMMAND_SECONDS, DURABILITY_WAIT_SECONDS, FSYNC_SECONDS, SYNC_SEGMENTS } from './buckets';

interface StreamRow {
  db: string;
  key: string;
  stream: Stream;
}

interface Snapshot extends StreamTotals {
  entriesAdded: number;
  lag: number;
  labelled: StreamRow[];
}

/** Label text for a key: keys are binary (latin1 strings); Prometheus labels are UTF-8. */
function keyLabel(key: string): string {
  return Buffer.from(key, 'latin1').toString('utf8');
}

/**
 * A counter derived from a sum that may go down (a stream deleted, XSETID): exposed as monotonic so that
 * rate() never sees a false reset; decreases are absorbed (what was added meanwhile is undercounted once).
 */
class Monotonic {
  private last = 0;
  total = 0;
  update(sum: number): number {
    if (sum > this.last) this.total += sum - this.last;
    this.last = sum;
    return this.total;
  }
}

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

  // One pass over the streams per scrape, shared by every stream metric (all collect() callbacks of one
  // scrape start in the same turn; the cache is dropped at the next one).
  let cached: Snapshot | null = null;
  const appended = new Monotonic();
  const appendedBytes = new Monotonic();
  const snapshot = (): Snapshot => {
    if (cached) return cached;
    const rows: StreamRow[] = [];
    let entriesAdded = 0;
    let lag = 0;
    const totals = state.streamTotals((db, key, stream) => {
      entriesAdded += Number(stream.entriesAdded);
      for (const group of stream.groups.values()) {
        const groupLag = group.lag(streamFacts(stream));
        if (groupLag !== null) lag += Number(groupLag);
      }
      rows.push({ db: String(db.index), key, stream });
    });
    const s: Snapshot = { ...totals, entriesAdded, lag, labelled: [] };
    const max = state.config.getNumber('metrics-max-streams');
    if (rows.length > max) rows.sort((a, b) => b.stream.length - a.stream.length);
    s.labelled = rows.slice(0, max);
    cached = s;
    setImmediate(() => (cached = null));
    return s;
  };

  const gauge = (name: string, help: string, collect: (g: Gauge) => void | Promise<void>, labelNames: string[] = []) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { return collect(this); } });
  // A counter whose value is read from a running total kept elsewhere.
  const counter = (name: string, help: string, collect: (set: (labels: Record<string, string>, v: number) => void) => void, labelNames: string[] = []) =>
    new Counter({
      name,
      help,
      labelNames,
      registers: [registry],
      collect() {
        this.reset();
        collect((labels, v) => this.inc(labels, Math.max(0, v)));
      },
    });

  gauge('spool_info', 'Spool build and settings (value 1).', (g) => {
    g.reset();
    g.set({ version: SPOOL_VERSION, redis_version: REDIS_VERSION, appendfsync: state.config.get('appendfsync') }, 1);
  }, ['version', 'redis_version', 'appendfsync']);
  gauge('spool_uptime_seconds', 'Seconds since the server started.', (g) => g.set((state.clock() - state.startedAt) / 1000));

  // ---- commands (ServerStats.commands, kept by the dispatcher) ----
  counter('spool_commands_total', 'Commands executed, by command.', (set) => {
    for (const [name, c] of state.stats.commands) set({ command: name }, c.calls);
  }, ['command']);
  counter('spool_command_errors_total', 'Commands that failed (error reply) or were rejected before running, by command.', (set) => {
    for (const [name, c] of state.stats.commands) set({ command: name }, c.failedCalls + c.rejectedCalls);
  }, ['command']);
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
    labelNames: ['command'],
    buckets: [...COMMAND_SECONDS],
    registers: [registry],
    collect() {
      loadHistogram(this, [...commandBuckets].map(([command, b]) => [{ command }, b]));
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
  counter('spool_error_replies_total', 'Error replies sent, by error code.', (set) => {
    for (const [code, n] of state.stats.errors) set({ code }, n);
  }, ['code']);

  // ---- clients ----
  gauge('spool_connected_clients', 'Clients connected.', (g) => g.set(state.clients.size));
  gauge('spool_blocked_clients', 'Clients blocked in XREAD/XREADGROUP.', (g) => g.set(state.blocking.blockedCount));
  counter('spool_connections_received_total', 'Connections accepted by the listeners.', (set) => set({}, state.stats.totalConnections));
  counter('spool_rejected_connections_total', 'Connections refused (maxclients, protected mode).', (set) => set({}, state.stats.rejectedConnections));
  counter('spool_net_input_bytes_total', 'Bytes read from clients.', (set) => set({}, state.stats.netInputBytes));
  counter('spool_net_output_bytes_total', 'Bytes written to clients.', (set) => set({}, state.stats.netOutputBytes));

  // ---- streams: aggregates ----
  gauge('spool_streams', 'Streams (keys).', (g) => g.set(snapshot().streams));
  gauge('spool_stream_entries', 'Live entries in all streams.', (g) => g.set(snapshot().entries));
  gauge('spool_stream_bytes', 'Bytes of the segment files of all streams.', (g) => g.set(snapshot().bytes));
  gauge('spool_consumer_groups', 'Consumer groups.', (g) => g.set(snapshot().groups));
  gauge('spool_group_pending_entries', 'Entries delivered and not acknowledged, all groups.', (g) => g.set(snapshot().pending));
  gauge('spool_group_lag_entries', 'Entries not yet delivered, all groups whose lag is known.', (g) => g.set(snapshot().lag));
  counter('spool_entries_appended_total', 'Entries appended (derived from the streams\' entries-added counters).', (set) =>
    set({}, appended.update(snapshot().entriesAdded)),
  );
  counter('spool_bytes_appended_total', 'Bytes appended to the stream logs (derived from the log sizes).', (set) =>
    set({}, appendedBytes.update(snapshot().bytes)),
  );
  gauge('spool_streams_unlabelled', 'Streams beyond metrics-max-streams, counted in the aggregates only.', (g) => {
    const s = snapshot();
    g.set(s.streams - s.labelled.length);
  });

  // ---- streams: per stream (bounded) ----
  gauge('spool_stream_length', 'Live entries (XLEN), per stream.', (g) => {
    g.reset();
    for (const r of snapshot().labelled) g.set({ db: r.db, stream: keyLabel(r.key) }, r.stream.length);
  }, ['db', 'stream']);
  gauge('spool_stream_size_bytes', 'Bytes of the segment files, per stream.', (g) => {
    g.reset();
    for (const r of snapshot().labelled) g.set({ db: r.db, stream: keyLabel(r.key) }, r.stream.dataBytes);
  }, ['db', 'stream']);
  const perGroup = (g: Gauge, value: (r: StreamRow, group: ReturnType<Stream['groups']['get']> & object) => number | null) => {
    g.reset();
    let budget = state.config.getNumber('metrics-max-streams');
    for (const r of snapshot().labelled) {
      for (const group of r.stream.groups.values()) {
        if (budget-- <= 0) return;
        const v = value(r, group);
        if (v !== null) g.set({ db: r.db, stream: keyLabel(r.key), group: keyLabel(group.name) }, v);
      }
    }
  };
  gauge('spool_group_lag', 'Entries not yet delivered to the group (XINFO GROUPS lag; absent when unknown).', (g) =>
    perGroup(g, (r, group) => {
      const lag = group.lag(streamFacts(r.stream));
      return lag === null ? null : Number(lag);
    }),
  ['db', 'stream', 'group']);
  gauge('spool_group_pending', 'Entries delivered to the group and not acknowledged (XPENDING count).', (g) =>
    perGroup(g, (_r, group) => group.pel.size),
  ['db', 'stream', 'group']);

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
