// SYNC and PSYNC as a master answers a full resynchronisation (Redis 7.0 replication.c syncCommand), enough for
// `redis-cli --rdb <file>` and for any replica's first sync: PSYNC gets `+FULLRESYNC <replid> <offset>`, SYNC
// (the pre-PSYNC protocol) nothing before the payload; then `$<len>\r\n` and the RDB of every stream. Spool keeps
// no replication stream yet, so the connection is closed once the RDB is sent (redis-cli closes it anyway).

import { CommandError, RdbErr } from '../errors';
import { replicationIdOf, sendRdbPayload } from '../server/rdbTransfer';
import { command, type CommandContext, type CommandSpec } from './types';

/** Output waiting in the client's socket above which the transfer waits for it to drain. */
const MAX_PENDING = 4 * 1024 * 1024;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function fullSync(ctx: CommandContext, psync: boolean): void {
  if (ctx.inTransaction) throw new CommandError(RdbErr.notInTransaction);
  const { server, client } = ctx;
  ctx.block({ keys: [], timeoutMs: 0, tryServe: () => false, onTimeout: () => undefined });
  const blocked = client.blocked!;
  const gone = () => client.blocked !== blocked;
  const send = async (chunk: Buffer): Promise<void> => {
    // Backpressure without a hook into the connection: wait (bounded per step) while the socket is behind.
    while (!gone() && client.outputBytes > MAX_PENDING) await sleep(5);
    if (gone()) throw new Error('client gone');
    server.hooks.deliver(client, chunk, 0);
  };
  const run = async () => {
    if (psync) await send(Buffer.from(`+FULLRESYNC ${replicationIdOf(server)} 0\r\n`, 'latin1'));
    await sendRdbPayload(server, send);
  };
  // Sent or failed (the client went away, the temporary file could not be written): the connection closes.
  void run()
    .catch(() => undefined)
    .then(() => {
      client.closing = true;
      server.blocking.resolve(blocked, () => undefined);
    });
}

const SYNC = {
  flags: ['admin', 'noscript', 'no_multi'] as const,
  aclCategories: ['@admin', '@slow', '@dangerous'],
  group: 'server',
};

export const syncCommands: CommandSpec[] = [
  command({ name: 'sync', arity: 1, summary: 'Internal command used for replication', since: '1.0.0', ...SYNC, flags: [...SYNC.flags], handler: (ctx) => fullSync(ctx, false) }),
  command({ name: 'psync', arity: -3, summary: 'Internal command used for replication', since: '2.8.0', ...SYNC, flags: [...SYNC.flags], handler: (ctx) => fullSync(ctx, true) }),
];
