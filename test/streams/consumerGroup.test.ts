import { describe, it, expect } from 'vitest';
import {
  ConsumerGroup,
  IdTable,
  INVALID_ENTRIES_READ,
  type GroupStreamFacts,
} from '../../src/streams/consumerGroup';
import { formatId, type StreamId } from '../../src/streams/streamId';

const id = (ms: bigint | number, seq: bigint | number = 0): StreamId => ({ ms: BigInt(ms), seq: BigInt(seq) });
const fmt = (ids: StreamId[]) => ids.map(formatId);

describe('IdTable', () => {
  it('keeps IDs sorted across chunk splits, in any insertion order', () => {
    const t = new IdTable(true);
    const ids: number[] = [];
    for (let i = 0; i < 1000; i++) ids.push((i * 7919) % 1000);
    for (const n of ids) expect(t.insert(id(n, n % 3), n, BigInt(n), n % 5)).toBe(true);
    expect(t.size).toBe(1000);
    const seen = t.ids();
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1].ms < seen[i].ms).toBe(true);
    expect(t.get(id(500, 2))).toEqual({ id: id(500, 2), deliveryTime: 500, deliveryCount: 500n, owner: 0 });
    expect(t.insert(id(500, 2))).toBe(false);
    expect(t.get(id(500, 0))).toBeNull();
  });

  it('orders by the full 128-bit key, including values beyond 2^53 and 2^32', () => {
    const t = new IdTable(false);
    const max = 18446744073709551615n;
    const keys = [id(max, max), id(max, 0), id(2n ** 32n, 1), id(2n ** 32n - 1n, max), id(0, 0), id(1, 2n ** 40n)];
    for (const k of keys) t.insert(k);
    expect(fmt(t.ids())).toEqual([
      '0-0',
      `1-${2n ** 40n}`,
      `${2n ** 32n - 1n}-${max}`,
      `${2n ** 32n}-1`,
      `${max}-0`,
      `${max}-${max}`,
    ]);
    expect(formatId(t.first()!)).toBe('0-0');
    expect(formatId(t.last()!)).toBe(`${max}-${max}`);
  });

  it('removes, finds ceilings and walks bounded ranges', () => {
    const t = new IdTable(true);
    for (let i = 0; i < 600; i++) t.insert(id(i), i, 1n, 0);
    for (let i = 0; i < 600; i += 2) expect(t.remove(id(i))).toBe(true);
    expect(t.remove(id(0))).toBe(false);
    expect(t.size).toBe(300);
    expect(formatId(t.ceiling(id(100))!)).toBe('101-0');
    expect(formatId(t.ceiling(id(101))!)).toBe('101-0');
    expect(t.ceiling(id(600))).toBeNull();
    const walked: string[] = [];
    t.forEach(id(10), id(20), (e) => {
      walked.push(formatId(e.id));
    });
    expect(walked).toEqual(['11-0', '13-0', '15-0', '17-0', '19-0']);
    const limited: string[] = [];
    t.forEach(null, null, (e) => (limited.push(formatId(e.id)), limited.length < 3));
    expect(limited).toEqual(['1-0', '3-0', '5-0']);
    for (let i = 1; i < 600; i += 2) t.remove(id(i));
    expect(t.size).toBe(0);
    expect(t.first()).toBeNull();
    expect(t.insert(id(5))).toBe(true);
    expect(fmt(t.ids())).toEqual(['5-0']);
  });

  it('updates the payload in place', () => {
    const t = new IdTable(true);
    t.insert(id(1), 10, 1n, 3);
    expect(t.update(id(1), { deliveryCount: 9n, owner: 4 })).toBe(true);
    expect(t.get(id(1))).toEqual({ id: id(1), deliveryTime: 10, deliveryCount: 9n, owner: 4 });
    expect(t.update(id(2), { deliveryCount: 1n })).toBe(false);
  });
});

function facts(over: Partial<GroupStreamFacts> = {}): GroupStreamFacts {
  return {
    entriesAdded: 10n,
    length: 10,
    hasTombstonesFrom: () => false,
    estimateDistance: () => null,
    ...over,
  };
}

