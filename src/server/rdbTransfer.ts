// Sending a whole RDB to a replica or to `redis-cli --rdb`, as Redis's disk-based full sync does: the RDB is
// written to a temporary file in `dir` first (so its length is known without holding it in memory), then sent
// as `$<length>\r\n` followed by the file's bytes, with no trailing CRLF. The replication code reuses this for
// full resynchronisations; the sink decides where the bytes go (a socket, a client's connection).

import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { RdbChunkSink } from '../rdb/rdbWrite';
import { writeRdbTo } from './rdbSaves';
import type { ServerState } from './serverState';

const READ_CHUNK = 256 * 1024;
let transfers = 0;

/** Writes `$<len>\r\n<rdb>` of every stream of `server` to `sink`. Resolves once the last byte was handed over. */
export async function sendRdbPayload(server: ServerState, sink: RdbChunkSink): Promise<number> {
  const dir = path.resolve(server.config.get('dir'));
  const temp = path.join(dir, `temp-sync-${process.pid}-${++transfers}.rdb`);
  const file = await fsp.open(temp, 'w+');
  try {
    const bytes = await writeRdbTo(file, server);
    await sink(Buffer.from(`$${bytes}\r\n`, 'latin1'));
    for (let at = 0; at < bytes; ) {
      const chunk = Buffer.allocUnsafe(Math.min(READ_CHUNK, bytes - at));
      const { bytesRead } = await file.read(chunk, 0, chunk.length, at);
      if (bytesRead === 0) throw new Error('RDB temporary file shorter than written');
      at += bytesRead;
      await sink(chunk.subarray(0, bytesRead));
    }
    return bytes;
  } finally {
    await file.close().catch(() => undefined);
    await fsp.rm(temp, { force: true });
  }
}
