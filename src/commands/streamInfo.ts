// XINFO STREAM [FULL [COUNT n]] / GROUPS / CONSUMERS / HELP, with Redis 7.0.15's fields: consumers report
// `idle` (seen-time based); the 7.2 `inactive` / `active-time` fields do not exist yet.

import { CommandError, Err } from '../errors';
import { keywordEquals } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { Stream } from '../streams/stream';
import { INVALID_ENTRIES_READ, type ConsumerGroup } from '../streams/consumerGroup';
import { MAX_ID, MIN_ID, formatId, type StreamId } from '../streams/streamId';
import { parseInt64 } from '../protocol/numbers';
import { streamFacts, writeEntry, writeHelp } from './streamGroups';
import { GroupErr } from '../errors';

const XINFO_HELP = [
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
];

/** XINFO's key lookup: a missing key is an error for every subcommand but HELP. */
function streamOrError(ctx: CommandContext): Stream {
  const stream = ctx.db.get(ctx.args[2].toString('latin1'));
  if (!stream) throw new CommandError(Err.noSuchKey);
  return stream;
}

/** Groups in name order (Redis keeps them in a rax, i.e. byte order; latin1 string order matches). */
function sortedGroups(stream: Stream): ConsumerGroup[] {
  return [...stream.groups.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function writeEntriesRead(reply: ReplyWriter, group: ConsumerGroup): void {
  if (group.entriesRead === INVALID_ENTRIES_READ) reply.nullBulk();
  else reply.integer(group.entriesRead);
}

function writeLag(reply: ReplyWriter, stream: Stream, group: ConsumerGroup): void {
  const lag = group.lag(streamFacts(stream));
  if (lag === null) reply.nullBulk();
  else reply.integer(lag);
}

function name(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

function xinfoConsumers(ctx: CommandContext): void {
  const stream = streamOrError(ctx);
  const groupName = ctx.args[3].toString('latin1');
  const group = stream.groups.get(groupName);
  if (!group) throw new CommandError(GroupErr.noGroupForKey(groupName, ctx.args[2].toString('latin1')));
  const reply = ctx.reply;
  const consumers = group.sortedConsumers();
  reply.array(consumers.length);
  for (const c of consumers) {
    reply.map(3);
    reply.bulk('name');
    reply.bulk(name(c.name));
    reply.bulk('pending');
    reply.integer(c.pel.size);
    reply.bulk('idle');
    reply.integer(Math.max(0, ctx.now - c.seenTime));
  }
}

function xinfoGroups(ctx: CommandContext): void {
  const stream = streamOrError(ctx);
  const reply = ctx.reply;
  const groups = sortedGroups(stream);
  reply.array(groups.length);
  for (const g of groups) {
    reply.map(6);
    reply.bulk('name');
    reply.bulk(name(g.name));
    reply.bulk('consumers');
    reply.integer(g.consumers.size);
    reply.bulk('pending');
    reply.integer(g.pel.size);
    reply.bulk('last-delivered-id');
    reply.bulk(formatId(g.lastId));
    reply.bulk('entries-read');
    writeEntriesRead(reply, g);
    reply.bulk('lag');
    writeLag(reply, stream, g);
  }
}

function xinfoStream(ctx: CommandContext): void {
  // Redis looks the key up before it reads the options.
  const stream = streamOrError(ctx);
  const args = ctx.args;
  const optc = args.length - 3;
  let full = false;
  let count = 10;
  if (optc > 0) {
    const syntax = () => new CommandError(Err.unknownSubcommandOrArity(args[1], 'xinfo'));
    if (optc !== 1 && optc !== 3) throw syntax();
    if (!keywordEquals(args[3], 'FULL')) throw syntax();
    if (optc === 3) {
      if (!keywordEquals(args[4], 'COUNT')) throw syntax();
      const c = parseInt64(args[5]);
      if (c === null) throw new CommandError(Err.notInteger);
      // Negative means the default; 0 means everything.
      count = c < 0n ? 10 : c > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(c);
    }
    full = true;
  }
  const reply = ctx.reply;
  // Redis 8.6 adds six IDMP fields; Spool shows them once the stream uses IDMP (so Redis 7 replies stay as they were).
  const idmp = stream.idmp;
  reply.map((full ? 9 : 10) + (idmp ? 6 : 0));
  reply.bulk('length');
  reply.integer(stream.length);
  reply.bulk('radix-tree-keys');
  reply.integer(stream.nodeCount);
  reply.bulk('radix-tree-nodes');
  reply.integer(stream.radixTreeNodes);
  reply.bulk('last-generated-id');
  reply.bulk(formatId(stream.lastId));
  reply.bulk('max-deleted-entry-id');
  reply.bulk(formatId(stream.maxDeletedId));
  reply.bulk('entries-added');
  reply.integer(stream.entriesAdded);
  reply.bulk('recorded-first-entry-id');
  reply.bulk(formatId(stream.recordedFirstId));
  if (idmp) {
    reply.bulk('idmp-duration');
    reply.integer(stream.idmpDuration);
    reply.bulk('idmp-maxsize');
    reply.integer(stream.idmpMaxsize);
    reply.bulk('pids-tracked');
    reply.integer(idmp.pidsTracked);
    reply.bulk('iids-tracked');
    reply.integer(idmp.iidsTracked);
    reply.bulk('iids-added');
    reply.integer(idmp.added);
    reply.bulk('iids-duplicates');
    reply.integer(idmp.duplicates);
  }

  if (!full) {
    reply.bulk('groups');
    reply.integer(stream.groups.size);
    const first = stream.firstEntry();
    reply.bulk('first-entry');
    if (first) writeEntry(reply, first.id, first.fields);
    else reply.nullBulk();
    const last = stream.lastEntry();
    reply.bulk('last-entry');
    if (last) writeEntry(reply, last.id, last.fields);
    else reply.nullBulk();
    return;
  }

  reply.bulk('entries');
  const entries: Array<[StreamId, Buffer[]]> = [];
  stream.range(MIN_ID, MAX_ID, count, false, (id, fields) => {
    entries.push([id, fields]);
  });
  reply.array(entries.length);
  for (const [id, fields] of entries) writeEntry(reply, id, fields);

  reply.bulk('groups');
  const groups = sortedGroups(stream);
  reply.array(groups.length);
  for (const g of groups) {
    reply.map(7);
    reply.bulk('name');
    reply.bulk(name(g.name));
    reply.bulk('last-delivered-id');
    reply.bulk(formatId(g.lastId));
    reply.bulk('entries-read');
    writeEntriesRead(reply, g);
    reply.bulk('lag');
    writeLag(reply, stream, g);
    reply.bulk('pel-count');
    reply.integer(g.pel.size);
    reply.bulk('pending');
    const pending = Math.min(g.pel.size, count === 0 ? Infinity : count);
    reply.array(pending);
    let left = pending;
    g.pel.forEach(null, null, (e) => {
      if (left-- <= 0) return false;
      reply.array(4);
      reply.bulk(formatId(e.id));
      reply.bulk(name(g.ownerOf(e.owner)?.name ?? ''));
      reply.integer(e.deliveryTime);
      reply.integer(e.deliveryCount);
      return true;
    });
    const consumers = g.sortedConsumers();
    reply.bulk('consumers');
    reply.array(consumers.length);
    for (const c of consumers) {
      reply.map(4);
      reply.bulk('name');
      reply.bulk(name(c.name));
      reply.bulk('seen-time');
      reply.integer(c.seenTime);
      reply.bulk('pel-count');
      reply.integer(c.pel.size);
      reply.bulk('pending');
      const mine = Math.min(c.pel.size, count === 0 ? Infinity : count);
      reply.array(mine);
      let rest = mine;
      c.pel.forEach(null, null, (e) => {
        if (rest-- <= 0) return false;
        const nack = g.pel.get(e.id)!;
        reply.array(3);
        reply.bulk(formatId(e.id));
        reply.integer(nack.deliveryTime);
        reply.integer(nack.deliveryCount);
        return true;
      });
    }
  }
}

function xinfoHelp(ctx: CommandContext): void {
  writeHelp(ctx.reply, 'XINFO', XINFO_HELP);
}

const STREAM = { group: 'stream' } as const;
const KEY_AT_2 = { firstKey: 2, lastKey: 2, keyStep: 1 } as const;

export const streamInfoCommands: CommandSpec[] = [
  command({
    name: 'xinfo',
    arity: -2,
    aclCategories: ['@slow'],
    ...STREAM,
    summary: 'A container for stream introspection commands',
    since: '5.0.0',
    complexity: 'Depends on subcommand.',
    subcommands: [
      command({
        name: 'xinfo|groups',
        arity: 3,
        flags: ['readonly'],
        ...KEY_AT_2,
        aclCategories: ['@read', '@stream', '@slow'],
        ...STREAM,
        summary: 'List the consumer groups of a stream',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xinfoGroups,
      }),
      command({
        name: 'xinfo|consumers',
        arity: 4,
        flags: ['readonly'],
        ...KEY_AT_2,
        aclCategories: ['@read', '@stream', '@slow'],
        ...STREAM,
        summary: 'List the consumers in a consumer group',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xinfoConsumers,
      }),
      command({
        name: 'xinfo|stream',
        arity: -3,
        flags: ['readonly'],
        ...KEY_AT_2,
        aclCategories: ['@read', '@stream', '@slow'],
        ...STREAM,
        summary: 'Get information about a stream',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xinfoStream,
      }),
      command({
        name: 'xinfo|help',
        arity: 2,
        flags: ['loading', 'stale'],
        aclCategories: ['@stream', '@slow'],
        ...STREAM,
        summary: 'Show helpful text about the different subcommands',
        since: '5.0.0',
        complexity: 'O(1)',
        handler: xinfoHelp,
      }),
    ],
  }),
];
