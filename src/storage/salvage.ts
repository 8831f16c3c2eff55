// spool-check --fix: repairs corruption *before* the tail of a stream log while keeping every valid record after
// it. Recovery (recovery.ts) finds the first bad record and whether valid records follow; here each damaged
// region is located by resynchronising: scanning forward byte by byte for the next offset where a record header
// and its checksum validate (records carry no sync marker, so the checksum is what makes a resync point
// trustworthy). The region is then made harmless in place, so that every record keeps its log position (the
// index, checkpoints and segment names all address records by position):
//   - where valid records follow in the same segment, the region becomes one PAD record (a valid record that
//     replay skips) covering exactly its bytes;
//   - where the segment has nothing valid after it, the region is zeroed: the segment's data then ends there,
//     as a segment that rolled over early does.
// A batch whose last record lies in the region lost that record: its earlier records are dropped with the
// region (recovery drops a partial batch at the tail the same way). A region shorter than a record header
// cannot hold a PAD: it grows over the following records until it can, and those are reported as dropped.
// Damage that starts right where a region ends extends that region (one PAD) instead of starting a new one.
// A bad record with nothing valid after it is a torn tail: left to recoverStream's 'fix' mode, which cuts it.
// A CHECKPOINT after a region whose entries it counts (the region ends past the checkpoint's first needed entry)
// describes a state that included the lost bytes and could not be loaded (it counts the entries to restore): it
// is padded too, and the stream's state is then rebuilt from the previous checkpoint and the log after it.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { decodeAt, DecodeStatus, FLAG_BATCH_CONTINUES, HEADER_SIZE, RecordType, RecordView, sealRecord } from './recordCodec';
import { listSegments, segmentFileName } from './fileNames';
import { decodeCheckpoint } from '../streams/checkpoint';
import { lastNonZero, readWhole } from './recovery';

/** A place in the log: segment index and offset in that segment's file. */
interface Pos {
  seg: number;
  off: number;
}

export interface DroppedRange {
  /** Segment file (full path) and byte range [from, to) in it. */
  file: string;
  from: number;
  to: number;
  /** How the range was neutralised: a PAD record over it, or zeros (the segment's data ends there). */
  action: 'padded' | 'zeroed';
}

export interface DroppedRegion {
  /** What was wrong at the first bad byte (file and offset of the bad record). */
  reason: string;
  badFile: string;
  badOffset: number;
  /** The byte ranges given up, per segment file. */
  ranges: DroppedRange[];
  /** Non-zero bytes given up in total (damaged bytes and the valid records dropped with them). */
  bytes: number;
  /** Valid records dropped with the region: the open batch before it, records absorbed after it. */
  recordsDropped: number;
  /** Log position just after the region. */
  endPosition: number;
}

export interface SalvageReport {
  dir: string;
  regions: DroppedRegion[];
  /** Checkpoints after a region that counted entries it may have held: padded (see the header). */
  checkpoints: DroppedRange[];
  /** Whether the files were changed (false in a dry run). */
  modified: boolean;
}

interface Seg {
  base: number;
  file: string;
  buf: Buffer;
  nz: number;
}

/** The next position at or after `from` where a record validates, or null (then the rest is a torn tail). */
function resync(segs: Seg[], from: Pos, v: RecordView): Pos | null {
  for (let s = from.seg; s < segs.length; s++) {
    const { buf, nz } = segs[s];
    for (let p = s === from.seg ? from.off : 0; p < nz; p++) {
      if (decodeAt(buf, p, nz, v) === DecodeStatus.OK) return { seg: s, off: p };
    }
  }
  return null;
}

/** Whether the CHECKPOINT record `v` (in `seg`) restores entries from before the end of a dropped region. */
function countsLostEntries(seg: Seg, v: RecordView, regions: DroppedRegion[]): boolean {
  let firstEntry: number | null;
  try {
    firstEntry = decodeCheckpoint(seg.buf.subarray(v.payloadOffset, v.payloadOffset + v.payloadLength)).firstEntry;
  } catch {
    return true; // unreadable: recovery could not load it either
  }
  return firstEntry !== null && regions.some((r) => r.endPosition > firstEntry!);
}

