// Checkpoint records: what lets a stream's old segments be deleted.
//
// A stream's log holds its entries and the journaled commands that changed everything else (journal.ts);
// recovery replays both. Once trimming leaves whole segments behind the first entry still needed, those
// segments hold nothing but dead entries and commands whose effect is part of the current state. A CHECKPOINT
// record then captures that state (Stream.exportState: counters, node layout, flagged entries, groups with
// their PELs, per-stream settings) and, once it is synced, the segments before the first needed entry go.
//
// Recovery finds the last checkpoint of a log, restores the ENTRY records from `firstEntry` up to the
// checkpoint into the index (their bytes stay in the mapping), loads the state, ignores every command journaled
// before it, and replays the records after it as usual. The payload is JSON: it is written once per deleted
// segment (rarely), and a readable format is worth more here than a few bytes.

import type { StreamState } from './stream';

export const CHECKPOINT_VERSION = 1;

export interface Checkpoint {
  version: number;
  /** Log position of the first entry the stream still needs (the first ENTRY record to restore), or null. */
  firstEntry: number | null;
  stream: StreamState;
  /** Per-stream settings as the commands that recreate them (XCFGSET ...), latin1 strings. */
  settings: string[][];
}

export function encodeCheckpoint(checkpoint: Omit<Checkpoint, 'version'>): Buffer {
  return Buffer.from(JSON.stringify({ version: CHECKPOINT_VERSION, ...checkpoint }), 'utf8');
}

/** Parses a CHECKPOINT payload; throws on a version this build cannot read. */
export function decodeCheckpoint(payload: Buffer): Checkpoint {
  const checkpoint = JSON.parse(payload.toString('utf8')) as Checkpoint;
  if (checkpoint.version !== CHECKPOINT_VERSION) {
    throw new Error(`checkpoint version ${checkpoint.version} is not supported (this build reads ${CHECKPOINT_VERSION})`);
  }
  return checkpoint;
}
