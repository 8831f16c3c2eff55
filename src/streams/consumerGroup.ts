// Consumer groups: the group's pending entries list (PEL), its consumers and their own PELs, with the
// bookkeeping rules of Redis 7.0's t_stream.c (streamReplyWithRange, XACK, XCLAIM, XAUTOCLAIM, XGROUP).
//
// The PEL holds no JS object per pending entry: entries live in chunked sorted typed arrays (a flat B-tree of
// one level), keyed by the 128-bit ID as four uint32 words so comparisons stay on small integers. The group PEL
// carries delivery time, delivery count and the owner's slot number; each consumer's PEL is the same structure
// with keys only (the payload is looked up in the group PEL, as Redis shares one NACK between both raxes).
// Nothing here knows about streams: callers pass the stream facts the entries-read and lag rules need, so the
// logic is testable on its own.

import type { StreamId } from './streamId';
import { compareIds, formatId, parseStrictId } from './streamId';

/** A group as a checkpoint stores it (IDs as text, counters as decimal strings). */
export interface GroupState {
  name: string;
  lastId: string;
  entriesRead: string;
  /** [name, slot, seen-time] in creation order. */
  consumers: [string, number, number][];
  /** [id, delivery time, delivery count, owner slot] in ID order. */
  pel: [string, number, string, number][];
}

/** SCG_INVALID_ENTRIES_READ: the group's logical read counter is unknown. */
export const INVALID_ENTRIES_READ = -1n;

const CHUNK_MAX = 128;
const U32 = 0x100000000n;

class Chunk {
  n = 0;
  /** Four words per entry: ms high, ms low, seq high, seq low. */
  readonly keys = new Uint32Array(CHUNK_MAX * 4);
  readonly time: Float64Array | null;
  readonly count: BigUint64Array | null;
  readonly owner: Int32Array | null;

  constructor(payload: boolean) {
    this.time = payload ? new Float64Array(CHUNK_MAX) : null;
    this.count = payload ? new BigUint64Array(CHUNK_MAX) : null;
    this.owner = payload ? new Int32Array(CHUNK_MAX) : null;
  }

  /** Moves entries [from, n) by `delta` slots (positive: right). */
  shift(from: number, delta: number): void {
    this.keys.copyWithin((from + delta) * 4, from * 4, this.n * 4);
    if (this.time) this.time.copyWithin(from + delta, from, this.n);
    if (this.count) this.count.copyWithin(from + delta, from, this.n);
    if (this.owner) this.owner.copyWithin(from + delta, from, this.n);
  }
}

/** The four 32-bit words of an ID, reused to avoid an allocation per search. */
const probe = new Uint32Array(4);

function loadProbe(id: StreamId, into: Uint32Array = probe): void {
  into[0] = Number(id.ms / U32);
  into[1] = Number(id.ms % U32);
  into[2] = Number(id.seq / U32);
  into[3] = Number(id.seq % U32);
}

