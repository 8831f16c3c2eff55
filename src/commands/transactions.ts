// MULTI/EXEC/DISCARD/WATCH/UNWATCH. Queuing happens in the dispatcher; EXEC replays the queue through the
// normal call path so queued commands answer exactly as they would outside a transaction.

import { CommandError, Err } from '../errors';
import { command, type CommandContext, type CommandSpec } from './types';

const TRANSACTIONS = { group: 'transactions', aclCategories: ['@fast', '@transaction'] } as const;
const FLAGS = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'] as const;

function multi(ctx: CommandContext): void {
  if (ctx.client.multi !== null) throw new CommandError(Err.multiNested);
  ctx.client.multi = [];
  ctx.client.multiError = false;
  ctx.reply.ok();
}

function discard(ctx: CommandContext): void {
  if (ctx.client.multi === null) throw new CommandError(Err.discardWithoutMulti);
  ctx.client.multi = null;
  ctx.client.multiError = false;
  ctx.server.unwatchAll(ctx.client);
  ctx.reply.ok();
}

function exec(ctx: CommandContext): void {
  const { client, server } = ctx;
  const queued = client.multi;
  if (queued === null) throw new CommandError(Err.execWithoutMulti);
  const aborted = client.multiError;
  const dirty = client.watchDirty;
  client.multi = null;
  client.multiError = false;
  server.unwatchAll(client);
  if (aborted) throw new CommandError(Err.execAbort);
  if (dirty) {
    ctx.reply.nullArray();
    return;
  }
  ctx.reply.array(queued.length);
  for (const { args } of queued) ctx.callQueued(args);
}

function watch(ctx: CommandContext): void {
  if (ctx.client.multi !== null) throw new CommandError(Err.watchInMulti);
  for (const key of ctx.args.slice(1)) ctx.server.watch(ctx.client, ctx.db, key.toString('latin1'));
  ctx.reply.ok();
}

function unwatch(ctx: CommandContext): void {
  ctx.server.unwatchAll(ctx.client);
  ctx.reply.ok();
}

export const transactionCommands: CommandSpec[] = [
  command({ name: 'multi', arity: 1, flags: [...FLAGS], ...TRANSACTIONS, summary: 'Mark the start of a transaction block', since: '1.2.0', complexity: 'O(1)', handler: multi }),
  command({ name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], group: 'transactions', aclCategories: ['@slow', '@transaction'], summary: 'Execute all commands issued after MULTI', since: '1.2.0', complexity: 'Depends on commands in the transaction', handler: exec }),
  command({ name: 'discard', arity: 1, flags: [...FLAGS], ...TRANSACTIONS, summary: 'Discard all commands issued after MULTI', since: '2.0.0', complexity: 'O(N), when N is the number of queued commands', handler: discard }),
  command({ name: 'watch', arity: -2, flags: [...FLAGS], firstKey: 1, lastKey: -1, keyStep: 1, ...TRANSACTIONS, summary: 'Watch the given keys to determine execution of the MULTI/EXEC block', since: '2.2.0', complexity: 'O(1) for every key.', handler: watch }),
  command({ name: 'unwatch', arity: 1, flags: [...FLAGS], ...TRANSACTIONS, summary: 'Forget about all watched keys', since: '2.2.0', complexity: 'O(1)', handler: unwatch }),
];
