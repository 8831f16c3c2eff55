// Runs one request for one client, as Redis's processCommand/call do: resolve and check the command, enforce
// authentication, queue inside MULTI, run the handler, turn CommandErrors into error replies, count statistics,
// then serve clients blocked on keys the command made ready.

import { performance } from 'node:perf_hooks';
import { CommandError, Err, errorCodeOf } from '../errors';
import { ArgReader, keywordEquals } from '../commands/args';
import { keyArguments, type Resolved } from '../commands/registry';
import { shownArguments, type CommandContext, type CommandSpec } from '../commands/types';
import { Monitors } from './monitors';
import { clusterRedirection } from './clusterGate';
import type { ReplyWriter } from '../protocol/replyWriter';
import { Request } from '../protocol/request';
import type { BlockRequest } from './blocking';
import type { ClientState } from './clientState';
import type { ServerState } from './serverState';
import type { Persistence } from './persistence';
import { StorageError } from '../storage';

/**
 * What a write may append beyond its request's bytes: record headers, the entry ID, and the small records it
 * causes (the trim an XADD makes, retention's). A write writing more (a rare rewrite) is staged as before.
 */
const RECORD_MARGIN = 1024;

/**
 * The CommandContext of one call. A class rather than an object literal with two closures: handlers rarely use
 * block/callQueued, so they live on the prototype instead of being allocated per command. A context is reused
 * for the next call once its command is done, unless it `escaped`: a command that blocks (or answers later,
 * which blocks too) keeps its context, and whatever its callbacks captured, for as long as it waits.
 */
class CallContext implements CommandContext {
  private reader: ArgReader | null = null;
  escaped = false;

  constructor(
    readonly server: ServerState,
    public client: ClientState,
    public db: ServerState['databases'][number],
    public request: Request,
    private argStart: number,
    public reply: ReplyWriter,
    public now: number,
    public inTransaction: boolean,
    private readonly dispatcher: Dispatcher,
  ) {}

  /** Readies a done context for another call (see Dispatcher.call). */
  reuse(client: ClientState, db: ServerState['databases'][number], request: Request, argStart: number, reply: ReplyWriter, now: number, inTransaction: boolean): void {
    this.client = client;
    this.db = db;
    this.request = request;
    this.argStart = argStart;
    this.reply = reply;
    this.now = now;
    this.inTransaction = inTransaction;
    this.reader = null;
  }

  /** The arguments as Buffers, made on first use (see Request). */
  get args(): Buffer[] {
    return this.request.args;
  }

  /** Made on first use: the hot commands read their arguments by position and never ask for it. */
  get argv(): ArgReader {
    return (this.reader ??= new ArgReader(this.args, this.argStart));
  }

  block(request: BlockRequest): void {
    const server = this.server;
    this.escaped = true;
    // The reader reuses its Request for the next one: the waiting command keeps its arguments as Buffers, which
    // are also what CLIENT LIST and the slow log show for it.
    const args = this.args;
    this.request = Request.of(args);
    this.client.currentArgs = args;
    return server.blocking.block(this.client, server.databases[this.client.dbIndex], request);
  }

  callQueued(queued: Buffer[]): void {
    this.dispatcher.call(this.client, Request.of(queued), this.server.registry.resolve(queued), this.reply, true);
  }
}

export class Dispatcher {
  /** A context whose command is done, for the next call (see CallContext). */
  private spare: CallContext | null = null;

  constructor(private readonly server: ServerState) {}

  /**
   * What must happen before `args` (a request of `bytes` bytes) can run on this client, or null: the end of a
   * CLIENT PAUSE that holds it (src/server/clientPause.ts), the segments of the streams it names (or, for EXEC,
   * that its queued commands name) mapped again after the LRU closed them (see Persistence.whenMapped), or, for a
   * write, room reserved for it in those streams' logs (see Persistence.whenRoom; one comparison while every log
   * has room ahead for any request below the low-water mark).
   */
  whenReady(client: ClientState, req: Request, bytes: number): Promise<void> | null {
    if (this.server.clientPause.active) {
      const held = this.server.clientPause.holds(client, req.args, this.server.registry, this.server.persistence?.storageErrorCode() != null);
      if (held !== null) return held;
    }
    if (this.server.migrations.size > 0) {
      const moving = this.heldByMigration(client, req.args);
      if (moving !== null) return moving;
    }
    const persistence = this.server.persistence;
    if (persistence === null) return null;
    const space = persistence.space;
    if (!persistence.segmentsMayBeClosed && space.short === 0 && bytes + RECORD_MARGIN <= space.lowWater && client.multi === null) return null;
    return this.whenStorageReady(client, req.args, bytes, persistence);
  }

