// The crash simulator (docs/TESTING.md): runs a seeded workload in-process against the storage layer the server
// uses (StreamLog, CommitBatcher, CommitJournal), recording through the I/O observer every write and sync and
// which appends were acknowledged; then, for a bounded set of crash points (sync boundaries and random points),
// rebuilds on a fresh directory the files a power loss there could leave (fsModel.ts), runs the real start-up
// recovery (journal replay, then every stream's scan and repair, then StreamLog.open as the server does) and
// checks the invariants:
//   - recovery does not throw;
//   - each stream holds a prefix of what was appended to it, byte for byte;
//   - that prefix ends at a batch boundary (a command's records in one log are all there or none is);
//   - every append acknowledged (its ticket durable) before the crash point is in it.

import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitBatcher, type FsyncPolicy } from '../../src/storage/commitBatcher';
import { CommitJournal } from '../../src/storage/commitJournal';
import { io } from '../../src/storage/ioObserver';
import { replayJournal } from '../../src/storage/journalReplay';
import { RecordType } from '../../src/storage/recordCodec';
import { LOG_ID_FILE, parseSegmentFileName, streamDirName } from '../../src/storage/fileNames';
import { CorruptLogError, recoverAll } from '../../src/storage/recovery';
import { checkLogs } from '../../src/storage/checkTool';
import { SegmentCache } from '../../src/storage/segmentCache';
import { StreamLog } from '../../src/storage/streamLog';
import { FsModel, strategies, TraceRecorder, type TraceEvent } from './fsModel';

/** xorshift32: the same sequence for the same seed. */
export function seeded(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x100000000;
  };
}

/** One append of the workload, in the order of its stream. */
export interface Appended {
  payload: Buffer;
  /** Acknowledged once a trace mark reaches it: its batch's ticket under always, its number under everysec. */
  ticket: number;
  /** The last record its command appended to this stream (a batch ends here). */
  endsBatch: boolean;
  /** Its position in the stream's log, and the base of the segment holding it. */
  pos: number;
  segment: number;
}

export interface WorkloadOptions {
  seed: number;
  policy: FsyncPolicy;
  streams: number;
  /** Commands to run (each appends 1 to 3 records to 1 or 2 streams). */
  commands: number;
  segmentInitial: number;
  segmentMax: number;
  journalSize: number;
  /** Open segments kept (a small one makes the LRU evict segments that still have unsynced pages). */
  openSegments: number;
  /** Runs everysec's sync without waiting for the frame write in flight (shows a known finding). */
  strict?: boolean;
  /** RENAMEs and DEL-then-create of streams, at most. */
  directoryOps: number;
}

/**
 * One stream log from its creation to its deletion (DEL, then a new stream under the same key, is another one).
 * Trace notes name it by its index: `del-start:<n>` when its deletion starts, `del:<n>` once acknowledged,
 * `renamed:<n>:<i>` once its move to names[i] (RENAME) is acknowledged.
 */
export interface Incarnation {
  /** Its directory names in order (a RENAME adds one). */
  names: string[];
  appends: Appended[];
  /** Its log id (hex: the ID file), once known. */
  id: string | null;
}

