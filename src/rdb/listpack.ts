// Listpacks as Redis 7's listpack.c lays them out: a 6-byte header (total bytes u32 LE, element count u16 LE,
// 65535 when unknown), elements (encoding + data + backlen), and the 0xFF end byte. Strings that are canonical
// int64 spellings are stored as integers (lpAppend), which is why a decoded element is a Buffer or an integer.
// The element sizes agree with streams/nodeModel.ts, which models the same encodings for node boundaries.

import { lpStringToInt } from '../streams/nodeModel';
import { RdbFormatError } from './primitives';

export type LpElement = Buffer | bigint;

const LP_HDR_SIZE = 6;
const LP_EOF = 0xff;
const LP_HDR_NUMELE_UNKNOWN = 65535;

/** Builds one listpack. */
export class ListpackBuilder {
  private parts: Buffer[] = [];
  private bytes = 0;
  private count = 0;

  get elements(): number {
    return this.count;
  }

  /** lpAppendInteger */
  int(v: number | bigint): void {
    this.push(encodeInt(BigInt(v)));
  }

  /** lpAppend of a string: an integer when it is a canonical int64 spelling. */
  string(s: Buffer): void {
    const asInt = lpStringToInt(s);
    if (asInt !== null) {
      this.push(encodeInt(BigInt(asInt)));
      return;
    }
    const len = s.length;
    let head: Buffer;
    if (len < 64) head = Buffer.from([0x80 | len]);
    else if (len < 4096) head = Buffer.from([0xe0 | (len >> 8), len & 0xff]);
    else {
      head = Buffer.allocUnsafe(5);
      head[0] = 0xf0;
      head.writeUInt32LE(len, 1);
    }
    this.push(Buffer.concat([head, s, backlen(head.length + len)]));
  }

  private push(element: Buffer): void {
    this.parts.push(element);
    this.bytes += element.length;
    this.count++;
  }

  finish(): Buffer {
    const total = LP_HDR_SIZE + this.bytes + 1;
    const out = Buffer.allocUnsafe(total);
    out.writeUInt32LE(total, 0);
    out.writeUInt16LE(this.count < LP_HDR_NUMELE_UNKNOWN ? this.count : LP_HDR_NUMELE_UNKNOWN, 4);
    let p = LP_HDR_SIZE;
    for (const part of this.parts) {
      part.copy(out, p);
      p += part.length;
    }
    out[p] = LP_EOF;
    return out;
  }
}

/** An integer element (encoding, two's complement data, backlen) as lpEncodeIntegerGetType picks it. */
function encodeInt(v: bigint): Buffer {
  if (v >= 0n && v <= 127n) return Buffer.from([Number(v), 1]);
  if (v >= -4096n && v <= 4095n) {
    const u = Number(v < 0n ? (1n << 13n) + v : v);
    return Buffer.from([0xc0 | (u >> 8), u & 0xff, 2]);
  }
  let enc: number;
  let size: number;
  if (v >= -32768n && v <= 32767n) [enc, size] = [0xf1, 2];
  else if (v >= -8388608n && v <= 8388607n) [enc, size] = [0xf2, 3];
  else if (v >= -2147483648n && v <= 2147483647n) [enc, size] = [0xf3, 4];
  else [enc, size] = [0xf4, 8];
  const out = Buffer.allocUnsafe(size + 2);
  out[0] = enc;
  const u = BigInt.asUintN(size * 8, v);
  for (let i = 0; i < size; i++) out[1 + i] = Number((u >> BigInt(8 * i)) & 0xffn);
  out[size + 1] = size + 1;
  return out;
}

/** lpEncodeBacklen */
function backlen(l: number): Buffer {
  if (l <= 127) return Buffer.from([l]);
  if (l < 16383) return Buffer.from([l >> 7, (l & 127) | 128]);
  if (l < 2097151) return Buffer.from([l >> 14, ((l >> 7) & 127) | 128, (l & 127) | 128]);
  if (l < 268435455) return Buffer.from([l >> 21, ((l >> 14) & 127) | 128, ((l >> 7) & 127) | 128, (l & 127) | 128]);
  return Buffer.from([
    Math.floor(l / 2 ** 28),
    ((l >> 21) & 127) | 128,
    ((l >> 14) & 127) | 128,
    ((l >> 7) & 127) | 128,
    (l & 127) | 128,
  ]);
}

