// Group commit.
//
// Every append in one event-loop turn joins one batch with a number (the durability ticket). The batch closes
// with setImmediate, not queueMicrotask: libuv runs every socket read callback of a poll phase before the check
// phase, so setImmediate closes the batch after ALL connections that had data in this turn were parsed and
// executed, while a microtask would close it after the first connection's chunk (batches of one client).
//
// `always`: a closed batch waits until its records are in the map (staged bytes landed, see streamLog.ts), then
// fdatasyncs every touched segment in parallel on the thread pool; then durableTicket() advances to it. One
// commit is in flight at a time; batches closing meanwhile are covered together by the next commit (classic
// group commit: the slower the disk, the bigger the batches), so the event loop never waits.
// `everysec`: an append that went straight into the map is durable as far as this policy goes: touch() returns
// a ticket that is already released. Dirty segments are synced once a second; a sync taking more than 2 s logs a
// warning and counts `delayedSyncs` (Redis's aof_delayed_fsync).
// `no`: as everysec without the timer.
//
// Per-stream policy (XCFGSET appendfsync): a target may carry its own `fsyncPolicy` overriding the server's.
// touch() reads it once (one property load on the hot path). A target whose effective policy is `always` joins
// a batch even under server everysec/no, and that batch's commit syncs its touched segments before the ticket is
// released. A target whose override is everysec/no never waits for a sync: a landed append returns the durable
// ticket at once, even while `always` batches of other streams are in flight (tickets stay monotonic: it is a
// ticket already released; connections keep replies in request order behind earlier held ones). Commits sync only
// the targets whose effective policy is `always`; everysec targets go to the periodic sync, whose timer runs
// while the server policy is everysec or any target overrides to everysec.
//
// Errors are sticky (as Redis's AOF write error and NATS's file store): after a failed sync or write, writeError
// is set, writable() is false and the stream layer must refuse writes (MISCONF) until a retry sync of the failed
// segments succeeds; the retry runs every `retryMs` by itself. Caveat: after a failed fdatasync Linux may have
// dropped the dirty pages; the retry proves the disk works again, not that those pages were written.

import { performance } from 'node:perf_hooks';
import type { CommitJournal, JournalFrame } from './commitJournal';

export type FsyncPolicy = 'always' | 'everysec' | 'no';

/** A segment (or anything) that can be synced. */
export interface Syncable {
  sync(): Promise<void>;
  dirty: boolean;
}

/** A stream log as the batcher sees it. */
export interface CommitTarget {
  /** Per-target policy overriding the batcher's (null/absent: follow it). Set through setTargetPolicy(). */
  fsyncPolicy?: FsyncPolicy | null;
  /** null when everything appended so far is in the map; else resolves when it is (rejects on error). */
  whenLanded(): Promise<void> | null;
  /** Moves out the segments written since the last call (clears their dirty flag). */
  takeDirty(): Syncable[];
  /**
   * Under `always` with a commit journal: adds the bytes appended since the last call to the journal frame
   * (what it cannot goes to `direct`, synced by the commit). Targets without it have their segments synced.
   */
  journalInto?(frame: JournalFrame, direct: Set<Syncable>): void;
}

export interface CommitBatcherOptions {
  policy?: FsyncPolicy;
  /** Sync implementation (tests inject one); default s.sync(). */
  syncFn?: (s: Syncable) => Promise<void>;
  /** Schedules the end of the batch; default setImmediate. */
  schedule?: (fn: () => void) => void;
  /** Periodic timer for everysec and error retries; default setInterval (unref'd). Returns a stop function. */
  every?: (ms: number, fn: () => void) => () => void;
  now?: () => number;
  warn?: (msg: string) => void;
  retryMs?: number;
  slowSyncMs?: number;
  /** Operations: told about batches and syncs (the metrics module's histograms); see CommitObserver. */
  observer?: CommitObserver | null;
  /** High-resolution clock in ms for the observer's sync timings; default performance.now. */
  hrNow?: () => number;
  /**
   * Opens the commit journal the first time a commit under `always` needs it (commitJournal.ts). Absent or
   * failing (e.g. no space for its files): commits sync the touched segments themselves, as before it existed.
   */
  openJournal?: (() => Promise<CommitJournal>) | null;
}

