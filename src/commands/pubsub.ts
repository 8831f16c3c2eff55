// Pub/Sub commands as Redis 7.0 without cluster: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH,
// SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH and PUBSUB CHANNELS / NUMSUB / NUMPAT / SHARDCHANNELS / SHARDNUMSUB / HELP.
// The registry of subscriptions and the delivery of messages are src/server/pubsub.ts; this module writes the
// confirmations (push frames: `>3` in RESP3, `*3` in RESP2) and the introspection replies.

import { CommandError, Err } from '../errors';
import type { SubscriptionKind } from '../server/pubsub';
import { writeHelp } from './streamGroups';
import { command, type CommandContext, type CommandHandler, type CommandSpec } from './types';

const PUBSUB = { group: 'pubsub', since: '2.0.0' } as const;
const SUBSCRIBING = ['pubsub', 'noscript', 'loading', 'stale'] as const;
const PUBLISHING = ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'] as const;
const INTROSPECTION = ['pubsub', 'loading', 'stale'] as const;
const ACL_SLOW = ['@pubsub', '@slow'];

/** Confirmation words per kind: [subscribe, unsubscribe]. */
const WORDS: Record<SubscriptionKind, readonly [string, string]> = {
  channel: ['subscribe', 'unsubscribe'],
  pattern: ['psubscribe', 'punsubscribe'],
  shard: ['ssubscribe', 'sunsubscribe'],
};

/**
 * Marks what the command wrote since `from` as a push: CLIENT REPLY OFF/SKIP does not silence it (Redis's
 * CLIENT_PUSHING); the connection keeps these spans when it drops the command's reply.
 */
function keepAsPush(ctx: CommandContext, from: number): void {
  if (ctx.client.replyMode !== 'on') (ctx.client.pushSpans ??= []).push(from, ctx.reply.size);
}

/** The count a confirmation reports: shard channels alone, or channels and patterns together (as Redis). */
function countOf(ctx: CommandContext, kind: SubscriptionKind): number {
  const subs = ctx.client.subscriptions;
  if (subs === null) return 0;
  return kind === 'shard' ? subs.shard.size : subs.count;
}

/** One confirmation: [word, name (null: unsubscribed from nothing), count]. */
function confirm(ctx: CommandContext, word: string, name: Buffer | null, kind: SubscriptionKind): void {
  const r = ctx.reply;
  const from = r.size;
  r.push(3);
  r.bulk(word);
  if (name === null) r.nullBulk();
  else r.bulk(name);
  r.integer(countOf(ctx, kind));
  keepAsPush(ctx, from);
}

function subscribe(kind: SubscriptionKind): CommandHandler {
  return (ctx) => {
    // Redis refuses SSUBSCRIBE to a client that expects one reply per command (inside EXEC); (P)SUBSCRIBE is
    // allowed there for backward compatibility.
    if (kind === 'shard' && ctx.inTransaction) throw new CommandError(Err.ssubscribeDenyBlocking);
    const { pubsub } = ctx.server;
    for (let i = 1; i < ctx.args.length; i++) {
      pubsub.subscribe(ctx.client, kind, ctx.args[i].toString('latin1'));
      confirm(ctx, WORDS[kind][0], ctx.args[i], kind);
    }
  };
}

function unsubscribe(kind: SubscriptionKind): CommandHandler {
  return (ctx) => {
    const { pubsub } = ctx.server;
    const word = WORDS[kind][1];
    if (ctx.args.length > 1) {
      for (let i = 1; i < ctx.args.length; i++) {
        pubsub.unsubscribe(ctx.client, kind, ctx.args[i].toString('latin1'));
        confirm(ctx, word, ctx.args[i], kind);
      }
      return;
    }
    // Without names: every subscription of the kind, and a confirmation with a null name when there was none.
    const names = pubsub.subscriptionsOf(ctx.client, kind);
    for (const name of names) {
      pubsub.unsubscribe(ctx.client, kind, name);
      confirm(ctx, word, Buffer.from(name, 'latin1'), kind);
    }
    if (names.length === 0) confirm(ctx, word, null, kind);
  };
}

function publish(shard: boolean): CommandHandler {
  return (ctx) => {
    const { server, client, reply } = ctx;
    const toPublisher = (bytes: Buffer): void => {
      const from = reply.size;
      reply.raw(bytes);
      keepAsPush(ctx, from);
    };
    let receivers = 0;
    // The subscribers' socket writes are made as one batch (src/server/ioThreads.ts).
    server.ioThreads.batch(() => {
      receivers = server.pubsub.publish(ctx.args[1], ctx.args[2], shard, client, toPublisher);
    });
    reply.integer(receivers);
  };
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]. */
function channels(kind: 'channel' | 'shard'): CommandHandler {
  return (ctx) => {
    if (ctx.args.length > 3) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'pubsub'));
    const pattern = ctx.args.length === 3 ? ctx.args[2].toString('latin1') : null;
    const names = ctx.server.pubsub.names(kind, pattern);
    ctx.reply.array(names.length);
    for (const name of names) ctx.reply.bulk(Buffer.from(name, 'latin1'));
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [name ...]. */
function numsub(kind: 'channel' | 'shard'): CommandHandler {
  return (ctx) => {
    ctx.reply.array((ctx.args.length - 2) * 2);
    for (let i = 2; i < ctx.args.length; i++) {
      ctx.reply.bulk(ctx.args[i]);
      ctx.reply.integer(ctx.server.pubsub.subscribers(kind, ctx.args[i].toString('latin1')));
    }
  };
}

