// The per-stream index from entry ID to where the entry's bytes live, in typed arrays (no JS object per entry).
// Positions are absolute: an entry keeps its position for its whole life, while trimmed heads are dropped by
// advancing a start pointer (and the arrays are compacted now and then). IDs ascend with position, so lookups
// by ID are binary searches. Deleted entries stay in the index, flagged, as long as their listpack node exists
// in Redis's layout (see nodeModel.ts).
//
// IDs are kept as Numbers (Float64Array, exact below 2^53: every ID a clock makes), so appending, searching and
// replying read and write plain doubles. The first entry with a part at or beyond 2^53 (only an explicit ID can
// be that large) switches the index to exact 64-bit columns (BigUint64Array) for good: the slow path, with the
// bigint comparisons the whole index used before.
//
// Byte accounting (for MAXBYTES retention) is switched on per index with trackBytes(): a cumulative column of
// entry sizes (Float64Array, exact to 2^53 bytes) makes the bytes between two positions one subtraction, and
// `delBytes` sums the sizes of flagged entries still in the index, so the live bytes are a difference of two
// numbers and the first entry to keep under a byte bound is a binary search. Streams without a byte bound pay
// nothing (no column).

import { u64ToSafeNumber } from '../util/u64';

const INITIAL_CAPACITY = 64;

/** An index's entries as columns: ID parts (Numbers below 2^53) and locations (segment and offset words). */
export interface IndexColumns {
  ms: Float64Array<ArrayBuffer>;
  seq: Float64Array<ArrayBuffer>;
  segment: Uint32Array<ArrayBuffer>;
  offset: Uint32Array<ArrayBuffer>;
}

/**
 * A search bound as a Number for the Number columns: a part at or beyond 2^53 is above every value they hold
 * (they hold only smaller ones), so it searches as Infinity.
 */
function searchKey(part: bigint): number {
  const n = u64ToSafeNumber(part);
  return n < 0 ? Infinity : n;
}

export class EntryIndex {
  private cap = INITIAL_CAPACITY;
  /** Absolute position of local slot 0. */
  private base = 0;
  /** First retained local slot. */
  private head = 0;
  /** One past the last local slot. */
  private n = 0;
  private msArr = new Float64Array(this.cap);
  private seqArr = new Float64Array(this.cap);
  /** Exact columns once an ID part reached 2^53 (then msArr/seqArr are not read); null until then. */
  private bigMs: BigUint64Array | null = null;
  private bigSeq: BigUint64Array | null = null;
  private segArr = new Uint32Array(this.cap);
  private offArr = new Uint32Array(this.cap);
  private delArr = new Uint8Array(this.cap);
  /** cumArr[i]: bytes of local slots 0..i (from an arbitrary origin); null while bytes are not tracked. */
  private cumArr: Float64Array | null = null;
  /** Bytes before local slot 0, on cumArr's origin. */
  private cum0 = 0;
  /** Sizes of flagged (deleted) entries still in the index (tracked bytes only). */
  private delBytes = 0;

  /** MEMORY USAGE: bytes of the index's columns (their capacity, not only the slots in use). */
  get heapBytes(): number {
    const exact = (this.bigMs?.byteLength ?? 0) + (this.bigSeq?.byteLength ?? 0);
    const columns = this.msArr.byteLength + this.seqArr.byteLength + this.segArr.byteLength + this.offArr.byteLength;
    return columns + this.delArr.byteLength + exact + (this.cumArr?.byteLength ?? 0);
  }

  /** Absolute position of the first retained entry. */
  get start(): number {
    return this.base + this.head;
  }

  /** Absolute position after the last entry (the position the next append gets). */
  get end(): number {
    return this.base + this.n;
  }

