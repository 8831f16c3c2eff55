// RDB primitives as Redis 7's rdb.c writes and reads them: length encoding (6/14/32/64-bit), strings (raw,
// integer-encoded, LZF-compressed on read), millisecond times, raw 128-bit stream IDs. The reader works on one
// buffer and throws RdbTruncated when it runs past the end (a streaming caller then retries with more bytes),
// RdbFormatError on anything malformed; nothing else escapes it.

import { ByteWriter } from '../util/byteWriter';
import { lzfDecompress } from './lzf';

export const RDB_ENCVAL = 3;
const RDB_6BITLEN = 0;
const RDB_14BITLEN = 1;
const RDB_32BITLEN = 0x80;
const RDB_64BITLEN = 0x81;
const RDB_ENC_INT8 = 0;
const RDB_ENC_INT16 = 1;
const RDB_ENC_INT32 = 2;
const RDB_ENC_LZF = 3;

/** Malformed RDB data (RESTORE replies "Bad data format"). */
export class RdbFormatError extends Error {}

/** The data ended before the value did (a stream of chunks needs more; a whole payload is then malformed). */
export class RdbTruncated extends RdbFormatError {}

/** Appends RDB primitives to a growing buffer; `take()` hands out what was written so far. */
export class RdbWriter extends ByteWriter {
  constructor() {
    super(4096);
  }

  /** rdbSaveLen */
  len(v: number | bigint): void {
    const n = typeof v === 'bigint' ? v : BigInt(v);
    if (n < 64n) {
      this.byte(Number(n) | (RDB_6BITLEN << 6));
    } else if (n < 16384n) {
      this.ensure(2);
      this.buf[this.pos++] = ((Number(n) >> 8) & 0x3f) | (RDB_14BITLEN << 6);
      this.buf[this.pos++] = Number(n) & 0xff;
    } else if (n <= 0xffffffffn) {
      this.ensure(5);
      this.buf[this.pos++] = RDB_32BITLEN;
      this.buf.writeUInt32BE(Number(n), this.pos);
      this.pos += 4;
    } else {
      this.ensure(9);
      this.buf[this.pos++] = RDB_64BITLEN;
      this.buf.writeBigUInt64BE(n, this.pos);
      this.pos += 8;
    }
  }

  /** rdbSaveRawString without compression: integer-encoded when rdbTryIntegerEncoding would, else raw. */
  string(s: Uint8Array): void {
    if (s.length <= 11 && s.length > 0) {
      const v = canonicalInt(s);
      if (v !== null) {
        if (v >= -128 && v <= 127) {
          this.byte((RDB_ENCVAL << 6) | RDB_ENC_INT8);
          this.byte(v & 0xff);
          return;
        }
        if (v >= -32768 && v <= 32767) {
          this.ensure(3);
          this.buf[this.pos++] = (RDB_ENCVAL << 6) | RDB_ENC_INT16;
          this.buf.writeInt16LE(v, this.pos);
          this.pos += 2;
          return;
        }
        if (v >= -2147483648 && v <= 2147483647) {
          this.ensure(5);
          this.buf[this.pos++] = (RDB_ENCVAL << 6) | RDB_ENC_INT32;
          this.buf.writeInt32LE(v, this.pos);
          this.pos += 4;
          return;
        }
      }
    }
    this.len(s.length);
    this.raw(s);
  }

  /** rdbSaveMillisecondTime: int64 little-endian. */
  millis(ms: number | bigint): void {
    this.i64LE(BigInt.asIntN(64, BigInt(ms)));
  }

  /** A stream ID as the 16 big-endian bytes of its rax key. */
  rawId(ms: bigint, seq: bigint): void {
    this.ensure(16);
    this.buf.writeBigUInt64BE(ms, this.pos);
    this.buf.writeBigUInt64BE(seq, this.pos + 8);
    this.pos += 16;
  }
}

/**
 * The value of a string rdbTryIntegerEncoding stores as an integer (string2ll then ll2string gives it back:
 * no sign '+', no leading zeros, no "-0"), limited to int32 as the encodings are; else null.
 */
