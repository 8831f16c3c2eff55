// Replication state of one server, as Redis 7's replication.c keeps it: the replication ID and offset, the
// backlog, the replicas attached to this server (master side) and the link to its master (replica side,
// masterLink.ts). Writes reach replicas through propagate()/commit(): the dispatcher hands over each successful
// write (rewritten as Redis propagates it, src/streams/propagation.ts) and commits at the end of the outermost
// command, so a command that produced several writes (EXEC, XREADGROUP of several entries) travels inside
// MULTI/EXEC, and a SELECT goes first whenever the database changes.
//
// While no replica ever attached (no backlog) server.propagation is null: a write costs one null check.

import { randomBytes } from 'node:crypto';
import { Err } from '../../errors';
import { bufferLimitsOf } from '../../config/options';
import { ReplicationBacklog } from './backlog';
import { commandOf, encodeCommand } from './respCommand';
import { ALWAYS_PROPAGATED, PROPAGATED_BY_HANDLER, REWRITE } from '../../streams/propagation';
import type { ClientState } from '../clientState';
import type { ServerState } from '../serverState';
import type { MasterLink } from './masterLink';

/** A replica attached to this server (it sent PSYNC or SYNC). */
export interface ReplicaPeer {
  readonly client: ClientState;
  /** REPLCONF listening-port (0 when never given). */
  listeningPort: number;
  /** Last offset it acknowledged (REPLCONF ACK). */
  ackOffset: number;
  /** When it last acknowledged (ms). */
  ackTime: number;
  /**
   * False while its full resynchronization's RDB is written and sent (Redis: wait_bgsave, send_bulk): the
   * stream waits in `pending`, sent after the RDB.
   */
  online: boolean;
  pending: Buffer[];
  pendingBytes: number;
  /** REPLCONF rdb-only 1 (redis-cli --rdb): closed once the RDB is sent. */
  rdbOnly: boolean;
}

/** The RDB side of a full resynchronization (src/server/replication/fullSync.ts). */
export interface FullSyncCodec {
  /**
   * Sends `$<len>\r\n` and the RDB of every stream to `sink`; the first call of `sink` comes once the RDB is
   * written whole (the dataset may change from then on).
   */
  send(server: ServerState, sink: (chunk: Buffer) => Promise<void>): Promise<unknown>;
  /**
   * A replica's side: replaces every database's content with the RDB's streams, the removal made by running
   * `run` (FLUSHALL as the master client, so it persists like any write). Resolves with how many keys of other
   * types were skipped.
   */
  load(server: ServerState, rdb: Buffer, run: (args: Buffer[]) => Promise<void> | void): Promise<number>;
}

const NO_ID = '0'.repeat(40);
/** Output waiting for a replica's socket above which sending its RDB waits for it to drain. */
const TRANSFER_HIGH_WATER = 4 * 1024 * 1024;
const MULTI = commandOf('MULTI');
const EXEC = commandOf('EXEC');
const PING = encodeCommand(commandOf('PING'));
const GETACK = encodeCommand(commandOf('REPLCONF', 'GETACK', '*'));

export function newReplicationId(): string {
  return randomBytes(20).toString('hex');
}

export class Replication {
  replid = newReplicationId();
  /** The previous replication ID, valid up to secondReplOffset (after a promotion), as Redis's replid2. */
  replid2 = NO_ID;
  secondReplOffset = -1;
  /** master_repl_offset while there is no backlog (the backlog keeps it once there is one). */
  private plainOffset = 0;
  backlog: ReplicationBacklog | null = null;
  readonly replicas = new Map<number, ReplicaPeer>();
  /** REPLCONF listening-port of clients not yet attached, by client id. */
  private readonly announcedPorts = new Map<number, number>();
  /** Clients that sent REPLCONF rdb-only 1 (not yet attached). */
  readonly rdbOnly = new Set<number>();
  /** The link to this server's master (null: a master). */
  master: MasterLink | null = null;
  /** Database the replication stream last selected (-1: none, the next write sends SELECT). */
  private selectedDb = -1;
  /** Writes of the command in progress, sent at commit(). */
  private pending: Array<{ db: number; args: Buffer[] }> = [];
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  /** Set by the server: builds the RDB of a full resynchronization. */
  fullSync: FullSyncCodec | null = null;
  /** Set by the server: starts the link to a master (REPLICAOF). */
  connectMaster: ((host: string, port: number) => MasterLink) | null = null;
  private cron: NodeJS.Timeout | null = null;
  private lastPing = 0;
  private getAckQueued = false;
  /** Databases where WAIT clients are parked (they are signalled when acknowledgements arrive). */
  readonly waitingDbs = new Set<number>();