/**
 * What the batcher reports as it works (plain callbacks: the storage layer knows nothing of Prometheus). Each
 * call is per batch or per sync, never per append.
 */
export interface CommitObserver {
  /** A batch closed holding `records` appends. */
  batch(records: number): void;
  /** One sync round (a commit, a periodic sync, a retry, the drain) covering `segments` segments started. */
  syncRound(segments: number): void;
  /** One segment's sync (one fdatasync) settled, failed ones too, after `seconds`. */
  fsync(seconds: number): void;
}

/**
 * Durations of a commit's steps, in ms, for the latency monitor (LATENCY). Attached only while that monitor is
 * on; each call is per commit, never per append.
 */
export interface CommitLatencyObserver {
  /** A commit waited `ms` for its staged records to be copied into their segments (only when some were staged). */
  landed(ms: number): void;
  /** A commit's fdatasync round of the segments under `always` took `ms` (only when there was one). */
  synced(ms: number): void;
}

export class StorageError extends Error {
  constructor(
    message: string,
    readonly code: string,
    override readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'StorageError';
  }
}

/** Runs `fn` every `ms` without keeping the process alive; returns the stop function (the default `every`). */
export function unrefInterval(ms: number, fn: () => void): () => void {
  const t = setInterval(fn, ms);
  t.unref();
  return () => clearInterval(t);
}

/** Commits whose writes (journal frames or syncs) may be in flight at once. */
const MAX_IN_FLIGHT = 3;

export class CommitBatcher {
  private policyValue: FsyncPolicy;
  private readonly syncFn: (s: Syncable) => Promise<void>;
  private readonly schedule: (fn: () => void) => void;
  private readonly every: (ms: number, fn: () => void) => () => void;
  private readonly now: () => number;
  private readonly warn: (msg: string) => void;
  private readonly retryMs: number;
  private readonly slowSyncMs: number;
  private readonly hrNow: () => number;
  /** Operations hooks (metrics attach here after start-up); null: nothing timed. */
  observer: CommitObserver | null;
  /** The latency monitor's hooks (attached while latency-monitor-threshold is set); null: nothing timed. */
  latency: CommitLatencyObserver | null = null;
  /** Appends (touch calls) that joined the batch filling now, for observer.batch(). */
  private openRecords = 0;

  /** Batch currently filling (0: none). */
  private open = 0;
  private nextNumber = 1;
  private closedUpTo = 0;
  private durable = 0;
  private openTargets = new Set<CommitTarget>();
  private closedTargets = new Set<CommitTarget>();
  /** Touched since the last periodic sync (everysec). */
  private periodicTargets = new Set<CommitTarget>();
  /** Segments whose sync failed: synced again by the next commit or retry. */
  private failed = new Set<Syncable>();
  /**
   * Commits started and not yet counted durable, in start order. Up to MAX_IN_FLIGHT run at once (their journal
   * writes, or syncs, overlap on the device); tickets advance in order, past a commit only once it and every
   * earlier one are done. A failed commit stays here until a retry has synced its segments.
   */
  private readonly inFlight: { upTo: number; state: 'running' | 'done' | 'failed' }[] = [];
  /** Highest ticket covered by a commit already started. */
  private startedUpTo = 0;
  private retrying = false;
  private periodicRunning = false;
  private readonly listeners: (() => void)[] = [];
  private readonly waiters: { ticket: number; resolve: () => void }[] = [];
  private stopTimer: (() => void) | null = null;
  private stopRetry: (() => void) | null = null;
  private closedFlag = false;

