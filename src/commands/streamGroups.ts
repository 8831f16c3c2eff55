// Consumer group commands: XGROUP (CREATE, SETID, DESTROY, CREATECONSUMER, DELCONSUMER, HELP), XREADGROUP,
// XACK, XPENDING, XCLAIM, XAUTOCLAIM. Semantics and error texts follow Redis 7.0.15's t_stream.c and
// blocked.c; where 7.0 differs from later versions (consumers created lazily by XCLAIM/XAUTOCLAIM and only
// when XREADGROUP serves, deleted entries dropped from the PEL by XCLAIM), 7.0 wins.

import { CommandError, Err, GroupErr } from '../errors';
import { keywordEquals, toInt64 } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { Database } from '../keyspace/database';
import {
  type Stream,
  estimateDistanceFromFirstEverEntry,
  rangeHasTombstones,
} from '../streams/stream';
import {
  ConsumerGroup,
  INVALID_ENTRIES_READ,
  type Consumer,
  type GroupStreamFacts,
} from '../streams/consumerGroup';
import {
  type StreamId,
  MAX_ID,
  MIN_ID,
  compareIds,
  decrementId,
  formatId,
  idEquals,
  incrementId,
  parseId,
  parseIntervalId,
  parseIdText,
  parseStrictId,
} from '../streams/streamId';
import { parseInt64 } from '../protocol/numbers';
import { propagateClaims, propagateRead } from './groupPropagation';
import { parseReadOptions } from './readOptions';
import { changeLog } from './changes';
import { ChangeType, type ClaimedNack } from '../streams/changeRecords';
import type { ServerState } from '../server/serverState';

// Texts used only by this family (candidates for the shared catalog in errors.ts).

/** XREAD_BLOCKED_DEFAULT_COUNT: a blocked reader without COUNT gets at most this many entries per wake-up. */
const BLOCKED_DEFAULT_COUNT = 1000;
/** XAUTOCLAIM looks at most COUNT * this many PEL entries per call. */
const AUTOCLAIM_ATTEMPTS_FACTOR = 10;
const LONG_MAX = 9223372036854775807n;

// ---------------------------------------------------------------------------------------------------------
// Shared helpers (also used by streamInfo.ts)

/** The stream facts the group's entries-read / lag rules need, read live from the stream. */
export function streamFacts(s: Stream): GroupStreamFacts {
  return {
    get entriesAdded() {
      return s.entriesAdded;
    },
    get length() {
      return s.length;
    },
    hasTombstonesFrom: (start) => rangeHasTombstones(s, start, MAX_ID),
    estimateDistance: (id) => estimateDistanceFromFirstEverEntry(s, id),
  };
}

/** One entry as Redis replies it: [id, [field, value, ...]]; a deleted entry seen in a PEL has null fields. */
export function writeEntry(reply: ReplyWriter, id: StreamId, fields: Buffer[] | null): void {
  reply.array(2);
  reply.streamId(id.ms, id.seq);
  if (fields === null) {
    reply.nullArray();
    return;
  }
  reply.array(fields.length);
  for (const f of fields) reply.bulk(f);
}

/** Redis's addReplyHelp: a heading, the lines, and the HELP entry, each a status reply. */
export function writeHelp(reply: ReplyWriter, container: string, lines: readonly string[]): void {
  reply.array(lines.length + 3);
  reply.simple(`${container} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`);
  for (const line of lines) reply.simple(line);
  reply.simple('HELP');
  reply.simple('    Prints this help.');
}

/** Parses a long long argument (string2ll rules) or throws `error`. */


function latin1(arg: Buffer): string {
  return arg.toString('latin1');
}

function bumpNotNull(v: StreamId | null, error: string): StreamId {
  if (v === null) throw new CommandError(error);
  return v;
}

// ---------------------------------------------------------------------------------------------------------
// XGROUP

const XGROUP_HELP = [
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  "      Set the group's entries_read counter (internal use).",
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
];

interface XgroupTarget {
  key: string;
  groupName: string;
  stream: Stream | undefined;
  group: ConsumerGroup | undefined;
  mkstream: boolean;
  entriesRead: bigint;
}

/**
 * The common prologue of xgroupCommand: options of CREATE/SETID, then the key (which must exist unless
 * MKSTREAM) and, for SETID/CREATECONSUMER/DELCONSUMER, the group.
 */