  constructor(private readonly server: ServerState) {
    server.config.onChange((name, value) => {
      if (name === 'repl-backlog-size') this.backlog?.resize(Number(value));
      if (name === 'replica-read-only' || name === 'min-replicas-to-write' || name === 'min-replicas-max-lag') this.updateHooks();
    });
    this.updateHooks();
  }

  get offset(): number {
    return this.backlog?.offset ?? this.plainOffset;
  }

  get isReplica(): boolean {
    return this.master !== null;
  }

  /**
   * Keeps the dispatcher's hooks in step: server.propagation while this master has a backlog to feed,
   * server.writeGuard while writes can be refused (a read-only replica, min-replicas-to-write).
   */
  updateHooks(): void {
    const server = this.server;
    server.propagation = this.master === null && this.backlog !== null ? this : null;
    const readOnly = this.master !== null && server.config.getBoolean('replica-read-only');
    const minReplicas = this.master === null && server.config.getNumber('min-replicas-to-write') > 0 && server.config.getNumber('min-replicas-max-lag') > 0;
    server.writeGuard = readOnly || minReplicas ? this : null;
    if (this.replicas.size > 0 || this.master !== null) this.startCron();
  }

  // --------------------------------------------------------------------------------------------------------
  // Propagation (master side)

  /** A write command succeeded on database `db` (dispatcher): queues what its replicas must run. */
  written(db: number, statName: string, args: Buffer[], changed: boolean): void {
    if (PROPAGATED_BY_HANDLER.has(statName)) return;
    if (!changed && !ALWAYS_PROPAGATED.has(statName)) return;
    const rewrite = REWRITE.get(statName);
    const database = this.server.databases[db];
    const out = rewrite === undefined ? args : rewrite(args, (key) => database.get(key.toString('latin1')));
    this.pending.push({ db, args: out ?? args });
  }

  /** A write a handler built itself (XREADGROUP's XCLAIMs...), queued as written() does. */
  alsoPropagate(db: number, args: Buffer[]): void {
    this.pending.push({ db, args });
  }

  /** The outermost command is done: sends its writes, inside MULTI/EXEC when there are several. */
  commit(): void {
    const ops = this.pending;
    if (ops.length === 0) return;
    this.pending = [];
    const parts: Buffer[] = [];
    const wrap = ops.length > 1;
    if (wrap) this.encodeOp(parts, ops[0].db, MULTI);
    for (const op of ops) this.encodeOp(parts, op.db, op.args);
    if (wrap) parts.push(encodeCommand(EXEC));
    this.feed(parts.length === 1 ? parts[0] : Buffer.concat(parts));
  }

  private encodeOp(parts: Buffer[], db: number, args: Buffer[]): void {
    if (db !== this.selectedDb) {
      parts.push(encodeCommand(commandOf('SELECT', db)));
      this.selectedDb = db;
    }
    parts.push(encodeCommand(args));
  }

  /** Bytes of the replication stream: into the backlog and to every attached replica. */
  feed(bytes: Buffer): void {
    if (this.backlog !== null) this.backlog.append(bytes);
    else this.plainOffset += bytes.length;
    for (const peer of this.replicas.values()) {
      if (peer.online) this.queue(peer, bytes);
      else this.keepFor(peer, bytes);
    }
  }

  /** Stream bytes for online replicas, sent once per event-loop turn (not one socket write per command). */
  private readonly outgoing = new Map<ReplicaPeer, Buffer[]>();

  private queue(peer: ReplicaPeer, bytes: Buffer): void {
    const parts = this.outgoing.get(peer);
    if (parts !== undefined) {
      parts.push(bytes);
      return;
    }
    if (this.outgoing.size === 0) setImmediate(() => this.sendOutgoing());
    this.outgoing.set(peer, [bytes]);
  }

  private sendOutgoing(): void {
    for (const [peer, parts] of this.outgoing) {
      if (this.replicas.get(peer.client.id) !== peer) continue; // gone meanwhile
      this.server.hooks.deliver(peer.client, parts.length === 1 ? parts[0] : Buffer.concat(parts), 0);
    }
    this.outgoing.clear();
  }

  /** The stream for a replica still receiving its RDB, within the replica class's hard output limit. */
  private keepFor(peer: ReplicaPeer, bytes: Buffer): void {
    peer.pending.push(bytes);
    peer.pendingBytes += bytes.length;
    const hard = bufferLimitsOf(this.server.config.get('client-output-buffer-limit')).slave.hard;
    if (hard > 0 && peer.pendingBytes >= hard) peer.client.kill();
  }

