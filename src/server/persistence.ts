// Connects the stream layer to the storage engine: every stream gets its log (a directory of mapped segments),
// writes are recorded (entries, and the typed changes of changeRecords.ts) and group-committed under the
// appendfsync policy, and start-up recovers every stream by applying its log's records to the model. The
// server's DurabilityGate is the commit batcher.

import path from 'node:path';
import {
  CommitBatcher,
  CommitJournal,
  DatabaseMap,
  replayJournal,
  type JournalReplayReport,
  RecordType,
  SegmentCache,
  SpaceWatch,
  StorageError,
  automaticSegmentLimit,
  StreamLog,
  entryMs,
  entrySeq,
  forEachEntryItem,
  readStreamKey,
  recoverAll,
  recoverStream,
  type ScannedRecord,
  type RecoveryReport,
  streamDirName,
  HEADER_SIZE as RECORD_HEADER_SIZE,
  type FsyncPolicy,
  type StreamLogOptions,
} from '../storage';
import { CommandError, Err } from '../errors';
import { Stream } from '../streams/stream';
import { DurableEntryStore } from '../streams/durableEntryStore';
import { decodeChange, encodeChange, isChangeType, type ChangeLog, type StreamChange } from '../streams/changeRecords';
import { applyChange } from '../streams/changeReplay';
import { decodeCheckpoint, decodeStreamSnapshot, encodeCheckpoint, type StreamSnapshot } from '../streams/checkpoint';
import { applyStreamSettings, parseStreamSettings, streamSettingsArgs } from '../streams/streamSettings';
import type { Database } from '../keyspace/database';
import { LegacyCommandReplay } from './legacyCommandReplay';
import { commitLatencyObserver } from './latencyMonitor';
import { makeDirectoryTree } from './makeDirectory';
import type { DurabilityGate } from './durabilityGate';
import type { ServerState } from './serverState';
import type { Dispatcher } from './dispatcher';
import { StreamSnapshots } from './streamSnapshots';
import { copyCut, prepareTarget, type BackupSummary, type StreamCut } from './backup';
/** Logs opened ahead of the stream being rebuilt at start-up (thread-pool work: a read of the id, opens and maps). */
const OPEN_AHEAD = 16;

/** A recovered log, opened, waiting for its stream to be rebuilt. */
interface OpenedLog {
  report: RecoveryReport;
  snapshot: StreamSnapshot | null;
  key: Buffer;
  dbIndex: number;
  log: StreamLog;
}

export interface RecoverySummary {
  streams: number;
  records: number;
  entries: number;
  bytes: number;
  seconds: number;
  repairs: string[];
  /** Streams started from their index snapshot (only the records after it were scanned). */
  snapshots: number;
}

export type Logger = (level: 'notice' | 'warning', message: string) => void;

/** The records recovery scanned in one stream's log (after its snapshot, when it had one that matched). */
interface Collected {
  types: number[];
  positions: number[];
  /** The last checkpoint's payload and record number (-1: none). */
  checkpoint: Buffer | null;
  checkpointAt: number;
}

/** The stream a log is replayed into. */
interface ReplayTarget {
  stream: Stream;
  store: DurableEntryStore;
  key: Buffer;
  dbIndex: number;
}

export class Persistence implements DurabilityGate, ChangeLog {
  readonly batcher: CommitBatcher;
  private readonly cache: SegmentCache;
  /** Logs that may be short of reserved room: write commands check their streams' room while any is. */
  readonly space: SpaceWatch;
  private readonly stores = new Map<Stream, DurableEntryStore>();
  /** Pending directory removals by path: a re-created stream waits for the old directory to go. */
  private readonly removals = new Map<string, Promise<void>>();
  private replaying = false;
  /** First generation a new commit journal may use (after the ones replayed at start-up). */
  private journalGen = 1;
  /** What start-up replayed from the commit journal (INFO, logs). */
  journalReplay: JournalReplayReport | null = null;
  /** Which number each database's stream directories carry (SWAPDB); read from the data directory by recover(). */
  private dbMap: DatabaseMap;
  readonly snapshots = new StreamSnapshots(
    (stream, store) => this.checkpointPayload(stream, store),
    (message) => this.log('warning', message),
  );

