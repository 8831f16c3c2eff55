// Encodes replies into one growing output buffer per connection, in RESP2 or RESP3.
// Command code speaks in reply shapes (map, set, null, double); this module decides the bytes per protocol,
// so the same handler answers `HELLO 2` and `HELLO 3` clients exactly as Redis 7 does.

import { u64ToSafeNumber } from '../util/u64';
import { copyBytes as copyInto } from '../util/bytes';

const CRLF = 0x0a0d; // little-endian "\r\n" for writeUInt16LE
const INITIAL_CAPACITY = 16 * 1024;

export type Protocol = 2 | 3;

export class ReplyWriter {
  // Replies accumulate in buf[start, len). take()/takeBefore() hand out views of that region instead of copies
  // and move `start` past them: nothing is ever written below `len` again, so handed-out views stay valid, and
  // a fresh slab is allocated only when the current one is full (the old one lives as long as its views).
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private start = 0;
  private len = 0;
  /** Number of error replies written so far (the dispatcher compares before/after to count failed calls). */
  errorsWritten = 0;

  constructor(public protocol: Protocol = 2) {}

  /** Bytes written and not yet taken (marks passed to takeBefore are relative to this). */
  get size(): number {
    return this.len - this.start;
  }

  /** Hands out the bytes written so far and starts afresh. */
  take(): Buffer {
    const out = this.buf.subarray(this.start, this.len);
    this.start = this.len;
    // A small leftover is not worth keeping: the next reply starts a new slab (and a huge one is dropped).
    if (this.buf.length - this.len < MIN_TAIL || this.buf.length > 1024 * 1024) this.fresh(INITIAL_CAPACITY);
    return out;
  }

  /** Drops what was written after `mark` (a reply the client asked not to get: CLIENT REPLY OFF/SKIP). */
  truncate(mark: number): void {
    if (mark < this.size) this.len = this.start + mark;
  }

  /** Hands out the bytes written before `mark` and keeps the rest (replies split by durability ticket). */
  takeBefore(mark: number): Buffer {
    const head = this.buf.subarray(this.start, this.start + mark);
    this.start += mark;
    return head;
  }

  private fresh(capacity: number): void {
    this.buf = Buffer.allocUnsafe(capacity);
    this.start = 0;
    this.len = 0;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    // Move the untaken bytes to a new slab; the old one stays intact for the views already handed out.
    const pending = this.len - this.start;
    let cap = INITIAL_CAPACITY;
    while (cap < pending + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, this.start, this.len);
    this.buf = next;
    this.start = 0;
    this.len = pending;
  }

  private ascii(s: string): void {
    this.reserve(s.length);
    this.len += this.buf.write(s, this.len, "latin1");
  }

  private line(prefix: string, s: string): void {
    this.reserve(s.length + 3);
    this.buf[this.len++] = prefix.charCodeAt(0);
    this.len += this.buf.write(s, this.len, "latin1");
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }

  /**
   * `<prefix><n>\r\n` for a length or count: digits written in place rather than through String(n) and a native
   * string write (headers are most of the bytes of small replies). Caller has reserved 24 bytes.
   */
  private header(prefix: number, n: number): void {
    const buf = this.buf;
    buf[this.len++] = prefix;
    if (n < 0) {
      buf[this.len++] = 0x2d; // '-'
      n = -n;
    }
    const digits = digitCount(n);
    writeDigits(buf, this.len, n, digits);
    this.len += digits;
    buf[this.len++] = 0x0d;
    buf[this.len++] = 0x0a;
  }

  private count(prefix: number, n: number): void {
    if (Number.isSafeInteger(n)) {
      this.reserve(24);
      this.header(prefix, n);
    } else {
      this.line(String.fromCharCode(prefix), String(n));
    }
  }

