// Start-up replay of the commit journal (commitJournal.ts), before the stream logs are recovered.
//
// Every frame in the journal was acknowledged (or was about to be) under `always`; its bytes are in the
// segments unless a power loss dropped pages that were not synced behind the journal yet. Replay writes every
// section's bytes back at its place (idempotent: a position in a segment only ever holds one record), syncs
// the segments it wrote, then deletes the journal files: recovery then sees the logs as they were acknowledged.
//
// Sections are addressed by the log id in each stream directory's ID file, not by the directory name: a stream
// renamed since keeps its id (its directory moved), and a stream deleted and created again in the same
// directory has a new one, so a section never lands in another stream's files. A section whose log or segment
// file is gone (deleted stream, segments removed by retention after they were synced) is skipped.
//
// A journal file ends at its first frame that is torn, stale (a recycled file's older generation) or damaged.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { FRAME_HEADER, FRAME_MAGIC, JOURNAL_DIR, LOG_ID_BYTES, SECTION_HEADER, frameChecksum, parseJournalFileName } from './commitJournal';
import { LOG_ID_FILE, parseStreamDirName, segmentFileName, syncDir } from './fileNames';
import { mmap } from './mmapBinding';
import { forEachBounded } from '../util/forEachBounded';

export interface JournalReplayReport {
  files: number;
  frames: number;
  /** Sections written back into their segments (their bytes there differed: a machine crash lost them). */
  restored: number;
  /** Sections whose stream or segment no longer exists. */
  skipped: number;
  bytes: number;
  /** First generation the next journal may use. */
  nextGen: number;
}

interface Section {
  logId: string;
  segBase: number;
  offset: number;
  bytes: Buffer;
}

/** Parses the valid frames of one journal file's bytes into their sections. */
export function parseJournalFile(buf: Buffer, gen: number, out: Section[]): number {
  let p = 0;
  let frames = 0;
  while (p + FRAME_HEADER <= buf.length) {
    if (buf.readUInt32LE(p) !== FRAME_MAGIC) break;
    const len = buf.readUInt32LE(p + 4);
    if (buf.readUInt32LE(p + 8) !== gen >>> 0) break;
    const end = p + FRAME_HEADER + len;
    if (end > buf.length) break;
    const frame = buf.subarray(p, end);
    if (frameChecksum(frame, FRAME_HEADER, frame.length) !== frame.readUInt32LE(12)) break;
    const sections: Section[] = [];
    let q = FRAME_HEADER;
    let ok = true;
    while (q < frame.length) {
      if (q + SECTION_HEADER > frame.length) {
        ok = false;
        break;
      }
      const logId = frame.toString('hex', q, q + LOG_ID_BYTES);
      const segBase = frame.readDoubleLE(q + 8);
      const offset = frame.readUInt32LE(q + 16);
      const n = frame.readUInt32LE(q + 20);
      q += SECTION_HEADER;
      if (q + n > frame.length || !Number.isSafeInteger(segBase) || segBase < 0) {
        ok = false;
        break;
      }
      sections.push({ logId, segBase, offset, bytes: frame.subarray(q, q + n) });
      q += n;
    }
    if (!ok) break; // a checksummed frame that does not parse: treat as the end, as a torn one
    for (const s of sections) out.push(s);
    frames++;
    p = end;
  }
  return frames;
}

/** Files read or restored at once (thread-pool work; a data directory of thousands of streams must not run out of descriptors). */
const REPLAY_CONCURRENCY = 16;

/** Log id (hex) -> stream directory, read from every stream directory's ID file (many at a time). */
async function logDirectories(dataDir: string): Promise<Map<string, string>> {
  const byId = new Map<string, string>();
  const dirs = (await fsp.readdir(dataDir)).filter((name) => parseStreamDirName(name) !== null).map((name) => path.join(dataDir, name));
  await forEachBounded(dirs, REPLAY_CONCURRENCY, async (dir) => {
    try {
      const id = await fsp.readFile(path.join(dir, LOG_ID_FILE));
      if (id.length === LOG_ID_BYTES) byId.set(id.toString('hex'), dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') throw e;
    }
  });
  return byId;
}

/**
 * `file` mapped read-only (null when empty): replay compares and parses mapped pages in place, so neither the
 * journal nor the journaled ranges of the segments are copied into the heap (a journal is tens of MiB).
 */
async function mapReadOnly(fh: fsp.FileHandle): Promise<Buffer | null> {
  const { size } = await fh.stat();
  return size === 0 ? null : mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED, fh.fd, 0);
}

/**
 * Writes `sections` back into `file` where its bytes differ, then syncs it if anything was written. After a
 * process crash the page cache still holds every byte, so nothing is written and nothing synced: a restart after
 * SIGKILL costs one native comparison per journaled range against the mapped segment.
 */
async function restoreFile(file: string, sections: Section[], report: JournalReplayReport): Promise<void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(file, 'r+');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    report.skipped += sections.length; // removed by retention after it was synced
    return;
  }
  try {
    const now = await mapReadOnly(fh);
    let written = false;
    for (const s of sections) {
      const end = s.offset + s.bytes.length;
      if (now !== null && end <= now.length && now.subarray(s.offset, end).equals(s.bytes)) continue;
      let done = 0;
      while (done < s.bytes.length) done += (await fh.write(s.bytes, done, s.bytes.length - done, s.offset + done)).bytesWritten;
      written = true;
      report.restored++;
      report.bytes += s.bytes.length;
    }
    if (written) await fh.datasync();
  } finally {
    await fh.close(); // a mapping stays valid without its descriptor (unmapped when collected)
  }
}

/** A journal file's bytes, mapped (frames are parsed in place; the rest of a preallocated file is never read). */
async function mapJournalFile(file: string): Promise<Buffer> {
  const fh = await fsp.open(file, 'r');
  try {
    return (await mapReadOnly(fh)) ?? Buffer.alloc(0);
  } finally {
    await fh.close();
  }
}

export async function replayJournal(dataDir: string): Promise<JournalReplayReport> {
  const report: JournalReplayReport = { files: 0, frames: 0, restored: 0, skipped: 0, bytes: 0, nextGen: 1 };
  const dir = path.join(dataDir, JOURNAL_DIR);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return report;
    throw e;
  }
  const files = names
    .map((n) => ({ n, gen: parseJournalFileName(n) }))
    .filter((f): f is { n: string; gen: number } => f.gen !== null)
    .sort((a, b) => a.gen - b.gen);
  const sections: Section[] = [];
  for (const f of files) {
    report.files++;
    report.nextGen = Math.max(report.nextGen, f.gen + 1);
    report.frames += parseJournalFile(await mapJournalFile(path.join(dir, f.n)), f.gen, sections);
  }
  if (sections.length > 0) {
    const dirs = await logDirectories(dataDir);
    // Per segment file, its sections in journal order.
    const byFile = new Map<string, Section[]>();
    for (const s of sections) {
      const logDir = dirs.get(s.logId);
      if (logDir === undefined) {
        report.skipped++;
        continue;
      }
      const file = path.join(logDir, segmentFileName(s.segBase));
      const list = byFile.get(file);
      if (list) list.push(s);
      else byFile.set(file, [s]);
    }
    await forEachBounded([...byFile], REPLAY_CONCURRENCY, ([file, list]) => restoreFile(file, list, report));
  }
  // Every byte the journal held is in a synced segment now: the files go.
  for (const f of files) await fsp.unlink(path.join(dir, f.n));
  if (files.length > 0) await syncDir(dir);
  return report;
}
