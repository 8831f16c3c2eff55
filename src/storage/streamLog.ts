// The ordered segments of one stream, appended through the commit batcher.
//
// Positions: a record's location is ONE number, its logical byte position = segment base + offset in the
// segment (segment files are named by their base). A number fits a Float64Array index with no object per entry;
// segmentOf(pos) finds the segment. Positions grow monotonically; a sealed segment may end with unused zeroed
// bytes (the next segment's base is the sealed one's base + its capacity), so positions are not dense.
//
// Write path: append*() encodes the record straight into the mapped active segment when the reservation has
// room (the common case: a memcpy into the page cache, acknowledged at once under everysec/no). When it has not
// (a burst outran the reservation ahead of need, or the segment was evicted), the record is encoded into a JS
// staging buffer, given its position anyway, and copied into the map as soon as the reservation (zero-fill +
// fdatasync on the thread pool) completes; the batcher holds the batch's ticket until then (whenLanded), so no
// reply is released for bytes that are not in the map yet.
//
// Reservation ahead of need: when the active segment is half full it is doubled in place (1 MiB .. max), and at
// max a spare next segment is created, so bursts rarely stage. A full disk makes the reservation fail: appends
// that still fit the reserved space go on, the others throw StorageError('ENOSPC') (no crash, reads unaffected),
// and the reservation is retried every retryMs so writes resume by themselves once space is free.
//
// Low disk: reserving ahead of need is optional (a full disk leaves the log short of room, not failing, so a
// server starts on a nearly full disk); what a write needs is not. Before a write command runs, the server asks
// whenRoomFor(its size) of the streams it names (through SpaceWatch, only while some log is short): the command
// waits on its connection for a reservation of just that much (shrunk to what the disk has, down to the record
// size) and gets MISCONF when even that fails, so no write is applied to a stream before its bytes have a place.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { CommitBatcher, StorageError, type CommitTarget, type FsyncPolicy, type Syncable } from './commitBatcher';
import { encodeEntryInto, encodeRecordInto, entryRecordSize, FLAG_BATCH_CONTINUES, HEADER_SIZE, setRecordFlags } from './recordCodec';
import { Segment } from './segment';
import { SegmentCache } from './segmentCache';
import type { SpaceWatch } from './spaceWatch';
import { KEY_FILE, LOG_ID_FILE, makeDir, needsKeyFile, removeTree, segmentFileName, streamDirName, syncDir, syncDirShared, writeFileAtomic, writeWholeFile } from './fileNames';
import { LOG_ID_BYTES, type JournalFrame } from './commitJournal';
import { io, observedSync, unlinkFile } from './ioObserver';

export interface StreamLogOptions {
  batcher: CommitBatcher;
  cache: SegmentCache;
  /** First reservation of a new segment (default 1 MiB). */
  initialSegmentSize?: number;
  /** Roll over to a new segment past this size (default 64 MiB). */
  maxSegmentSize?: number;
  /** Retry delay of a failed reservation (default 1000 ms). */
  retryMs?: number;
  /** Timer for reservation retries (tests inject one); default setTimeout, unref'd. */
  setTimer?: (ms: number, fn: () => void) => void;
  /** Told when this log may be short of room ahead of its end (see spaceWatch.ts). */
  space?: SpaceWatch;
}

/** What recovery learnt about a stream's files (see recovery.ts). */
export interface ExistingSegment {
  base: number;
  /** File size (reserved capacity). */
  size: number;
}

interface Slot {
  base: number;
  /** Capacity this segment will have once its reservation completes. */
  planned: number;
  seg: Segment | null;
  /** The file exists on disk (open lazily); false until created. */
  exists: boolean;
  /** Created, but the directory entry is not synced yet. */
  nameUnsynced?: boolean;
  /** Sealed: where its data ends (the rest up to the next base is unused). */
  dataEnd?: number;
}

interface Run {
  pos: number;
  off: number;
  len: number;
}

const MiB = 1 << 20;
const PAGE = 4096;
/** Appends since the last commit beyond this go to a direct segment sync rather than into one journal frame. */
const MAX_JOURNALED_RANGE = 8 * MiB;

function roundToPage(n: number): number {
  return Math.ceil(n / PAGE) * PAGE;
}

function isNoSpace(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOSPC';
}

function defaultTimer(ms: number, fn: () => void): void {
  setTimeout(fn, ms).unref();
}

export class StreamLog implements CommitTarget {
  private readonly batcher: CommitBatcher;
  private readonly cache: SegmentCache;
  private readonly initialSize: number;
  private readonly maxSize: number;
  private readonly retryMs: number;
  private readonly setTimer: (ms: number, fn: () => void) => void;
  private readonly space: SpaceWatch | null;
  /** Counted in space.short and space.failing (see markShort, markFailing). */
  private short = false;
  private failing = false;
  /** Bytes a waiting write needs after the end (whenRoomFor); 0: none. */
  private wanted = 0;

