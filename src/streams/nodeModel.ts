// A model of how Redis 7.0 lays a stream out in memory: a rax of listpack "nodes", each starting with a master
// entry. Spool does not store listpacks, but approximate trimming (`~`), XINFO's radix-tree-keys and
// radix-tree-nodes, and the point where Redis starts a new node all depend on that layout, so this module
// computes the exact listpack byte sizes (listpack.c encodings) and keeps one compact record per node.
//
// Redis (t_stream.c streamAppendItem) starts a new node when, before appending, the tail listpack's bytes plus
// the raw byte lengths of the new entry's fields and values reach stream-node-max-bytes, or when the tail's
// entries (live + deleted) reach stream-node-max-entries. So the tail node's exact listpack size must be known.

/** STREAM_LISTPACK_MAX_SIZE: a listpack never grows past 1 GiB. */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;
/** Listpack header (total bytes u32 + element count u16) and the end byte. */
const LP_HEADER_AND_END = 6 + 1;

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** Bytes of the backlen field that follows an element whose encoding+data takes `l` bytes (lpEncodeBacklen). */
export function backlenSize(l: number): number {
  if (l <= 127) return 1;
  if (l < 16383) return 2;
  if (l < 2097151) return 3;
  if (l < 268435455) return 4;
  return 5;
}

/** Total bytes of an integer element (encoding + data + backlen) for an int64 value. */
export function intElementSize(v: number | bigint): number {
  // Integers always fit in 9 bytes of encoding, so the backlen is one byte.
  if (typeof v === 'number') {
    if (v >= 0 && v <= 127) return 2;
    if (v >= -4096 && v <= 4095) return 3;
    if (v >= -32768 && v <= 32767) return 4;
    if (v >= -8388608 && v <= 8388607) return 5;
    if (v >= -2147483648 && v <= 2147483647) return 6;
    return 10;
  }
  if (v >= 0n && v <= 127n) return 2;
  if (v >= -4096n && v <= 4095n) return 3;
  if (v >= -32768n && v <= 32767n) return 4;
  if (v >= -8388608n && v <= 8388607n) return 5;
  if (v >= -2147483648n && v <= 2147483647n) return 6;
  return 10;
}

/**
 * lpStringToInt64: the int64 a string is stored as when listpack encodes it as an integer, or null when it is
 * stored as a string. Only the canonical spelling qualifies: optional '-', no leading zeros, no '+', no spaces,
 * "-0" refused, at most 20 characters, within int64.
 */
export function lpStringToInt(b: Buffer): number | bigint | null {
  const len = b.length;
  if (len === 0 || len >= 21) return null;
  if (len === 1 && b[0] === 0x30) return 0;
  let i = 0;
  let negative = false;
  if (b[0] === 0x2d) {
    negative = true;
    i = 1;
    if (len === 1) return null;
  }
  const first = b[i];
  if (first < 0x31 || first > 0x39) return null;
  for (let j = i + 1; j < len; j++) {
    const c = b[j];
    if (c < 0x30 || c > 0x39) return null;
  }
  if (len - i <= 15) {
    // Fits a double exactly.
    let v = 0;
    for (let j = i; j < len; j++) v = v * 10 + (b[j] - 0x30);
    return negative ? -v : v;
  }
  let v = BigInt(b.toString('latin1', i, len));
  if (negative) v = -v;
  if (v < INT64_MIN || v > INT64_MAX) return null;
  return v;
}

/** Total bytes of the listpack element that lpAppend makes of this string. */
export function stringElementSize(b: Buffer): number {
  const asInt = lpStringToInt(b);
  if (asInt !== null) return intElementSize(asInt);
  const len = b.length;
  const enc = len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
  return enc + backlenSize(enc);
}

/** An unsigned 64-bit difference as the int64 lpAppendInteger receives. */
/**
 * Listpack size of an entry's ID part stored as a delta from its node's master ID (a - b as int64). Numbers
 * below 2^53 (every clock-made ID) take the plain path; their difference is exact.
 */
export function deltaSize(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'number' && typeof b === 'number') {
    const d = a - b;
    return d >= 0 && d <= 127 ? 2 : intElementSize(d);
  }
  const d = BigInt(a) - BigInt(b);
  if (d >= 0n && d <= 127n) return 2;
  return intElementSize(BigInt.asIntN(64, d));
}

