// The replica side of replication: the link to this server's master, as Redis 7's replica does it. Connect,
// PING, AUTH (masterauth/masteruser), REPLCONF listening-port, REPLCONF capa eof capa psync2, then PSYNC with
// our replication ID and offset (a partial resynchronization when the master still has what we miss) or
// `PSYNC ? -1`. A full resynchronization reads the RDB (`$<len>` or the diskless `$EOF:<mark>` form) and
// replaces the dataset with its streams; then every command of the master's stream runs through the normal
// command path as the master client (so it persists like any write), its bytes counted into our offset and
// fed to our own backlog and replicas. REPLCONF ACK goes back every second; a lost link is retried every second.

import net from 'node:net';
import { ClientState } from '../clientState';
import { commandOf, encodeCommand, encodedLength } from './respCommand';
import { withoutMasterLimit } from '../../streams/propagation';
import type { Replication } from './replication';
import type { ServerState } from '../serverState';

// redis-parser has no type declarations: the part of its API used here.
interface ReplyParser {
  execute(chunk: Buffer): void;
}
type ReplyParserClass = new (options: {
  returnReply(reply: unknown): void;
  returnError(err: Error): void;
  returnFatalError?(err: Error): void;
  returnBuffers: boolean;
}) => ReplyParser;
let parserClass: ReplyParserClass | null = null;
/** Loaded on the first link to a master only (a server that never replicates does not load it). */
function redisParser(): ReplyParserClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (parserClass ??= require('redis-parser') as ReplyParserClass);
}

export type LinkState = 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

/** What the link needs from the server around it (wired in server.ts). */
export interface MasterLinkHost {
  readonly server: ServerState;
  readonly replication: Replication;
  /** Runs one command of the master's stream as `client` (a promise while its streams' segments are mapped). */
  execute(client: ClientState, args: Buffer[]): Promise<void> | void;
  /** Replaces every database's content with the RDB's streams; resolves with how many other keys were skipped. */
  loadSnapshot(rdb: Buffer, client: ClientState): Promise<number>;
  log(level: 'notice' | 'warning', message: string): void;
}

const EOF_MARK_LENGTH = 40;
/** Commands of the master's stream queued (waiting for segments to be mapped) above which the socket pauses. */
const QUEUE_HIGH_WATER = 1024;
/** Replies of the handshake accepted for PING: a master requiring AUTH answers PING with an error. */
const PING_ACCEPTED = /^(\+|-NOAUTH|-NOPERM|-ERR operation not permitted)/;

interface RdbTransfer {
  /** Bytes announced by `$<len>`, or -1 for the `$EOF:<mark>` form. */
  readonly length: number;
  readonly mark: Buffer | null;
  chunks: Buffer[];
  received: number;
  /** The last bytes received (the `$EOF:` form ends when they equal the mark). */
  tail: Buffer;
  readonly replid: string;
  readonly offset: number;
}

export class MasterLink {
  state: LinkState = 'connect';
  private socket: net.Socket | null = null;
  /** The client the master's commands run as (CLIENT LIST flag M, CLIENT KILL TYPE master). */
  readonly client: ClientState;
  /** Offset of the master's stream processed (slave_repl_offset). */
  get offset(): number {
    return this.host.replication.offset;
  }
  /** Offset read from the socket (slave_read_repl_offset): what is processed plus what is queued. */
  readOffset = 0;
  /** When data last came from the master (ms). */
  lastIo = 0;
  /** When the link went down (ms), for master_link_down_since_seconds; 0 until it was up once (Redis: -1). */
  downSince = 0;
  /** Keys of types other than stream skipped by the last full resynchronization. */
  skippedKeys = 0;
  private input: Buffer = Buffer.alloc(0);
  /** Handlers of the handshake replies still awaited, in order. */
  private awaiting: Array<(line: string) => void> = [];
  private rdb: RdbTransfer | null = null;
  private parser: ReplyParser | null = null;
  private readonly queue: Buffer[][] = [];
  private draining = false;
  /** Bytes from the master are commands of its stream (after the RDB, or after +CONTINUE). */
  private streaming = false;
  /** Bytes of a transaction of the master's stream not yet complete (see drain). */
  private inTransaction: Buffer[] = [];
  private closed = false;
  /** Increases on every connection attempt: events of an older socket are ignored. */
  private generation = 0;