export interface Recorded {
  events: TraceEvent[];
  incarnations: Incarnation[];
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A fresh directory on a RAM file system when there is one (the images are many small files). */
export function scratchDir(tag: string): string {
  const base = process.platform === 'linux' ? '/dev/shm' : os.tmpdir();
  return mkdtempSync(path.join(base, `spool-crash-${tag}-`));
}

/**
 * Runs the workload in `dataDir` with the observer recording, and returns the trace and the history. Each
 * durable-ticket advance is marked in the trace (appends with a ticket up to it are acknowledged).
 */
export async function runWorkload(dataDir: string, o: WorkloadOptions): Promise<Recorded> {
  const rand = seeded(o.seed);
  const recorder = new TraceRecorder(dataDir);
  const incarnations: Incarnation[] = [];
  io.observer = recorder;
  const batcher = new CommitBatcher({
    policy: o.policy,
    warn: () => undefined,
    every: () => () => undefined, // the workload runs the everysec sync itself, at points it knows
    openJournal: () => CommitJournal.open(dataDir, 1, { fileSize: o.journalSize, warn: () => undefined }),
  });
  const cache = new SegmentCache(o.openSegments);
  const opts = { batcher, cache, initialSegmentSize: o.segmentInitial, maxSegmentSize: o.segmentMax };
  /** Per incarnation, its log. */
  const logs: StreamLog[] = [];
  /** Per stream slot: its key now and the incarnation holding it. */
  const keys: Buffer[] = [];
  const slots: number[] = [];
  /** Directory operations in flight (their notes are written when they settle). */
  const directoryOps: Promise<unknown>[] = [];
  const create = (key: Buffer, after: Promise<unknown> | null): number => {
    logs.push(StreamLog.createNow(dataDir, 0, key, opts, after));
    return incarnations.push({ names: [streamDirName(0, key)], appends: [], id: null }) - 1;
  };
  try {
    // under everysec an append is acknowledged at once and durable after the next sync: marked below
    if (o.policy === 'always') batcher.onDurable(() => recorder.mark(batcher.durableTicket()));
    for (let i = 0; i < o.streams; i++) {
      keys.push(Buffer.from(`stream:${i}`));
      slots.push(create(keys[i], null));
    }
    let command = 0;
    let appended = 0;
    const append = (s: number): void => {
      const stream = incarnations[slots[s]].appends;
      const padding = Buffer.alloc(rand() < 0.1 ? 2000 + Math.floor(rand() * 5000) : Math.floor(rand() * 400), 0x61 + (appended % 26));
      const fields = [Buffer.from(`r${stream.length}`), Buffer.from(`c${command}`), Buffer.from('pad'), padding];
      appended++;
      const log = logs[slots[s]];
      const pos = log.appendEntry(appended, 0, fields);
      const ticket = o.policy === 'always' ? log.lastTicket : appended;
      stream.push({ payload: Buffer.from(log.read(pos)!), ticket, endsBatch: true, pos, segment: log.segmentOf(pos) });
    };
    let moves = 0;
    for (let done = 0; done < o.commands; ) {
      // one event-loop turn: a few commands, as several clients' pipelines make them
      const inTurn = 1 + Math.floor(rand() * 4);
      for (let c = 0; c < inTurn && done < o.commands; c++, done++) {
        batcher.command = ++command;
        batcher.inCommand = true;
        const first = Math.floor(rand() * o.streams);
        const targets = rand() < 0.2 ? [first, (first + 1) % o.streams] : [first]; // a MULTI/EXEC over two streams
        for (const s of targets) {
          const n = rand() < 0.3 ? 2 + Math.floor(rand() * 2) : 1; // XADD with a trim record, or EXEC's queue
          const stream = incarnations[slots[s]].appends;
          for (let r = 0; r < n; r++) {
            if (r > 0) stream[stream.length - 1].endsBatch = false;
            append(s);
          }
        }
        batcher.inCommand = false;
      }
      const d = rand();
      if (moves < o.directoryOps && d < 0.04) {
        // RENAME: the stream's directory moves; the reply waits for it (Persistence.holdReplyFor)
        moves++;
        const s = Math.floor(rand() * o.streams);
        const n = slots[s];
        keys[s] = Buffer.from(`stream:${s}:${moves}`);
        const i = incarnations[n].names.push(streamDirName(0, keys[s])) - 1;
        directoryOps.push(logs[n].moveTo(dataDir, 0, keys[s], null).then(() => recorder.note(`renamed:${n}:${i}`)));
      } else if (moves < o.directoryOps && d < 0.08) {
        // DEL, then a new stream under the same key, created once the old directory is gone
        moves++;
        const s = Math.floor(rand() * o.streams);
        const n = slots[s];
        recorder.note(`del-start:${n}`);
        const removal = logs[n].destroy().then(() => recorder.note(`del:${n}`));
        directoryOps.push(removal);
        slots[s] = create(keys[s], removal);
      }
      const r = rand();
      if (r < 0.15) await batcher.whenDurable(batcher.currentTicket());
      else if (r < 0.25) await new Promise((res) => setTimeout(res, 1));
      else await tick();
      if (o.policy === 'everysec' && rand() < 0.1) await everysecSync(batcher, recorder, appended, !o.strict);
    }
    await batcher.whenDurable(batcher.currentTicket());
    await Promise.all(directoryOps);
    if (o.policy === 'everysec') await everysecSync(batcher, recorder, appended, !o.strict);
    for (const log of logs) await log.settled();
  } finally {
    io.observer = null;
    batcher.close();
    for (const log of logs) await log.close().catch(() => undefined);
    await batcher.closeJournal().catch(() => undefined);
  }
  logs.forEach((log, n) => (incarnations[n].id = log.logId?.toString('hex') ?? null));
  return { events: recorder.events, incarnations };
}

/**
 * The once-a-second sync of everysec: what was appended (and replied to) before it is durable after it. With
 * `settle`, it starts once the last turn's journal frame is written: started while that write is in flight, it
 * syncs nothing of it (docs/TESTING.md, "Known findings": the journal counts itself unsynced only once the write
 * completes), and the simulator reports those appends lost.
 */
async function everysecSync(batcher: CommitBatcher, recorder: TraceRecorder, appended: number, settle: boolean): Promise<void> {
  await batcher.whenDurable(batcher.currentTicket()); // staged appends landed: their replies went out
  await tick(); // the last turn's journal frame is being written
  if (settle) {
    const current = (batcher.journal as unknown as { current?: { writing?: Set<Promise<unknown>> } } | null)?.current;
    if (current?.writing) await Promise.allSettled([...current.writing]);
  }
  await batcher.syncPeriodic();
  recorder.mark(appended);
}

export interface CrashCase {
  point: number;
  strategy: string;
  acknowledged: number;
}

export interface Failure extends CrashCase, Problem {}

/**
 * The crash points: every sync boundary (just before and just after a sync ends) thinned to at most
 * `syncPoints`, plus `randomPoints` random ones, the point after each stream directory removal or rename, and the
 * end of the trace.
 */
export function crashPoints(events: TraceEvent[], syncPoints: number, randomPoints: number, rand: () => number): number[] {
  const boundaries: number[] = [];
  events.forEach((e, i) => {
    if (e.k === 'syncEnd') boundaries.push(i, i + 1);
  });
  const points = new Set<number>();
  const step = Math.max(1, boundaries.length / syncPoints);
  for (let k = 0; k < boundaries.length; k += step) points.add(boundaries[Math.floor(k)]);
  for (let k = 0; k < randomPoints; k++) points.add(Math.floor(rand() * (events.length + 1)));
  // just after each directory removal or rename (before the sync of its parent makes it durable)
  events.forEach((e, i) => {
    if (e.k === 'rm' || (e.k === 'rename' && !e.to.startsWith('journal'))) points.add(i + 1);
  });
  points.add(events.length);
  return [...points].sort((a, b) => a - b);
}

/**
 * What a check found. `kind` sorts problems: those the simulator found and that are not fixed yet are listed in
 * docs/TESTING.md, "Known findings" (and KNOWN in crashSim.test.ts); any other kind is a regression.
 */
export interface Problem {
  kind: string;
  text: string;
}

/** Recovers the image in `dir` as start-up does and checks it against what the workload did before the crash. */
export async function recoverAndCheck(dir: string, incarnations: Incarnation[], acknowledged: number, notes: Set<string>): Promise<Problem[]> {
  const problems: Problem[] = [];
  const add = (kind: string, text: string): number => problems.push({ kind, text });
  const found = new Map<string, Buffer[]>();
  const reports = await (async () => {
    await replayJournal(dir);
    return recoverAll(dir, (info) => {
      const records: Buffer[] = [];
      found.set(path.basename(info.dir), records);
      return (r) => {
        // PAD: bytes spool-check --fix gave up (replay skips them)
        if (r.type === RecordType.ENTRY) records.push(Buffer.from(r.payload()));
        else if (r.type !== RecordType.PAD) add('bad-record', `${info.dir}: record of type ${r.type} at ${r.pos}`);
      };
      // one stream at a time: after a refusal no other stream's repair is still running when the image is repaired
    }, { concurrency: 1 });
  })().catch((e: Error) => {
    add(e instanceof CorruptLogError ? refusalKind(e, incarnations, acknowledged, notes) : 'threw', `recovery threw: ${e.message}`);
    return null;
  });
  if (reports === null) return problems;
  // which incarnation each directory holds: by its ID file (read before the logs are opened: open writes a
  // missing one), else by its name and first record
  const held = new Map<string, number>();
  for (const [name, records] of found) {
    const n = identify(path.join(dir, name), incarnations, records[0]);
    if (n < 0) {
      if (records.length > 0 || !incarnations.some((inc) => inc.names.includes(name))) add('unexpected-directory', `unexpected stream directory ${name}`);
      continue;
    }
    held.set(name, n);
  }
  // the server opens each recovered log next (and appends to it)
  const batcher = new CommitBatcher({ policy: 'always', warn: () => undefined, every: () => () => undefined });
  const cache = new SegmentCache(64);
  for (const r of reports) {
    try {
      const log = await StreamLog.open(r.dir, { batcher, cache, initialSegmentSize: 16 * 1024, maxSegmentSize: 32 * 1024 }, r.segments, r.end);
      await log.close();
    } catch (e) {
      add('open-threw', `${r.dir}: StreamLog.open threw: ${(e as Error).message}`);
    }
  }
  batcher.close();
  const recovered = new Map<number, number>();
  for (const [name, n] of held) {
    const records = found.get(name)!;
    const inc = incarnations[n];
    if (recovered.has(n)) add('duplicate', `${name}: stream ${n} is in two directories`);
    recovered.set(n, records.length);
    if (notes.has(`del:${n}`) && records.length > 0) add('deleted-came-back', `${name}: stream ${n} was deleted (acknowledged)`);
    let moved = -1;
    inc.names.forEach((_, i) => {
      if (notes.has(`renamed:${n}:${i}`)) moved = i;
    });
    if (inc.names.indexOf(name) < moved) add('rename-undone', `${name}: stream ${n} was renamed to ${inc.names[moved]} (acknowledged)`);
    const appended = inc.appends;
    let same = 0;
    while (same < records.length && same < appended.length && records[same].equals(appended[same].payload)) same++;
    if (same < records.length) {
      // records lost at the end of a segment while the next segment's records are kept (a gap)
      const next = appended.findIndex((a, j) => j > same && a.payload.equals(records[same]));
      const gap = next > 0 && appended[next].segment !== appended[next - 1].segment && (same === 0 || appended[same - 1].segment !== appended[next].segment);
      const kind = notes.has(`del-start:${n}`) ? 'partial-delete' : gap ? 'segment-tail-gap' : 'not-prefix';
      add(kind, `${name}: record ${same} is not the one appended there (not a prefix)${gap ? `: appended record ${next}, the first of segment ${appended[next].segment}` : ''}`);
    } else if (same > 0 && !appended[same - 1].endsBatch) add('half-batch', `${name}: ends inside a batch (after record ${same - 1})`);
  }
  incarnations.forEach((inc, n) => {
    if (notes.has(`del-start:${n}`)) return; // a DEL in flight may take it all
    const must = inc.appends.filter((a) => a.ticket <= acknowledged).length;
    const have = recovered.get(n) ?? 0;
    if (have < must) add('lost-acknowledged', `${inc.names.join(' -> ')}: ${must} acknowledged records, ${have} recovered`);
  });
  return problems;
}

/**
 * The incarnation a recovered stream directory holds: by its ID file (read before the log is opened: opening
 * writes a missing one), else by its name and first record (`first`, undefined when it has none); -1: none.
 */
function identify(dir: string, incarnations: Incarnation[], first: Buffer | undefined): number {
  let id: string | null = null;
  try {
    id = readFileSync(path.join(dir, LOG_ID_FILE)).toString('hex');
  } catch {
    // not durable: identified by name
  }
  const n = incarnations.findIndex((inc) => inc.id !== null && inc.id === id);
  if (n >= 0) return n;
  const name = path.basename(dir);
  const byStart = incarnations.findIndex((inc) => inc.names.includes(name) && (first === undefined || (inc.appends.length > 0 && inc.appends[0].payload.equals(first))));
  if (byStart >= 0 || first === undefined) return byStart;
  // what is left of a stream whose head is gone (an interrupted DEL)
  return incarnations.findIndex((inc) => inc.names.includes(name) && inc.appends.some((a) => a.payload.equals(first)));
}

/**
 * Why recovery refused a stream: damage after its acknowledged records (in bytes never acknowledged), what an
 * interrupted DEL left (its ID file gone, the journal could not restore its segments), else a failure.
 */
function refusalKind(e: CorruptLogError, incarnations: Incarnation[], acknowledged: number, notes: Set<string>): string {
  const base = parseSegmentFileName(path.basename(e.file));
  const n = identify(e.dir, incarnations, undefined);
  if (base === null || n < 0) return 'threw';
  const name = path.basename(e.dir);
  if (incarnations.some((inc, k) => inc.names.includes(name) && notes.has(`del-start:${k}`) && !notes.has(`del:${k}`))) return 'partial-delete';
  const firstUnacknowledged = incarnations[n].appends.find((a) => a.ticket > acknowledged);
  return firstUnacknowledged !== undefined && base + e.offset >= firstUnacknowledged.pos ? 'refused-unacknowledged-hole' : 'threw';
}

/**
 * Replays the trace once; at each crash point builds the image of each strategy in `pick(point)` and checks it.
 * Returns the failures and how many images were checked.
 */
export async function simulateCrashes(
  rec: Recorded,
  points: number[],
  seed: number,
  pick: (pointIndex: number) => string[],
  scratch: string,
): Promise<{ failures: Failure[]; images: number }> {
  const model = new FsModel();
  const failures: Failure[] = [];
  let images = 0;
  let next = 0;
  for (let i = 0; i <= rec.events.length && next < points.length; i++) {
    while (next < points.length && points[next] === i) {
      for (const name of pick(next)) {
        const strategy = strategies(seeded(seed * 7919 + i * 31 + name.length))[name];
        const dir = path.join(scratch, `image-${images++}`);
        mkdirSync(dir);
        try {
          model.image(dir, strategy);
          const acknowledged = model.acknowledged;
          for (const problem of await recoverAndCheck(dir, rec.incarnations, acknowledged, model.notes)) {
            failures.push({ point: i, strategy: name, acknowledged, ...problem });
            // what the error tells the operator to run: then the invariants again
            if (problem.kind !== 'refused-unacknowledged-hole') continue;
            const repaired = await checkLogs(dir, true).catch((e: Error) => {
              failures.push({ point: i, strategy: name, acknowledged, kind: 'repair-threw', text: e.message });
              return null;
            });
            if (repaired !== null) for (const after of await recoverAndCheck(dir, rec.incarnations, acknowledged, model.notes)) {
              failures.push({ point: i, strategy: name, acknowledged, kind: `after-repair:${after.kind}`, text: after.text });
            }
          }
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      }
      next++;
    }
    if (i < rec.events.length) model.apply(rec.events[i]);
  }
  return { failures, images };
}