  /** A write (or EXEC of writes) naming a stream a MIGRATE is sending: the end of that MIGRATE. */
  private heldByMigration(client: ClientState, args: Buffer[]): Promise<void> | null {
    const exec = client.multi !== null && keywordEquals(args[0], 'EXEC');
    if (client.multi !== null && !exec) return null; // only queued
    for (const request of exec ? client.multi!.map((q) => q.args) : [args]) {
      let resolved: Resolved;
      try {
        resolved = this.server.registry.resolve(request);
      } catch {
        continue;
      }
      if (!resolved.traits.write) continue;
      for (const key of keyArguments(resolved.spec, request)) {
        const done = this.server.migrations.get(`${client.dbIndex}\0${key.toString('latin1')}`);
        if (done !== undefined) return done;
      }
    }
    return null;
  }

  /** whenReady's storage part: segments to map, then room to reserve (sets spaceRefusal when that failed). */
  private whenStorageReady(client: ClientState, args: Buffer[], bytes: number, persistence: Persistence): Promise<void> | null {
    const exec = client.multi !== null && keywordEquals(args[0], 'EXEC');
    const requests = exec ? client.multi!.map((q) => q.args) : [args];
    const keys: Buffer[] = [];
    let writes = false;
    let need = exec ? 0 : bytes;
    for (const request of requests) {
      let resolved: Resolved;
      try {
        resolved = this.server.registry.resolve(request);
      } catch {
        continue; // execute() answers the error
      }
      keys.push(...keyArguments(resolved.spec, request));
      if (resolved.traits.write) writes = true;
      if (exec) for (const a of request) need += a.length + 16;
    }
    const db = this.server.databases[client.dbIndex];
    if (persistence.segmentsMayBeClosed) {
      const mapping = persistence.whenMapped(db, keys);
      if (mapping !== null) return mapping;
    }
    // Inside MULTI a command is only queued: EXEC asks for the room of them all.
    if (!writes || (client.multi !== null && !exec)) return null;
    const room = persistence.whenRoom(db, keys, need + RECORD_MARGIN);
    if (room instanceof StorageError) {
      this.spaceRefusal = room.code;
      return null;
    }
    // A new stream's first segment could not be reserved either: refused now rather than held unanswered.
    const space = persistence.space;
    if (room === null && space.failing > 0 && keys.some((key) => !db.has(key.toString('latin1')))) this.spaceRefusal = space.failingCode;
    return room;
  }

  /** Set by whenReady when the write about to run cannot get room (its MISCONF code); execute() refuses it. */
  private spaceRefusal: string | null = null;

  /** Executes req for client, writing the reply into reply (a client that blocks is answered later). */
  execute(client: ClientState, req: Request, reply: ReplyWriter): void {
    const server = this.server;
    server.stats.totalCommands++;
    // One clock read serves as both the interaction time and the command's clock (as Redis's cached mstime).
    const now = server.clock();
    client.lastInteraction = now;
    let resolved: Resolved;
    try {
      resolved = server.registry.resolveRequest(req);
    } catch (err) {
      this.reject(client, reply, err, null, req.args);
      return;
    }
    const { statName, traits } = resolved;
    client.lastCommand = statName;

    if (!client.authenticated && !traits.noAuth) {
      this.reject(client, reply, new CommandError(Err.noAuth), statName);
      return;
    }
    // As Redis with a failed AOF write: refuse writes until the storage error clears (reads keep working).
    let refused = traits.write ? (server.persistence?.storageErrorCode() ?? null) : null;
    if (this.spaceRefusal !== null) {
      refused = this.spaceRefusal;
      this.spaceRefusal = null;
    }
    if (refused !== null) {
      this.reject(client, reply, new CommandError(Err.misconf(refused)), statName);
      return;
    }
    // Cluster mode: one null check while it is off.
    if (server.cluster !== null && this.redirected(client, req.args, resolved, reply)) return;
    // Replication: a read-only replica, or a master short of good replicas (null while neither applies).
    if (traits.write && server.writeGuard !== null) {
      const refusal = server.writeGuard.refusal(client);
      if (refusal !== null) {
        this.reject(client, reply, new CommandError(refusal), statName);
        return;
      }
    }
    // Pub/Sub: a RESP2 subscriber may only (un)subscribe, PING, QUIT or RESET (one flag check for everyone else).
    if (client.subscribed && client.protocol === 2 && !traits.inSubscribedMode) {
      this.reject(client, reply, new CommandError(Err.subscribedContext(statName)), statName);
      return;
    }
    if (client.multi !== null && !traits.multiControl) {
      client.multi.push({ args: req.args });
      reply.simple('QUEUED');
      return;
    }
    this.call(client, req, resolved, reply, false, now);
  }