export interface NodeLimits {
  nodeMaxEntries: number;
  nodeMaxBytes: number;
}

/**
 * One record per listpack node, in ID order: the absolute entry-index range it covers [start, end), its live
 * and deleted (flagged) entry counts and its listpack size without the two master counters (whose encoded
 * size changes as they change). The master ID is the ID of the entry at `start` (the first entry ever added
 * to the node stays there, flagged when deleted). Head nodes are dropped by advancing `first`.
 */
export class NodeTable {
  private cap = 16;
  private first = 0;
  private n = 0;
  private startAt = new Float64Array(this.cap);
  private endAt = new Float64Array(this.cap);
  private liveCount = new Uint32Array(this.cap);
  private deletedCount = new Uint32Array(this.cap);
  private baseBytes = new Float64Array(this.cap);
  /** Bumped whenever the set of nodes changes (radix-tree-nodes cache). */
  version = 0;

  get count(): number {
    return this.n - this.first;
  }

  /** MEMORY USAGE: bytes of the node columns (their capacity). */
  get heapBytes(): number {
    const counts = this.liveCount.byteLength + this.deletedCount.byteLength;
    return this.startAt.byteLength + this.endAt.byteLength + counts + this.baseBytes.byteLength;
  }

  start(i: number): number {
    return this.startAt[this.first + i];
  }
  end(i: number): number {
    return this.endAt[this.first + i];
  }
  live(i: number): number {
    return this.liveCount[this.first + i];
  }
  deleted(i: number): number {
    return this.deletedCount[this.first + i];
  }

  /** lpBytes of node i. */
  bytes(i: number): number {
    const k = this.first + i;
    return this.baseBytes[k] + intElementSize(this.liveCount[k]) + intElementSize(this.deletedCount[k]);
  }

  /** Whether Redis would start a new node for an entry whose fields and values total `elementBytes`. */
  needsNewNode(limits: NodeLimits, elementBytes: number): boolean {
    if (this.count === 0) return true;
    const t = this.count - 1;
    let maxBytes = limits.nodeMaxBytes;
    if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
    if (this.bytes(t) + elementBytes >= maxBytes) return true;
    if (limits.nodeMaxEntries && this.live(t) + this.deleted(t) >= limits.nodeMaxEntries) return true;
    return false;
  }

  /**
   * Opens a node whose master entry has these field names; `abs` is the entry index of its first entry.
   * The entry itself is added with addEntry().
   */
  openNode(abs: number, fields: Buffer[]): void {
    if (this.n === this.cap) this.grow();
    const k = this.n++;
    const numFields = fields.length >> 1;
    // count and deleted are accounted separately; num-fields, the field names and the 0 terminator here.
    let size = LP_HEADER_AND_END + intElementSize(numFields) + 2;
    for (let i = 0; i < fields.length; i += 2) size += stringElementSize(fields[i]);
    this.startAt[k] = abs;
    this.endAt[k] = abs;
    this.liveCount[k] = 0;
    this.deletedCount[k] = 0;
    this.baseBytes[k] = size;
    this.version++;
  }

  /**
   * Appends the entry at index position `abs` to the tail node (entries of a removed node may lie between it
   * and the node's previous entry: they belong to no node): `idDeltaBytes` the size of its ID as deltas from the
   * node's master ID (deltaSize of each part), `sameFields` whether its field names equal the master's
   * (STREAM_ITEM_FLAG_SAMEFIELDS).
   */
  addEntry(abs: number, idDeltaBytes: number, fields: Buffer[], sameFields: boolean): void {
    const k = this.n - 1;
    const numFields = fields.length >> 1;
    // flags (0 or 2), ms-diff, seq-diff
    let size = 2 + idDeltaBytes;
    let lpCount = numFields + 3;
    if (!sameFields) {
      size += intElementSize(numFields);
      for (let i = 0; i < fields.length; i += 2) size += stringElementSize(fields[i]);
      lpCount += numFields + 1;
    }
    for (let i = 1; i < fields.length; i += 2) size += stringElementSize(fields[i]);
    size += intElementSize(lpCount);
    this.baseBytes[k] += size;
    this.liveCount[k]++;
    this.endAt[k] = abs + 1;
  }