  /**
   * A stream ID `ms-seq` as a bulk string, its digits written in place (no string per ID): XADD's reply and
   * every entry of a range reply. Parts beyond 2^53 take the string path.
   */
  streamId(ms: bigint, seq: bigint): void {
    const m = u64ToSafeNumber(ms);
    const q = u64ToSafeNumber(seq);
    if (m < 0 || q < 0) this.bulk(`${ms}-${seq}`);
    else this.streamIdOf(m, q);
  }

  /** streamId() of parts given as Numbers below 2^53. */
  streamIdOf(ms: number, seq: number): void {
    // Replies in a row mostly share the millisecond (XADD at any rate, a range of entries): its digits are
    // written once and copied after that.
    if (ms !== msDigitsOf) {
      msDigitsLength = digitCount(ms);
      writeDigits(MS_DIGITS, 0, ms, msDigitsLength);
      msDigitsOf = ms;
    }
    const dm = msDigitsLength;
    const dq = digitCount(seq);
    this.reserve(dm + dq + 40);
    this.header(DOLLAR, dm + dq + 1);
    const buf = this.buf;
    for (let i = 0; i < dm; i++) buf[this.len + i] = MS_DIGITS[i];
    buf[this.len + dm] = 0x2d; // '-'
    writeDigits(buf, this.len + dm + 1, seq, dq);
    this.len += dm + dq + 1;
    buf[this.len++] = 0x0d;
    buf[this.len++] = 0x0a;
  }

  raw(bytes: Buffer): void {
    this.reserve(bytes.length);
    copyInto(this.buf, this.len, bytes, 0, bytes.length);
    this.len += bytes.length;
  }

  simple(s: string): void {
    this.line('+', s);
  }

  ok(): void {
    this.raw(OK);
  }

  /** `text` starts with its code (ERR, WRONGTYPE, ...). Newlines are replaced as Redis does. */
  error(text: string): void {
    this.errorsWritten++;
    this.line('-', text.replace(/[\r\n]/g, ' '));
  }

  integer(n: number | bigint): void {
    if (typeof n === 'number') this.count(COLON, n);
    else this.line(':', String(n));
  }

  bulk(value: Buffer | string): void {
    if (typeof value === 'string') {
      if (value.length <= SHORT_STRING && this.shortAsciiBulk(value)) return;
      const n = Buffer.byteLength(value);
      this.reserve(n + 16);
      this.line('$', String(n));
      this.len += this.buf.write(value, this.len);
    } else {
      this.reserve(value.length + 26);
      this.header(DOLLAR, value.length);
      copyInto(this.buf, this.len, value, 0, value.length);
      this.len += value.length;
    }
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }

  /**
   * A short all-ASCII string (stream IDs, field names, numbers) copied char by char: cheaper than measuring its
   * UTF-8 length and calling into a native string write. Returns false, having written nothing, for non-ASCII.
   */
  private shortAsciiBulk(value: string): boolean {
    const n = value.length;
    this.reserve(n + 26);
    const buf = this.buf;
    const at = this.len;
    this.header(DOLLAR, n);
    let pos = this.len;
    for (let i = 0; i < n; i++) {
      const c = value.charCodeAt(i);
      if (c > 0x7f) {
        this.len = at;
        return false;
      }
      buf[pos++] = c;
    }
    buf[pos++] = 0x0d;
    buf[pos++] = 0x0a;
    this.len = pos;
    return true;
  }

  /** Writes a bulk string straight from a region of a larger buffer (a segment), without an intermediate copy. */
  bulkFrom(source: Buffer, start: number, end: number): void {
    const n = end - start;
    this.reserve(n + 26);
    this.header(DOLLAR, n);
    copyInto(this.buf, this.len, source, start, end);
    this.len += n;
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }

  /** A verbatim string (RESP3 `=`), plain bulk in RESP2. Used by INFO and CLIENT INFO/LIST. */
  verbatim(text: string, format = 'txt'): void {
    if (this.protocol === 2) return this.bulk(text);
    const body = `${format}:${text}`;
    this.line('=', String(Buffer.byteLength(body)));
    this.reserve(Buffer.byteLength(body) + 2);
    this.len += this.buf.write(body, this.len);
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }

