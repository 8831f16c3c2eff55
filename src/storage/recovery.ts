// Recovery of stream logs (start-up) and the checks behind bin/spool-check.js.
//
// Each segment is mapped read-only (opened on the thread pool, pages come from the page cache as the scan
// touches them; nothing is copied into the JS heap), so several streams recover in parallel. Records are
// verified one by one and handed to the callback a whole batch at a time, in log order, through one reused
// ScannedRecord (no allocation per record). With `useSnapshot`, a stream whose SNAPSHOT file matches its
// segments (logSnapshot.ts: one native CRC per segment) is scanned record by record only after the snapshot's
// end; the rest is the snapshot's body.
//
// Where the data ends: a segment is zero-filled before use, so the data ends at the first all-zero header that is
// followed by nothing but zeros. A bad record (checksum, header, cut short, or zeros followed by data) is:
//   - a torn tail when no valid record can be found anywhere after it (byte by byte resync over the non-zero
//     rest of the log): the log is cut there (crash while writing, or a machine crash losing the last pages);
//   - corruption otherwise: start-up stops with CorruptLogError naming file and offset and the repair command.
// A trailing batch whose last record is missing (FLAG_BATCH_CONTINUES on the last record found) is dropped.
// Cutting = truncating that segment file at the cut offset and removing the segment files after it.

import * as fs from 'node:fs';
import { promises as fsp } from 'node:fs';
import { promisify } from 'node:util';
import * as path from 'node:path';
import { mmap } from './mmapBinding';
import { forEachBounded } from '../util/forEachBounded';
import { decodeAt, DecodeStatus, FLAG_BATCH_CONTINUES, RecordView } from './recordCodec';
import { parseSegmentFileName, parseStreamDirName, segmentFileName, syncDir, TEMP_SUFFIX } from './fileNames';
import type { ExistingSegment } from './streamLog';
import { readLogSnapshot, snapshotMatches, SNAPSHOT_FILE, type LogSnapshot } from './logSnapshot';

export type RecoveryMode = 'recover' | 'check' | 'fix';

/** One record found by the scan; the same object is reused for every record (copy what must outlive the call). */
export class ScannedRecord {
  type = 0;
  flags = 0;
  /** Log position of the record. */
  pos = 0;
  /** The buffer holding the payload, and where it is in it. */
  bytes: Buffer = Buffer.alloc(0);
  offset = 0;
  length = 0;

  /** A view of the payload, valid during recovery. */
  payload(): Buffer {
    return this.bytes.subarray(this.offset, this.offset + this.length);
  }
}

/** Called for each record of every complete batch, in order. */
export type RecordCallback = (record: ScannedRecord) => void;

export const REPAIR_HINT = 'node bin/spool-check.js --fix';

export class CorruptLogError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
    readonly dir: string,
  ) {
    super(
      `corrupt stream log ${file} at offset ${offset}: ${reason}; valid records follow, so this is not a torn ` +
        `tail. Repair (drops the damaged bytes, keeps the valid records after them) with: ${REPAIR_HINT} ${dir}`,
    );
    this.name = 'CorruptLogError';
  }
}

export interface Problem {
  file: string;
  offset: number;
  reason: string;
}

export interface RecoveryReport {
  dir: string;
  /** Segment files kept (after any cut), for StreamLog.open. */
  segments: ExistingSegment[];
  /** Append position after the last kept record. */
  end: number;
  records: number;
  batches: number;
  /** The torn tail that was (or, in check mode, would be) cut. */
  tornTail: Problem | null;
  /** Corruption before the tail (check/fix modes; recover mode throws instead). */
  corruption: Problem | null;
  /** A trailing incomplete batch that was (would be) dropped. */
  partialBatch: (Problem & { records: number }) | null;
  /** Bytes of non-zero data dropped by the cut. */
  bytesDropped: number;
  /** Files removed (segments after the cut, leftover temp files). */
  removedFiles: string[];
  /** Whether the files were modified. */
  modified: boolean;
  /** The snapshot the scan started from (the records before its end were not scanned nor handed over), or null. */
  snapshot: LogSnapshot | null;
  ms: number;
}