  private openJournal: (() => Promise<CommitJournal>) | null;
  /** The journal once open; null: not yet (or not available: openJournal is then null too). */
  journal: CommitJournal | null = null;
  private journalOpening: Promise<CommitJournal | null> | null = null;
  /** After a failed open, the time (ms) before which it is not tried again. */
  private journalRetryAt = 0;

  /**
   * The command running now (the dispatcher counts top-level commands; EXEC's queued ones share EXEC's number):
   * records one command appends to one log form one batch (StreamLog.joinBatch).
   */
  command = 0;
  /** A command is running (records appended while it is not never join a batch). */
  inCommand = false;

  writeError: StorageError | null = null;
  // counters for INFO / metrics
  batches = 0;
  syncs = 0;
  syncErrors = 0;
  delayedSyncs = 0;
  lastSyncMs = 0;

  constructor(opts: CommitBatcherOptions = {}) {
    this.policyValue = opts.policy ?? 'everysec';
    this.syncFn = opts.syncFn ?? ((s) => s.sync());
    this.schedule = opts.schedule ?? setImmediate;
    this.every = opts.every ?? unrefInterval;
    this.now = opts.now ?? Date.now;
    this.warn = opts.warn ?? ((m) => console.warn(m));
    this.retryMs = opts.retryMs ?? 1000;
    this.slowSyncMs = opts.slowSyncMs ?? 2000;
    this.hrNow = opts.hrNow ?? (() => performance.now());
    this.observer = opts.observer ?? null;
    this.openJournal = opts.openJournal ?? null;
    this.applyPolicyTimer();
  }

  get policy(): FsyncPolicy {
    return this.policyValue;
  }

  /** The policy that applies to `target`: its own override, else the server's. */
  policyFor(target: CommitTarget): FsyncPolicy {
    return target.fsyncPolicy ?? this.policyValue;
  }

  /** Targets whose own policy is `everysec` (the periodic timer runs for them too). */
  private everysecOverrides = 0;
  /** Number of targets whose own policy is `always` (readers of those wait for durability). */
  alwaysOverrides = 0;

  /**
   * Sets (or clears, with null) a target's own policy. Entering `always`: what it left unsynced is covered by
   * the next commit. The periodic timer runs while any target (or the server) is under everysec.
   */
  setTargetPolicy(target: CommitTarget, policy: FsyncPolicy | null): void {
    const old = target.fsyncPolicy ?? null;
    if (old === policy) return;
    if (old === 'everysec') this.everysecOverrides--;
    if (old === 'always') this.alwaysOverrides--;
    if (policy === 'everysec') this.everysecOverrides++;
    if (policy === 'always') this.alwaysOverrides++;
    target.fsyncPolicy = policy;
    if (this.policyFor(target) === 'always' && this.periodicTargets.delete(target)) this.closedTargets.add(target);
    this.applyPolicyTimer();
  }

  /** Changes the policy at run time (CONFIG SET appendfsync). */
  setPolicy(p: FsyncPolicy): void {
    if (p === this.policyValue) return;
    const was = this.policyValue;
    this.policyValue = p;
    // entering `always`: what everysec left unsynced is covered by the next commit (targets with an
    // everysec/no override of their own stay with the periodic sync)
    if (p === 'always' || was === 'always') {
      for (const t of this.periodicTargets) {
        if (this.policyFor(t) !== 'always') continue;
        this.closedTargets.add(t);
        this.periodicTargets.delete(t);
      }
    }
    this.applyPolicyTimer();
  }

  private applyPolicyTimer(): void {
    const want = (this.policyValue === 'everysec' || this.everysecOverrides > 0) && !this.closedFlag;
    if (want && !this.stopTimer) this.stopTimer = this.every(1000, () => void this.syncPeriodic());
    if (!want && this.stopTimer) {
      this.stopTimer();
      this.stopTimer = null;
    }
  }

  /** False while a write or sync error is sticky: refuse writes (MISCONF). */
  writable(): boolean {
    return this.writeError === null && this.stalled.size === 0;
  }

