// One request's arguments as offsets into the bytes they arrived in. The reader fills it in place, so a command
// that reads its arguments by position (the name, a key, an ID, the field/value spans) makes no object per
// argument; `args` makes the Buffer views (once) for code that wants a Buffer[]. A Request from the reader is
// reused for the next request: whatever outlives the command (MULTI's queue, a blocked client) keeps `args`.

import { argView } from './argView';

const INITIAL_ARGS = 16;

/** Buffer's own latin1 decoder (what toString('latin1', start, end) calls after checking its arguments). */
interface Latin1Slicer {
  latin1Slice(start: number, end: number): string;
}

export class Request {
  argc = 0;
  /** The buffer each argument lies in (a long request may span buffers the reader joined). */
  private srcs: Buffer[] = new Array<Buffer>(INITIAL_ARGS);
  private starts = new Int32Array(INITIAL_ARGS);
  private ends = new Int32Array(INITIAL_ARGS);
  private list: Buffer[] | null = null;

  /** A request over arguments already split into Buffers (EXEC's queue, replay, replication). */
  static of(args: Buffer[]): Request {
    const req = new Request();
    for (const a of args) req.push(a, 0, a.length);
    req.list = args;
    return req;
  }

  /** Empties it for the reader's next request. */
  reset(): void {
    this.argc = 0;
    this.list = null;
  }

  push(src: Buffer, start: number, end: number): void {
    const i = this.argc;
    if (i === this.starts.length) this.grow();
    this.srcs[i] = src;
    this.starts[i] = start;
    this.ends[i] = end;
    this.argc = i + 1;
  }

  private grow(): void {
    const starts = new Int32Array(this.starts.length * 2);
    starts.set(this.starts);
    this.starts = starts;
    const ends = new Int32Array(this.ends.length * 2);
    ends.set(this.ends);
    this.ends = ends;
  }

  /** Every argument as a Buffer view, made on first use. */
  get args(): Buffer[] {
    if (this.list === null) {
      const list = new Array<Buffer>(this.argc);
      for (let i = 0; i < this.argc; i++) list[i] = this.view(i);
      this.list = list;
    }
    return this.list;
  }

  /** Argument i as a Buffer view. */
  view(i: number): Buffer {
    return this.list !== null ? this.list[i] : argView(this.srcs[i], this.starts[i], this.ends[i]);
  }

  /** Arguments [from, to) as a new array of views (from the list when already made). */
  views(from: number, to: number): Buffer[] {
    if (this.list !== null) return this.list.slice(from, to);
    const out = new Array<Buffer>(to - from);
    for (let i = from; i < to; i++) out[i - from] = argView(this.srcs[i], this.starts[i], this.ends[i]);
    return out;
  }

  length(i: number): number {
    return this.ends[i] - this.starts[i];
  }

  /** Byte k of argument i (the caller checks k < length(i)). */
  byte(i: number, k: number): number {
    return this.srcs[i][this.starts[i] + k];
  }

  /** Argument i as a latin1 string (keys: one string, no view). */
  latin1(i: number): string {
    return (this.srcs[i] as unknown as Latin1Slicer).latin1Slice(this.starts[i], this.ends[i]);
  }

  /** keywordEquals on argument i: ASCII letters compared case-insensitively. */
  keyword(i: number, word: string): boolean {
    const n = word.length;
    if (this.ends[i] - this.starts[i] !== n) return false;
    const src = this.srcs[i];
    const s = this.starts[i];
    for (let k = 0; k < n; k++) {
      let c = src[s + k];
      if (c >= 97 && c <= 122) c -= 32;
      let w = word.charCodeAt(k);
      if (w >= 97 && w <= 122) w -= 32;
      if (c !== w) return false;
    }
    return true;
  }

  /** Whether argument i has exactly the bytes of `b`. */
  equals(i: number, b: Uint8Array): boolean {
    const n = b.length;
    if (this.ends[i] - this.starts[i] !== n) return false;
    const src = this.srcs[i];
    const s = this.starts[i];
    for (let k = 0; k < n; k++) if (src[s + k] !== b[k]) return false;
    return true;
  }
}
