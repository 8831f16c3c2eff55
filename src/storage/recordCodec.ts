// Record framing for stream logs.
//
//   offset 0  u32 LE  payload length (bytes after the 10-byte header)
//   offset 4  u8      record type (never 0: a zero header is the zero-filled reserve after the data)
//   offset 5  u8      flags
//   offset 6  u32 LE  CRC32C over type, flags and payload (in that order)
//   offset 10 payload
//
// The checksum covers type+flags+payload but not the length: a damaged length makes the CRC land on the wrong
// bytes and fail anyway. Type and flags are not contiguous with the payload, so their CRC (2 bytes) is computed
// in JS from a table and continued over the payload: in JS for small payloads, by one native call otherwise.
//
// Batches: every record of a batch but the last carries FLAG_BATCH_CONTINUES (hypercore's partial-batch bit).
// A single-record batch has no flag. Recovery drops a trailing run of records that still "continue".

import { crc32c } from '@node-rs/crc32';
import { writeU64LE } from '../util/u64';
import { copyBytes, storeU32LE } from '../util/bytes';

export const HEADER_SIZE = 10;
/** Largest payload accepted (the length field is u32; keep well below so offsets stay exact numbers). */
export const MAX_PAYLOAD = 0x7fff_0000;

export const RecordType = {
  ENTRY: 1,
  DELETE: 2,
  TRIM: 3,
  SETID: 4,
  /** A stream's own settings (XCFGSET). */
  SETTINGS: 5,
  /** An idempotent XADD's (producer, iid) -> entry mapping. */
  IDMP: 6,
  GROUP_CREATE: 16,
  GROUP_SETID: 17,
  GROUP_DESTROY: 18,
  CONSUMER_CREATE: 19,
  CONSUMER_DELETE: 20,
  DELIVER: 21,
  ACK: 22,
  CLAIM: 23,
  CHECKPOINT: 32,
  /**
   * Legacy: a stream write command, replayed through its handler at recovery. Written by builds before the typed
   * change records (DELETE .. CLAIM, see src/streams/changeRecords.ts); still read so their data directories start.
   */
  COMMAND: 33,
  /**
   * Filler over bytes that spool-check --fix gave up (salvage.ts): keeps the positions of the records after a
   * damaged region; replay skips it. Its payload is zeros.
   */
  PAD: 48,
} as const;
export type RecordTypeCode = (typeof RecordType)[keyof typeof RecordType];

const KNOWN_TYPES = new Uint8Array(256);
for (const t of Object.values(RecordType)) KNOWN_TYPES[t] = 1;
export function isKnownType(type: number): boolean {
  return KNOWN_TYPES[type] === 1;
}

/** More records of the same batch follow; a batch ends with a record without this flag. */
export const FLAG_BATCH_CONTINUES = 0x01;

// CRC32C (Castagnoli, reflected 0x82F63B78) tables: CRC_TABLE for byte-at-a-time (the two header bytes), and
// the eight tables of slicing-by-8 for small payloads checksummed in JS (see checksumRange).
const SLICES = Array.from({ length: 8 }, () => new Int32Array(256));
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  SLICES[0][n] = c;
}
for (let n = 0; n < 256; n++) for (let k = 1; k < 8; k++) SLICES[k][n] = (SLICES[k - 1][n] >>> 8) ^ SLICES[0][SLICES[k - 1][n] & 0xff];
const [CRC_TABLE, S1, S2, S3, S4, S5, S6, S7] = SLICES;

/**
 * Payloads shorter than this are checksummed in JS: below it the native call's fixed cost (and the subarray it
 * needs) exceeds the work. Measured here: 130 B, native 400 ns and JS 180 ns; 1,100 B, native 590 ns and JS 1,690 ns.
 */
const JS_CRC_MAX = 256;

