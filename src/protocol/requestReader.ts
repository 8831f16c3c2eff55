// Frames client requests: RESP multibulk (`*N` then `$len` bulks) and inline commands, as Redis's
// processMultibulkBuffer/processInlineBuffer do, with the same limits and protocol-error texts.
//
// Why not redis-parser: it parses *replies* (it accepts `+`, `-`, `:` and nested arrays, and allocates
// `new Array(n)` for whatever n a client declares). Guarding it would need a full header scan of every frame,
// which already yields the argument offsets, so the scan *is* the parser. Doing it here keeps one pass, zero
// copies of argument bytes (arguments are views of the received chunk), and memory charged only for bytes that
// actually arrived: a declared 512 MiB bulk allocates nothing until its bytes are on the socket.

import { parseStrictInteger } from './numbers';
import { splitInlineArgs } from './inline';
import { Request } from './request';

/** Redis's PROTO_INLINE_MAX_SIZE: the longest inline request or header line before a protocol error. */
export const INLINE_MAX_SIZE = 64 * 1024;
/** Bodies longer than this are gathered chunk by chunk and joined once, instead of re-joining per chunk. */
const GATHER_THRESHOLD = 32 * 1024;
const EMPTY = Buffer.alloc(0);
const CR = 13;
const LF = 10;

export class ProtocolError extends Error {
  /** The error reply sent before the connection is closed. */
  constructor(readonly reply: string) {
    super(reply);
  }
}

export interface ReaderLimits {
  /** proto-max-bulk-len */
  maxBulkLength: number;
}

/** Bytes findLineEnd scans byte by byte before it switches to Buffer.indexOf (long inline lines). */
const SHORT_LINE_SCAN = 32;

