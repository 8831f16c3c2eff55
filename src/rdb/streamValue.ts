// A stream value as Redis's rdb.c saves and loads it (rdbSaveObject / rdbLoadObject for OBJ_STREAM): the rax of
// listpack nodes (16-byte big-endian master ID -> listpack), the length, last ID, first ID, max deleted ID,
// entries added, then the consumer groups (rax order: by name bytes) with their PELs (raw ID, delivery time,
// delivery count) and consumers (rax order, seen-time, their PEL as raw IDs). Written as
// RDB_TYPE_STREAM_LISTPACKS_2 (Redis 7.0); read from types 15 (Redis 5/6), 19 (7.0) and 21 (7.2, consumers'
// active-time), filling what an older type lacks as Redis 7 does on load. StreamValue is plain data: this
// module knows nothing of Spool's Stream (see streamBuild.ts).

import { MAX_ID, MIN_ID, compareIds, type StreamId } from '../streams/streamId';
import { ListpackBuilder, elementBytes, elementInt, readListpack } from './listpack';
import { RdbFormatError, type RdbReader, type RdbWriter } from './primitives';

export const RDB_TYPE_STREAM_LISTPACKS = 15;
export const RDB_TYPE_STREAM_LISTPACKS_2 = 19;
export const RDB_TYPE_STREAM_LISTPACKS_3 = 21;

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;

export interface StreamValueEntry {
  id: StreamId;
  deleted: boolean;
  /** [field1, value1, ...] */
  fields: Buffer[];
}

/** One listpack node: its entries in order (the first is the master entry's, deleted or not). */
export interface StreamValueNode {
  entries: StreamValueEntry[];
  /** lpBytes of the listpack as read (0 for nodes built by Spool before encoding). */
  lpBytes: number;
}

export interface StreamValuePending {
  id: StreamId;
  deliveryTime: number;
  deliveryCount: bigint;
}

export interface StreamValueConsumer {
  name: Buffer;
  seenTime: number;
  /** Redis 7.2's active-time (read from type 21 only; Spool answers as 7.0 and does not keep it). */
  activeTime?: number;
  pending: StreamId[];
}

export interface StreamValueGroup {
  name: Buffer;
  lastId: StreamId;
  /** entries_read; -1 (SCG_INVALID_ENTRIES_READ) when unknown. */
  entriesRead: bigint;
  pending: StreamValuePending[];
  consumers: StreamValueConsumer[];
}

export interface StreamValue {
  nodes: StreamValueNode[];
  length: number;
  lastId: StreamId;
  firstId: StreamId;
  maxDeletedId: StreamId;
  entriesAdded: bigint;
  groups: StreamValueGroup[];
}

// ---- writing -------------------------------------------------------------------------------------------------

/** The listpack of one node, built as streamAppendItem builds it entry by entry (then flags as XDEL sets them). */
export function nodeListpack(node: StreamValueNode): Buffer {
  const entries = node.entries;
  const master = entries[0];
  const masterFields: Buffer[] = [];
  for (let i = 0; i < master.fields.length; i += 2) masterFields.push(master.fields[i]);
  let live = 0;
  for (const e of entries) if (!e.deleted) live++;
  const lp = new ListpackBuilder();
  lp.int(live);
  lp.int(entries.length - live);
  lp.int(masterFields.length);
  for (const f of masterFields) lp.string(f);
  lp.int(0);
  for (const e of entries) {
    const numFields = e.fields.length >> 1;
    let same = numFields === masterFields.length;
    for (let i = 0; same && i < numFields; i++) same = e.fields[i * 2].equals(masterFields[i]);
    lp.int((same ? FLAG_SAMEFIELDS : 0) | (e.deleted ? FLAG_DELETED : 0));
    lp.int(BigInt.asIntN(64, e.id.ms - master.id.ms));
    lp.int(BigInt.asIntN(64, e.id.seq - master.id.seq));
    if (same) {
      for (let i = 1; i < e.fields.length; i += 2) lp.string(e.fields[i]);
    } else {
      lp.int(numFields);
      for (const f of e.fields) lp.string(f);
    }
    lp.int(same ? numFields + 3 : numFields * 2 + 4);
  }
  return lp.finish();
}

function compareBytes(a: Buffer, b: Buffer): number {
  return Buffer.compare(a, b);
}

function writeId(out: RdbWriter, id: StreamId): void {
  out.len(id.ms);
  out.len(id.seq);
}

/** rdbSaveObject for a stream, as RDB_TYPE_STREAM_LISTPACKS_2 (the type byte is the caller's). */
export function writeStreamValue(out: RdbWriter, value: StreamValue): void {
  writeStreamNodes(out, value.nodes.length, value.nodes);
  writeStreamMeta(out, value);
}

