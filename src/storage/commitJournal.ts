// One commit journal for appendfsync `always`.
//
// Why: a commit used to fdatasync every segment its batch touched, so `always` over N streams cost N syncs per
// batch (Redis syncs one file), and `everysec` synced every segment written in the last second. Now the bytes a
// batch appended (already in the mapped segments) are copied into ONE frame, written at the end of a
// preallocated journal file: under `always` the commit writes it and fdatasyncs the journal (one device flush,
// whatever the number of streams); under `everysec` each event-loop turn writes its frame and the journal alone
// is fdatasync'd once a second. The segments stay the home of every stream and are synced "behind" the journal:
// the segments a journal file covers are fdatasync'd when the journal moves on to its next file, and only then
// is that file recycled. Start-up replays the frames into the segments (journalReplay.ts) before the stream logs
// are recovered, so every byte the journal made durable is back in its segment.
//
// Files: <dataDir>/journal/<generation, 16 hex digits>.jnl, each preallocated (zero-filled and synced once, so
// a write in place and its fdatasync flush data only, no file-size metadata). A frame:
//
//   offset 0   u32 LE  MAGIC
//   offset 4   u32 LE  body length
//   offset 8   u32 LE  generation of the file it was written to
//   offset 12  u32 LE  CRC32C over the generation (4 bytes) and the body
//   offset 16  body: sections, each
//                8 bytes  log id (the stream directory's ID file: a new stream in the same directory has another)
//                f64 LE   segment base (the segment file's name)
//                u32 LE   offset in the segment
//                u32 LE   length, then that many bytes
//
// A recycled file keeps stale frames of its old generation after the new ones: the reader stops at the first
// frame whose magic, generation or checksum does not match, so a torn write or a stale frame ends the file.
//
// Errors are sticky in the batcher: a failed frame write throws to the commit, whose segments the batcher then
// syncs directly on its retries (the bytes are in the maps; the journal is only the fast way to make them durable).

import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32c } from '@node-rs/crc32';
import type { Syncable } from './commitBatcher';
import { makeDir, syncDir } from './fileNames';
import { zeroFill } from './segment';
import { closeFile, fsFdatasync, openFile, renameFile, unlinkFile, writeAt } from './ioObserver';

export const JOURNAL_DIR = 'journal';
export const JOURNAL_SUFFIX = '.jnl';
export const FRAME_MAGIC = 0x4a4c5053; // "SPLJ"
export const FRAME_HEADER = 16;
export const SECTION_HEADER = 24;
export const LOG_ID_BYTES = 8;
/** Default size of one journal file. */
export const DEFAULT_JOURNAL_FILE_SIZE = 64 * 1024 * 1024;


export function journalFileName(gen: number): string {
  return gen.toString(16).padStart(16, '0') + JOURNAL_SUFFIX;
}

export function parseJournalFileName(name: string): number | null {
  const m = /^([0-9a-f]{16})\.jnl$/.exec(name);
  return m ? parseInt(m[1], 16) : null;
}

/** The byte ranges one commit makes durable, encoded as one frame (reused: one commit is in flight at a time). */
export class JournalFrame {
  private buf = Buffer.allocUnsafe(64 * 1024);
  private used = FRAME_HEADER;
  sections = 0;

  get empty(): boolean {
    return this.sections === 0;
  }

  get length(): number {
    return this.used;
  }

  reset(): void {
    this.used = FRAME_HEADER;
    this.sections = 0;
  }

  /** Adds `src[from, to)`, the bytes at `offset` of the segment at `segBase` of the log `logId`. */
  add(logId: Buffer, segBase: number, offset: number, src: Buffer, from: number, to: number): void {
    const len = to - from;
    this.ensure(SECTION_HEADER + len);
    const b = this.buf;
    let p = this.used;
    logId.copy(b, p, 0, LOG_ID_BYTES);
    b.writeDoubleLE(segBase, p + 8);
    b.writeUInt32LE(offset, p + 16);
    b.writeUInt32LE(len, p + 20);
    p += SECTION_HEADER;
    src.copy(b, p, from, to);
    this.used = p + len;
    this.sections++;
  }

  /** Seals the frame for `gen` and returns its bytes (a view valid until the next reset). */
  seal(gen: number): Buffer {
    const b = this.buf;
    b.writeUInt32LE(FRAME_MAGIC, 0);
    b.writeUInt32LE(this.used - FRAME_HEADER, 4);
    b.writeUInt32LE(gen >>> 0, 8);
    b.writeUInt32LE(crc32c(b.subarray(8, 12), 0) >>> 0, 12);
    const crc = crc32c(b.subarray(FRAME_HEADER, this.used), b.readUInt32LE(12)) >>> 0;
    b.writeUInt32LE(crc, 12);
    return b.subarray(0, this.used);
  }

