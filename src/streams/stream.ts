// One stream: its counters (last ID, max deleted ID, entries added, first ID), its consumer groups, and its
// entries. Entries live in an EntryStore (append-only chunks now, mapped segment files later) addressed through
// an EntryIndex of typed arrays; a NodeTable models Redis's listpack nodes so approximate trimming, node counts
// and node boundaries are exactly Redis 7.0's. ID generation, XDEL, trimming and XSETID follow t_stream.c 7.0.

import { sameBytes } from '../util/bytes';
import { CommandError, Err, StreamErr } from '../errors';
import { u64ToSafeNumber } from '../util/u64';

const MAX_SAFE_BIG = BigInt(Number.MAX_SAFE_INTEGER);
import { ConsumerGroup, type GroupState } from './consumerGroup';
import { MemoryEntryStore, type EntryStore } from './entryStore';
import { EntryIndex, type IndexColumns } from './entryIndex';
import { NodeTable, STREAM_LISTPACK_MAX_SIZE, deltaSize, raxNodeCount } from './nodeModel';
import type { StreamOverrides } from './streamSettings';
import { dropReferences, isReferenced, type RefPolicy } from './references';
import { IDMP_DEFAULT_DURATION, IDMP_DEFAULT_MAXSIZE, IdmpTable, type IdmpState } from './idmp';
import {
  type ParsedId,
  type StreamId,
  MIN_ID,
  UINT64_MAX,
  compareIds,
  incrementId,
  isZeroId,
  formatId,
  parseStrictId,
} from './streamId';

/** Live settings shared by every stream (follow CONFIG SET). */
export interface StreamSettings {
  nodeMaxEntries: number;
  nodeMaxBytes: number;
  /** stream-idmp-duration / stream-idmp-maxsize: IDMP settings of streams without their own (default 100 / 100). */
  idmpDuration?: number;
  idmpMaxsize?: number;
}

export type TrimStrategy = 'maxlen' | 'minid';

export interface TrimSpec {
  readonly strategy: TrimStrategy;
  /** MAXLEN: the length to keep. */
  readonly maxLen?: number;
  /** MINID: the lowest ID to keep. */
  readonly minId?: StreamId;
  /** `~`: remove whole nodes only. */
  readonly approx: boolean;
  /** Most entries to remove (0 = unlimited). The command sets Redis's default for `~` (100 * node entries). */
  readonly limit: number;
  /**
   * Redis 8.2's reference policy for the trimmed entries (see references.ts): DELREF also drops them from every
   * group's PEL, ACKED trims only entries no group still needs. Absent: KEEPREF, Redis 7's trim.
   */
  readonly policy?: RefPolicy;
}

/** Called per entry by range(); `fields` is [field1, value1, field2, value2, ...] (views, valid until the next write). */
export type EntryVisitor = (id: StreamId, fields: Buffer[]) => void;

/** Error texts of the stream core that are not in the shared catalog (yet). */

/** A stream as a checkpoint stores it (IDs as text, positions relative to the index's first entry). */
export interface StreamState {
  lastId: string;
  maxDeletedId: string;
  entriesAdded: string;
  firstId: string;
  live: number;
  /** Entries in the index, live or flagged, oldest first: the ENTRY records from the first retained one on. */
  entries: number;
  /** Flagged (deleted) entries, by rank in the index. */
  deleted: number[];
  /** NodeTable.exportRows(). */
  nodes: number[];
  groups: GroupState[];
  /** The IDMP table (idempotent XADD), when the stream has one. */
  idmp?: IdmpState;
}

/** Buffer equality; short field names (the usual case) are compared in JS, without a native call each. */

/** Bytes of an entry's fields and values (what XADD bounds and MAXBYTES retention counts). */
function elementBytesOf(fields: readonly Buffer[]): number {
  let n = 0;
  for (let i = 0; i < fields.length; i++) n += fields[i].length;
  return n;
}

