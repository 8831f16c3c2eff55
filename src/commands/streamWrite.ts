// Stream write commands: XADD, XDEL, XTRIM, XSETID. Argument rules, error texts and their order follow Redis
// 7.0.15's t_stream.c (streamParseAddOrTrimArgsOrReply, xaddCommand, xdelCommand, xtrimCommand, xsetidCommand),
// plus Redis 8.2's KEEPREF | DELREF | ACKED trim policy (Redis 7 takes that word for a bad ID or a syntax error).

import { CommandError, Err, IdmpErr, WriteErr } from '../errors';
import { IdmpTable, autoIid } from '../streams/idmp';
import { keywordEquals, toInt64 } from './args';
import { checkSinglePolicy, refPolicyOf } from './refPolicy';
import type { RefPolicy } from '../streams/references';
import { command, type CommandContext, type CommandSpec } from './types';
import type { Request } from '../protocol/request';
import { changeLog, recordTrim } from './changes';
import { ChangeType } from '../streams/changeRecords';
import type { Stream, TrimSpec } from '../streams/stream';
import { type ParsedId, type StreamId, MIN_ID, parseIdText, parseStrictId } from '../streams/streamId';



/** Whether argument i is the single byte `ch`. */
function isSingle(req: Request, i: number, ch: number): boolean {
  return req.length(i) === 1 && req.byte(i, 0) === ch;
}

/** Whether argument i starts as only an XADD ID can: `*` alone, or a digit. */
function isIdStart(req: Request, i: number): boolean {
  if (req.length(i) === 0) return false;
  const first = req.byte(i, 0);
  return (first === 0x2a /* * */ && req.length(i) === 1) || (first >= 0x30 && first <= 0x39);
}

/** XADD's explicit ID (`ms-seq`, `ms`, or `ms-*`), or the stream ID error. */
function parseXaddId(text: string): ParsedId {
  const parsed = parseIdText(text, 0n, { strict: true, allowSeqStar: true });
  if (parsed === null) throw new CommandError(Err.invalidStreamId);
  return parsed;
}

/** XADD IDMP pid iid / IDMPAUTO pid (Redis 8.6); `iid` null for IDMPAUTO (derived from the fields). */
interface IdmpArgs {
  pid: string;
  iid: string | null;
}

interface AddTrimArgs {
  trim: TrimSpec | null;
  noMkStream: boolean;
  idmp: IdmpArgs | null;
  /** null: `*` (or no ID found: the arity check then fails). */
  id: ParsedId | null;
  /** Index of the ID argument (XADD); args.length when none was found. */
  idPos: number;
}

/**
 * streamParseAddOrTrimArgsOrReply: options from argument 2 on, for XADD (`xadd`) or XTRIM, read from the
 * request in place (a Buffer view only for an option value parsed as an integer or a policy word).
 */
