// File and directory names of the store.
//
//   <dataDir>/<db>-<hex key>/                      one directory per stream (key names are binary)
//   <dataDir>/<db>-<hex key>/00000000000000000000.log  segments, named by the logical byte offset of their
//                                                  first byte in the stream's log (20 digits: they sort)
//   <name>.tmp                                     a rewrite in progress, renamed into place when complete
//   <dataDir>/DATABASES                            after a SWAPDB: which database each <db> number belongs to
//                                                  (databaseMap.ts); without it <db> is the database itself
//
// Hex rather than base64url: case-insensitive file systems cannot confuse two keys, and it is trivially
// reversible. A key whose hex would not fit a file name (255 bytes) gets "<db>-~<sha256>" and its raw
// bytes in a KEY file inside the directory.

import { createHash } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { io, observedSync } from './ioObserver';

export const SEGMENT_SUFFIX = '.log';
export const TEMP_SUFFIX = '.tmp';
export const KEY_FILE = 'KEY';
/** A stream directory's log id (8 random bytes): the commit journal addresses its sections by it. */
export const LOG_ID_FILE = 'ID';
/** The database map (databaseMap.ts): not a stream directory name, so recovery's scan passes it by. */
export const DB_MAP_FILE = 'DATABASES';
/** Keys up to this many bytes are named by their hex directly (2 * 120 + db prefix < 255). */
const MAX_DIRECT_KEY = 120;

export function streamDirName(db: number, key: Buffer): string {
  if (!Number.isInteger(db) || db < 0) throw new RangeError(`bad db number ${db}`);
  if (key.length <= MAX_DIRECT_KEY) return `${db}-${key.toString('hex')}`;
  return `${db}-~${createHash('sha256').update(key).digest('hex')}`;
}

export interface ParsedStreamDir {
  db: number;
  /** The key, or null when the name is hashed (read the KEY file: readStreamKey). */
  key: Buffer | null;
}

/** Parses a stream directory name; null if the name is not one. */
export function parseStreamDirName(name: string): ParsedStreamDir | null {
  const m = /^(\d+)-(~[0-9a-f]{64}|(?:[0-9a-f]{2})*)$/.exec(name);
  if (!m) return null;
  const db = Number(m[1]);
  if (m[2].startsWith('~')) return { db, key: null };
  return { db, key: Buffer.from(m[2], 'hex') };
}

/** Whether a stream directory needs a KEY file (long keys). */
export function needsKeyFile(key: Buffer): boolean {
  return key.length > MAX_DIRECT_KEY;
}

/** The key of a stream directory, reading its KEY file when the name is hashed. */
export async function readStreamKey(dir: string): Promise<{ db: number; key: Buffer }> {
  const parsed = parseStreamDirName(path.basename(dir));
  if (!parsed) throw new Error(`${dir} is not a stream directory`);
  if (parsed.key) return { db: parsed.db, key: parsed.key };
  return { db: parsed.db, key: await fsp.readFile(path.join(dir, KEY_FILE)) };
}

export function segmentFileName(base: number): string {
  if (!Number.isSafeInteger(base) || base < 0) throw new RangeError(`bad segment base ${base}`);
  return String(base).padStart(20, '0') + SEGMENT_SUFFIX;
}

/** Base offset of a segment file name, or null if the name is not a segment. */
export function parseSegmentFileName(name: string): number | null {
  const m = /^(\d{20})\.log$/.exec(name);
  if (!m) return null;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) ? n : null;
}

export function tempPathFor(file: string): string {
  return file + TEMP_SUFFIX;
}

/** Writes `data` to `file` atomically: temp file, fdatasync, rename, fsync of the directory. */
export async function writeFileAtomic(file: string, data: Uint8Array): Promise<void> {
  const tmp = tempPathFor(file);
  await writeWholeFile(tmp, data, true);
  await fsp.rename(tmp, file);
  io.observer?.renamed(tmp, file);
  await syncDir(path.dirname(file));
}

/** Creates (or truncates) `file` holding `data`, fdatasync'd with `sync` (reported to the I/O observer). */
export async function writeWholeFile(file: string, data: Uint8Array, sync: boolean): Promise<void> {
  const fh = await fsp.open(file, 'w');
  try {
    const o = io.observer;
    if (o !== null) o.opened(fh.fd, file, 'w');
    await fh.writeFile(data);
    if (o !== null) o.wrote(fh.fd, 0, data, 0, data.length);
    if (sync) await observedSync(fh.fd, () => fh.datasync());
  } finally {
    io.observer?.closed(fh.fd);
    await fh.close();
  }
}

/** mkdir -p `dir` (reported to the I/O observer). */
export async function makeDir(dir: string): Promise<void> {
  if ((await fsp.mkdir(dir, { recursive: true })) !== undefined) io.observer?.made(dir);
}

/** rm -rf `target` (reported to the I/O observer). */
export async function removeTree(target: string): Promise<void> {
  await fsp.rm(target, { recursive: true, force: true });
  io.observer?.removed(target);
}

/** fsync a directory so a create/rename/unlink in it survives a machine crash. */
export async function syncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    io.observer?.opened(fh.fd, dir, 'r');
    await observedSync(fh.fd, () => fh.sync());
  } finally {
    io.observer?.closed(fh.fd);
    await fh.close();
  }
}

interface SharedDirSync {
  /** A sync not started yet: whoever asks now is covered by it. */
  pending: Promise<void> | null;
  running: Promise<void> | null;
}
const sharedDirSyncs = new Map<string, SharedDirSync>();

/**
 * syncDir for a directory many operations sync at once (the data directory when thousands of streams are
 * created in one burst): callers arriving before the next sync starts share it, so a burst costs a couple of
 * fsyncs and descriptors, not one per stream. A sync always starts after the call, so it covers the caller's
 * earlier changes to the directory.
 */
export function syncDirShared(dir: string): Promise<void> {
  let state = sharedDirSyncs.get(dir);
  if (!state) sharedDirSyncs.set(dir, (state = { pending: null, running: null }));
  if (state.pending) return state.pending;
  const s = state;
  const pending = (async () => {
    // Always yields first: `pending` is set below before this line goes on.
    await s.running?.catch(() => undefined);
    s.pending = null;
    const running = syncDir(dir);
    s.running = running;
    try {
      await running;
    } finally {
      if (s.running === running) s.running = null;
      if (!s.pending && !s.running) sharedDirSyncs.delete(dir);
    }
  })();
  s.pending = pending;
  return pending;
}

/** Lists segment bases in a stream directory, sorted; removes leftover temp files. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await fsp.readdir(dir);
  const bases: number[] = [];
  for (const n of names) {
    const b = parseSegmentFileName(n);
    if (b !== null) bases.push(b);
  }
  return bases.sort((a, b) => a - b);
}

/** Temp files in a directory (leftovers of an interrupted rewrite). */
export async function listTempFiles(dir: string): Promise<string[]> {
  return (await fsp.readdir(dir)).filter((n) => n.endsWith(TEMP_SUFFIX));
}
