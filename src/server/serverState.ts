// Everything a command may look at beyond its own client: configuration, databases, clients, statistics,
// blocked clients and WATCHes. One instance per server, so tests can run several servers in one process.

import { IoThreads } from './ioThreads';
import { ConfigStore } from '../config/configStore';
import { Database } from '../keyspace/database';
import type { CommandRegistry } from '../commands/registry';
import type { ClientState } from './clientState';
import { BlockingManager } from './blocking';
import { IMMEDIATE_GATE, type DurabilityGate } from './durabilityGate';
import type { Persistence, RecoverySummary } from './persistence';
import type { ReplyWriter } from '../protocol/replyWriter';
import { Stream, type StreamSettings } from '../streams/stream';
import { Retention } from './retention';
import { ClientPause } from './clientPause';
import { LatencyMonitor } from './latencyMonitor';
import { SlowLog } from './slowLog';
import { Monitors } from './monitors';
import type { ClusterState } from '../cluster/clusterState';
import { PubSub } from './pubsub';
import { Replication } from './replication/replication';

/**
 * Operations: where a distribution of timings goes (the metrics module's histograms; src/metrics/buckets.ts).
 * `observe(seconds, n)` records n observations of one value, allocation-free.
 */
export interface TimingObserver {
  observe(seconds: number, n: number): void;
}

export interface CommandStats {
  calls: number;
  usec: number;
  rejectedCalls: number;
  failedCalls: number;
  /** Each call's duration goes here too while metrics are on (null: off, one check per call). */
  duration: TimingObserver | null;
}

/** What the error-reply log line says about the client (a ClientState is one). */
export interface ErrorReplyClient {
  readonly id: number;
  readonly remoteAddress: string;
}

export type ErrorReplyHook = (code: string, text: string, command: string | null, client: ErrorReplyClient | null) => void;

export class ServerStats {
  totalConnections = 0;
  rejectedConnections = 0;
  totalCommands = 0;
  keyspaceHits = 0;
  keyspaceMisses = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  totalErrorReplies = 0;
  readonly commands = new Map<string, CommandStats>();
  readonly errors = new Map<string, number>();
  /** Operations: set only while debug logging is on (src/server/logger.ts), so an error reply costs one check. */
  onErrorReply: ErrorReplyHook | null = null;
  /**
   * Operations (metrics): gives the duration observer of a command (CommandStats.duration); null while metrics
   * are off. Set it with observeCommands(), which also equips the commands already counted.
   */
  private durationObserver: ((command: string) => TimingObserver) | null = null;
  /** Operations (metrics): how long replies were held for their durability ticket (connection.ts); null: off. */
  durabilityWait: TimingObserver | null = null;

  command(name: string): CommandStats {
    let s = this.commands.get(name);
    if (!s) {
      const duration = this.durationObserver === null ? null : this.durationObserver(name);
      this.commands.set(name, (s = { calls: 0, usec: 0, rejectedCalls: 0, failedCalls: 0, duration }));
    }
    return s;
  }

  /** Metrics: every command's calls are timed into the observer `of(name)` gives (the same one for a name). */
  observeCommands(of: (command: string) => TimingObserver): void {
    this.durationObserver = of;
    for (const [name, s] of this.commands) s.duration = of(name);
  }

  /**
   * Counts an error reply. `text`, `command` and `client` are only for the debug log (onErrorReply): the
   * reply's text, the command it answers (null: not resolved, e.g. unknown) and who gets it.
   */
  error(code: string, text = '', command: string | null = null, client: ErrorReplyClient | null = null): void {
    this.totalErrorReplies++;
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
    if (this.onErrorReply !== null) this.onErrorReply(code, text, command, client);
  }

  reset(): void {
    this.totalConnections = 0;
    this.rejectedConnections = 0;
    this.totalCommands = 0;
    this.keyspaceHits = 0;
    this.keyspaceMisses = 0;
    this.netInputBytes = 0;
    this.netOutputBytes = 0;
    this.totalErrorReplies = 0;
    this.commands.clear();
    this.errors.clear();
  }
}

export interface ServerHooks {
  /** A fresh reply writer for a client (its protocol), used for replies produced outside its request. */
  newWriter(client: ClientState): ReplyWriter;
  /** Hands a reply produced later (blocked read served, timeout) to the client's connection. */
  deliver(client: ClientState, reply: ReplyWriter | Buffer, ticket: number): void;
  /** Hands a Pub/Sub message to a subscriber's connection (after its replies; CLIENT REPLY OFF does not drop it). */
  push(client: ClientState, bytes: Buffer): void;
  /** Stops the server (SHUTDOWN). */
  shutdown(): Promise<void>;
}

export interface StreamTotals {
  streams: number;
  entries: number;
  /** Segment files on disk (in memory for streams without a log). */
  bytes: number;
  groups: number;
  /** Entries in all consumer groups' PELs. */
  pending: number;
}