  /** Index of the node whose range holds absolute entry index `abs`, or -1. */
  find(abs: number): number {
    let lo = this.first;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.startAt[mid] <= abs) lo = mid + 1;
      else hi = mid;
    }
    const k = lo - 1;
    if (k < this.first || abs >= this.endAt[k]) return -1;
    return k - this.first;
  }

  /** Flags one live entry of node i as deleted (XDEL, exact trimming). */
  markDeleted(i: number): void {
    const k = this.first + i;
    this.liveCount[k]--;
    this.deletedCount[k]++;
  }

  /** Removes node i (a head node when trimming, any node when XDEL removed its last live entry). */
  remove(i: number): void {
    const k = this.first + i;
    if (k === this.first) {
      this.first++;
      if (this.first === this.n) this.first = this.n = 0;
      else if (this.first > 64 && this.first * 2 > this.n) this.compact();
    } else {
      for (const a of this.arrays()) a.copyWithin(k, k + 1, this.n);
      this.n--;
    }
    this.version++;
  }

  /** The nodes as flat [start - origin, end - origin, live, deleted, baseBytes] rows (checkpoints). */
  exportRows(origin: number): number[] {
    const rows: number[] = [];
    for (let k = this.first; k < this.n; k++) {
      rows.push(this.startAt[k] - origin, this.endAt[k] - origin, this.liveCount[k], this.deletedCount[k], this.baseBytes[k]);
    }
    return rows;
  }

  /** Replaces the nodes with exportRows() output, entry positions shifted by `origin`. */
  importRows(rows: readonly number[], origin: number): void {
    this.clear();
    for (let r = 0; r + 4 < rows.length; r += 5) {
      if (this.n === this.cap) this.grow();
      const k = this.n++;
      this.startAt[k] = rows[r] + origin;
      this.endAt[k] = rows[r + 1] + origin;
      this.liveCount[k] = rows[r + 2];
      this.deletedCount[k] = rows[r + 3];
      this.baseBytes[k] = rows[r + 4];
    }
    this.version++;
  }

  clear(): void {
    this.first = this.n = 0;
    this.version++;
  }

  private arrays(): (Float64Array | Uint32Array)[] {
    return [this.startAt, this.endAt, this.liveCount, this.deletedCount, this.baseBytes];
  }

  private compact(): void {
    for (const a of this.arrays()) a.copyWithin(0, this.first, this.n);
    this.n -= this.first;
    this.first = 0;
  }

  private grow(): void {
    if (this.first > 0) {
      this.compact();
      if (this.n < this.cap) return;
    }
    this.cap *= 2;
    const f = (a: Float64Array) => {
      const b = new Float64Array(this.cap);
      b.set(a);
      return b;
    };
    const u = (a: Uint32Array) => {
      const b = new Uint32Array(this.cap);
      b.set(a);
      return b;
    };
    this.startAt = f(this.startAt);
    this.endAt = f(this.endAt);
    this.liveCount = u(this.liveCount);
    this.deletedCount = u(this.deletedCount);
    this.baseBytes = f(this.baseBytes);
  }
}

/**
 * rax->numnodes for a rax holding these keys (sorted ascending, all the same length, none a prefix of
 * another). Assumes the rax is in its canonical compressed form, which is what raxInsert/raxRemove maintain
 * for keys of equal length: a node at the root, at every branching point, at every child of a branching point
 * (a compressed node when a unique path follows), and one leaf per key.
 */
export function raxNodeCount(keys: readonly Uint8Array[]): number {
  if (keys.length === 0) return 1;
  return countFrom(keys, 0, keys.length, 0);
}

function lcp(a: Uint8Array, b: Uint8Array, from: number): number {
  let i = from;
  const n = a.length;
  while (i < n && a[i] === b[i]) i++;
  return i;
}

/** Nodes of the subtree whose node sits at depth d over keys[lo, hi). */
function countFrom(keys: readonly Uint8Array[], lo: number, hi: number, d: number): number {
  const keyLen = keys[lo].length;
  if (d === keyLen) return 1; // the key's leaf
  if (hi - lo === 1) return 2; // compressed node holding the rest of the key, then the leaf
  const common = lcp(keys[lo], keys[hi - 1], d);
  if (common > d) return 1 + countFrom(keys, lo, hi, common);
  // Branching node: one child per distinct byte at depth d.
  let total = 1;
  let i = lo;
  while (i < hi) {
    const byte = keys[i][d];
    let j = i + 1;
    while (j < hi && keys[j][d] === byte) j++;
    total += countFrom(keys, i, j, d + 1);
    i = j;
  }
  return total;
}
