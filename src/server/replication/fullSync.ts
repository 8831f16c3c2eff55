// Full resynchronization through the RDB codec (src/rdb/): a master sends an RDB of every stream; a replica
// replaces its dataset with the streams of the RDB it receives (from Spool or redis-server), skipping and
// counting keys of other types, as its log reports.

import { writeRdb } from '../../rdb/rdbWrite';
import { loadRdb } from '../../rdb/rdbLoad';
import { buildStream } from '../../rdb/streamBuild';
import { commandOf } from './respCommand';
import type { FullSyncCodec } from './replication';

export const RDB_FULL_SYNC: FullSyncCodec = {
  async snapshot(server) {
    const chunks: Buffer[] = [];
    await writeRdb((chunk) => {
      chunks.push(Buffer.from(chunk));
    }, server.databases);
    return Buffer.concat(chunks);
  },

  async load(server, rdb, run) {
    // The old dataset goes as a FLUSHALL run by the master client: it reaches the logs like any write.
    await run(commandOf('FLUSHALL'));
    const summary = await loadRdb(rdb, {
      stream: (db, key, value) => {
        const database = server.databases[db];
        if (database === undefined) return;
        buildStream(server, database, key.toString('latin1'), value);
      },
    });
    return Object.values(summary.skipped).reduce((a, b) => a + b, 0);
  },
};
