// LRU of open (fd + mapping) segments across all streams of a store. Bounds file descriptors and address space:
// thousands of streams each with many segments must not keep them all open. A segment is only closed when it is
// idle: not pinned by a sync or growth in flight, not dirty (its pages not yet synced under a policy that syncs),
// and not held open by its log (the log marks a segment it is writing into, or has staged bytes for, as `held`).

import type { Segment } from './segment';

export interface CacheableSegment {
  readonly pins: number;
  readonly dirty: boolean;
  close(): Promise<void>;
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
    if (this.lru.has(seg)) this.lru.delete(seg);
    this.lru.set(seg, canEvict);
    if (this.lru.size > this.limit) this.evict();
  }

  forget(seg: Segment): void {
    this.lru.delete(seg);
  }

  private evict(): void {
    let excess = this.lru.size - this.limit;
    for (const [seg, canEvict] of this.lru) {
      if (excess <= 0) break;
      if (seg.pins > 0 || seg.dirty || !canEvict()) continue;
      this.lru.delete(seg);
      this.evictions++;
      excess--;
      // close() sets closed and drops the map synchronously; the fd closes on the thread pool
      void seg.close().catch(() => undefined);
    }
  }
}
