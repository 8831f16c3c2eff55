// A stream made whole from a decoded RDB value (RESTORE, an RDB loaded, a full sync): created through the storage
// engine like any new stream, filled (rdb/streamBuild.ts), put in its database, then checkpointed so that a
// restart finds it as built; the command's reply waits for that checkpoint to be durable.

import type { Database } from '../keyspace/database';
import { fillStream } from '../rdb/streamBuild';
import type { StreamValue } from '../rdb/streamValue';
import type { Stream } from '../streams/stream';
import type { ServerState } from './serverState';

/** Makes `value` the stream of `key` in `db` (the caller removed any old one). Throws RdbFormatError. */
export function buildStream(server: ServerState, db: Database, key: string, value: StreamValue): Stream {
  const stream = server.createStream(db, key);
  try {
    fillStream(stream, value);
  } catch (err) {
    stream.destroy();
    throw err;
  }
  db.set(key, stream);
  // As Redis's dbAdd: readers blocked on the key (XREAD BLOCK of a key that did not exist) are served.
  db.signalReady(key);
  server.persistence?.checkpointBuilt(stream);
  return stream;
}
