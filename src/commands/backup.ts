// BACKUP <directory> (Spool only): a consistent copy of the data directory while the server runs, restorable by
// starting a server on it. The work is in src/server/backup.ts and Persistence.backupTo; the client is answered
// once the copy is complete and synced (it waits as a blocked client does; others go on).

import path from 'node:path';
import { CommandError, Err } from '../errors';
import { command, type CommandContext, type CommandSpec } from './types';

function backup(ctx: CommandContext): void {
  const persistence = ctx.server.persistence;
  if (persistence === null) throw new CommandError(Err.backupNoData);
  if (ctx.inTransaction) throw new CommandError(Err.backupInMulti);
  const target = path.resolve(ctx.args[1].toString());
  ctx.block({ keys: [], timeoutMs: 0, tryServe: () => false, onTimeout: () => undefined });
  const blocked = ctx.client.blocked!;
  persistence.backupTo(target).then(
    () => ctx.server.blocking.resolve(blocked, (r) => r.ok()),
    (err: unknown) => {
      const reply = err instanceof CommandError ? err.reply : Err.backupFailed((err as Error).message);
      ctx.server.blocking.resolve(blocked, (r) => r.error(reply));
    },
  );
}

export const backupCommands: CommandSpec[] = [
  command({
    name: 'backup',
    arity: 2,
    flags: ['admin', 'noscript'],
    aclCategories: ['@admin', '@slow', '@dangerous'],
    group: 'server',
    summary:
      "Spool: copies the data directory, consistently, into a new or empty directory while the server runs (sealed segments hard-linked, or copied across file systems); restore by starting a server on it with --dir",
    since: '1.0.0',
    complexity: 'O(N) with N the number of streams, plus the bytes of the active segments copied.',
    handler: backup,
  }),
];