export class Stream {
  // last-generated-id and entries-added are kept as Numbers while below 2^53 (every ID a clock makes, every
  // count an append reaches): an XADD then makes no bigint and no ID object. The bigint forms are made when
  // read (lastId, entriesAdded), or kept when a value is that large (only XSETID can set one).
  /** last-generated-id as Numbers (-1: a part at or beyond 2^53; then lastIdObject holds it). */
  private lastMs = 0;
  private lastSeq = 0;
  private lastIdObject: StreamId | null = MIN_ID;
  private addedCount = 0;
  /** entries-added when at or beyond 2^53 (XSETID ENTRIESADDED), else null. */
  private addedBig: bigint | null = null;
  /** max-deleted-entry-id */
  maxDeletedId: StreamId = MIN_ID;

  /** last-generated-id */
  get lastId(): StreamId {
    return (this.lastIdObject ??= { ms: BigInt(this.lastMs), seq: BigInt(this.lastSeq) });
  }
  set lastId(id: StreamId) {
    this.lastIdObject = id;
    this.lastMs = u64ToSafeNumber(id.ms);
    this.lastSeq = u64ToSafeNumber(id.seq);
  }

  /** entries-added */
  get entriesAdded(): bigint {
    return this.addedBig ?? BigInt(this.addedCount);
  }
  set entriesAdded(n: bigint) {
    if (n <= MAX_SAFE_BIG) {
      this.addedCount = Number(n);
      this.addedBig = null;
    } else this.addedBig = n;
  }

  /** last-generated-id's parts as Numbers (XADD's reply without the bigint form), -1 for a part beyond 2^53. */
  get lastIdMs(): number {
    return this.lastMs;
  }
  get lastIdSeq(): number {
    return this.lastSeq;
  }
  readonly groups = new Map<string, ConsumerGroup>();
  /** Per-stream settings set with XCFGSET (appendfsync, maxage, maxbytes); null: all follow the server. */
  settingsOverride: StreamOverrides | null = null;
  /** Idempotent XADD state (Redis 8.6): created by the first XADD IDMP/IDMPAUTO or XCFGSET IDMP-*. */
  idmp: IdmpTable | null = null;

  /** s->first_id: the first live entry's ID, 0-0 when empty (kept as Redis keeps it). */
  private firstId: StreamId = MIN_ID;
  private live = 0;
  private readonly index = new EntryIndex();
  private readonly nodes = new NodeTable();
  private readonly store: EntryStore;
  /** Field names of the tail node's master entry, and that node's first entry position (cache key). */
  private tailMaster: Buffer[] = [];
  private tailMasterStart = -1;
  private raxNodesCache = 1;
  private raxNodesVersion = -1;

  constructor(
    public key: string,
    readonly settings: StreamSettings,
    store?: EntryStore,
  ) {
    this.store = store ?? new MemoryEntryStore();
  }

  /** Live entries (XLEN). */
  get length(): number {
    return this.live;
  }

  /** MEMORY USAGE: bytes of the entry index and the node table (the entries themselves are in the log). */
  get indexHeapBytes(): number {
    return this.index.heapBytes + this.nodes.heapBytes;
  }

  /** radix-tree-keys: the number of listpack nodes Redis would hold. */
  get nodeCount(): number {
    return this.nodes.count;
  }

  /**
   * radix-tree-nodes: rax->numnodes for the nodes' master IDs as 128-bit big-endian keys, computed for the
   * canonical compressed rax (exact as long as Redis's rax is canonical, which the differential tests check).
   */
  get radixTreeNodes(): number {
    if (this.raxNodesVersion !== this.nodes.version) {
      const keys: Uint8Array[] = [];
      for (let i = 0; i < this.nodes.count; i++) {
        const abs = this.nodes.start(i);
        const k = Buffer.allocUnsafe(16);
        k.writeBigUInt64BE(this.index.ms(abs), 0);
        k.writeBigUInt64BE(this.index.seq(abs), 8);
        keys.push(k);
      }
      this.raxNodesCache = raxNodeCount(keys);
      this.raxNodesVersion = this.nodes.version;
    }
    return this.raxNodesCache;
  }