function xgroupPrologue(ctx: CommandContext, sub: 'create' | 'setid' | 'destroy' | 'createconsumer' | 'delconsumer'): XgroupTarget {
  const args = ctx.args;
  let mkstream = false;
  let entriesRead = INVALID_ENTRIES_READ;
  for (let i = 5; i < args.length; ) {
    if (sub === 'create' && keywordEquals(args[i], 'MKSTREAM')) {
      mkstream = true;
      i++;
    } else if ((sub === 'create' || sub === 'setid') && keywordEquals(args[i], 'ENTRIESREAD') && i + 1 < args.length) {
      entriesRead = toInt64(args[i + 1]);
      if (entriesRead < 0n && entriesRead !== INVALID_ENTRIES_READ) throw new CommandError(GroupErr.entriesReadRange);
      i += 2;
    } else {
      throw new CommandError(Err.unknownSubcommandOrArity(args[1], 'xgroup'));
    }
  }
  const key = latin1(args[2]);
  const groupName = latin1(args[3]);
  const stream = ctx.db.get(key);
  let group: ConsumerGroup | undefined;
  if (!mkstream) {
    if (!stream) throw new CommandError(Err.xgroupKeyMissing);
    group = stream.groups.get(groupName);
    if (!group && (sub === 'setid' || sub === 'createconsumer' || sub === 'delconsumer')) {
      throw new CommandError(GroupErr.noGroupForKey(groupName, key));
    }
  }
  return { key, groupName, stream, group, mkstream, entriesRead };
}

function xgroupCreate(ctx: CommandContext): void {
  const t = xgroupPrologue(ctx, 'create');
  if (ctx.args.length > 8) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'xgroup'));
  const idArg = latin1(ctx.args[4]);
  const id = idArg === '$' ? (t.stream ? t.stream.lastId : MIN_ID) : parseStrictId(idArg);
  let stream = t.stream;
  if (!stream) {
    // MKSTREAM, now that the command can no longer fail.
    stream = ctx.server.createStream(ctx.db, t.key);
    ctx.db.set(t.key, stream);
  }
  if (stream.groups.has(t.groupName)) throw new CommandError(Err.busyGroup);
  // Redis 7.0 does not signal a modified key here: a WATCH is not aborted by XGROUP CREATE.
  stream.groups.set(t.groupName, new ConsumerGroup(t.groupName, id, t.entriesRead));
  changeLog(ctx.server)?.record(stream, { type: ChangeType.GROUP_CREATE, group: t.groupName, lastId: id, entriesRead: t.entriesRead });
  ctx.reply.ok();
}

// Like XGROUP CREATE, SETID and CREATECONSUMER (and XREADGROUP) leave WATCHes alone in Redis 7.0.
function xgroupSetId(ctx: CommandContext): void {
  const t = xgroupPrologue(ctx, 'setid');
  if (ctx.args.length !== 5 && ctx.args.length !== 7) {
    throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'xgroup'));
  }
  const idArg = latin1(ctx.args[4]);
  const id = idArg === '$' ? t.stream!.lastId : parseId(idArg);
  const group = t.group!;
  group.lastId = id;
  group.entriesRead = t.entriesRead;
  changeLog(ctx.server)?.record(t.stream!, { type: ChangeType.GROUP_SETID, group: t.groupName, lastId: id, entriesRead: t.entriesRead });
  ctx.reply.ok();
}

function xgroupDestroy(ctx: CommandContext): void {
  const t = xgroupPrologue(ctx, 'destroy');
  if (!t.group) {
    ctx.reply.integer(0);
    return;
  }
  t.stream!.groups.delete(t.groupName);
  changeLog(ctx.server)?.record(t.stream!, { type: ChangeType.GROUP_DESTROY, group: t.groupName });
  ctx.db.touch(t.key);
  // Readers blocked on this group are released with -NOGROUP.
  ctx.db.signalReady(t.key);
  ctx.reply.integer(1);
}

function xgroupCreateConsumer(ctx: CommandContext): void {
  const t = xgroupPrologue(ctx, 'createconsumer');
  const name = latin1(ctx.args[4]);
  const created = t.group!.createConsumer(name, ctx.now);
  if (created) changeLog(ctx.server)?.record(t.stream!, { type: ChangeType.CONSUMER_CREATE, group: t.groupName, consumer: name, time: ctx.now });
  ctx.reply.integer(created ? 1 : 0);
}

function xgroupDelConsumer(ctx: CommandContext): void {
  const t = xgroupPrologue(ctx, 'delconsumer');
  const name = latin1(ctx.args[4]);
  const pending = t.group!.deleteConsumer(name);
  if (pending !== null) {
    ctx.db.touch(t.key);
    changeLog(ctx.server)?.record(t.stream!, { type: ChangeType.CONSUMER_DELETE, group: t.groupName, consumer: name });
  }
  ctx.reply.integer(pending ?? 0);
}

function xgroupHelp(ctx: CommandContext): void {
  writeHelp(ctx.reply, 'XGROUP', XGROUP_HELP);
}

// ---------------------------------------------------------------------------------------------------------
// XREADGROUP

/** The `>` ID: Redis marks it with the largest ID (so an explicit max ID behaves the same). */
const NEW_MESSAGES = MAX_ID;

