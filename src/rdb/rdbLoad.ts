// Reading a whole RDB file (rdbLoadRio): the header, AUX fields, SELECTDB, RESIZEDB, EXPIRETIME(_MS), IDLE,
// FREQ, MODULE_AUX, FUNCTION2 and SLOT_INFO (skipped), keys, EOF and the CRC-64 (checked unless zero, as Redis
// does). Streams (types 15, 19, 21) go to the sink; keys of every other type Spool does not store are parsed past
// and counted, and one log line sums them up. The source is one buffer or an async iterator of chunks: each
// top-level item is parsed from what has arrived, and parsed again with more bytes when it ran past the end.

import { Crc64 } from './crc64';
import { RDB_TYPE_NAMES, RDB_VERSION_READ, isStreamType } from './dump';
import {
  OP_AUX,
  OP_EOF,
  OP_EXPIRETIME,
  OP_EXPIRETIME_MS,
  OP_FREQ,
  OP_FUNCTION2,
  OP_IDLE,
  OP_MODULE_AUX,
  OP_RESIZEDB,
  OP_SELECTDB,
  OP_SLOT_INFO,
  RDB_MAGIC,
} from './opcodes';
import { RdbFormatError, RdbReader, RdbTruncated } from './primitives';
import { readStreamValue, type StreamValue } from './streamValue';

export interface RdbLoadSink {
  /** A stream key of database `db`; `expiresAt` is its absolute expire time in ms when it had one. */
  stream(db: number, key: Buffer, value: StreamValue, expiresAt: number | null): void | Promise<void>;
  /** The summary line (and nothing else is logged). */
  log?(message: string): void;
}

export interface RdbLoadSummary {
  version: number;
  streams: number;
  /** Keys of other types, by type name. */
  skipped: Record<string, number>;
  aux: Record<string, string>;
  functionsSkipped: number;
}

const RDB_MODULE_OPCODE_EOF = 0;
const RDB_MODULE_OPCODE_SINT = 1;
const RDB_MODULE_OPCODE_UINT = 2;
const RDB_MODULE_OPCODE_FLOAT = 3;
const RDB_MODULE_OPCODE_DOUBLE = 4;
const RDB_MODULE_OPCODE_STRING = 5;

/** Parses past a module value (rdbLoadCheckModuleValue). */
function skipModuleValue(r: RdbReader): void {
  for (;;) {
    const op = r.len();
    if (op === RDB_MODULE_OPCODE_EOF) return;
    if (op === RDB_MODULE_OPCODE_SINT || op === RDB_MODULE_OPCODE_UINT) r.bigLen();
    else if (op === RDB_MODULE_OPCODE_STRING) r.skipString();
    else if (op === RDB_MODULE_OPCODE_FLOAT) r.bytes(4);
    else if (op === RDB_MODULE_OPCODE_DOUBLE) r.bytes(8);
    else throw new RdbFormatError(`unknown module opcode ${op}`);
  }
}

/** Parses past a value of a type Spool does not store (rdbLoadObject's reads for it). */
function skipValue(r: RdbReader, type: number): void {
  switch (type) {
    case 0: // string
    case 9: // zipmap
    case 10: // list ziplist
    case 11: // intset
    case 12: // zset ziplist
    case 13: // hash ziplist
    case 16: // hash listpack
    case 17: // zset listpack
    case 20: // set listpack (7.2)
      r.skipString();
      return;
    case 1: // list
    case 2: // set
      for (let n = r.len(); n > 0; n--) r.skipString();
      return;
    case 3: // zset: member, then a double as a length-prefixed string (253-255: nan, +inf, -inf)
      for (let n = r.len(); n > 0; n--) {
        r.skipString();
        const l = r.byte();
        if (l < 253) r.bytes(l);
      }
      return;
    case 5: // zset2: member, binary double
      for (let n = r.len(); n > 0; n--) {
        r.skipString();
        r.bytes(8);
      }
      return;
    case 4: // hash
      for (let n = r.len(); n > 0; n--) {
        r.skipString();
        r.skipString();
      }
      return;
    case 14: // quicklist of ziplists
      for (let n = r.len(); n > 0; n--) r.skipString();
      return;
    case 18: // quicklist 2: container type, then the node
      for (let n = r.len(); n > 0; n--) {
        r.len();
        r.skipString();
      }
      return;
    case 7: // module 2
      r.bigLen();
      skipModuleValue(r);
      return;
    default:
      throw new RdbFormatError(`unknown or unsupported object type ${type}`);
  }
}

const SKIPPED_NAMES: Record<number, string> = { ...RDB_TYPE_NAMES, 20: 'set' };

/** Where the bytes come from: everything at once, or chunks pulled as needed. */
class Source {
  buf: Buffer;
  pos = 0;
  private done: boolean;
  private readonly iterator: AsyncIterator<Buffer> | null;

  constructor(source: Buffer | AsyncIterable<Buffer>) {
    if (Buffer.isBuffer(source)) {
      this.buf = source;
      this.done = true;
      this.iterator = null;
    } else {
      this.buf = Buffer.alloc(0);
      this.done = false;
      this.iterator = source[Symbol.asyncIterator]();
    }
  }

