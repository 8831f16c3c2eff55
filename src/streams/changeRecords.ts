// What a stream write changed, as a typed value, and its binary form in the stream's log. A write command (or
// a served blocked read, or a retention trim) hands its change to a ChangeLog once it has applied it; the log
// writes one record per change (the records of one command form one batch, see StreamLog.joinBatch) and
// recovery decodes them and applies them to the model directly (changeReplay.ts), without running commands.
//
// Changes carry their outcome, not their request: generated IDs, times, an approximate trim's exact effect, the
// group's last-delivered ID and read counter after a read. They never name the key, so a renamed stream's log
// replays as it is. Entries themselves are ENTRY records written by the entry store (recordCodec.ts).
//
// Payload layout: u8 version, then the fields of the type in order. IDs are u64 ms + u64 seq, counters u64 or
// i64, times f64 (the model keeps times as doubles), names and bytes u32 length + bytes, lists u32 count + items.
// A later field goes at the end under a new version; decoders accept every version up to their own and give an
// absent field its old meaning.

import { ByteWriter } from '../util/byteWriter';
import type { StreamId } from './streamId';
import type { RefPolicy } from './references';
import type { Stream, TrimSpec } from './stream';
import { RecordType, type FsyncPolicy } from '../storage';
import type { StreamOverrides } from './streamSettings';

/** The record types of the changes (storage's RecordType codes). */
export const ChangeType = {
  DELETE: RecordType.DELETE,
  TRIM: RecordType.TRIM,
  SETID: RecordType.SETID,
  SETTINGS: RecordType.SETTINGS,
  IDMP: RecordType.IDMP,
  GROUP_CREATE: RecordType.GROUP_CREATE,
  GROUP_SETID: RecordType.GROUP_SETID,
  GROUP_DESTROY: RecordType.GROUP_DESTROY,
  CONSUMER_CREATE: RecordType.CONSUMER_CREATE,
  CONSUMER_DELETE: RecordType.CONSUMER_DELETE,
  DELIVER: RecordType.DELIVER,
  ACK: RecordType.ACK,
  CLAIM: RecordType.CLAIM,
} as const;

const VERSION = 1;

/** One NACK as a claim or release left it. */
export interface ClaimedNack {
  readonly id: StreamId;
  readonly deliveryTime: number;
  readonly deliveryCount: bigint;
}

export type StreamChange =
  /** Entries deleted (XDEL, XDELEX, XACKDEL); `delref`: every group's references to them were dropped too. */
  | { readonly type: 2; readonly ids: readonly StreamId[]; readonly delref: boolean }
  /** An exact trim (an approximate one is recorded as the exact trim with its effect: exactTrimOf). */
  | { readonly type: 3; readonly trim: TrimSpec }
  /** XSETID: the counters after it. */
  | { readonly type: 4; readonly lastId: StreamId; readonly entriesAdded: bigint; readonly maxDeletedId: StreamId }
  /** XCFGSET: `idmp` when IDMP options were given (the table's settings after, its iids cleared); the overrides after. */
  | {
      readonly type: 5;
      readonly idmp: { readonly duration: number | null; readonly maxsize: number | null } | null;
      readonly overrides: StreamOverrides | null;
    }
  | { readonly type: 6; readonly pid: string; readonly iid: string; readonly id: StreamId; readonly time: number }
  | { readonly type: 16 | 17; readonly group: string; readonly lastId: StreamId; readonly entriesRead: bigint }
  | { readonly type: 18; readonly group: string }
  | { readonly type: 19; readonly group: string; readonly consumer: string; readonly time: number }
  | { readonly type: 20; readonly group: string; readonly consumer: string }
  /**
   * A read served to `consumer` at `time` (XREADGROUP, blocked or not): `redelivered` NACKs moved to it with one
   * more delivery (history, CLAIM), then the live entries after the group's last ID up to `lastId` delivered
   * (unless `noack`), and the group's counters set to `lastId` / `entriesRead`.
   */
  | {
      readonly type: 21;
      readonly group: string;
      readonly consumer: string;
      readonly time: number;
      readonly noack: boolean;
      readonly lastId: StreamId;
      readonly entriesRead: bigint;
      readonly redelivered: readonly StreamId[];
    }
  | { readonly type: 22; readonly group: string; readonly ids: readonly StreamId[] }
  /**
   * XCLAIM / XAUTOCLAIM / XNACK: `nacks` now owned by `consumer` (seen at `time`; null: released, no owner) with
   * their delivery time and count, `dropped` NACKs of deleted entries removed, the group's last ID moved to
   * `lastId` (XCLAIM LASTID; null: unchanged).
   */
  | {
      readonly type: 23;
      readonly group: string;
      readonly consumer: string | null;
      readonly time: number;
      readonly lastId: StreamId | null;
      readonly nacks: readonly ClaimedNack[];
      readonly dropped: readonly StreamId[];
    };