/** The byte ranges that neutralise [from, end): zeros where nothing valid follows in a segment, else a PAD. */
function rangesBetween(segs: Seg[], from: Pos, end: Pos): DroppedRange[] {
  const ranges: DroppedRange[] = [];
  for (let s = from.seg; s <= end.seg; s++) {
    const start = s === from.seg ? from.off : 0;
    const seg = segs[s];
    if (s < end.seg || end.off >= seg.nz) {
      if (seg.nz > start) ranges.push({ file: seg.file, from: start, to: seg.nz, action: 'zeroed' });
    } else if (end.off > start) {
      ranges.push({ file: seg.file, from: start, to: end.off, action: 'padded' });
    }
  }
  return ranges;
}

function lengthOfRecordAt(seg: Seg, off: number, v: RecordView): number {
  return decodeAt(seg.buf, off, seg.buf.length, v) === DecodeStatus.OK ? v.size : 0;
}

/**
 * Finds the damaged regions of the log in `dir` that have valid records after them and (unless `dryRun`)
 * neutralises them in place. Call recoverStream(dir, null, 'fix') afterwards for a torn tail.
 */
export async function salvageStream(dir: string, dryRun = false): Promise<SalvageReport> {
  const segs: Seg[] = [];
  for (const base of await listSegments(dir)) {
    const file = path.join(dir, segmentFileName(base));
    const buf = await readWhole(file);
    segs.push({ base, file, buf, nz: lastNonZero(buf, 0, buf.length) + 1 });
  }
  const report: SalvageReport = { dir, regions: [], checkpoints: [], modified: false };
  const v = new RecordView();
  /** First record of the batch still open (its records carry FLAG_BATCH_CONTINUES), and how many it has. */
  let batchStart: Pos | null = null;
  let batchRecords = 0;
  let at: Pos = { seg: 0, off: 0 };
  /** Where the last region began and ended: damage right after it extends it rather than starting another. */
  let last: { from: Pos; end: Pos; region: DroppedRegion } | null = null;
  while (at.seg < segs.length) {
    const seg = segs[at.seg];
    const st = decodeAt(seg.buf, at.off, seg.buf.length, v);
    if (st === DecodeStatus.OK) {
      if (v.type === RecordType.CHECKPOINT && report.regions.length > 0 && countsLostEntries(seg, v, report.regions)) {
        report.checkpoints.push({ file: seg.file, from: at.off, to: at.off + v.size, action: 'padded' });
      }
      if ((v.flags & FLAG_BATCH_CONTINUES) !== 0) {
        if (batchStart === null) batchStart = { ...at };
        batchRecords++;
      } else {
        batchStart = null;
        batchRecords = 0;
      }
      at = { seg: at.seg, off: at.off + v.size };
      continue;
    }
    if (st === DecodeStatus.ZERO && at.off >= seg.nz) {
      at = { seg: at.seg + 1, off: 0 }; // this segment's data ends here
      continue;
    }
    const reason = st === DecodeStatus.ZERO ? 'zeroed bytes followed by data' : v.reason;
    // Only a checksum failure leaves the header believable (its type, flags and length passed their checks).
    const badSize = st === DecodeStatus.BAD && reason.startsWith('checksum mismatch') ? HEADER_SIZE + v.payloadLength : -1;
    const badContinues = (v.flags & FLAG_BATCH_CONTINUES) !== 0;
    const next = resync(segs, { seg: at.seg, off: at.off + 1 }, v);
    if (next === null) break; // a torn tail: recoverStream cuts it
    const extending: boolean = last !== null && last.end.seg === at.seg && last.end.off === at.off;
    const region: DroppedRegion = extending
      ? last!.region
      : { reason, badFile: seg.file, badOffset: at.off, ranges: [], bytes: 0, recordsDropped: 0, endPosition: 0 };
    region.recordsDropped += batchRecords;
    // Does a broken batch go on after the region? Yes if the damaged record (when its framing is confirmed by
    // the resync point) says so; otherwise when a batch was open before it.
    const framed = next.seg === at.seg && next.off === at.off + badSize;
    const batchGoesOn = framed ? badContinues : batchStart !== null;
    const from: Pos = extending ? last!.from : (batchStart ?? at);
    batchStart = null;
    batchRecords = 0;
    let end: Pos = next;
    // The rest of a broken batch is dropped with it (up to its last record), as its beginning is gone.
    while (batchGoesOn && end.off < segs[end.seg].nz) {
      if (decodeAt(segs[end.seg].buf, end.off, segs[end.seg].buf.length, v) !== DecodeStatus.OK) break;
      end = { seg: end.seg, off: end.off + v.size };
      region.recordsDropped++;
      if ((v.flags & FLAG_BATCH_CONTINUES) === 0) break;
    }
    // A PAD needs a header's room: absorb the following records until the gap in `end`'s segment has it.
    const gap = () => end.off - (from.seg === end.seg ? from.off : 0);
    while (end.off < segs[end.seg].nz && gap() > 0 && gap() < HEADER_SIZE) {
      const size = lengthOfRecordAt(segs[end.seg], end.off, v);
      if (size > 0) {
        end = { seg: end.seg, off: end.off + size };
        region.recordsDropped++;
        continue;
      }
      // Damaged again right after: the region goes on to the next resync point (or to the end of the data).
      const last = segs.length - 1;
      end = resync(segs, { seg: end.seg, off: end.off + 1 }, v) ?? { seg: last, off: segs[last].nz };
    }
    region.ranges = rangesBetween(segs, from, end);
    region.bytes = 0;
    for (const r of region.ranges) region.bytes += r.to - r.from;
    region.endPosition = segs[end.seg].base + end.off;
    if (!extending) report.regions.push(region);
    last = { from, end, region };
    at = end;
  }
  if (!dryRun && report.regions.length > 0) {
    for (const region of report.regions) for (const range of region.ranges) await neutralise(range);
    for (const range of report.checkpoints) await neutralise(range);
    report.modified = true;
  }
  return report;
}