  /** Pulls at least as many bytes again as are unread (so re-parsing stays linear overall); false at the end. */
  async more(): Promise<boolean> {
    if (this.done || this.iterator === null) return false;
    const parts = [this.buf.subarray(this.pos)];
    let got = 0;
    const want = Math.max(65536, this.buf.length - this.pos);
    while (got < want) {
      const next = await this.iterator.next();
      if (next.done) {
        this.done = true;
        break;
      }
      parts.push(next.value);
      got += next.value.length;
    }
    this.buf = Buffer.concat(parts);
    this.pos = 0;
    return got > 0;
  }
}

/** Loads an RDB from `source` into `sink`. Throws RdbFormatError on a malformed or truncated file. */
export async function loadRdb(source: Buffer | AsyncIterable<Buffer>, sink: RdbLoadSink): Promise<RdbLoadSummary> {
  const src = new Source(source);
  const crc = new Crc64();
  /** Runs one parse step from the current position; with more bytes again when it ran past the end. */
  const step = async <T>(parse: (r: RdbReader) => T): Promise<T> => {
    for (;;) {
      const r = new RdbReader(src.buf, src.pos);
      try {
        const value = parse(r);
        crc.update(src.buf.subarray(src.pos, r.pos));
        src.pos = r.pos;
        return value;
      } catch (err) {
        if (!(err instanceof RdbTruncated) || !(await src.more())) throw err;
      }
    }
  };
  const version = await step((r) => {
    const magic = r.bytes(9).toString('latin1');
    if (!magic.startsWith(RDB_MAGIC)) throw new RdbFormatError('wrong signature trying to load DB from file');
    const v = Number(magic.slice(5));
    if (!/^\d{4}$/.test(magic.slice(5)) || v < 1 || v > RDB_VERSION_READ) throw new RdbFormatError(`can't handle RDB format version ${magic.slice(5)}`);
    return v;
  });
  const summary: RdbLoadSummary = { version, streams: 0, skipped: {}, aux: {}, functionsSkipped: 0 };
  let db = 0;
  let expiresAt: number | null = null;
  for (;;) {
    const item = await step((r) => {
      const op = r.byte();
      switch (op) {
        case OP_EOF:
          return { op } as const;
        case OP_SELECTDB:
          return { op, db: r.len() } as const;
        case OP_RESIZEDB:
          r.bigLen();
          r.bigLen();
          return { op } as const;
        case OP_EXPIRETIME:
          return { op, at: r.bytes(4).readInt32LE(0) * 1000 } as const;
        case OP_EXPIRETIME_MS:
          return { op, at: Number(r.millis()) } as const;
        case OP_IDLE:
          r.bigLen();
          return { op } as const;
        case OP_FREQ:
          r.byte();
          return { op } as const;
        case OP_AUX:
          return { op, key: r.string().toString('latin1'), value: r.string().toString('latin1') } as const;
        case OP_MODULE_AUX:
          r.bigLen();
          if (r.len() !== RDB_MODULE_OPCODE_UINT) throw new RdbFormatError('bad module aux when opcode');
          r.bigLen();
          skipModuleValue(r);
          return { op } as const;
        case OP_FUNCTION2:
          r.skipString();
          return { op } as const;
        case OP_SLOT_INFO:
          r.bigLen();
          r.bigLen();
          r.bigLen();
          return { op } as const;
        default: {
          const key = Buffer.from(r.string());
          if (isStreamType(op)) return { op: -1, key, value: readStreamValue(r, op) } as const;
          skipValue(r, op);
          return { op: -2, type: op } as const;
        }
      }
    });
    if (item.op === OP_EOF) break;
    if (item.op === OP_SELECTDB) db = item.db;
    else if (item.op === OP_EXPIRETIME || item.op === OP_EXPIRETIME_MS) {
      expiresAt = item.at;
      continue;
    } else if (item.op === OP_AUX) summary.aux[item.key] = item.value;
    else if (item.op === OP_FUNCTION2) summary.functionsSkipped++;
    else if (item.op === -1) {
      summary.streams++;
      await sink.stream(db, item.key, item.value, expiresAt);
    } else if (item.op === -2) {
      const name = SKIPPED_NAMES[item.type] ?? `type ${item.type}`;
      summary.skipped[name] = (summary.skipped[name] ?? 0) + 1;
    }
    // IDLE and FREQ also belong to the next key; an expire applies to the key right after it only.
    if (item.op !== OP_IDLE && item.op !== OP_FREQ) expiresAt = null;
  }
  if (version >= 5) {
    const expected = crc.bytes();
    const stored = await step((r) => Buffer.from(r.bytes(8)));
    if (!stored.equals(Buffer.alloc(8)) && !stored.equals(expected)) throw new RdbFormatError('wrong RDB checksum');
  }
  const skipped = Object.entries(summary.skipped).sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, n]) => `${n} ${name}`);
  sink.log?.(
    `RDB loaded: ${summary.streams} streams` +
      (skipped.length ? `, skipped keys of types Spool does not store: ${skipped.join(', ')}` : '') +
      (summary.functionsSkipped ? `, ${summary.functionsSkipped} function libraries skipped` : ''),
  );
  return summary;
}