  private ensure(more: number): void {
    if (this.used + more <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.used + more));
    this.buf.copy(grown, 0, 0, this.used);
    this.buf = grown;
  }
}

/** CRC of a frame as seal() computes it: CRC32C over the generation bytes, continued over the body. */
export function frameChecksum(frame: Buffer, bodyStart: number, bodyEnd: number): number {
  return crc32c(frame.subarray(bodyStart, bodyEnd), crc32c(frame.subarray(8, 12), 0)) >>> 0;
}

interface JournalFile {
  gen: number;
  path: string;
  fd: number;
  size: number;
  /** Frame writes in flight to this file: it is not retired before they settle. */
  writing?: Set<Promise<unknown>>;
}

export interface CommitJournalOptions {
  /** Size of each journal file (default 64 MiB). */
  fileSize?: number;
  warn?: (msg: string) => void;
}

export class CommitJournal {
  readonly dir: string;
  private readonly fileSize: number;
  private readonly warn: (msg: string) => void;
  private current: JournalFile;
  private offset = 0;
  private spare: Promise<JournalFile> | null = null;
  private nextGen: number;
  /** Frames not in use (a frame's bytes are read by the thread pool until its write settles). */
  private readonly freeFrames: JournalFrame[] = [];
  /** A rotation in progress: writes wait for it, then place themselves in the new file. */
  private rotating: Promise<void> | null = null;
  /** Segments written since the current file started: synced before it is recycled. */
  behind = new Set<Syncable>();
  /** A file being retired (its segments syncing); the next rotation waits for it. */
  private retiring: Promise<void> | null = null;
  private closed = false;
  // counters (INFO)
  frames = 0;
  bytes = 0;
  rotations = 0;

  private constructor(dir: string, first: JournalFile, opts: CommitJournalOptions) {
    this.dir = dir;
    this.fileSize = first.size;
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.current = first;
    this.nextGen = first.gen + 1;
    void opts;
  }

  /**
   * Opens a fresh journal in `<dataDir>/journal` whose first generation is `firstGen` (after replay removed the
   * old files: generations only grow, so no stale frame can ever match).
   */
  static async open(dataDir: string, firstGen: number, opts: CommitJournalOptions = {}): Promise<CommitJournal> {
    const dir = path.join(dataDir, JOURNAL_DIR);
    await makeDir(dir);
    const size = opts.fileSize ?? DEFAULT_JOURNAL_FILE_SIZE;
    // Two files and room to spare, or none: filling a nearly full disk with journal zeros would take the space
    // the streams' own reservations need (commits then sync the segments themselves).
    const { bavail, bsize } = await fs.promises.statfs(dir);
    if (bavail * bsize < 4 * size) {
      throw Object.assign(new Error(`not enough free space for the commit journal (${4 * size} bytes wanted)`), { code: 'ENOSPC' });
    }
    const first = await createFile(dir, firstGen, size);
    await syncDir(dir);
    await syncDir(dataDir);
    const j = new CommitJournal(dir, first, opts);
    j.prepareSpare();
    return j;
  }

  /** An empty frame to fill; write() gives it back. */
  frame(): JournalFrame {
    const f = this.freeFrames.pop() ?? new JournalFrame();
    f.reset();
    return f;
  }

  /** Frames were written without a sync since the last sync() (everysec). */
  unsynced = false;

  /**
   * Writes `frame` and counts `covered` (the segments its bytes came from) as synced behind this file. With
   * `durable` it is fdatasync'd too, and resolves once on the device (always); without, it is in the page cache
   * and the next sync() covers it (everysec). Several writes may be in flight: each takes its place in the file
   * when called, so frames are in call order. Rejects on an I/O error.
   */
  async write(frame: JournalFrame, covered: Iterable<Syncable>, durable: boolean): Promise<void> {
    try {
      if (this.closed) throw new Error('commit journal is closed');
      for (;;) {
        if (this.rotating) {
          await this.rotating;
          continue;
        }
        if (this.offset + frame.length <= this.current.size) break;
        this.rotating = this.rotate(frame.length).finally(() => (this.rotating = null));
      }
      const file = this.current;
      const at = this.offset;
      this.offset += frame.length;
      // Now, not after the write: a rotation from here on must sync these segments before retiring the file.
      for (const s of covered) this.behind.add(s);
      const bytes = frame.seal(file.gen);
      // Unsynced from the moment the write is issued: a periodic sync starting while it is in flight waits for it
      // (sync() does) instead of finding nothing to sync and leaving it for the next second.
      if (!durable) this.unsynced = true;
      const writing = writeAll(file.fd, bytes, at);
      (file.writing ??= new Set()).add(writing);
      try {
        await writing;
      } finally {
        file.writing.delete(writing);
      }
      if (durable) await fsFdatasync(file.fd);
      this.frames++;
      this.bytes += bytes.length;
    } finally {
      this.freeFrames.push(frame);
    }
  }