/**
 * One served entry: [id, fields], or with XREADGROUP CLAIM (Redis 8.4) [id, fields, idle ms, deliveries]: the
 * claimed entry's idle time and delivery count before this delivery, 0 and 0 for a new entry.
 */
type ServedEntry = [StreamId, Buffer[] | null] | [StreamId, Buffer[] | null, number, bigint];

interface ServedStream {
  readonly key: Buffer;
  readonly entries: ServedEntry[];
}

/** Delivers entries after `after` to the consumer (streamReplyWithRange with a group). */
function serveNew(
  stream: Stream,
  group: ConsumerGroup,
  consumer: Consumer,
  after: StreamId,
  count: number,
  noack: boolean,
  now: number,
  out: ServedEntry[] = [],
  claimFields = false,
): ServedEntry[] {
  const start = incrementId(after);
  if (start === null) return out;
  const facts = streamFacts(stream);
  stream.range(start, MAX_ID, count, false, (id, fields) => {
    group.advance(id, facts);
    if (!noack) group.deliver(id, consumer, now);
    out.push(claimFields ? [id, fields, 0, 0n] : [id, fields]);
  });
  return out;
}

/**
 * XREADGROUP `>` with CLAIM min-idle-time: the group's pending entries idle at least that long, longest idle
 * first, claimed by the consumer (delivery count + 1, as XCLAIM; NOACK does not apply to them), then new
 * entries, COUNT covering both. Null when there is nothing to serve (no claimable entry, nothing new). A pending
 * entry deleted from the stream is not claimed and stays as it is.
 */
function serveWithClaim(
  stream: Stream,
  group: ConsumerGroup,
  consumerName: string,
  minIdle: bigint,
  count: number,
  noack: boolean,
  now: number,
  redelivered: StreamId[],
): ServedEntry[] | null {
  const claimable = group.idlePending(minIdle, now).filter((e) => stream.hasEntry(e.id));
  if (count > 0 && claimable.length > count) claimable.length = count;
  const last = stream.length > 0 ? stream.lastEntry() : null;
  const hasNew = last !== null && compareIds(last.id, group.lastId) > 0;
  if (claimable.length === 0 && !hasNew) return null;
  const consumer = group.consumer(consumerName, now);
  const out: ServedEntry[] = [];
  for (const e of claimable) {
    out.push([e.id, stream.getEntry(e.id), Math.max(0, now - e.deliveryTime), e.deliveryCount]);
    redelivered.push(e.id);
    group.claim(e.id, {
      exists: true,
      force: false,
      minIdle: 0,
      now,
      deliveryTime: now,
      retryCount: -1n,
      justId: false,
      getConsumer: () => consumer,
    });
  }
  if (hasNew && (count === 0 || out.length < count)) {
    serveNew(stream, group, consumer, group.lastId, count === 0 ? 0 : count - out.length, noack, now, out, true);
  }
  return out;
}

/** Serves the consumer's own history after `after` (streamReplyWithRangeFromConsumerPEL). */
function serveHistory(
  stream: Stream,
  group: ConsumerGroup,
  consumer: Consumer,
  after: StreamId,
  count: number,
  now: number,
): Array<[StreamId, Buffer[] | null]> {
  const out: Array<[StreamId, Buffer[] | null]> = [];
  const start = incrementId(after) ?? MIN_ID;
  const ids: StreamId[] = [];
  consumer.pel.forEach(start, null, (e) => {
    if (count > 0 && ids.length >= count) return false;
    ids.push(e.id);
    return true;
  });
  for (const id of ids) {
    const fields = stream.getEntry(id);
    // A pending entry deleted from the stream is reported with null fields and not counted as delivered.
    if (fields !== null) group.redeliver(id, now);
    out.push([id, fields]);
  }
  return out;
}

function writeReadReply(reply: ReplyWriter, served: ServedStream[]): void {
  if (reply.protocol === 3) reply.map(served.length);
  else reply.array(served.length);
  for (const s of served) {
    if (reply.protocol === 2) reply.array(2);
    reply.bulk(s.key);
    reply.array(s.entries.length);
    for (const entry of s.entries) {
      if (entry.length === 2) {
        writeEntry(reply, entry[0], entry[1]);
        continue;
      }
      reply.array(4);
      reply.bulk(formatId(entry[0]));
      if (entry[1] === null) reply.nullArray();
      else {
        reply.array(entry[1].length);
        for (const f of entry[1]) reply.bulk(f);
      }
      reply.integer(entry[2]);
      reply.integer(entry[3]);
    }
  }
}

