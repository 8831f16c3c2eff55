// The replication backlog: the last repl-backlog-size bytes of the replication stream in a ring buffer, so a
// replica that lost its link can resume from its offset (PSYNC +CONTINUE) instead of a full resynchronization.
// Offsets are those of the stream (master_repl_offset), as Redis's replicationFeedSlaves keeps them.

export class ReplicationBacklog {
  private buffer: Buffer;
  /** Where the next byte goes in `buffer`. */
  private index = 0;
  /** Bytes held (at most the buffer's size). */
  private held = 0;

  /** `offset`: the stream offset of the last byte already produced (the next byte is offset + 1). */
  constructor(
    size: number,
    public offset: number,
  ) {
    this.buffer = Buffer.alloc(size);
  }

  get size(): number {
    return this.buffer.length;
  }

  /** Bytes currently held (INFO repl_backlog_histlen). */
  get histlen(): number {
    return this.held;
  }

  /** Stream offset of the first byte held (INFO repl_backlog_first_byte_offset). */
  get firstByteOffset(): number {
    return this.offset - this.held + 1;
  }

  append(bytes: Buffer): void {
    this.offset += bytes.length;
    const size = this.buffer.length;
    // Only the last `size` bytes can stay.
    const src = bytes.length > size ? bytes.subarray(bytes.length - size) : bytes;
    const first = Math.min(src.length, size - this.index);
    src.copy(this.buffer, this.index, 0, first);
    if (first < src.length) src.copy(this.buffer, 0, first);
    this.index = (this.index + src.length) % size;
    this.held = Math.min(size, this.held + bytes.length);
  }

  /**
   * The bytes after stream offset `from` (a replica's PSYNC offset is the next byte it wants: `from` is that
   * minus one), or null when they are no longer (or not yet) all held.
   */
  since(next: number): Buffer | null {
    if (next < this.firstByteOffset || next > this.offset + 1) return null;
    const count = this.offset + 1 - next;
    const out = Buffer.allocUnsafe(count);
    const size = this.buffer.length;
    const start = (this.index - count + size) % size;
    const first = Math.min(count, size - start);
    this.buffer.copy(out, 0, start, start + first);
    if (first < count) this.buffer.copy(out, first, 0, count - first);
    return out;
  }

  /** repl-backlog-size changed: keeps the newest bytes that fit. */
  resize(size: number): void {
    if (size === this.buffer.length) return;
    const kept = this.since(this.offset + 1 - Math.min(this.held, size)) ?? Buffer.alloc(0);
    const base = this.offset - kept.length;
    this.buffer = Buffer.alloc(size);
    this.index = 0;
    this.held = 0;
    this.offset = base;
    this.append(kept);
  }
}
