// One client connection: reads requests off the socket, runs them in order through the dispatcher, and writes
// their replies in request order with one socket write per input turn. A blocked client stops consuming its
// pipeline until it is served; a client whose socket is not draining stops being read (backpressure).

import type { Socket } from 'node:net';
import { ProtocolError, RequestReader } from '../protocol/requestReader';
import { ReplyWriter } from '../protocol/replyWriter';
import { ClientState } from './clientState';
import type { Dispatcher } from './dispatcher';
import type { ServerState } from './serverState';

/** Pending output above which the connection stops reading from its socket until it drains. */
const OUTPUT_HIGH_WATER = 4 * 1024 * 1024;

export class Connection {
  readonly state: ClientState;
  readonly reply: ReplyWriter;
  private readonly reader: RequestReader;
  private paused = false;
  private closed = false;

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
    try {
      while (!this.closed && !client.closing && client.blocked === null) {
        this.reader.authenticated = client.authenticated;
        const args = this.reader.next();
        if (args === undefined) break;
        this.reply.protocol = client.protocol;
        this.dispatcher.execute(client, args, this.reply);
        if (this.reply.size > OUTPUT_HIGH_WATER) this.flush();
      }
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      this.reply.error(err.reply);
      this.server.stats.error('ERR');
      client.closing = true;
    }
    this.state.queryBufferBytes = this.reader.bufferedBytes;
    this.flush();
  }

  /** Adds a reply produced outside this connection's turn (a blocked read served or timed out), then resumes. */
  deliver(reply: ReplyWriter): void {
    if (this.closed) return;
    this.reply.raw(reply.take());
    // Resume the pipeline after the event loop turn, so a wake-up does not recurse into another client's command.
    setImmediate(() => this.process());
    this.flush();
  }

  flush(): void {
    if (this.closed) return;
    if (this.reply.size > 0) {
      const bytes = this.reply.take();
      this.server.stats.netOutputBytes += bytes.length;
      const accepted = this.socket.write(bytes);
      if (!accepted && !this.paused) {
        this.paused = true;
        this.socket.pause();
      }
    }
    this.state.outputBytes = this.socket.writableLength;
    if (this.state.closing) {
      this.closed = true;
      this.socket.end();
      this.cleanup();
    }
  }

  private onDrain(): void {
    this.state.outputBytes = 0;
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
    this.server.unwatchAll(client);
    this.server.clients.delete(client.id);
    this.onClose(this);
  }
}
