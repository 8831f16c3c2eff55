// An in-memory stand-in for src/streams/stream.ts implementing the contract the group commands use (test only:
// one JS object per entry is fine here). IDs, tombstones and counters follow t_stream.c 7.0, including the
// 7.0 rule that a tombstone before the first entry does not count.
import { compareIds, MIN_ID, type StreamId } from '../../src/streams/streamId';
import type { ConsumerGroup } from '../../src/streams/consumerGroup';

export type EntryVisitor = (id: StreamId, fields: Buffer[]) => void;

export class Stream {
  lastId: StreamId = MIN_ID;
  maxDeletedId: StreamId = MIN_ID;
  entriesAdded = 0n;
  firstId: StreamId = MIN_ID;
  readonly groups = new Map<string, ConsumerGroup>();
  entries: Array<{ id: StreamId; fields: Buffer[] }> = [];
  constructor(public key: string, _settings?: unknown) {}
  get length(): number { return this.entries.length; }
  get nodeCount(): number { return this.entries.length > 0 ? 1 : 0; }
  get radixTreeNodes(): number { return this.entries.length > 0 ? 2 : 1; }
  get recordedFirstId(): StreamId { return this.firstId; }
  firstEntry() { return this.entries[0] ?? null; }
  lastEntry() { return this.entries[this.entries.length - 1] ?? null; }
  getEntry(id: StreamId): Buffer[] | null { return this.entries.find((e) => compareIds(e.id, id) === 0)?.fields ?? null; }
  hasEntry(id: StreamId): boolean { return this.getEntry(id) !== null; }
  range(start: StreamId, end: StreamId, count: number, reverse: boolean, visit: EntryVisitor): number {
    let list = this.entries.filter((e) => compareIds(e.id, start) >= 0 && compareIds(e.id, end) <= 0);
    if (reverse) list = list.reverse();
    if (count > 0) list = list.slice(0, count);
    for (const e of list) visit(e.id, e.fields);
    return list.length;
  }
  add(id: StreamId, ...kv: string[]): void {
    this.entries.push({ id, fields: kv.map((s) => Buffer.from(s)) });
    this.lastId = id;
    this.entriesAdded++;
    if (this.entries.length === 1) this.firstId = id;
  }
  del(id: StreamId): boolean {
    const i = this.entries.findIndex((e) => compareIds(e.id, id) === 0);
    if (i < 0) return false;
    this.entries.splice(i, 1);
    if (compareIds(id, this.maxDeletedId) > 0) this.maxDeletedId = id;
    this.firstId = this.entries[0]?.id ?? MIN_ID;
    return true;
  }
  destroy(): void {}
  renamed(key: string): void { this.key = key; }
}

const isZero = (id: StreamId) => id.ms === 0n && id.seq === 0n;

export function rangeHasTombstones(s: Stream, start: StreamId | null, end: StreamId | null): boolean {
  if (s.length === 0 || isZero(s.maxDeletedId)) return false;
  if (compareIds(s.firstId, s.maxDeletedId) > 0) return false;
  const a = start ?? MIN_ID;
  if (compareIds(a, s.maxDeletedId) <= 0 && (end === null || compareIds(s.maxDeletedId, end) <= 0)) return true;
  return false;
}

export function estimateDistanceFromFirstEverEntry(s: Stream, id: StreamId): bigint | null {
  if (s.entriesAdded === 0n) return 0n;
  if (s.length === 0 && compareIds(id, s.lastId) < 1) return s.entriesAdded;
  const cmpLast = compareIds(id, s.lastId);
  if (cmpLast === 0) return s.entriesAdded;
  if (cmpLast > 0) return null;
  const cmpIdFirst = compareIds(id, s.firstId);
  const cmpXdelFirst = compareIds(s.maxDeletedId, s.firstId);
  if (isZero(s.maxDeletedId) || cmpXdelFirst < 0) {
    if (cmpIdFirst < 0) return s.entriesAdded - BigInt(s.length);
    if (cmpIdFirst === 0) return s.entriesAdded - BigInt(s.length) + 1n;
  }
  return null;
}