function xreadgroup(ctx: CommandContext): void {
  const args = ctx.args;
  const options = parseReadOptions(args, true, ctx.now);
  const { timeoutMs, count, streamsArg, streamsCount, noack, claimMinIdle } = options;
  const groupArg = options.group!;
  const consumerArg = options.consumer!;
  const groupName = latin1(groupArg);
  const consumerName = latin1(consumerArg);

  // Resolve every key's group and ID first: any error leaves everything untouched.
  const ids: StreamId[] = [];
  for (let n = 0; n < streamsCount; n++) {
    const key = latin1(args[streamsArg + n]);
    const stream = ctx.db.get(key);
    if (!stream || !stream.groups.has(groupName)) throw new CommandError(Err.noGroup(key, groupName));
    const idArg = args[streamsArg + streamsCount + n];
    const text = latin1(idArg);
    if (text === '$') throw new CommandError(Err.xreadDollarInGroup);
    ids.push(text === '>' ? NEW_MESSAGES : parseStrictId(text));
  }

  const served: ServedStream[] = [];
  for (let n = 0; n < streamsCount; n++) {
    const keyArg = args[streamsArg + n];
    const key = latin1(keyArg);
    const stream = ctx.db.get(key)!;
    const group = stream.groups.get(groupName)!;
    const id = ids[n];
    const history = !idEquals(id, NEW_MESSAGES);
    let after = id;
    const created = !group.consumers.has(consumerName);
    if (!history && claimMinIdle >= 0n) {
      const redelivered: StreamId[] = [];
      const entries = serveWithClaim(stream, group, consumerName, claimMinIdle, count, noack, ctx.now, redelivered);
      if (entries !== null) {
        served.push({ key: keyArg, entries });
        recordRead(ctx.server, stream, group, consumerName, noack, redelivered, ctx.now);
        propagateServed(ctx.server, ctx.db, keyArg, groupArg, consumerArg, group, entries, created, false, ctx.now);
      }
      continue;
    }
    if (!history) {
      // Served at once only when the stream holds an entry past the group's last delivered ID.
      const last = stream.length > 0 ? stream.lastEntry() : null;
      if (last === null || compareIds(last.id, group.lastId) <= 0) continue;
      after = group.lastId;
    }
    const consumer = group.consumer(consumerName, ctx.now);
    const entries = history
      ? serveHistory(stream, group, consumer, after, count, ctx.now)
      : serveNew(stream, group, consumer, after, count, noack, ctx.now);
    served.push({ key: keyArg, entries });
    // History re-served the entries still in the stream (deleted ones are reported, not delivered).
    const redelivered = history ? entries.filter((e) => e[1] !== null).map((e) => e[0]) : NO_IDS;
    recordRead(ctx.server, stream, group, consumerName, noack, redelivered, ctx.now);
    propagateServed(ctx.server, ctx.db, keyArg, groupArg, consumerArg, group, entries, created, history, ctx.now);
  }
  if (served.length > 0) {
    writeReadReply(ctx.reply, served);
    return;
  }
  if (timeoutMs === -1 || ctx.inTransaction) {
    ctx.reply.nullArray();
    return;
  }
  const db = ctx.db;
  const server = ctx.server;
  const keys = args.slice(streamsArg, streamsArg + streamsCount).map(latin1);
  const keyArgs = new Map<string, Buffer>();
  for (let n = 0; n < streamsCount; n++) if (!keyArgs.has(keys[n])) keyArgs.set(keys[n], args[streamsArg + n]);
  ctx.block({
    keys,
    timeoutMs,
    tryServe: (key, reply, now) =>
      serveBlocked(server, db, key, keyArgs.get(key) ?? Buffer.from(key, 'latin1'), groupArg, consumerArg, count, noack, claimMinIdle, reply, now),
    onTimeout: (reply) => reply.nullArray(),
  });
}

const NO_IDS: StreamId[] = [];

/**
 * Persistence: what one read of `stream` did to its group, as a DELIVER change: the consumer seen at `now`, the
 * NACKs `redelivered` to it, the new entries up to the group's last ID delivered (unless NOACK), its counters.
 */
function recordRead(
  server: ServerState,
  stream: Stream,
  group: ConsumerGroup,
  consumer: string,
  noack: boolean,
  redelivered: StreamId[],
  now: number,
): void {
  const log = changeLog(server);
  if (log === null) return;
  log.record(stream, {
    type: ChangeType.DELIVER,
    group: group.name,
    consumer,
    time: now,
    noack,
    lastId: group.lastId,
    entriesRead: group.entriesRead,
    redelivered,
  });
}

/**
 * Replication: what one read of `keyArg` delivered travels to the replicas (groupPropagation.ts); nothing while
 * none is fed.
 */