export class ServerState {
  readonly databases: Database[];
  readonly clients = new Map<number, ClientState>();
  readonly stats = new ServerStats();
  readonly blocking: BlockingManager;
  readonly startedAt: number;
  /** Live stream settings shared by every stream; follows CONFIG SET. */
  readonly streamSettings: StreamSettings;
  /** Retention by age and bytes (XCFGSET maxage/maxbytes, stream-maxage/stream-maxbytes). */
  readonly retention: Retention;
  /** CLIENT PAUSE: holds commands while active (the dispatcher looks at it before running each one). */
  readonly clientPause: ClientPause;
  /** LATENCY: events slower than latency-monitor-threshold (its thresholdMs is Infinity while that is 0). */
  readonly latency: LatencyMonitor;
  /** SLOWLOG: the dispatcher compares each command's duration with its threshold. */
  readonly slowLog: SlowLog;
  /** MONITOR: clients shown every command; the dispatcher checks its size once per command. */
  readonly monitors: Monitors;
  /** Pub/Sub subscriptions by channel, pattern and shard channel (src/server/pubsub.ts). */
  readonly pubsub: PubSub;
  /**
   * Streams a MIGRATE (without COPY, outside cluster mode) is sending, by `${db}\0${key}`: writes to them wait
   * until it is done, as they would behind Redis's blocking MIGRATE, so no write lands between the copy and the
   * deletion (cluster mode answers them -TRYAGAIN instead).
   */
  readonly migrations = new Map<string, Promise<void>>();
  private readonly watchers = new Map<string, Set<ClientState>>();
  private nextClientId = 1;
  /** Durability ticket the command in progress depends on (0: none). */
  private commandTicket = 0;
  /** Tells when commit batches are durable; the storage engine replaces the default. */
  durability: DurabilityGate = IMMEDIATE_GATE;
  /** During recovery, the time of the journaled command being replayed (commands see it as their clock). */
  replayTime: number | null = null;
  /** The storage engine, once attached (null: streams live in memory only, as in unit tests). */
  persistence: Persistence | null = null;
  /** Port actually bound (differs from config when port 0 asked for an ephemeral one). */
  boundPort = 0;
  /** The config file the server was started with ('' when none): CONFIG REWRITE target. */
  configFile = '';
  readonly runId: string;
  /** Socket writes of fan-outs shared with writer threads; startServer gives it its threads (none by default here). */
  ioThreads = new IoThreads(0);
  /** Cluster mode (cluster-enabled yes), or null: the dispatcher's one check per command while it is off. */
  cluster: ClusterState | null = null;
  /** What start-up recovery did (metrics: recovery duration); null until recovered or without persistence. */
  recovery: RecoverySummary | null = null;
  /** Replication: ID, offset, backlog, replicas, the link to a master (src/server/replication/). */
  readonly replication: Replication;
  /** Set while this master feeds a replication backlog: the dispatcher hands it each write (null: one check). */
  propagation: Replication | null = null;
  /** Set while writes may be refused (read-only replica, min-replicas-to-write): asked for each write. */
  writeGuard: Replication | null = null;
  /** Where warnings of work done off a command's turn go (main.ts prints them); set by startServer. */
  log: (level: 'notice' | 'warning', message: string) => void = () => undefined;
  /** Modifications of keys so far (Redis's server.dirty): whether a write command changed anything. */
  dirty = 0;

