// Checkpoint records: what lets a stream's old segments be deleted.
//
// A stream's log holds its entries and the change records of everything else (changeRecords.ts); recovery
// replays both. Once trimming leaves whole segments behind the first entry still needed, those
// segments hold nothing but dead entries and changes whose effect is part of the current state. A CHECKPOINT
// record then captures that state (Stream.exportState: counters, node layout, flagged entries, groups with
// their PELs, per-stream settings) and, once it is synced, the segments before the first needed entry go.
//
// Recovery finds the last checkpoint of a log, restores the ENTRY records from `firstEntry` up to the
// checkpoint into the index (their bytes stay in the mapping), loads the state, ignores every change recorded
// before it, and replays the records after it as usual. The payload is JSON: it is written once per deleted
// segment (rarely), and a readable format is worth more here than a few bytes.

import type { StreamState } from './stream';
import type { IndexColumns } from './entryIndex';

export const CHECKPOINT_VERSION = 1;

export interface Checkpoint {
  version: number;
  /** Log position of the first entry the stream still needs (the first ENTRY record to restore), or null. */
  firstEntry: number | null;
  stream: StreamState;
  /** Per-stream settings as the commands that recreate them (XCFGSET ...), latin1 strings. */
  settings: string[][];
}

export function encodeCheckpoint(checkpoint: Omit<Checkpoint, 'version'>): Buffer {
  return Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, ...checkpoint }), 'utf8');
}

/** Parses a CHECKPOINT payload; throws on a version this build cannot read. */
export function decodeCheckpoint(payload: Buffer): Checkpoint {
  const checkpoint = JSON.parse(payload.toString('utf8')) as Checkpoint;
  if (checkpoint.version !== CHECKPOINT_VERSION) {
    throw new Error(`checkpoint version ${checkpoint.version} is not supported (this build reads ${CHECKPOINT_VERSION})`);
  }
  return checkpoint;
}

// ---- index snapshots (the body of a stream's SNAPSHOT file, see storage/logSnapshot.ts) -------------------------
//
// A checkpoint plus the entry index it goes with, so a start loads the index as columns instead of reading
// every ENTRY record back: u32 checkpoint length, the checkpoint (as encodeCheckpoint), padding to 8, u32 entry
// count, padding to 8, then the columns ms (f64), seq (f64), segment (u32), offset (u32), little endian.

export interface StreamSnapshot {
  checkpoint: Checkpoint;
  index: IndexColumns;
}

const align8 = (n: number): number => (n + 7) & ~7;

export function encodeStreamSnapshot(checkpoint: Buffer, index: IndexColumns): Buffer {
  const count = index.ms.length;
  const columns = align8(4 + checkpoint.length) + 8;
  const b = Buffer.alloc(columns + count * 24);
  b.writeUInt32LE(checkpoint.length, 0);
  checkpoint.copy(b, 4);
  b.writeUInt32LE(count, columns - 8);
  const bytes = (a: Float64Array | Uint32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  let p = columns;
  for (const column of [index.ms, index.seq, index.segment, index.offset]) p += bytes(column).copy(b, p);
  return b;
}

/** Parses a snapshot body; throws when it is malformed or its index does not match its checkpoint. */
export function decodeStreamSnapshot(body: Buffer): StreamSnapshot {
  const length = body.readUInt32LE(0);
  const columns = align8(4 + length) + 8;
  if (columns > body.length) throw new Error('snapshot body cut short');
  const checkpoint = decodeCheckpoint(body.subarray(4, 4 + length));
  const count = body.readUInt32LE(columns - 8);
  if (columns + count * 24 !== body.length) throw new Error('snapshot index has the wrong size');
  if (count !== checkpoint.stream.entries) throw new Error(`snapshot index holds ${count} entries, its checkpoint ${checkpoint.stream.entries}`);
  // Views of the body's bytes where they are 8-aligned in memory (the snapshot file aligns the body), else copies.
  const inPlace = (body.byteOffset + columns) % 8 === 0 && body.buffer instanceof ArrayBuffer;
  const f64 = (at: number): Float64Array<ArrayBuffer> =>
    inPlace ? new Float64Array(body.buffer as ArrayBuffer, body.byteOffset + at, count) : new Float64Array(copyOut(body, at, count * 8));
  const u32 = (at: number): Uint32Array<ArrayBuffer> =>
    inPlace ? new Uint32Array(body.buffer as ArrayBuffer, body.byteOffset + at, count) : new Uint32Array(copyOut(body, at, count * 4));
  const ms = f64(columns);
  const seq = f64(columns + count * 8);
  const segment = u32(columns + count * 16);
  const offset = u32(columns + count * 20);
  return { checkpoint, index: { ms, seq, segment, offset } };
}

/** bytes[at, at + length) copied into an ArrayBuffer of its own (aligned for any typed array). */
function copyOut(bytes: Buffer, at: number, length: number): ArrayBuffer {
  const out = new ArrayBuffer(length);
  new Uint8Array(out).set(bytes.subarray(at, at + length));
  return out;
}