function propagateServed(
  server: ServerState,
  db: Database,
  keyArg: Buffer,
  groupArg: Buffer,
  consumerArg: Buffer,
  group: ConsumerGroup,
  entries: ServedEntry[],
  created: boolean,
  history: boolean,
  now: number,
): void {
  const sink = server.propagation;
  if (sink === null) return;
  const ids = entries.filter((e) => e[1] !== null).map((e) => e[0]);
  const target = { db: db.index, key: keyArg, groupName: groupArg, group, consumer: consumerArg };
  propagateRead(sink, target, ids, created, !history && ids.length > 0, now);
}

/** A blocked XREADGROUP `>` woken for `key` (serveClientsBlockedOnStreamKey / the deleted-key path of 7.0). */
function serveBlocked(
  server: ServerState,
  db: Database,
  key: string,
  keyArg: Buffer,
  groupArg: Buffer,
  consumerArg: Buffer,
  count: number,
  noack: boolean,
  claimMinIdle: bigint,
  reply: ReplyWriter,
  now: number,
): boolean {
  const stream = db.get(key);
  if (!stream) throw new CommandError(GroupErr.blockedKeyDeleted);
  const groupName = latin1(groupArg);
  const consumerName = latin1(consumerArg);
  const group = stream.groups.get(groupName);
  if (!group) throw new CommandError(GroupErr.blockedGroupDestroyed);
  const created = !group.consumers.has(consumerName);
  let entries: ServedEntry[];
  const redelivered: StreamId[] = [];
  if (claimMinIdle >= 0n) {
    // Woken by a new entry: entries that became idle enough meanwhile are claimed first.
    const claimed = serveWithClaim(stream, group, consumerName, claimMinIdle, count || BLOCKED_DEFAULT_COUNT, noack, now, redelivered);
    if (claimed === null) return false;
    entries = claimed;
  } else {
    // 7.0 compares the stream's last generated ID here (not its last live entry): an XADD followed by an XDEL
    // of that entry wakes the reader with an empty result.
    if (compareIds(stream.lastId, group.lastId) <= 0) return false;
    const consumer = group.consumer(consumerName, now);
    entries = serveNew(stream, group, consumer, group.lastId, count || BLOCKED_DEFAULT_COUNT, noack, now);
  }
  writeReadReply(reply, [{ key: keyArg, entries }]);
  recordRead(server, stream, group, consumerName, noack, redelivered, now);
  propagateServed(server, db, keyArg, groupArg, consumerArg, group, entries, created, false, now);
  // Served outside any command: its writes travel now, on their own.
  server.propagation?.commit();
  return true;
}

// ---------------------------------------------------------------------------------------------------------
// XACK

function xack(ctx: CommandContext): void {
  const key = latin1(ctx.args[1]);
  const stream = ctx.db.get(key);
  const group = stream?.groups.get(latin1(ctx.args[2]));
  if (!group) {
    ctx.reply.integer(0);
    return;
  }
  // All IDs are parsed before any is acknowledged: the command is all or nothing.
  const ids = ctx.args.slice(3).map((a) => parseStrictId(a));
  const acked: StreamId[] = [];
  for (const id of ids) if (group.ack(id)) acked.push(id);
  if (acked.length > 0) {
    ctx.db.touch(key);
    changeLog(ctx.server)?.record(stream!, { type: ChangeType.ACK, group: group.name, ids: acked });
  }
  ctx.reply.integer(acked.length);
}

// ---------------------------------------------------------------------------------------------------------
// XPENDING

