// When streams write their index snapshots (storage/logSnapshot.ts, streams/checkpoint.ts).
//
// A snapshot lets the next start load a stream's state and entry index instead of verifying and replaying
// every record, so it is worth taking at a clean shutdown (every stream changed since its last one) and in the
// background, so that a crash too finds most of each log covered: a stream is due once it has appended as many
// bytes since its last snapshot as that snapshot covered (at least SNAPSHOT_MIN_BYTES), or has appended anything
// and its last snapshot is SNAPSHOT_MAX_AGE_MS old. The doubling bounds the work: every snapshot rewrites the
// stream's index (24 bytes per entry), and the total written stays within twice the final index.
// A stream that went quiet (no append for a whole tick) is due sooner, once it has appended a quarter of what its
// last snapshot covered (at least SNAPSHOT_QUIET_MIN_BYTES): a load that stops, then a crash, would otherwise
// leave up to half of each log to scan and replay at the next start. Growth by a quarter each time keeps the
// total written within five times the final index, and a stream under constant load is never quiet.
//
// Taking one is cheap and never blocks on I/O: the state and index are encoded at once (between two commands,
// so they describe exactly the records up to the log's end), the CRCs continue those of the previous snapshot
// over the bytes appended since, and the file is written on the thread pool without fsync (a snapshot that
// does not match at the next start is ignored). A write that fails (a full disk) is retried a minute later.

import { coverSegments, writeLogSnapshot, type CoveredSegment, type LogSnapshot } from '../storage';
import { encodeStreamSnapshot } from '../streams/checkpoint';
import type { DurableEntryStore } from '../streams/durableEntryStore';
import type { Stream } from '../streams/stream';

export const SNAPSHOT_MIN_BYTES = 1 << 20;
export const SNAPSHOT_MAX_AGE_MS = 5 * 60_000;
export const SNAPSHOT_QUIET_MIN_BYTES = 64 * 1024;
const TICK_MS = 250;
const RETRY_MS = 60_000;

interface Taken {
  /** Log end the last snapshot covers (0: none). */
  end: number;
  covered: CoveredSegment[];
  at: number;
  writing: boolean;
  /** After a failed write (a full disk...), no background retry before this time. */
  retryAt: number;
  /** Log end at the previous tick (unchanged at this one: the stream is quiet). */
  seen: number;
}

export class StreamSnapshots {
  private readonly taken = new WeakMap<DurableEntryStore, Taken>();
  private timer: NodeJS.Timeout | null = null;
  /** Snapshots written since start-up. */
  written = 0;
  private readonly inFlight = new Set<Promise<void>>();

  constructor(
    /** The checkpoint payload of a stream's current state (Persistence's, as a CHECKPOINT record holds it). */
    private readonly checkpointOf: (stream: Stream, store: DurableEntryStore) => Buffer,
    private readonly warn: (message: string) => void,
  ) {}

  /** Recovery started `store` from this snapshot: the next one continues its CRCs. */
  adopt(store: DurableEntryStore, snapshot: LogSnapshot): void {
    this.taken.set(store, { end: snapshot.end, covered: snapshot.segments, at: Date.now(), writing: false, retryAt: 0, seen: snapshot.end });
  }

  private of(store: DurableEntryStore): Taken {
    let t = this.taken.get(store);
    if (!t) this.taken.set(store, (t = { end: 0, covered: [], at: Date.now(), writing: false, retryAt: 0, seen: store.log.end }));
    return t;
  }

  /** Background snapshots: checks every stream each tick (unref'd: never keeps the process alive). */
  start(streams: () => Iterable<[Stream, DurableEntryStore]>): void {
    this.timer ??= setInterval(() => {
      const now = Date.now();
      for (const [stream, store] of streams()) if (this.due(store, now)) void this.take(stream, store);
    }, TICK_MS);
    this.timer.unref();
  }

  /** Stops the background snapshots and waits for those being written. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.all(this.inFlight);
  }

  private due(store: DurableEntryStore, now: number): boolean {
    const t = this.of(store);
    const end = store.log.end;
    const quiet = end === t.seen;
    t.seen = end;
    const appended = end - t.end;
    if (appended <= 0 || t.writing || now < t.retryAt) return false;
    const covered = t.end - store.log.segmentBases()[0];
    if (appended >= Math.max(SNAPSHOT_MIN_BYTES, covered) || now - t.at >= SNAPSHOT_MAX_AGE_MS) return true;
    return quiet && appended >= Math.max(SNAPSHOT_QUIET_MIN_BYTES, covered / 4);
  }

  /** Takes a snapshot of `stream` now (unless its last one is current) and writes it. */
  take(stream: Stream, store: DurableEntryStore): Promise<void> {
    const p = this.write(stream, store);
    this.inFlight.add(p);
    return p.finally(() => this.inFlight.delete(p));
  }

  private async write(stream: Stream, store: DurableEntryStore): Promise<void> {
    const t = this.of(store);
    const log = store.log;
    const end = log.end;
    const index = stream.indexColumns();
    if (t.writing || end === t.end || index === null) return;
    const body = encodeStreamSnapshot(this.checkpointOf(stream, store), index);
    t.writing = true;
    try {
      // Every segment below `end` mapped (the LRU may have closed some), and staged records landed in them.
      if (!log.fullyMapped) await log.mapAll();
      const landed = log.whenLanded();
      if (landed) await landed;
      const covered = coverSegments(log, end, t.covered);
      if (covered === null) return; // closed again meanwhile: the next tick tries again
      await writeLogSnapshot(log.dir, { end, segments: covered, body });
      Object.assign(t, { end, covered, at: Date.now() });
      this.written++;
    } catch (err) {
      // Deleted or renamed meanwhile (ENOENT), or a full disk: the next start scans more of the log, that is all.
      t.retryAt = Date.now() + RETRY_MS;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.warn(`snapshot of ${log.dir}: ${(err as Error).message}`);
    } finally {
      t.writing = false;
    }
  }
}
