// A stream's snapshot file: what lets a start skip the record-by-record scan of the log it covers.
//
// Recovery verifies every record with its own CRC and then rebuilds the stream from them; for a log that has
// not changed since the last shutdown that is all repeated work. A snapshot (file SNAPSHOT in the stream's
// directory) records where the log ended when it was taken (`end`), one CRC32C per segment over the bytes of
// that segment below `end`, and an opaque body (the stream layer's state and entry index, see
// streams/checkpoint.ts). Recovery checks it with one native CRC per segment over the mapped bytes instead of
// one per record, hands the body up, and scans record by record only from `end` on.
//
// The snapshot is a cache, never the only copy of anything: it is written without fsync (temp file + rename),
// and one that does not match exactly (its own CRC, a segment it covers missing, shorter or with other bytes, a
// segment it does not know below `end`) is ignored and the whole log is scanned as without it. Segments deleted
// behind a checkpoint since it was taken may be missing at the head: they lie before every entry it indexes.
//
//   u32 magic 'SPSN', u32 version, f64 end, u32 segment count, per segment: f64 base, f64 length, u32 crc,
//   u32 body length, zeros up to a multiple of 8 (so the body's typed columns can be used in place), body,
//   u32 CRC32C of everything before it                                                         (little endian)

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import { removeTree, tempPathFor } from './fileNames';
import { io, renameFile } from './ioObserver';

export const SNAPSHOT_FILE = 'SNAPSHOT';
const MAGIC = 0x4e535053; // 'SPSN'
const VERSION = 1;

const align8 = (n: number): number => (n + 7) & ~7;

export interface CoveredSegment {
  base: number;
  /** Bytes of the segment covered: [0, length). */
  length: number;
  crc: number;
}

export interface LogSnapshot {
  end: number;
  segments: CoveredSegment[];
  body: Buffer;
}

/** CRC32C of bytes[from, to) continuing from `crc` (0 to start). Native: one call over the whole range. */
export function rangeChecksum(bytes: Buffer, from: number, to: number, crc = 0): number {
  return to > from ? crc32c(bytes.subarray(from, to), crc) >>> 0 : crc;
}

/** The file's bytes in three parts (head, the body itself, CRC), so a write does not copy the body again. */
function encodeParts(s: LogSnapshot): Buffer[] {
  const head = Buffer.alloc(align8(4 + 4 + 8 + 4 + s.segments.length * 20 + 4));
  let p = head.writeUInt32LE(MAGIC, 0);
  p = head.writeUInt32LE(VERSION, p);
  p = head.writeDoubleLE(s.end, p);
  p = head.writeUInt32LE(s.segments.length, p);
  for (const seg of s.segments) {
    p = head.writeDoubleLE(seg.base, p);
    p = head.writeDoubleLE(seg.length, p);
    p = head.writeUInt32LE(seg.crc, p);
  }
  head.writeUInt32LE(s.body.length, p);
  const crc = Buffer.allocUnsafe(4);
  crc.writeUInt32LE(rangeChecksum(s.body, 0, s.body.length, rangeChecksum(head, 0, head.length)));
  return [head, s.body, crc];
}

export function encodeLogSnapshot(s: LogSnapshot): Buffer {
  return Buffer.concat(encodeParts(s));
}

/** Parses a snapshot file's bytes; null when they are not a whole, intact snapshot of this version. */
export function decodeLogSnapshot(b: Buffer): LogSnapshot | null {
  if (b.length < 28 || b.readUInt32LE(0) !== MAGIC || b.readUInt32LE(4) !== VERSION) return null;
  if (rangeChecksum(b, 0, b.length - 4) !== b.readUInt32LE(b.length - 4)) return null;
  const end = b.readDoubleLE(8);
  const count = b.readUInt32LE(16);
  let p = 20;
  if (p + count * 20 + 8 > b.length) return null;
  const segments: CoveredSegment[] = [];
  for (let i = 0; i < count; i++, p += 20) {
    segments.push({ base: b.readDoubleLE(p), length: b.readDoubleLE(p + 8), crc: b.readUInt32LE(p + 16) });
  }
  const bodyLength = b.readUInt32LE(p);
  p = align8(p + 4);
  if (p + bodyLength + 4 !== b.length) return null;
  return { end, segments, body: b.subarray(p, p + bodyLength) };
}