function xpending(ctx: CommandContext): void {
  const args = ctx.args;
  const argc = args.length;
  const justInfo = argc === 3;
  if (argc !== 3 && (argc < 6 || argc > 9)) throw new CommandError(Err.syntax);
  let start = MIN_ID;
  let end = MAX_ID;
  let count = 0n;
  let minIdle = 0n;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let startIdx = 3;
    if (keywordEquals(args[3], 'IDLE')) {
      minIdle = toInt64(args[4]);
      if (argc < 8) throw new CommandError(Err.syntax);
      startIdx += 2;
    }
    count = toInt64(args[startIdx + 2]);
    if (count < 0n) count = 0n;
    const s = parseIntervalId(latin1(args[startIdx]), 0n);
    start = s.exclusive ? bumpNotNull(incrementId(s.id), GroupErr.invalidStartInterval) : s.id;
    const e = parseIntervalId(latin1(args[startIdx + 1]), 18446744073709551615n);
    end = e.exclusive ? bumpNotNull(decrementId(e.id), GroupErr.invalidEndInterval) : e.id;
    if (startIdx + 3 < argc) consumerName = latin1(args[startIdx + 3]);
  }
  const key = latin1(args[1]);
  const groupName = latin1(args[2]);
  const group = ctx.db.get(key)?.groups.get(groupName);
  if (!group) throw new CommandError(Err.noGroupGeneric(key, groupName));
  const reply = ctx.reply;

  if (justInfo) {
    reply.array(4);
    reply.integer(group.pel.size);
    if (group.pel.size === 0) {
      reply.nullBulk();
      reply.nullBulk();
      reply.nullArray();
      return;
    }
    reply.bulk(formatId(group.pel.first()!));
    reply.bulk(formatId(group.pel.last()!));
    const owners = group.sortedConsumers().filter((c) => c.pel.size > 0);
    reply.array(owners.length);
    for (const c of owners) {
      reply.array(2);
      reply.bulk(Buffer.from(c.name, 'latin1'));
      reply.bulk(String(c.pel.size));
    }
    return;
  }

  let consumer: Consumer | undefined;
  if (consumerName !== null) {
    // Looked up without refreshing its seen-time; an unknown consumer simply has nothing pending.
    consumer = group.lookupConsumer(consumerName);
    if (!consumer) {
      reply.array(0);
      return;
    }
  }
  const now = ctx.now;
  const rows: Array<{ id: StreamId; owner: string; idle: number; count: bigint }> = [];
  const take = (id: StreamId, time: number, deliveries: bigint, ownerSlot: number): boolean => {
    if (count === 0n) return false;
    if (minIdle !== 0n && BigInt(now - time) < minIdle) return true;
    count--;
    const owner = group.ownerOf(ownerSlot);
    // An entry XNACK released has no consumer: Redis 8.8 shows it with an empty name and idle -1.
    rows.push({ id, owner: owner ? owner.name : '', idle: owner ? Math.max(0, now - time) : -1, count: deliveries });
    return true;
  };
  if (consumer) {
    consumer.pel.forEach(start, end, (e) => {
      const nack = group.pel.get(e.id)!;
      return take(e.id, nack.deliveryTime, nack.deliveryCount, nack.owner);
    });
  } else {
    group.pel.forEach(start, end, (e) => take(e.id, e.deliveryTime, e.deliveryCount, e.owner));
  }
  reply.array(rows.length);
  for (const r of rows) {
    reply.array(4);
    reply.bulk(formatId(r.id));
    reply.bulk(Buffer.from(r.owner, 'latin1'));
    reply.integer(r.idle);
    reply.integer(r.count);
  }
}

// ---------------------------------------------------------------------------------------------------------
// XCLAIM

function xclaim(ctx: CommandContext): void {
  const args = ctx.args;
  const key = latin1(args[1]);
  const groupName = latin1(args[2]);
  const stream = ctx.db.get(key);
  const group = stream?.groups.get(groupName);
  if (!stream || !group) throw new CommandError(Err.noGroupGeneric(key, groupName));
  let minIdle = toInt64(args[4], GroupErr.xclaimMinIdle);
  if (minIdle < 0n) minIdle = 0n;

  // IDs run until the first argument that does not parse as one; options follow.
  const ids: StreamId[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    const parsed = parseIdText(latin1(args[j]), 0n, { strict: true });
    if (parsed === null) break;
    ids.push(parsed.id);
  }
  const now = ctx.now;
  let force = false;
  let justId = false;
  let retryCount = -1n;
  let deliveryTime = -1n;
  let lastId = MIN_ID;
  for (; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = args[j];
    if (keywordEquals(opt, 'FORCE')) {
      force = true;
    } else if (keywordEquals(opt, 'JUSTID')) {
      justId = true;
    } else if (keywordEquals(opt, 'IDLE') && more > 0) {
      deliveryTime = BigInt(now) - toInt64(args[++j], GroupErr.xclaimOption('IDLE'));
    } else if (keywordEquals(opt, 'TIME') && more > 0) {
      deliveryTime = toInt64(args[++j], GroupErr.xclaimOption('TIME'));
    } else if (keywordEquals(opt, 'RETRYCOUNT') && more > 0) {
      retryCount = toInt64(args[++j], GroupErr.xclaimOption('RETRYCOUNT'));
    } else if (keywordEquals(opt, 'LASTID') && more > 0) {
      lastId = parseStrictId(args[++j]);
    } else {
      throw new CommandError(GroupErr.xclaimUnrecognized(latin1(opt)));
    }
  }

  let changed = false;
  let lastIdMoved = false;
  if (compareIds(lastId, group.lastId) > 0) {
    group.lastId = lastId;
    changed = lastIdMoved = true;
  }
  // A bogus IDLE/TIME (negative, or in the future) means "now", as Redis does.
  const when = deliveryTime < 0n || deliveryTime > BigInt(now) ? now : Number(deliveryTime);
  const consumerName = latin1(args[3]);
  let consumer: Consumer | null = null;
  const claimed: StreamId[] = [];
  const touched: StreamId[] = [];
  for (const id of ids) {
    const outcome = group.claim(id, {
      exists: stream.hasEntry(id),
      force,
      minIdle: Number(minIdle),
      now,
      deliveryTime: when,
      retryCount,
      justId,
      getConsumer: () => (consumer ??= group.consumer(consumerName, now)),
    });
    if (outcome !== 'skipped') {
      changed = true;
      touched.push(id);
    }
    if (outcome === 'claimed') claimed.push(id);
  }
  if (changed) {
    ctx.db.touch(key);
    const dropped = touched.filter((id) => !group.pel.has(id));
    recordClaims(ctx.server, stream, group, claimed.length > 0 ? consumerName : null, now, lastIdMoved ? group.lastId : null, claimed, dropped);
  }
  if (ctx.server.propagation !== null) {
    const target = { db: ctx.db.index, key: args[1], groupName: args[2], group, consumer: args[3] };
    propagateClaims(ctx.server.propagation, target, touched, lastIdMoved, now);
  }
  const reply = ctx.reply;
  reply.array(claimed.length);
  for (const id of claimed) {
    if (justId) reply.bulk(formatId(id));
    else writeEntry(reply, id, stream.getEntry(id));
  }
}