function signExtend(u: bigint, bits: number): bigint {
  return BigInt.asIntN(bits, u);
}

/**
 * Decodes a whole listpack, validating it as lpValidateIntegrity does (header size, every element inside the
 * buffer, backlens consistent, the end byte, the element count when known). Throws RdbFormatError.
 */
export function readListpack(lp: Buffer): LpElement[] {
  if (lp.length < LP_HDR_SIZE + 1) throw new RdbFormatError('listpack too short');
  const total = lp.readUInt32LE(0);
  if (total !== lp.length) throw new RdbFormatError('listpack size mismatch');
  const declared = lp.readUInt16LE(4);
  const out: LpElement[] = [];
  let p = LP_HDR_SIZE;
  const end = total - 1;
  while (p < end) {
    const start = p;
    const b = lp[p];
    let element: LpElement;
    let encLen: number; // encoding + data
    if (b < 0x80) {
      element = BigInt(b);
      encLen = 1;
    } else if ((b & 0xc0) === 0x80) {
      const len = b & 0x3f;
      encLen = 1 + len;
      element = slice(lp, p + 1, len, end);
    } else if ((b & 0xe0) === 0xc0) {
      if (p + 2 > end) throw new RdbFormatError('listpack element past the end');
      element = signExtend(BigInt(((b & 0x1f) << 8) | lp[p + 1]), 13);
      encLen = 2;
    } else if ((b & 0xf0) === 0xe0) {
      if (p + 2 > end) throw new RdbFormatError('listpack element past the end');
      const len = ((b & 0x0f) << 8) | lp[p + 1];
      encLen = 2 + len;
      element = slice(lp, p + 2, len, end);
    } else if (b === 0xf0) {
      if (p + 5 > end) throw new RdbFormatError('listpack element past the end');
      const len = lp.readUInt32LE(p + 1);
      encLen = 5 + len;
      element = slice(lp, p + 5, len, end);
    } else if (b >= 0xf1 && b <= 0xf4) {
      const size = b === 0xf1 ? 2 : b === 0xf2 ? 3 : b === 0xf3 ? 4 : 8;
      if (p + 1 + size > end) throw new RdbFormatError('listpack element past the end');
      let u = 0n;
      for (let i = size - 1; i >= 0; i--) u = (u << 8n) | BigInt(lp[p + 1 + i]);
      element = signExtend(u, size * 8);
      encLen = 1 + size;
    } else {
      throw new RdbFormatError(`bad listpack encoding ${b}`);
    }
    p = start + encLen;
    const bl = backlen(encLen);
    if (p + bl.length > end || !bl.equals(lp.subarray(p, p + bl.length))) throw new RdbFormatError('bad listpack backlen');
    p += bl.length;
    out.push(element);
  }
  if (p !== end || lp[end] !== LP_EOF) throw new RdbFormatError('listpack end byte missing');
  if (declared !== LP_HDR_NUMELE_UNKNOWN && declared !== out.length) throw new RdbFormatError('listpack count mismatch');
  return out;
}

function slice(lp: Buffer, from: number, len: number, end: number): Buffer {
  if (from + len > end) throw new RdbFormatError('listpack element past the end');
  return lp.subarray(from, from + len);
}

/** An element as the string Redis would reply (integers in decimal). */
export function elementBytes(e: LpElement): Buffer {
  return typeof e === 'bigint' ? Buffer.from(e.toString(), 'latin1') : e;
}

/** An element that must be an integer (stream metadata); throws RdbFormatError otherwise. */
export function elementInt(e: LpElement | undefined): bigint {
  if (typeof e !== 'bigint') throw new RdbFormatError('integer expected in listpack');
  return e;
}