  /**
   * Cluster mode: answers a request on keys this node does not serve with its redirection (MOVED, ASK,
   * CROSSSLOT...), as Redis's processCommand: a redirected EXEC discards the transaction, a redirected command
   * inside MULTI makes EXEC abort. Returns true when the request was answered so.
   */
  private redirected(client: ClientState, args: Buffer[], resolved: Resolved, reply: ReplyWriter): boolean {
    const server = this.server;
    const error = clusterRedirection(server.cluster!, server.registry, client, server.databases[0], resolved, args);
    if (error === null) return false;
    if (resolved.statName === 'exec') {
      client.multi = null;
      client.multiError = false;
      server.unwatchAll(client);
    } else if (client.multi !== null) client.multiError = true;
    server.stats.command(resolved.statName).rejectedCalls++;
    reply.error(error);
    server.stats.error(errorCodeOf(error), error, resolved.statName, client);
    return true;
  }

  /**
   * Runs a resolved command (directly, or from EXEC with inTransaction=true). `clockNow` is the time execute()
   * already read; without it (EXEC's queued commands) the clock is read here.
   */
  call(
    client: ClientState,
    req: Request,
    resolved: Resolved,
    reply: ReplyWriter,
    inTransaction: boolean,
    clockNow?: number,
  ): void {
    const server = this.server;
    const { spec, statName, argStart } = resolved;
    // MONITOR: this size check is all it costs while nobody monitors (feedMonitors below).
    const monitored = server.monitors.size !== 0;
    if (monitored && client.monitoring && Monitors.refuses(spec)) {
      this.reject(client, reply, new CommandError(Err.replicaKeyspace), statName);
      return;
    }
    const stats = server.stats.command(statName);
    // performance.now(): a double, no BigInt allocation and subtraction per command (usec keeps sub-us detail).
    const started = performance.now();
    const errorsBefore = reply.errorsWritten;
    const now = server.replayTime ?? clockNow ?? server.clock();
    // The spare context (none while a call is running inside another: EXEC's queued commands get new ones).
    let ctx = this.spare;
    if (ctx !== null) {
      this.spare = null;
      ctx.reuse(client, server.databases[client.dbIndex], req, argStart, reply, now, inTransaction);
    } else ctx = new CallContext(server, client, server.databases[client.dbIndex], req, argStart, reply, now, inTransaction, this);
    // A new batch of records per top-level command; EXEC's commands are all in EXEC's (all or nothing). Records
    // appended outside any command (checkpoints, timers, served blocked reads) never join a batch: the record
    // before them may already be acknowledged, and must not be made to depend on a later one.
    const batcher = inTransaction || server.persistence === null ? null : server.persistence.batcher;
    if (batcher !== null) {
      batcher.command++;
      batcher.inCommand = true;
    }
    // This command's durability ticket is its own; earlier commands of the same EXEC keep theirs (below).
    const outerTicket = server.takeTicket();
    // Replication: whether the command changed anything is only asked while replicas are fed.
    const propagation = server.propagation;
    const dirtyBefore = propagation === null ? 0 : server.dirty;
    try {
      spec.handler!(ctx);
    } catch (err) {
      if (!(err instanceof CommandError)) {
        if (batcher !== null) batcher.inCommand = false;
        throw err;
      }
      reply.error(err.reply);
      server.stats.error(err.code, err.reply, statName, client);
    }
    if (reply.errorsWritten !== errorsBefore) {
      stats.failedCalls++;
      // An error reveals no data and acknowledges nothing: it need not wait for any commit.
      server.takeTicket();
    }
    // (A write's changes are in its streams' logs already: handlers record them, see streams/changeRecords.ts.)
    else if (propagation !== null && resolved.traits.write && client.blocked === null) {
      propagation.written(ctx.db.index, statName, req.args, server.dirty !== dirtyBefore);
    }
    // Retention trims the stream an XADD/XCFGSET changed, recorded after the command's own records.
    if (server.retention.pending) server.retention.flush(ctx.now);
    if (batcher !== null) batcher.inCommand = false;
    server.requireTicket(outerTicket);
    stats.calls++;
    const ms = performance.now() - started;
    const usec = ms * 1000;
    stats.usec += usec;
    if (stats.duration !== null) stats.duration.observe(ms / 1000, 1);
    // LATENCY and SLOWLOG: one comparison each while unused (their thresholds are Infinity while off).
    if (ms >= server.latency.thresholdMs) this.commandLatency(client, spec, ms);
    // SLOWLOG: one comparison while unused (the threshold is Infinity while the log is off).
    if (usec >= server.slowLog.threshold) this.logSlow(client, req.args, spec, usec);
    // (MONITOR itself, the one command that makes `monitored` stale, is an admin command and never shown.)
    if (monitored) this.feedMonitors(client, req.args, spec);
    // Replication: the outermost command's writes travel together (MULTI/EXEC when several), before the readers
    // it woke are served (their XREADGROUPs travel after it, as in Redis).
    if (propagation !== null && !inTransaction) propagation.commit();
    // Readers woken by this command: their replies' socket writes are made as one batch. Only after the outermost
    // command (EXEC, not each queued one), as Redis's handleClientsBlockedOnKeys: a reader never sees the inside
    // of a transaction, and is served what the keys hold once it is done.
    if (!inTransaction && server.blocking.hasReady) server.ioThreads.batch(server.blocking.serveReady);
    if (!ctx.escaped) this.spare = ctx;
  }