  private readonly slots: Slot[] = [];
  private spare: Segment | null = null;
  /** Next append position. */
  private endPos: number;
  private staging: Buffer = Buffer.alloc(0);
  private stagingUsed = 0;
  private runs: Run[] = [];
  private landWaiters: (() => void)[] = [];
  private landPromise: Promise<void> | null = null;
  private reserving = false;
  private dirtySegs = new Set<Segment>();
  private closing = false;
  /** Set while a reservation fails (ENOSPC...): appends needing new space throw it. */
  reserveError: StorageError | null = null;
  /** Ticket of the last append (what the caller's reply depends on). */
  lastTicket = 0;
  /** This stream's own appendfsync (XCFGSET), null: the server's. Set through CommitBatcher.setTargetPolicy. */
  fsyncPolicy: FsyncPolicy | null = null;
  /** Bytes staged because the reservation lagged (metric). */
  stagedBytes = 0;
  /** Where the log ended when this process opened it (appendedBytes counts from there). */
  private readonly openedAt: number;
  /** Positions skipped without a record: the unused tail of each segment sealed since it was opened. */
  private skippedBytes = 0;
  private readonly canEvict = (): boolean => !this.closing && this.runs.length === 0 && !this.reserving;

  // out-parameters of place(), to avoid an object per append
  private wbuf: Buffer = this.staging;
  private woff = 0;
  private wseg: Segment | null = null;

  /** Creation of the directory of a new stream, still to do (see createNow). */
  private prepare: (() => Promise<void>) | null = null;
  /** The reservation loop in progress, if any. */
  private reservation: Promise<void> | null = null;
  /** A rename in progress: the directory is not touched until it settles (see moveTo). */
  private barrier: Promise<void> | null = null;

  private constructor(
    public dir: string,
    opts: StreamLogOptions,
    endPos: number,
  ) {
    this.batcher = opts.batcher;
    this.cache = opts.cache;
    this.initialSize = opts.initialSegmentSize ?? MiB;
    this.maxSize = Math.max(opts.maxSegmentSize ?? 64 * MiB, this.initialSize);
    this.retryMs = opts.retryMs ?? 1000;
    this.setTimer = opts.setTimer ?? defaultTimer;
    this.space = opts.space ?? null;
    this.endPos = endPos;
    this.openedAt = endPos;
    this.journaledTo = endPos;
  }

  /** This log's id (its directory's ID file): the commit journal's sections name it. Null until known. */
  logId: Buffer | null = null;
  /** Bytes before this position are in the commit journal or synced (journalInto). */
  private journaledTo: number;

  /**
   * The id is on disk (synced): until then commits sync this log's segments themselves, since the journal's
   * sections could not be matched to it after a machine crash.
   */
  private logIdDurable = false;

  /**
   * Writes a new log id into `dir`. Synced now with `sync`, else in the background (a new stream's first writes
   * do not wait for it). The directory entry is synced with the first segment's.
   */
  private async writeLogId(sync: boolean): Promise<void> {
    const id = randomBytes(LOG_ID_BYTES);
    const file = path.join(this.dir, LOG_ID_FILE);
    await writeWholeFile(file, id, sync);
    this.logId = id;
    this.logIdDurable = sync;
    if (!sync) {
      void fsp.open(file, 'r').then((h) => {
        io.observer?.opened(h.fd, file, 'r');
        return observedSync(h.fd, () => h.datasync())
          .then(() => (this.logIdDurable = this.logId === id), () => undefined)
          .finally(() => {
            io.observer?.closed(h.fd);
            return h.close();
          });
      }, () => undefined);
    }
  }