  /** `size`: the entry's bytes (sum of its field and value lengths), kept when bytes are tracked. */
  append(ms: bigint, seq: bigint, segment: number, offset: number, size = 0): number {
    const m = u64ToSafeNumber(ms);
    const q = u64ToSafeNumber(seq);
    if (this.bigMs === null && m >= 0 && q >= 0) return this.appendSafe(m, q, segment, offset, size);
    if (this.bigMs === null) this.goExact();
    if (this.n === this.cap) this.grow();
    const i = this.n;
    this.bigMs![i] = ms;
    this.bigSeq![i] = seq;
    return this.place(segment, offset, size);
  }

  /** append() of an ID whose parts are Numbers below 2^53. */
  appendSafe(ms: number, seq: number, segment: number, offset: number, size = 0): number {
    if (this.bigMs !== null) return this.append(BigInt(ms), BigInt(seq), segment, offset, size);
    if (this.n === this.cap) this.grow();
    const i = this.n;
    this.msArr[i] = ms;
    this.seqArr[i] = seq;
    return this.place(segment, offset, size);
  }

  /** The rest of an append, once the ID is stored at slot n. */
  private place(segment: number, offset: number, size: number): number {
    const i = this.n++;
    this.segArr[i] = segment;
    this.offArr[i] = offset;
    this.delArr[i] = 0;
    const cum = this.cumArr;
    if (cum !== null) cum[i] = (i === 0 ? this.cum0 : cum[i - 1]) + size;
    return this.base + i;
  }

  /**
   * The retained entries' ID and location columns, oldest first (views, valid until the next change): what an
   * index snapshot stores. Null once IDs need the exact 64-bit columns (such a stream is not snapshotted).
   */
  columns(): IndexColumns | null {
    if (this.bigMs !== null) return null;
    const h = this.head;
    const n = this.n;
    return { ms: this.msArr.subarray(h, n), seq: this.seqArr.subarray(h, n), segment: this.segArr.subarray(h, n), offset: this.offArr.subarray(h, n) };
  }

  /**
   * Appends entries given as columns (a snapshot's: ascending IDs below 2^53), in bulk. An empty index adopts
   * the arrays themselves (the caller hands them over) instead of copying them.
   */
  appendColumns(cols: IndexColumns): void {
    const count = cols.ms.length;
    if (this.n === 0 && this.cumArr === null && this.bigMs === null && count > this.cap) {
      this.cap = count;
      this.msArr = cols.ms;
      this.seqArr = cols.seq;
      this.segArr = cols.segment;
      this.offArr = cols.offset;
      this.delArr = new Uint8Array(count);
      this.n = count;
      return;
    }
    if (this.cumArr !== null || this.bigMs !== null) {
      for (let i = 0; i < count; i++) this.appendSafe(cols.ms[i], cols.seq[i], cols.segment[i], cols.offset[i]);
      return;
    }
    if (this.n + count > this.cap) this.resize(this.n + count);
    const i = this.n;
    this.msArr.set(cols.ms, i);
    this.seqArr.set(cols.seq, i);
    this.segArr.set(cols.segment, i);
    this.offArr.set(cols.offset, i);
    this.delArr.fill(0, i, i + count);
    this.n += count;
  }

  // ---- byte accounting -----------------------------------------------------------------------------------

  get tracksBytes(): boolean {
    return this.cumArr !== null;
  }

  /** Starts tracking bytes; `sizeOf(abs)` gives the size of each entry already in the index (read once). */
  trackBytes(sizeOf: (abs: number) => number): void {
    if (this.cumArr !== null) return;
    const cum = new Float64Array(this.cap);
    let total = 0;
    let deleted = 0;
    for (let i = this.head; i < this.n; i++) {
      const size = sizeOf(this.base + i);
      total += size;
      cum[i] = total;
      if (this.delArr[i] !== 0) deleted += size;
    }
    this.cum0 = 0;
    this.cumArr = cum;
    this.delBytes = deleted;
  }

  /** Bytes before local slot i (i in head..n), on cumArr's origin. */
  private cumBefore(i: number): number {
    return i === 0 ? this.cum0 : this.cumArr![i - 1];
  }

  /** Size of the entry at local slot i (tracked bytes only). */
  private sizeAtLocal(i: number): number {
    return this.cumArr![i] - this.cumBefore(i);
  }