  /** recorded-first-entry-id */
  get recordedFirstId(): StreamId {
    return this.firstId;
  }

  /** The ID of the entry at an index position (see positionsInRange). */
  idAt(abs: number): StreamId {
    return { ms: this.index.ms(abs), seq: this.index.seq(abs) };
  }

  /** The ID parts of the entry at a position as Numbers, without making bigints; -1 for a part >= 2^53. */
  msAt(abs: number): number {
    return this.index.msNumber(abs);
  }
  seqAt(abs: number): number {
    return this.index.seqNumber(abs);
  }

  /** The bytes of the entry's items at a position (count, then length-prefixed items from `itemsOffset`). */
  itemsAt(abs: number): Buffer {
    return this.store.itemsAt(this.index.segment(abs), this.index.offset(abs));
  }

  /** Where the items begin in the buffer the last itemsAt() returned. */
  get itemsOffset(): number {
    return this.store.itemsOffset;
  }

  private fieldsAt(abs: number): Buffer[] {
    return this.store.read(this.index.segment(abs), this.index.offset(abs));
  }

  private firstLive(): number {
    const end = this.index.end;
    for (let abs = this.index.start; abs < end; abs++) if (!this.index.isDeleted(abs)) return abs;
    return -1;
  }

  private lastLive(): number {
    const start = this.index.start;
    for (let abs = this.index.end - 1; abs >= start; abs--) if (!this.index.isDeleted(abs)) return abs;
    return -1;
  }

  /** The first live entry's ID (without reading the entry), or null when the stream is empty. */
  firstLiveId(): StreamId | null {
    return this.live === 0 ? null : this.idAt(this.firstLive());
  }

  firstEntry(): { id: StreamId; fields: Buffer[] } | null {
    if (this.live === 0) return null;
    const abs = this.firstLive();
    return { id: this.idAt(abs), fields: this.fieldsAt(abs) };
  }

  lastEntry(): { id: StreamId; fields: Buffer[] } | null {
    if (this.live === 0) return null;
    const abs = this.lastLive();
    return { id: this.idAt(abs), fields: this.fieldsAt(abs) };
  }

  /** streamLastValidID: the last live entry's ID, or null when empty. */
  lastValidId(): StreamId | null {
    if (this.live === 0) return null;
    return this.idAt(this.lastLive());
  }

  getEntry(id: StreamId): Buffer[] | null {
    const abs = this.index.find(id.ms, id.seq);
    if (abs < 0 || this.index.isDeleted(abs)) return null;
    return this.fieldsAt(abs);
  }

  hasEntry(id: StreamId): boolean {
    const abs = this.index.find(id.ms, id.seq);
    return abs >= 0 && !this.index.isDeleted(abs);
  }

  /**
   * Index positions of the live entries with start <= id <= end, ascending (descending when reverse), at most
   * count (0 = no limit), into `out` (emptied first). Valid until the stream next changes. The bounds are two
   * binary searches, so the walk reads no ID.
   */
  positionsInRange(start: StreamId, end: StreamId, count: number, reverse: boolean, out: number[]): number {
    out.length = 0;
    if (this.live === 0 || compareIds(start, end) > 0) return 0;
    const index = this.index;
    const lo = index.lowerBound(start.ms, start.seq);
    const hi = index.upperBound(end.ms, end.seq);
    if (!reverse) {
      for (let abs = lo; abs < hi; abs++) {
        if (index.isDeleted(abs)) continue;
        if (out.push(abs) === count) break;
      }
    } else {
      for (let abs = hi - 1; abs >= lo; abs--) {
        if (index.isDeleted(abs)) continue;
        if (out.push(abs) === count) break;
      }
    }
    return out.length;
  }

  /** Visits live entries with start <= id <= end (ascending, or descending when reverse), at most count (0 = no limit). */
  range(start: StreamId, end: StreamId, count: number, reverse: boolean, visit: EntryVisitor): number {
    // A list of its own: a visitor may read the stream again.
    const positions: number[] = [];
    const n = this.positionsInRange(start, end, count, reverse, positions);
    for (let i = 0; i < n; i++) visit(this.idAt(positions[i]), this.fieldsAt(positions[i]));
    return n;
  }

