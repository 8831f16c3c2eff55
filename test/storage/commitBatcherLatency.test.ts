// The commit batcher's latency hooks (CommitLatencyObserver, for LATENCY's aof-fsync-always and aof-write): a
// commit's fdatasync round and its wait for staged records, timed on an injected clock with manual turns and
// syncs (no sleeping).
import { describe, expect, it } from 'vitest';
import type { CommitLatencyObserver, FsyncPolicy } from '../../src/storage/commitBatcher';
import { batcherHarness, fakeTarget } from './batcherHarness';

function harness(policy: FsyncPolicy) {
  let clock = 0; // ms, advanced by the test
  const seen = { landed: [] as number[], synced: [] as number[] };
  const latency: CommitLatencyObserver = {
    landed: (ms) => void seen.landed.push(ms),
    synced: (ms) => void seen.synced.push(ms),
  };
  const h = batcherHarness(policy, { hrNow: () => clock });
  h.b.latency = latency;
  return { ...h, seen, advance: (ms: number) => void (clock += ms) };
}

describe('CommitBatcher latency hooks', () => {
  it('always: a commit reports its fdatasync round in ms; nothing for the landing when nothing was staged', async () => {
    const h = harness('always');
    const a = fakeTarget();
    const c = fakeTarget();
    a.write();
    h.b.touch(a, true);
    c.write();
    h.b.touch(c, true);
    h.endTurn();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(2);
    h.advance(7);
    h.pendingSyncs[0].resolve();
    h.advance(5);
    h.pendingSyncs[1].resolve();
    await h.flush(3);
    expect(h.seen.synced).toEqual([12]); // the round, not each segment
    expect(h.seen.landed).toEqual([]);
  });

  it('a commit waiting for staged records reports that wait', async () => {
    const h = harness('always');
    const a = fakeTarget();
    a.write();
    a.stall();
    h.b.touch(a, false);
    h.endTurn();
    await h.flush();
    h.advance(30);
    a.land();
    await h.flush();
    expect(h.seen.landed).toEqual([30]);
    h.advance(2);
    h.pendingSyncs[0].resolve();
    await h.flush(3);
    expect(h.seen.synced).toEqual([2]);
  });

  it('everysec: the periodic sync is not a commit (Redis records no event for its background fsync)', async () => {
    const h = harness('everysec');
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    const done = h.b.syncPeriodic();
    h.advance(50);
    h.pendingSyncs[0].resolve();
    await done;
    expect(h.seen).toEqual({ landed: [], synced: [] });
  });

  it('no observer: nothing timed', async () => {
    const h = harness('always');
    h.b.latency = null;
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    await h.flush();
    h.advance(9);
    h.pendingSyncs[0].resolve();
    await h.flush(3);
    expect(h.seen).toEqual({ landed: [], synced: [] });
    expect(h.b.durableTicket()).toBe(1);
  });
});