/** Writes the snapshot of a stream directory (temp file + rename, no fsync: a lost or torn one is ignored). */
export async function writeLogSnapshot(dir: string, s: LogSnapshot): Promise<void> {
  const file = path.join(dir, SNAPSHOT_FILE);
  const fh = await fsp.open(tempPathFor(file), 'w');
  try {
    io.observer?.opened(fh.fd, tempPathFor(file), 'w');
    const parts = encodeParts(s);
    const { bytesWritten } = await fh.writev(parts);
    const size = parts.reduce((n, b) => n + b.length, 0);
    if (bytesWritten !== size) throw new Error(`snapshot cut short (${bytesWritten} of ${size} bytes written)`);
    if (io.observer !== null) io.observer.wrote(fh.fd, 0, Buffer.concat(parts), 0, size);
  } finally {
    io.observer?.closed(fh.fd);
    await fh.close();
  }
  await renameFile(tempPathFor(file), file);
}

/** The snapshot of a stream directory, or null when there is none or it is damaged. */
export async function readLogSnapshot(dir: string): Promise<LogSnapshot | null> {
  try {
    return decodeLogSnapshot(await fsp.readFile(path.join(dir, SNAPSHOT_FILE)));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** Removes a stream directory's snapshot (it no longer describes the log). */
export async function removeLogSnapshot(dir: string): Promise<void> {
  await removeTree(path.join(dir, SNAPSHOT_FILE));
}

/**
 * Whether a snapshot matches segments as found on disk (`maps[i]` the bytes of the segment at `bases[i]`):
 * the segments below `end` are a suffix of those it covers (head ones may have been deleted behind a
 * checkpoint), each at least as long as covered, with the same CRC.
 */
export function snapshotMatches(s: LogSnapshot, bases: readonly number[], maps: readonly Buffer[]): boolean {
  let below = 0;
  while (below < bases.length && bases[below] < s.end) below++;
  const skip = s.segments.length - below;
  if (skip < 0 || below === 0) return false;
  for (let i = 0; i < below; i++) {
    const c = s.segments[skip + i];
    if (c.base !== bases[i] || c.length > maps[i].length) return false;
    // every covered segment whole but the last, which is covered up to `end`
    if (i === below - 1 ? c.base + c.length !== s.end : c.length !== maps[i].length) return false;
    if (rangeChecksum(maps[i], 0, c.length) !== c.crc) return false;
  }
  return true;
}

/** What a snapshot needs of a stream log: its segments' bases and their current mappings. */
export interface MappedLog {
  segmentBases(): number[];
  segmentMap(base: number): Buffer | null;
}

/**
 * The coverage of a snapshot ending at `end`: every segment below it, whole, but the last, up to `end`. CRCs of
 * `previous` (the last snapshot's) are reused or continued, so each snapshot checksums only the bytes appended
 * since. Null when a segment below `end` is not mapped now (the LRU closed it): no snapshot this time.
 */
export function coverSegments(log: MappedLog, end: number, previous: readonly CoveredSegment[]): CoveredSegment[] | null {
  const out: CoveredSegment[] = [];
  const bases = log.segmentBases().filter((b) => b < end);
  for (let i = 0; i < bases.length; i++) {
    const map = log.segmentMap(bases[i]);
    if (map === null) return null;
    const length = i === bases.length - 1 ? end - bases[i] : map.length;
    if (length > map.length) return null;
    const prev = previous.find((c) => c.base === bases[i] && c.length <= length);
    const crc = prev ? rangeChecksum(map, prev.length, length, prev.crc) : rangeChecksum(map, 0, length);
    out.push({ base: bases[i], length, crc });
  }
  return out;
}