  /**
   * XADD's ID logic and append (streamAppendItem). `idArg` null means `*` (next ID from `now`, never going
   * backwards when the clock does); `seqGiven` false means `ms-*`. `fields` is [f1, v1, ...] (even length).
   * Throws Redis's errors for an exhausted stream, an ID not greater than the top item, or elements too large.
   */
  append(fields: Buffer[], idArg: ParsedId | null, now: number): void {
    if (idArg === null) {
      // `*`: the clock's millisecond, or the next sequence number while the clock has not passed the last ID.
      // In Numbers while the last ID's parts and the next one's are below 2^53 (a last ID beyond that is always
      // ahead of the clock): no bigint, no ID object.
      const ms = Math.max(0, Math.floor(now));
      const lastMs = this.lastMs;
      const lastSeq = this.lastSeq;
      if (lastMs >= 0 && lastSeq >= 0) {
        if (ms > lastMs) return this.appendChecked(fields, null, ms, 0);
        if (lastSeq < Number.MAX_SAFE_INTEGER) return this.appendChecked(fields, null, lastMs, lastSeq + 1);
      }
    }
    const last = this.lastId;
    if (last.ms === UINT64_MAX && last.seq === UINT64_MAX) throw new CommandError(Err.xaddIdExhausted);
    let id: StreamId;
    if (idArg === null) {
      const next = incrementId(last)!;
      return this.appendChecked(fields, next, u64ToSafeNumber(next.ms), u64ToSafeNumber(next.seq));
    } else if (!idArg.seqGiven) {
      if (idArg.id.ms === last.ms) {
        if (last.seq === UINT64_MAX) throw new CommandError(Err.xaddIdTooSmall);
        id = { ms: last.ms, seq: last.seq + 1n };
      } else {
        id = idArg.id;
      }
    } else {
      id = idArg.id;
    }
    if (compareIds(id, last) <= 0) throw new CommandError(Err.xaddIdTooSmall);
    this.appendChecked(fields, id, u64ToSafeNumber(id.ms), u64ToSafeNumber(id.seq));
  }

  /**
   * Appends an entry whose ID is known to be greater than the last one; `ms`/`seq` are its parts as Numbers
   * (-1 for a part at or beyond 2^53), so the index and the node model work on doubles. `id` is null when both
   * parts are below 2^53 and no ID object was made (then the Numbers are the ID).
   */
  private appendChecked(fields: Buffer[], id: StreamId | null, ms: number, seq: number): void {
    const elementBytes = elementBytesOf(fields);
    if (elementBytes > STREAM_LISTPACK_MAX_SIZE) throw new CommandError(StreamErr.elementsTooLarge);

    const newNode = this.nodes.needsNewNode(this.settings, elementBytes);
    const safe = ms >= 0 && seq >= 0;
    if (safe) this.store.append(ms, seq, fields);
    else this.store.append(id!.ms, id!.seq, fields);
    const { lastSegment, lastOffset } = this.store;
    const abs = safe
      ? this.index.appendSafe(ms, seq, lastSegment, lastOffset, elementBytes)
      : this.index.append(id!.ms, id!.seq, lastSegment, lastOffset, elementBytes);
    let sameFields = true;
    let idDeltaBytes = 4; // the master entry itself: deltas 0 and 0
    if (newNode) {
      this.nodes.openNode(abs, fields);
    } else {
      const tailStart = this.nodes.start(this.nodes.count - 1);
      const masterMs = this.index.msNumber(tailStart);
      const masterSeq = this.index.seqNumber(tailStart);
      idDeltaBytes =
        safe && masterMs >= 0 && masterSeq >= 0
          ? deltaSize(ms, masterMs) + deltaSize(seq, masterSeq)
          : deltaSize(ms >= 0 ? ms : id!.ms, this.index.ms(tailStart)) + deltaSize(seq >= 0 ? seq : id!.seq, this.index.seq(tailStart));
      sameFields = this.sameAsMaster(tailStart, fields);
    }
    this.nodes.addEntry(abs, idDeltaBytes, fields, sameFields);

    this.live++;
    if (this.addedBig === null && this.addedCount < Number.MAX_SAFE_INTEGER) this.addedCount++;
    else this.entriesAdded = this.entriesAdded + 1n;
    if (id === null) {
      this.lastMs = ms;
      this.lastSeq = seq;
      this.lastIdObject = null;
    } else this.lastId = id;
    if (this.live === 1) this.firstId = this.lastId;
  }

