// Commands whose work is asynchronous (SAVE writing a file, MIGRATE talking to another server): the client waits
// as a blocked client with no keys, the event loop goes on serving others, and the reply is written when the
// work settles, as CONFIG REWRITE does.

import { CommandError } from '../errors';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { CommandContext } from './types';

/** Parks the client until `work` settles; its value writes the reply, a CommandError becomes the error reply. */
export function replyLater(ctx: CommandContext, work: Promise<(reply: ReplyWriter) => void>): void {
  ctx.block({ keys: [], timeoutMs: 0, tryServe: () => false, onTimeout: () => undefined });
  const blocked = ctx.client.blocked!;
  const blocking = ctx.server.blocking;
  work.then(
    (write) => blocking.resolve(blocked, write),
    (err: Error) => {
      const text = err instanceof CommandError ? err.reply : `ERR ${err.message}`;
      blocking.resolve(blocked, (r) => r.error(text));
    },
  );
}
