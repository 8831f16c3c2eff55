// One client connection: reads requests off the socket, runs them in order through the dispatcher, and writes
// their replies in request order with one socket write per input turn. A blocked client stops consuming its
// pipeline until it is served; a client whose socket is not draining stops being read (backpressure).

import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { ProtocolError, RequestReader } from '../protocol/requestReader';
import { ReplyWriter } from '../protocol/replyWriter';
import type { Request } from '../protocol/request';
import { ClientState } from './clientState';
import { bufferLimitsOf, type BufferLimit } from '../config/options';
import type { Dispatcher } from './dispatcher';
import type { ServerState } from './serverState';
import type { DirectTarget } from './ioThreads';

/**
 * Replies gathered in the writer above which they are written out mid-pipeline. Once a write is not accepted
 * (the kernel buffer is full and the client is not reading), the connection stops running requests and stops
 * reading its socket until 'drain': a client pipelining large requests without reading its replies holds at
 * most about this much plus one reply, plus the unread part of one input chunk.
 */
const OUTPUT_HIGH_WATER = 4 * 1024 * 1024;

/** Replies waiting for a durability ticket. */
interface Held {
  ticket: number;
  bytes: Buffer;
  /** performance.now() of the turn that queued them (spool_durability_wait_seconds). */
  since: number;
  /** Command replies among `bytes` that waited (queued while `ticket` was not durable). */
  replies: number;
}

export class Connection implements DirectTarget {
  readonly state: ClientState;
  readonly reply: ReplyWriter;
  private readonly reader: RequestReader;
  private paused = false;
  private closed = false;
  /**
   * Replies cut off the writer because they wait for a durability ticket, in request order. Tickets only grow
   * along the queue: a reply behind a waiting one waits too, so replies never overtake each other.
   */
  private readonly held: Held[] = [];
  private heldBytes = 0;
  /**
   * Operations (spool_durability_wait_seconds): performance.now() when this turn first held a reply (-1: not
   * yet). Replies held in one turn share it, so one clock read covers a pipeline; entries of different turns
   * are not merged, so each is timed from its own turn.
   */
  private holdStamp = -1;
  /**
   * Replies still in the writer that wait for a ticket: the writer's bytes from `writerFree` on (-1: none wait)
   * wait for `writerTicket`. Commands of one turn add to that tail, and flush() cuts it off once, rather than
   * each command cutting and joining its own reply (a copy of everything held so far per pipelined command).
   */
  private writerFree = -1;
  private writerTicket = 0;
  /** Command replies in that tail that waited (for the wait metric). */
  private writerReplies = 0;
  /** When pending output first went over the soft output buffer limit (ms), or 0 (Redis: obuf_soft_limit_reached_time). */
  private softLimitSince = 0;

