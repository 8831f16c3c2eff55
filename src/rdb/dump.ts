// DUMP payloads (cluster.c createDumpPayload / verifyDumpPayload): the object type byte, the value as the RDB
// holds it, the RDB version as 2 little-endian bytes, and the CRC-64 of all that as 8 little-endian bytes.

import type { Stream } from '../streams/stream';
import { crc64 } from './crc64';
import { RdbFormatError, RdbReader, RdbWriter } from './primitives';
import { writeStreamOf } from './streamBuild';
import {
  RDB_TYPE_STREAM_LISTPACKS,
  RDB_TYPE_STREAM_LISTPACKS_2,
  RDB_TYPE_STREAM_LISTPACKS_3,
  readStreamValue,
  writeStreamValue,
  type StreamValue,
} from './streamValue';

/** The RDB version Spool writes (Redis 7.0's RDB_VERSION). */
export const RDB_VERSION = 10;
/** The newest RDB version Spool reads: Redis 7.2's (its stream type 21 is understood). */
export const RDB_VERSION_READ = 11;

/** Why a payload was refused: RESTORE replies the matching text. */
export class DumpPayloadError extends Error {
  constructor(readonly kind: 'version-or-checksum' | 'bad-format' | 'not-a-stream', message: string) {
    super(message);
  }
}

/** Object type names (rdb.h) of the types Spool cannot store, for the error and the RDB loader's summary. */
export const RDB_TYPE_NAMES: Readonly<Record<number, string>> = {
  0: 'string',
  1: 'list',
  2: 'set',
  3: 'zset',
  4: 'hash',
  5: 'zset',
  6: 'module',
  7: 'module',
  9: 'hash',
  10: 'list',
  11: 'set',
  12: 'zset',
  13: 'hash',
  14: 'list',
  16: 'hash',
  17: 'zset',
  18: 'list',
};

export function isStreamType(type: number): boolean {
  return type === RDB_TYPE_STREAM_LISTPACKS || type === RDB_TYPE_STREAM_LISTPACKS_2 || type === RDB_TYPE_STREAM_LISTPACKS_3;
}

/** A DUMP payload around a stream value that `writeValue` writes. */
function payloadOf(writeValue: (out: RdbWriter) => void): Buffer {
  const out = new RdbWriter();
  out.byte(RDB_TYPE_STREAM_LISTPACKS_2);
  writeValue(out);
  out.byte(RDB_VERSION & 0xff);
  out.byte(RDB_VERSION >> 8);
  const body = out.take();
  return Buffer.concat([body, crc64(body)]);
}

/** A stream value's DUMP payload. */
export function encodeDumpPayload(value: StreamValue): Buffer {
  return payloadOf((out) => writeStreamValue(out, value));
}

/** DUMP of a Spool stream (its nodes encoded one at a time). */
export function dumpStreamValue(stream: Stream): Buffer {
  return payloadOf((out) => writeStreamOf(out, stream));
}

/**
 * Checks a DUMP payload's version and CRC, then decodes its stream. Throws DumpPayloadError: version-or-checksum
 * ("DUMP payload version or checksum are wrong"), bad-format ("Bad data format"), not-a-stream (a valid payload of
 * a type Spool does not store).
 */
export function restoreStreamValue(payload: Buffer): StreamValue {
  const len = payload.length;
  if (len < 10) throw new DumpPayloadError('version-or-checksum', 'payload too short');
  const version = payload[len - 10] | (payload[len - 9] << 8);
  if (version > RDB_VERSION_READ) throw new DumpPayloadError('version-or-checksum', `RDB version ${version}`);
  if (!crc64(payload.subarray(0, len - 8)).equals(payload.subarray(len - 8))) {
    throw new DumpPayloadError('version-or-checksum', 'checksum mismatch');
  }
  const reader = new RdbReader(payload, 0, len - 10);
  try {
    const type = reader.byte();
    if (!isStreamType(type)) {
      const name = RDB_TYPE_NAMES[type];
      if (name === undefined) throw new RdbFormatError(`unknown object type ${type}`);
      throw new DumpPayloadError('not-a-stream', name);
    }
    return readStreamValue(reader, type);
  } catch (err) {
    if (err instanceof DumpPayloadError) throw err;
    // Anything else a malformed value trips over is a bad format too: RESTORE never fails otherwise.
    throw new DumpPayloadError('bad-format', (err as Error).message);
  }
}
