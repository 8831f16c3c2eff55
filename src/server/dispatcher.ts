// Runs one request for one client, as Redis's processCommand/call do: resolve and check the command, enforce
// authentication, queue inside MULTI, run the handler, turn CommandErrors into error replies, count statistics,
// then serve clients blocked on keys the command made ready.

import { CommandError, Err } from '../errors';
import { ArgReader } from '../commands/args';
import type { Resolved } from '../commands/registry';
import type { CommandContext, CommandSpec } from '../commands/types';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { BlockRequest } from './blocking';
import type { ClientState } from './clientState';
import type { ServerState } from './serverState';

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

export class Dispatcher {
  constructor(private readonly server: ServerState) {}

  /**
   * Executes args for client, writing the reply into reply. Returns false when the client blocked (the reply
   * comes later through the blocking manager).
   */
  execute(client: ClientState, args: Buffer[], reply: ReplyWriter): void {
    const server = this.server;
    server.stats.totalCommands++;
    client.lastInteraction = server.clock();
    let resolved: Resolved;
    try {
      resolved = server.registry.resolve(args);
    } catch (err) {
      this.reject(client, reply, err, null);
      return;
    }
    const { spec, statName } = resolved;
    client.lastCommand = statName;

    if (!client.authenticated && !spec.flags.includes('no_auth')) {
      this.reject(client, reply, new CommandError(Err.noAuth), statName);
      return;
    }
    // As Redis with a failed AOF write: refuse writes until the storage error clears (reads keep working).
    const persistence = server.persistence;
    if (persistence !== null && spec.flags.includes('write') && !persistence.writable()) {
      this.reject(client, reply, new CommandError(Err.misconf), statName);
      return;
    }
    if (client.multi !== null && !MULTI_CONTROL.has(spec.name.split('|')[0])) {
      client.multi.push({ args });
      reply.simple('QUEUED');
      return;
    }
    this.call(client, args, resolved, reply, false);
  }

  /** Runs a resolved command (directly, or from EXEC with inTransaction=true). */
  call(client: ClientState, args: Buffer[], resolved: Resolved, reply: ReplyWriter, inTransaction: boolean): void {
    const server = this.server;
    const { spec, statName, argStart } = resolved;
    const stats = server.stats.command(statName);
    const started = process.hrtime.bigint();
    const errorsBefore = reply.errorsWritten;
    const ctx = this.context(client, args, argStart, reply, inTransaction);
    client.currentArgs = args;
    try {
      spec.handler!(ctx);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      reply.error(err.reply);
      server.stats.error(err.code);
    }
    if (reply.errorsWritten !== errorsBefore) stats.failedCalls++;
    else if (server.persistence !== null && spec.flags.includes('write') && client.blocked === null) {
      server.persistence.journal(ctx.db, statName, args, ctx.now);
    }
    stats.calls++;
    stats.usec += Number(process.hrtime.bigint() - started) / 1000;
    server.blocking.serveReady();
  }

  /** Recovery: runs a journaled command as it ran then (its time, no blocking), replies discarded. */
  replay(client: ClientState, args: Buffer[], now: number, sink: ReplyWriter): void {
    const server = this.server;
    const resolved = server.registry.resolve(args);
    const saved = server.replayTime;
    server.replayTime = now;
    try {
      this.call(client, args, resolved, sink, true);
    } finally {
      server.replayTime = saved;
    }
  }

  private reject(client: ClientState, reply: ReplyWriter, err: unknown, statName: string | null): void {
    if (!(err instanceof CommandError)) throw err;
    if (client.multi !== null) client.multiError = true;
    if (statName === 'exec' || (statName === null && err.reply === Err.wrongArity('exec'))) {
      // execCommandAbort: a rejected EXEC discards the transaction and says why.
      client.multi = null;
      client.multiError = false;
      this.server.unwatchAll(client);
      reply.error(`EXECABORT Transaction discarded because of: ${err.reply.replace(/^ERR /, '')}`);
      this.server.stats.error('EXECABORT');
      return;
    }
    if (statName) this.server.stats.command(statName).rejectedCalls++;
    reply.error(err.reply);
    this.server.stats.error(err.code);
  }

  private context(
    client: ClientState,
    args: Buffer[],
    argStart: number,
    reply: ReplyWriter,
    inTransaction: boolean,
  ): CommandContext {
    const server = this.server;
    return {
      server,
      client,
      db: server.databases[client.dbIndex],
      args,
      argv: new ArgReader(args, argStart),
      reply,
      now: server.replayTime ?? server.clock(),
      inTransaction,
      block: (request: BlockRequest) => server.blocking.block(client, server.databases[client.dbIndex], request),
      callQueued: (queued: Buffer[]) => this.call(client, queued, server.registry.resolve(queued), reply, true),
    };
  }
}

export type { CommandSpec };