/** The rax part: `count` nodes, taken one at a time from `nodes` (a stream's need not all be in memory at once). */
export function writeStreamNodes(out: RdbWriter, count: number, nodes: Iterable<StreamValueNode>): void {
  out.len(count);
  for (const node of nodes) {
    const master = node.entries[0].id;
    out.len(16);
    out.rawId(master.ms, master.seq);
    out.string(nodeListpack(node));
  }
}

/** What follows the nodes: length, IDs, counters, consumer groups. */
export function writeStreamMeta(out: RdbWriter, value: Omit<StreamValue, 'nodes'>): void {
  out.len(value.length);
  writeId(out, value.lastId);
  writeId(out, value.firstId);
  writeId(out, value.maxDeletedId);
  out.len(value.entriesAdded);
  const groups = [...value.groups].sort((a, b) => compareBytes(a.name, b.name));
  out.len(groups.length);
  for (const g of groups) {
    out.string(g.name);
    writeId(out, g.lastId);
    out.len(BigInt.asUintN(64, g.entriesRead));
    out.len(g.pending.length);
    for (const p of g.pending) {
      out.rawId(p.id.ms, p.id.seq);
      out.millis(p.deliveryTime);
      out.len(p.deliveryCount);
    }
    const consumers = [...g.consumers].sort((a, b) => compareBytes(a.name, b.name));
    out.len(consumers.length);
    for (const c of consumers) {
      out.string(c.name);
      out.millis(c.seenTime);
      out.len(c.pending.length);
      for (const id of c.pending) out.rawId(id.ms, id.seq);
    }
  }
}

// ---- reading -------------------------------------------------------------------------------------------------

/** Decodes one node's listpack (streamValidateListpackIntegrity's checks, deep). */
export function readNode(masterId: StreamId, lp: Buffer): StreamValueNode {
  const el = readListpack(lp);
  let p = 0;
  const next = () => {
    if (p >= el.length) throw new RdbFormatError('stream listpack ends early');
    return el[p++];
  };
  const live = elementInt(next());
  const deleted = elementInt(next());
  const masterCount = elementInt(next());
  if (live < 0n || deleted < 0n || masterCount < 0n || masterCount > BigInt(el.length)) throw new RdbFormatError('bad master entry');
  const masterFields: Buffer[] = [];
  for (let i = 0n; i < masterCount; i++) masterFields.push(elementBytes(next()));
  if (elementInt(next()) !== 0n) throw new RdbFormatError('bad master entry terminator');
  const entries: StreamValueEntry[] = [];
  let seenLive = 0n;
  let seenDeleted = 0n;
  while (p < el.length) {
    const flags = elementInt(next());
    const ms = BigInt.asUintN(64, masterId.ms + elementInt(next()));
    const seq = BigInt.asUintN(64, masterId.seq + elementInt(next()));
    const fields: Buffer[] = [];
    let numFields: bigint;
    if (flags & BigInt(FLAG_SAMEFIELDS)) {
      numFields = masterCount;
      for (const f of masterFields) fields.push(f, elementBytes(next()));
    } else {
      numFields = elementInt(next());
      if (numFields < 0n || numFields * 2n > BigInt(el.length - p)) throw new RdbFormatError('bad entry field count');
      for (let i = 0n; i < numFields * 2n; i++) fields.push(elementBytes(next()));
    }
    const lpCount = elementInt(next());
    const expected = flags & BigInt(FLAG_SAMEFIELDS) ? numFields + 3n : numFields * 2n + 4n;
    if (lpCount !== expected) throw new RdbFormatError('bad entry lp-count');
    const isDeleted = (flags & BigInt(FLAG_DELETED)) !== 0n;
    if (isDeleted) seenDeleted++;
    else seenLive++;
    const id = { ms, seq };
    if (entries.length > 0 && compareIds(id, entries[entries.length - 1].id) <= 0) throw new RdbFormatError('stream IDs out of order');
    if (entries.length === 0 && compareIds(id, masterId) !== 0) throw new RdbFormatError('first entry is not the master ID');
    entries.push({ id, deleted: isDeleted, fields });
  }
  if (entries.length === 0) throw new RdbFormatError('empty listpack in stream');
  if (seenLive !== live || seenDeleted !== deleted) throw new RdbFormatError('stream node counters mismatch');
  return { entries, lpBytes: lp.length };
}

function readId(r: RdbReader): StreamId {
  return { ms: r.bigLen(), seq: r.bigLen() };
}

