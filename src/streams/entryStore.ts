// Where entry bytes live. The Stream talks to its entries only through this small interface, so the in-memory
// chunks below can be replaced by memory-mapped segment files with checksummed records without touching the
// stream logic: an entry is addressed by (segment, offset), reads return views (no copies), deletions and
// trims are announced so a log can record them, and whole segments behind the first retained entry go away.
//
// Record layout inside a segment (little endian): u32 item count (2 x fields), then per item u32 length and
// the bytes.

import type { StreamId } from './streamId';

export interface EntryStore {
  /**
   * Appends the entry with ID ms-seq (each part a bigint, or a Number below 2^53); its location is then in
   * lastSegment/lastOffset (no object per append).
   */
  append(ms: bigint | number, seq: bigint | number, fields: Buffer[]): void;
  readonly lastSegment: number;
  readonly lastOffset: number;
  /** The entry's [field, value, ...] as views into the segment. */
  read(segment: number, offset: number): Buffer[];
  /**
   * The bytes holding the entry's items, for readers that copy them straight into a reply: at `itemsOffset`
   * (set by this call) a u32 LE item count, then per item a u32 LE length and the bytes.
   */
  itemsAt(segment: number, offset: number): Buffer;
  readonly itemsOffset: number;
  /** An entry was deleted (XDEL) or flagged by exact trimming; the bytes stay until their segment goes. */
  deleted(id: StreamId): void;
  /** Every entry located before (segment, offset) is gone: release what holds only them. */
  releaseBefore(segment: number, offset: number): void;
  /** Bytes held: in memory for the in-memory store, the segment files for the durable one (INFO, metrics). */
  readonly bytes: number;
  destroy(): void;
}

const FIRST_CHUNK = 16 * 1024;
const MAX_CHUNK = 8 * 1024 * 1024;

/** Append-only Buffer chunks that grow by doubling up to MAX_CHUNK, then a new chunk per MAX_CHUNK. */
export class MemoryEntryStore implements EntryStore {
  /** chunks[i] is segment firstSegment + i; released ones are dropped from the front. */
  private chunks: Buffer[] = [];
  private firstSegment = 0;
  private used = 0;
  private nextSize = FIRST_CHUNK;
  lastSegment = 0;
  lastOffset = 0;
  bytes = 0;

  append(_ms: bigint | number, _seq: bigint | number, fields: Buffer[]): void {
    let need = 4;
    for (let i = 0; i < fields.length; i++) need += 4 + fields[i].length;
    let chunk = this.chunks.length > 0 ? this.chunks[this.chunks.length - 1] : null;
    if (chunk === null || this.used + need > chunk.length) {
      let size = this.nextSize;
      if (size < MAX_CHUNK) this.nextSize = size * 2;
      if (size < need) size = need;
      chunk = Buffer.allocUnsafe(size);
      this.chunks.push(chunk);
      this.bytes += size;
      this.used = 0;
    }
    let p = this.used;
    this.lastSegment = this.firstSegment + this.chunks.length - 1;
    this.lastOffset = p;
    chunk.writeUInt32LE(fields.length, p);
    p += 4;
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      chunk.writeUInt32LE(f.length, p);
      p += 4;
      f.copy(chunk, p);
      p += f.length;
    }
    this.used = p;
  }

  itemsOffset = 0;

  itemsAt(segment: number, offset: number): Buffer {
    this.itemsOffset = offset;
    return this.chunks[segment - this.firstSegment];
  }

  read(segment: number, offset: number): Buffer[] {
    const chunk = this.chunks[segment - this.firstSegment];
    let p = offset;
    const count = chunk.readUInt32LE(p);
    p += 4;
    const out = new Array<Buffer>(count);
    for (let i = 0; i < count; i++) {
      const len = chunk.readUInt32LE(p);
      p += 4;
      out[i] = chunk.subarray(p, p + len);
      p += len;
    }
    return out;
  }

  deleted(_id: StreamId): void {
    // In memory a deletion is only the index flag.
  }

  releaseBefore(segment: number, _offset = 0): void {
    // The chunk being appended to is never released (it may be reused for the next entry).
    const drop = Math.min(segment - this.firstSegment, this.chunks.length - 1);
    if (drop <= 0) return;
    for (let i = 0; i < drop; i++) this.bytes -= this.chunks[i].length;
    this.chunks.splice(0, drop);
    this.firstSegment += drop;
  }

  destroy(): void {
    this.chunks = [];
    this.bytes = 0;
  }
}
