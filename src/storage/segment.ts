// One segment file, mapped read-write (MAP_SHARED) with @riaskov/mmap-io.
//
// Reservation: a segment's bytes are always written with zeros (on the thread pool) and fdatasync'd BEFORE they
// are mapped: writing through a mapping into a hole on a full disk is a SIGBUS, writing into allocated blocks is
// not; and the first sync of fresh zeros is slow (it flushes them), so it is paid here, not by a commit.
//
// Growth is in place: zero-fill the extension with positioned writes (which also extend the file), fdatasync,
// then map the file again at the new size and drop the old mapping. Views taken from the old mapping stay valid
// (they keep it alive; mmap-io unmaps when the Buffer is garbage collected) and see the same page-cache pages.
// Growing in place keeps one file per logical range, so file names stay the logical base offset.
//
// `capacity` is the reserved (zeroed, synced, mapped) size; data is appended by the stream log, which knows how
// much of it is used.

import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { mmap } from './mmapBinding';
import { closeFile, fsFdatasync, io, openFile, unlinkFile, writeAt } from './ioObserver';

const fsFtruncate = promisify(fs.ftruncate);
const fsFstat = promisify(fs.fstat);

const ZERO_CHUNK = Buffer.alloc(1 << 20);

/** Writes zeros to fd over [from, to) on the thread pool (extends the file when past its end). */
export async function zeroFill(fd: number, from: number, to: number): Promise<void> {
  let p = from;
  while (p < to) {
    const n = Math.min(ZERO_CHUNK.length, to - p);
    const w = await writeAt(fd, ZERO_CHUNK, 0, n, p);
    p += w;
  }
}

function mapFile(fd: number, size: number, writable: boolean): Buffer {
  const prot = writable ? mmap.PROT_READ | mmap.PROT_WRITE : mmap.PROT_READ;
  return mmap.map(size, prot, mmap.MAP_SHARED, fd, 0);
}

export class Segment {
  /** Outstanding operations using the fd (syncs, growth): the cache never closes a pinned segment. */
  pins = 0;
  /** Written since its last sync started (the batcher syncs dirty segments). */
  dirty = false;
  closed = false;

  private constructor(
    readonly path: string,
    readonly base: number,
    public fd: number,
    public map: Buffer | null,
    public capacity: number,
  ) {}

  /** Creates and reserves a new segment of `capacity` bytes (zeroed, synced, then mapped). */
  static async create(file: string, base: number, capacity: number, syncZeros = true): Promise<Segment> {
    const fd = await openFile(file, 'wx+');
    try {
      await zeroFill(fd, 0, capacity);
      // Writing the zeros allocates the blocks (what protects the mapping from SIGBUS). Syncing them now only
      // keeps that cost out of the first commit under appendfsync always; otherwise it just delays the stream.
      if (syncZeros) await fsFdatasync(fd);
      return new Segment(file, base, fd, mapFile(fd, capacity, true), capacity);
    } catch (e) {
      await closeFile(fd).catch(() => undefined);
      await unlinkFile(file).catch(() => undefined);
      throw e;
    }
  }

  /** Opens an existing segment and maps its whole file (its size is its capacity). */
  static async open(file: string, base: number, writable = true): Promise<Segment> {
    const fd = await openFile(file, writable ? 'r+' : 'r');
    try {
      const { size } = await fsFstat(fd);
      return new Segment(file, base, fd, size > 0 ? mapFile(fd, size, writable) : null, size);
    } catch (e) {
      await closeFile(fd).catch(() => undefined);
      throw e;
    }
  }

  /** Grows the reservation to `newCapacity` in place (zero-fill, sync, remap). On failure the file is cut back. */
  async grow(newCapacity: number): Promise<void> {
    if (newCapacity <= this.capacity) return;
    this.pins++;
    try {
      try {
        await zeroFill(this.fd, this.capacity, newCapacity);
        await fsFdatasync(this.fd);
      } catch (e) {
        await fsFtruncate(this.fd, this.capacity).then(() => io.observer?.truncated(this.fd, this.capacity), () => undefined);
        throw e;
      }
      this.map = mapFile(this.fd, newCapacity, true);
      this.capacity = newCapacity;
    } finally {
      this.pins--;
    }
  }

  /** fdatasync on the thread pool: persists pages dirtied through the mapping (one page cache). */
  async sync(): Promise<void> {
    // Closed by eviction with pages still unsynced: the sync that eviction started is this one.
    if (this.finalSync) return this.finalSync;
    if (this.closed) return;
    this.pins++;
    try {
      await fsFdatasync(this.fd);
    } finally {
      this.pins--;
    }
  }

  /** Zero-copy view of [offset, offset+length) of the mapping. */
  view(offset: number, length: number): Buffer {
    return this.map!.subarray(offset, offset + length);
  }

  private finalSync: Promise<void> | null = null;

  /**
   * Eviction of a segment whose pages are not synced yet: no more writes go in (closed at once), the pages
   * are synced, then the fd is closed. A later sync() (the batcher's) waits for that sync and sees its error.
   */
  syncAndClose(): Promise<void> {
    if (this.closed) return this.finalSync ?? Promise.resolve();
    this.closed = true;
    this.map = null;
    const fd = this.fd;
    this.finalSync = (async () => {
      try {
        await fsFdatasync(fd);
      } finally {
        await closeFile(fd);
      }
    })();
    return this.finalSync;
  }

  /** Closes the fd and drops the mapping (unmapped once no view references it). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.map = null;
    await closeFile(this.fd);
  }
}