  constructor(
    private readonly socket: Socket,
    private readonly server: ServerState,
    private readonly dispatcher: Dispatcher,
    private readonly onClose: (conn: Connection) => void,
  ) {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    const local = `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`;
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    this.state = new ClientState(
      server.allocateClientId(),
      remote,
      local,
      fd,
      server.clock(),
      server.config.get('requirepass') !== '',
      () => this.close(),
    );
    this.reply = new ReplyWriter(2);
    this.reader = new RequestReader({ maxBulkLength: server.config.getNumber('proto-max-bulk-len') });
    this.reader.authenticated = this.state.authenticated;
    socket.setNoDelay(true);
    const keepalive = server.config.getNumber('tcp-keepalive');
    if (keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    socket.on('data', (chunk) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.server.stats.netInputBytes += chunk.length;
    // As Redis's readQueryFromClient: receiving counts as interaction, so `timeout` does not close a client
    // in the middle of sending a large request.
    this.state.lastInteraction = this.server.clock();
    this.reader.feed(chunk);
    this.state.queryBufferBytes = this.reader.bufferedBytes;
    if (this.reader.bufferedBytes > this.server.config.getNumber('client-query-buffer-limit')) {
      // Redis closes such a client without a reply (it logs "closing client that reached max query buffer length").
      this.close();
      return;
    }
    this.process();
  }

  /** Runs every complete buffered request unless blocked or closing, then writes the replies. */
  process(): void {
    const client = this.state;
    this.holdStamp = -1;
    // Read once per turn, not per command: with no limit for the client's class (normal's default) the loop
    // skips the check.
    const limit = this.outputLimit();
    const limited = limit.hard > 0 || limit.soft > 0;
    try {
      // `paused`: the socket is not draining, so running more requests would only pile up replies (backpressure).
      while (!this.closed && !client.closing && client.blocked === null && !this.paused && this.mapping === null) {
        this.reader.authenticated = client.authenticated;
        const buffered = this.reader.bufferedBytes;
        const req = this.parked ?? this.reader.next();
        const bytes = this.parked === undefined ? buffered - this.reader.bufferedBytes : this.parkedBytes;
        this.parked = undefined;
        if (req === undefined) break;
        // Segments it reads were closed by the LRU, or a write needs room reserved in its streams: run it (and
        // what follows) once that is done.
        const mapping = this.mappingFailed ? null : this.dispatcher.whenReady(client, req, bytes);
        this.mappingFailed = false;
        if (mapping !== null) {
          this.parked = req;
          this.parkedBytes = bytes;
          this.mapping = mapping;
          void mapping.then(
            () => this.resumeAfterMapping(false),
            () => this.resumeAfterMapping(true),
          );
          break;
        }
        this.reply.protocol = client.protocol;
        const mark = this.reply.size;
        this.dispatcher.execute(client, req, this.reply);
        if (client.replyMode !== 'on' && client.blocked === null && this.replyDropped()) this.dropReply(mark);
        if (client.pushSpans !== null) client.pushSpans = null;
        this.holdIfNeeded(mark, this.server.takeTicket());
        if (limited && this.checkOutputLimits()) return;
        if (this.reply.size > OUTPUT_HIGH_WATER) this.flush();
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.reply.error(err.reply);
      this.server.stats.error('ERR', err.reply, null, client);
      client.closing = true;
    }
    this.state.queryBufferBytes = this.reader.bufferedBytes;
    this.flush();
  }

  /**
   * CLIENT REPLY OFF/SKIP, once a command is done (run, or served after blocking): whether its reply is dropped.
   * Moves SKIP on a step, as Redis's resetClient does after each command.
   */
  private replyDropped(): boolean {
    const client = this.state;
    const mode = client.replyMode;
    if (mode === 'skip') client.replyMode = 'on';
    else if (mode === 'skipNext') client.replyMode = 'skip';
    return mode === 'off' || mode === 'skip';
  }

  /**
   * Drops the reply of the command that began at `mark` (CLIENT REPLY OFF/SKIP), keeping what it wrote as pushes
   * (Pub/Sub confirmations and messages: Redis sends those whatever the reply mode).
   */
  private dropReply(mark: number): void {
    const spans = this.state.pushSpans;
    if (spans === null) {
      this.reply.truncate(mark);
      return;
    }
    const before = this.reply.takeBefore(mark);
    const own = this.reply.take();
    if (before.length > 0) this.reply.raw(before);
    for (let i = 0; i < spans.length; i += 2) this.reply.raw(own.subarray(spans[i] - mark, spans[i + 1] - mark));
  }

  /** A request waiting for its streams' segments to be mapped (see process); the reader is not read meanwhile. */
  private parked: Request | undefined = undefined;
  /** Size of the parked request (bytes it took on the wire: what a write may need in its streams' logs). */
  private parkedBytes = 0;
  private mapping: Promise<void> | null = null;
  /** Mapping failed (EMFILE...): the parked request runs anyway and gets the read error, not a retry loop. */
  private mappingFailed = false;

  private resumeAfterMapping(failed: boolean): void {
    this.mapping = null;
    this.mappingFailed = failed;
    this.process();
  }

  /**
   * After a command whose reply began at `mark`: the reply waits for `ticket` when that is not durable yet (or
   * when earlier replies are already waiting). Bytes before `mark` keep their place; the waiting part stays in
   * the writer as its tail (writerFree) until flush() cuts it off.
   */
  private holdIfNeeded(mark: number, ticket: number): void {
    const durable = this.server.durability.durableTicket();
    if (this.writerFree >= 0) {
      // The tail waits already: this reply joins it, behind the replies before it.
      if (ticket > this.writerTicket) this.writerTicket = ticket;
      if (ticket > durable) this.writerReplies++;
      return;
    }
    if (ticket <= durable && this.held.length === 0) return;
    const lastHeld = this.held.length ? this.held[this.held.length - 1].ticket : 0;
    this.writerFree = mark;
    this.writerTicket = Math.max(ticket, lastHeld);
    this.writerReplies = this.writerTicket > durable ? 1 : 0;
    // Only the durability-wait metric reads the stamp: no clock read while metrics are off.
    if (this.holdStamp < 0) this.holdStamp = this.server.stats.durabilityWait === null ? 0 : performance.now();
  }

  /** Moves the writer's waiting tail (see writerFree) to the held queue: one cut a turn, not one a command. */
  private cutWriter(): void {
    const free = this.writerFree;
    const ticket = this.writerTicket;
    const replies = this.writerReplies;
    this.writerFree = -1;
    this.writerTicket = 0;
    this.writerReplies = 0;
    const lastHeld = this.held.length ? this.held[this.held.length - 1].ticket : 0;
    if (free > 0) this.queue(lastHeld, this.reply.takeBefore(free), 0);
    this.queue(ticket, this.reply.take(), replies);
  }

  /** Queues bytes behind `ticket`; `replies`: how many command replies among them wait (for the wait metric). */
  private queue(ticket: number, bytes: Buffer, replies: number): void {
    if (bytes.length === 0) return;
    // Only the durability-wait metric reads the stamp: no clock read while metrics are off.
    if (this.holdStamp < 0) this.holdStamp = this.server.stats.durabilityWait === null ? 0 : performance.now();
    const last = this.held[this.held.length - 1];
    if (last && last.ticket === ticket && last.since === this.holdStamp) {
      last.bytes = Buffer.concat([last.bytes, bytes]);
      last.replies += replies;
    } else this.held.push({ ticket, bytes, since: this.holdStamp, replies });
    this.heldBytes += bytes.length;
  }

  /** Called when the durable ticket advances: releases the replies now allowed out. */
  releaseDurable(): void {
    if (this.held.length > 0) this.flush();
  }

  /**
   * Adds a reply produced outside this connection's turn (a blocked read served or timed out), then resumes.
   * A Buffer may be shared by many connections (one reply encoded for every reader woken alike): it is written
   * as it is when nothing is ahead of it, else copied behind what is.
   */
  deliver(reply: ReplyWriter | Buffer, ticket: number): void {
    if (this.closed) return;
    let bytes = Buffer.isBuffer(reply) ? reply : reply.take();
    // The blocked command ran under CLIENT REPLY OFF/SKIP: its reply is dropped now that it is served.
    if (this.state.replyMode !== 'on' && this.replyDropped()) bytes = bytes.subarray(0, 0);
    if (this.reply.size === 0 && this.held.length === 0 && ticket <= this.server.durability.durableTicket()) {
      this.write(bytes);
    } else {
      this.holdStamp = -1;
      const mark = this.reply.size;
      this.reply.raw(bytes);
      this.holdIfNeeded(mark, ticket);
    }
    // Resume the pipeline (requests that arrived while blocked) after the event loop turn, so a wake-up does
    // not recurse into another client's command. Nothing buffered: the next 'data' event resumes it.
    if (this.reader.bufferedBytes > 0) setImmediate(() => this.process());
    this.flush();
  }

  /**
   * A Pub/Sub message published by another client: it goes after every reply this client was already given
   * (behind replies waiting for durability too), whatever CLIENT REPLY says (Redis's CLIENT_PUSHING), and counts
   * toward the output buffer limit (class pubsub while subscribed), checked by flush().
   */
  push(bytes: Buffer): void {
    if (this.closed) return;
    // Nothing ahead of it: the shared bytes are written as they are (joined with others in a PUBLISH's batch).
    if (this.reply.size === 0 && this.held.length === 0) this.write(bytes);
    else this.reply.raw(bytes);
    this.flush();
  }

  flush(): void {
    if (this.closed) return;
    if (this.writerFree >= 0) this.cutWriter();
    if (this.held.length > 0) {
      const durable = this.server.durability.durableTicket();
      const ready: Buffer[] = [];
      const waits = this.server.stats.durabilityWait;
      let now = -1;
      while (this.held.length > 0 && this.held[0].ticket <= durable) {
        const { bytes, since, replies } = this.held.shift()!;
        this.heldBytes -= bytes.length;
        ready.push(bytes);
        if (waits !== null && replies > 0) {
          if (now < 0) now = performance.now();
          waits.observe((now - since) / 1000, replies);
        }
      }
      // Anything still in the writer belongs behind the held replies.
      if (this.held.length > 0 && this.reply.size > 0) this.queue(this.held[this.held.length - 1].ticket, this.reply.take(), 0);
      if (this.held.length === 0) this.heldBytes = 0;
      if (this.held.length === 0 && this.reply.size > 0) ready.push(this.reply.take());
      if (ready.length > 0) this.write(Buffer.concat(ready));
    } else if (this.reply.size > 0) {
      this.write(this.reply.take());
    }
    this.state.outputBytes = this.socket.writableLength + this.heldBytes;
    if (this.checkOutputLimits()) return;
    // A closing client goes once every reply it is owed has been written.
    if (this.state.closing && this.held.length === 0) {
      // A reply queued in the open write batch goes first: end() must not overtake it.
      const queued = this.server.ioThreads.take(this);
      if (queued !== null) this.writeSocket(queued);
      this.closed = true;
      this.socket.end();
      this.cleanup();
    }
  }

  private write(bytes: Buffer): void {
    this.server.stats.netOutputBytes += bytes.length;
    // Inside a fan-out (readers woken, replies released by an fsync) the write joins the batch of ioThreads.ts.
    if (!this.server.ioThreads.offer(this, bytes)) this.writeSocket(bytes);
  }

  /** DirectTarget: the descriptor while nothing is queued in Node for this socket (so bytes keep their order). */
  directFd(): number {
    const socket = this.socket as Socket & { encrypted?: boolean; _handle?: { fd?: number } | null };
    if (this.closed || this.state.closing || socket.encrypted === true || socket.writableLength !== 0) return -1;
    return socket._handle?.fd ?? -1;
  }

  /** DirectTarget: bytes a direct write did not take, or that were not written directly. */
  writeRest(bytes: Buffer): void {
    if (!this.closed) this.writeSocket(bytes);
  }

  private writeSocket(bytes: Buffer): void {
    const accepted = this.socket.write(bytes);
    if (!accepted && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  /** Replies produced and not yet taken by the kernel: what client-output-buffer-limit bounds (Redis: the reply list). */
  get pendingOutput(): number {
    return this.socket.writableLength + this.heldBytes + this.reply.size;
  }

  /**
   * Enforces client-output-buffer-limit (class pubsub for a subscribed client, else normal) as Redis's
   * checkClientOutputBufferLimits: at or above the hard limit the client is closed at once; at or above the soft
   * limit it is closed once that has lasted more than soft-seconds. Pending replies are dropped, no error is sent (Redis logs "scheduled to be closed ASAP
   * for overcoming of output buffer limits"). Called after each command, after each write and from the
   * server's periodic sweep (so a soft limit expires also while the paused client sends nothing). Returns true
   * when it closed the connection.
   */
  checkOutputLimits(now: number = this.server.clock()): boolean {
    if (this.closed) return true;
    const limit = this.outputLimit();
    if (limit.hard === 0 && limit.soft === 0) return false;
    const used = this.pendingOutput;
    let over = limit.hard > 0 && used >= limit.hard;
    if (limit.soft > 0 && used >= limit.soft) {
      if (this.softLimitSince === 0) this.softLimitSince = now;
      else if (now - this.softLimitSince > limit.softSeconds * 1000) over = true;
    } else {
      this.softLimitSince = 0;
    }
    if (over) this.close();
    return over;
  }

  /** The client's class of client-output-buffer-limit, as Redis's getClientType: pubsub while subscribed. */
  private outputLimit(): BufferLimit {
    const limits = bufferLimitsOf(this.server.config.get('client-output-buffer-limit'));
    return this.state.subscribed ? limits.pubsub : limits.normal;
  }

  private onDrain(): void {
    this.state.outputBytes = this.heldBytes;
    if (!this.paused) return;
    this.paused = false;
    this.socket.resume();
    this.process();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.cleanup();
  }

  private cleanup(): void {
    const client = this.state;
    if (client.blocked) this.server.blocking.unblock(client.blocked);
    if (client.held) this.server.clientPause.forget(client);
    this.server.monitors.delete(client);
    if (client.subscriptions !== null) this.server.pubsub.forget(client);
    this.server.unwatchAll(client);
    this.server.replication.clientGone(client);
    this.server.clients.delete(client.id);
    this.onClose(this);
  }
}