  /** Bytes of the live entries (0 when bytes are not tracked). */
  get liveBytes(): number {
    if (this.cumArr === null) return 0;
    return this.cumBefore(this.n) - this.cumBefore(this.head) - this.delBytes;
  }

  /**
   * The first position to keep so that the live entries from there to the end hold at most `max` bytes: the
   * smallest such position (`end` when even the newest entry alone is larger). Bytes must be tracked.
   * A binary search over the cumulative column; when flagged entries remain in the index, refined by a walk
   * over the region that is about to be trimmed (as long as the trim itself).
   */
  firstToKeepForBytes(max: number): number {
    const lo0 = this.head;
    const total = this.cumBefore(this.n);
    // smallest i with (all bytes from i to the end) <= max
    let lo = lo0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (total - this.cumBefore(mid) <= max) hi = mid;
      else lo = mid + 1;
    }
    if (this.delBytes === 0) return this.base + lo;
    // Flagged entries count in the column but not as live: live bytes from lo are at most max; walk back over
    // entries that still fit.
    let deletedBefore = 0;
    const del = this.delArr;
    for (let i = lo0; i < lo; i++) if (del[i] !== 0) deletedBefore += this.sizeAtLocal(i);
    let live = total - this.cumBefore(lo) - (this.delBytes - deletedBefore);
    let i = lo;
    while (i > lo0) {
      const size = del[i - 1] !== 0 ? 0 : this.sizeAtLocal(i - 1);
      if (live + size > max) break;
      live += size;
      i--;
    }
    return this.base + i;
  }

  ms(abs: number): bigint {
    const i = abs - this.base;
    return this.bigMs !== null ? this.bigMs[i] : BigInt(this.msArr[i]);
  }
  seq(abs: number): bigint {
    const i = abs - this.base;
    return this.bigSeq !== null ? this.bigSeq[i] : BigInt(this.seqArr[i]);
  }
  /** The entry's ms as a Number without making a bigint, or -1 when it is 2^53 or more (use ms()). */
  msNumber(abs: number): number {
    const i = abs - this.base;
    return this.bigMs !== null ? u64ToSafeNumber(this.bigMs[i]) : this.msArr[i];
  }
  /** The entry's sequence number as a Number, or -1 when it is 2^53 or more (use seq()). */
  seqNumber(abs: number): number {
    const i = abs - this.base;
    return this.bigSeq !== null ? u64ToSafeNumber(this.bigSeq[i]) : this.seqArr[i];
  }
  segment(abs: number): number {
    return this.segArr[abs - this.base];
  }
  offset(abs: number): number {
    return this.offArr[abs - this.base];
  }
  isDeleted(abs: number): boolean {
    return this.delArr[abs - this.base] !== 0;
  }
  markDeleted(abs: number): void {
    const i = abs - this.base;
    if (this.cumArr !== null && this.delArr[i] === 0) this.delBytes += this.sizeAtLocal(i);
    this.delArr[i] = 1;
  }

  /** Absolute position of the first entry (deleted or not) with ID >= ms-seq; `end` when none. */
  lowerBound(ms: bigint, seq: bigint): number {
    return this.bigMs !== null ? this.searchExact(ms, seq, false) : this.search(searchKey(ms), searchKey(seq), false);
  }

  /** Absolute position of the first entry with ID > ms-seq; `end` when none. */
  upperBound(ms: bigint, seq: bigint): number {
    return this.bigMs !== null ? this.searchExact(ms, seq, true) : this.search(searchKey(ms), searchKey(seq), true);
  }

  /** The first position whose ID is >= (> when `after`) ms-seq, over the Number columns. */
  private search(ms: number, seq: number, after: boolean): number {
    let lo = this.head;
    let hi = this.n;
    const msA = this.msArr;
    const seqA = this.seqArr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = msA[mid];
      const before = m < ms || (m === ms && (after ? seqA[mid] <= seq : seqA[mid] < seq));
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return this.base + lo;
  }

  /** search() over the exact 64-bit columns. */
  private searchExact(ms: bigint, seq: bigint, after: boolean): number {
    let lo = this.head;
    let hi = this.n;
    const msA = this.bigMs!;
    const seqA = this.bigSeq!;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = msA[mid];
      const before = m < ms || (m === ms && (after ? seqA[mid] <= seq : seqA[mid] < seq));
      if (before) lo = mid + 1;
      else hi = mid;
    }
    return this.base + lo;
  }

  /** Position of the entry with exactly this ID (deleted or not), or -1. */
  find(ms: bigint, seq: bigint): number {
    const abs = this.lowerBound(ms, seq);
    if (abs >= this.end) return -1;
    return this.ms(abs) === ms && this.seq(abs) === seq ? abs : -1;
  }

  /** Forgets every entry before absolute position `abs`. */
  dropBefore(abs: number): void {
    const local = Math.min(abs - this.base, this.n);
    if (local <= this.head) return;
    if (this.cumArr !== null && this.delBytes > 0) {
      for (let i = this.head; i < local; i++) if (this.delArr[i] !== 0) this.delBytes -= this.sizeAtLocal(i);
    }
    this.head = local;
    if (this.head === this.n) {
      this.base += this.n;
      this.head = this.n = 0;
      this.cum0 = 0;
      this.delBytes = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.n) {
      this.compact();
    }
  }

  clear(): void {
    this.base += this.n;
    this.head = this.n = 0;
    this.cum0 = 0;
    this.delBytes = 0;
  }

  private compact(): void {
    const h = this.head;
    this.msArr.copyWithin(0, h, this.n);
    this.seqArr.copyWithin(0, h, this.n);
    this.bigMs?.copyWithin(0, h, this.n);
    this.bigSeq?.copyWithin(0, h, this.n);
    this.segArr.copyWithin(0, h, this.n);
    this.offArr.copyWithin(0, h, this.n);
    this.delArr.copyWithin(0, h, this.n);
    if (this.cumArr !== null) {
      this.cum0 = this.cumArr[h - 1];
      this.cumArr.copyWithin(0, h, this.n);
    }
    this.base += h;
    this.n -= h;
    this.head = 0;
  }

  /** Switches to the exact 64-bit columns, filled from the Number ones (exact: every ID so far is below 2^53). */
  private goExact(): void {
    const bigMs = new BigUint64Array(this.cap);
    const bigSeq = new BigUint64Array(this.cap);
    for (let i = this.head; i < this.n; i++) {
      bigMs[i] = BigInt(this.msArr[i]);
      bigSeq[i] = BigInt(this.seqArr[i]);
    }
    this.bigMs = bigMs;
    this.bigSeq = bigSeq;
  }

  private grow(): void {
    if (this.head > 0 && this.head * 4 >= this.n) {
      this.compact();
      return;
    }
    this.resize(this.cap * 2);
  }

  /** Reallocates every column with room for at least `min` slots (one copy, however many doublings). */
  private resize(min: number): void {
    while (this.cap < min) this.cap *= 2;
    const ms = new Float64Array(this.cap);
    ms.set(this.msArr);
    this.msArr = ms;
    const seq = new Float64Array(this.cap);
    seq.set(this.seqArr);
    this.seqArr = seq;
    if (this.bigMs !== null) {
      const bigMs = new BigUint64Array(this.cap);
      bigMs.set(this.bigMs);
      this.bigMs = bigMs;
      const bigSeq = new BigUint64Array(this.cap);
      bigSeq.set(this.bigSeq!);
      this.bigSeq = bigSeq;
    }
    const seg = new Uint32Array(this.cap);
    seg.set(this.segArr);
    this.segArr = seg;
    const off = new Uint32Array(this.cap);
    off.set(this.offArr);
    this.offArr = off;
    const del = new Uint8Array(this.cap);
    del.set(this.delArr);
    this.delArr = del;
    if (this.cumArr !== null) {
      const cum = new Float64Array(this.cap);
      cum.set(this.cumArr);
      this.cumArr = cum;
    }
  }
}