  constructor(
    private readonly dataDir: string,
    private readonly server: ServerState,
    private readonly log: Logger,
  ) {
    const config = server.config;
    this.batcher = new CommitBatcher({
      policy: config.get('appendfsync') as FsyncPolicy,
      warn: (message) => log('warning', message),
      // Opened by the first commit under `always` (a server that never uses it creates no journal files).
      openJournal: () => CommitJournal.open(dataDir, this.journalGen, { fileSize: config.getNumber('commit-journal-size'), warn: (m) => log('warning', m) }),
    });
    // LATENCY: commits are timed only while the monitor is on (ServerState's listener, registered first, has
    // already applied a new threshold when this one runs).
    const watchCommitLatency = (): void => {
      this.batcher.latency = server.latency.enabled ? commitLatencyObserver(server.latency) : null;
    };
    watchCommitLatency();
    config.onChange((name, value) => {
      if (name === 'appendfsync') this.batcher.setPolicy(value as FsyncPolicy);
      if (name === 'latency-monitor-threshold') watchCommitLatency();
    });
    this.dbMap = DatabaseMap.identity(dataDir, server.databases.length);
    const limit = config.getNumber('open-segments-limit');
    this.cache = new SegmentCache(limit > 0 ? limit : automaticSegmentLimit(config.getNumber('maxclients')));
    this.space = new SpaceWatch(config.getNumber('segment-initial-size') >>> 1);
  }

  private get logOptions(): StreamLogOptions {
    const config = this.server.config;
    return {
      batcher: this.batcher,
      cache: this.cache,
      initialSegmentSize: config.getNumber('segment-initial-size'),
      maxSegmentSize: config.getNumber('segment-max-size'),
      space: this.space,
    };
  }

  durableTicket(): number {
    return this.batcher.durableTicket();
  }

  onDurable(listener: () => void): void {
    this.batcher.onDurable(listener);
  }

  /** False while a write or sync error is sticky: write commands are refused with MISCONF until it clears. */
  writable(): boolean {
    return this.batcher.writable();
  }

  /** The errno code of the sticky storage error (for the MISCONF text), or null while writable. */
  storageErrorCode(): string | null {
    return this.batcher.storageError()?.code ?? null;
  }

  /**
   * Whether reads may have to wait for the entries they see to be durable: under `always` only (the server's,
   * or a stream's own, see ticketOf). Under everysec/no an entry is acknowledged once in the mapping, and
   * readers see what was acknowledged without waiting.
   */
  get readersWaitForDurability(): boolean {
    return this.batcher.policy === 'always' || this.batcher.alwaysOverrides > 0;
  }

  /**
   * The ticket a reader of `stream` must wait for (entries not durable yet are not shown before they are):
   * 0 unless the stream's effective policy (its own XCFGSET appendfsync, else the server's) is `always`.
   */
  ticketOf(stream: Stream): number {
    const log = this.stores.get(stream)?.log;
    if (log === undefined || this.batcher.policyFor(log) !== 'always') return 0;
    return log.lastTicket;
  }

  /** XCFGSET appendfsync: the stream's log commits under its own policy (null: the server's again). */
  setStreamFsync(stream: Stream, policy: FsyncPolicy | null): void {
    const store = this.stores.get(stream);
    if (store) this.batcher.setTargetPolicy(store.log, policy);
  }

  createStream(db: Database, key: string): Stream {
    const keyBytes = Buffer.from(key, 'latin1');
    const dirNumber = this.dbMap.dirNumberOf(db.index);
    const dir = this.dirOf(dirNumber, keyBytes);
    const log = StreamLog.createNow(this.dataDir, dirNumber, keyBytes, this.logOptions, this.removals.get(dir) ?? null);
    return this.attach(key, log);
  }