  /** Reads the directory's log id, or gives an older directory (made before ids existed) one. */
  private async loadLogId(): Promise<void> {
    try {
      const id = await fsp.readFile(path.join(this.dir, LOG_ID_FILE));
      if (id.length === LOG_ID_BYTES) {
        this.logId = id;
        this.logIdDurable = true;
        return;
      }
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    await this.writeLogId(true);
    await syncDir(this.dir);
  }

  /** Creates the directory of a new stream and its first segment. */
  static async create(dataDir: string, db: number, key: Buffer, opts: StreamLogOptions): Promise<StreamLog> {
    const dir = path.join(dataDir, streamDirName(db, key));
    await makeDir(dir);
    if (needsKeyFile(key)) await writeFileAtomic(path.join(dir, KEY_FILE), key);
    await syncDir(dataDir);
    return StreamLog.open(dir, opts, [], 0);
  }

  /**
   * A new stream's log, usable at once: the directory is created on the thread pool after `after` (a pending
   * delete or rename of the same directory) settles. Appends meanwhile are staged, and their batch's ticket is
   * held until they reach the mapped segment, exactly as when a reservation lags.
   */
  static createNow(dataDir: string, db: number, key: Buffer, opts: StreamLogOptions, after: Promise<unknown> | null): StreamLog {
    const dir = path.join(dataDir, streamDirName(db, key));
    const log = new StreamLog(dir, opts, 0);
    log.slots.push({ base: 0, planned: log.initialSize, seg: null, exists: false });
    // Retried by the reservation loop until it succeeds (a full disk may refuse the directory too).
    log.prepare = async () => {
      if (after) await after.catch(() => undefined);
      await makeDir(log.dir);
      await log.writeLogId(false);
      if (needsKeyFile(key)) await writeFileAtomic(path.join(log.dir, KEY_FILE), key);
      await syncDirShared(dataDir);
    };
    log.kickReserve();
    return log;
  }

  /** Renames the stream's directory (RENAME of its key); appends meanwhile are staged. */
  moveTo(dataDir: string, db: number, key: Buffer, after: Promise<unknown> | null): Promise<void> {
    // What is in flight now, read now: quiet() would read `barrier` after a yield, when it is this move itself.
    const previous = Promise.all([this.barrier, this.reservation, this.deleting?.catch(() => undefined)]);
    const target = path.join(dataDir, streamDirName(db, key));
    const move = (async () => {
      await previous.catch(() => undefined);
      if (after) await after.catch(() => undefined);
      await removeTree(target);
      await fsp.rename(this.dir, target);
      io.observer?.renamed(this.dir, target);
      this.dir = target;
      if (needsKeyFile(key)) await writeFileAtomic(path.join(target, KEY_FILE), key);
      else await removeTree(path.join(target, KEY_FILE));
      await syncDirShared(dataDir);
    })();
    this.barrier = move;
    return move;
  }

  /** Settles once pending directory work (creation, rename) is done. */
  async settled(): Promise<void> {
    if (this.reservation) await this.reservation;
    if (this.barrier) await this.barrier.catch(() => undefined);
  }

  /** settled(), and no deletion of old segments in flight (a rename or destroy must not race one). */
  private async quiet(): Promise<void> {
    await this.settled();
    if (this.deleting) await this.deleting.catch(() => undefined);
  }

  /**
   * Opens a recovered stream directory: `segments` and `end` come from recoverStream()'s report. The active
   * (last) segment is mapped before this resolves, so the first appends go straight into the map.
   */
  static async open(dir: string, opts: StreamLogOptions, segments: readonly ExistingSegment[], end: number): Promise<StreamLog> {
    const log = new StreamLog(dir, opts, end);
    await log.loadLogId();
    for (const s of segments) log.slots.push({ base: s.base, planned: s.size, seg: null, exists: true });
    const last = log.slots[log.slots.length - 1];
    if (!last) {
      log.slots.push({ base: end, planned: log.initialSize, seg: null, exists: false });
    } else if (last.planned === 0 || last.planned <= end - last.base) {
      if (last.planned === 0) last.planned = log.initialSize;
      else log.sealAndRoll(last, 0); // full: next appends go to a new segment
    }
    // Map the older (sealed) segments too: recovery replays entries by reading them here and the entry store
    // serves reads synchronously from the mapping (read() returns null for an unmapped segment). Without this a
    // stream that had rolled over to a second segment failed start-up ("reading 'readUInt32LE' of null").
    for (const s of log.slots) {
      if (s.exists && !s.seg && s !== log.slots[log.slots.length - 1]) {
        s.seg = await log.cache.withOpenSlot(() => Segment.open(log.slotPath(s), s.base));
        log.cache.use(s.seg, log.canEvict);
      }
    }
    // Reserving ahead of need is optional: on a full disk the log opens short of room (writes wait for theirs).
    await log.reserveLoop();
    if (log.reserveError) throw log.reserveError;
    return log;
  }

  /** Next append position (= logical end of the data). */
  get end(): number {
    return this.endPos;
  }

  /**
   * Record bytes appended since this process opened the log (metrics: spool_bytes_appended_total). Derived from
   * the end position, less the segment tails skipped when rolling over, so appends pay nothing for it.
   */
  get appendedBytes(): number {
    return this.endPos - this.openedAt - this.skippedBytes;
  }

  get segmentCount(): number {
    return this.slots.length;
  }

  /** Segment files on disk: the created segments and the spare reserved ahead. */
  get fileCount(): number {
    let n = this.spare ? 1 : 0;
    for (const s of this.slots) if (s.exists) n++;
    return n;
  }

  /** Bytes of the segment files on disk (reserved in full: a segment's file is its whole capacity). */
  get diskBytes(): number {
    let n = this.spare ? this.spare.capacity : 0;
    for (const s of this.slots) if (s.exists) n += s.seg ? Math.max(s.seg.capacity, s.planned) : s.planned;
    return n;
  }

  /** Paths and bases of the segment files holding the log (oldest first; not the spare reserved ahead). */
  segmentFiles(): { path: string; base: number }[] {
    return this.slots.filter((s) => s.exists).map((s) => ({ path: this.slotPath(s), base: s.base }));
  }

  /** Base positions of the segment files (oldest first). */
  segmentBases(): number[] {
    return this.slots.map((s) => s.base);
  }

  /** The mapping of the segment at `base`, or null when it is not mapped now (index snapshots checksum it). */
  segmentMap(base: number): Buffer | null {
    const seg = this.slots.find((s) => s.base === base)?.seg;
    return seg && !seg.closed ? seg.map : null;
  }

  // ---- appending -----------------------------------------------------------------------------------------------

  /**
   * Appends an ENTRY record whose field/value items are args[from..to) (Buffers straight from the request).
   * The ID parts are bigints, or Numbers when below 2^53 (written without bigint arithmetic).
   * Returns its position; `lastTicket` is the durability ticket of the batch it joined.
   * Throws StorageError when writes are refused (sticky write error, or no space could be reserved).
   */
  appendEntry(ms: bigint | number, seq: bigint | number, args: readonly Uint8Array[], from = 0, to = args.length, flags = 0): number {
    const size = entryRecordSize(args, from, to);
    this.joinBatch();
    const pos = this.place(size);
    this.lastRecordPos = pos;
    encodeEntryInto(this.wbuf, this.woff, ms, seq, args, from, to, flags);
    this.afterWrite(size);
    return pos;
  }

  /** Appends any other record (opaque payload). Returns its position. */
  appendRecord(type: number, payload: Uint8Array, flags = 0): number {
    const size = HEADER_SIZE + payload.length;
    this.joinBatch();
    const pos = this.place(size);
    this.lastRecordPos = pos;
    encodeRecordInto(this.wbuf, this.woff, type, flags, payload);
    this.afterWrite(size);
    return pos;
  }

  /** Position of the last record appended, and the command (batcher.command; -1: none) that appended it. */
  private lastRecordPos = -1;
  private lastRecordCommand = -1;

  /**
   * All or nothing per command: when the same command (or EXEC) appends a second record to this log, the one
   * before it gets FLAG_BATCH_CONTINUES, so recovery keeps the command's records whole or drops them whole.
   * Called before place(), which sets wbuf/woff for the new record (locate() moves woff).
   */
  private joinBatch(): void {
    const command = this.batcher.inCommand ? this.batcher.command : -1;
    if (command === this.lastRecordCommand && command !== -1 && this.lastRecordPos >= 0) {
      const buf = this.locate(this.lastRecordPos);
      if (buf !== null) {
        setRecordFlags(buf, this.woff, buf[this.woff + 5] | FLAG_BATCH_CONTINUES);
        if (io.observer !== null && buf !== this.staging) this.reportMapped(this.lastRecordPos, buf, HEADER_SIZE);
      }
    }
    this.lastRecordCommand = command;
  }

  private afterWrite(size: number): void {
    const seg = this.wseg;
    if (seg) {
      if (io.observer !== null) io.observer.wrote(seg.fd, this.woff, this.wbuf, this.woff, this.woff + size);
      if (this.batcher.policyFor(this) !== 'no') {
        seg.dirty = true;
        this.dirtySegs.add(seg);
      }
      // reserve ahead of need once the segment is half full
      if (!this.reserving && this.woff + size > seg.capacity >>> 1) this.kickReserve();
      // Short (SpaceWatch) once the room ahead falls below the low-water mark: one subtraction per append.
      if (!this.short && seg.capacity - (this.woff + size) < this.initialSize >>> 1 && this.room() < this.initialSize >>> 1) this.markShort(true);
    }
    this.lastTicket = this.batcher.touch(this, seg !== null);
  }

  /** Reports to the I/O observer the `length` bytes at `pos` written in place in `map` (its segment's mapping). */
  private reportMapped(pos: number, map: Buffer, length: number): void {
    const s = this.slots[this.slotIndexOf(pos)];
    if (s.seg !== null) io.observer!.wrote(s.seg.fd, pos - s.base, map, pos - s.base, pos - s.base + length);
  }

  /** Chooses where a record of `size` bytes goes; sets wbuf/woff/wseg (wseg null when staged). */
  private place(size: number): number {
    const err = this.batcher.writeError;
    if (err) throw err;
    if (this.closing) throw new StorageError('stream log is closed', 'ECLOSED');
    let a = this.slots[this.slots.length - 1];
    if (this.runs.length === 0) {
      let seg = a.seg;
      let off = this.endPos - a.base;
      if (seg && !seg.closed && seg.map && off + size > seg.capacity && this.spare && a.planned === seg.capacity) {
        if (this.spare.base === a.base + a.planned && size <= this.spare.capacity) {
          // roll into the reserved spare
          a = { base: this.spare.base, planned: this.spare.capacity, seg: this.spare, exists: true };
          this.slots.push(a);
          this.spare = null;
          this.skipTo(a.base);
          seg = a.seg;
          off = 0;
        }
      }
      if (seg && !seg.closed && seg.map && off + size <= seg.capacity) {
        const pos = this.endPos;
        this.endPos += size;
        this.wbuf = seg.map;
        this.woff = off;
        this.wseg = seg;
        return pos;
      }
    }
    // slow path: the bytes are staged until the reservation catches up
    if (this.reserveError) throw this.reserveError;
    let off = this.endPos - a.base;
    if (off + size > a.planned) {
      if (a.planned < this.maxSize || off === 0) {
        let want = Math.max(a.planned, this.initialSize);
        while (off + size > want && want < this.maxSize) want *= 2;
        if (off + size > want && off === 0) want = Math.ceil(size / PAGE) * PAGE; // oversized record
        if (off + size <= want) a.planned = want;
      }
      if (off + size > a.planned) {
        a = this.sealAndRoll(a, size);
        off = 0;
      }
    }
    const pos = a.base + off;
    this.endPos = pos + size;
    this.stage(pos, size);
    this.kickReserve();
    return pos;
  }

  /** Seals `a` (no more growth) and opens a new slot after it, planned to hold at least `size` bytes. */
  private sealAndRoll(a: Slot, size: number): Slot {
    const base = a.base + a.planned;
    let next: Slot;
    if (this.spare && this.spare.base === base) {
      next = { base, planned: Math.max(this.spare.capacity, size), seg: this.spare, exists: true };
      this.spare = null;
    } else {
      // a stream that filled a max-size segment is busy: its next segment starts at max size
      const planned = Math.max(this.maxSize, Math.ceil(size / PAGE) * PAGE);
      next = { base, planned, seg: null, exists: false };
    }
    this.slots.push(next);
    this.skipTo(base);
    return next;
  }

  /** Moves the end past the unused tail of a sealed segment (those bytes hold no record). */
  private skipTo(pos: number): void {
    const sealed = this.slots[this.slots.length - 2];
    if (sealed) sealed.dataEnd = this.endPos;
    this.skippedBytes += pos - this.endPos;
    this.endPos = pos;
  }

  private stage(pos: number, size: number): void {
    this.markShort(true); // staged records have no room: checked writes wait for the reservation
    this.stagedBytes += size;
    if (this.stagingUsed + size > this.staging.length) {
      const grown = Buffer.allocUnsafe(Math.max(64 * 1024, (this.stagingUsed + size) * 2));
      this.staging.copy(grown, 0, 0, this.stagingUsed);
      this.staging = grown;
    }
    const last = this.runs[this.runs.length - 1];
    if (last && last.pos + last.len === pos) last.len += size;
    else this.runs.push({ pos, off: this.stagingUsed, len: size });
    this.wbuf = this.staging;
    this.woff = this.stagingUsed;
    this.wseg = null;
    this.stagingUsed += size;
  }

  // ---- CommitTarget --------------------------------------------------------------------------------------------

  whenLanded(): Promise<void> | null {
    if (this.runs.length === 0) return null;
    if (!this.landPromise) this.landPromise = new Promise((resolve) => this.landWaiters.push(resolve));
    return this.landPromise;
  }

  /**
   * Adds the bytes appended since the last call that are in the map (staged ones wait for a later commit) to
   * the commit journal's `frame`. Segments it cannot copy from (evicted: their final sync is running) and
   * ranges too large for a frame go to `direct`, synced by the commit itself.
   */
  journalInto(frame: JournalFrame, direct: Set<Syncable>): void {
    const from = this.journaledTo;
    const to = this.runs.length > 0 ? this.runs[0].pos : this.endPos;
    if (to <= from) return;
    this.journaledTo = to;
    const id = this.logId;
    if (id === null || !this.logIdDurable || to - from > MAX_JOURNALED_RANGE) {
      // e.g. a stream that just entered `always` after a long time under everysec: its segments are synced.
      for (const s of this.dirtySegs) direct.add(s);
      return;
    }
    const slots = this.slots;
    for (let i = this.slotIndexOf(from); i < slots.length; i++) {
      const s = slots[i];
      if (s.base >= to) break;
      const a = Math.max(from, s.base);
      const b = Math.min(to, s.dataEnd ?? to);
      if (b <= a) continue;
      const seg = s.seg;
      if (seg === null) continue;
      if (seg.closed || seg.map === null) direct.add(seg);
      else frame.add(id, s.base, a - s.base, seg.map, a - s.base, b - s.base);
    }
  }

  takeDirty(): Syncable[] {
    if (this.dirtySegs.size === 0) return [];
    const out = [...this.dirtySegs];
    this.dirtySegs.clear();
    for (const s of out) s.dirty = false;
    return out;
  }

  // ---- reservation ---------------------------------------------------------------------------------------------

  private kickReserve(): void {
    if (this.reserving || this.closing) return;
    this.reservation = this.reserveLoop();
  }

  private slotPath(s: { base: number }): string {
    return path.join(this.dir, segmentFileName(s.base));
  }

  private async ensureMapped(s: Slot): Promise<Segment> {
    if (!s.seg && !s.exists && this.spare && this.spare.base === s.base) {
      // rolled while the spare was being created: adopt it
      s.seg = this.spare;
      s.exists = true;
      this.spare = null;
    }
    if (!s.seg || s.seg.closed) {
      const created = !s.exists;
      s.seg = await this.cache.withOpenSlot(() =>
        created ? Segment.create(this.slotPath(s), s.base, s.planned, this.batcher.policyFor(this) === 'always') : Segment.open(this.slotPath(s), s.base),
      );
      s.exists = true;
      this.cache.use(s.seg, this.canEvict);
      if (created) s.nameUnsynced = true;
    }
    if (s.nameUnsynced) {
      // The new file's name is durable before any record in it is acknowledged (retried if this fails).
      await this.cache.withOpenSlot(() => syncDir(this.dir), false);
      s.nameUnsynced = false;
    }
    if (s.seg.capacity < s.planned) await s.seg.grow(s.planned);
    return s.seg;
  }

  /**
   * Runs reservations until nothing is staged, a waiting write has its room, and the space ahead of need is
   * reserved. The first two are required (their failure is reserveError); the last is not: on a full disk it
   * stops and leaves the log short.
   */
  private async reserveLoop(): Promise<void> {
    if (this.reserving) return;
    this.reserving = true;
    // The move in progress as this loop starts (it waits for the earlier ones): waited for before the directory is
    // touched. A move started later waits for this loop (moveTo), so it is not waited for here: that would
    // deadlock the log (both waiting, its staged records never landing).
    const barrier = this.barrier;
    // Short only if the room ahead is below the low-water mark now (staged records have none): a reservation
    // ahead of need, started with half a segment left, must not send every command to the slow check.
    this.markShort(this.reserveError !== null || this.room() < this.initialSize >>> 1);
    let ahead: boolean | null = true;
    /** A required reservation (staged records, a waiting write) succeeded in this run. */
    let served = false;
    try {
      // A directory being created or renamed is not touched until that is done.
      if (this.prepare) {
        await this.cache.withOpenSlot(this.prepare, false);
        this.prepare = null;
      }
      if (barrier) {
        await barrier.catch(() => undefined);
        if (this.barrier === barrier) this.barrier = null;
      }
      for (;;) {
        if (this.closing && this.runs.length === 0) break;
        if (this.runs.length > 0) {
          // the segments the staged runs go to, in order
          const first = this.slotIndexOf(this.runs[0].pos);
          const last = this.slots.length - 1;
          for (let i = first; i < last; i++) await this.ensureMapped(this.slots[i]);
          await this.ensureMappedAtLeast(this.slots[last], 0);
          this.land();
          served = true;
          continue;
        }
        const a = this.slots[this.slots.length - 1];
        if (this.wanted > 0) {
          if (!this.fits(this.wanted)) await this.reserveWanted(a, this.wanted);
          this.wanted = 0;
          served = true;
          continue;
        }
        ahead = await this.reserveAhead(a);
        // a write that asked for room (or staged) meanwhile is served before the loop ends
        if (!ahead && this.wanted === 0 && this.runs.length === 0) break;
      }
      this.reserveError = null;
      // Still failing while the disk refuses even what is optional and no required reservation got through.
      if (served || ahead !== null) this.markFailing(false);
      this.batcher.stall(this, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? 'EIO';
      this.reserveError = new StorageError(
        code === 'ENOSPC' ? 'No space left on device' : `cannot reserve segment space: ${(e as Error).message}`,
        code,
        e,
      );
      this.wanted = 0;
      this.markFailing(!this.closing);
      // Staged records that cannot land hold their batch (and every later one): refuse writes meanwhile.
      if (this.runs.length > 0) this.batcher.stall(this, this.reserveError);
      if (!this.closing) this.setTimer(this.retryMs, () => this.kickReserve());
    } finally {
      this.reserving = false;
      this.markShort(!this.closing && (this.reserveError !== null || this.room() < this.initialSize >>> 1));
      // Ahead of need was refused (full disk): tried again later, so the log stops being short by itself.
      if (ahead === null && !this.closing && this.reserveError === null) this.setTimer(this.retryMs, () => this.kickReserve());
    }
  }

  /**
   * One step of reserving ahead of need: maps the active segment, doubles it once half full, or creates the spare
   * next one at max size. True: a step was made; false: nothing more to do; null: the disk has no room for it.
   */
  private async reserveAhead(a: Slot): Promise<boolean | null> {
    try {
      const seg = a.seg;
      if (!seg || seg.closed || seg.capacity < a.planned) {
        if (!a.exists && !(await this.diskHas(a.planned))) return null;
        await this.ensureMapped(a);
        return true;
      }
      const used = this.endPos - a.base;
      if (used <= seg.capacity >>> 1) return false;
      if (a.planned < this.maxSize) {
        const planned = Math.min(this.maxSize, a.planned * 2);
        if (!(await this.diskHas(planned - seg.capacity))) return null;
        a.planned = Math.max(a.planned, planned); // appends staged meanwhile may have planned more
        await this.ensureMapped(a);
        return true;
      }
      if (this.spare) return false;
      if (!(await this.diskHas(this.maxSize))) return null;
      await this.createSpare(a.base + a.planned, this.maxSize);
      return true;
    } catch (e) {
      if (!isNoSpace(e)) throw e;
      this.unplan(a);
      return null;
    }
  }

  /**
   * Whether an optional reservation of `bytes` may be made: it takes at most half of what the file system has
   * free, so the last free blocks stay for what writes need (and zero-filling does not run into ENOSPC).
   */
  private async diskHas(bytes: number): Promise<boolean> {
    try {
      const fs = await fsp.statfs(this.dir);
      return fs.bavail * fs.bsize >= 2 * bytes;
    } catch {
      return true; // no answer: try, and let the reservation say
    }
  }

  /** Reserves room for one write of `size` bytes after the end: as usual if the disk has it, else just that. */
  private async reserveWanted(a: Slot, size: number): Promise<void> {
    const off = this.endPos - a.base;
    try {
      if (off + size <= this.maxSize || off === 0) {
        let want = Math.max(a.planned, this.initialSize);
        while (off + size > want && want < this.maxSize) want *= 2;
        a.planned = Math.max(want, roundToPage(off + size));
        await this.ensureMappedAtLeast(a, size);
      } else if (!this.spare) {
        const base = a.base + a.planned;
        await this.createSpare(base, Math.max(this.maxSize, roundToPage(size))).catch((e: unknown) => {
          if (!isNoSpace(e)) throw e;
          return this.createSpare(base, roundToPage(size));
        });
      }
    } catch (e) {
      this.unplan(a);
      throw e;
    }
    if (!this.fits(size)) throw new StorageError(`cannot reserve ${size} bytes of segment space`, 'ENOSPC');
  }

  /**
   * ensureMapped(s); on a full disk, the last slot's reservation shrinks to what is placed in it plus `extra`
   * bytes (page-rounded), and is tried once more.
   */
  private async ensureMappedAtLeast(s: Slot, extra: number): Promise<void> {
    try {
      await this.ensureMapped(s);
    } catch (e) {
      // read now, not before the await: appends may have been staged meanwhile
      const floor = Math.max(roundToPage(this.endPos - s.base + extra), s.seg && !s.seg.closed ? s.seg.capacity : 0);
      if (!isNoSpace(e) || s !== this.slots[this.slots.length - 1] || floor >= s.planned) throw e;
      s.planned = floor;
      await this.ensureMapped(s);
    }
  }

  /**
   * After a failed reservation of the last slot with nothing staged, its plan goes back to what is reserved
   * (no position was given past it; a sealed slot's plan is where the next one starts, so it stays).
   */
  private unplan(a: Slot): void {
    if (a !== this.slots[this.slots.length - 1] || this.runs.length > 0 || !a.seg || a.seg.closed) return;
    if (a.planned > a.seg.capacity) a.planned = a.seg.capacity;
  }

  /** Creates the spare next segment at `base` (its name durable before any record goes in). */
  private async createSpare(base: number, capacity: number): Promise<void> {
    const spare = await this.cache.withOpenSlot(() => Segment.create(this.slotPath({ base }), base, capacity));
    await syncDir(this.dir);
    this.cache.use(spare, this.canEvict);
    this.spare = spare;
  }

  private markShort(short: boolean): void {
    if (short === this.short) return;
    this.short = short;
    if (this.space) this.space.short += short ? 1 : -1;
  }

  private markFailing(failing: boolean): void {
    if (failing === this.failing) return;
    this.failing = failing;
    if (!this.space) return;
    this.space.failing += failing ? 1 : -1;
    if (failing && this.reserveError) this.space.failingCode = this.reserveError.code;
  }

  /** Bytes one append can take now without staging: the active segment's tail, or the spare after it. */
  private room(): number {
    if (this.runs.length > 0 || this.closing) return 0;
    const a = this.slots[this.slots.length - 1];
    const seg = a.seg;
    if (!seg || seg.closed || !seg.map) return 0;
    const tail = seg.capacity - (this.endPos - a.base);
    const spare = this.spare;
    const next = spare !== null && a.planned === seg.capacity && spare.base === a.base + a.planned ? spare.capacity : 0;
    return Math.max(tail, next);
  }

  /** Whether an append of `size` bytes goes straight into the mapping now. */
  fits(size: number): boolean {
    return this.room() >= size;
  }

  /**
   * Before a write of at most `size` bytes (the server calls this only while the log may be short): null when it
   * fits now; the reservation error when the last try failed (the write is refused with MISCONF); else a promise
   * that settles once room for `size` bytes was reserved or the try failed (then ask again).
   */
  whenRoomFor(size: number): Promise<void> | StorageError | null {
    if (this.closing || this.fits(size)) return null;
    if (this.reserveError !== null && !this.reserving) return this.reserveError;
    this.wanted = Math.max(this.wanted, size);
    this.kickReserve();
    return this.reservation ?? null;
  }

  /** Copies staged runs into their segments' maps, in order; resolves landing waiters when none is left. */
  private land(): void {
    while (this.runs.length > 0) {
      const r = this.runs[0];
      const s = this.slots[this.slotIndexOf(r.pos)];
      const seg = s.seg;
      const off = r.pos - s.base;
      if (!seg || seg.closed || !seg.map || off + r.len > seg.capacity) return;
      this.staging.copy(seg.map, off, r.off, r.off + r.len);
      if (io.observer !== null) io.observer.wrote(seg.fd, off, seg.map, off, off + r.len);
      if (this.batcher.policyFor(this) !== 'no') {
        seg.dirty = true;
        this.dirtySegs.add(seg);
      }
      this.runs.shift();
    }
    // a fresh buffer next time: views handed out by read() of staged records stay valid
    this.staging = Buffer.alloc(0);
    this.stagingUsed = 0;
    const waiters = this.landWaiters;
    this.landWaiters = [];
    this.landPromise = null;
    for (const w of waiters) w();
  }

  // ---- reading -------------------------------------------------------------------------------------------------

  private slotIndexOf(pos: number): number {
    const slots = this.slots;
    let lo = 0;
    let hi = slots.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (slots[mid].base <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** Base of the segment holding `pos`. */
  segmentOf(pos: number): number {
    return this.slots[this.slotIndexOf(pos)].base;
  }

  /**
   * The record at `pos`: a zero-copy view of its payload (mapping or staging buffer), or null when its segment
   * is not mapped right now (evicted by the LRU): `await load(pos)` and read again. The view stays valid after
   * eviction (it keeps the mapping alive); `recordTypeAt` gives the type.
   */
  /** Offset of the payload found by the last payloadAt() in the buffer it returned. */
  payloadOffset = 0;

  /**
   * The buffer holding the payload of the record at `pos` (the mapping, or the staging buffer), its offset in
   * payloadOffset; null when the segment is not mapped. read() without the view: for readers that walk the
   * payload's bytes themselves.
   */
  payloadAt(pos: number): Buffer | null {
    const buf = this.locate(pos);
    if (!buf) return null;
    this.payloadOffset = this.woff + HEADER_SIZE;
    return buf;
  }

  read(pos: number): Buffer | null {
    const buf = this.locate(pos);
    if (!buf) return null;
    const len = buf.readUInt32LE(this.woff);
    return buf.subarray(this.woff + HEADER_SIZE, this.woff + HEADER_SIZE + len);
  }

  /** Type of the record at `pos` (0 if its segment is not mapped). */
  recordTypeAt(pos: number): number {
    const buf = this.locate(pos);
    return buf ? buf[this.woff + 4] : 0;
  }

  private locate(pos: number): Buffer | null {
    if (this.runs.length > 0 && pos >= this.runs[0].pos) {
      for (const r of this.runs) {
        if (pos >= r.pos && pos < r.pos + r.len) {
          this.woff = r.off + (pos - r.pos);
          return this.staging;
        }
      }
    }
    const s = this.slots[this.slotIndexOf(pos)];
    const seg = s.seg;
    if (!seg || seg.closed || !seg.map || pos < s.base) return null;
    this.woff = pos - s.base;
    if (this.woff >= seg.capacity) return null;
    this.cache.use(seg, this.canEvict);
    return seg.map;
  }

  /** Whether every segment file is open and mapped (reads of any record succeed without waiting). */
  get fullyMapped(): boolean {
    for (const s of this.slots) if (s.exists && (!s.seg || s.seg.closed)) return false;
    return true;
  }

  /** Opens and maps every segment the LRU closed (thread pool), so reads of the whole stream succeed. */
  mapAll(): Promise<void> {
    this.mappingAll ??= (async () => {
      try {
        for (const s of [...this.slots]) {
          if (!s.exists || (s.seg && !s.seg.closed)) continue;
          const seg = await this.cache.withOpenSlot(() => Segment.open(this.slotPath(s), s.base));
          if ((s.seg && !s.seg.closed) || !this.slots.includes(s)) {
            void seg.close(); // mapped by the write path meanwhile, or deleted
            continue;
          }
          s.seg = seg;
          this.cache.use(seg, this.canEvict);
        }
      } finally {
        this.mappingAll = null;
      }
    })();
    return this.mappingAll;
  }

  private mappingAll: Promise<void> | null = null;

  /** Maps the segment holding `pos` (thread pool open); then read(pos) succeeds. */
  async load(pos: number): Promise<void> {
    const s = this.slots[this.slotIndexOf(pos)];
    if (!s.seg || s.seg.closed) {
      s.seg = await this.cache.withOpenSlot(() => Segment.open(this.slotPath(s), s.base));
      this.cache.use(s.seg, this.canEvict);
    }
  }

  // ---- deleting and closing ------------------------------------------------------------------------------------

  /** Whether whole segment files lie before `pos` (they can be deleted once nothing before `pos` is needed). */
  hasWholeSegmentsBefore(pos: number): boolean {
    return this.segmentOf(pos) > this.slots[0].base;
  }

  /**
   * Lands staged records and fdatasyncs every open segment, whatever the policy: a checkpoint must be on disk
   * before the segments it replaces are deleted.
   */
  async syncAll(): Promise<void> {
    const landed = this.whenLanded();
    if (landed) await landed;
    for (const s of this.slots) if (s.seg && !s.seg.closed) await s.seg.sync();
  }

  /** A deletion of old segments in progress (a rename or destroy waits for it). */
  private deleting: Promise<number> | null = null;

  /**
   * Deletes every whole segment that ends at or before `pos` (trimmed away), never the active one. Returns how
   * many files were removed. The caller has made a checkpoint durable first (their records are not replayed).
   */
  deleteBefore(pos: number): Promise<number> {
    const run = (async () => {
      await this.settled();
      let n = 0;
      while (!this.closing && this.slots.length > 1 && this.slots[0].base + this.slots[0].planned <= pos && this.slots[1].base <= pos) {
        const s = this.slots.shift()!;
        if (s.seg) {
          this.cache.forget(s.seg);
          this.dirtySegs.delete(s.seg);
          await s.seg.close();
        }
        await unlinkFile(this.slotPath(s)).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
        n++;
      }
      if (n) await syncDir(this.dir);
      return n;
    })();
    this.deleting = run;
    void run.catch(() => undefined).then(() => {
      if (this.deleting === run) this.deleting = null;
    });
    return run;
  }

  /** Waits for staged bytes to land, then closes every segment (the caller drains the batcher first). */
  async close(): Promise<void> {
    const p = this.whenLanded();
    if (p) await p;
    this.closing = true;
    this.markShort(false);
    this.markFailing(false);
    const segs = this.slots.map((s) => s.seg).concat(this.spare);
    for (const s of segs) {
      if (!s) continue;
      this.cache.forget(s);
      await s.close();
    }
    this.spare = null;
  }

  /** Closes and removes the stream's directory (DEL of the key). */
  async destroy(): Promise<void> {
    // Staged records of a deleted stream will never land: release whoever waits for them (the batcher's
    // commit), or every later batch of the server would wait forever.
    this.runs = [];
    const waiters = this.landWaiters;
    this.landWaiters = [];
    this.landPromise = null;
    for (const w of waiters) w();
    await this.quiet();
    await this.close();
    await removeTree(this.dir);
    await syncDirShared(path.dirname(this.dir)).catch(() => undefined);
  }
}
