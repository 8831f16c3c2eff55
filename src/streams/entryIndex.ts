// The per-stream index from entry ID to where the entry's bytes live, in typed arrays (no JS object per entry).
// Positions are absolute: an entry keeps its position for its whole life, while trimmed heads are dropped by
// advancing a start pointer (and the arrays are compacted now and then). IDs ascend with position, so lookups
// by ID are binary searches. Deleted entries stay in the index, flagged, as long as their listpack node exists
// in Redis's layout (see nodeModel.ts).

const INITIAL_CAPACITY = 64;

export class EntryIndex {
  private cap = INITIAL_CAPACITY;
  /** Absolute position of local slot 0. */
  private base = 0;
  /** First retained local slot. */
  private head = 0;
  /** One past the last local slot. */
  private n = 0;
  private msArr = new BigUint64Array(this.cap);
  private seqArr = new BigUint64Array(this.cap);
  private segArr = new Uint32Array(this.cap);
  private offArr = new Uint32Array(this.cap);
  private delArr = new Uint8Array(this.cap);

  /** Absolute position of the first retained entry. */
  get start(): number {
    return this.base + this.head;
  }

  /** Absolute position after the last entry (the position the next append gets). */
  get end(): number {
    return this.base + this.n;
  }

  append(ms: bigint, seq: bigint, segment: number, offset: number): number {
    if (this.n === this.cap) this.grow();
    const i = this.n++;
    this.msArr[i] = ms;
    this.seqArr[i] = seq;
    this.segArr[i] = segment;
    this.offArr[i] = offset;
    this.delArr[i] = 0;
    return this.base + i;
  }

  ms(abs: number): bigint {
    return this.msArr[abs - this.base];
  }
  seq(abs: number): bigint {
    return this.seqArr[abs - this.base];
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
    this.delArr[abs - this.base] = 1;
  }

  /** Absolute position of the first entry (deleted or not) with ID >= ms-seq; `end` when none. */
  lowerBound(ms: bigint, seq: bigint): number {
    let lo = this.head;
    let hi = this.n;
    const msA = this.msArr;
    const seqA = this.seqArr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = msA[mid];
      if (m < ms || (m === ms && seqA[mid] < seq)) lo = mid + 1;
      else hi = mid;
    }
    return this.base + lo;
  }

  /** Absolute position of the first entry with ID > ms-seq; `end` when none. */
  upperBound(ms: bigint, seq: bigint): number {
    let lo = this.head;
    let hi = this.n;
    const msA = this.msArr;
    const seqA = this.seqArr;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = msA[mid];
      if (m < ms || (m === ms && seqA[mid] <= seq)) lo = mid + 1;
      else hi = mid;
    }
    return this.base + lo;
  }

  /** Position of the entry with exactly this ID (deleted or not), or -1. */
  find(ms: bigint, seq: bigint): number {
    const abs = this.lowerBound(ms, seq);
    if (abs >= this.end) return -1;
    const i = abs - this.base;
    return this.msArr[i] === ms && this.seqArr[i] === seq ? abs : -1;
  }

  /** Forgets every entry before absolute position `abs`. */
  dropBefore(abs: number): void {
    const local = Math.min(abs - this.base, this.n);
    if (local <= this.head) return;
    this.head = local;
    if (this.head === this.n) {
      this.base += this.n;
      this.head = this.n = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.n) {
      this.compact();
    }
  }

  clear(): void {
    this.base += this.n;
    this.head = this.n = 0;
  }

  private compact(): void {
    const h = this.head;
    this.msArr.copyWithin(0, h, this.n);
    this.seqArr.copyWithin(0, h, this.n);
    this.segArr.copyWithin(0, h, this.n);
    this.offArr.copyWithin(0, h, this.n);
    this.delArr.copyWithin(0, h, this.n);
    this.base += h;
    this.n -= h;
    this.head = 0;
  }

  private grow(): void {
    if (this.head > 0 && this.head * 4 >= this.n) {
      this.compact();
      return;
    }
    this.cap *= 2;
    const ms = new BigUint64Array(this.cap);
    ms.set(this.msArr);
    this.msArr = ms;
    const seq = new BigUint64Array(this.cap);
    seq.set(this.seqArr);
    this.seqArr = seq;
    const seg = new Uint32Array(this.cap);
    seg.set(this.segArr);
    this.segArr = seg;
    const off = new Uint32Array(this.cap);
    off.set(this.offArr);
    this.offArr = off;
    const del = new Uint8Array(this.cap);
    del.set(this.delArr);
    this.delArr = del;
  }
}