const PUBSUB_HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

function sub(name: string, arity: number, handler: CommandHandler, summary: string, since: string, complexity: string) {
  const flags = name === 'help' ? ['loading', 'stale'] as const : INTROSPECTION;
  return command({ name: `pubsub|${name}`, arity, flags: [...flags], aclCategories: name === 'help' ? ['@slow'] : ACL_SLOW, group: 'pubsub', summary, since, complexity, handler });
}

const SUBSCRIBER_COMPLEXITY = 'O(N) where N is the number of channels to subscribe to.';
const UNSUBSCRIBER_COMPLEXITY = 'O(N) where N is the number of clients already subscribed to a channel.';

export const pubsubCommands: CommandSpec[] = [
  command({ name: 'subscribe', arity: -2, flags: [...SUBSCRIBING], aclCategories: ACL_SLOW, ...PUBSUB, summary: 'Listen for messages published to the given channels', complexity: SUBSCRIBER_COMPLEXITY, handler: subscribe('channel') }),
  command({ name: 'unsubscribe', arity: -1, flags: [...SUBSCRIBING], aclCategories: ACL_SLOW, ...PUBSUB, summary: 'Stop listening for messages posted to the given channels', complexity: UNSUBSCRIBER_COMPLEXITY, handler: unsubscribe('channel') }),
  command({ name: 'psubscribe', arity: -2, flags: [...SUBSCRIBING], aclCategories: ACL_SLOW, ...PUBSUB, summary: 'Listen for messages published to channels matching the given patterns', complexity: 'O(N) where N is the number of patterns the client is already subscribed to.', handler: subscribe('pattern') }),
  command({ name: 'punsubscribe', arity: -1, flags: [...SUBSCRIBING], aclCategories: ACL_SLOW, ...PUBSUB, summary: 'Stop listening for messages posted to channels matching the given patterns', complexity: 'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).', handler: unsubscribe('pattern') }),
  command({ name: 'publish', arity: 3, flags: [...PUBLISHING], aclCategories: ['@pubsub', '@fast'], ...PUBSUB, summary: 'Post a message to a channel', complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).', handler: publish(false) }),
  command({ name: 'ssubscribe', arity: -2, flags: [...SUBSCRIBING], firstKey: 1, lastKey: -1, keyStep: 1, aclCategories: ACL_SLOW, group: 'pubsub', since: '7.0.0', summary: 'Listen for messages published to the given shard channels', complexity: 'O(N) where N is the number of shard channels to subscribe to.', handler: subscribe('shard') }),
  command({ name: 'sunsubscribe', arity: -1, flags: [...SUBSCRIBING], firstKey: 1, lastKey: -1, keyStep: 1, aclCategories: ACL_SLOW, group: 'pubsub', since: '7.0.0', summary: 'Stop listening for messages posted to the given shard channels', complexity: 'O(N) where N is the number of clients already subscribed to a shard channel.', handler: unsubscribe('shard') }),
  command({ name: 'spublish', arity: 3, flags: [...PUBLISHING], firstKey: 1, lastKey: 1, keyStep: 1, aclCategories: ['@pubsub', '@fast'], group: 'pubsub', since: '7.0.0', summary: 'Post a message to a shard channel', complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.', handler: publish(true) }),
  command({
    name: 'pubsub',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'pubsub',
    summary: 'A container for Pub/Sub commands',
    since: '2.8.0',
    subcommands: [
      sub('channels', -2, channels('channel'), 'List active channels', '2.8.0', 'O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)'),
      sub('numsub', -2, numsub('channel'), 'Get the count of subscribers for channels', '2.8.0', 'O(N) for the NUMSUB subcommand, where N is the number of requested channels'),
      sub('numpat', 2, (ctx) => ctx.reply.integer(ctx.server.pubsub.size('pattern')), 'Get the count of unique patterns pattern subscriptions', '2.8.0', 'O(1)'),
      sub('shardchannels', -2, channels('shard'), 'List active shard channels', '7.0.0', 'O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).'),
      sub('shardnumsub', -2, numsub('shard'), 'Get the count of subscribers for shard channels', '7.0.0', 'O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels'),
      sub('help', 2, (ctx) => writeHelp(ctx.reply, 'PUBSUB', PUBSUB_HELP), 'Show helpful text about the different subcommands', '6.2.0', 'O(1)'),
    ],
  }),
];