  /** The directory of `key` in the databases whose directories carry `dirNumber` (see DatabaseMap). */
  private dirOf(dirNumber: number, key: Buffer): string {
    return path.join(this.dataDir, streamDirName(dirNumber, key));
  }

  private attach(key: string, log: StreamLog): Stream {
    const store = new DurableEntryStore(
      log,
      (ticket) => this.server.requireTicket(ticket),
      (destroyed) => this.destroyLog(destroyed),
      () => this.checkpointDue(stream),
    );
    const stream = new Stream(key, this.server.streamSettings, store);
    this.stores.set(stream, store);
    return stream;
  }

  // ---- checkpoints and deletion of old segments (see streams/checkpoint.ts) -------------------------------------

  /** Streams with whole segments behind their first needed entry, checkpointed at the end of this turn. */
  private readonly checkpointsDue = new Set<Stream>();
  private checkpointTurn: NodeJS.Immediate | null = null;
  /** Streams whose checkpoint is being written or whose segments are being deleted. */
  private readonly compacting = new Set<Stream>();
  /** Segment files deleted behind checkpoints (INFO/metrics). */
  segmentsDeleted = 0;
  checkpointsWritten = 0;
  /** Record bytes the logs of deleted streams had appended (kept so bytesAppended never goes back). */
  private appendedByDeletedLogs = 0;

  /** Record bytes appended to every log since start-up (metrics), deleted streams included; read at scrape time. */
  get bytesAppended(): number {
    let n = this.appendedByDeletedLogs;
    for (const store of this.stores.values()) n += store.log.appendedBytes;
    return n;
  }

  private checkpointDue(stream: Stream): void {
    if (this.replaying) return;
    this.checkpointsDue.add(stream);
    // At the end of the turn, not now: the command that trimmed is still running and journals itself after it
    // ran; a checkpoint must follow that record and describe the state after the whole command.
    this.checkpointTurn ??= setImmediate(() => this.writeCheckpoints());
  }

  private writeCheckpoints(): void {
    this.checkpointTurn = null;
    for (const stream of this.checkpointsDue) {
      if (this.compacting.has(stream)) continue; // rechecked when that one is done
      this.checkpointsDue.delete(stream);
      const store = this.stores.get(stream);
      if (store) void this.compact(stream, store);
    }
  }

  /** Segment files of a stream's log (INFO streams). */
  segmentsOf(stream: Stream): number {
    return this.stores.get(stream)?.log.fileCount ?? 0;
  }

  /** Segment files open and mapped now (the LRU's size, bounded by open-segments-limit) and that limit. */
  get openSegments(): { open: number; limit: number; evictions: number } {
    return { open: this.cache.size, limit: this.cache.limit, evictions: this.cache.evictions };
  }

  /** Log position of the first entry `stream` still needs (its log's end when it needs none). */
  private keepFrom(stream: Stream, store: DurableEntryStore): number {
    const first = stream.firstRetained();
    return first ? DurableEntryStore.position(first.segment, first.offset) : store.log.end;
  }

  /** The stream's current state as a CHECKPOINT record holds it (see streams/checkpoint.ts). */
  private checkpointPayload(stream: Stream, store: DurableEntryStore): Buffer {
    const settings = streamSettingsArgs(stream).map((args) => args.map((a) => a.toString('latin1')));
    const firstEntry = stream.firstRetained() ? this.keepFrom(stream, store) : null;
    return encodeCheckpoint({ firstEntry, stream: stream.exportState(), settings });
  }

  /**
   * Appends a CHECKPOINT record of the stream's current state (checkpointPayload). Only into reserved
   * room: a checkpoint is an optimisation, and one staged on a full disk would hold its batch (and shutdown) until
   * space is freed. False: it did not fit (recovery replays the log instead). `required`: the state exists only
   * in this record (a stream built by RESTORE), so it is appended whatever the room, as any write.
   */
  private appendCheckpoint(stream: Stream, store: DurableEntryStore, required = false): boolean {
    const payload = this.checkpointPayload(stream, store);
    if (!required && !store.log.fits(RECORD_HEADER_SIZE + payload.length)) return false;
    store.log.appendRecord(RecordType.CHECKPOINT, payload);
    store.checkpointEnd = store.log.end;
    this.checkpointsWritten++;
    return true;
  }