  /**
   * LATENCY: a command that took at least latency-monitor-threshold ms is a `command` event (`fast-command` for
   * one flagged fast), as Redis's call(); not while replaying the log (Redis loads its AOF without call()) nor
   * for a client that blocked (its wait is not the command's run).
   */
  private commandLatency(client: ClientState, spec: CommandSpec, ms: number): void {
    if (this.server.replayTime !== null || client.blocked !== null) return;
    this.server.latency.add(spec.flags.includes('fast') ? 'fast-command' : 'command', ms);
  }

  /**
   * SLOWLOG: records a command that ran at least the threshold, as Redis's call(): a command that blocked once it
   * is answered (ServerState: blocking.onAnswered), not EXEC (skip_slowlog: its commands are logged one by one),
   * not a replayed one (Redis's AOF loading does not log either).
   */
  private logSlow(client: ClientState, args: Buffer[], spec: CommandSpec, usec: number): void {
    const server = this.server;
    if (server.replayTime !== null || spec.flags.includes('skip_slowlog')) return;
    if (client.blocked !== null) client.blocked.callUsec = usec;
    else server.slowLog.push(client, shownArguments(spec, args), usec, server.clock());
  }

  /** MONITOR: shows the command to every monitor after it ran (as Redis 7.0's call()), unless an admin command. */
  private feedMonitors(client: ClientState, args: Buffer[], spec: CommandSpec): void {
    if (this.server.replayTime !== null || !Monitors.shows(spec)) return;
    this.server.monitors.feed(client, client.dbIndex, shownArguments(spec, args));
  }

  /** Recovery: runs a journaled command as it ran then (its time, no blocking), replies discarded. */
  replay(client: ClientState, args: Buffer[], now: number, sink: ReplyWriter): void {
    const server = this.server;
    const resolved = server.registry.resolve(args);
    const saved = server.replayTime;
    server.replayTime = now;
    try {
      this.call(client, Request.of(args), resolved, sink, true);
    } finally {
      server.replayTime = saved;
    }
  }

  /** `args`: the request, when it did not resolve to a command (its name is then only read for the debug log). */
  private reject(client: ClientState, reply: ReplyWriter, err: unknown, statName: string | null, args?: Buffer[]): void {
    if (!(err instanceof CommandError)) throw err;
    if (client.multi !== null) client.multiError = true;
    // Cluster mode's ASKING lasts one command, a refused one included (Redis's resetClient).
    else if (statName !== 'asking') client.asking = false;
    if (statName === 'exec' || (statName === null && err.reply === Err.wrongArity('exec'))) {
      // execCommandAbort: a rejected EXEC discards the transaction and says why.
      client.multi = null;
      client.multiError = false;
      this.server.unwatchAll(client);
      const text = `EXECABORT Transaction discarded because of: ${err.reply.replace(/^ERR /, '')}`;
      reply.error(text);
      this.server.stats.error('EXECABORT', text, statName, client);
      return;
    }
    if (statName) this.server.stats.command(statName).rejectedCalls++;
    reply.error(err.reply);
    const stats = this.server.stats;
    const named = statName ?? (stats.onErrorReply !== null && args !== undefined && args.length > 0 ? args[0].toString('latin1').toLowerCase() : null);
    stats.error(err.code, err.reply, named, client);
  }
}

export type { CommandSpec };
