// Per-stream appendfsync in the commit batcher (XCFGSET appendfsync): a target's own policy overrides the
// server's for its tickets and syncs. Manual scheduler and controllable syncs, as commitBatcher.test.ts.
import { describe, expect, it } from 'vitest';
import type { FsyncPolicy } from '../../src/storage/commitBatcher';
import { batcherHarness, fakeTarget } from './batcherHarness';

function harness(policy: FsyncPolicy) {
  const synced: string[] = [];
  const h = batcherHarness(policy);
  /** A fake stream log whose segment syncs are recorded under `name` in h.synced. */
  const target = (name: string) => fakeTarget(() => void synced.push(name));
  return { ...h, synced, target, flush: () => h.flush(5) };
}

describe('CommitBatcher per-target policy', () => {
  it('a stream under its own `always` holds its ticket until its segment is synced, under server everysec', async () => {
    const h = harness('everysec');
    const a = h.target('a');
    const other = h.target('other');
    h.b.setTargetPolicy(a, 'always');
    expect(h.b.policyFor(a)).toBe('always');
    expect(h.b.policyFor(other)).toBe('everysec');
    other.write();
    const tOther = h.b.touch(other, true);
    expect(tOther).toBeLessThanOrEqual(h.b.durableTicket()); // released at once
    a.write();
    const t = h.b.touch(a, true);
    expect(t).toBeGreaterThan(h.b.durableTicket());
    h.endTurn();
    await h.flush();
    expect(h.b.durableTicket()).toBeLessThan(t); // the sync is in flight
    await h.completeSyncs();
    expect(h.b.durableTicket()).toBe(t);
    expect(h.synced).toEqual(['a']); // only the always stream's segment; `other` waits for the periodic sync
    expect(other.dirty).toBe(true);
    h.runTimer();
    await h.completeSyncs();
    expect(h.synced).toEqual(['a', 'other']);
  });

  it('under server `no`, an own `always` still syncs (and nothing else does)', async () => {
    const h = harness('no');
    const a = h.target('a');
    h.b.setTargetPolicy(a, 'always');
    a.write();
    const t = h.b.touch(a, true);
    h.endTurn();
    await h.completeSyncs();
    expect(h.b.durableTicket()).toBe(t);
    expect(h.synced).toEqual(['a']);
  });

  it('under server `always`, an own everysec/no is released at once, even while always commits are in flight', async () => {
    const h = harness('always');
    const slow = h.target('slow');
    const e = h.target('e');
    const n = h.target('n');
    h.b.setTargetPolicy(e, 'everysec');
    h.b.setTargetPolicy(n, 'no');
    expect(h.hasTimer()).toBe(true); // the periodic sync runs for the everysec stream
    slow.write();
    const tSlow = h.b.touch(slow, true);
    h.endTurn(); // commit of `slow` in flight
    await h.flush();
    e.write();
    n.write();
    const durable = h.b.durableTicket();
    expect(h.b.touch(e, true)).toBe(durable);
    expect(h.b.touch(n, true)).toBe(durable);
    expect(durable).toBeLessThan(tSlow);
    await h.completeSyncs();
    expect(h.b.durableTicket()).toBe(tSlow);
    expect(h.synced).toEqual(['slow']);
    h.runTimer();
    await h.completeSyncs();
    expect(h.synced).toEqual(['slow', 'e']); // the `no` stream is never synced by Spool
    // tickets stay monotonic
    slow.write();
    expect(h.b.touch(slow, true)).toBeGreaterThan(tSlow);
  });

  it('an own everysec appended while unlanded still waits for its records to reach the map', async () => {
    const h = harness('always');
    const e = h.target('e');
    h.b.setTargetPolicy(e, 'everysec');
    const t = h.b.touch(e, false);
    expect(t).toBeGreaterThan(h.b.durableTicket());
    h.endTurn();
    await h.completeSyncs();
    expect(h.b.durableTicket()).toBe(t);
    expect(h.synced).toEqual([]);
  });

  it('switching a stream to `always` covers what it left unsynced; clearing the override follows the server', async () => {
    const h = harness('everysec');
    const a = h.target('a');
    a.write();
    h.b.touch(a, true); // everysec: waiting for the periodic sync
    h.b.setTargetPolicy(a, 'always');
    const b2 = h.target('b');
    b2.write();
    h.b.setTargetPolicy(b2, 'always');
    const t = h.b.touch(b2, true);
    h.endTurn();
    await h.completeSyncs();
    expect(h.b.durableTicket()).toBe(t);
    expect(h.synced.sort()).toEqual(['a', 'b']);
    h.b.setTargetPolicy(a, null);
    expect(h.b.policyFor(a)).toBe('everysec');
    expect(h.b.alwaysOverrides).toBe(1);
    h.b.setTargetPolicy(b2, null);
    expect(h.b.alwaysOverrides).toBe(0);
  });

  it('the periodic timer runs while the server or some stream is under everysec', () => {
    const h = harness('always');
    expect(h.hasTimer()).toBe(false);
    const e = h.target('e');
    h.b.setTargetPolicy(e, 'everysec');
    expect(h.hasTimer()).toBe(true);
    h.b.setTargetPolicy(e, 'no');
    expect(h.hasTimer()).toBe(false);
    h.b.setTargetPolicy(e, null);
    h.b.setPolicy('everysec');
    expect(h.hasTimer()).toBe(true);
  });
});
