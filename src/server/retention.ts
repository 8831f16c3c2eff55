// Retention beyond Redis: streams bounded by age (maxage) and by bytes (maxbytes), per stream (XCFGSET) or by
// the server defaults (stream-maxage, stream-maxbytes). Enforced without scanning the keyspace:
// - after each XADD (and XCFGSET) on a stream with a bound in effect, once the command has been journaled (the
//   dispatcher calls flush()), so the trim is ordered after the command's own records in the log;
// - by a timer (every second) over the set of streams known to have a bound (streams join it when written or
//   configured; a server default that becomes non-zero, and start-up, register the existing streams once).
// A trim is computed as one MINID (age: now - maxage; bytes: the first entry to keep, a binary search over the
// index's cumulative byte column), applied exactly as `XTRIM key MINID <id>` and recorded as that TRIM change, so
// recovery replays the same trim whatever the clock says then.

import { performance } from 'node:perf_hooks';
import { StorageError, unrefInterval } from '../storage/commitBatcher';
import type { Database } from '../keyspace/database';
import type { Stream } from '../streams/stream';
import { type StreamId, compareIds, formatId } from '../streams/streamId';
import type { ServerState } from './serverState';
import { ChangeType } from '../streams/changeRecords';

const XTRIM = Buffer.from('XTRIM');
const MINID = Buffer.from('MINID');

export interface RetentionOptions {
  /** Period of the background check, ms (default 1000). */
  periodMs?: number;
  /** Starts a periodic timer; returns its stop function (default setInterval, unref'd). */
  every?: (ms: number, fn: () => void) => () => void;
}

export class Retention {
  private defaultMaxAge: number;
  private defaultMaxBytes: number;
  /** Streams that had a bound in effect when last seen, with their database. */
  private readonly streams = new Map<Stream, Database>();
  /** The stream the command in progress changed (checked by flush() once the command is journaled). */
  private pendingStream: Stream | null = null;
  private pendingDb: Database | null = null;
  /** Existing streams must be registered once (start-up, or a server default became non-zero). */
  private scanNeeded = true;
  private stopTimer: (() => void) | null = null;
  private closed = false;
  /** The timer runs only once the server has recovered and listens (start()). */
  private started = false;
  private readonly periodMs: number;
  private readonly every: (ms: number, fn: () => void) => () => void;
  /** Entries trimmed by retention since start (INFO / tests). */
  trimmedEntries = 0;

  constructor(
    private readonly server: ServerState,
    opts: RetentionOptions = {},
  ) {
    this.periodMs = opts.periodMs ?? 1000;
    this.every = opts.every ?? unrefInterval;
    const config = server.config;
    this.defaultMaxAge = config.getNumber('stream-maxage');
    this.defaultMaxBytes = config.getNumber('stream-maxbytes');
    config.onChange((name, value) => {
      if (name !== 'stream-maxage' && name !== 'stream-maxbytes') return;
      if (name === 'stream-maxage') this.defaultMaxAge = Number(value);
      else this.defaultMaxBytes = Number(value);
      if (this.defaultsActive) {
        this.scanNeeded = true;
        this.startTimer();
      }
    });
  }

  /** Whether a server default bound is set (every stream without its own value then has a bound). */
  get defaultsActive(): boolean {
    return this.defaultMaxAge > 0 || this.defaultMaxBytes > 0;
  }

  /** Number of streams the timer checks (tests, INFO). */
  get trackedStreams(): number {
    return this.streams.size;
  }

  maxAgeOf(stream: Stream): number {
    return stream.settingsOverride?.maxage ?? this.defaultMaxAge;
  }

  maxBytesOf(stream: Stream): number {
    return stream.settingsOverride?.maxbytes ?? this.defaultMaxBytes;
  }

  /**
   * A command (XADD, XCFGSET) changed `stream`: registers it when a bound is in effect, and has flush() check it
   * once the command is journaled. Callers skip the call when the stream has no settings and no default is set.
   */
  changed(db: Database, stream: Stream): void {
    if (!this.register(db, stream)) return;
    this.pendingStream = stream;
    this.pendingDb = db;
  }

  /** Recovery: `stream`'s settings were restored; the periodic check tracks it if it has a bound now. */
  track(db: Database, stream: Stream): void {
    this.register(db, stream);
  }

  /** Tracks `stream` when a bound is in effect (true), else forgets it. */
  private register(db: Database, stream: Stream): boolean {
    const maxBytes = this.maxBytesOf(stream);
    if (this.maxAgeOf(stream) <= 0 && maxBytes <= 0) {
      this.streams.delete(stream);
      return false;
    }
    if (maxBytes > 0) stream.trackBytes();
    if (!this.streams.has(stream)) {
      this.streams.set(stream, db);
      this.startTimer();
    }
    return true;
  }

  /** SWAPDB: the tracked streams of `a` are now in `b` and the other way round. */
  databasesSwapped(a: Database, b: Database): void {
    for (const [stream, db] of this.streams) {
      if (db === a) this.streams.set(stream, b);
      else if (db === b) this.streams.set(stream, a);
    }
  }

