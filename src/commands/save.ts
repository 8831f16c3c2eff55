// SAVE and BGSAVE [SCHEDULE] (Redis 7.0 rdb.c saveCommand / bgsaveCommand; LASTSAVE is in serverAdmin.ts)
// over server/rdbSaves.ts. SAVE answers when the file is in place, without holding other clients meanwhile.

import { CommandError, Err, RdbErr } from '../errors';
import { rdbSavesOf } from '../server/rdbSaves';
import { replyLater } from './replyLater';
import { command, type CommandContext, type CommandSpec } from './types';

function save(ctx: CommandContext): void {
  // no_multi: Redis refuses it when queued; a reply that waits for a file cannot be part of EXEC's.
  if (ctx.inTransaction) throw new CommandError(RdbErr.notInTransaction);
  const saves = rdbSavesOf(ctx.server);
  if (saves.inProgress !== null) throw new CommandError(RdbErr.bgsaveInProgress);
  replyLater(
    ctx,
    saves.start('save').then(
      () => (r) => r.ok(),
      () => (r) => r.error('ERR'),
    ),
  );
}

function bgsave(ctx: CommandContext): void {
  // SCHEDULE changes nothing here: Spool runs no other kind of background job a save would have to wait for.
  if (ctx.args.length > 1 && !(ctx.args.length === 2 && ctx.argv.accept('SCHEDULE'))) throw new CommandError(Err.syntax);
  const saves = rdbSavesOf(ctx.server);
  if (saves.inProgress !== null) {
    // Redis: its RDB child is busy. (SCHEDULE only helps while another kind of child, an AOF rewrite, runs.)
    throw new CommandError(RdbErr.bgsaveInProgress);
  }
  if (ctx.inTransaction) {
    // Redis cannot fork inside EXEC: the save starts right after it.
    saves.scheduled = true;
    setImmediate(() => {
      if (saves.inProgress === null && saves.scheduled) {
        saves.scheduled = false;
        saves.start('bgsave').catch(() => undefined);
      }
    });
    ctx.reply.simple('Background saving scheduled');
    return;
  }
  saves.start('bgsave').catch(() => undefined);
  ctx.reply.simple('Background saving started');
}

export const saveCommands: CommandSpec[] = [
  command({ name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_multi'], aclCategories: ['@admin', '@slow', '@dangerous'], summary: 'Synchronously save the dataset to disk', since: '1.0.0', complexity: 'O(N) where N is the total number of keys in all databases', group: 'server', handler: save }),
  command({ name: 'bgsave', arity: -1, flags: ['admin', 'noscript'], aclCategories: ['@admin', '@slow', '@dangerous'], summary: 'Asynchronously save the dataset to disk', since: '1.0.0', complexity: 'O(1)', group: 'server', handler: bgsave }),
];