  /**
   * A stream built whole rather than by journaled commands (RESTORE, loading an RDB): its entries are in the log,
   * and a checkpoint now records the rest (groups, flagged entries, node layout, counters), so a restart finds
   * it as built. The command's reply waits for that record to be durable.
   */
  checkpointBuilt(stream: Stream): void {
    const store = this.stores.get(stream);
    if (!store || this.replaying) return;
    this.appendCheckpoint(stream, store, true);
    this.server.requireTicket(store.log.lastTicket);
  }

  /** Writes a checkpoint of `stream`, syncs it, then deletes the segments before its first needed entry. */
  private async compact(stream: Stream, store: DurableEntryStore): Promise<void> {
    const log = store.log;
    this.compacting.add(stream);
    try {
      const keepFrom = this.keepFrom(stream, store);
      if (this.backup || !log.hasWholeSegmentsBefore(keepFrom)) return; // a backup re-checks when it is done
      if (!this.appendCheckpoint(stream, store)) return; // the segments stay until a later trim tries again
      await log.syncAll();
      if (this.stores.get(stream) !== store || this.backup) return; // deleted meanwhile, or a backup began
      this.segmentsDeleted += await log.deleteBefore(keepFrom);
    } catch (err) {
      // A full disk or a sticky write error: the segments stay until a later trim tries again.
      this.log('warning', `checkpoint of ${log.dir}: ${(err as Error).message}`);
    } finally {
      this.compacting.delete(stream);
      if (this.checkpointsDue.has(stream)) this.checkpointTurn ??= setImmediate(() => this.writeCheckpoints());
    }
  }

  /**
   * Directory operations (DEL, RENAME) in flight, as a commit target: the reply of the command that started one
   * is held, like a write's, until the operation (and its directory sync) is done, so no client is told a key
   * is gone or renamed while a crash could still bring the old name back.
   */
  private readonly directoryOps = new Set<Promise<void>>();
  private readonly directoryTarget = {
    whenLanded: (): Promise<void> | null => (this.directoryOps.size ? Promise.all(this.directoryOps).then(() => undefined) : null),
    takeDirty: () => [],
  };

  private holdReplyFor(op: Promise<void>): void {
    const tracked = op.finally(() => this.directoryOps.delete(tracked));
    this.directoryOps.add(tracked);
    if (!this.replaying) this.server.requireTicket(this.batcher.touch(this.directoryTarget, false));
  }

  private destroyLog(log: StreamLog): void {
    this.appendedByDeletedLogs += log.appendedBytes;
    this.batcher.setTargetPolicy(log, null);
    for (const [stream, store] of this.stores) {
      if (store.log !== log) continue;
      this.stores.delete(stream);
      this.checkpointsDue.delete(stream);
    }
    const dir = log.dir;
    // A backup in progress links and copies the files of its cut: the directory goes once it is done.
    const backup = this.backup;
    const removal = (backup ? backup.then(() => log.destroy()) : log.destroy()).catch((err: Error) => this.log('warning', `removing ${dir}: ${err.message}`));
    this.holdReplyFor(removal);
    this.removals.set(dir, removal);
    void removal.then(() => {
      if (this.removals.get(dir) === removal) this.removals.delete(dir);
    });
  }

  /** RENAME moved a stream to another key: its directory follows. */
  renamed(db: Database, stream: Stream, to: string): void {
    const store = this.stores.get(stream);
    if (!store) return;
    const key = Buffer.from(to, 'latin1');
    const dirNumber = this.dbMap.dirNumberOf(db.index);
    const target = this.dirOf(dirNumber, key);
    const after = this.backup ? Promise.all([this.backup, this.removals.get(target)]) : (this.removals.get(target) ?? null);
    const move = store.log
      .moveTo(this.dataDir, dirNumber, key, after)
      .catch((err: Error) => this.log('warning', `renaming ${store.log.dir}: ${err.message}`));
    this.holdReplyFor(move);
  }

