// The stream metrics: one family per quantity, with the stream (and group) as labels, so that a sum over a
// family is the total (sum(redis_stream_length) = live entries). Where redis_exporter reports the same quantity
// (its exporter/streams.go and exporter.go), the name, the label names and the `db` label's values ("db0") are
// its own, so its users' dashboards and alerts work unchanged; Spool-only quantities keep the spool_ prefix.
//
// Everything is read at scrape time, in one pass over the streams shared by every family of the scrape.
//
// Cardinality is bounded by `metrics-max-streams`: beyond it, the per-stream and per-group families cover only
// the first streams in order of database then key bytes (an order that does not change from one scrape to the
// next, so series do not come and go as streams grow), and spool_streams_unlabelled says how many were left
// out. redis_db_keys and spool_entries_appended_total count every stream.

import type { Registry } from 'prom-client';
import { streamFacts } from '../commands/streamGroups';
import type { ServerState } from '../server/serverState';
import type { ConsumerGroup } from '../streams/consumerGroup';
import type { Stream } from '../streams/stream';
import { Monotonic, counter, gauge, labelledGauge } from './families';

interface StreamRow {
  dbIndex: number;
  key: string;
  stream: Stream;
}

interface LabelledStream {
  labels: { db: string; stream: string };
  stream: Stream;
}

interface StreamScan {
  /** Streams given series of their own (at most metrics-max-streams). */
  labelled: LabelledStream[];
  /** Streams per database, every database (redis_db_keys). */
  perDb: number[];
  /** Streams beyond the cap. */
  unlabelled: number;
  /** Sum of every stream's entries-added counter. */
  entriesAdded: number;
}

/** Label text for a key: keys are binary (latin1 strings); Prometheus labels are UTF-8. */
function keyLabel(key: string): string {
  return Buffer.from(key, 'latin1').toString('utf8');
}

/** The `db` label as redis_exporter writes it (its keyspace and stream metrics use "db" + number). */
function dbLabel(index: number): string {
  return `db${index}`;
}

/** Database, then key bytes (latin1 strings compare by code unit, i.e. by byte). */
function byDbThenKey(a: StreamRow, b: StreamRow): number {
  if (a.dbIndex !== b.dbIndex) return a.dbIndex - b.dbIndex;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

function scanStreams(state: ServerState): StreamScan {
  const rows: StreamRow[] = [];
  const perDb: number[] = [];
  let entriesAdded = 0;
  for (const db of state.databases) {
    let n = 0;
    for (const [key, stream] of db.entries()) {
      n++;
      entriesAdded += Number(stream.entriesAdded);
      rows.push({ dbIndex: db.index, key, stream });
    }
    perDb.push(n);
  }
  const max = state.config.getNumber('metrics-max-streams');
  // Sorted only when over the cap: under it every stream is labelled and the order does not matter.
  if (rows.length > max) rows.sort(byDbThenKey);
  const labelled: LabelledStream[] = [];
  for (let i = 0; i < rows.length && i < max; i++) {
    const r = rows[i];
    labelled.push({ labels: { db: dbLabel(r.dbIndex), stream: keyLabel(r.key) }, stream: r.stream });
  }
  return { labelled, perDb, unlabelled: rows.length - labelled.length, entriesAdded };
}

export function registerStreamMetrics(registry: Registry, state: ServerState): void {
  // One pass per scrape: every collect() of one scrape starts in the same turn; the cache goes at the next one.
  let cached: StreamScan | null = null;
  const scan = (): StreamScan => {
    if (cached === null) {
      cached = scanStreams(state);
      setImmediate(() => (cached = null));
    }
    return cached;
  };

  const perStream = (name: string, help: string, value: (s: Stream) => number) =>
    labelledGauge(registry, name, help, ['db', 'stream'], (set) => {
      for (const r of scan().labelled) set(r.labels, value(r.stream));
    });
  // Groups of the labelled streams; a group whose value is unknown (null) has no sample.
  const perGroup = (name: string, help: string, value: (s: Stream, g: ConsumerGroup) => number | null) =>
    labelledGauge(registry, name, help, ['db', 'stream', 'group'], (set) => {
      for (const r of scan().labelled) {
        for (const group of r.stream.groups.values()) {
          const v = value(r.stream, group);
          if (v !== null) set({ db: r.labels.db, stream: r.labels.stream, group: keyLabel(group.name) }, v);
        }
      }
    });

  perStream('redis_stream_length', 'The number of entries of the stream (XLEN).', (s) => s.length);
  perStream('redis_stream_groups', 'Consumer groups of the stream.', (s) => s.groups.size);
  perStream('redis_stream_last_generated_id', 'The epoch timestamp (ms) of the last ID generated in the stream.', (s) => Number(s.lastId.ms));
  perStream('spool_stream_size_bytes', 'Bytes of the stream\'s segment files on disk.', (s) => s.dataBytes);
  perGroup('redis_stream_group_consumers', 'Consumers of the group.', (_s, g) => g.consumers.size);
  perGroup('redis_stream_group_messages_pending', 'Entries delivered to the group and not acknowledged (XPENDING count).', (_s, g) => g.pel.size);
  perGroup('redis_stream_group_lag', 'Entries not yet delivered to the group (XINFO GROUPS lag; no sample when unknown).', (s, g) => {
    const lag = g.lag(streamFacts(s));
    return lag === null ? null : Number(lag);
  });

  labelledGauge(registry, 'redis_db_keys', 'Keys (streams) by database.', ['db'], (set) => {
    scan().perDb.forEach((n, i) => set({ db: dbLabel(i) }, n));
  });
  gauge(registry, 'spool_streams_unlabelled', 'Streams beyond metrics-max-streams: absent from the per-stream and per-group families.', (g) =>
    g.set(scan().unlabelled),
  );
  const appended = new Monotonic();
  counter(registry, 'spool_entries_appended_total', 'Entries appended to streams (from the streams\' entries-added counters; deleted streams stay counted).', (set) =>
    set({}, appended.update(scan().entriesAdded)),
  );
}