const ZERO_BLOCK = Buffer.alloc(64 * 1024);

/** Block sizes lastNonZero narrows down with, largest first: each is compared natively against zeros. */
const ZERO_STEPS = [ZERO_BLOCK.length, 4096, 256, 16];

/**
 * Index of the last non-zero byte of buf[from, to), or -1. Compares blocks natively from the end, narrowing a
 * non-zero block by smaller ones (64 KiB, 4 KiB, 256 B, 16 B), so the loop byte by byte covers 16 bytes at most.
 */
export function lastNonZero(buf: Buffer, from: number, to: number, step = 0): number {
  const size = ZERO_STEPS[step];
  let hi = to;
  while (hi > from) {
    const lo = Math.max(from, hi - size);
    if (!buf.subarray(lo, hi).equals(ZERO_BLOCK.subarray(0, hi - lo))) {
      if (step + 1 < ZERO_STEPS.length) return lastNonZero(buf, lo, hi, step + 1);
      for (let i = hi - 1; i >= lo; i--) if (buf[i] !== 0) return i;
    }
    hi = lo;
  }
  return -1;
}

const fsOpen = promisify(fs.open);
const fsFstat = promisify(fs.fstat);
const fsClose = promisify(fs.close);

interface Seg {
  base: number;
  file: string;
  buf: Buffer;
  /** End of the non-zero bytes (index of last non-zero + 1). */
  nz: number;
}

/**
 * A whole segment file mapped read-only (thread pool open; the pages come from the page cache as they are
 * touched), and the end of its non-zero bytes, found in the mapping from its end (lastNonZero: native compares
 * of whole blocks). Reading the zero reserve after the data (up to half a segment) through the mapping costs
 * fewer copies and round trips than positioned reads on the thread pool: this runs before the server listens,
 * and thousands of streams recover at each start.
 */
async function mapSegment(base: number, file: string): Promise<Seg> {
  // Plain descriptors, not FileHandles: a few calls per stream for thousands of streams, and a FileHandle costs
  // the main thread noticeably more per call.
  const fd = await fsOpen(file, 'r');
  try {
    const { size } = await fsFstat(fd);
    if (size === 0) return { base, file, buf: Buffer.alloc(0), nz: 0 };
    const buf = mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fd, 0);
    mmap.advise(buf, mmap.MADV_SEQUENTIAL);
    return { base, file, buf, nz: lastNonZero(buf, 0, size) + 1 };
  } finally {
    await fsClose(fd); // the mapping stays valid without the descriptor
  }
}

/** A whole file read with async reads (thread pool). */
export async function readWhole(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    const { size } = await fh.stat();
    const buf = Buffer.allocUnsafe(size);
    let p = 0;
    while (p < size) {
      const { bytesRead } = await fh.read(buf, p, size - p, p);
      if (bytesRead === 0) break;
      p += bytesRead;
    }
    return p === size ? buf : buf.subarray(0, p);
  } finally {
    await fh.close();
  }
}

/** Whether any valid record starts in segs[i] after `from`, or in any later segment. */
function validRecordAfter(segs: Seg[], i: number, from: number): boolean {
  const v = new RecordView();
  for (let s = i; s < segs.length; s++) {
    const buf = segs[s].buf;
    const nz = segs[s].nz;
    for (let p = s === i ? from : 0; p < nz; p++) {
      if (decodeAt(buf, p, nz, v) === DecodeStatus.OK) return true;
    }
  }
  return false;
}

/**
 * Scans one stream directory. 'recover' cuts a torn tail / partial batch and throws CorruptLogError on corruption
 * before the tail; 'check' modifies nothing and reports; 'fix' cuts at the first bad record whatever follows
 * (spool-check runs salvage.ts first, which repairs corruption before the tail keeping what follows, so 'fix'
 * is then left with the tail).
 */
