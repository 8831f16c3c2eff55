// Where a write handler sends the change it made (see src/streams/changeRecords.ts): the server's persistence,
// which writes it to the stream's log. Null when the server keeps no logs: handlers then build no change at all
// (a null check is all a change costs without persistence).

import { ChangeType, exactTrimOf, type ChangeLog } from '../streams/changeRecords';
import type { Stream, TrimSpec } from '../streams/stream';
import type { ServerState } from '../server/serverState';

export function changeLog(server: ServerState): ChangeLog | null {
  return server.persistence;
}

/** Records a trim that removed entries, as its exact effect. */
export function recordTrim(server: ServerState, stream: Stream, spec: TrimSpec): void {
  const log = server.persistence;
  if (log !== null) log.record(stream, { type: ChangeType.TRIM, trim: exactTrimOf(stream, spec) });
}
