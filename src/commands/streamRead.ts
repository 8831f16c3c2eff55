// Stream read commands: XRANGE, XREVRANGE, XLEN, XREAD (COUNT, BLOCK, `$`, and `+` for the last entry as Redis
// 7.4 added it). Semantics follow Redis 7.0.15's t_stream.c (xrangeGenericCommand, xreadCommand) and blocked.c.

import { CommandError, Err, ReadErr } from '../errors';
import { parseReadOptions } from './readOptions';
import { command, type CommandContext, type CommandSpec } from './types';
import { toInt64 } from './args';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { BlockRequest } from '../server/blocking';
import type { Database } from '../keyspace/database';
import type { Stream } from '../streams/stream';
import {
  type StreamId,
  MAX_ID,
  MIN_ID,
  compareIds,
  decrementId,
  formatId,
  incrementId,
  parseIntervalId,
  parseStrictId,
} from '../streams/streamId';


/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked reader without COUNT gets at most this many entries per wake-up. */
const BLOCKED_DEFAULT_COUNT = 1000;


function latin1(arg: Buffer): string {
  return arg.toString('latin1');
}

/**
 * One entry at an index position as Redis replies it, [id, [field, value, ...]], straight from the stored
 * record: the ID from the index's words and the items copied from the mapping, no object per entry.
 */
function writeEntryAt(reply: ReplyWriter, stream: Stream, abs: number): void {
  reply.array(2);
  const ms = stream.msAt(abs);
  const seq = stream.seqAt(abs);
  if (ms >= 0 && seq >= 0) reply.streamIdOf(ms, seq);
  else {
    const id = stream.idAt(abs);
    reply.streamId(id.ms, id.seq);
  }
  const items = stream.itemsAt(abs);
  let p = stream.itemsOffset;
  const count = items.readUInt32LE(p);
  p += 4;
  reply.array(count);
  for (let i = 0; i < count; i++) {
    const len = items.readUInt32LE(p);
    p += 4;
    reply.bulkFrom(items, p, p + len);
    p += len;
  }
}

/** Positions of one range reply; a reply is written as soon as its range is known, so one list serves all. */
const positions: number[] = [];

/** Writes the entries of [start, end] as an array. */
function writeRange(reply: ReplyWriter, stream: Stream, start: StreamId, end: StreamId, count: number, rev: boolean): void {
  const n = stream.positionsInRange(start, end, count, rev, positions);
  reply.array(n);
  for (let i = 0; i < n; i++) writeEntryAt(reply, stream, positions[i]);
}


// ---------------------------------------------------------------------------------------------------------
// XRANGE / XREVRANGE