  /**
   * A full resynchronization of `peer` (after +FULLRESYNC, or for SYNC). Writes are held until the RDB is
   * written whole, so it is the dataset at the offset announced; then the RDB goes out (with backpressure) and
   * the stream produced meanwhile follows it.
   */
  startFullSync(peer: ReplicaPeer): void {
    const server = this.server;
    let release: (() => void) | null = server.clientPause.holdWrites();
    const client = peer.client;
    const gone = (): boolean => this.replicas.get(client.id) !== peer;
    const sink = async (chunk: Buffer): Promise<void> => {
      release?.();
      release = null;
      while (!gone() && client.outputBytes > TRANSFER_HIGH_WATER) await new Promise((r) => setTimeout(r, 5));
      if (gone()) throw new Error('replica gone');
      server.hooks.deliver(client, chunk, 0);
    };
    this.selectedDb = -1;
    this.syncFull++;
    this.fullSync!.send(server, sink).then(
      () => {
        if (gone()) return;
        if (peer.rdbOnly) {
          this.replicas.delete(client.id);
          client.closing = true;
          server.hooks.deliver(client, Buffer.alloc(0), 0);
          return;
        }
        const pending = peer.pending;
        peer.pending = [];
        peer.pendingBytes = 0;
        peer.online = true;
        if (pending.length > 0) server.hooks.deliver(client, Buffer.concat(pending), 0);
      },
      (err: Error) => {
        server.log('warning', `Full resynchronization of replica ${client.remoteAddress} failed: ${err.message}`);
        client.kill();
      },
    ).finally(() => release?.());
  }

  /** The backlog exists from the first replica on (Redis: createReplicationBacklog at the first SYNC). */
  ensureBacklog(): void {
    if (this.backlog === null) {
      this.backlog = new ReplicationBacklog(this.server.config.getNumber('repl-backlog-size'), this.plainOffset);
      this.updateHooks();
    }
  }

  // --------------------------------------------------------------------------------------------------------
  // Replicas (master side)

  /**
   * PSYNC replid offset: the bytes a partial resynchronization sends after +CONTINUE, or null when it must be
   * a full one (masterTryPartialResynchronization): the ID must be ours, or our previous one up to where it
   * was valid, and the backlog must still hold everything after `next - 1`.
   */
  partialFrom(replid: string, next: number): Buffer | null {
    if (this.backlog === null) return null;
    const ours = replid === this.replid;
    const previous = replid === this.replid2 && next <= this.secondReplOffset;
    if (!ours && !previous) return null;
    return this.backlog.since(next);
  }

  /** REPLCONF listening-port, before PSYNC: the port INFO and ROLE show for that replica. */
  announcePort(client: ClientState, port: number): void {
    const peer = this.replicas.get(client.id);
    if (peer !== undefined) peer.listeningPort = port;
    else this.announcedPorts.set(client.id, port);
  }

  /** The client became a replica (its stream starts after what was just written to it). */
  attach(client: ClientState, online: boolean): ReplicaPeer {
    client.replicationRole = 'replica';
    const listeningPort = this.announcedPorts.get(client.id) ?? 0;
    this.announcedPorts.delete(client.id);
    const peer: ReplicaPeer = {
      client,
      listeningPort,
      ackOffset: 0,
      ackTime: this.server.clock(),
      online,
      pending: [],
      pendingBytes: 0,
      rdbOnly: this.rdbOnly.delete(client.id),
    };
    this.replicas.set(client.id, peer);
    this.updateHooks();
    return peer;
  }

  /** The connection of a replica (or of our master) closed. */
  clientGone(client: ClientState): void {
    this.announcedPorts.delete(client.id);
    this.rdbOnly.delete(client.id);
    if (this.replicas.delete(client.id)) this.signalWaiters();
    this.master?.clientGone(client);
  }

  /** REPLCONF ACK from a replica. */
  acknowledged(client: ClientState, offset: number): void {
    const peer = this.replicas.get(client.id);
    if (peer === undefined) return;
    if (offset > peer.ackOffset) peer.ackOffset = offset;
    peer.ackTime = this.server.clock();
    this.signalWaiters();
  }

  /** Replicas that acknowledged at least `offset`. */
  acknowledgedCount(offset: number): number {
    let n = 0;
    for (const peer of this.replicas.values()) if (peer.ackOffset >= offset) n++;
    return n;
  }