function canonicalInt(s: Uint8Array): number | null {
  let i = 0;
  if (s[0] === 0x2d) {
    if (s.length === 1) return null;
    i = 1;
  }
  if (s[i] === 0x30) return s.length === 1 ? 0 : null;
  let v = 0;
  for (; i < s.length; i++) {
    const c = s[i];
    if (c < 0x30 || c > 0x39) return null;
    v = v * 10 + (c - 0x30);
  }
  if (s[0] === 0x2d) v = -v;
  return v >= -2147483648 && v <= 2147483647 ? v : null;
}

/** Reads RDB primitives from one buffer, from `pos` on. */
export class RdbReader {
  constructor(
    readonly buf: Buffer,
    public pos = 0,
    /** Where the data ends (defaults to the buffer's end). */
    readonly end = buf.length,
  ) {}

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new RdbTruncated('unexpected end of RDB data');
  }

  byte(): number {
    this.need(1);
    return this.buf[this.pos++];
  }

  bytes(n: number): Buffer {
    this.need(n);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** rdbLoadLenByRef: the length, or -1 - the encoding type when the byte announces an encoded string. */
  private lenOrEncoding(): bigint | number {
    const first = this.byte();
    const type = (first & 0xc0) >> 6;
    if (type === RDB_ENCVAL) return -1 - (first & 0x3f);
    if (type === RDB_6BITLEN) return first & 0x3f;
    if (type === RDB_14BITLEN) return ((first & 0x3f) << 8) | this.byte();
    if (first === RDB_32BITLEN) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return v;
    }
    if (first === RDB_64BITLEN) {
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    throw new RdbFormatError(`unknown length encoding ${first}`);
  }

  /** A length as a bigint (64-bit counters and IDs). */
  bigLen(): bigint {
    const v = this.lenOrEncoding();
    if (typeof v === 'number' && v < 0) throw new RdbFormatError('encoded value where a length was expected');
    return BigInt(v);
  }

  /** A length that must be a safe count (elements, bytes). */
  len(): number {
    const v = this.bigLen();
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbFormatError('length out of range');
    return Number(v);
  }

  /** rdbGenericLoadStringObject: raw, integer-encoded or LZF-compressed. */
  string(): Buffer {
    const v = this.lenOrEncoding();
    if (typeof v === 'number' && v < 0) {
      const enc = -1 - v;
      if (enc === RDB_ENC_INT8) return Buffer.from(String(this.bytes(1).readInt8(0)), 'latin1');
      if (enc === RDB_ENC_INT16) return Buffer.from(String(this.bytes(2).readInt16LE(0)), 'latin1');
      if (enc === RDB_ENC_INT32) return Buffer.from(String(this.bytes(4).readInt32LE(0)), 'latin1');
      if (enc === RDB_ENC_LZF) {
        const clen = this.len();
        const ulen = this.len();
        const packed = this.bytes(clen);
        if (ulen === 0) throw new RdbFormatError('empty LZF string');
        // LZF turns at most 3 input bytes into 264 output bytes: a larger claimed size is a lie, and must not
        // make us allocate it.
        if (ulen > clen * 88 + 32) throw new RdbFormatError('LZF length out of proportion');
        const out = lzfDecompress(packed, ulen);
        if (out === null) throw new RdbFormatError('invalid LZF data');
        return out;
      }
      throw new RdbFormatError(`unknown string encoding ${enc}`);
    }
    const n = typeof v === 'bigint' ? Number(v) : v;
    if (n > this.end - this.pos) throw new RdbTruncated('string longer than the data');
    return this.bytes(n);
  }

  /** Skips a string without decompressing it. */
  skipString(): void {
    const v = this.lenOrEncoding();
    if (typeof v === 'number' && v < 0) {
      const enc = -1 - v;
      if (enc === RDB_ENC_INT8) this.bytes(1);
      else if (enc === RDB_ENC_INT16) this.bytes(2);
      else if (enc === RDB_ENC_INT32) this.bytes(4);
      else if (enc === RDB_ENC_LZF) {
        const clen = this.len();
        this.len();
        this.bytes(clen);
      } else throw new RdbFormatError(`unknown string encoding ${enc}`);
      return;
    }
    const n = Number(v);
    if (n > this.end - this.pos) throw new RdbTruncated('string longer than the data');
    this.pos += n;
  }

  millis(): bigint {
    return this.bytes(8).readBigInt64LE(0);
  }

  rawId(): { ms: bigint; seq: bigint } {
    const b = this.bytes(16);
    return { ms: b.readBigUInt64BE(0), seq: b.readBigUInt64BE(8) };
  }
}