  constructor(
    readonly masterHost: string,
    readonly masterPort: number,
    private readonly host: MasterLinkHost,
  ) {
    const now = host.server.clock();
    this.client = new ClientState(host.server.allocateClientId(), `${masterHost}:${masterPort}`, '', -1, now, false, () => this.drop('killed'));
    this.client.replicationRole = 'master';
    this.connect();
  }

  get syncInProgress(): boolean {
    return this.state === 'sync';
  }

  /** Bytes of the RDB announced / read so far (INFO master_sync_total_bytes / master_sync_read_bytes). */
  get syncProgress(): { total: number; read: number } {
    return { total: this.rdb?.length ?? 0, read: this.rdb?.received ?? 0 };
  }

  private connect(): void {
    if (this.closed) return;
    const generation = ++this.generation;
    this.state = 'connecting';
    this.lastIo = this.host.server.clock();
    this.input = Buffer.alloc(0);
    this.awaiting = [];
    this.rdb = null;
    this.parser = null;
    const socket = net.connect({ host: this.masterHost, port: this.masterPort });
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      if (generation !== this.generation) return;
      this.lastIo = this.host.server.clock();
      this.state = 'handshake';
      this.send(commandOf('PING'));
      this.awaiting.push((line) => {
        if (!PING_ACCEPTED.test(line)) return this.drop(`Error reply to PING from master: '${line}'`);
        this.sendHandshake();
      });
    });
    socket.on('data', (chunk) => {
      if (generation === this.generation) this.onData(chunk);
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (generation === this.generation) this.lost();
    });
  }

  private sendHandshake(): void {
    const config = this.host.server.config;
    const password = config.get('masterauth');
    if (password !== '') {
      const user = config.get('masteruser');
      this.send(user === '' ? commandOf('AUTH', password) : commandOf('AUTH', user, password));
      this.awaiting.push((line) => {
        if (!line.startsWith('+')) this.drop(`Unable to AUTH to MASTER: ${line}`);
      });
    }
    this.send(commandOf('REPLCONF', 'listening-port', this.host.server.boundPort));
    this.awaiting.push(() => undefined); // an error is fine (old masters), as Redis
    this.send(commandOf('REPLCONF', 'capa', 'eof', 'capa', 'psync2'));
    this.awaiting.push(() => undefined);
    const replication = this.host.replication;
    // With a history (a backlog) we offer it for a partial resynchronization; else a full one.
    if (replication.backlog !== null) this.send(commandOf('PSYNC', replication.replid, replication.offset + 1));
    else this.send(commandOf('PSYNC', '?', -1));
    this.awaiting.push((line) => this.onPsyncReply(line));
  }

  private onPsyncReply(line: string): void {
    const words = line.split(' ');
    if (words[0] === '+FULLRESYNC' && words.length >= 3) {
      this.state = 'sync';
      this.rdb = { length: -2, mark: null, chunks: [], received: 0, tail: Buffer.alloc(0), replid: words[1], offset: Number(words[2]) };
      this.readOffset = Number(words[2]);
      this.host.log('notice', `Full resync from master: ${words[1]}:${words[2]}`);
      return;
    }
    if (words[0] === '+CONTINUE') {
      this.readOffset = this.offset;
      if (words[1] !== undefined && words[1].length === 40) this.host.replication.masterIdChanged(words[1]);
      this.host.log('notice', 'Successful partial resynchronization with master.');
      this.online();
      return;
    }
    this.drop(`Unexpected reply to PSYNC from master: ${line}`);
  }

  private onData(chunk: Buffer): void {
    this.lastIo = this.host.server.clock();
    if (this.streaming) return this.feedStream(chunk);
    this.input = this.input.length === 0 ? chunk : Buffer.concat([this.input, chunk]);
    while (this.state === 'handshake' || (this.state === 'sync' && this.rdb !== null && this.rdb.length === -2)) {
      const eol = this.input.indexOf('\n');
      if (eol < 0) return;
      const line = this.input.toString('latin1', 0, eol).replace(/\r$/, '');
      this.input = this.input.subarray(eol + 1);
      if (this.state === 'handshake') {
        // A bare newline is the master's keepalive while it prepares the RDB.
        if (line === '') continue;
        const handler = this.awaiting.shift();
        if (handler !== undefined) handler(line);
        if (this.state !== 'handshake' && this.state !== 'sync') break;
      } else this.onRdbPreamble(line);
    }
    if (this.state === 'sync' && this.rdb !== null && this.rdb.length !== -2 && this.input.length > 0) {
      const rest = this.input;
      this.input = Buffer.alloc(0);
      this.onRdbBytes(rest);
    } else if (this.streaming && this.input.length > 0) {
      const rest = this.input;
      this.input = Buffer.alloc(0);
      this.feedStream(rest);
    }
  }

  /** `$<len>` or `$EOF:<40 bytes>` before the RDB payload (empty lines are keepalives). */
  private onRdbPreamble(line: string): void {
    const rdb = this.rdb!;
    if (line === '') return;
    if (!line.startsWith('$')) return this.drop(`Bad protocol from MASTER, the first byte is not '$': ${line}`);
    if (line.startsWith('$EOF:') && line.length >= 5 + EOF_MARK_LENGTH) {
      this.rdb = { ...rdb, length: -1, mark: Buffer.from(line.slice(5, 5 + EOF_MARK_LENGTH), 'latin1') };
      return;
    }
    const length = Number(line.slice(1));
    if (!Number.isSafeInteger(length) || length < 0) return this.drop(`Bad RDB length from MASTER: ${line}`);
    this.rdb = { ...rdb, length };
    if (length === 0) this.onRdbBytes(Buffer.alloc(0));
  }

  private onRdbBytes(chunk: Buffer): void {
    const rdb = this.rdb!;
    let rest: Buffer | null = null;
    if (rdb.length >= 0) {
      const wanted = rdb.length - rdb.received;
      if (chunk.length > wanted) {
        rest = chunk.subarray(wanted);
        chunk = chunk.subarray(0, wanted);
      }
      rdb.chunks.push(chunk);
      rdb.received += chunk.length;
      if (rdb.received < rdb.length) return;
    } else {
      rdb.chunks.push(chunk);
      rdb.received += chunk.length;
      // The diskless form ends with the mark: nothing follows it before the stream starts.
      rdb.tail = Buffer.concat([rdb.tail, chunk]);
      if (rdb.tail.length > EOF_MARK_LENGTH) rdb.tail = rdb.tail.subarray(rdb.tail.length - EOF_MARK_LENGTH);
      if (!rdb.tail.equals(rdb.mark!)) return;
      const all = Buffer.concat(rdb.chunks);
      rdb.chunks = [all.subarray(0, all.length - EOF_MARK_LENGTH)];
    }
    const payload = Buffer.concat(rdb.chunks);
    const generation = this.generation;
    // The stream that follows the RDB waits (queued) until the dataset is replaced; the link is up after that
    // (master_sync_in_progress stays 1 while loading, as Redis).
    this.streaming = true;
    this.queue.length = 0;
    this.draining = true;
    this.parser = this.newParser();
    if (rest !== null && rest.length > 0) this.feedStream(rest);
    this.host.loadSnapshot(payload, this.client).then(
      (skipped) => {
        if (generation !== this.generation) return;
        this.skippedKeys = skipped;
        this.host.replication.synchronized(rdb.replid, rdb.offset);
        this.host.log('notice', `MASTER <-> REPLICA sync: Finished with success (${skipped} keys of other types skipped)`);
        this.online();
        this.draining = false;
        void this.drain();
      },
      (err: Error) => {
        if (generation !== this.generation) return;
        this.draining = false;
        this.drop(`Failed trying to load the MASTER synchronization DB: ${err.message}`);
      },
    );
  }

  /** The link carries the master's stream from now on; the master client appears in CLIENT LIST. */
  private online(): void {
    this.state = 'connected';
    this.streaming = true;
    this.parser ??= this.newParser();
    this.host.server.clients.set(this.client.id, this.client);
    this.client.authenticated = true;
    this.client.closing = false;
    this.sendAck();
  }

  private newParser(): ReplyParser {
    const RedisParser = redisParser();
    return new RedisParser({
      returnReply: (reply) => {
        if (Array.isArray(reply) && reply.length > 0 && reply.every((a) => Buffer.isBuffer(a))) {
          const args = reply as Buffer[];
          this.readOffset += encodedLength(args);
          this.queue.push(args);
        }
      },
      returnError: () => undefined,
      returnFatalError: (err) => this.drop(`Protocol error from master: ${err.message}`),
      returnBuffers: true,
    });
  }

  private feedStream(chunk: Buffer): void {
    this.parser!.execute(chunk);
    // Commands waiting for their segments to be mapped stop the queue: stop reading too (memory stays bounded).
    if (this.queue.length > QUEUE_HIGH_WATER) this.socket?.pause();
    void this.drain();
  }

  /**
   * Runs the queued commands in order. A command waiting for its segments to be mapped stops the queue until
   * it ran (the order of the stream is kept).
   */
  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    const generation = this.generation;
    try {
      while (this.queue.length > 0 && generation === this.generation) {
        const args = this.queue.shift()!;
        const name = args[0].toString('latin1').toLowerCase();
        if (name === 'replconf') {
          // REPLCONF GETACK: our offset before this command, as Redis answers it.
          if (args.length >= 2 && args[1].toString('latin1').toLowerCase() === 'getack') this.sendAck();
        } else if (name !== 'ping') {
          const pending = this.host.execute(this.client, withoutMasterLimit(args));
          if (pending !== undefined) await pending;
        }
        // Our offset and backlog follow the master's stream byte for byte; our replicas get it as it is. Inside
        // a transaction nothing counts until its EXEC ran (a link lost midway resumes before its MULTI).
        const bytes = encodeCommand(args);
        if (this.client.multi !== null) this.inTransaction.push(bytes);
        else if (this.inTransaction.length > 0) {
          this.inTransaction.push(bytes);
          this.host.replication.feed(Buffer.concat(this.inTransaction));
          this.inTransaction = [];
        } else this.host.replication.feed(bytes);
      }
    } finally {
      this.draining = false;
      if (this.queue.length === 0 && generation === this.generation) this.socket?.resume();
    }
  }

  private send(args: Buffer[]): void {
    this.socket?.write(encodeCommand(args));
  }

  private sendAck(): void {
    if (this.state === 'connected' && !this.closed) this.send(commandOf('REPLCONF', 'ACK', this.offset));
  }

  /** Every second (replicationCron): ACK, repl-timeout, reconnection. */
  tick(now: number): void {
    if (this.closed) return;
    if (this.state === 'connect') {
      this.connect();
      return;
    }
    if (now - this.lastIo > this.host.server.config.getNumber('repl-timeout') * 1000) {
      this.drop('MASTER timeout: no data nor PING received...');
      return;
    }
    if (this.state === 'connected') this.sendAck();
  }

  /** Drops the connection (CLIENT KILL TYPE master, protocol error, timeout): reconnects at the next tick. */
  drop(reason: string): void {
    if (this.state !== 'connected' || reason !== 'killed') this.host.log('warning', `Connection with master lost: ${reason}`);
    this.socket?.destroy();
    this.lost();
  }

  private lost(): void {
    if (this.state === 'connect') return;
    if (this.state === 'connected') this.downSince = this.host.server.clock();
    this.generation++;
    this.socket?.destroy();
    this.socket = null;
    this.state = 'connect';
    this.streaming = false;
    this.rdb = null;
    this.queue.length = 0;
    this.readOffset = this.offset;
    this.host.server.clients.delete(this.client.id);
    // Commands of a transaction cut off by the disconnection are discarded (Redis frees the master client).
    this.client.multi = null;
    this.client.multiError = false;
    this.inTransaction = [];
  }

  clientGone(client: ClientState): void {
    if (client === this.client) this.lost();
  }

  close(): void {
    this.closed = true;
    this.lost();
  }
}