export async function recoverStream(
  dir: string,
  onRecord: RecordCallback | null,
  mode: RecoveryMode = 'recover',
  useSnapshot = false,
): Promise<RecoveryReport> {
  const t0 = Date.now();
  const report: RecoveryReport = {
    dir,
    segments: [],
    end: 0,
    records: 0,
    batches: 0,
    tornTail: null,
    corruption: null,
    partialBatch: null,
    bytesDropped: 0,
    removedFiles: [],
    modified: false,
    snapshot: null,
    ms: 0,
  };
  const write = mode !== 'check';
  // One listing for the temp files, the segments and whether there is a snapshot to read.
  const names = await fsp.readdir(dir);
  if (write) {
    for (const t of names.filter((n) => n.endsWith(TEMP_SUFFIX))) {
      await fsp.unlink(path.join(dir, t));
      report.removedFiles.push(t);
      report.modified = true;
    }
  }
  const bases: number[] = [];
  for (const n of names) {
    const b = parseSegmentFileName(n);
    if (b !== null) bases.push(b);
  }
  bases.sort((a, b) => a - b);
  const segs: Seg[] = [];
  for (const base of bases) segs.push(await mapSegment(base, path.join(dir, segmentFileName(base))));

  // Where the record-by-record scan starts: the end of a matching snapshot, else the first segment's start.
  let startI = 0;
  let startOff = 0;
  let lastI = -1;
  let lastOff = 0;
  if (useSnapshot && mode === 'recover' && names.includes(SNAPSHOT_FILE)) {
    const snap = await readLogSnapshot(dir);
    if (snap && snapshotMatches(snap, bases, segs.map((s) => s.buf))) {
      while (startI < segs.length - 1 && segs[startI].base + segs[startI].buf.length < snap.end) startI++;
      if (segs.length > 0) {
        startOff = snap.end - segs[startI].base;
        lastI = startI;
        lastOff = startOff;
      }
      report.snapshot = snap;
    }
  }

  const v = new RecordView();
  const rec = new ScannedRecord();
  // the batch being collected: segment index, payload offset, length, type, flags per record
  const pend: number[] = [];
  let pendStart: { i: number; off: number } | null = null;
  let bad: { i: number; off: number; reason: string } | null = null;
  const emit = (): void => {
    for (let k = 0; k < pend.length; k += 5) {
      const s = segs[pend[k]];
      report.records++;
      if (onRecord) {
        rec.bytes = s.buf;
        rec.offset = pend[k + 1];
        rec.length = pend[k + 2];
        rec.type = pend[k + 3];
        rec.flags = pend[k + 4];
        rec.pos = s.base + rec.offset - 10;
        onRecord(rec);
      }
    }
    report.batches++;
    pend.length = 0;
    pendStart = null;
  };
  scan: for (let i = startI; i < segs.length; i++) {
    const seg = segs[i];
    const buf = seg.buf;
    let off = i === startI ? startOff : 0;
    for (;;) {
      const st = decodeAt(buf, off, buf.length, v);
      if (st === DecodeStatus.OK) {
        if (!pendStart) pendStart = { i, off };
        pend.push(i, v.payloadOffset, v.payloadLength, v.type, v.flags);
        off += v.size;
        lastI = i;
        lastOff = off;
        if ((v.flags & FLAG_BATCH_CONTINUES) === 0) emit();
        continue;
      }
      if (st === DecodeStatus.ZERO && off >= seg.nz) break; // clean end of this segment's data
      bad = { i, off, reason: st === DecodeStatus.ZERO ? 'zeroed bytes followed by data' : v.reason };
      break scan;
    }
  }

  // where to cut, if anywhere
  let cut: { i: number; off: number } | null = null;
  if (bad) {
    const problem = { file: segs[bad.i].file, offset: bad.off, reason: bad.reason };
    if (validRecordAfter(segs, bad.i, bad.off + 1)) {
      report.corruption = problem;
      if (mode === 'recover') throw new CorruptLogError(problem.file, problem.offset, problem.reason, dir);
    } else {
      report.tornTail = problem;
    }
    cut = { i: bad.i, off: bad.off };
  }
  if (pendStart !== null) {
    const ps: { i: number; off: number } = pendStart;
    report.partialBatch = { file: segs[ps.i].file, offset: ps.off, reason: 'batch without its last record', records: pend.length / 5 };
    cut = ps;
  }

  if (cut) {
    for (let i = cut.i; i < segs.length; i++) report.bytesDropped += Math.max(0, segs[i].nz - (i === cut.i ? cut.off : 0));
    if (write) {
      await fsp.truncate(segs[cut.i].file, cut.off);
      const fh = await fsp.open(segs[cut.i].file, 'r+');
      await fh.datasync();
      await fh.close();
      for (const s of segs.splice(cut.i + 1)) {
        await fsp.unlink(s.file);
        report.removedFiles.push(path.basename(s.file));
      }
      segs[cut.i].buf = segs[cut.i].buf.subarray(0, cut.off);
      await syncDir(dir);
      report.modified = true;
    }
    lastI = cut.i;
    lastOff = cut.off;
  }

  for (const s of segs) report.segments.push({ base: s.base, size: s.buf.length });
  if (segs.length === 0) report.end = 0;
  else if (lastI < 0 || lastI < segs.length - 1) report.end = segs[segs.length - 1].base; // last file empty (spare)
  else report.end = segs[lastI].base + lastOff;
  report.ms = Date.now() - t0;
  return report;
}

