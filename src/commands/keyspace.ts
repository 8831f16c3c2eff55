// Generic keyspace commands over streams (the only type Spool stores): DEL, UNLINK, EXISTS, TYPE, RENAME,
// RENAMENX, KEYS, SCAN, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB.

import { ClusterErr, CommandError, Err } from '../errors';
import { globMatch } from '../keyspace/glob';
import { command, type CommandContext, type CommandSpec } from './types';

const KEYSPACE = { group: 'generic' } as const;

function del(ctx: CommandContext): void {
  let removed = 0;
  for (const arg of ctx.args.slice(1)) if (ctx.db.delete(arg.toString('latin1'))) removed++;
  ctx.reply.integer(removed);
}

function exists(ctx: CommandContext): void {
  let count = 0;
  for (const arg of ctx.args.slice(1)) if (ctx.db.has(arg.toString('latin1'))) count++;
  ctx.reply.integer(count);
}

function type(ctx: CommandContext): void {
  ctx.reply.simple(ctx.db.has(ctx.args[1].toString('latin1')) ? 'stream' : 'none');
}

function rename(onlyIfAbsent: boolean) {
  return (ctx: CommandContext): void => {
    const from = ctx.args[1].toString('latin1');
    const to = ctx.args[2].toString('latin1');
    if (!ctx.db.has(from)) throw new CommandError(Err.noSuchKey);
    if (from === to) {
      if (onlyIfAbsent) ctx.reply.integer(0);
      else ctx.reply.ok();
      return;
    }
    if (onlyIfAbsent && ctx.db.has(to)) {
      ctx.reply.integer(0);
      return;
    }
    ctx.db.rename(from, to);
    if (onlyIfAbsent) ctx.reply.integer(1);
    else ctx.reply.ok();
  };
}

function keys(ctx: CommandContext): void {
  const pattern = ctx.args[1].toString('latin1');
  const matched: Buffer[] = [];
  for (const key of ctx.db.keys()) if (pattern === '*' || globMatch(pattern, key)) matched.push(Buffer.from(key, 'latin1'));
  ctx.reply.bulkArray(matched);
}

/**
 * SCAN walks the whole keyspace in one call and returns cursor 0: the SCAN contract (every key present for the
 * whole iteration is returned at least once) holds, and COUNT is only a hint in Redis too.
 */
