// Writing a whole RDB file (rdbSaveRio, Redis 7.0 layout): "REDIS0010", AUX fields, per non-empty database
// SELECTDB and RESIZEDB then its streams (type 19), EOF and the CRC-64 of everything before it. Output goes out
// in chunks through an async sink (a file, a replica's socket) and the loop yields between streams, so a large
// keyspace neither needs one giant buffer nor holds the event loop for long. Each stream is encoded in one go,
// so it is written as it was at one instant; keys written or deleted while the save runs may or may not be in it
// (a key deleted before its turn is left out).

import type { Database } from '../keyspace/database';
import { REDIS_VERSION } from '../version';
import { Crc64 } from './crc64';
import { RDB_VERSION } from './dump';
import { OP_AUX, OP_EOF, OP_RESIZEDB, OP_SELECTDB, RDB_MAGIC } from './opcodes';
import { RdbWriter } from './primitives';
import { writeStreamOf } from './streamBuild';
import { RDB_TYPE_STREAM_LISTPACKS_2 } from './streamValue';

/** Receives the file in order; a returned promise is awaited before the next chunk (backpressure). */
export type RdbChunkSink = (chunk: Buffer) => void | Promise<void>;

/** Something with a Node stream's write()/once('drain') (a net.Socket, an fs WriteStream). */
export interface WritableLike {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
}

export interface RdbWriteOptions {
  /** Unix time in seconds for the ctime AUX field (default: now). */
  ctime?: number;
  /** Flush to the sink once this many bytes are buffered (default 64 KiB). */
  chunkBytes?: number;
  /**
   * Called before each stream is read; a returned promise is awaited first (the storage layer maps segments the
   * LRU closed, see Persistence.whenMapped).
   */
  beforeStream?: (db: Database, key: string) => Promise<void> | null;
}

export interface RdbWriteSummary {
  bytes: number;
  keys: number;
}

function sinkOf(out: RdbChunkSink | WritableLike): RdbChunkSink {
  if (typeof out === 'function') return out;
  return (chunk) => (out.write(chunk) ? undefined : new Promise<void>((resolve) => out.once('drain', resolve)));
}

const yieldTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Writes an RDB of every stream of `databases` (index = database number). */
export async function writeRdb(out: RdbChunkSink | WritableLike, databases: readonly Database[], options: RdbWriteOptions = {}): Promise<RdbWriteSummary> {
  const sink = sinkOf(out);
  const chunkBytes = options.chunkBytes ?? 65536;
  const crc = new Crc64();
  const w = new RdbWriter();
  let bytes = 0;
  let keys = 0;
  const flush = async (force: boolean): Promise<void> => {
    if (w.length === 0 || (!force && w.length < chunkBytes)) return;
    const chunk = w.take();
    crc.update(chunk);
    bytes += chunk.length;
    await sink(chunk);
  };
  w.raw(Buffer.from(`${RDB_MAGIC}${String(RDB_VERSION).padStart(4, '0')}`, 'latin1'));
  const aux = (key: string, value: string): void => {
    w.byte(OP_AUX);
    w.string(Buffer.from(key, 'latin1'));
    w.string(Buffer.from(value, 'latin1'));
  };
  aux('redis-ver', REDIS_VERSION);
  aux('redis-bits', '64');
  aux('ctime', String(options.ctime ?? Math.floor(Date.now() / 1000)));
  aux('used-mem', String(process.memoryUsage().rss));
  aux('aof-base', '0');
  for (const db of databases) {
    if (db.size === 0) continue;
    w.byte(OP_SELECTDB);
    w.len(db.index);
    w.byte(OP_RESIZEDB);
    w.len(db.size);
    w.len(0);
    for (const key of [...db.keys()]) {
      const ready = options.beforeStream?.(db, key);
      if (ready) await ready;
      const stream = db.get(key);
      if (stream === undefined) continue;
      w.byte(RDB_TYPE_STREAM_LISTPACKS_2);
      w.string(Buffer.from(key, 'latin1'));
      writeStreamOf(w, stream);
      keys++;
      await flush(false);
      await yieldTurn();
    }
  }
  w.byte(OP_EOF);
  await flush(true);
  const sum = crc.bytes();
  bytes += sum.length;
  await sink(sum);
  return { bytes, keys };
}