/** Compares entry j of `keys` with the probe (or other words). */
function cmpProbe(keys: Uint32Array, j: number, words: Uint32Array = probe): number {
  const o = j * 4;
  for (let w = 0; w < 4; w++) {
    const a = keys[o + w];
    const b = words[w];
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

function idAt(keys: Uint32Array, j: number): StreamId {
  const o = j * 4;
  return {
    ms: BigInt(keys[o]) * U32 + BigInt(keys[o + 1]),
    seq: BigInt(keys[o + 2]) * U32 + BigInt(keys[o + 3]),
  };
}

/** A pending entry's payload as read from the group PEL (a transient copy). */
export interface PendingEntry {
  readonly id: StreamId;
  readonly deliveryTime: number;
  readonly deliveryCount: bigint;
  /** Slot of the owning consumer in its group (-1: none yet, as a NACK created by XCLAIM FORCE). */
  readonly owner: number;
}

/** Sorted set of stream IDs, optionally with the NACK payload (delivery time, count, owner). */
export class IdTable {
  private readonly chunks: Chunk[] = [];
  private total = 0;
  /**
   * The last chunk emptied, reused by the next insert that needs one: a PEL that is read and acknowledged one
   * entry at a time (or replayed so) empties its only chunk on every XACK, and would allocate four typed arrays
   * on every delivery.
   */
  private spare: Chunk | null = null;

  constructor(readonly withPayload: boolean) {}

  private newChunk(): Chunk {
    const c = this.spare;
    if (c === null) return new Chunk(this.withPayload);
    this.spare = null;
    return c;
  }

  get size(): number {
    return this.total;
  }

  /** MEMORY USAGE: bytes of the chunks' typed arrays (whole chunks, as allocated). */
  get heapBytes(): number {
    let bytes = 0;
    for (const c of this.chunks) {
      bytes += c.keys.byteLength + (c.time?.byteLength ?? 0) + (c.count?.byteLength ?? 0) + (c.owner?.byteLength ?? 0);
    }
    return bytes;
  }

  /** Index of the first chunk whose last key is >= probe (chunks.length when none). */
  private chunkFor(): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = this.chunks[mid];
      if (cmpProbe(c.keys, c.n - 1) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Lower bound of the probe inside a chunk. */
  private static lowerBound(c: Chunk): number {
    let lo = 0;
    let hi = c.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmpProbe(c.keys, mid) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** [chunk index, entry index] of `id`, or null. */
  private locate(id: StreamId): [Chunk, number] | null {
    loadProbe(id);
    const ci = this.chunkFor();
    if (ci === this.chunks.length) return null;
    const c = this.chunks[ci];
    const i = IdTable.lowerBound(c);
    if (i < c.n && cmpProbe(c.keys, i) === 0) return [c, i];
    return null;
  }

  has(id: StreamId): boolean {
    return this.locate(id) !== null;
  }

  /** Inserts `id`; false (and nothing changed) when it is already present. */
  insert(id: StreamId, deliveryTime = 0, deliveryCount = 0n, owner = -1): boolean {
    loadProbe(id);
    let ci = this.chunkFor();
    if (ci === this.chunks.length) {
      // Beyond every key: it goes at the end of the last chunk.
      if (ci === 0) this.chunks.push(this.newChunk());
      else ci--;
    }
    let c = this.chunks[ci];
    let i = IdTable.lowerBound(c);
    if (i < c.n && cmpProbe(c.keys, i) === 0) return false;
    if (c.n === CHUNK_MAX) {
      if (i === CHUNK_MAX) {
        // Appending past a full chunk (the common, ascending case): start a new chunk rather than leave
        // two half-empty ones behind.
        c = this.newChunk();
        this.chunks.splice(ci + 1, 0, c);
        i = 0;
      } else {
        // Split in halves; the new entry goes to whichever half covers it.
        const right = this.newChunk();
        const half = CHUNK_MAX >>> 1;
        right.n = CHUNK_MAX - half;
        right.keys.set(c.keys.subarray(half * 4, CHUNK_MAX * 4));
        if (c.time) right.time!.set(c.time.subarray(half, CHUNK_MAX));
        if (c.count) right.count!.set(c.count.subarray(half, CHUNK_MAX));
        if (c.owner) right.owner!.set(c.owner.subarray(half, CHUNK_MAX));
        c.n = half;
        this.chunks.splice(ci + 1, 0, right);
        if (i > half) {
          c = right;
          i -= half;
        }
      }
    }
    c.shift(i, 1);
    c.n++;
    c.keys.set(probe, i * 4);
    if (c.time) c.time[i] = deliveryTime;
    if (c.count) c.count[i] = deliveryCount;
    if (c.owner) c.owner[i] = owner;
    this.total++;
    return true;
  }

  remove(id: StreamId): boolean {
    loadProbe(id);
    const ci = this.chunkFor();
    if (ci === this.chunks.length) return false;
    const c = this.chunks[ci];
    const i = IdTable.lowerBound(c);
    if (i >= c.n || cmpProbe(c.keys, i) !== 0) return false;
    c.shift(i + 1, -1);
    c.n--;
    if (c.n === 0) {
      this.chunks.splice(ci, 1);
      this.spare = c;
    }
    this.total--;
    return true;
  }

  get(id: StreamId): PendingEntry | null {
    const at = this.locate(id);
    if (!at) return null;
    const [c, i] = at;
    return {
      id,
      deliveryTime: c.time ? c.time[i] : 0,
      deliveryCount: c.count ? c.count[i] : 0n,
      owner: c.owner ? c.owner[i] : -1,
    };
  }

  /** Updates the payload of a present entry; false when absent. */
  update(id: StreamId, changes: { deliveryTime?: number; deliveryCount?: bigint; owner?: number }): boolean {
    const at = this.locate(id);
    if (!at || !this.withPayload) return false;
    const [c, i] = at;
    if (changes.deliveryTime !== undefined) c.time![i] = changes.deliveryTime;
    if (changes.deliveryCount !== undefined) c.count![i] = changes.deliveryCount;
    if (changes.owner !== undefined) c.owner![i] = changes.owner;
    return true;
  }

  first(): StreamId | null {
    return this.chunks.length === 0 ? null : idAt(this.chunks[0].keys, 0);
  }

  last(): StreamId | null {
    if (this.chunks.length === 0) return null;
    const c = this.chunks[this.chunks.length - 1];
    return idAt(c.keys, c.n - 1);
  }

  /** The smallest ID >= `id`, or null. */
  ceiling(id: StreamId): StreamId | null {
    loadProbe(id);
    const ci = this.chunkFor();
    if (ci === this.chunks.length) return null;
    const c = this.chunks[ci];
    return idAt(c.keys, IdTable.lowerBound(c));
  }

  /**
   * Visits entries with start <= id <= end in order until `visit` returns false. The table must not be
   * modified during the walk (collect first, or step with ceiling()).
   */
  forEach(start: StreamId | null, end: StreamId | null, visit: (e: PendingEntry) => boolean | void): void {
    let ci = 0;
    let i = 0;
    if (start) {
      loadProbe(start);
      ci = this.chunkFor();
      if (ci === this.chunks.length) return;
      i = IdTable.lowerBound(this.chunks[ci]);
    }
    // Own copy of the end words: `visit` may search this or another table, which reuses the probe.
    let endWords: Uint32Array | null = null;
    if (end) loadProbe(end, (endWords = new Uint32Array(4)));
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci];
      for (; i < c.n; i++) {
        if (endWords && cmpProbe(c.keys, i, endWords) > 0) return;
        const e: PendingEntry = {
          id: idAt(c.keys, i),
          deliveryTime: c.time ? c.time[i] : 0,
          deliveryCount: c.count ? c.count[i] : 0n,
          owner: c.owner ? c.owner[i] : -1,
        };
        if (visit(e) === false) return;
      }
    }
  }

  /** All IDs in order (for tests and small tables). */
  ids(): StreamId[] {
    const out: StreamId[] = [];
    this.forEach(null, null, (e) => {
      out.push(e.id);
    });
    return out;
  }

  clear(): void {
    this.chunks.length = 0;
    this.total = 0;
  }
}

export class Consumer {
  /** IDs pending for this consumer; their payload is in the group PEL. */
  readonly pel = new IdTable(false);

  constructor(
    /** Binary-safe name (latin1). */
    readonly name: string,
    /** Index in the group's consumer table, stored as the owner of its PEL entries. */
    readonly slot: number,
    /** Last time the consumer was seen (XINFO idle / seen-time), ms. */
    public seenTime: number,
  ) {}
}

/** What the entries-read and lag rules need to know about the stream. */
export interface GroupStreamFacts {
  readonly entriesAdded: bigint;
  readonly length: number;
  /** streamRangeHasTombstones(s, start, NULL). */
  hasTombstonesFrom(start: StreamId): boolean;
  /** streamEstimateDistanceFromFirstEverEntry(s, id); null when unknown. */
  estimateDistance(id: StreamId): bigint | null;
}

/** Outcome of claiming one ID (XCLAIM / XAUTOCLAIM). */
export type ClaimOutcome = 'claimed' | 'skipped' | 'deleted';

export class ConsumerGroup {
  readonly consumers = new Map<string, Consumer>();
  /** The group PEL: every entry delivered and not yet acknowledged. */
  readonly pel = new IdTable(true);
  private readonly slots: (Consumer | null)[] = [];
  private readonly freeSlots: number[] = [];

  constructor(
    readonly name: string,
    /** last_id: the last entry delivered to the group. */
    public lastId: StreamId,
    /** entries_read, or INVALID_ENTRIES_READ. */
    public entriesRead: bigint = INVALID_ENTRIES_READ,
  ) {}

  /** Everything a checkpoint keeps of the group (see checkpoint.ts); consumers' PELs follow from the owners. */
  exportState(): GroupState {
    const consumers: [string, number, number][] = [];
    for (const c of this.consumers.values()) consumers.push([c.name, c.slot, c.seenTime]);
    const pel: [string, number, string, number][] = [];
    this.pel.forEach(null, null, (e) => {
      pel.push([formatId(e.id), e.deliveryTime, e.deliveryCount.toString(), e.owner]);
    });
    return { name: this.name, lastId: formatId(this.lastId), entriesRead: this.entriesRead.toString(), consumers, pel };
  }

  /** Rebuilds a group from exportState() (consumers keep their slots, so PEL owners stay valid). */
  static importState(state: GroupState): ConsumerGroup {
    const group = new ConsumerGroup(state.name, parseStrictId(state.lastId), BigInt(state.entriesRead));
    for (const [name, slot, seenTime] of state.consumers) {
      const consumer = new Consumer(name, slot, seenTime);
      group.slots[slot] = consumer;
      group.consumers.set(name, consumer);
    }
    for (let slot = 0; slot < group.slots.length; slot++) {
      if (!group.slots[slot]) {
        group.slots[slot] = null;
        group.freeSlots.push(slot);
      }
    }
    for (const [idText, time, count, owner] of state.pel) {
      const id = parseStrictId(idText);
      group.pel.insert(id, time, BigInt(count), owner);
      group.ownerOf(owner)?.pel.insert(id);
    }
    return group;
  }

  lookupConsumer(name: string): Consumer | undefined {
    return this.consumers.get(name);
  }

  /** streamCreateConsumer: null when it already exists. */
  createConsumer(name: string, now: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const slot = this.freeSlots.length > 0 ? this.freeSlots.pop()! : this.slots.length;
    const consumer = new Consumer(name, slot, now);
    this.slots[slot] = consumer;
    this.consumers.set(name, consumer);
    return consumer;
  }

  /** streamLookupConsumer (refreshing seen-time) falling back to streamCreateConsumer, as XREADGROUP does. */
  consumer(name: string, now: number): Consumer {
    const existing = this.consumers.get(name);
    if (existing) {
      existing.seenTime = now;
      return existing;
    }
    return this.createConsumer(name, now)!;
  }

  /** The consumer owning a PEL entry. */
  ownerOf(slot: number): Consumer | null {
    return slot >= 0 ? (this.slots[slot] ?? null) : null;
  }

  /**
   * XGROUP DELCONSUMER: removes the consumer and its pending entries from the group PEL. Returns the number
   * of entries it had pending, or null when there is no such consumer.
   */
  deleteConsumer(name: string): number | null {
    const consumer = this.consumers.get(name);
    if (!consumer) return null;
    const pending = consumer.pel.size;
    consumer.pel.forEach(null, null, (e) => {
      this.pel.remove(e.id);
    });
    consumer.pel.clear();
    this.consumers.delete(name);
    this.slots[consumer.slot] = null;
    this.freeSlots.push(consumer.slot);
    return pending;
  }

  /** Consumers in name order (Redis keeps them in a rax: byte order, which latin1 string order matches). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * An entry with a greater ID than last_id is served (XREADGROUP `>`): advances last_id and the read
   * counter as streamReplyWithRange does.
   */
  advance(id: StreamId, facts: GroupStreamFacts): void {
    if (compareIds(id, this.lastId) <= 0) return;
    if (this.entriesRead !== INVALID_ENTRIES_READ && !facts.hasTombstonesFrom(this.lastId)) {
      // A valid counter and no tombstones after last_id: the counter just follows the reads.
      this.entriesRead++;
    } else if (facts.entriesAdded > 0n) {
      this.entriesRead = facts.estimateDistance(id) ?? INVALID_ENTRIES_READ;
    }
    this.lastId = id;
  }

  /**
   * Records a delivery of `id` to `consumer` (XREADGROUP without NOACK): a new NACK with count 1, or, when
   * another delivery is pending (XGROUP SETID rewound the group), the NACK moves to this consumer and restarts.
   */
  deliver(id: StreamId, consumer: Consumer, now: number): void {
    if (this.pel.insert(id, now, 1n, consumer.slot)) {
      consumer.pel.insert(id);
      return;
    }
    const previous = this.pel.get(id)!;
    this.ownerOf(previous.owner)?.pel.remove(id);
    this.pel.update(id, { owner: consumer.slot, deliveryTime: now, deliveryCount: 1n });
    consumer.pel.insert(id);
  }

  /** XREADGROUP with an explicit ID re-serves history: the delivery time and count of the NACK change. */
  redeliver(id: StreamId, now: number): void {
    const e = this.pel.get(id);
    if (!e) return;
    this.pel.update(id, { deliveryTime: now, deliveryCount: e.deliveryCount + 1n });
  }

  /**
   * One more delivery of a pending entry, now to `consumer` (XREADGROUP's history and CLAIM): the NACK moves to
   * it if another consumer owned it, its delivery time becomes `now` and its count grows by one.
   */
  redeliverTo(id: StreamId, consumer: Consumer, now: number): void {
    const e = this.pel.get(id);
    if (!e) return;
    if (e.owner !== consumer.slot) {
      this.ownerOf(e.owner)?.pel.remove(id);
      consumer.pel.insert(id);
    }
    this.pel.update(id, { deliveryTime: now, deliveryCount: e.deliveryCount + 1n, owner: consumer.slot });
  }

  /**
   * Sets a NACK as a claim or release left it (recovery of XCLAIM / XAUTOCLAIM / XNACK): owned by `consumer`
   * (null: nobody), with that delivery time and count; created when absent.
   */
  setNack(id: StreamId, consumer: Consumer | null, deliveryTime: number, deliveryCount: bigint): void {
    const slot = consumer === null ? -1 : consumer.slot;
    const e = this.pel.get(id);
    if (!e) {
      this.pel.insert(id, deliveryTime, deliveryCount, slot);
      consumer?.pel.insert(id);
      return;
    }
    if (e.owner !== slot) {
      this.ownerOf(e.owner)?.pel.remove(id);
      consumer?.pel.insert(id);
    }
    this.pel.update(id, { deliveryTime, deliveryCount, owner: slot });
  }

  /** XACK one ID: true when it was pending. */
  ack(id: StreamId): boolean {
    const e = this.pel.get(id);
    if (!e) return false;
    this.pel.remove(id);
    this.ownerOf(e.owner)?.pel.remove(id);
    return true;
  }

  /**
   * XNACK (Redis 8.8) of one ID: the NACK loses its consumer and its delivery time (0: idle "forever", so every
   * claim takes it first) and its delivery count becomes `count(previous)`. Without a NACK, `force` creates an
   * unowned one with `count(null)` (the caller checks the entry exists). False when nothing was released.
   */
  release(id: StreamId, force: boolean, count: (previous: bigint | null) => bigint): boolean {
    const nack = this.pel.get(id);
    if (!nack) {
      if (!force) return false;
      this.pel.insert(id, 0, count(null), -1);
      return true;
    }
    this.ownerOf(nack.owner)?.pel.remove(id);
    this.pel.update(id, { owner: -1, deliveryTime: 0, deliveryCount: count(nack.deliveryCount) });
    return true;
  }

  /**
   * NACKs idle for at least `minIdle` ms at `now`, longest idle first (ties by ID): what XREADGROUP CLAIM
   * (Redis 8.4) serves before new entries. A released NACK (XNACK: delivery time 0) is the idlest of all.
   */
  idlePending(minIdle: bigint, now: number): PendingEntry[] {
    const out: PendingEntry[] = [];
    this.pel.forEach(null, null, (e) => {
      if (BigInt(now - e.deliveryTime) >= minIdle) out.push(e);
    });
    return out.sort((a, b) => a.deliveryTime - b.deliveryTime || compareIds(a.id, b.id));
  }

  /** Removes a NACK whose entry no longer exists in the stream (XCLAIM / XAUTOCLAIM in 7.0). */
  dropPending(id: StreamId): boolean {
    return this.ack(id);
  }

  /**
   * One ID of XCLAIM (and XAUTOCLAIM, which passes force=false and retryCount=-1):
   * - `exists` false: the entry was deleted from the stream; its NACK, if any, is dropped ('deleted').
   * - no NACK and no FORCE, or idle below minIdle: 'skipped'.
   * - otherwise ownership moves to the consumer returned by `getConsumer` (created lazily, as 7.0 does,
   *   only once something is actually claimed), the delivery time is set and the count updated.
   */
  claim(
    id: StreamId,
    opts: {
      exists: boolean;
      force: boolean;
      minIdle: number;
      now: number;
      deliveryTime: number;
      /** -1: not given (increment unless JUSTID). */
      retryCount: bigint;
      justId: boolean;
      getConsumer: () => Consumer;
    },
  ): ClaimOutcome {
    let nack = this.pel.get(id);
    if (!opts.exists) {
      if (nack) {
        this.dropPending(id);
        return 'deleted';
      }
      return 'skipped';
    }
    let forced = false;
    if (!nack) {
      if (!opts.force) return 'skipped';
      this.pel.insert(id, opts.now, 1n, -1);
      nack = this.pel.get(id)!;
      forced = true;
    }
    if (!forced && opts.minIdle > 0 && opts.now - nack.deliveryTime < opts.minIdle) return 'skipped';
    const consumer = opts.getConsumer();
    let count = nack.deliveryCount;
    if (opts.retryCount >= 0n) count = opts.retryCount;
    else if (!opts.justId) count++;
    if (nack.owner !== consumer.slot) {
      this.ownerOf(nack.owner)?.pel.remove(id);
      consumer.pel.insert(id);
    }
    this.pel.update(id, { deliveryTime: opts.deliveryTime, deliveryCount: count, owner: consumer.slot });
    return 'claimed';
  }

  /** streamReplyWithCGLag as in 7.0: null when the lag cannot be known. */
  lag(facts: GroupStreamFacts): bigint | null {
    if (facts.entriesAdded === 0n) return 0n;
    if (this.entriesRead !== INVALID_ENTRIES_READ && !facts.hasTombstonesFrom(this.lastId)) {
      return facts.entriesAdded - this.entriesRead;
    }
    const read = facts.estimateDistance(this.lastId);
    return read === null ? null : facts.entriesAdded - read;
  }
}