  /** WAIT: asks every replica for its offset once this turn is over (REPLCONF GETACK travels in the stream). */
  requestAcks(): void {
    if (this.getAckQueued) return;
    this.getAckQueued = true;
    setImmediate(() => {
      this.getAckQueued = false;
      if (this.replicas.size > 0 && this.master === null) this.feed(GETACK);
    });
  }

  private signalWaiters(): void {
    for (const db of this.waitingDbs) this.server.databases[db].signalReady(WAIT_KEY);
    if (this.waitingDbs.size > 0 && this.server.blocking.hasReady) this.server.ioThreads.batch(this.server.blocking.serveReady);
  }

  /** Replicas whose last acknowledgement is at most min-replicas-max-lag seconds old (repl_good_slaves_count). */
  goodReplicas(): number {
    const maxLag = this.server.config.getNumber('min-replicas-max-lag') * 1000;
    const now = this.server.clock();
    let n = 0;
    for (const peer of this.replicas.values()) if (now - peer.ackTime <= maxLag) n++;
    return n;
  }

  /** server.writeGuard: the error a write from `client` gets, or null (processCommand's checks). */
  refusal(client: ClientState): string | null {
    if (this.master !== null) return client.replicationRole === 'master' ? null : Err.readonlyReplica;
    return this.goodReplicas() < this.server.config.getNumber('min-replicas-to-write') ? Err.noReplicas : null;
  }

  // --------------------------------------------------------------------------------------------------------
  // Role changes

  /**
   * REPLICAOF host port: drops the replicas (they resynchronize with us, hopefully partially) and connects,
   * offering our own ID and offset for a partial resynchronization (replicationCacheMasterUsingMyself).
   */
  becomeReplica(host: string, port: number): void {
    this.master?.close();
    this.master = null;
    this.dropReplicas();
    this.pending = [];
    this.master = this.connectMaster!(host, port);
    this.server.config.trySet('replicaof', `${host} ${port}`, true);
    this.updateHooks();
  }

  /**
   * REPLICAOF NO ONE: a master with a new ID; the old one stays valid up to the current offset, so replicas of
   * the same master can resynchronize partially with us (shiftReplicationId).
   */
  becomeMaster(): void {
    if (this.master === null) return;
    this.master.close();
    this.master = null;
    this.replid2 = this.replid;
    this.secondReplOffset = this.offset + 1;
    this.replid = newReplicationId();
    this.selectedDb = -1;
    this.dropReplicas();
    this.server.config.trySet('replicaof', '', true);
    this.updateHooks();
  }

  /** A full resynchronization with our master: its ID and offset become ours, and a fresh backlog. */
  synchronized(replid: string, offset: number): void {
    this.replid = replid;
    this.replid2 = NO_ID;
    this.secondReplOffset = -1;
    this.backlog = new ReplicationBacklog(this.server.config.getNumber('repl-backlog-size'), offset);
    this.plainOffset = offset;
    this.dropReplicas();
    this.updateHooks();
  }

  /** +CONTINUE with a new ID (our master was promoted): the old ID stays valid up to here. */
  masterIdChanged(replid: string): void {
    if (replid === this.replid) return;
    this.replid2 = this.replid;
    this.secondReplOffset = this.offset + 1;
    this.replid = replid;
    this.dropReplicas();
  }

  /** Our replicas resynchronize (Redis: disconnectSlaves). */
  private dropReplicas(): void {
    for (const peer of [...this.replicas.values()]) peer.client.kill();
    this.replicas.clear();
  }

  private startCron(): void {
    if (this.cron !== null) return;
    this.cron = setInterval(() => this.tick(), 1000);
    this.cron.unref();
  }

  /** replicationCron: PINGs to replicas, silent replicas dropped, the master link's own duties. */
  private tick(): void {
    const now = this.server.clock();
    const config = this.server.config;
    this.master?.tick(now);
    if (this.master === null && this.replicas.size > 0) {
      if (now - this.lastPing >= config.getNumber('repl-ping-replica-period') * 1000) {
        this.lastPing = now;
        this.feed(PING);
      }
      const timeout = config.getNumber('repl-timeout') * 1000;
      for (const peer of [...this.replicas.values()]) if (now - peer.ackTime > timeout) peer.client.kill();
    }
  }

  close(): void {
    if (this.cron !== null) clearInterval(this.cron);
    this.cron = null;
    this.master?.close();
  }
}

/** The key WAIT clients block on (signalled when acknowledgements arrive; a real key of that name only re-checks). */
export const WAIT_KEY = '\0spool:wait';
