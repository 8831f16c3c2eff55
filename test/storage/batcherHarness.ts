// Shared by the CommitBatcher tests: fake logs and a batcher on a manual scheduler with controllable syncs, so
// the tests never sleep.
import { CommitBatcher, type CommitBatcherOptions, type CommitTarget, type FsyncPolicy, type Syncable } from '../../src/storage/commitBatcher';

export type FakeTarget = CommitTarget & {
  /** Dirties its one segment. */
  write(): void;
  /** Holds its landing (staged bytes) until land(). */
  stall(): void;
  land(): void;
  readonly dirty: boolean;
};

/** A fake log with one fake segment; `onSync` runs when that segment's own sync() is called. */
export function fakeTarget(onSync: () => void = () => undefined): FakeTarget {
  const seg: Syncable = { dirty: false, sync: async () => onSync() };
  let landing: { p: Promise<void>; resolve: () => void } | null = null;
  return {
    whenLanded: () => landing?.p ?? null,
    takeDirty: () => (seg.dirty ? ((seg.dirty = false), [seg]) : []),
    write: () => void (seg.dirty = true),
    stall: () => {
      let resolve!: () => void;
      const p = new Promise<void>((r) => (resolve = r));
      landing = { p, resolve };
    },
    land: () => {
      landing?.resolve();
      landing = null;
    },
    get dirty() {
      return seg.dirty;
    },
  };
}

export interface PendingSync {
  s: Syncable;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * A CommitBatcher whose turns end on endTurn(), whose syncs wait in `pendingSyncs` until resolved or rejected,
 * and whose periodic timer fires on runTimer(). `options` adds to or overrides these (observer, clock...).
 */
export function batcherHarness(policy: FsyncPolicy, options: Partial<CommitBatcherOptions> = {}) {
  const turnEnds: (() => void)[] = [];
  const pendingSyncs: PendingSync[] = [];
  let timer: (() => void) | null = null;
  const b = new CommitBatcher({
    policy,
    schedule: (fn) => void turnEnds.push(fn),
    every: (_ms, fn) => {
      timer = fn;
      return () => (timer = null);
    },
    syncFn: (s) => new Promise<void>((resolve, reject) => void pendingSyncs.push({ s, resolve, reject })),
    warn: () => undefined,
    ...options,
  });
  const flush = async (turns = 1) => {
    for (let i = 0; i < turns; i++) await new Promise((r) => setImmediate(r));
  };
  return {
    b,
    pendingSyncs,
    endTurn: () => turnEnds.splice(0).forEach((f) => f()),
    flush,
    /** Lets every sync asked for so far run (the fake segment's sync()) and succeed. */
    completeSyncs: async () => {
      await flush(5);
      for (const p of pendingSyncs.splice(0)) {
        await p.s.sync();
        p.resolve();
      }
      await flush(5);
    },
    hasTimer: () => timer !== null,
    runTimer: () => timer?.(),
  };
}
