// Encodes replies into one growing output buffer per connection, in RESP2 or RESP3.
// Command code speaks in reply shapes (map, set, null, double); this module decides the bytes per protocol,
// so the same handler answers `HELLO 2` and `HELLO 3` clients exactly as Redis 7 does.

const CRLF = 0x0a0d; // little-endian "\r\n" for writeUInt16LE
const INITIAL_CAPACITY = 16 * 1024;

export type Protocol = 2 | 3;

export class ReplyWriter {
  private buf: Buffer = Buffer.allocUnsafe(INITIAL_CAPACITY);
  private len = 0;
  /** Number of error replies written so far (the dispatcher compares before/after to count failed calls). */
  errorsWritten = 0;

  constructor(public protocol: Protocol = 2) {}

  get size(): number {
    return this.len;
  }

  /** Hands out the bytes written so far and starts afresh. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.len));
    this.len = 0;
    if (this.buf.length > 1024 * 1024) this.buf = Buffer.allocUnsafe(INITIAL_CAPACITY);
    return out;
  }

  /** Hands out the bytes written before `mark` and keeps the rest (replies split by durability ticket). */
  takeBefore(mark: number): Buffer {
    const head = Buffer.from(this.buf.subarray(0, mark));
    this.buf.copy(this.buf, 0, mark, this.len);
    this.len -= mark;
    return head;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = Buffer.allocUnsafe(cap);
    this.buf.copy(next, 0, 0, this.len);
    this.buf = next;
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

  raw(bytes: Buffer): void {
    this.reserve(bytes.length);
    bytes.copy(this.buf, this.len);
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
    this.line(':', String(n));
  }

  bulk(value: Buffer | string): void {
    if (typeof value === 'string') {
      const n = Buffer.byteLength(value);
      this.reserve(n + 16);
      this.line('$', String(n));
      this.len += this.buf.write(value, this.len);
    } else {
      this.reserve(value.length + 16);
      this.line('$', String(value.length));
      value.copy(this.buf, this.len);
      this.len += value.length;
    }
    this.buf.writeUInt16LE(CRLF, this.len);
    this.len += 2;
  }

  /** Writes a bulk string straight from a region of a larger buffer (a segment), without an intermediate copy. */
  bulkFrom(source: Buffer, start: number, end: number): void {
    const n = end - start;
    this.reserve(n + 16);
    this.line('$', String(n));
    source.copy(this.buf, this.len, start, end);
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
    this.line('*', String(n));
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (this.protocol === 3) this.line('%', String(n));
    else this.line('*', String(n * 2));
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

/** Redis prints doubles with %.17g and spells the infinities "inf"/"-inf". */
export function formatDouble(x: number): string {
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Number.isNaN(x)) return 'nan';
  if (Number.isInteger(x) && Math.abs(x) < 1e17) return String(x);
  return String(Number(x.toPrecision(17)));
}

const OK = Buffer.from('+OK\r\n');
const NULL_BULK = Buffer.from('$-1\r\n');
const NULL_ARRAY = Buffer.from('*-1\r\n');
const NULL3 = Buffer.from('_\r\n');
