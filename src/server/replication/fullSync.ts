// Full resynchronization through the RDB codec (src/rdb/): a master sends an RDB of every stream; a replica
// replaces its dataset with the streams of the RDB it receives (from Spool or redis-server), skipping and
// counting keys of other types, as its log reports.

import { sendRdbPayload } from '../rdbTransfer';
import { loadRdb } from '../../rdb/rdbLoad';
import { buildStream } from '../restoredStream';
import { commandOf } from './respCommand';
import type { FullSyncCodec } from './replication';

export const RDB_FULL_SYNC: FullSyncCodec = {
  // Through a temporary file, as Redis's disk-based sync: the length is known before sending, memory stays flat.
  send: sendRdbPayload,

  async load(server, rdb, run) {
    // The old dataset goes as a FLUSHALL run by the master client: it reaches the logs like any write.
    await run(commandOf('FLUSHALL'));
    const summary = await loadRdb(rdb, {
      stream: (db, key, value) => {
        const database = server.databases[db];
        if (database === undefined) return;
        const name = key.toString('latin1');
        if (database.has(name)) database.delete(name); // an RDB with the key twice: the last one wins
        buildStream(server, database, name, value);
      },
    });
    return Object.values(summary.skipped).reduce((a, b) => a + b, 0);
  },
};