  /** The null of a missing string: `$-1` in RESP2, `_` in RESP3. */
  nullBulk(): void {
    this.raw(this.protocol === 2 ? NULL_BULK : NULL3);
  }

  /** The null of a missing aggregate: `*-1` in RESP2, `_` in RESP3. */
  nullArray(): void {
    this.raw(this.protocol === 2 ? NULL_ARRAY : NULL3);
  }

  array(n: number): void {
    this.count(STAR, n);
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (this.protocol === 3) this.count(PERCENT, n);
    else this.count(STAR, n * 2);
  }

  /** A set: `~n` in RESP3, an array in RESP2. */
  set(n: number): void {
    this.line(this.protocol === 3 ? '~' : '*', String(n));
  }

  /** A push frame (RESP3 `>`), an array in RESP2. */
  push(n: number): void {
    this.line(this.protocol === 3 ? '>' : '*', String(n));
  }

  double(x: number): void {
    const text = formatDouble(x);
    if (this.protocol === 3) this.line(',', text);
    else this.bulk(text);
  }

  boolean(b: boolean): void {
    if (this.protocol === 3) this.ascii(b ? '#t\r\n' : '#f\r\n');
    else this.integer(b ? 1 : 0);
  }

  /** A list of strings as an array of bulks. */
  bulkArray(items: ReadonlyArray<Buffer | string>): void {
    this.array(items.length);
    for (const item of items) this.bulk(item);
  }
}

/** Decimal digits of a non-negative safe integer (Numbers below 1e8 take 32-bit integer steps). */
function digitCount(n: number): number {
  let digits = 1;
  while (n >= 1e8) {
    n = Math.floor(n / 1e8);
    digits += 8;
  }
  if (n >= 1e4) {
    digits += 4;
    n = (n / 1e4) | 0;
  }
  if (n >= 100) {
    digits += 2;
    n = (n / 100) | 0;
  }
  return n >= 10 ? digits + 1 : digits;
}

/**
 * Writes the `digits` decimal digits of n at buf[at..]. Eight digits at a time are cut off with one float
 * division, then written with 32-bit integer arithmetic (a stream ID's 13-digit milliseconds: two steps
 * instead of thirteen float divisions).
 */
/** The digits of the millisecond part streamIdOf wrote last (shared by every writer: one thread). */
const MS_DIGITS = Buffer.alloc(24);
let msDigitsOf = -1;
let msDigitsLength = 0;

function writeDigits(buf: Buffer, at: number, n: number, digits: number): void {
  let pos = at + digits - 1;
  while (n >= 1e8) {
    const high = Math.floor(n / 1e8);
    let low = n - high * 1e8;
    for (let k = 0; k < 8; k++) {
      const q = (low / 10) | 0;
      buf[pos--] = 0x30 + low - q * 10;
      low = q;
    }
    n = high;
  }
  let m = n | 0;
  while (pos > at) {
    const q = (m / 10) | 0;
    buf[pos--] = 0x30 + m - q * 10;
    m = q;
  }
  buf[at] = 0x30 + m;
}

/** Redis prints doubles with %.17g and spells the infinities "inf"/"-inf". */
export function formatDouble(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isNaN(x)) return 'nan';
  if (Number.isInteger(x) && Math.abs(x) < 1e17) return String(x);
  return String(Number(x.toPrecision(17)));
}

const COLON = 0x3a;
const DOLLAR = 0x24;
const STAR = 0x2a;
const PERCENT = 0x25;
/** Strings up to this length try the inline ASCII path of bulk(). */
const SHORT_STRING = 64;
/** take() starts a new slab when less than this is left in the current one. */
const MIN_TAIL = 2048;

const OK = Buffer.from('+OK\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