export interface StreamDirInfo {
  dir: string;
  db: number;
  /** null when the name is hashed (long key): read the KEY file. */
  key: Buffer | null;
}

/** Stream directories under a data directory. */
export async function listStreamDirs(dataDir: string): Promise<StreamDirInfo[]> {
  let names: string[];
  try {
    names = await fsp.readdir(dataDir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: StreamDirInfo[] = [];
  for (const n of names.sort()) {
    const p = parseStreamDirName(n);
    if (p) out.push({ dir: path.join(dataDir, n), db: p.db, key: p.key });
  }
  return out;
}

/**
 * Streams recovered at once by default: most of a small stream's recovery is waiting on the thread pool (a
 * listing, an open, a stat), so this matches the pool's size (bin/spool-server.js sets 16 threads).
 */
const RECOVERY_CONCURRENCY = 16;

/**
 * Recovers every stream of a data directory, `concurrency` at a time (I/O of one overlaps CRC work of another).
 * `onStream` returns the record callback for a stream (or null to only scan). Rejects on the first corruption.
 */
export async function recoverAll(
  dataDir: string,
  onStream: (info: StreamDirInfo) => RecordCallback | null,
  opts: { mode?: RecoveryMode; concurrency?: number; log?: (msg: string) => void; useSnapshots?: boolean } = {},
): Promise<RecoveryReport[]> {
  const dirs = await listStreamDirs(dataDir);
  const reports: RecoveryReport[] = new Array(dirs.length);
  await forEachBounded(dirs, opts.concurrency ?? RECOVERY_CONCURRENCY, async (info, k) => {
    const r = await recoverStream(info.dir, onStream(info), opts.mode ?? 'recover', opts.useSnapshots ?? false);
    reports[k] = r;
    if (opts.log && (r.tornTail || r.partialBatch || r.corruption)) opts.log(describeReport(r));
  });
  return reports;
}

/** One human line (or a few) about what recovery found / did. */
export function describeReport(r: RecoveryReport): string {
  const lines = [`${r.dir}: ${r.records} records in ${r.batches} batches, ${r.segments.length} segment(s), ${r.ms} ms`];
  const verb = r.modified ? 'cut' : 'would cut';
  if (r.corruption) lines.push(`  CORRUPT at ${r.corruption.file} offset ${r.corruption.offset}: ${r.corruption.reason}`);
  if (r.tornTail) lines.push(`  torn tail at ${r.tornTail.file} offset ${r.tornTail.offset} (${r.tornTail.reason}): ${verb}`);
  if (r.partialBatch) lines.push(`  partial batch of ${r.partialBatch.records} record(s) at ${r.partialBatch.file} offset ${r.partialBatch.offset}: ${verb}`);
  if (r.bytesDropped) lines.push(`  ${r.bytesDropped} byte(s) of data dropped`);
  if (r.removedFiles.length) lines.push(`  removed: ${r.removedFiles.join(', ')}`);
  return lines.join('\n');
}