  /**
   * SWAPDB: the two databases exchange their streams, and with them the numbers their directories carry (no
   * directory moves). The reply is held, as RENAME's, until the new map is durable: no client is told the
   * databases were swapped while a crash could still undo it.
   */
  databasesSwapped(a: number, b: number): void {
    const write = this.dbMap.swap(a, b).catch((err: Error) => this.log('warning', `writing the database map: ${err.message}`));
    this.holdReplyFor(write);
  }

  /** Whether the LRU (open-segments-limit) has ever closed a segment: until then no command needs whenMapped. */
  get segmentsMayBeClosed(): boolean {
    return this.cache.evictions > 0;
  }

  /**
   * Reads are synchronous views of the mapping, so a command must not run while a segment of a stream it names
   * is closed by the LRU: this maps the segments of the streams under `keys` first. Null when none needs it.
   */
  whenMapped(db: Database, keys: readonly Buffer[]): Promise<void> | null {
    let waits: Promise<void>[] | null = null;
    for (const key of keys) {
      const stream = db.get(key.toString('latin1'));
      const log = stream && this.stores.get(stream)?.log;
      if (log && !log.fullyMapped) (waits ??= []).push(log.mapAll());
    }
    return waits === null ? null : Promise.all(waits).then(() => undefined);
  }

  /**
   * A write command that may write `need` bytes to each stream under `keys` runs once they have that room
   * reserved (see spaceWatch.ts): null when they have it, a promise while a reservation is tried (ask again once
   * it settles), or the error of a reservation that failed (the command is refused with MISCONF).
   */
  whenRoom(db: Database, keys: readonly Buffer[], need: number): Promise<void> | StorageError | null {
    let waits: Promise<void>[] | null = null;
    for (const key of keys) {
      const stream = db.get(key.toString('latin1'));
      const log = stream && this.stores.get(stream)?.log;
      if (!log) continue;
      const room = log.whenRoomFor(need);
      if (room === null) continue;
      if (room instanceof StorageError) return room;
      (waits ??= []).push(room);
    }
    return waits === null ? null : Promise.all(waits).then(() => undefined);
  }

  /**
   * A write changed `stream` (see changeRecords.ts): its record goes to the stream's log, in the batch of the
   * command in progress, and the command's reply waits for it. Nothing while recovery applies the logs.
   */
  record(stream: Stream, change: StreamChange): void {
    if (this.replaying) return;
    const store = this.stores.get(stream);
    if (!store) return;
    store.log.appendRecord(change.type, encodeChange(change));
    this.server.requireTicket(store.log.lastTicket);
  }