function xrangeGeneric(ctx: CommandContext, rev: boolean): void {
  // Read in place (see Request): IDs and the key as strings, no Buffer per argument.
  const req = ctx.request;
  const startArg = req.latin1(rev ? 3 : 2);
  const endArg = req.latin1(rev ? 2 : 3);
  const s = parseIntervalId(startArg, 0n);
  let start = s.id;
  if (s.exclusive) {
    const next = incrementId(start);
    if (next === null) throw new CommandError(ReadErr.invalidStartInterval);
    start = next;
  }
  const e = parseIntervalId(endArg, 18446744073709551615n);
  let end = e.id;
  if (e.exclusive) {
    const prev = decrementId(end);
    if (prev === null) throw new CommandError(ReadErr.invalidEndInterval);
    end = prev;
  }
  let count = -1n;
  for (let j = 4; j < req.argc; j++) {
    const additional = req.argc - j - 1;
    if (req.keyword(j, 'COUNT') && additional >= 1) {
      count = toInt64(req.view(j + 1));
      if (count < 0n) count = 0n;
      j++;
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  const stream = ctx.db.get(req.latin1(1));
  if (!stream) {
    ctx.reply.array(0);
    return;
  }
  if (count === 0n) {
    ctx.reply.nullArray();
    return;
  }
  // A COUNT beyond 2^53 is as good as no limit.
  writeRange(ctx.reply, stream, start, end, count === -1n || count > 2n ** 53n ? 0 : Number(count), rev);
}

function xrange(ctx: CommandContext): void {
  xrangeGeneric(ctx, false);
}

function xrevrange(ctx: CommandContext): void {
  xrangeGeneric(ctx, true);
}

function xlen(ctx: CommandContext): void {
  const stream = ctx.db.get(latin1(ctx.args[1]));
  ctx.reply.integer(stream ? stream.length : 0);
}

// ---------------------------------------------------------------------------------------------------------
// XREAD

interface ServedStream {
  key: Buffer;
  stream: Stream;
  /** Index positions of the entries served, written before the stream can change. */
  positions: number[];
}

/** Entries of `stream` with IDs greater than `after`, at most `count` (0: all). */
function readAfter(key: Buffer, stream: Stream, after: StreamId, count: number): ServedStream {
  const served: ServedStream = { key, stream, positions: [] };
  const start = incrementId(after);
  if (start !== null) stream.positionsInRange(start, MAX_ID, count, false, served.positions);
  return served;
}

/** RESP2: [[key, entries], ...]; RESP3: {key: entries, ...}. */
function writeReadReply(reply: ReplyWriter, served: ServedStream[]): void {
  if (reply.protocol === 2) reply.array(served.length);
  else reply.map(served.length);
  for (const s of served) {
    if (reply.protocol === 2) reply.array(2);
    reply.bulk(s.key);
    reply.array(s.positions.length);
    for (let i = 0; i < s.positions.length; i++) writeEntryAt(reply, s.stream, s.positions[i]);
  }
}

function xread(ctx: CommandContext): void {
  const args = ctx.args;
  const { timeoutMs, count, streamsArg, streamsCount } = parseReadOptions(args, false, ctx.now);

  // IDs are resolved before anything is served: `$` is the stream's last generated ID now; `+` (7.4) reads the
  // last entry, so it stands for the ID just before it (the last generated ID when the stream is empty).
  const ids: StreamId[] = [];
  for (let n = 0; n < streamsCount; n++) {
    const stream = ctx.db.get(latin1(args[streamsArg + n]));
    const idArg = args[streamsArg + streamsCount + n];
    if (idArg.length === 1 && idArg[0] === 0x24 /* $ */) {
      ids.push(stream ? stream.lastId : MIN_ID);
    } else if (idArg.length === 1 && idArg[0] === 0x2b /* + */) {
      const last = stream ? stream.lastValidId() : null;
      ids.push(last ? (decrementId(last) ?? MIN_ID) : stream ? stream.lastId : MIN_ID);
    } else if (idArg.length === 1 && idArg[0] === 0x3e /* > */) {
      throw new CommandError(Err.xreadGreaterOutsideGroup);
    } else {
      ids.push(parseStrictId(idArg));
    }
  }

  const served: ServedStream[] = [];
  for (let n = 0; n < streamsCount; n++) {
    const stream = ctx.db.get(latin1(args[streamsArg + n]));
    if (!stream || stream.length === 0) continue;
    // Served at once only when an entry beyond the ID exists.
    const top = stream.lastValidId()!;
    if (compareIds(top, ids[n]) <= 0) continue;
    served.push(readAfter(args[streamsArg + n], stream, ids[n], count));
  }
  if (served.length > 0) {
    writeReadReply(ctx.reply, served);
    return;
  }
  if (timeoutMs === -1 || ctx.inTransaction) {
    ctx.reply.nullArray();
    return;
  }
  const keys: string[] = [];
  const waits = new Map<string, BlockedWait>();
  const blockedCount = count || BLOCKED_DEFAULT_COUNT;
  for (let n = 0; n < streamsCount; n++) {
    const key = latin1(args[streamsArg + n]);
    keys.push(key);
    // With a key named twice, Redis keeps the first ID (dictAdd of the blocking keys fails for the repeat).
    if (!waits.has(key)) {
      const after = ids[n];
      waits.set(key, { keyArg: args[streamsArg + n], after, share: `${formatId(after)}/${blockedCount}/` });
    }
  }
  ctx.block(new BlockedRead(ctx.db, keys, timeoutMs, waits, blockedCount));
}

interface BlockedWait {
  readonly keyArg: Buffer;
  readonly after: StreamId;
  /** The part of the share key fixed at block time: start ID and COUNT. */
  readonly share: string;
}

/** A blocked XREAD (serveClientsBlockedOnStreamKey in 7.0). One object per client, no closures. */
class BlockedRead implements BlockRequest {
  constructor(
    private readonly db: Database,
    readonly keys: readonly string[],
    readonly timeoutMs: number,
    private readonly waits: Map<string, BlockedWait>,
    private readonly count: number,
  ) {}

  tryServe(key: string, reply: ReplyWriter): boolean {
    const wait = this.waits.get(key)!;
    const stream = this.db.get(key);
    // A deleted key keeps an XREAD client waiting (7.0 only errors XREADGROUP readers).
    if (!stream) return false;
    // 7.0 compares the last generated ID: an entry added then deleted still wakes the reader (with no entries).
    if (compareIds(stream.lastId, wait.after) <= 0) return false;
    writeReadReply(reply, [readAfter(wait.keyArg, stream, wait.after, this.count)]);
    return true;
  }

  onTimeout(reply: ReplyWriter): void {
    reply.nullArray();
  }

  /**
   * Plain XREAD changes nothing when served: readers of the same key with the same start ID, COUNT and
   * protocol get the same bytes (the key name is the key itself), so a wake-up encodes them once.
   */
  shareKey(key: string, protocol: number): string {
    return this.waits.get(key)!.share + protocol;
  }
}

// ---------------------------------------------------------------------------------------------------------

const STREAM = { group: 'stream' } as const;
const KEY_AT_1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const streamReadCommands: CommandSpec[] = [
  command({
    name: 'xrange',
    arity: -4,
    flags: ['readonly'],
    ...KEY_AT_1,
    aclCategories: ['@read', '@stream', '@slow'],
    ...STREAM,
    summary: 'Return a range of elements in a stream, with IDs matching the specified IDs interval',
    since: '5.0.0',
    complexity:
      'O(N) with N being the number of elements being returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    handler: xrange,
  }),
  command({
    name: 'xrevrange',
    arity: -4,
    flags: ['readonly'],
    ...KEY_AT_1,
    aclCategories: ['@read', '@stream', '@slow'],
    ...STREAM,
    summary:
      'Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE',
    since: '5.0.0',
    complexity:
      'O(N) with N being the number of elements returned. If N is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1).',
    handler: xrevrange,
  }),
  command({
    name: 'xlen',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@read', '@stream', '@fast'],
    ...STREAM,
    summary: 'Return the number of entries in a stream',
    since: '5.0.0',
    complexity: 'O(1)',
    handler: xlen,
  }),
  command({
    name: 'xread',
    arity: -4,
    // COMMAND INFO also reports movablekeys (keys follow STREAMS); the captured table carries it.
    flags: ['readonly', 'blocking'],
    aclCategories: ['@read', '@stream', '@slow', '@blocking'],
    ...STREAM,
    summary:
      'Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.',
    since: '5.0.0',
    complexity:
      'For each stream mentioned: O(N) with N being the number of elements being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients blocked on the stream getting new data.',
    handler: xread,
  }),
];
