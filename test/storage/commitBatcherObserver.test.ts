// The commit batcher's operations hooks (CommitObserver): appends per batch, segments per sync round, and the
// duration of each segment's sync, on an injected clock with manual turns and syncs (no sleeping).
import { describe, expect, it } from 'vitest';
import type { CommitObserver, FsyncPolicy } from '../../src/storage/commitBatcher';
import { batcherHarness, fakeTarget } from './batcherHarness';

/** The shared harness on an injected clock, with an observer recording what it is told. */
function harness(policy: FsyncPolicy) {
  let clock = 0; // ms, advanced by the test
  const seen = { batches: [] as number[], rounds: [] as number[], fsyncs: [] as number[] };
  const observer: CommitObserver = {
    batch: (n) => void seen.batches.push(n),
    syncRound: (n) => void seen.rounds.push(n),
    fsync: (s) => void seen.fsyncs.push(s),
  };
  const h = batcherHarness(policy, { hrNow: () => clock, observer });
  return { ...h, seen, pending: h.pendingSyncs, advance: (ms: number) => void (clock += ms) };
}

describe('CommitBatcher observer', () => {
  it('always: reports appends per batch, segments per commit and each fdatasync duration', async () => {
    const h = harness('always');
    const a = fakeTarget();
    const c = fakeTarget();
    for (let i = 0; i < 3; i++) {
      a.write();
      h.b.touch(a, true);
    }
    c.write();
    const ticket = h.b.touch(c, true);
    h.endTurn();
    expect(h.seen.batches).toEqual([4]); // four appends joined the batch
    await h.flush();
    expect(h.seen.rounds).toEqual([2]); // two segments synced together
    expect(h.pending.length).toBe(2);
    h.advance(0.25);
    h.pending[0].resolve();
    await h.flush();
    h.advance(0.5);
    h.pending[1].resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(ticket);
    expect(h.seen.fsyncs).toEqual([0.00025, 0.00075]); // seconds, per segment, from the round's start

    // the next batch counts from zero
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    expect(h.seen.batches).toEqual([4, 1]);
  });

  it('failed syncs and their retry are timed too', async () => {
    const h = harness('always');
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    await h.flush();
    h.advance(2);
    h.pending[0].reject(Object.assign(new Error('EIO'), { code: 'EIO' }));
    await h.flush();
    expect(h.b.writable()).toBe(false);
    expect(h.seen.fsyncs).toEqual([0.002]);
    const retry = h.b.retry();
    await h.flush();
    h.advance(1);
    h.pending[1].resolve();
    expect(await retry).toBe(true);
    expect(h.seen.rounds).toEqual([1, 1]);
    expect(h.seen.fsyncs).toEqual([0.002, 0.001]);
  });

  it('everysec: landed appends open no batch; the periodic sync is a timed round', async () => {
    const h = harness('everysec');
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    expect(h.seen.batches).toEqual([]);
    const done = h.b.syncPeriodic();
    expect(h.seen.rounds).toEqual([1]);
    h.advance(3);
    h.pending[0].resolve();
    await done;
    expect(h.seen.fsyncs).toEqual([0.003]);
  });

  it('an observer attached after construction takes effect; none costs nothing', async () => {
    const h = harness('always');
    h.b.observer = null;
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    await h.flush();
    h.pending[0].resolve();
    await h.flush();
    expect(h.seen).toEqual({ batches: [], rounds: [], fsyncs: [] });
    const batches: number[] = [];
    h.b.observer = { batch: (n) => void batches.push(n), syncRound: () => undefined, fsync: () => undefined };
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    expect(batches).toEqual([1]);
  });
});