/** Writes the PAD record or the zeros over a range, and syncs the file. */
async function neutralise(range: DroppedRange): Promise<void> {
  const bytes = Buffer.alloc(range.to - range.from);
  if (range.action === 'padded') sealRecord(bytes, 0, RecordType.PAD, 0, bytes.length - HEADER_SIZE);
  const fh = await fsp.open(range.file, 'r+');
  try {
    let written = 0;
    while (written < bytes.length) {
      const { bytesWritten } = await fh.write(bytes, written, bytes.length - written, range.from + written);
      written += bytesWritten;
    }
    await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Lines saying exactly what a salvage dropped (or would drop). */
export function describeSalvage(r: SalvageReport): string[] {
  const verb = r.modified ? 'dropped' : 'would drop';
  const lines: string[] = [];
  for (const region of r.regions) {
    lines.push(
      `  CORRUPT at ${region.badFile} offset ${region.badOffset}: ${region.reason}; ${verb} ${region.bytes} byte(s)` +
        (region.recordsDropped ? ` (with ${region.recordsDropped} valid record(s) of a broken batch or too close to pad)` : '') +
        ', keeping the records after it',
    );
    for (const range of region.ranges) {
      const done = r.modified ? '' : 'to be ';
      const how = range.action === 'padded' ? `${done}replaced by a padding record` : `${done}zeroed (the segment's data ends there)`;
      lines.push(`    ${path.basename(range.file)} offsets ${range.from}-${range.to} (${range.to - range.from} bytes): ${how}`);
    }
  }
  for (const range of r.checkpoints) {
    lines.push(
      `  checkpoint at ${range.file} offset ${range.from} (${range.to - range.from} bytes): ${r.modified ? 'replaced' : 'would be replaced'} ` +
        'by a padding record, as it counts entries the damaged bytes may have held; the state is rebuilt from the log',
    );
  }
  return lines;
}