function parseAddOrTrim(ctx: CommandContext, xadd: boolean): AddTrimArgs {
  const req = ctx.request;
  let strategy: 'maxlen' | 'minid' | null = null;
  let approx = false;
  let maxLen = 0n;
  let minId: StreamId = MIN_ID;
  let limit = 0n;
  let limitGiven = false;
  let noMkStream = false;
  let policy: RefPolicy | null = null;
  let idmp: IdmpArgs | null = null;
  let id: ParsedId | null = null;
  let i = 2;
  for (; i < req.argc; i++) {
    const more = req.argc - 1 - i;
    let named: RefPolicy | null;
    if (xadd && isIdStart(req, i)) {
      // XADD's ID is the first argument that is no option; no option starts with `*` or a digit, so such an
      // argument is the ID without trying every keyword (most XADDs have no option at all).
      if (!isSingle(req, i, 0x2a /* * */)) id = parseXaddId(req.latin1(i));
      break;
    } else if ((req.keyword(i, 'MAXLEN') || req.keyword(i, 'MINID')) && more > 0) {
      const isMaxLen = req.length(i) === 6;
      if (strategy !== null) throw new CommandError(WriteErr.maxlenAndMinid);
      approx = false;
      if (more >= 2 && isSingle(req, i + 1, 0x7e /* ~ */)) {
        approx = true;
        i++;
      } else if (more >= 2 && isSingle(req, i + 1, 0x3d /* = */)) {
        i++;
      }
      if (isMaxLen) {
        maxLen = toInt64(req.view(i + 1));
        if (maxLen < 0n) throw new CommandError(WriteErr.maxlenNegative);
        strategy = 'maxlen';
      } else {
        minId = parseStrictId(req.latin1(i + 1));
        strategy = 'minid';
      }
      i++;
    } else if (req.keyword(i, 'LIMIT') && more > 0) {
      limit = toInt64(req.view(i + 1));
      if (limit < 0n) throw new CommandError(WriteErr.limitNegative);
      limitGiven = true;
      i++;
    } else if (xadd && req.keyword(i, 'NOMKSTREAM')) {
      noMkStream = true;
    } else if ((named = refPolicyOf(req.view(i))) !== null) {
      checkSinglePolicy(policy);
      policy = named;
    } else if (xadd && req.keyword(i, 'IDMP') && more >= 2) {
      if (idmp !== null) throw new CommandError(IdmpErr.twice);
      if (req.length(i + 1) === 0) throw new CommandError(IdmpErr.emptyPid);
      if (req.length(i + 2) === 0) throw new CommandError(IdmpErr.emptyIid);
      idmp = { pid: req.latin1(i + 1), iid: req.latin1(i + 2) };
      i += 2;
    } else if (xadd && req.keyword(i, 'IDMPAUTO') && more >= 1) {
      if (idmp !== null) throw new CommandError(IdmpErr.twice);
      if (req.length(i + 1) === 0) throw new CommandError(IdmpErr.emptyAutoPid);
      idmp = { pid: req.latin1(i + 1), iid: null };
      i += 1;
    } else if (xadd) {
      // Not an option: it must be the ID.
      id = parseXaddId(req.latin1(i));
      break;
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  if (idmp !== null && id !== null) throw new CommandError(IdmpErr.autoIdOnly);
  if (limit !== 0n && strategy === null) throw new CommandError(WriteErr.limitWithoutStrategy);
  if (!xadd && strategy === null) throw new CommandError(WriteErr.xtrimNoStrategy);
  if (limitGiven) {
    if (!approx) throw new CommandError(WriteErr.limitWithoutApprox);
  } else if (approx) {
    limit = BigInt(ctx.server.streamSettings.nodeMaxEntries) * 100n;
    if (limit <= 0n) limit = 10000n;
  } else {
    limit = 0n;
  }
  let trim: TrimSpec | null = null;
  if (strategy !== null) {
    trim = {
      strategy,
      // Lengths beyond 2^53 behave as "no trimming" either way: a stream cannot be that long.
      maxLen: Number(maxLen),
      minId,
      approx,
      limit: Number(limit),
      ...(policy !== null && policy !== 'keepref' ? { policy } : {}),
    };
  }
  // `XADD key * ...`, nothing else given: one shared value rather than an object per XADD.
  if (trim === null && !noMkStream && idmp === null && id === null && i === 2) return STAR_ID_FIRST;
  return { trim, noMkStream, idmp, id, idPos: i };
}

const STAR_ID_FIRST: AddTrimArgs = Object.freeze({ trim: null, noMkStream: false, idmp: null, id: null, idPos: 2 });

function latin1(arg: Buffer): string {
  return arg.toString('latin1');
}

// ---------------------------------------------------------------------------------------------------------

function xadd(ctx: CommandContext): void {
  const req = ctx.request;
  const parsed = parseAddOrTrim(ctx, true);
  const fieldPos = parsed.idPos + 1;
  const pairsLen = req.argc - fieldPos;
  if (pairsLen < 2 || pairsLen % 2 === 1) throw new CommandError(Err.wrongArity('xadd'));
  const idArg = parsed.id;
  if (idArg !== null && idArg.seqGiven && idArg.id.ms === 0n && idArg.id.seq === 0n) {
    throw new CommandError(Err.xaddIdZero);
  }
  const key = req.latin1(1);
  let stream: Stream | undefined = ctx.db.get(key);
  if (!stream) {
    if (parsed.noMkStream) {
      ctx.reply.nullBulk();
      return;
    }
    stream = ctx.server.createStream(ctx.db, key);
    ctx.db.set(key, stream);
  }
  const fields = req.views(fieldPos, req.argc);
  const idmp = parsed.idmp;
  let iid: string | null = null;
  if (idmp !== null) {
    iid = idmp.iid ?? autoIid(fields);
    const table = (stream.idmp ??= new IdmpTable());
    const original = table.lookup(idmp.pid, iid, ctx.now, stream.idmpDuration);
    if (original !== null) {
      // A retry: the entry it added answers, nothing is added or trimmed (and nothing is recorded).
      table.duplicates++;
      ctx.reply.streamId(original.ms, original.seq);
      return;
    }
  }
  stream.append(fields, idArg, ctx.now);
  if (idmp !== null) {
    const id = stream.lastId;
    stream.idmp!.record(idmp.pid, iid!, id, ctx.now, stream.idmpMaxsize);
    changeLog(ctx.server)?.record(stream, { type: ChangeType.IDMP, pid: idmp.pid, iid: iid!, id, time: ctx.now });
  }
  const ms = stream.lastIdMs;
  const seq = stream.lastIdSeq;
  if (ms >= 0 && seq >= 0) ctx.reply.streamIdOf(ms, seq);
  else ctx.reply.streamId(stream.lastId.ms, stream.lastId.seq);
  ctx.db.touch(key);
  // The entry is its ENTRY record already; a trim that removed entries is recorded as its exact effect.
  if (parsed.trim && stream.trim(parsed.trim) > 0) recordTrim(ctx.server, stream, parsed.trim);
  // Retention (maxage/maxbytes): trimmed once this XADD's records are written (see src/server/retention.ts).
  const retention = ctx.server.retention;
  if (stream.settingsOverride !== null || retention.defaultsActive) retention.changed(ctx.db, stream);
  ctx.db.signalReady(key);
}

function xdel(ctx: CommandContext): void {
  const args = ctx.args;
  const key = latin1(args[1]);
  const stream = ctx.db.get(key);
  if (!stream) {
    ctx.reply.integer(0);
    return;
  }
  // Every ID is checked before any is deleted.
  const ids: StreamId[] = [];
  for (let j = 2; j < args.length; j++) ids.push(parseStrictId(args[j]));
  const deleted: StreamId[] = [];
  for (const id of ids) if (stream.delete(id)) deleted.push(id);
  if (deleted.length > 0) {
    ctx.db.touch(key);
    changeLog(ctx.server)?.record(stream, { type: ChangeType.DELETE, ids: deleted, delref: false });
  }
  ctx.reply.integer(deleted.length);
}

function xtrim(ctx: CommandContext): void {
  const parsed = parseAddOrTrim(ctx, false);
  const key = ctx.request.latin1(1);
  const stream = ctx.db.get(key);
  if (!stream) {
    ctx.reply.integer(0);
    return;
  }
  const deleted = stream.trim(parsed.trim!);
  if (deleted > 0) {
    ctx.db.touch(key);
    recordTrim(ctx.server, stream, parsed.trim!);
  }
  ctx.reply.integer(deleted);
}

function xsetid(ctx: CommandContext): void {
  const args = ctx.args;
  const id = parseStrictId(args[2]);
  let entriesAdded: bigint | undefined;
  let maxDeleted: StreamId | undefined;
  for (let i = 3; i < args.length; ) {
    const more = args.length - 1 - i;
    const opt = args[i];
    if (keywordEquals(opt, 'ENTRIESADDED') && more > 0) {
      entriesAdded = toInt64(args[i + 1]);
      if (entriesAdded < 0n) throw new CommandError(Err.xsetidEntriesAddedNegative);
      i += 2;
    } else if (keywordEquals(opt, 'MAXDELETEDID') && more > 0) {
      maxDeleted = parseStrictId(args[i + 1]);
      if (id.ms < maxDeleted.ms || (id.ms === maxDeleted.ms && id.seq < maxDeleted.seq)) {
        throw new CommandError(Err.xsetidMaxDeletedSmall);
      }
      i += 2;
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  const key = latin1(args[1]);
  const stream = ctx.db.get(key);
  if (!stream) throw new CommandError(Err.noSuchKey);
  stream.setId(id, entriesAdded, maxDeleted);
  const log = changeLog(ctx.server);
  if (log !== null) {
    log.record(stream, { type: ChangeType.SETID, lastId: stream.lastId, entriesAdded: stream.entriesAdded, maxDeletedId: stream.maxDeletedId });
  }
  // No touch: Redis 7.0's xsetidCommand does not signal the key modified, so WATCH does not see XSETID
  // (checked against redis-server 7.0.15; later versions changed this).
  ctx.reply.ok();
}

// ---------------------------------------------------------------------------------------------------------

const STREAM = { group: 'stream' } as const;
const KEY_AT_1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const streamWriteCommands: CommandSpec[] = [
  command({
    name: 'xadd',
    arity: -5,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary: 'Appends a new entry to a stream',
    since: '5.0.0',
    complexity: 'O(1) when adding a new entry, O(N) when trimming where N being the number of entries evicted.',
    handler: xadd,
  }),
  command({
    name: 'xdel',
    arity: -3,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary:
      'Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.',
    since: '5.0.0',
    complexity: 'O(1) for each single item to delete in the stream, regardless of the stream size.',
    handler: xdel,
  }),
  command({
    name: 'xtrim',
    arity: -4,
    flags: ['write'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@slow'],
    ...STREAM,
    summary: "Trims the stream to (approximately if '~' is passed) a certain size",
    since: '5.0.0',
    complexity:
      'O(N), with N being the number of evicted entries. Constant times are very small however, since entries are organized in macro nodes containing multiple entries that can be released with a single deallocation.',
    handler: xtrim,
  }),
  command({
    name: 'xsetid',
    arity: -3,
    flags: ['write', 'denyoom', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary: 'An internal command for replicating stream values',
    since: '5.0.0',
    complexity: 'O(1)',
    handler: xsetid,
  }),
];