  /**
   * Start-up: scans and repairs every stream directory (in parallel), opens the logs, and replays them into
   * the databases through the command handlers. A stream whose index snapshot matches its log starts from the
   * snapshot and replays only the records after it.
   */
  async recover(dispatcher: Dispatcher): Promise<RecoverySummary> {
    const started = process.hrtime.bigint();
    await makeDirectoryTree(this.dataDir); // not fsp.mkdir's recursive option: see makeDirectory.ts
    this.dbMap = await DatabaseMap.load(this.dataDir, this.server.databases.length);
    // The commit journal's bytes go back into their segments before the logs are read (journalReplay.ts).
    const replayed = await replayJournal(this.dataDir);
    const journalDone = process.hrtime.bigint();
    this.journalGen = replayed.nextGen;
    this.journalReplay = replayed;
    if (replayed.frames > 0) {
      this.log(
        'notice',
        `commit journal: ${replayed.frames} frames replayed, ${replayed.restored} ranges (${replayed.bytes} bytes) written back, ${replayed.skipped} of deleted streams skipped`,
      );
    }
    const collected = new Map<string, Collected>();
    const collect = (dir: string): ((record: ScannedRecord) => void) => {
      const c: Collected = { types: [], positions: [], checkpoint: null, checkpointAt: -1 };
      collected.set(dir, c);
      return (record) => {
        c.types.push(record.type);
        c.positions.push(record.pos);
        // Records stay in the mapping (replay reads them from the opened log); the last checkpoint is copied.
        if (record.type === RecordType.CHECKPOINT) {
          // The changes recorded so far are in this checkpoint's state: they are not replayed.
          c.checkpoint = Buffer.from(record.payload());
          c.checkpointAt = c.types.length - 1;
        }
      };
    };
    const repairs: string[] = [];
    const reports = await recoverAll(this.dataDir, (info) => collect(info.dir), { log: (message) => repairs.push(message), useSnapshots: true });
    for (const message of repairs) this.log('warning', `recovery: ${message}`);
    const scanDone = process.hrtime.bigint();
    let records = 0;
    let entries = 0;
    let bytes = 0;
    let snapshots = 0;
    // Each log is opened (its id read, its sealed segments mapped, room reserved ahead) on the thread pool, up to
    // OPEN_AHEAD of them ahead of the stream being rebuilt; the streams are rebuilt one by one in directory order
    // (CPU work only). The logs opened ahead hold at most half of the segment LRU (open-segments-limit), so it
    // closes segments of streams already rebuilt, not theirs; should it close one anyway, the log is mapped
    // whole again before its stream is rebuilt from it.
    const open = async (k: number): Promise<OpenedLog> => {
      let report = reports[k];
      let snapshot: StreamSnapshot | null = null;
      if (report.snapshot) {
        try {
          snapshot = decodeStreamSnapshot(report.snapshot.body);
        } catch (err) {
          // A snapshot whose checksums matched but that this build cannot use: scan the whole log instead.
          this.log('warning', `recovery: ${report.dir}: snapshot not used (${(err as Error).message})`);
          report = await recoverStream(report.dir, collect(report.dir), 'recover');
        }
      }
      const { db: dirNumber, key } = await readStreamKey(report.dir);
      const dbIndex = this.dbMap.databaseOf(dirNumber);
      if (!this.server.databases[dbIndex]) throw new Error(`${report.dir}: database ${dbIndex} does not exist (databases ${this.server.databases.length})`);
      const log = await StreamLog.open(report.dir, this.logOptions, report.segments, report.end);
      return { report, snapshot, key, dbIndex, log };
    };
    const opening: Promise<OpenedLog>[] = [];
    let segmentsAhead = 0;
    const roomAhead = this.cache.limit >>> 1;
    let openMs = 0n;
    this.replaying = true;
    try {
      for (let k = 0; k < reports.length; k++) {
        for (let n = opening.length; n < Math.min(reports.length, k + OPEN_AHEAD); n++) {
          const segments = reports[n].segments.length;
          if (n > k && segmentsAhead + segments > roomAhead) break;
          segmentsAhead += segments;
          const p = open(n);
          p.catch(() => undefined); // awaited in its turn below; a failure stops start-up there
          opening.push(p);
        }
        const waitFrom = process.hrtime.bigint();
        const { report, snapshot, key, dbIndex, log } = await opening[k];
        delete opening[k];
        segmentsAhead -= reports[k].segments.length;
        if (!log.fullyMapped) await log.mapAll();
        openMs += process.hrtime.bigint() - waitFrom;
        const keyText = key.toString('latin1');
        const stream = this.attach(keyText, log);
        this.server.databases[dbIndex].restore(keyText, stream);
        const store = this.stores.get(stream)!;
        if (snapshot) {
          this.snapshots.adopt(store, report.snapshot!);
          snapshots++;
        }
        const c = collected.get(report.dir)!;
        entries += this.replayLog(new LegacyCommandReplay(dispatcher, dbIndex), { stream, store, key, dbIndex }, c, snapshot);
        records += c.types.length;
        bytes += report.end;
      }
    } finally {
      this.replaying = false;
    }
    // A crash between a checkpoint and the deletion it allowed leaves old segments: finish that now.
    for (const [stream, store] of this.stores) {
      if (store.log.hasWholeSegmentsBefore(this.keepFrom(stream, store))) this.checkpointDue(stream);
    }
    this.snapshots.start(() => this.stores.entries());
    const done = process.hrtime.bigint();
    const seconds = Number(done - started) / 1e9;
    const summary = { streams: reports.length, records, entries, bytes, seconds, repairs, snapshots };
    const ms = (from: bigint, to: bigint): string => (Number(to - from) / 1e6).toFixed(0);
    this.log(
      'notice',
      `DB loaded from the stream logs: ${summary.streams} streams (${snapshots} from snapshots), ${entries} entries, ${records} records scanned, ${bytes} bytes, ${seconds.toFixed(3)} seconds ` +
        `(commit journal ${ms(started, journalDone)} ms, scan ${ms(journalDone, scanDone)} ms, waiting for opens ${ms(0n, openMs)} ms, rebuild ${ms(openMs, done - scanDone)} ms)`,
    );
    return summary;
  }

