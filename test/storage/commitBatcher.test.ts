import { describe, expect, it } from 'vitest';
import type { FsyncPolicy } from '../../src/storage/commitBatcher';
import { batcherHarness, fakeTarget } from './batcherHarness';

/** Manual scheduler and controllable syncs: no sleeping. */
const harness = (policy: FsyncPolicy) => batcherHarness(policy);

describe('CommitBatcher', () => {
  it('always: one batch per turn, synced in parallel, durable in order; the next batch fills meanwhile', async () => {
    const h = harness('always');
    const j: string[] = [];
    const a = fakeTarget(() => j.push('sync a'));
    const c = fakeTarget(() => j.push('sync c'));
    a.write();
    const t1 = h.b.touch(a, true);
    c.write();
    expect(h.b.touch(c, true)).toBe(t1); // same turn, same batch
    expect(h.b.durableTicket()).toBe(0);
    h.endTurn();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(2); // both segments synced together
    // while batch 1 syncs, batch 2 fills and closes
    a.write();
    const t2 = h.b.touch(a, true);
    expect(t2).toBe(t1 + 1);
    h.endTurn();
    await h.flush();
    // Commits overlap (their syncs share the device), but tickets advance in order.
    expect(h.pendingSyncs.length).toBe(3); // batch 2's sync started while batch 1's is in flight
    const order: number[] = [];
    void h.b.whenDurable(t2).then(() => order.push(t2));
    void h.b.whenDurable(t1).then(() => order.push(t1));
    h.pendingSyncs[2].resolve(); // batch 2 first: it must wait for batch 1
    await h.flush();
    expect(h.b.durableTicket()).toBe(0);
    h.pendingSyncs[0].resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(0); // batch 1 needs both syncs
    h.pendingSyncs[1].resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(t2);
    expect(order).toEqual([t1, t2]);
  });

  it('always: a staged batch is synced only after it landed', async () => {
    const h = harness('always');
    const a = fakeTarget();
    a.stall();
    a.write();
    const t = h.b.touch(a, false);
    h.endTurn();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(0);
    a.land();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(1);
    h.pendingSyncs[0].resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(t);
  });

  it('everysec: tickets of landed appends are released at once; dirty segments synced by the periodic timer', async () => {
    const h = harness('everysec');
    const a = fakeTarget();
    a.write();
    const t = h.b.touch(a, true);
    expect(t).toBeLessThanOrEqual(h.b.durableTicket());
    h.endTurn();
    expect(h.pendingSyncs.length).toBe(0);
    h.runTimer();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(1);
    h.pendingSyncs[0].resolve();
    await h.flush();
    // a staged append is held until it lands
    a.stall();
    const t2 = h.b.touch(a, false);
    expect(t2).toBeGreaterThan(h.b.durableTicket());
    h.endTurn();
    await h.flush();
    expect(h.b.durableTicket()).toBeLessThan(t2);
    a.land();
    await h.flush();
    expect(h.b.durableTicket()).toBe(t2);
  });

  it('no: never syncs', async () => {
    const h = harness('no');
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.endTurn();
    h.runTimer();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(0);
  });

  it('a failed sync is sticky until a retry succeeds; replies stay held meanwhile', async () => {
    const h = harness('always');
    const a = fakeTarget();
    a.write();
    const t = h.b.touch(a, true);
    h.endTurn();
    await h.flush();
    h.pendingSyncs[0].reject(Object.assign(new Error('No space left on device'), { code: 'ENOSPC' }));
    await h.flush();
    expect(h.b.writable()).toBe(false);
    expect(h.b.writeError?.code).toBe('ENOSPC');
    expect(h.b.durableTicket()).toBeLessThan(t);
    const retry = h.b.retry();
    await h.flush();
    h.pendingSyncs[1].resolve();
    expect(await retry).toBe(true);
    await h.flush();
    expect(h.b.writable()).toBe(true);
    await h.flush();
    h.pendingSyncs[2]?.resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(t);
  });

  it('policy can change at run time', async () => {
    const h = harness('everysec');
    const a = fakeTarget();
    a.write();
    h.b.touch(a, true);
    h.b.setPolicy('always');
    a.write();
    const t = h.b.touch(a, true);
    expect(t).toBeGreaterThan(h.b.durableTicket());
    h.endTurn();
    await h.flush();
    expect(h.pendingSyncs.length).toBe(1);
    h.pendingSyncs[0].resolve();
    await h.flush();
    expect(h.b.durableTicket()).toBe(t);
  });
});
