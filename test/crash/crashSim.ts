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

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitBatcher, type FsyncPolicy } from '../../src/storage/commitBatcher';
import { CommitJournal } from '../../src/storage/commitJournal';
import { io } from '../../src/storage/ioObserver';
import { replayJournal } from '../../src/storage/journalReplay';
import { RecordType } from '../../src/storage/recordCodec';
import { parseSegmentFileName, parseStreamDirName } from '../../src/storage/fileNames';
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
}

export interface Recorded {
  events: TraceEvent[];
  /** Per stream key (hex), its appends in order. */
  history: Map<string, Appended[]>;
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
  const history = new Map<string, Appended[]>();
  io.observer = recorder;
  const batcher = new CommitBatcher({
    policy: o.policy,
    warn: () => undefined,
    every: () => () => undefined, // the workload runs the everysec sync itself, at points it knows
    openJournal: () => CommitJournal.open(dataDir, 1, { fileSize: o.journalSize, warn: () => undefined }),
  });
  const cache = new SegmentCache(o.openSegments);
  const opts = { batcher, cache, initialSegmentSize: o.segmentInitial, maxSegmentSize: o.segmentMax };
  const logs: StreamLog[] = [];
  try {
    // under everysec an append is acknowledged at once and durable after the next sync: marked below
    if (o.policy === 'always') batcher.onDurable(() => recorder.mark(batcher.durableTicket()));
    const keys: Buffer[] = [];
    for (let i = 0; i < o.streams; i++) {
      const key = Buffer.from(`stream:${i}`);
      keys.push(key);
      history.set(key.toString('hex'), []);
      logs.push(StreamLog.createNow(dataDir, 0, key, opts, null));
    }
    let command = 0;
    let appended = 0;
    const append = (s: number): void => {
      const stream = history.get(keys[s].toString('hex'))!;
      const padding = Buffer.alloc(rand() < 0.1 ? 2000 + Math.floor(rand() * 5000) : Math.floor(rand() * 400), 0x61 + (appended % 26));
      const fields = [Buffer.from(`r${stream.length}`), Buffer.from(`c${command}`), Buffer.from('pad'), padding];
      appended++;
      const log = logs[s];
      const pos = log.appendEntry(appended, 0, fields);
      const ticket = o.policy === 'always' ? log.lastTicket : appended;
      stream.push({ payload: Buffer.from(log.read(pos)!), ticket, endsBatch: true, pos, segment: log.segmentOf(pos) });
    };
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
          const stream = history.get(keys[s].toString('hex'))!;
          for (let r = 0; r < n; r++) {
            if (r > 0) stream[stream.length - 1].endsBatch = false;
            append(s);
          }
        }
        batcher.inCommand = false;
      }
      const r = rand();
      if (r < 0.15) await batcher.whenDurable(batcher.currentTicket());
      else if (r < 0.25) await new Promise((res) => setTimeout(res, 1));
      else await tick();
      if (o.policy === 'everysec' && rand() < 0.1) await everysecSync(batcher, recorder, appended, !o.strict);
    }
    await batcher.whenDurable(batcher.currentTicket());
    if (o.policy === 'everysec') await everysecSync(batcher, recorder, appended, !o.strict);
    for (const log of logs) await log.settled();
  } finally {
    io.observer = null;
    batcher.close();
    for (const log of logs) await log.close().catch(() => undefined);
    await batcher.closeJournal().catch(() => undefined);
  }
  return { events: recorder.events, history };
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
 * `syncPoints`, plus `randomPoints` random ones and the end of the trace.
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

/** Recovers the image in `dir` as start-up does and checks it against the history. */
export async function recoverAndCheck(dir: string, history: Map<string, Appended[]>, acknowledged: number): Promise<Problem[]> {
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
    add(e instanceof CorruptLogError && inUnacknowledgedTail(e, history, acknowledged) ? 'refused-unacknowledged-hole' : 'threw', `recovery threw: ${e.message}`);
    return null;
  });
  if (reports === null) return problems;
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
  for (const [name, records] of found) {
    const appended = historyOf(name, history);
    if (!appended) {
      add('unexpected-directory', `unexpected stream directory ${name}`);
      continue;
    }
    let same = 0;
    while (same < records.length && same < appended.length && records[same].equals(appended[same].payload)) same++;
    if (same < records.length) {
      // records lost at the end of a segment while the next segment's records are kept (a gap)
      const next = appended.findIndex((a, j) => j > same && a.payload.equals(records[same]));
      const gap = next > 0 && appended[next].segment !== appended[next - 1].segment && (same === 0 || appended[same - 1].segment !== appended[next].segment);
      add(gap ? 'segment-tail-gap' : 'not-prefix', `${name}: record ${same} is not the one appended there (not a prefix)${gap ? `: appended record ${next}, the first of segment ${appended[next].segment}` : ''}`);
    }
    else if (same > 0 && !appended[same - 1].endsBatch) add('half-batch', `${name}: ends inside a batch (after record ${same - 1})`);
  }
  for (const [hex, appended] of history) {
    const name = `0-${hex}`;
    const must = appended.filter((a) => a.ticket <= acknowledged).length;
    const have = found.get(name)?.length ?? 0;
    if (have < must) add('lost-acknowledged', `${name}: ${must} acknowledged records, ${have} recovered`);
  }
  return problems;
}

function historyOf(dirName: string, history: Map<string, Appended[]>): Appended[] | undefined {
  const parsed = parseStreamDirName(dirName);
  return parsed?.key ? history.get(parsed.key.toString('hex')) : undefined;
}

/** Whether the damage recovery refused lies after the stream's acknowledged records (in bytes never acknowledged). */
function inUnacknowledgedTail(e: CorruptLogError, history: Map<string, Appended[]>, acknowledged: number): boolean {
  const appended = historyOf(path.basename(e.dir), history);
  const base = parseSegmentFileName(path.basename(e.file));
  if (!appended || base === null) return false;
  const firstUnacknowledged = appended.find((a) => a.ticket > acknowledged);
  return firstUnacknowledged !== undefined && base + e.offset >= firstUnacknowledged.pos;
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
          for (const problem of await recoverAndCheck(dir, rec.history, acknowledged)) {
            failures.push({ point: i, strategy: name, acknowledged, ...problem });
            // what the error tells the operator to run: then the invariants again
            if (problem.kind !== 'refused-unacknowledged-hole') continue;
            const repaired = await checkLogs(dir, true).catch((e: Error) => {
              failures.push({ point: i, strategy: name, acknowledged, kind: 'repair-threw', text: e.message });
              return null;
            });
            if (repaired !== null) for (const after of await recoverAndCheck(dir, rec.history, acknowledged)) {
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