  /**
   * Rebuilds one recovered stream: from its last checkpoint among the scanned records, else from its snapshot
   * (the scan started after it), then applies every scanned record after that checkpoint. Returns the entries
   * it holds.
   */
  private replayLog(legacy: LegacyCommandReplay, target: ReplayTarget, c: Collected, snapshot: StreamSnapshot | null): number {
    const { stream, store, key } = target;
    const log = store.log;
    const db = this.server.databases[target.dbIndex];
    const settingsChanged = (s: Stream): void => this.settingsRestored(db, s);
    let entries = 0;
    const scanned = c.checkpoint ? decodeCheckpoint(c.checkpoint) : null;
    const checkpoint = scanned ?? snapshot?.checkpoint ?? null;
    if (scanned && snapshot && scanned.firstEntry !== null) {
      // A checkpoint after the snapshot: the snapshot's entries from its first needed entry on come first.
      const { segment, offset } = snapshot.index;
      let k = 0;
      while (k < segment.length && segment[k] * 2 ** 32 + offset[k] < scanned.firstEntry) k++;
      const { ms, seq } = snapshot.index;
      stream.restoreColumns({ ms: ms.subarray(k), seq: seq.subarray(k), segment: segment.subarray(k), offset: offset.subarray(k) });
    } else if (!scanned && snapshot) {
      stream.restoreColumns(snapshot.index);
    }
    // Before the last checkpoint: only the entries it keeps are restored; the commands are in its state.
    for (let i = 0; i < c.checkpointAt; i++) {
      const position = c.positions[i];
      if (c.types[i] !== RecordType.ENTRY || scanned!.firstEntry === null || position < scanned!.firstEntry) continue;
      const payload = log.read(position)!;
      stream.restoreEntry(entryMs(payload), entrySeq(payload), Math.floor(position / 2 ** 32), position % 2 ** 32);
    }
    if (checkpoint) {
      if (scanned && c.checkpointAt === c.types.length - 1) store.checkpointEnd = log.end;
      stream.importState(checkpoint.stream);
      entries += stream.length;
      // Settings are kept as the XCFGSET that recreates them: `XCFGSET key option value ...`.
      for (const settings of checkpoint.settings) {
        const change = parseStreamSettings(settings.slice(2).map((a) => Buffer.from(a, 'latin1')));
        stream.settingsOverride = applyStreamSettings(stream.settingsOverride, change);
        settingsChanged(stream);
      }
    }
    let skipped = 0;
    for (let i = c.checkpointAt + 1; i < c.types.length; i++) {
      if (c.types[i] === RecordType.ENTRY) {
        const payload = log.read(c.positions[i])!;
        const fields: Buffer[] = [];
        forEachEntryItem(payload, (item) => fields.push(item));
        store.replayAt(c.positions[i]);
        stream.append(fields, { id: { ms: entryMs(payload), seq: entrySeq(payload) }, seqGiven: true }, 0);
        entries++;
      } else if (isChangeType(c.types[i])) {
        if (!applyChange(stream, decodeChange(c.types[i], log.read(c.positions[i])!), settingsChanged)) skipped++;
      } else if (c.types[i] === RecordType.COMMAND) {
        legacy.replay(log.read(c.positions[i])!, key);
      }
    }
    if (skipped > 0) this.log('warning', `recovery: ${log.dir}: ${skipped} changes named a group or consumer that did not exist`);
    return entries;
  }