  /** The sticky error writes are refused for (its code goes into the MISCONF text), or null while writable. */
  storageError(): StorageError | null {
    if (this.writeError !== null) return this.writeError;
    // Checked on every write command: no iterator unless something is stalled.
    if (this.stalled.size === 0) return null;
    return this.stalled.values().next().value ?? null;
  }

  /**
   * Logs whose staged records cannot reach their mapping (the reservation failed, e.g. the disk is full).
   * Their batches cannot commit, so while any log is stalled writes are refused (MISCONF) instead of being
   * accepted and left without a reply; the log clears its stall when a reservation succeeds again.
   */
  private readonly stalled = new Map<CommitTarget, StorageError>();

  /** `error`: why `target` is stalled; null: it is not (any more). */
  stall(target: CommitTarget, error: StorageError | null): void {
    if (error !== null) this.stalled.set(target, error);
    else this.stalled.delete(target);
  }

  /**
   * Records that `target` was appended to in this turn and returns the ticket the reply depends on.
   * `landed`: the bytes went straight into the map (not staged). Under everysec/no such an append is already as
   * durable as the policy promises, so the ticket returned is one already released.
   */
  touch(target: CommitTarget, landed: boolean): number {
    const own = target.fsyncPolicy;
    const policy = own ?? this.policyValue;
    if (policy !== 'always') {
      this.periodicTargets.add(target);
      if (policy === 'everysec' && this.openJournal !== null) {
        // everysec through the journal: this turn's bytes go into one frame at the end of the turn
        this.turnTargets.add(target);
        if (!this.turnScheduled) {
          this.turnScheduled = true;
          this.schedule(() => this.flushTurn());
        }
      }
      // An own everysec/no does not queue behind other streams' `always` commits (see the header).
      if (landed && ((this.closedUpTo === this.durable && this.open === 0) || own != null)) return this.durable;
    }
    if (this.open === 0) {
      this.open = this.nextNumber++;
      this.schedule(() => this.closeBatch());
    }
    this.openTargets.add(target);
    this.openRecords++;
    return this.open;
  }

  /** Highest ticket whose batch is durable (DurabilityGate). */
  durableTicket(): number {
    return this.durable;
  }

  /** Ticket of the batch filling now, or the last one (for reads that must wait for pending writes). */
  currentTicket(): number {
    return this.open || this.closedUpTo || this.durable;
  }

  /** Called whenever durableTicket() advances (DurabilityGate). */
  onDurable(listener: () => void): void {
    this.listeners.push(listener);
  }

