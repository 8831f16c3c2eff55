// Runs one request for one client, as Redis's processCommand/call do: resolve and check the command, enforce
// authentication, queue inside MULTI, run the handler, turn CommandErrors into error replies, count statistics,
// then serve clients blocked on keys the command made ready.

import { performance } from 'node:perf_hooks';
import { CommandError, Err } from '../errors';
import { ArgReader, keywordEquals } from '../commands/args';
import { keyArguments, type Resolved } from '../commands/registry';
import type { CommandContext, CommandSpec } from '../commands/types';
import type { ReplyWriter } from '../protocol/replyWriter';
import type { BlockRequest } from './blocking';
import type { ClientState } from './clientState';
import type { ServerState } from './serverState';

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** What the dispatcher asks of a spec on every call, worked out once per spec instead of scanning its flags. */
interface Traits {
  readonly noAuth: boolean;
  readonly write: boolean;
  readonly multiControl: boolean;
}

const traitsBySpec = new WeakMap<CommandSpec, Traits>();

function traitsOf(spec: CommandSpec): Traits {
  let t = traitsBySpec.get(spec);
  if (t === undefined) {
    t = {
      noAuth: spec.flags.includes('no_auth'),
      write: spec.flags.includes('write'),
      multiControl: MULTI_CONTROL.has(spec.name.split('|')[0]),
    };
    traitsBySpec.set(spec, t);
  }
  return t;
}

/**
 * The CommandContext of one call. A class rather than an object literal with two closures: handlers rarely use
 * block/callQueued, so they live on the prototype instead of being allocated per command.
 */
class CallContext implements CommandContext {
  readonly argv: ArgReader;

  constructor(
    readonly server: ServerState,
    readonly client: ClientState,
    readonly db: ServerState['databases'][number],
    readonly args: Buffer[],
    argStart: number,
    readonly reply: ReplyWriter,
    readonly now: number,
    readonly inTransaction: boolean,
    private readonly dispatcher: Dispatcher,
  ) {
    this.argv = new ArgReader(args, argStart);
  }

  block(request: BlockRequest): void {
    const server = this.server;
    return server.blocking.block(this.client, server.databases[this.client.dbIndex], request);
  }

  callQueued(queued: Buffer[]): void {
    this.dispatcher.call(this.client, queued, this.server.registry.resolve(queued), this.reply, true);
  }
}

export class Dispatcher {
  constructor(private readonly server: ServerState) {}

  /**
   * Executes args for client, writing the reply into reply. Returns false when the client blocked (the reply
   * comes later through the blocking manager).
   */
  /**
   * What must happen before `args` can run on this client, or null: the end of a CLIENT PAUSE that holds it
   * (src/server/clientPause.ts), or the segments of the streams it names (or, for EXEC, that its queued
   * commands name) mapped again after the LRU closed them (see Persistence.whenMapped).
   */
  whenReady(client: ClientState, args: Buffer[]): Promise<void> | null {
    if (this.server.clientPause.active) {
      const held = this.server.clientPause.holds(client, args, this.server.registry, this.server.persistence?.storageErrorCode() != null);
      if (held !== null) return held;
    }
    const persistence = this.server.persistence;
    if (persistence === null || !persistence.segmentsMayBeClosed) return null;
    const requests = client.multi !== null && keywordEquals(args[0], 'EXEC') ? client.multi.map((q) => q.args) : [args];
    const keys: Buffer[] = [];
    for (const request of requests) {
      let resolved: Resolved;
      try {
        resolved = this.server.registry.resolve(request);
      } catch {
        continue; // execute() answers the error
      }
      keys.push(...keyArguments(resolved.spec, request));
    }
    return persistence.whenMapped(this.server.databases[client.dbIndex], keys);
  }

  execute(client: ClientState, args: Buffer[], reply: ReplyWriter): void {
    const server = this.server;
    server.stats.totalCommands++;
    // One clock read serves as both the interaction time and the command's clock (as Redis's cached mstime).
    const now = server.clock();
    client.lastInteraction = now;
    let resolved: Resolved;
    try {
      resolved = server.registry.resolve(args);
    } catch (err) {
      this.reject(client, reply, err, null);
      return;
    }
    const { spec, statName } = resolved;
    client.lastCommand = statName;
    const traits = traitsOf(spec);

    if (!client.authenticated && !traits.noAuth) {
      this.reject(client, reply, new CommandError(Err.noAuth), statName);
      return;
    }
    // As Redis with a failed AOF write: refuse writes until the storage error clears (reads keep working).
    const refused = traits.write ? (server.persistence?.storageErrorCode() ?? null) : null;
    if (refused !== null) {
      this.reject(client, reply, new CommandError(Err.misconf(refused)), statName);
      return;
    }
    if (client.multi !== null && !traits.multiControl) {
      client.multi.push({ args });
      reply.simple('QUEUED');
      return;
    }
    this.call(client, args, resolved, reply, false, now);
  }

  /**
   * Runs a resolved command (directly, or from EXEC with inTransaction=true). `clockNow` is the time execute()
   * already read; without it (EXEC's queued commands) the clock is read here.
   */
  call(
    client: ClientState,
    args: Buffer[],
    resolved: Resolved,
    reply: ReplyWriter,
    inTransaction: boolean,
    clockNow?: number,
  ): void {
    const server = this.server;
    const { spec, statName, argStart } = resolved;
    const stats = server.stats.command(statName);
    // performance.now(): a double, no BigInt allocation and subtraction per command (usec keeps sub-us detail).
    const started = performance.now();
    const errorsBefore = reply.errorsWritten;
    const now = server.replayTime ?? clockNow ?? server.clock();
    const ctx = new CallContext(
      server,
      client,
      server.databases[client.dbIndex],
      args,
      argStart,
      reply,
      now,
      inTransaction,
      this,
    );
    client.currentArgs = args;
    // This command's durability ticket is its own; earlier commands of the same EXEC keep theirs (below).
    const outerTicket = server.takeTicket();
    try {
      spec.handler!(ctx);
    } catch (err) {
      if (!(err instanceof CommandError)) throw err;
      reply.error(err.reply);
      server.stats.error(err.code);
    }
    if (reply.errorsWritten !== errorsBefore) {
      stats.failedCalls++;
      // An error reveals no data and acknowledges nothing: it need not wait for any commit.
      server.takeTicket();
    }
    else if (server.persistence !== null && client.blocked === null && traitsOf(spec).write) {
      server.persistence.journal(ctx.db, statName, args, ctx.now);
    }
    // Retention trims the stream an XADD/XCFGSET changed, journaled after the command's own records.
    if (server.retention.pending) server.retention.flush(ctx.now);
    server.requireTicket(outerTicket);
    stats.calls++;
    const ms = performance.now() - started;
    stats.usec += ms * 1000;
    if (stats.duration !== null) stats.duration.observe(ms / 1000, 1);
    // Readers woken by this command: their replies' socket writes are made as one batch.
    if (server.blocking.hasReady) server.ioThreads.batch(server.blocking.serveReady);
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
}

export type { CommandSpec };
