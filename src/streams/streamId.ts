// Stream entry IDs: two unsigned 64-bit parts (milliseconds, sequence), kept as bigints so the full range
// 0-0 .. 18446744073709551615-18446744073709551615 is exact. Parsing follows t_stream.c's streamParseID family.

import { CommandError, Err } from '../errors';

export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const UINT64_MAX = 18446744073709551615n;
export const MIN_ID: StreamId = Object.freeze({ ms: 0n, seq: 0n });
export const MAX_ID: StreamId = Object.freeze({ ms: UINT64_MAX, seq: UINT64_MAX });

export function makeId(ms: bigint, seq: bigint): StreamId {
  return { ms, seq };
}

export function compareIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function idEquals(a: StreamId, b: StreamId): boolean {
  return a.ms === b.ms && a.seq === b.seq;
}

export function isZeroId(id: StreamId): boolean {
  return id.ms === 0n && id.seq === 0n;
}

export function formatId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

/** The next ID after `id`, or null when id is the largest possible. */
export function incrementId(id: StreamId): StreamId | null {
  if (id.seq === UINT64_MAX) {
    if (id.ms === UINT64_MAX) return null;
    return { ms: id.ms + 1n, seq: 0n };
  }
  return { ms: id.ms, seq: id.seq + 1n };
}

/** The ID before `id`, or null when id is 0-0. */
export function decrementId(id: StreamId): StreamId | null {
  if (id.seq === 0n) {
    if (id.ms === 0n) return null;
    return { ms: id.ms - 1n, seq: UINT64_MAX };
  }
  return { ms: id.ms, seq: id.seq - 1n };
}

/**
 * Redis's string2ull: a strict integer (string2ll rules) that must not be negative, or else whatever strtoull
 * accepts: leading white space, a sign ('-' wraps modulo 2^64, as C does), digits to the end, no overflow.
 */
function parseU64(s: string): bigint | null {
  if (/^(0|-?[1-9][0-9]{0,19})$/.test(s)) {
    const v = BigInt(s);
    if (v >= -(2n ** 63n) && v < 2n ** 63n) return v < 0n ? null : v;
  }
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (!m) return null;
  const magnitude = BigInt(m[2]);
  if (magnitude > UINT64_MAX) return null;
  return m[1] === '-' ? (UINT64_MAX + 1n - magnitude) % (UINT64_MAX + 1n) : magnitude;
}

export interface ParsedId {
  id: StreamId;
  /** True when the sequence part was `*` (XADD `ms-*`). */
  seqGiven: boolean;
}

/**
 * Parses `ms-seq`, `ms` (seq defaults to `missingSeq`), and, when `strict` is false, `-` and `+`.
 * Returns null for anything malformed. `allowSeqStar` accepts `ms-*` (XADD) and reports it via seqGiven=false.
 */
export function parseIdText(
  text: string,
  missingSeq: bigint,
  options: { strict?: boolean; allowSeqStar?: boolean } = {},
): ParsedId | null {
  if (text.length > 127) return null;
  if (!options.strict) {
    if (text === '-') return { id: MIN_ID, seqGiven: true };
    if (text === '+') return { id: MAX_ID, seqGiven: true };
  }
  const dash = text.indexOf('-');
  if (dash < 0) {
    const ms = parseU64(text);
    return ms === null ? null : { id: { ms, seq: missingSeq }, seqGiven: true };
  }
  const ms = parseU64(text.slice(0, dash));
  if (ms === null) return null;
  const seqText = text.slice(dash + 1);
  if (options.allowSeqStar && seqText === '*') return { id: { ms, seq: 0n }, seqGiven: false };
  const seq = parseU64(seqText);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}

/** streamParseStrictIDOrReply: `-`/`+` refused, missing seq taken as `missingSeq`. Throws the stream ID error. */
export function parseStrictId(arg: Buffer | string, missingSeq = 0n): StreamId {
  const parsed = parseIdText(typeof arg === 'string' ? arg : arg.toString('latin1'), missingSeq, { strict: true });
  if (parsed === null) throw new CommandError(Err.invalidStreamId);
  return parsed.id;
}

/**
 * streamParseIntervalIDOrReply (XRANGE, XPENDING bounds): `(` makes the bound exclusive (then `-`/`+` are
 * refused). Throws the stream ID error.
 */
export function parseIntervalId(text: string, missingSeq: bigint): { id: StreamId; exclusive: boolean } {
  if (text.length > 1 && text.charCodeAt(0) === 0x28 /* ( */) return { id: parseStrictId(text.slice(1), missingSeq), exclusive: true };
  return { id: parseId(text, missingSeq), exclusive: false };
}

/** streamParseIDOrReply: accepts `-` and `+`. Throws the stream ID error. */
export function parseId(arg: Buffer | string, missingSeq = 0n): StreamId {
  const parsed = parseIdText(typeof arg === 'string' ? arg : arg.toString('latin1'), missingSeq);
  if (parsed === null) throw new CommandError(Err.invalidStreamId);
  return parsed.id;
}