describe('ConsumerGroup', () => {
  it('delivers into the group PEL and the consumer PEL, and acks from both', () => {
    const g = new ConsumerGroup('g', id(0));
    const a = g.consumer('alice', 100);
    g.deliver(id(1), a, 100);
    g.deliver(id(2), a, 101);
    expect(g.pel.size).toBe(2);
    expect(fmt(a.pel.ids())).toEqual(['1-0', '2-0']);
    expect(g.ack(id(1))).toBe(true);
    expect(g.ack(id(1))).toBe(false);
    expect(fmt(a.pel.ids())).toEqual(['2-0']);
    expect(g.pel.size).toBe(1);
  });

  it('moves a pending entry delivered again to another consumer and restarts its count', () => {
    const g = new ConsumerGroup('g', id(0));
    const a = g.consumer('a', 1);
    const b = g.consumer('b', 1);
    g.deliver(id(5), a, 10);
    g.redeliver(id(5), 20);
    expect(g.pel.get(id(5))!.deliveryCount).toBe(2n);
    g.deliver(id(5), b, 30);
    expect(a.pel.size).toBe(0);
    expect(fmt(b.pel.ids())).toEqual(['5-0']);
    expect(g.pel.get(id(5))).toMatchObject({ deliveryTime: 30, deliveryCount: 1n, owner: b.slot });
  });

  it('creates consumers once, refreshes seen-time on lookup, deletes with their PEL', () => {
    const g = new ConsumerGroup('g', id(0));
    expect(g.createConsumer('x', 5)).not.toBeNull();
    expect(g.createConsumer('x', 6)).toBeNull();
    expect(g.consumer('x', 7).seenTime).toBe(7);
    const x = g.lookupConsumer('x')!;
    g.deliver(id(1), x, 7);
    g.deliver(id(2), x, 7);
    const y = g.consumer('y', 8);
    g.deliver(id(3), y, 8);
    expect(g.deleteConsumer('x')).toBe(2);
    expect(g.deleteConsumer('x')).toBeNull();
    expect(fmt(g.pel.ids())).toEqual(['3-0']);
    // The freed slot is reused without confusing owners.
    const z = g.consumer('z', 9);
    expect(z.slot).toBe(x.slot);
    expect(g.ownerOf(g.pel.get(id(3))!.owner)!.name).toBe('y');
  });

  it('lists consumers in byte order', () => {
    const g = new ConsumerGroup('g', id(0));
    for (const n of ['b', 'ab', 'a', '\xff', 'B']) g.consumer(n, 0);
    expect(g.sortedConsumers().map((c) => c.name)).toEqual(['B', 'a', 'ab', 'b', '\xff']);
  });

  it('claims: idle filter, retry count, JUSTID, FORCE and deleted entries', () => {
    const g = new ConsumerGroup('g', id(0));
    const a = g.consumer('a', 0);
    g.deliver(id(1), a, 1000);
    g.deliver(id(2), a, 1000);
    let created = 0;
    const getB = () => (created++, g.consumer('b', 1500));
    const base = { force: false, now: 1500, deliveryTime: 1500, retryCount: -1n, justId: false };
    // Not idle long enough: the consumer is not even created.
    expect(g.claim(id(1), { ...base, exists: true, minIdle: 1000, getConsumer: getB })).toBe('skipped');
    expect(created).toBe(0);
    expect(g.claim(id(1), { ...base, exists: true, minIdle: 500, getConsumer: getB })).toBe('claimed');
    expect(g.pel.get(id(1))).toMatchObject({ deliveryTime: 1500, deliveryCount: 2n });
    expect(g.claim(id(1), { ...base, exists: true, minIdle: 0, justId: true, getConsumer: getB })).toBe('claimed');
    expect(g.pel.get(id(1))!.deliveryCount).toBe(2n);
    expect(g.claim(id(1), { ...base, exists: true, minIdle: 0, retryCount: 7n, getConsumer: getB })).toBe('claimed');
    expect(g.pel.get(id(1))!.deliveryCount).toBe(7n);
    expect(fmt(g.lookupConsumer('b')!.pel.ids())).toEqual(['1-0']);
    expect(fmt(a.pel.ids())).toEqual(['2-0']);
    // Entry gone from the stream: the NACK is dropped.
    expect(g.claim(id(2), { ...base, exists: false, minIdle: 0, getConsumer: getB })).toBe('deleted');
    expect(a.pel.size).toBe(0);
    expect(g.pel.has(id(2))).toBe(false);
    // Not pending: skipped unless FORCE, which creates it (count 1, then incremented as a claim).
    expect(g.claim(id(3), { ...base, exists: true, minIdle: 99999, getConsumer: getB })).toBe('skipped');
    expect(g.claim(id(3), { ...base, exists: true, force: true, minIdle: 99999, getConsumer: getB })).toBe('claimed');
    expect(g.pel.get(id(3))!.deliveryCount).toBe(2n);
  });

  it('advances last_id and the read counter like streamReplyWithRange', () => {
    const g = new ConsumerGroup('g', id(0), 0n);
    g.advance(id(1), facts());
    expect(g.entriesRead).toBe(1n);
    expect(formatId(g.lastId)).toBe('1-0');
    // Not past last_id: nothing changes.
    g.advance(id(1), facts());
    expect(g.entriesRead).toBe(1n);
    // Tombstones ahead: the counter is re-estimated (here unknown).
    g.advance(id(2), facts({ hasTombstonesFrom: () => true }));
    expect(g.entriesRead).toBe(INVALID_ENTRIES_READ);
    g.advance(id(3), facts({ estimateDistance: () => 10n }));
    expect(g.entriesRead).toBe(10n);
  });

  it('computes lag as 7.0 does', () => {
    const g = new ConsumerGroup('g', id(3), 3n);
    expect(g.lag(facts({ entriesAdded: 0n }))).toBe(0n);
    expect(g.lag(facts())).toBe(7n);
    // 7.0 has no "empty stream" shortcut: a valid counter still gives added - read.
    expect(g.lag(facts({ length: 0 }))).toBe(7n);
    expect(g.lag(facts({ hasTombstonesFrom: () => true }))).toBeNull();
    expect(g.lag(facts({ hasTombstonesFrom: () => true, estimateDistance: () => 4n }))).toBe(6n);
    const unknown = new ConsumerGroup('u', id(0));
    expect(unknown.lag(facts({ estimateDistance: () => 0n }))).toBe(10n);
  });
});