  whenDurable(ticket: number): Promise<void> {
    if (ticket <= this.durable) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ ticket, resolve }));
  }

  private closeBatch(): void {
    if (this.open === 0) return;
    this.batches++;
    if (this.observer !== null) this.observer.batch(this.openRecords);
    this.openRecords = 0;
    this.closedUpTo = this.open;
    this.open = 0;
    for (const t of this.openTargets) this.closedTargets.add(t);
    this.openTargets.clear();
    this.kick();
  }

  private kick(): void {
    while (this.closedUpTo > this.startedUpTo && !this.closedFlag && this.writeError === null && !this.retrying) {
      if (this.running() >= MAX_IN_FLIGHT) return;
      const upTo = this.closedUpTo;
      const targets = this.closedTargets;
      this.closedTargets = new Set();
      this.startedUpTo = upTo;
      const entry: { upTo: number; state: 'running' | 'done' | 'failed' } = { upTo, state: 'running' };
      this.inFlight.push(entry);
      void this.commit(upTo, targets).then(
        () => {
          entry.state = 'done';
          this.advanceInOrder();
          this.kick();
        },
        (err) => {
          entry.state = 'failed';
          // targets not landed yet are retried with the next commit
          for (const t of targets) this.closedTargets.add(t);
          this.fail(err);
        },
      );
    }
  }

  private running(): number {
    let n = 0;
    for (const e of this.inFlight) if (e.state === 'running') n++;
    return n;
  }

  /** Advances the durable ticket past every leading commit that is done. */
  private advanceInOrder(): void {
    let upTo = 0;
    while (this.inFlight.length > 0 && this.inFlight[0].state === 'done') upTo = this.inFlight.shift()!.upTo;
    if (upTo > 0) this.advance(upTo);
  }

  /** Settles when the last started commit has taken its targets' bytes (see commit()). */
  private lastTaken: Promise<void> = Promise.resolve();

  private commit(upTo: number, targets: Set<CommitTarget>): Promise<void> {
    // Commits take their bytes in start order: a later commit taking an earlier one's bytes into its own
    // write would let the earlier one count as durable before they are.
    const previous = this.lastTaken;
    let taken!: () => void;
    this.lastTaken = new Promise((r) => (taken = r));
    return this.commitAfter(previous, taken, upTo, targets);
  }

  private async commitAfter(previous: Promise<void>, taken: () => void, upTo: number, targets: Set<CommitTarget>): Promise<void> {
    let released = false;
    const release = (): void => {
      if (!released) taken();
      released = true;
    };
    try {
      await previous;
      await this.takeAndWrite(upTo, targets, release);
    } finally {
      release();
    }
  }

  private async takeAndWrite(upTo: number, targets: Set<CommitTarget>, taken: () => void): Promise<void> {
    const landing: Promise<void>[] = [];
    for (const t of targets) {
      const p = t.whenLanded();
      if (p) landing.push(p);
    }
    const latency = this.latency;
    if (landing.length) {
      const started = latency === null ? 0 : this.hrNow();
      await Promise.all(landing);
      if (latency !== null) latency.landed(this.hrNow() - started);
    }
    const journal = this.journal ?? (this.openJournal === null || !this.needsJournal(targets) ? null : await this.journalFor());
    const toSync = new Set<Syncable>(this.policyValue === 'always' ? this.failed : undefined);
    let frame: JournalFrame | null = null;
    let covered: Syncable[] | null = null;
    for (const t of targets) {
      const p = this.policyFor(t);
      if (p === 'always') {
        if (journal !== null && t.journalInto !== undefined) {
          frame ??= journal.frame();
          t.journalInto(frame, toSync);
          covered ??= [];
          // Still dirty until synced behind the journal: an evicted segment is then synced before it closes.
          for (const s of t.takeDirty()) {
            s.dirty = true;
            covered.push(s);
          }
        } else for (const s of t.takeDirty()) toSync.add(s);
      } else if (p === 'no') t.takeDirty();
    }
    taken();
    const started = latency === null ? 0 : this.hrNow();
    if (frame === null || frame.empty) {
      // Bytes already in an earlier frame: their segments stay synced behind the journal.
      if (covered !== null) for (const s of covered) journal!.behind.add(s);
      await this.syncAll(toSync);
    } else {
      const written = this.writeFrame(journal!, frame, covered!);
      await Promise.all([written, this.syncAll(toSync)]);
    }
    if (latency !== null && (toSync.size > 0 || frame !== null)) latency.synced(this.hrNow() - started);
    void upTo;
  }

  /**
   * One journal write for the whole batch. Its segments are then synced behind the journal; if the write
   * fails they join the failed set, so the retry syncs them directly (their bytes are in the maps).
   */
  /** Targets appended to under everysec in this turn (flushTurn journals their bytes). */
  private turnTargets = new Set<CommitTarget>();
  private turnScheduled = false;
  /** Segments the everysec journal could not cover (see journalInto): synced by the periodic sync itself. */
  private periodicDirect = new Set<Syncable>();

  /**
   * everysec: the bytes appended in this turn go to the journal in one frame written without a sync (replies
   * were not waiting for it); the periodic sync then fdatasyncs the journal alone instead of every segment
   * written in the last second. Until the journal is open (or if it cannot be), the segments are synced.
   */
  private flushTurn(): void {
    this.turnScheduled = false;
    const targets = this.turnTargets;
    this.turnTargets = new Set();
    const journal = this.journal;
    if (journal === null) {
      if (this.openJournal !== null && this.journalOpening === null) void this.journalFor();
      return;
    }
    if (this.writeError !== null) return;
    let frame: JournalFrame | null = null;
    const covered: Syncable[] = [];
    for (const t of targets) {
      if (this.policyFor(t) !== 'everysec' || t.journalInto === undefined) continue;
      frame ??= journal.frame();
      t.journalInto(frame, this.periodicDirect);
      for (const s of t.takeDirty()) {
        s.dirty = true;
        covered.push(s);
      }
    }
    if (frame === null) return;
    if (frame.empty) {
      for (const s of covered) journal.behind.add(s);
      return;
    }
    journal.write(frame, covered, false).catch((err: unknown) => {
      for (const s of covered) this.failed.add(s);
      this.fail(err);
    });
  }

  private async writeFrame(journal: CommitJournal, frame: JournalFrame, covered: Syncable[]): Promise<void> {
    const obs = this.observer;
    const start = obs === null ? 0 : this.hrNow();
    try {
      if (obs !== null) obs.syncRound(1);
      await journal.write(frame, covered, true);
      this.syncs++;
    } catch (e) {
      for (const s of covered) this.failed.add(s);
      throw e;
    } finally {
      if (obs !== null) obs.fsync((this.hrNow() - start) / 1000);
    }
  }

  private needsJournal(targets: Set<CommitTarget>): boolean {
    for (const t of targets) if (this.policyFor(t) === 'always' && t.journalInto !== undefined) return true;
    return false;
  }

  /** Opens the journal once; null when it cannot be opened (retried a minute later). */
  private async journalFor(): Promise<CommitJournal | null> {
    if (this.now() < this.journalRetryAt) return null;
    this.journalOpening ??= this.openJournal!().then(
      (j) => (this.journal = j),
      (err: unknown) => {
        // Tried again a minute later (space may have been freed); meanwhile commits sync each segment.
        this.journalOpening = null;
        this.journalRetryAt = this.now() + 60_000;
        this.warn(`spool storage: no commit journal (${(err as Error).message}); commits under always sync each segment`);
        return null;
      },
    );
    return this.journalOpening;
  }

  private async syncAll(set: Set<Syncable>): Promise<void> {
    if (set.size === 0) return;
    const start = this.now();
    const obs = this.observer;
    if (obs !== null) obs.syncRound(set.size);
    const results = await Promise.allSettled([...set].map((s) => (obs === null ? this.syncFn(s) : this.timedSync(s, obs))));
    this.syncs++;
    this.lastSyncMs = this.now() - start;
    let firstErr: unknown = null;
    let i = 0;
    for (const s of set) {
      const r = results[i++];
      if (r.status === 'rejected') {
        firstErr ??= r.reason;
        this.failed.add(s);
      } else this.failed.delete(s);
    }
    if (firstErr) throw firstErr;
  }

  /** syncFn(s), telling the observer how long it took. */
  private timedSync(s: Syncable, obs: CommitObserver): Promise<void> {
    const start = this.hrNow();
    const done = () => obs.fsync((this.hrNow() - start) / 1000);
    return this.syncFn(s).then(done, (err: unknown) => {
      done();
      throw err;
    });
  }

  private advance(upTo: number): void {
    if (upTo <= this.durable) return;
    this.durable = upTo;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].ticket <= upTo) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
    for (const l of this.listeners) l();
  }

  /** Makes a write or sync error sticky and starts retrying. Also called by logs on write errors. */
  fail(err: unknown): void {
    this.syncErrors++;
    const code = (err as NodeJS.ErrnoException)?.code ?? 'EIO';
    const message = (err as Error)?.message ?? String(err);
    if (!this.writeError) this.warn(`spool storage: write error, refusing writes until it clears: ${message}`);
    this.writeError = new StorageError(message, code, err);
    if (!this.stopRetry && !this.closedFlag) this.stopRetry = this.every(this.retryMs, () => void this.retry());
  }

  /** One retry: sync what failed; on success clear the sticky error and resume commits. */
  async retry(): Promise<boolean> {
    if (!this.writeError || this.retrying || this.running() > 0) return false;
    this.retrying = true;
    try {
      await this.syncAll(new Set(this.failed));
    } catch {
      this.retrying = false;
      return false;
    }
    this.retrying = false;
    this.writeError = null;
    if (this.stopRetry) {
      this.stopRetry();
      this.stopRetry = null;
    }
    // The failed commits' segments are synced now: they count as done.
    for (const e of this.inFlight) if (e.state === 'failed') e.state = 'done';
    this.advanceInOrder();
    this.kick();
    return true;
  }

  /** The everysec sync (the timer calls it; tests call it directly). */
  async syncPeriodic(): Promise<void> {
    if (this.periodicRunning) {
      // the previous sync is still running: Redis postpones and, past 2 s, counts a delayed fsync
      return;
    }
    const targets = this.periodicTargets;
    this.periodicTargets = new Set();
    const toSync = new Set<Syncable>(this.failed);
    for (const s of this.periodicDirect) toSync.add(s);
    this.periodicDirect.clear();
    for (const t of targets) {
      // A target is here because it was touched under everysec/no; what applies to it now decides.
      const p = this.policyFor(t);
      if (p === 'no') t.takeDirty();
      else if (p === 'everysec') for (const s of t.takeDirty()) toSync.add(s);
    }
    const journal = this.journal !== null && this.journal.unsynced ? this.journal : null;
    if (toSync.size === 0 && journal === null) return;
    this.periodicRunning = true;
    const start = this.now();
    try {
      if (journal === null) await this.syncAll(toSync);
      else await Promise.all([this.syncAll(toSync), this.syncJournal(journal)]);
    } catch (e) {
      this.fail(e);
    } finally {
      this.periodicRunning = false;
      const took = this.now() - start;
      if (took > this.slowSyncMs) {
        this.delayedSyncs++;
        this.warn(`spool storage: fdatasync took ${took} ms (disk is busy or slow)`);
      }
    }
  }

  /** The everysec sync of the journal, counted as one sync round (metrics). */
  private async syncJournal(journal: CommitJournal): Promise<void> {
    const obs = this.observer;
    const start = obs === null ? 0 : this.hrNow();
    if (obs !== null) obs.syncRound(1);
    try {
      await journal.sync();
    } catch (e) {
      // The journal's frames are not known to be on disk: the segments they covered are synced directly by the
      // retries instead (their bytes are in the maps).
      for (const s of journal.takeBehind()) this.failed.add(s);
      throw e;
    } finally {
      if (obs !== null) obs.fsync((this.hrNow() - start) / 1000);
    }
  }

  /** Resolves when every closed batch is durable (shutdown). Syncs everything dirty under any policy. */
  async drain(): Promise<void> {
    if (this.open) this.closeBatch();
    while (this.closedUpTo > this.durable && !this.writeError) await this.whenDurable(this.closedUpTo);
    const all = new Set<Syncable>(this.failed);
    for (const s of this.periodicDirect) all.add(s);
    this.periodicDirect.clear();
    for (const t of this.periodicTargets) for (const s of t.takeDirty()) all.add(s);
    this.periodicTargets.clear();
    if (this.journalOpening) await this.journalOpening;
    const journal = this.journal;
    if (journal !== null) for (const s of journal.takeBehind()) all.add(s);
    await this.syncAll(all);
  }

  /**
   * Shutdown, after the last drain: every segment the journal covered is synced, so its files go and the next
   * start replays nothing. Commits after this sync their segments directly.
   */
  async closeJournal(): Promise<void> {
    if (this.journalOpening) await this.journalOpening;
    const journal = this.journal;
    this.journal = null;
    this.openJournal = null;
    if (journal !== null) await journal.close(true);
  }

  close(): void {
    this.closedFlag = true;
    this.applyPolicyTimer();
    if (this.stopRetry) this.stopRetry();
    this.stopRetry = null;
  }
}