/** CRC32C of bytes[start, end) continuing from `crc` (the convention of @node-rs/crc32's crc32c(buf, crc)). */
function checksumRange(bytes: Uint8Array, start: number, end: number, crc: number): number {
  if (end - start >= JS_CRC_MAX) return crc32c(bytes.subarray(start, end) as Buffer, crc) >>> 0;
  let c = ~crc;
  let i = start;
  for (; i + 8 <= end; i += 8) {
    const w = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      S7[w & 0xff] ^ S6[(w >>> 8) & 0xff] ^ S5[(w >>> 16) & 0xff] ^ S4[w >>> 24] ^
      S3[bytes[i + 4]] ^ S2[bytes[i + 5]] ^ S1[bytes[i + 6]] ^ CRC_TABLE[bytes[i + 7]];
  }
  for (; i < end; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
/** CRC32C of the two bytes [type, flags]: equals crc32c(Buffer.from([type, flags])). */
function crcTypeFlags(type: number, flags: number): number {
  let c = 0xffffffff;
  c = CRC_TABLE[(c ^ type) & 0xff] ^ (c >>> 8);
  c = CRC_TABLE[(c ^ flags) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function recordChecksum(type: number, flags: number, payload: Uint8Array): number {
  return checksumRange(payload, 0, payload.length, crcTypeFlags(type, flags));
}

/** Total size of a framed record with a payload of `payloadLength` bytes. */
export function recordSize(payloadLength: number): number {
  return HEADER_SIZE + payloadLength;
}

/** Writes the header for a payload already placed at target[offset + HEADER_SIZE ..]. Returns the record size. */
export function sealRecord(target: Buffer, offset: number, type: number, flags: number, payloadLength: number): number {
  const p = offset + HEADER_SIZE;
  const crc = checksumRange(target, p, p + payloadLength, crcTypeFlags(type, flags));
  storeU32LE(target, offset, payloadLength);
  target[offset + 4] = type;
  target[offset + 5] = flags;
  storeU32LE(target, offset + 6, crc);
  return HEADER_SIZE + payloadLength;
}

/**
 * Sets the flags of the record at buf[offset] in place and checksums it again (a record that turns out not to be
 * the last of its batch gets FLAG_BATCH_CONTINUES when the next one is appended).
 */
export function setRecordFlags(buf: Buffer, offset: number, flags: number): void {
  const len = buf.readUInt32LE(offset);
  const p = offset + HEADER_SIZE;
  buf[offset + 5] = flags;
  buf.writeUInt32LE(checksumRange(buf, p, p + len, crcTypeFlags(buf[offset + 4], flags)), offset + 6);
}

// ---- generic records: type + opaque payload ----------------------------------------------------------------

/** Encodes a record with an opaque payload at target[offset]. Returns the bytes written. */
export function encodeRecordInto(target: Buffer, offset: number, type: number, flags: number, payload: Uint8Array): number {
  target.set(payload, offset + HEADER_SIZE);
  return sealRecord(target, offset, type, flags, payload.length);
}

export function encodeRecord(type: number, flags: number, payload: Uint8Array): Buffer {
  const b = Buffer.allocUnsafe(HEADER_SIZE + payload.length);
  encodeRecordInto(b, 0, type, flags, payload);
  return b;
}

// ---- ENTRY records ---------------------------------------------------------------------------------------------
//
// payload: u64 LE ms, u64 LE seq, u32 LE item count (fields + values), then per item u32 LE length + bytes.

const ENTRY_FIXED = 8 + 8 + 4;
/** Where an ENTRY payload's item count is (after the two ID words). */
export const ENTRY_ITEMS_OFFSET = 16;

/** Payload size of an entry whose field/value items are args[from..to). */
export function entryPayloadSize(args: readonly Uint8Array[], from = 0, to = args.length): number {
  let n = ENTRY_FIXED;
  for (let i = from; i < to; i++) n += 4 + args[i].length;
  return n;
}

/** Full framed size of that entry record. */
export function entryRecordSize(args: readonly Uint8Array[], from = 0, to = args.length): number {
  return HEADER_SIZE + entryPayloadSize(args, from, to);
}

/**
 * Encodes an ENTRY record straight from the command's argument buffers into target[offset..] (a mapped
 * segment or a staging buffer): no intermediate payload buffer. The caller made sure entryRecordSize() bytes
 * fit. Returns the bytes written.
 */
export function encodeEntryInto(
  target: Buffer,
  offset: number,
  ms: bigint | number,
  seq: bigint | number,
  args: readonly Uint8Array[],
  from = 0,
  to = args.length,
  flags = 0,
): number {
  let p = offset + HEADER_SIZE;
  if (typeof ms === 'number' && typeof seq === 'number') {
    storeU64Number(target, p, ms);
    storeU64Number(target, p + 8, seq);
  } else {
    writeU64LE(target, p, ms);
    writeU64LE(target, p + 8, seq);
  }
  storeU32LE(target, p + 16, to - from);
  p += ENTRY_FIXED;
  for (let i = from; i < to; i++) {
    const a = args[i];
    const n = a.length;
    storeU32LE(target, p, n);
    copyBytes(target, p + 4, a, 0, n);
    p += 4 + n;
  }
  return sealRecord(target, offset, RecordType.ENTRY, flags, p - offset - HEADER_SIZE);
}

/** A safe-integer ID part (below 2^53) as u64 LE: the common case, without writeU64LE's bigint branch. */
function storeU64Number(target: Uint8Array, at: number, value: number): void {
  const lo = value >>> 0;
  storeU32LE(target, at, lo);
  storeU32LE(target, at + 4, (value - lo) / 4294967296);
}

/** Reads the ID of an ENTRY payload. */
export function entryMs(payload: Buffer): bigint {
  return payload.readBigUInt64LE(0);
}
export function entrySeq(payload: Buffer): bigint {
  return payload.readBigUInt64LE(8);
}
export function entryItemCount(payload: Buffer): number {
  return payload.readUInt32LE(16);
}

/**
 * Calls visit(item, index) for each field/value item of an ENTRY payload, each a zero-copy view. Returns the
 * item count. Throws RangeError if the payload is malformed (cannot happen for a record whose CRC matched and
 * was written by encodeEntryInto).
 */
export function forEachEntryItem(payload: Buffer, visit: (item: Buffer, index: number) => void): number {
  const n = payload.readUInt32LE(16);
  let p = ENTRY_FIXED;
  for (let i = 0; i < n; i++) {
    const len = payload.readUInt32LE(p);
    p += 4;
    if (p + len > payload.length) throw new RangeError('entry item runs past the record');
    visit(payload.subarray(p, p + len), i);
    p += len;
  }
  return n;
}

export interface DecodedEntry {
  ms: bigint;
  seq: bigint;
  items: Buffer[];
}

/** Convenience decoder (allocates an array of views): for tests, tools and cold paths. */
export function decodeEntry(payload: Buffer): DecodedEntry {
  const items: Buffer[] = [];
  forEachEntryItem(payload, (it) => items.push(it));
  return { ms: entryMs(payload), seq: entrySeq(payload), items };
}

// ---- decoding framed records -----------------------------------------------------------------------------------

export const DecodeStatus = {
  OK: 0,
  /** Header is all zeros: the zero-filled reserve after the data (no record here). */
  ZERO: 1,
  /** Not enough bytes left for the header or the payload it announces. */
  TRUNCATED: 2,
  /** Header or checksum wrong. */
  BAD: 3,
} as const;
export type DecodeStatus = (typeof DecodeStatus)[keyof typeof DecodeStatus];

/** Result slot reused by decodeAt (no allocation per record on the recovery path). */
export class RecordView {
  status: DecodeStatus = DecodeStatus.ZERO;
  type = 0;
  flags = 0;
  /** Offset of the payload in the scanned buffer, and its length. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Total framed size (header + payload) when status is OK. */
  size = 0;
  reason = '';
}

/**
 * Decodes the record at buf[offset..end). Fills `out` and returns its status. Does not allocate (the payload is
 * described by offset/length; take buf.subarray() when needed).
 */
export function decodeAt(buf: Buffer, offset: number, end: number, out: RecordView): DecodeStatus {
  out.size = 0;
  out.reason = '';
  if (end - offset < HEADER_SIZE) {
    // a few trailing bytes: zeros are reserve, anything else a header cut short
    for (let i = offset; i < end; i++) {
      if (buf[i] !== 0) {
        out.reason = 'header cut short';
        return (out.status = DecodeStatus.TRUNCATED);
      }
    }
    return (out.status = DecodeStatus.ZERO);
  }
  const len = buf.readUInt32LE(offset);
  const type = buf[offset + 4];
  const flags = buf[offset + 5];
  const crc = buf.readUInt32LE(offset + 6);
  out.type = type;
  out.flags = flags;
  out.payloadOffset = offset + HEADER_SIZE;
  out.payloadLength = len;
  if (len === 0 && type === 0 && flags === 0 && crc === 0) return (out.status = DecodeStatus.ZERO);
  if (!isKnownType(type)) {
    out.reason = `unknown record type ${type}`;
    return (out.status = DecodeStatus.BAD);
  }
  if ((flags & ~FLAG_BATCH_CONTINUES) !== 0) {
    out.reason = `unknown flags 0x${flags.toString(16)}`;
    return (out.status = DecodeStatus.BAD);
  }
  if (len > MAX_PAYLOAD) {
    out.reason = `implausible length ${len}`;
    return (out.status = DecodeStatus.BAD);
  }
  if (offset + HEADER_SIZE + len > end) {
    out.reason = `record of ${len} bytes runs past the end of the data`;
    return (out.status = DecodeStatus.TRUNCATED);
  }
  const actual = recordChecksum(type, flags, buf.subarray(offset + HEADER_SIZE, offset + HEADER_SIZE + len));
  if (actual !== crc) {
    out.reason = `checksum mismatch (stored ${crc.toString(16)}, computed ${actual.toString(16)})`;
    return (out.status = DecodeStatus.BAD);
  }
  out.size = HEADER_SIZE + len;
  return (out.status = DecodeStatus.OK);
}
