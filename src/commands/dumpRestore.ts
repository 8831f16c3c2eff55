// DUMP, RESTORE and RESTORE-ASKING (Redis 7.0 cluster.c dumpCommand / restoreCommand): a stream serialized as
// Redis serializes it, so keys move between Spool and Redis both ways. Spool keeps no TTLs (it has no EXPIRE):
// a RESTORE with a TTL makes a persistent key, except that a TTL already in the past (ABSTTL) restores nothing,
// as in Redis. IDLETIME and FREQ are checked as Redis checks them; Spool keeps no LRU/LFU data to set.

import { CommandError, Err, RdbErr } from '../errors';
import { DumpPayloadError, dumpStreamValue, restoreStreamValue } from '../rdb/dump';
import { buildStream } from '../server/restoredStream';
import { command, type CommandContext, type CommandSpec } from './types';

function dump(ctx: CommandContext): void {
  const stream = ctx.db.get(ctx.args[1].toString('latin1'));
  if (stream === undefined) ctx.reply.nullBulk();
  else ctx.reply.bulk(dumpStreamValue(stream));
}

function restore(ctx: CommandContext): void {
  const { argv } = ctx;
  argv.position = 4;
  let replace = false;
  let absttl = false;
  let idle = false;
  let freq = false;
  while (argv.hasMore()) {
    const more = argv.remaining - 1;
    if (argv.accept('REPLACE')) replace = true;
    else if (argv.accept('ABSTTL')) absttl = true;
    else if (more >= 1 && !freq && argv.accept('IDLETIME')) {
      if (argv.intExact() < 0n) throw new CommandError(RdbErr.badIdletime);
      idle = true;
    } else if (more >= 1 && !idle && argv.accept('FREQ')) {
      const f = argv.intExact();
      if (f < 0n || f > 255n) throw new CommandError(RdbErr.badFreq);
      freq = true;
    } else throw new CommandError(Err.syntax);
  }
  const key = ctx.args[1].toString('latin1');
  if (!replace && ctx.db.has(key)) throw new CommandError(RdbErr.busyKey);
  argv.position = 2;
  const ttl = argv.intExact();
  if (ttl < 0n) throw new CommandError(RdbErr.badTtl);
  let value;
  try {
    value = restoreStreamValue(ctx.args[3]);
  } catch (err) {
    if (!(err instanceof DumpPayloadError)) throw err;
    if (err.kind === 'version-or-checksum') throw new CommandError(RdbErr.payloadVersionOrChecksum);
    if (err.kind === 'not-a-stream') throw new CommandError(RdbErr.notAStream(err.message));
    throw new CommandError(RdbErr.badDataFormat);
  }
  if (replace) ctx.db.delete(key);
  // checkAlreadyExpired: an absolute TTL in the past stores nothing (the old key is gone all the same).
  if (ttl > 0n && absttl && ttl <= BigInt(Math.floor(ctx.now))) {
    ctx.reply.ok();
    return;
  }
  try {
    buildStream(ctx.server, ctx.db, key, value);
  } catch {
    throw new CommandError(RdbErr.badDataFormat);
  }
  ctx.reply.ok();
}

const RESTORE = {
  arity: -4,
  flags: ['write', 'denyoom'] as const,
  firstKey: 1,
  lastKey: 1,
  keyStep: 1,
  aclCategories: ['@keyspace', '@write', '@slow', '@dangerous'],
  complexity:
    'O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).',
  group: 'generic',
  handler: restore,
};

export const dumpRestoreCommands: CommandSpec[] = [
  command({
    name: 'dump',
    arity: 2,
    flags: ['readonly'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    aclCategories: ['@keyspace', '@read', '@slow'],
    summary: 'Return a serialized version of the value stored at the specified key.',
    since: '2.6.0',
    complexity:
      'O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).',
    group: 'generic',
    handler: dump,
  }),
  command({ name: 'restore', summary: 'Create a key using the provided serialized value, previously obtained using DUMP.', since: '2.6.0', ...RESTORE, flags: [...RESTORE.flags] }),
  command({ name: 'restore-asking', summary: 'An internal command for migrating keys in redis cluster', since: '3.0.0', ...RESTORE, flags: [...RESTORE.flags] }),
];