  /** fdatasync of the current file once the writes in flight to it settle (everysec's once a second). */
  async sync(): Promise<void> {
    const file = this.current;
    this.unsynced = false;
    if (file.writing && file.writing.size > 0) await Promise.allSettled([...file.writing]);
    await fsFdatasync(file.fd);
  }

  /** Moves to the next file and retires the current one in the background (sync its segments, recycle it). */
  private async rotate(need: number): Promise<void> {
    if (this.retiring) await this.retiring; // at most one file waits for its segments
    const old = this.current;
    const toSync = this.behind;
    this.behind = new Set();
    let next = this.spare ? await this.spare.catch(() => null) : null;
    this.spare = null;
    if (next === null || next.size < need) {
      if (next !== null) await closeAndRemove(next);
      next = await createFile(this.dir, this.nextGen++, Math.max(this.fileSize, roundUp(need)));
      await syncDir(this.dir);
    }
    this.current = next;
    this.offset = 0;
    this.rotations++;
    this.retiring = this.retire(old, toSync).finally(() => {
      this.retiring = null;
    });
  }

  /** Syncs the segments `file` covers, then recycles it as the spare (or removes it). Retries until it works. */
  private async retire(file: JournalFile, segments: Set<Syncable>): Promise<void> {
    if (file.writing) await Promise.allSettled([...file.writing]);
    for (;;) {
      const results = await Promise.allSettled(
        [...segments].map((s) => {
          s.dirty = false; // a write from now on marks it again
          return s.sync();
        }),
      );
      const failed = results.find((r) => r.status === 'rejected') as PromiseRejectedResult | undefined;
      if (!failed) break;
      if (this.closed) return;
      this.warn(`spool storage: cannot sync segments behind the commit journal, keeping it: ${String(failed.reason)}`);
      await new Promise((r) => setTimeout(r, 1000).unref());
    }
    if (this.closed) return;
    if (this.spare === null && file.size === this.fileSize) {
      const gen = this.nextGen++;
      const p = path.join(this.dir, journalFileName(gen));
      const recycled = (async () => {
        await renameFile(file.path, p);
        await syncDir(this.dir);
        return { gen, path: p, fd: file.fd, size: file.size };
      })();
      this.spare = recycled;
      await recycled.catch(() => undefined);
    } else await closeAndRemove(file);
    if (this.spare === null) this.prepareSpare();
  }

  private prepareSpare(): void {
    if (this.spare || this.closed) return;
    const spare = createFile(this.dir, this.nextGen++, this.fileSize).then(async (f) => {
      await syncDir(this.dir);
      return f;
    });
    spare.catch(() => undefined);
    this.spare = spare;
  }

  /** Segments the journal covers now (shutdown syncs them: the journal is then removed). */
  takeBehind(): Set<Syncable> {
    const b = this.behind;
    this.behind = new Set();
    return b;
  }

  /**
   * Closes the journal. With `remove` (a clean shutdown: every segment was synced), its files are deleted, so
   * the next start has nothing to replay.
   */
  async close(remove: boolean): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retiring) await this.retiring.catch(() => undefined);
    const spare = this.spare ? await this.spare.catch(() => null) : null;
    for (const f of [this.current, spare]) if (f) await closeFile(f.fd).catch(() => undefined);
    if (!remove) return;
    for (const name of await fs.promises.readdir(this.dir)) {
      if (parseJournalFileName(name) !== null) await unlinkFile(path.join(this.dir, name)).catch(() => undefined);
    }
    await syncDir(this.dir).catch(() => undefined);
  }
}

async function writeAll(fd: number, bytes: Buffer, at: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += await writeAt(fd, bytes, done, bytes.length - done, at + done);
}

function roundUp(n: number): number {
  const MiB = 1024 * 1024;
  return Math.ceil(n / MiB) * MiB;
}

/** A preallocated journal file: zero-filled and synced, then opened for writes in place. */
async function createFile(dir: string, gen: number, size: number): Promise<JournalFile> {
  const p = path.join(dir, journalFileName(gen));
  const fill = await openFile(p, 'w+');
  try {
    await zeroFill(fill, 0, size);
    await fsFdatasync(fill);
  } catch (e) {
    // a full disk: give back what the attempt took
    await unlinkFile(p).catch(() => undefined);
    throw e;
  } finally {
    await closeFile(fill);
  }
  const fd = await openFile(p, 'r+');
  return { gen, path: p, fd, size };
}

async function closeAndRemove(f: JournalFile): Promise<void> {
  await closeFile(f.fd).catch(() => undefined);
  await unlinkFile(f.path).catch(() => undefined);
}
