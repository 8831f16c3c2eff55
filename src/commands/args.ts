// The one argument reader. Handlers walk their arguments through it; every numeric and keyword rule and its
// error text lives here, so no command re-parses numbers or compares option names by hand.

import { CommandError, Err } from '../errors';
import { parseInt64, parseStrictInteger } from '../protocol/numbers';

export class ArgReader {
  private pos: number;

  constructor(
    readonly args: Buffer[],
    start: number,
  ) {
    this.pos = start;
  }

  /** Index of the next argument in the full request. */
  get position(): number {
    return this.pos;
  }

  set position(p: number) {
    this.pos = p;
  }

  get remaining(): number {
    return this.args.length - this.pos;
  }

  hasMore(): boolean {
    return this.pos < this.args.length;
  }

  peek(): Buffer | undefined {
    return this.args[this.pos];
  }

  /** The next argument; a syntax error when there is none. */
  next(): Buffer {
    if (this.pos >= this.args.length) throw new CommandError(Err.syntax);
    return this.args[this.pos++];
  }

  /** The next argument as a binary-safe string (latin1 maps bytes 1:1). */
  nextString(): string {
    return this.next().toString('latin1');
  }

  /** The next argument upper-cased, for option names. */
  nextKeyword(): string {
    return this.nextString().toUpperCase();
  }

  /** Consumes the next argument when it equals `word` case-insensitively. */
  accept(word: string): boolean {
    const arg = this.args[this.pos];
    if (arg === undefined || !keywordEquals(arg, word)) return false;
    this.pos++;
    return true;
  }

  /** The next argument as an int64-range integer (as a JS number; see intExact for bigints). */
  int(error: string = Err.notInteger): number {
    const v = parseStrictInteger(this.next());
    if (v === null) throw new CommandError(error);
    return v;
  }

  intExact(error: string = Err.notInteger): bigint {
    return toInt64(this.next(), error);
  }

  /** An integer that must be >= min, with Redis's "must be ..." style message when given. */
  intAtLeast(min: number, outOfRange: string, error: string = Err.notInteger): number {
    const v = this.int(error);
    if (v < min) throw new CommandError(outOfRange);
    return v;
  }

  /** The rest of the arguments. */
  rest(): Buffer[] {
    const out = this.args.slice(this.pos);
    this.pos = this.args.length;
    return out;
  }
}

export function keywordEquals(arg: Buffer, word: string): boolean {
  if (arg.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) {
    let c = arg[i];
    if (c >= 97 && c <= 122) c -= 32;
    let w = word.charCodeAt(i);
    if (w >= 97 && w <= 122) w -= 32;
    if (c !== w) return false;
  }
  return true;
}

/** The error texts of an `IDS numids id ...` block (each Redis 8 command words them its own way). */
export interface IdsBlockErrors {
  /** numids is not a positive integer. */
  readonly numIds: string;
  /** numids is larger than the arguments that follow. */
  readonly numIdsMismatch: string;
}

/**
 * Reads the `numids` of an `IDS numids id ...` block whose `IDS` word is args[at] (XDELEX, XACKDEL, XNACK): the
 * IDs are then args[at + 2 .. at + 2 + count). Returns count.
 */
export function idsBlockCount(args: readonly Buffer[], at: number, errors: IdsBlockErrors): number {
  const n = parseInt64(args[at + 1]);
  if (n === null || n < 1n) throw new CommandError(errors.numIds);
  if (n > BigInt(args.length - at - 2)) throw new CommandError(errors.numIdsMismatch);
  return Number(n);
}

/** Parses a whole argument as an int64 (string2ll's rules) as a bigint, or throws `error`. */
export function toInt64(arg: Buffer, error: string = Err.notInteger): bigint {
  const v = parseInt64(arg);
  if (v === null) throw new CommandError(error);
  return v;
}

/** Parses a whole argument as an integer with Redis's rules, or throws `error`. */
export function toInteger(arg: Buffer, error: string = Err.notInteger): number {
  const v = parseStrictInteger(arg);
  if (v === null) throw new CommandError(error);
  return v;
}