/** rdbLoadObject for stream types 15, 19 and 21 (after the type byte). */
export function readStreamValue(r: RdbReader, type: number): StreamValue {
  const nodeCount = r.len();
  const nodes: StreamValueNode[] = [];
  for (let i = 0; i < nodeCount; i++) {
    const key = r.string();
    if (key.length !== 16) throw new RdbFormatError('stream node key is not 128 bits');
    const masterId = { ms: key.readBigUInt64BE(0), seq: key.readBigUInt64BE(8) };
    const lp = r.string();
    if (lp.length > 0 && lp.length >= 7 && lp.readUInt16LE(4) === 0) {
      // A listpack without elements: Redis refuses it ("Empty listpack inside stream").
      throw new RdbFormatError('empty listpack inside stream');
    }
    const node = readNode(masterId, Buffer.from(lp));
    if (nodes.length > 0) {
      const prev = nodes[nodes.length - 1].entries;
      if (compareIds(masterId, prev[prev.length - 1].id) <= 0) throw new RdbFormatError('stream nodes out of order');
    }
    nodes.push(node);
  }
  const length = r.len();
  const lastId = readId(r);
  let firstId: StreamId;
  let maxDeletedId: StreamId;
  let entriesAdded: bigint;
  if (type >= RDB_TYPE_STREAM_LISTPACKS_2) {
    firstId = readId(r);
    maxDeletedId = readId(r);
    entriesAdded = r.bigLen();
  } else {
    // As Redis 7 loads a Redis 5/6 stream: no tombstones known, entries added = length, first ID from the rax.
    maxDeletedId = MIN_ID;
    entriesAdded = BigInt(length);
    // streamGetEdgeID: without a live entry, the first ID is the greatest one.
    firstId = MAX_ID;
    outer: for (const node of nodes) {
      for (const e of node.entries) {
        if (!e.deleted) {
          firstId = e.id;
          break outer;
        }
      }
    }
  }
  let live = 0;
  for (const node of nodes) for (const e of node.entries) if (!e.deleted) live++;
  if (live !== length) throw new RdbFormatError('stream length mismatch');
  const groupCount = r.len();
  const groups: StreamValueGroup[] = [];
  for (let g = 0; g < groupCount; g++) {
    const name = Buffer.from(r.string());
    const groupLastId = readId(r);
    const entriesRead = type >= RDB_TYPE_STREAM_LISTPACKS_2 ? BigInt.asIntN(64, r.bigLen()) : null;
    const pendingCount = r.len();
    const pending: StreamValuePending[] = [];
    const pendingIds = new Set<string>();
    for (let i = 0; i < pendingCount; i++) {
      const id = r.rawId();
      const deliveryTime = Number(r.millis());
      const deliveryCount = r.bigLen();
      const key = `${id.ms}-${id.seq}`;
      if (pendingIds.has(key)) throw new RdbFormatError('duplicated global PEL entry');
      pendingIds.add(key);
      pending.push({ id, deliveryTime, deliveryCount });
    }
    const consumerCount = r.len();
    const consumers: StreamValueConsumer[] = [];
    const owned = new Set<string>();
    for (let c = 0; c < consumerCount; c++) {
      const consumerName = Buffer.from(r.string());
      const seenTime = Number(r.millis());
      const activeTime = type >= RDB_TYPE_STREAM_LISTPACKS_3 ? Number(r.millis()) : undefined;
      const n = r.len();
      const ids: StreamId[] = [];
      for (let i = 0; i < n; i++) {
        const id = r.rawId();
        const key = `${id.ms}-${id.seq}`;
        // Redis: "Consumer entry not found in group global PEL", "Duplicated consumer PEL entry".
        if (!pendingIds.has(key) || owned.has(key)) throw new RdbFormatError('consumer PEL entry not in the group PEL');
        owned.add(key);
        ids.push(id);
      }
      consumers.push({ name: consumerName, seenTime, ...(activeTime !== undefined ? { activeTime } : {}), pending: ids });
    }
    groups.push({
      name,
      lastId: groupLastId,
      entriesRead: entriesRead ?? estimateEntriesRead(length, lastId, firstId, entriesAdded, groupLastId),
      pending,
      consumers,
    });
  }
  return { nodes, length, lastId, firstId, maxDeletedId, entriesAdded, groups };
}

/** streamEstimateDistanceFromFirstEverEntry for a group of a Redis 5/6 stream (no tombstones are known then). */
function estimateEntriesRead(
  length: number,
  lastId: StreamId,
  firstId: StreamId,
  entriesAdded: bigint,
  id: StreamId,
): bigint {
  if (entriesAdded === 0n) return 0n;
  if (length === 0 && compareIds(id, lastId) < 1) return entriesAdded;
  const cmpLast = compareIds(id, lastId);
  if (cmpLast === 0) return entriesAdded;
  if (cmpLast > 0) return -1n;
  const cmpFirst = compareIds(id, firstId);
  if (cmpFirst < 0) return entriesAdded - BigInt(length);
  if (cmpFirst === 0) return entriesAdded - BigInt(length) + 1n;
  return -1n;
}
