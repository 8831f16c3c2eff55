// The options of XREAD and XREADGROUP, read as Redis's one xreadCommand reads them for both (t_stream.c):
// BLOCK, COUNT, then STREAMS and everything after it as keys and IDs; GROUP, NOACK and CLAIM only for
// XREADGROUP. (Their keys are found by registry.ts's lenient scan, as Redis's xreadGetKeys finds them: it
// accepts a request this parser refuses.)

import { CommandError, Err, GroupErr, ReadErr } from '../errors';
import { keywordEquals, toInt64 } from './args';

const LONG_MAX = 9223372036854775807n;

export interface ReadOptions {
  /** -1: no BLOCK; 0: block without a timeout; else milliseconds. */
  timeoutMs: number;
  /** 0: no COUNT (or one beyond 2^53, as good as none). */
  count: number;
  /** Index of the first key; the IDs follow the keys. */
  streamsArg: number;
  streamsCount: number;
  noack: boolean;
  /** CLAIM min-idle-time (Redis 8.4); -1n: not given. The last one given wins. */
  claimMinIdle: bigint;
  group: Buffer | null;
  consumer: Buffer | null;
}


/**
 * Parses args[1..] of XREAD (`group` false) or XREADGROUP. `now` is the command's time (BLOCK's deadline).
 * Throws Redis's errors, in Redis's order.
 */
export function parseReadOptions(args: readonly Buffer[], group: boolean, now: number): ReadOptions {
  const o: ReadOptions = { timeoutMs: -1, count: 0, streamsArg: 0, streamsCount: 0, noack: false, claimMinIdle: -1n, group: null, consumer: null };
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const opt = args[i];
    if (keywordEquals(opt, 'BLOCK') && more > 0) {
      i++;
      const t = toInt64(args[i], Err.timeoutNotInteger);
      if (t < 0n) throw new CommandError(Err.timeoutNegative);
      // Redis 7.0 adds the time and lets it wrap: a wrapped deadline sorts last in its timeout table (unsigned),
      // so such a client waits until served or unblocked, as BLOCK 0 does.
      o.timeoutMs = t > 0n && t > LONG_MAX - BigInt(now) ? 0 : Number(t);
    } else if (keywordEquals(opt, 'COUNT') && more > 0) {
      i++;
      const c = toInt64(args[i]);
      o.count = c < 0n || c > 2n ** 53n ? 0 : Number(c);
    } else if (keywordEquals(opt, 'STREAMS') && more > 0) {
      o.streamsArg = i + 1;
      const n = args.length - o.streamsArg;
      if (n % 2 !== 0) throw new CommandError(group ? Err.unbalancedXreadgroup : ReadErr.unbalanced);
      o.streamsCount = n / 2;
      break;
    } else if (keywordEquals(opt, 'GROUP') && more >= 2) {
      if (!group) throw new CommandError(ReadErr.groupOnlyInXreadgroup);
      o.group = args[i + 1];
      o.consumer = args[i + 2];
      i += 2;
    } else if (keywordEquals(opt, 'NOACK')) {
      if (!group) throw new CommandError(ReadErr.noackOnlyInXreadgroup);
      o.noack = true;
    } else if (group && keywordEquals(opt, 'CLAIM') && more > 0) {
      o.claimMinIdle = toInt64(args[++i], GroupErr.claimNotInteger);
      if (o.claimMinIdle < 0n) throw new CommandError(GroupErr.claimNegative);
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  if (o.streamsArg === 0) throw new CommandError(Err.syntax);
  if (group && (o.group === null || o.consumer === null)) throw new CommandError(GroupErr.missingGroupOption);
  return o;
}