/** Where handlers send their changes (the persistence layer); absent when the server keeps no logs. */
export interface ChangeLog {
  record(stream: Stream, change: StreamChange): void;
}

// ---- writer / reader ---------------------------------------------------------------------------------------

/** ByteWriter with the pieces of change records: IDs, ID lists and length-prefixed latin1 strings. */
class Writer extends ByteWriter {
  id(id: StreamId): void {
    this.u64LE(id.ms);
    this.u64LE(id.seq);
  }
  ids(ids: readonly StreamId[]): void {
    this.u32LE(ids.length);
    for (const id of ids) this.id(id);
  }
  /** A latin1 (binary-safe) string as length-prefixed bytes. */
  text(s: string): void {
    this.u32LE(Buffer.byteLength(s, 'latin1'));
    this.latin1(s);
  }
}

class Reader {
  private p = 0;
  constructor(private readonly buf: Buffer) {}

  private need(n: number): number {
    const at = this.p;
    if (at + n > this.buf.length) throw new RangeError('change record cut short');
    this.p += n;
    return at;
  }
  u8(): number {
    return this.buf[this.need(1)];
  }
  u32(): number {
    return this.buf.readUInt32LE(this.need(4));
  }
  u64(): bigint {
    return this.buf.readBigUInt64LE(this.need(8));
  }
  i64(): bigint {
    return this.buf.readBigInt64LE(this.need(8));
  }
  f64(): number {
    return this.buf.readDoubleLE(this.need(8));
  }
  id(): StreamId {
    return { ms: this.u64(), seq: this.u64() };
  }
  /** A count of items each at least `itemSize` bytes, checked against what is left (no huge allocation). */
  count(itemSize: number): number {
    const n = this.u32();
    if (n * itemSize > this.buf.length - this.p) throw new RangeError('change record list runs past its end');
    return n;
  }
  ids(): StreamId[] {
    const n = this.count(16);
    const out: StreamId[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = this.id();
    return out;
  }
  text(): string {
    const n = this.u32();
    const at = this.need(n);
    return this.buf.toString('latin1', at, at + n);
  }
}

// ---- per type ------------------------------------------------------------------------------------------------

const POLICIES: readonly RefPolicy[] = ['keepref', 'delref', 'acked'];
const FSYNC: readonly FsyncPolicy[] = ['always', 'everysec', 'no'];
/** An absent optional number (a setting following the server). */
const NONE = -1;

function writeOptional(w: Writer, v: number | null | undefined): void {
  w.f64LE(v === null || v === undefined ? NONE : v);
}
function readOptional(r: Reader): number | null {
  const v = r.f64();
  return v === NONE ? null : v;
}

/** One writer for every change: a payload is copied into its log as soon as it is encoded. */
const writer = new Writer();
const WRITER_KEEP = 64 * 1024;

/**
 * The payload of `change` (its record type is change.type), as a view valid until the next encodeChange: the
 * caller copies it (appendRecord does), so a delivery or an ack allocates no buffer of its own.
 */
export function encodeChange(change: StreamChange): Buffer {
  const w = writer;
  w.reset(WRITER_KEEP);
  w.byte(VERSION);
  switch (change.type) {
    case ChangeType.DELETE:
      w.byte(change.delref ? 1 : 0);
      w.ids(change.ids);
      break;
    case ChangeType.TRIM: {
      const t = change.trim;
      w.byte(t.strategy === 'maxlen' ? 0 : 1);
      w.byte(POLICIES.indexOf(t.policy ?? 'keepref'));
      if (t.strategy === 'maxlen') w.u64LE(BigInt(t.maxLen ?? 0));
      else w.id(t.minId!);
      break;
    }
    case ChangeType.SETID:
      w.id(change.lastId);
      w.u64LE(change.entriesAdded);
      w.id(change.maxDeletedId);
      break;
    case ChangeType.SETTINGS: {
      w.byte(change.idmp ? 1 : 0);
      if (change.idmp) {
        writeOptional(w, change.idmp.duration);
        writeOptional(w, change.idmp.maxsize);
      }
      const o = change.overrides;
      w.byte(o?.appendfsync === undefined ? 255 : FSYNC.indexOf(o.appendfsync));
      writeOptional(w, o?.maxage);
      writeOptional(w, o?.maxbytes);
      break;
    }
    case ChangeType.IDMP:
      w.text(change.pid);
      w.text(change.iid);
      w.id(change.id);
      w.f64LE(change.time);
      break;
    case ChangeType.GROUP_CREATE:
    case ChangeType.GROUP_SETID:
      w.text(change.group);
      w.id(change.lastId);
      w.i64LE(change.entriesRead);
      break;
    case ChangeType.GROUP_DESTROY:
      w.text(change.group);
      break;
    case ChangeType.CONSUMER_CREATE:
    case ChangeType.CONSUMER_DELETE:
    case ChangeType.DELIVER:
      w.text(change.group);
      w.text(change.consumer);
      if (change.type === ChangeType.CONSUMER_DELETE) break;
      w.f64LE(change.time);
      if (change.type === ChangeType.CONSUMER_CREATE) break;
      w.byte(change.noack ? 1 : 0);
      w.id(change.lastId);
      w.i64LE(change.entriesRead);
      w.ids(change.redelivered);
      break;
    case ChangeType.ACK:
      w.text(change.group);
      w.ids(change.ids);
      break;
    case ChangeType.CLAIM:
      w.text(change.group);
      w.byte(change.consumer === null ? 0 : 1);
      if (change.consumer !== null) w.text(change.consumer);
      w.f64LE(change.time);
      w.byte(change.lastId === null ? 0 : 1);
      if (change.lastId !== null) w.id(change.lastId);
      w.u32LE(change.nacks.length);
      for (const n of change.nacks) {
        w.id(n.id);
        w.f64LE(n.deliveryTime);
        w.u64LE(n.deliveryCount);
      }
      w.ids(change.dropped);
      break;
  }
  return w.view();
}

/** Whether a record type is a typed change (decodeChange reads it). */
export function isChangeType(type: number): boolean {
  return (type >= ChangeType.DELETE && type <= ChangeType.IDMP) || (type >= ChangeType.GROUP_CREATE && type <= ChangeType.CLAIM);
}

/** Decodes a change record's payload. Throws RangeError on a payload this build cannot read. */
export function decodeChange(type: number, payload: Buffer): StreamChange {
  const r = new Reader(payload);
  const version = r.u8();
  if (version < 1 || version > VERSION) throw new RangeError(`change record version ${version} (this build reads up to ${VERSION})`);
  switch (type) {
    case ChangeType.DELETE: {
      const delref = r.u8() === 1;
      return { type, delref, ids: r.ids() };
    }
    case ChangeType.TRIM: {
      const maxlen = r.u8() === 0;
      const policy = POLICIES[r.u8()];
      if (policy === undefined) throw new RangeError('trim record with an unknown policy');
      const trim: TrimSpec = maxlen
        ? { strategy: 'maxlen', maxLen: Number(r.u64()), approx: false, limit: 0 }
        : { strategy: 'minid', minId: r.id(), approx: false, limit: 0 };
      return { type, trim: policy === 'keepref' ? trim : { ...trim, policy } };
    }
    case ChangeType.SETID:
      return { type, lastId: r.id(), entriesAdded: r.u64(), maxDeletedId: r.id() };
    case ChangeType.SETTINGS: {
      const idmp = r.u8() === 1 ? { duration: readOptional(r), maxsize: readOptional(r) } : null;
      const fsync = r.u8();
      const maxage = readOptional(r);
      const maxbytes = readOptional(r);
      const o: StreamOverrides = {};
      if (fsync !== 255) {
        if (FSYNC[fsync] === undefined) throw new RangeError('settings record with an unknown appendfsync');
        o.appendfsync = FSYNC[fsync];
      }
      if (maxage !== null) o.maxage = maxage;
      if (maxbytes !== null) o.maxbytes = maxbytes;
      return { type, idmp, overrides: Object.keys(o).length > 0 ? o : null };
    }
    case ChangeType.IDMP:
      return { type, pid: r.text(), iid: r.text(), id: r.id(), time: r.f64() };
    case ChangeType.GROUP_CREATE:
    case ChangeType.GROUP_SETID:
      return { type, group: r.text(), lastId: r.id(), entriesRead: r.i64() };
    case ChangeType.GROUP_DESTROY:
      return { type, group: r.text() };
    case ChangeType.CONSUMER_CREATE:
      return { type, group: r.text(), consumer: r.text(), time: r.f64() };
    case ChangeType.CONSUMER_DELETE:
      return { type, group: r.text(), consumer: r.text() };
    case ChangeType.DELIVER: {
      const group = r.text();
      const consumer = r.text();
      const time = r.f64();
      const noack = r.u8() === 1;
      return { type, group, consumer, time, noack, lastId: r.id(), entriesRead: r.i64(), redelivered: r.ids() };
    }
    case ChangeType.ACK:
      return { type, group: r.text(), ids: r.ids() };
    case ChangeType.CLAIM: {
      const group = r.text();
      const consumer = r.u8() === 1 ? r.text() : null;
      const time = r.f64();
      const lastId = r.u8() === 1 ? r.id() : null;
      const n = r.count(32);
      const nacks: ClaimedNack[] = new Array(n);
      for (let i = 0; i < n; i++) nacks[i] = { id: r.id(), deliveryTime: r.f64(), deliveryCount: r.u64() };
      return { type, group, consumer, time, lastId, nacks, dropped: r.ids() };
    }
    default:
      throw new RangeError(`record type ${type} is not a stream change`);
  }
}

/**
 * The exact trim that leaves what `spec` just left on `stream` (call it after the trim): an exact one as it is;
 * an approximate one (`~` removes whole nodes, so everything before the first live entry is gone) as MINID =
 * that entry (MAXLEN 0 when none is left), which does the same on the same node layout whatever the node sizes
 * are when the log is replayed. DELREF is kept (the removed entries leave the PELs on replay too); ACKED is not
 * needed: it removed only whole nodes no group needed, which is what the plain exact trim removes then.
 */
export function exactTrimOf(stream: Stream, spec: TrimSpec): TrimSpec {
  if (!spec.approx) return spec.limit === 0 ? spec : { ...spec, limit: 0 };
  const first = stream.firstLiveId();
  const trim: TrimSpec =
    first === null ? { strategy: 'maxlen', maxLen: 0, approx: false, limit: 0 } : { strategy: 'minid', minId: first, approx: false, limit: 0 };
  return spec.policy === 'delref' ? { ...trim, policy: 'delref' } : trim;
}