export class RequestReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  /** The request being read (reused: see request.ts); `reading` while its multibulk is incomplete. */
  private readonly req = new Request();
  private reading = false;
  private argsLeft = 0;
  /** Length of the bulk whose body is awaited, or -1 when its `$len` header is next. */
  private bulkLength = -1;
  /** Chunks held back while a large body arrives (joined once when complete). */
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private gatherTarget = 0;
  /** Before AUTH Redis accepts only small requests (multibulk <= 10, bulks <= 16 KiB). */
  authenticated = true;

  constructor(private readonly limits: ReaderLimits) {}

  /** Bytes received and not yet handed out as a request: what client-query-buffer-limit bounds. */
  get bufferedBytes(): number {
    return this.buf.length - this.pos + this.gatheredBytes;
  }

  feed(chunk: Buffer): void {
    if (this.gatherTarget > 0) {
      this.gathered.push(chunk);
      this.gatheredBytes += chunk.length;
      if (this.gatheredBytes < this.gatherTarget) return;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.gathered]);
      this.pos = 0;
      this.gathered = [];
      this.gatheredBytes = 0;
      this.gatherTarget = 0;
      return;
    }
    if (this.pos >= this.buf.length) this.buf = chunk;
    else this.buf = Buffer.concat([this.buf.subarray(this.pos), chunk]);
    this.pos = 0;
  }

  /**
   * The next complete request, or undefined when more bytes are needed. Throws ProtocolError. The Request is
   * the reader's own, valid until the next call.
   */
  next(): Request | undefined {
    for (;;) {
      if (!this.reading) {
        if (this.pos >= this.buf.length) return undefined;
        if (this.buf[this.pos] !== 0x2a /* '*' */) {
          const inline = this.readInline();
          if (inline === undefined) return undefined;
          if (inline.length === 0) continue;
          this.req.reset();
          for (const a of inline) this.req.push(a, 0, a.length);
          return this.req;
        }
        const count = this.readHeaderLine('too big mbulk count string');
        if (count === undefined) return undefined;
        if (count === null || count > 2147483647) throw new ProtocolError('ERR Protocol error: invalid multibulk length');
        if (count > 10 && !this.authenticated)
          throw new ProtocolError('ERR Protocol error: unauthenticated multibulk length');
        if (count <= 0) continue;
        this.req.reset();
        this.reading = true;
        this.argsLeft = count;
      }
      while (this.argsLeft > 0) {
        if (this.bulkLength < 0) {
          if (this.pos >= this.buf.length) return undefined;
          const marker = this.buf[this.pos];
          const length = this.readHeaderLine('too big bulk count string');
          if (length === undefined) return undefined;
          if (marker !== 0x24 /* '$' */)
            throw new ProtocolError(`ERR Protocol error: expected '$', got '${String.fromCharCode(marker)}'`);
          if (length === null || length < 0 || length > this.limits.maxBulkLength)
            throw new ProtocolError('ERR Protocol error: invalid bulk length');
          if (length > 16384 && !this.authenticated)
            throw new ProtocolError('ERR Protocol error: unauthenticated bulk length');
          this.bulkLength = length;
        }
        const available = this.buf.length - this.pos;
        const needed = this.bulkLength + 2;
        if (available < needed) {
          if (needed - available > GATHER_THRESHOLD) this.gatherTarget = needed - available;
          return undefined;
        }
        this.req.push(this.buf, this.pos, this.pos + this.bulkLength);
        // Like Redis, the two bytes after a body are skipped, not checked.
        this.pos += needed;
        this.bulkLength = -1;
        this.argsLeft--;
      }
      this.reading = false;
      return this.req;
    }
  }

  /**
   * Reads a `<marker><integer>\r\n` line at pos. Returns undefined when the line is incomplete, null when the
   * integer is malformed, else the integer, and advances past the line.
   */
  private readHeaderLine(tooBig: string): number | null | undefined {
    const cr = this.findLineEnd(CR);
    if (cr < 0 || cr + 1 >= this.buf.length) {
      if (this.buf.length - this.pos > INLINE_MAX_SIZE) throw new ProtocolError(`ERR Protocol error: ${tooBig}`);
      return undefined;
    }
    const value = parseStrictInteger(this.buf, this.pos + 1, cr);
    this.pos = cr + 2;
    return value;
  }

  /**
   * Index of the first `byte` at or after pos, or -1. Redis looks for line ends with strchr() on its
   * NUL-terminated query buffer, so a NUL byte before the line end hides it: Redis then keeps waiting for more
   * input (until the 64 KiB line limit gives a protocol error). Matching that keeps replies byte-identical for
   * inputs such as `ECHO a\0b\r\n` (Redis: no reply; then "too big inline request" once 64 KiB are buffered).
   */
  private findLineEnd(byte: number): number {
    // Header lines (`$100`, `*5`) are a few bytes: a plain loop beats two native searches and a subarray.
    const buf = this.buf;
    const shortEnd = Math.min(buf.length, this.pos + SHORT_LINE_SCAN);
    for (let i = this.pos; i < shortEnd; i++) {
      const b = buf[i];
      if (b === byte) return i;
      if (b === 0) return -1;
    }
    if (shortEnd === buf.length) return -1;
    const end = buf.indexOf(byte, shortEnd);
    if (end < 0) return -1;
    const nul = buf.subarray(shortEnd, end).indexOf(0);
    return nul < 0 ? end : -1;
  }

  private readInline(): Buffer[] | undefined {
    const lf = this.findLineEnd(LF);
    if (lf < 0) {
      if (this.buf.length - this.pos > INLINE_MAX_SIZE) throw new ProtocolError('ERR Protocol error: too big inline request');
      return undefined;
    }
    let end = lf;
    if (end > this.pos && this.buf[end - 1] === CR) end--;
    const line = this.buf.subarray(this.pos, end);
    this.pos = lf + 1;
    const args = splitInlineArgs(line);
    if (args === null) throw new ProtocolError('ERR Protocol error: unbalanced quotes in request');
    return args;
  }
}