  /** A recovered stream's own settings: its log commits under its appendfsync, retention tracks its bounds. */
  private settingsRestored(db: Database, stream: Stream): void {
    this.setStreamFsync(stream, stream.settingsOverride?.appendfsync ?? null);
    this.server.retention.track(db, stream);
  }

  // ---- online backup (see backup.ts) ---------------------------------------------------------------------------

  /** The backup in progress: while it runs no segment file is deleted or moved (compaction, DEL, RENAME wait). */
  private backup: Promise<void> | null = null;

  /**
   * BACKUP: copies a consistent cut of every stream into `target` (new or empty, outside the data directory).
   * Throws CommandError with the reply for a bad target or a failed copy.
   */
  async backupTo(target: string): Promise<BackupSummary> {
    if (this.backup) throw new CommandError(Err.backupRunning);
    let finish = (): void => undefined;
    this.backup = new Promise<void>((resolve) => (finish = resolve));
    try {
      await prepareTarget(target, this.dataDir);
      const cuts = this.cutForBackup();
      // Records of the cut still staged (a reservation lagging) are in no file yet.
      for (const cut of cuts) {
        const landed = cut.log.whenLanded();
        if (landed) await landed;
      }
      return await copyCut(cuts, target);
    } finally {
      this.backup = null;
      finish();
      for (const [stream, store] of this.stores) {
        if (store.log.hasWholeSegmentsBefore(this.keepFrom(stream, store))) this.checkpointDue(stream);
      }
    }
  }

  /**
   * The cut, in this turn of the event loop: a checkpoint of each stream written to since its last one (as at
   * shutdown, where it fits: the copy then restarts as fast as after a clean shutdown), then each log's end.
   */
  private cutForBackup(): StreamCut[] {
    const cuts: StreamCut[] = [];
    for (const db of this.server.databases) {
      for (const [key, stream] of db.entries()) {
        const store = this.stores.get(stream);
        if (!store) continue;
        if (store.log.end !== store.checkpointEnd) {
          try {
            this.appendCheckpoint(stream, store);
          } catch (err) {
            this.log('warning', `checkpoint of ${store.log.dir} for a backup: ${(err as Error).message}`);
          }
        }
        cuts.push({ db: db.index, key: Buffer.from(key, 'latin1'), log: store.log, end: store.log.end });
      }
    }
    return cuts;
  }

  /** Clean shutdown: waits for the batch in flight, syncs everything, closes every log. */
  async close(): Promise<void> {
    // A checkpoint per stream written to since its last one: the next start loads it instead of replaying the
    // log (entries are only indexed, the node layout and groups come from the checkpoint).
    for (const [stream, store] of this.stores) {
      if (store.log.end === store.checkpointEnd) continue;
      try {
        this.appendCheckpoint(stream, store);
      } catch (err) {
        this.log('warning', `checkpoint of ${store.log.dir} at shutdown: ${(err as Error).message}`);
      }
    }
    await this.batcher.drain();
    await Promise.all([...this.stores.values()].map((store) => store.log.syncAll().catch(() => undefined)));
    // Then a snapshot per stream changed since its last one: the next start loads it instead of the records.
    await this.snapshots.stop();
    await Promise.all([...this.stores].map(([stream, store]) => this.snapshots.take(stream, store)));
    await Promise.all([...this.removals.values()]);
    await this.dbMap.settled();
    await this.batcher.drain().catch(() => undefined);
    await this.batcher.closeJournal().catch((err: Error) => this.log('warning', `closing the commit journal: ${err.message}`));
    for (const store of this.stores.values()) await store.log.close().catch(() => undefined);
    this.batcher.close();
  }
}