  /** Whether the entry's field names equal those of the master entry of the node starting at `nodeStart`. */
  private sameAsMaster(nodeStart: number, fields: Buffer[]): boolean {
    if (this.tailMasterStart !== nodeStart) {
      const all = this.fieldsAt(nodeStart);
      this.tailMaster = [];
      for (let i = 0; i < all.length; i += 2) this.tailMaster.push(all[i]);
      this.tailMasterStart = nodeStart;
    }
    const master = this.tailMaster;
    if (master.length * 2 !== fields.length) return false;
    for (let i = 0; i < master.length; i++) if (!sameBytes(master[i], fields[i * 2])) return false;
    return true;
  }

  /** XDEL of one ID: true when a live entry was deleted. Updates max-deleted-entry-id and the first ID. */
  delete(id: StreamId): boolean {
    const abs = this.index.find(id.ms, id.seq);
    if (abs < 0 || this.index.isDeleted(abs)) return false;
    this.deleteAt(abs, id);
    if (compareIds(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    return true;
  }

  /** Flags the live entry at `abs` deleted; a node left without live entries is freed, as Redis frees its listpack. */
  private deleteAt(abs: number, id: StreamId): void {
    this.index.markDeleted(abs);
    this.store.deleted(id);
    const node = this.nodes.find(abs);
    if (this.nodes.live(node) === 1) {
      // The node's last live entry: Redis frees the whole listpack.
      this.nodes.remove(node);
      if (node === 0) this.dropHead();
    } else {
      this.nodes.markDeleted(node);
    }
    this.live--;
    if (this.live === 0) this.firstId = MIN_ID;
    else if (compareIds(id, this.firstId) === 0) this.firstId = this.idAt(this.firstLive());
  }

  /** Forgets index entries and store segments before the first node (after head nodes were removed). */
  private dropHead(): void {
    if (this.nodes.count === 0) {
      this.index.clear();
      this.store.releaseBefore(this.store.lastSegment, this.store.lastOffset);
      return;
    }
    const start = this.nodes.start(0);
    this.index.dropBefore(start);
    this.store.releaseBefore(this.index.segment(start), this.index.offset(start));
  }

  /** streamTrim: entries removed. `~` removes whole nodes only; LIMIT caps the work as Redis does. */
  trim(spec: TrimSpec): number {
    if (spec.policy === 'acked' && this.groups.size > 0) return this.trimAcked(spec);
    const delref = spec.policy === 'delref' && this.groups.size > 0;
    const byLen = spec.strategy === 'maxlen';
    const maxLen = spec.maxLen ?? 0;
    const minId = spec.minId ?? MIN_ID;
    const nodes = this.nodes;
    const index = this.index;
    let deleted = 0;
    let removedNodes = false;
    while (nodes.count > 0) {
      if (byLen && this.live <= maxLen) break;
      const entries = nodes.live(0);
      if (spec.limit && deleted + entries > spec.limit) break;
      let removeNode: boolean;
      if (byLen) {
        removeNode = this.live - entries >= maxLen;
      } else {
        // The node's last entry, deleted or not (lpGetEdgeStreamID).
        const lastAbs = nodes.end(0) - 1;
        const ms = index.ms(lastAbs);
        removeNode = ms < minId.ms || (ms === minId.ms && index.seq(lastAbs) < minId.seq);
      }
      if (removeNode) {
        if (delref) this.dropNodeReferences(0);
        nodes.remove(0);
        removedNodes = true;
        this.live -= entries;
        deleted += entries;
        continue;
      }
      if (spec.approx) break;
      // Flag entries inside the head node; they keep counting in that node.
      const end = nodes.end(0);
      for (let abs = nodes.start(0); abs < end; abs++) {
        let stop: boolean;
        if (byLen) {
          stop = this.live <= maxLen;
        } else {
          const ms = index.ms(abs);
          stop = ms > minId.ms || (ms === minId.ms && index.seq(abs) >= minId.seq);
        }
        if (stop) break;
        if (!index.isDeleted(abs)) {
          index.markDeleted(abs);
          this.store.deleted(this.idAt(abs));
          if (delref) dropReferences(this.groups, this.idAt(abs));
          nodes.markDeleted(0);
          this.live--;
          deleted++;
        }
      }
      break;
    }
    if (removedNodes) this.dropHead();
    if (deleted > 0) this.firstId = this.live === 0 ? MIN_ID : this.idAt(this.firstLive());
    return deleted;
  }

  /** DELREF: every group forgets the live entries of node `node` (before the node is freed by a trim). */
  private dropNodeReferences(node: number): void {
    const end = this.nodes.end(node);
    for (let abs = this.nodes.start(node); abs < end; abs++) {
      if (!this.index.isDeleted(abs)) dropReferences(this.groups, this.idAt(abs));
    }
  }

  /** Whether every live entry of node `node` is needed by no group (ACKED may free the whole node). */
  private nodeUnreferenced(node: number): boolean {
    const end = this.nodes.end(node);
    for (let abs = this.nodes.start(node); abs < end; abs++) {
      if (!this.index.isDeleted(abs) && isReferenced(this.groups, this.idAt(abs))) return false;
    }
    return true;
  }

  /**
   * Trim with ACKED: only entries no group still needs go. `~` frees whole head nodes while every live entry in
   * them is unreferenced and the strategy allows the whole node, and stops at the first node that is not; `=`
   * walks the entries oldest first up to the threshold (MAXLEN: until the length is reached; MINID: below the
   * ID), deleting the unreferenced ones and skipping the others (the docs: referenced entries stay, even when
   * that leaves more than MAXLEN).
   */
  private trimAcked(spec: TrimSpec): number {
    const byLen = spec.strategy === 'maxlen';
    const maxLen = spec.maxLen ?? 0;
    const minId = spec.minId ?? MIN_ID;
    const nodes = this.nodes;
    const index = this.index;
    let deleted = 0;
    if (spec.approx) {
      let removedNodes = false;
      while (nodes.count > 0) {
        if (byLen && this.live <= maxLen) break;
        const entries = nodes.live(0);
        if (spec.limit && deleted + entries > spec.limit) break;
        const lastAbs = nodes.end(0) - 1;
        const whole = byLen
          ? this.live - entries >= maxLen
          : index.ms(lastAbs) < minId.ms || (index.ms(lastAbs) === minId.ms && index.seq(lastAbs) < minId.seq);
        if (!whole || !this.nodeUnreferenced(0)) break;
        nodes.remove(0);
        removedNodes = true;
        this.live -= entries;
        deleted += entries;
      }
      if (removedNodes) this.dropHead();
      if (deleted > 0) this.firstId = this.live === 0 ? MIN_ID : this.idAt(this.firstLive());
      return deleted;
    }
    for (let abs = index.start; abs < index.end; abs++) {
      if (byLen && this.live <= maxLen) break;
      const id = this.idAt(abs);
      if (!byLen && compareIds(id, minId) >= 0) break;
      if (index.isDeleted(abs) || isReferenced(this.groups, id)) continue;
      this.deleteAt(abs, id);
      deleted++;
    }
    return deleted;
  }

  /**
   * XSETID after its arguments were checked: refuses a last ID below the top entry and an entries_added below
   * the length (when the stream has entries), as Redis 7.0. A zero maxDeletedId leaves the current one.
   */
  setId(lastId: StreamId, entriesAdded?: bigint, maxDeletedId?: StreamId): void {
    if (this.live > 0) {
      const top = this.idAt(this.lastLive());
      if (compareIds(lastId, top) < 0) throw new CommandError(Err.xsetidTooSmall);
      if (entriesAdded !== undefined && BigInt(this.live) > entriesAdded) {
        throw new CommandError(Err.xsetidEntriesAddedSmall);
      }
    }
    this.lastId = lastId;
    if (entriesAdded !== undefined) this.entriesAdded = entriesAdded;
    if (maxDeletedId !== undefined && !isZeroId(maxDeletedId)) this.maxDeletedId = maxDeletedId;
  }

  /** Recovery of an XSETID: the counters it left (checked when it ran). */
  restoreCounters(lastId: StreamId, entriesAdded: bigint, maxDeletedId: StreamId): void {
    this.lastId = lastId;
    this.entriesAdded = entriesAdded;
    this.maxDeletedId = maxDeletedId;
  }

  // ---- checkpoints (see checkpoint.ts) -------------------------------------------------------------------------

  /**
   * The listpack nodes Redis would hold, oldest first, as [first, end) index positions (DUMP and RDB files
   * write each node's entries, flagged ones included, as one listpack).
   */
  nodeRanges(): [number, number][] {
    const out: [number, number][] = [];
    for (let i = 0; i < this.nodes.count; i++) out.push([this.nodes.start(i), this.nodes.end(i)]);
    return out;
  }

  /** Whether the entry at an index position is flagged deleted (XDEL, exact trimming). */
  deletedAt(abs: number): boolean {
    return this.index.isDeleted(abs);
  }

  /** The fields and values of the entry at an index position, flagged or not. */
  fieldsAtPosition(abs: number): Buffer[] {
    return this.fieldsAt(abs);
  }

  /** Location of the oldest entry the stream still needs (its index's first entry), or null when none. */
  firstRetained(): { segment: number; offset: number } | null {
    const start = this.index.start;
    if (start === this.index.end) return null;
    return { segment: this.index.segment(start), offset: this.index.offset(start) };
  }

  /**
   * Everything but the entries' bytes and locations: counters, the node layout (so `~` trimming and XINFO
   * stay exact after a restart), the flagged entries, and the groups.
   */
  exportState(): StreamState {
    const start = this.index.start;
    const end = this.index.end;
    const deleted: number[] = [];
    for (let abs = start; abs < end; abs++) if (this.index.isDeleted(abs)) deleted.push(abs - start);
    return {
      lastId: formatId(this.lastId),
      maxDeletedId: formatId(this.maxDeletedId),
      entriesAdded: this.entriesAdded.toString(),
      firstId: formatId(this.firstId),
      live: this.live,
      entries: end - start,
      deleted,
      nodes: this.nodes.exportRows(start),
      groups: [...this.groups.values()].map((g) => g.exportState()),
      ...(this.idmp ? { idmp: this.idmp.exportState() } : {}),
    };
  }

  /** The IDMP-DURATION in force (seconds): the stream's own, else the server's. */
  get idmpDuration(): number {
    return this.idmp?.duration ?? this.settings.idmpDuration ?? IDMP_DEFAULT_DURATION;
  }

  /** The IDMP-MAXSIZE in force: the stream's own, else the server's. */
  get idmpMaxsize(): number {
    return this.idmp?.maxsize ?? this.settings.idmpMaxsize ?? IDMP_DEFAULT_MAXSIZE;
  }

  /** Loading a checkpoint, step 1: the entries of exportState()'s index, oldest first, by location. */
  restoreEntry(ms: bigint, seq: bigint, segment: number, offset: number): void {
    this.index.append(ms, seq, segment, offset);
  }

  /** The index's columns for a snapshot (views valid until the next write), or null when IDs reach 2^53. */
  indexColumns(): IndexColumns | null {
    return this.index.columns();
  }

  /** Loading a snapshot, step 1: restoreEntry() for a whole snapshot's index at once (the arrays are handed over). */
  restoreColumns(cols: IndexColumns): void {
    this.index.appendColumns(cols);
  }

  /** Loading a checkpoint, step 2: the state itself. Throws when the entries restored do not match it. */
  importState(state: StreamState): void {
    const start = this.index.start;
    if (this.index.end - start !== state.entries) {
      throw new Error(`checkpoint expects ${state.entries} entries, the log holds ${this.index.end - start}`);
    }
    for (const rel of state.deleted) this.index.markDeleted(start + rel);
    this.nodes.importRows(state.nodes, start);
    this.lastId = parseStrictId(state.lastId);
    this.maxDeletedId = parseStrictId(state.maxDeletedId);
    this.entriesAdded = BigInt(state.entriesAdded);
    this.firstId = parseStrictId(state.firstId);
    this.live = state.live;
    this.tailMasterStart = -1;
    this.groups.clear();
    for (const g of state.groups) this.groups.set(g.name, ConsumerGroup.importState(g));
    this.idmp = state.idmp ? IdmpTable.importState(state.idmp) : null;
  }

  // ---- retention by bytes (see entryIndex.ts) ----------------------------------------------------------------

  /** Starts counting the live entries' bytes (sum of field and value lengths); reads existing entries once. */
  trackBytes(): void {
    if (this.index.tracksBytes) return;
    this.index.trackBytes((abs) => elementBytesOf(this.fieldsAt(abs)));
  }

  /** Bytes (field and value lengths) of the live entries; 0 unless trackBytes() was called. */
  get liveBytes(): number {
    return this.index.liveBytes;
  }

  /**
   * The MINID that trims the oldest entries until the live ones hold at most `maxBytes`, or null when nothing
   * needs trimming. When even the newest entry alone is larger, the ID after the last one (everything goes);
   * null too when that ID cannot exist. Needs trackBytes().
   */
  minIdForBytes(maxBytes: number): StreamId | null {
    if (this.live === 0 || this.index.liveBytes <= maxBytes) return null;
    const keep = this.index.firstToKeepForBytes(maxBytes);
    if (keep < this.index.end) return this.idAt(keep);
    return incrementId(this.idAt(this.index.end - 1));
  }

  /** Bytes its entries take where they are kept (the durable store: its segment files on disk). */
  get dataBytes(): number {
    return this.store.bytes;
  }

  destroy(): void {
    this.store.destroy();
    this.index.clear();
    this.nodes.clear();
    this.live = 0;
    this.tailMasterStart = -1;
    this.tailMaster = [];
  }

  renamed(key: string): void {
    this.key = key;
  }
}

/** streamRangeHasTombstones (7.0): whether a deleted entry may lie in [start, end] (null: open bound). */
export function rangeHasTombstones(s: Stream, start: StreamId | null, end: StreamId | null): boolean {
  if (s.length === 0 || isZeroId(s.maxDeletedId)) return false;
  // The latest tombstone is before the first entry.
  if (compareIds(s.recordedFirstId, s.maxDeletedId) > 0) return false;
  const a = start ?? MIN_ID;
  if (compareIds(a, s.maxDeletedId) <= 0 && (end === null || compareIds(s.maxDeletedId, end) <= 0)) return true;
  return false;
}

/** streamEstimateDistanceFromFirstEverEntry (7.0): the logical counter of `id`, or null when unknowable. */
export function estimateDistanceFromFirstEverEntry(s: Stream, id: StreamId): bigint | null {
  if (s.entriesAdded === 0n) return 0n;
  if (s.length === 0 && compareIds(id, s.lastId) < 1) return s.entriesAdded;
  const cmpLast = compareIds(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return null;
  const first = s.recordedFirstId;
  const cmpIdFirst = compareIds(id, first);
  const cmpXdelFirst = compareIds(s.maxDeletedId, first);
  if (isZeroId(s.maxDeletedId) || cmpXdelFirst < 0) {
    if (cmpIdFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpIdFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return null;
}
