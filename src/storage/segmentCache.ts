// LRU of open (fd + mapping) segments across all streams of a store. Bounds file descriptors and address space:
// thousands of streams each with many segments must not keep them all open. A segment is only closed when it is
// idle: not pinned by a sync or growth in flight, and its log is not staging or reserving. A segment evicted with
// unsynced pages is synced before its fd closes.

import { readFileSync } from 'node:fs';
import type { Segment } from './segment';

/** Descriptors kept for everything but segments and clients: listeners, logs, directory syncs, opens in flight. */
const FD_RESERVE = 128;

/**
 * open-segments-limit 0: what the open files limit leaves after the clients and a reserve, at least half of it
 * (start-up only: it reads /proc/self/limits synchronously). Without a readable or finite limit, a million.
 */
export function automaticSegmentLimit(maxClients: number): number {
  try {
    const line = readFileSync('/proc/self/limits', 'latin1')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line ? Number(line.split(/\s+/)[3]) : NaN;
    if (Number.isFinite(soft)) {
      // Clients rarely reach maxclients: with a low limit, segments get at least half of what is left.
      const available = soft - FD_RESERVE;
      return Math.max(16, available - maxClients, Math.floor(available / 2));
    }
  } catch {
    // not Linux: fall through
  }
  return 1_000_000;
}

export class SegmentCache {
  private readonly lru = new Map<Segment, () => boolean>();
  /** Segments closed by eviction (metric). */
  evictions = 0;

  constructor(public limit: number) {}

  get size(): number {
    return this.lru.size;
  }

  /**
   * Registers (or refreshes) an open segment. `canEvict` tells whether its owner can let it go now; `onEvict`
   * is not needed: the owner checks `segment.closed` before use and reopens lazily.
   */
  use(seg: Segment, canEvict: () => boolean): void {
    // Reads touch a segment per entry: the one used last is already at the LRU's young end.
    if (seg === this.newest && this.lru.has(seg)) return;
    this.newest = seg;
    if (this.lru.has(seg)) this.lru.delete(seg);
    this.lru.set(seg, canEvict);
    // Evicted at the end of the turn, never in the middle of a command: a command (or a recovery replay) reads
    // its stream's segments synchronously after they were checked to be mapped (Persistence.whenMapped).
    if (this.lru.size > this.limit) this.evictionTurn ??= setImmediate(() => this.evict());
  }

  private evictionTurn: NodeJS.Immediate | null = null;
  private newest: Segment | null = null;

  /**
   * Admission of file opens. Opening or creating a segment holds a descriptor before the segment can be evicted
   * (a new one is not evictable until its staged records have landed, which takes another descriptor for the
   * directory sync): a burst of thousands of new streams would fill the descriptor table with segments that
   * can never be let go. So at most `openingLimit` opens run at a time, and a segment is only opened while the
   * LRU has room (`admit`); other file work (directory syncs, which is how busy segments get evictable) only
   * takes the concurrency slot.
   */
  private readonly openingLimit = 32;
  private opening = 0;
  private readonly waiting: { admit: boolean; go: () => void }[] = [];

  async withOpenSlot<T>(open: () => Promise<T>, admit = true): Promise<T> {
    if (this.canStart(admit)) this.opening++;
    else {
      const queued = new Promise<void>((go) => this.waiting.push({ admit, go })); // pump() takes the slot for it
      this.makeRoom();
      await queued;
    }
    try {
      return await open();
    } finally {
      this.opening--;
      this.pump();
    }
  }

  private canStart(admit: boolean): boolean {
    if (this.opening >= this.openingLimit) return false;
    return !admit || this.lru.size + this.opening < this.limit;
  }

  /** Starts the waiting opens that may go now (in order; work that needs no admission may pass blocked opens). */
  private pump(): void {
    for (let i = 0; i < this.waiting.length && this.opening < this.openingLimit; ) {
      const w = this.waiting[i];
      if (!this.canStart(w.admit)) {
        i++;
        continue;
      }
      this.waiting.splice(i, 1);
      this.opening++;
      w.go();
    }
    this.makeRoom();
  }

  /** Opens wait for admission: evict (at the end of the turn) to let them in. */
  private makeRoom(): void {
    if (this.waiting.length > 0 && this.lru.size + this.opening >= this.limit) this.evictionTurn ??= setImmediate(() => this.evict());
  }

  forget(seg: Segment): void {
    this.lru.delete(seg);
    if (this.waiting.length > 0) this.pump();
  }

  private evict(): void {
    this.evictionTurn = null;
    if (this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }
    // Room for the opens waiting for admission too.
    let excess = this.lru.size - this.limit + Math.min(this.waiting.length, this.openingLimit);
    for (const [seg, canEvict] of this.lru) {
      if (excess <= 0) break;
      if (seg.pins > 0 || !canEvict()) continue;
      this.lru.delete(seg);
      this.evictions++;
      excess--;
      // Both set `closed` and drop the map synchronously; the fd closes (after a sync when dirty) on the thread
      // pool. A dirty segment's batcher sync waits for that sync (Segment.sync).
      void (seg.dirty ? seg.syncAndClose() : seg.close()).catch(() => undefined);
    }
    // Still over: the rest were busy (reserving, staging, syncing). Nothing else may call use() soon (a burst of
    // new streams ends; their later opens fail with EMFILE and retry), so try again shortly.
    if (excess > 0) this.retryTimer = setTimeout(() => this.evict(), 20).unref();
    if (this.waiting.length > 0) this.pump();
  }

  private retryTimer: NodeJS.Timeout | null = null;
}