/**
 * Persistence: what XCLAIM/XAUTOCLAIM did, as a CLAIM change: the NACKs of `claimed` as they are now (owned by
 * `consumer`, seen at `now`), the NACKs of deleted entries `dropped`, the group's last ID when LASTID moved it.
 */
function recordClaims(
  server: ServerState,
  stream: Stream,
  group: ConsumerGroup,
  consumer: string | null,
  now: number,
  lastId: StreamId | null,
  claimed: StreamId[],
  dropped: StreamId[],
): void {
  const log = changeLog(server);
  if (log === null) return;
  const nacks: ClaimedNack[] = [];
  for (const id of claimed) {
    const e = group.pel.get(id)!;
    nacks.push({ id, deliveryTime: e.deliveryTime, deliveryCount: e.deliveryCount });
  }
  log.record(stream, { type: ChangeType.CLAIM, group: group.name, consumer, time: now, lastId, nacks, dropped });
}

// ---------------------------------------------------------------------------------------------------------
// XAUTOCLAIM

function xautoclaim(ctx: CommandContext): void {
  const args = ctx.args;
  let minIdle = toInt64(args[4], GroupErr.xautoclaimMinIdle);
  if (minIdle < 0n) minIdle = 0n;
  const s = parseIntervalId(latin1(args[5]), 0n);
  const start = s.exclusive ? bumpNotNull(incrementId(s.id), GroupErr.invalidStartInterval) : s.id;
  let count = 100;
  let justId = false;
  // LONG_MAX / max(sizeof(streamID), attempts_factor): COUNT * attempts must not overflow.
  const maxCount = LONG_MAX / 16n;
  for (let j = 6; j < args.length; j++) {
    const more = args.length - 1 - j;
    if (keywordEquals(args[j], 'COUNT') && more > 0) {
      const c = parseInt64(args[j + 1]);
      if (c === null || c < 1n || c > maxCount) throw new CommandError(GroupErr.countPositive);
      count = Number(c);
      j++;
    } else if (keywordEquals(args[j], 'JUSTID')) {
      justId = true;
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  const key = latin1(args[1]);
  const groupName = latin1(args[2]);
  const stream = ctx.db.get(key);
  const group = stream?.groups.get(groupName);
  if (!stream || !group) throw new CommandError(Err.noGroupGeneric(key, groupName));

  const now = ctx.now;
  const consumerName = latin1(args[3]);
  let consumer: Consumer | null = null;
  let attempts = count * AUTOCLAIM_ATTEMPTS_FACTOR;
  const claimed: StreamId[] = [];
  const deleted: StreamId[] = [];
  // Walks the PEL with a cursor (the walk removes entries): `next` is the first ID not yet examined.
  let next: StreamId | null = group.pel.ceiling(start);
  while (attempts-- > 0 && count > 0 && next !== null) {
    const id = next;
    const after = incrementId(id);
    const outcome = group.claim(id, {
      exists: stream.hasEntry(id),
      force: false,
      minIdle: Number(minIdle),
      now,
      deliveryTime: now,
      retryCount: -1n,
      justId,
      getConsumer: () => (consumer ??= group.consumer(consumerName, now)),
    });
    if (outcome === 'deleted') {
      deleted.push(id);
      count--;
    } else if (outcome === 'claimed') {
      claimed.push(id);
      count--;
    }
    next = after === null ? null : group.pel.ceiling(after);
  }
  if (claimed.length > 0 || deleted.length > 0) {
    ctx.db.touch(key);
    recordClaims(ctx.server, stream, group, claimed.length > 0 ? consumerName : null, now, null, claimed, deleted);
  }
  if (ctx.server.propagation !== null) {
    const target = { db: ctx.db.index, key: args[1], groupName: args[2], group, consumer: args[3] };
    propagateClaims(ctx.server.propagation, target, [...claimed, ...deleted], false, now);
  }
  const reply = ctx.reply;
  reply.array(3);
  reply.bulk(formatId(next ?? MIN_ID));
  reply.array(claimed.length);
  for (const id of claimed) {
    if (justId) reply.bulk(formatId(id));
    else writeEntry(reply, id, stream.getEntry(id));
  }
  reply.array(deleted.length);
  for (const id of deleted) reply.bulk(formatId(id));
}

// ---------------------------------------------------------------------------------------------------------
// Specs (arity, flags, keys, ACL categories as COMMAND INFO reports them on 7.0.15)

const STREAM = { group: 'stream' } as const;
const KEY_AT_2 = { firstKey: 2, lastKey: 2, keyStep: 1 } as const;
const KEY_AT_1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const streamGroupCommands: CommandSpec[] = [
  command({
    name: 'xgroup',
    arity: -2,
    aclCategories: ['@slow'],
    ...STREAM,
    summary: 'A container for consumer groups commands',
    since: '5.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      command({
        name: 'xgroup|help',
        arity: 2,
        flags: ['loading', 'stale'],
        aclCategories: ['@stream', '@slow'],
        ...STREAM,
        summary: 'Show helpful text about the different subcommands',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xgroupHelp,
      }),
      command({
        name: 'xgroup|create',
        arity: -5,
        flags: ['write', 'denyoom'],
        ...KEY_AT_2,
        aclCategories: ['@write', '@stream', '@slow'],
        ...STREAM,
        summary: 'Create a consumer group.',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xgroupCreate,
      }),
      command({
        name: 'xgroup|destroy',
        arity: 4,
        flags: ['write'],
        ...KEY_AT_2,
        aclCategories: ['@write', '@stream', '@slow'],
        ...STREAM,
        summary: 'Destroy a consumer group.',
        since: '5.0.0',
        complexity: 'O(N) where N is the number of entries in the group\'s pending entries list (PEL).',
        handler: xgroupDestroy,
      }),
      command({
        name: 'xgroup|setid',
        arity: -5,
        flags: ['write'],
        ...KEY_AT_2,
        aclCategories: ['@write', '@stream', '@slow'],
        ...STREAM,
        summary: 'Set a consumer group to an arbitrary last delivered ID value.',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xgroupSetId,
      }),
      command({
        name: 'xgroup|createconsumer',
        arity: 5,
        flags: ['write', 'denyoom'],
        ...KEY_AT_2,
        aclCategories: ['@write', '@stream', '@slow'],
        ...STREAM,
        summary: 'Create a consumer in a consumer group.',
        since: '6.2.0',
        complexity: 'O(1)',
        handler: xgroupCreateConsumer,
      }),
      command({
        name: 'xgroup|delconsumer',
        arity: 5,
        flags: ['write'],
        ...KEY_AT_2,
        aclCategories: ['@write', '@stream', '@slow'],
        ...STREAM,
        summary: 'Delete a consumer from a consumer group.',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xgroupDelConsumer,
      }),
    ],
  }),
  command({
    name: 'xreadgroup',
    arity: -7,
    flags: ['write', 'blocking'],
    aclCategories: ['@write', '@stream', '@slow', '@blocking'],
    ...STREAM,
    summary:
      'Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.',
    since: '5.0.0',
    complexity:
      'For each stream mentioned: O(M) with M being the number of elements returned. If M is constant (e.g. always asking for the first 10 elements with COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD will pay the O(N) time in order to serve the N clients blocked on the stream getting new data.',
    handler: xreadgroup,
  }),
  command({
    name: 'xack',
    arity: -4,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary: 'Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.',
    since: '5.0.0',
    complexity: 'O(1) for each message ID processed.',
    handler: xack,
  }),
  command({
    name: 'xpending',
    arity: -3,
    flags: ['readonly'],
    ...KEY_AT_1,
    aclCategories: ['@read', '@stream', '@slow'],
    ...STREAM,
    summary:
      'Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.',
    since: '5.0.0',
    complexity:
      'O(N) with N being the number of elements returned, so asking for a small fixed number of entries per call is O(1). O(M), where M is the total number of entries scanned when used with the IDLE filter. When the command returns just the summary and the list of consumers is small, it runs in O(1) time; otherwise, an additional O(N) time for iterating every consumer.',
    handler: xpending,
  }),
  command({
    name: 'xclaim',
    arity: -6,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary:
      'Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.',
    since: '5.0.0',
    complexity: 'O(log N) with N being the number of messages in the PEL of the consumer group.',
    handler: xclaim,
  }),
  command({
    name: 'xautoclaim',
    arity: -6,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary:
      'Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.',
    since: '6.2.0',
    complexity: 'O(1) if COUNT is small.',
    handler: xautoclaim,
  }),
];