  constructor(
    readonly config: ConfigStore,
    readonly registry: CommandRegistry,
    readonly hooks: ServerHooks,
    readonly clock: () => number = Date.now,
  ) {
    this.startedAt = clock();
    this.runId = Array.from({ length: 40 }, () => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
    this.streamSettings = {
      nodeMaxEntries: config.getNumber('stream-node-max-entries'),
      nodeMaxBytes: config.getNumber('stream-node-max-bytes'),
      idmpDuration: config.getNumber('stream-idmp-duration'),
      idmpMaxsize: config.getNumber('stream-idmp-maxsize'),
    };
    config.onChange((name, value) => {
      if (name === 'stream-node-max-entries') this.streamSettings.nodeMaxEntries = Number(value);
      if (name === 'stream-node-max-bytes') this.streamSettings.nodeMaxBytes = Number(value);
      if (name === 'stream-idmp-duration') this.streamSettings.idmpDuration = Number(value);
      if (name === 'stream-idmp-maxsize') this.streamSettings.idmpMaxsize = Number(value);
    });
    this.latency = new LatencyMonitor(clock);
    this.latency.setThreshold(config.getNumber('latency-monitor-threshold'));
    config.onChange((name, value) => {
      if (name === 'latency-monitor-threshold') this.latency.setThreshold(Number(value));
    });
    this.retention = new Retention(this);
    this.clientPause = new ClientPause(clock);
    this.slowLog = new SlowLog(config);
    this.monitors = new Monitors((client, line) => hooks.deliver(client, line, 0));
    this.pubsub = new PubSub(hooks.push);
    this.blocking = new BlockingManager(
      clock,
      hooks.newWriter,
      hooks.deliver,
      { take: () => this.takeTicket(), require: (t) => this.requireTicket(t) },
      // A served read records its own changes (streamGroups.ts serveBlocked): nothing to do after it.
      () => undefined,
      (entry, code) => {
        this.stats.error(code);
        this.stats.command(entry.statName).failedCalls++;
      },
    );
    // SLOWLOG: a command that blocked is logged once answered (one comparison per answered client).
    this.blocking.onAnswered = (entry) => {
      if (entry.callUsec >= this.slowLog.threshold) this.slowLog.push(entry.client, entry.args, entry.callUsec, clock());
    };
    const count = config.getNumber('databases');
    this.databases = Array.from(
      { length: count },
      (_, i) =>
        new Database(
          i,
          (db, key) => this.keyTouched(db, key),
          (db, key) => this.blocking.signal(db, key),
          {
            accessed: (stream) => {
              // Under appendfsync always a reader must not see what a machine crash could take back.
              if (this.persistence?.readersWaitForDurability) this.requireTicket(this.persistence.ticketOf(stream));
            },
            renamed: (db, stream, to) => this.persistence?.renamed(db, stream, to),
          },
        ),
    );
    this.replication = new Replication(this);
  }

  /**
   * Totals over every stream (INFO streams and the metrics both report them); `each` sees every stream on the
   * way, for what a caller adds to them.
   */
  streamTotals(each?: (db: Database, key: string, stream: Stream) => void): StreamTotals {
    const t: StreamTotals = { streams: 0, entries: 0, bytes: 0, groups: 0, pending: 0 };
    for (const db of this.databases) {
      for (const [key, stream] of db.entries()) {
        t.streams++;
        t.entries += stream.length;
        t.bytes += stream.dataBytes;
        t.groups += stream.groups.size;
        for (const group of stream.groups.values()) t.pending += group.pel.size;
        each?.(db, key, stream);
      }
    }
    return t;
  }

  /** Records that the reply of the command in progress may only be released once `ticket` is durable. */
  requireTicket(ticket: number): void {
    if (ticket > this.commandTicket) this.commandTicket = ticket;
  }

  /** The ticket the finished command depends on; resets for the next command. */
  takeTicket(): number {
    const t = this.commandTicket;
    this.commandTicket = 0;
    return t;
  }

  allocateClientId(): number {
    return this.nextClientId++;
  }

  /** Creates an empty stream for `key` (not yet stored in the database). */
  createStream(db: Database, key: string): Stream {
    if (this.persistence) return this.persistence.createStream(db, key);
    return new Stream(key, this.streamSettings);
  }

  watch(client: ClientState, db: Database, key: string): void {
    const slot = `${db.index}\0${key}`;
    if (client.watched.has(slot)) return;
    client.watched.add(slot);
    let set = this.watchers.get(slot);
    if (!set) this.watchers.set(slot, (set = new Set()));
    set.add(client);
  }

  unwatchAll(client: ClientState): void {
    for (const slot of client.watched) {
      const set = this.watchers.get(slot);
      if (!set) continue;
      set.delete(client);
      if (set.size === 0) this.watchers.delete(slot);
    }
    client.watched.clear();
    client.watchDirty = false;
  }

  private keyTouched(db: Database, key: string): void {
    this.dirty++;
    // Every write touches its key: build the slot name only when some client watches anything at all.
    if (this.watchers.size === 0) return;
    const set = this.watchers.get(`${db.index}\0${key}`);
    if (set) for (const c of set) c.watchDirty = true;
  }

  /**
   * SWAPDB: databases `a` and `b` exchange their streams. As Redis 7.0's dbSwapDatabases: clients stay in the
   * database (index) they selected, and a key of either database that exists in either (before the swap or
   * after it, the same thing) is touched for its watchers (touchAllWatchedKeysInDb) and signalled for its
   * blocked clients: they are served from the stream swapped in (scanDatabaseForReadyKeys), or, for
   * XREADGROUP, unblocked with an error when the key is gone (scanDatabaseForDeletedStreams).
   */
  swapDatabases(a: Database, b: Database): void {
    a.swapWith(b);
    this.retention.databasesSwapped(a, b);
    this.persistence?.databasesSwapped(a.index, b.index);
    const inEither = (key: string): boolean => a.has(key) || b.has(key);
    for (const [slot, set] of this.watchers) {
      const sep = slot.indexOf('\0');
      const index = Number(slot.slice(0, sep));
      if ((index === a.index || index === b.index) && inEither(slot.slice(sep + 1))) for (const c of set) c.watchDirty = true;
    }
    this.blocking.signalWaitedKeys(a, inEither);
    this.blocking.signalWaitedKeys(b, inEither);
  }

  /** Marks every watcher of every key of a database dirty (FLUSHDB/FLUSHALL). */
  touchAll(db: Database): void {
    const prefix = `${db.index}\0`;
    for (const [slot, set] of this.watchers) if (slot.startsWith(prefix)) for (const c of set) c.watchDirty = true;
  }
}
