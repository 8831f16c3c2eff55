// The EntryStore of a persisted stream: entries are ENTRY records in the stream's mapped segment log, and the
// index points at them by log position (split over the index's two 32-bit columns). Reads are zero-copy views
// of the mapping. During recovery the entry is already in the log: `replayAt` makes the next append adopt it.

import { ENTRY_ITEMS_OFFSET, StorageError, type StreamLog, forEachEntryItem } from '../storage';
import { CommandError, Err } from '../errors';
import type { EntryStore } from './entryStore';
import type { StreamId } from './streamId';

const TWO_32 = 2 ** 32;

export class DurableEntryStore implements EntryStore {
  lastSegment = 0;
  lastOffset = 0;
  /** Log end right after this stream's last checkpoint (-1: none): nothing was written since when equal. */
  checkpointEnd = -1;
  /** Position of a recovered entry the next append() takes instead of writing (-1: write normally). */
  private replayPosition = -1;

  constructor(
    readonly log: StreamLog,
    /** Told the durability ticket each write depends on (the server holds the reply until it is durable). */
    private readonly onWrite: (ticket: number) => void,
    private readonly onDestroy: (log: StreamLog) => void,
    /** Whole segments are behind the first entry still needed: time for a checkpoint. */
    private readonly onReleasable: () => void = () => undefined,
  ) {}

  /** Log position of a location given as (segment, offset) words. */
  static position(segment: number, offset: number): number {
    return segment * TWO_32 + offset;
  }

  replayAt(position: number): void {
    this.replayPosition = position;
  }

  append(ms: bigint | number, seq: bigint | number, fields: Buffer[]): void {
    let position = this.replayPosition;
    if (position >= 0) {
      this.replayPosition = -1;
    } else {
      try {
        position = this.log.appendEntry(ms, seq, fields);
      } catch (err) {
        // Nothing was written and the stream is unchanged: the client gets Redis's AOF error text.
        if (err instanceof StorageError) throw new CommandError(Err.misconf(err.code));
        throw err;
      }
      this.onWrite(this.log.lastTicket);
    }
    this.lastSegment = Math.floor(position / TWO_32);
    this.lastOffset = position % TWO_32;
  }

  itemsOffset = 0;

  itemsAt(segment: number, offset: number): Buffer {
    const buf = this.log.payloadAt(segment * TWO_32 + offset);
    if (buf === null) throw new CommandError(Err.segmentUnavailable);
    this.itemsOffset = this.log.payloadOffset + ENTRY_ITEMS_OFFSET;
    return buf;
  }

  read(segment: number, offset: number): Buffer[] {
    const payload = this.log.read(segment * TWO_32 + offset);
    // Commands run once the segments of their streams are mapped (Persistence.whenMapped); null here means that
    // mapping failed (out of file descriptors): the command fails, the server goes on.
    if (payload === null) throw new CommandError(Err.segmentUnavailable);
    const items: Buffer[] = [];
    forEachEntryItem(payload, (item) => items.push(item));
    return items;
  }

  deleted(): void {
    // Deletions are recorded by the commands that made them (see changeRecords.ts).
  }

  /**
   * Entries before (segment, offset) are gone. Besides entries, old segments hold change records that
   * recovery would replay, so they are not deleted here: once a whole segment is behind the first entry still
   * needed, the owner is told, writes a checkpoint, and deletes them (see Persistence.compact).
   */
  releaseBefore(segment: number, offset: number): void {
    const position = segment * TWO_32 + offset;
    if (this.log.hasWholeSegmentsBefore(position)) this.onReleasable();
  }

  /** Bytes on disk: the stream's segment files (old ones are deleted behind checkpoints, so not log.end). */
  get bytes(): number {
    return this.log.diskBytes;
  }

  destroy(): void {
    this.onDestroy(this.log);
  }
}