function scan(ctx: CommandContext): void {
  const { argv } = ctx;
  const cursorText = argv.nextString();
  if (!/^[0-9]+$/.test(cursorText) || BigInt(cursorText) > 18446744073709551615n) throw new CommandError('ERR invalid cursor');
  let pattern: string | null = null;
  let typeFilter: string | null = null;
  while (argv.hasMore()) {
    const option = argv.nextKeyword();
    if (option === 'COUNT' && argv.hasMore()) {
      const count = argv.int();
      if (count < 1) throw new CommandError(Err.syntax);
    } else if (option === 'MATCH' && argv.hasMore()) {
      pattern = argv.nextString();
      // As Redis: MATCH * means no filter, which differs from the matcher only for the empty key ('*' needs a byte).
      if (pattern === '*') pattern = null;
    } else if (option === 'TYPE' && argv.hasMore()) {
      typeFilter = argv.nextString().toLowerCase();
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  const matched: Buffer[] = [];
  // Spool only ever hands out cursor 0, so any other cursor is a finished iteration.
  if (BigInt(cursorText) === 0n) {
    for (const key of ctx.db.keys()) {
      if (pattern !== null && !globMatch(pattern, key)) continue;
      if (typeFilter !== null && typeFilter !== 'stream') continue;
      matched.push(Buffer.from(key, 'latin1'));
    }
  }
  ctx.reply.array(2);
  ctx.reply.bulk('0');
  ctx.reply.bulkArray(matched);
}

/** A SWAPDB index as Redis's getIntFromObjectOrReply reads it: any non-integer or beyond C int range is `error`. */
function dbIndexArg(ctx: CommandContext, error: string): number {
  const index = ctx.argv.int(error);
  if (index < -2147483648 || index > 2147483647) throw new CommandError(error);
  return index;
}

function swapdb(ctx: CommandContext): void {
  if (ctx.server.cluster !== null) throw new CommandError(ClusterErr.swapdb);
  const first = dbIndexArg(ctx, Err.invalidFirstDbIndex);
  const second = dbIndexArg(ctx, Err.invalidSecondDbIndex);
  const databases = ctx.server.databases;
  const inRange = (i: number) => i >= 0 && i < databases.length;
  if (!inRange(first) || !inRange(second)) throw new CommandError(Err.dbIndexOutOfRange);
  if (first !== second) ctx.server.swapDatabases(databases[first], databases[second]);
  ctx.reply.ok();
}

function flushOption(ctx: CommandContext): void {
  if (ctx.args.length > 2) throw new CommandError(Err.syntax);
  if (ctx.args.length === 2) {
    const mode = ctx.args[1].toString('latin1').toUpperCase();
    if (mode !== 'ASYNC' && mode !== 'SYNC') throw new CommandError(Err.syntax);
  }
}

function flushdb(ctx: CommandContext): void {
  flushOption(ctx);
  ctx.server.touchAll(ctx.db);
  ctx.db.clear();
  ctx.reply.ok();
}

function flushall(ctx: CommandContext): void {
  flushOption(ctx);
  for (const db of ctx.server.databases) {
    ctx.server.touchAll(db);
    db.clear();
  }
  ctx.reply.ok();
}

export const keyspaceCommands: CommandSpec[] = [
  command({ name: 'del', arity: -2, flags: ['write'], firstKey: 1, lastKey: -1, keyStep: 1, aclCategories: ['@keyspace', '@write', '@slow'], summary: 'Delete a key', since: '1.0.0', complexity: 'O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).', ...KEYSPACE, handler: del }),
  command({ name: 'unlink', arity: -2, flags: ['write', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, aclCategories: ['@keyspace', '@write', '@fast'], summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.', since: '4.0.0', complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.', ...KEYSPACE, handler: del }),
  command({ name: 'exists', arity: -2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: -1, keyStep: 1, aclCategories: ['@keyspace', '@read', '@fast'], summary: 'Determine if a key exists', since: '1.0.0', complexity: 'O(N) where N is the number of keys to check.', ...KEYSPACE, handler: exists }),
  command({ name: 'type', arity: 2, flags: ['readonly', 'fast'], firstKey: 1, lastKey: 1, keyStep: 1, aclCategories: ['@keyspace', '@read', '@fast'], summary: 'Determine the type stored at key', since: '1.0.0', complexity: 'O(1)', ...KEYSPACE, handler: type }),
  command({ name: 'rename', arity: 3, flags: ['write'], firstKey: 1, lastKey: 2, keyStep: 1, aclCategories: ['@keyspace', '@write', '@slow'], summary: 'Rename a key', since: '1.0.0', complexity: 'O(1)', ...KEYSPACE, handler: rename(false) }),
  command({ name: 'renamenx', arity: 3, flags: ['write', 'fast'], firstKey: 1, lastKey: 2, keyStep: 1, aclCategories: ['@keyspace', '@write', '@fast'], summary: 'Rename a key, only if the new key does not exist', since: '1.0.0', complexity: 'O(1)', ...KEYSPACE, handler: rename(true) }),
  command({ name: 'keys', arity: 2, flags: ['readonly'], aclCategories: ['@keyspace', '@read', '@slow', '@dangerous'], summary: 'Find all keys matching the given pattern', since: '1.0.0', complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.', ...KEYSPACE, handler: keys }),
  command({ name: 'scan', arity: -2, flags: ['readonly'], aclCategories: ['@keyspace', '@read', '@slow'], summary: 'Incrementally iterate the keys space', since: '2.8.0', complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.', ...KEYSPACE, handler: scan }),
  command({ name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], aclCategories: ['@keyspace', '@read', '@fast'], summary: 'Return the number of keys in the selected database', since: '1.0.0', complexity: 'O(1)', group: 'server', handler: (ctx) => ctx.reply.integer(ctx.db.size) }),
  command({ name: 'flushdb', arity: -1, flags: ['write'], aclCategories: ['@keyspace', '@write', '@slow', '@dangerous'], summary: 'Remove all keys from the current database', since: '1.0.0', complexity: 'O(N) where N is the number of keys in the selected database', group: 'server', handler: flushdb }),
  command({ name: 'swapdb', arity: 3, flags: ['write', 'fast'], aclCategories: ['@keyspace', '@write', '@fast', '@dangerous'], summary: 'Swaps two Redis databases', since: '4.0.0', complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.', group: 'server', handler: swapdb }),
  command({ name: 'flushall', arity: -1, flags: ['write'], aclCategories: ['@keyspace', '@write', '@slow', '@dangerous'], summary: 'Remove all keys from all databases', since: '1.0.0', complexity: 'O(N) where N is the total number of keys in all databases', group: 'server', handler: flushall }),
];