  /** The dispatcher, after a command was journaled: trims the stream it changed. Not during recovery. */
  flush(now: number): void {
    const stream = this.pendingStream;
    const db = this.pendingDb!;
    this.pendingStream = this.pendingDb = null;
    if (stream === null || this.server.replayTime !== null) return;
    this.enforceSafely(db, stream, now);
  }

  /** enforce(), where a journal write refused by the storage (full disk, closed log) is left to the next check. */
  private enforceSafely(db: Database, stream: Stream, now: number): void {
    try {
      this.enforce(db, stream, now);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
    }
  }

  /** Whether flush() has work (the dispatcher's cheap check). */
  get pending(): boolean {
    return this.pendingStream !== null;
  }

  /** The MINID retention asks for on `stream` now, or null when nothing is out of bounds. */
  minIdFor(stream: Stream, now: number): StreamId | null {
    if (stream.length === 0) return null;
    let minId: StreamId | null = null;
    const maxAge = this.maxAgeOf(stream);
    if (maxAge > 0) {
      const cutoff = Math.floor(now) - maxAge;
      if (cutoff > 0 && stream.recordedFirstId.ms < BigInt(cutoff)) minId = { ms: BigInt(cutoff), seq: 0n };
    }
    const maxBytes = this.maxBytesOf(stream);
    if (maxBytes > 0) {
      stream.trackBytes();
      const byBytes = stream.minIdForBytes(maxBytes);
      if (byBytes !== null && (minId === null || compareIds(byBytes, minId) > 0)) minId = byBytes;
    }
    return minId;
  }

  /**
   * Trims `stream` to its bounds as `XTRIM key MINID <id>` would and journals that command. Returns the entries
   * removed. Skipped while writes are refused (MISCONF): the next check catches up.
   */
  enforce(db: Database, stream: Stream, now: number): number {
    const persistence = this.server.persistence;
    if (persistence !== null && !persistence.writable()) return 0;
    // A replica trims only as its master tells it (the XTRIMs below travel to it), as replicas leave expiry
    // to their master in Redis: two clocks would trim differently.
    if (this.server.replication.isReplica) return 0;
    const minId = this.minIdFor(stream, now);
    if (minId === null) return 0;
    const spec = { strategy: 'minid', minId, approx: false, limit: 0 } as const;
    const deleted = stream.trim(spec);
    if (deleted === 0) return 0;
    this.trimmedEntries += deleted;
    db.touch(stream.key);
    if (persistence !== null) persistence.record(stream, { type: ChangeType.TRIM, trim: spec });
    const propagation = this.server.propagation;
    if (propagation !== null) {
      // Replicas get the same exact trim (sent with the command that caused it, or by tick()).
      propagation.alsoPropagate(db.index, [XTRIM, Buffer.from(stream.key, 'latin1'), MINID, Buffer.from(formatId(minId))]);
    }
    return deleted;
  }

  /** The periodic check (the timer calls it; tests may call it directly). */
  tick(): void {
    // As Redis stops active expiry during CLIENT PAUSE: no time-based trim while clients are held.
    if (this.closed || this.server.clientPause.active) return;
    const server = this.server;
    // LATENCY: the pass is timed only while the monitor is on.
    const started = server.latency.enabled ? performance.now() : 0;
    // Journaled trims require tickets; outside any command they must not leak into the next command's reply.
    const outer = server.takeTicket();
    try {
      if (this.scanNeeded && this.defaultsActive) {
        for (const db of server.databases) for (const [, stream] of db.entries()) this.register(db, stream);
      }
      this.scanNeeded = false;
      const now = server.clock();
      for (const [stream, db] of this.streams) {
        // Deleted, or replaced under its key (DEL + XADD, RENAME over it): forget it.
        if (!db.has(stream.key) || db.get(stream.key) !== stream) {
          this.streams.delete(stream);
          continue;
        }
        if (!this.register(db, stream)) continue;
        this.enforceSafely(db, stream, now);
      }
      if (this.streams.size === 0 && !this.defaultsActive) this.stopTimerNow();
    } finally {
      // The trims of this pass travel to replicas now (they run outside any command).
      server.propagation?.commit();
      server.takeTicket();
      server.requireTicket(outer);
      if (server.latency.enabled) server.latency.addIfNeeded('retention-cycle', performance.now() - started);
    }
  }

  /** Server start (after recovery): the periodic check may run from now on. */
  start(): void {
    this.started = true;
    if (this.streams.size > 0 || this.defaultsActive) this.startTimer();
  }

  private startTimer(): void {
    if (this.stopTimer !== null || this.closed || !this.started) return;
    this.stopTimer = this.every(this.periodMs, () => this.tick());
  }

  private stopTimerNow(): void {
    if (this.stopTimer === null) return;
    this.stopTimer();
    this.stopTimer = null;
  }

  /** Server stop: no more checks. */
  close(): void {
    this.closed = true;
    this.stopTimerNow();
  }
}
