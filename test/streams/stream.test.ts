import { describe, expect, it } from 'vitest';
import { Stream, estimateDistanceFromFirstEverEntry, rangeHasTombstones } from '../../src/streams/stream';
import { EntryIndex } from '../../src/streams/entryIndex';
import { MemoryEntryStore } from '../../src/streams/entryStore';
import { intElementSize, lpStringToInt, raxNodeCount, stringElementSize } from '../../src/streams/nodeModel';
import { CommandError, Err } from '../../src/errors';
import { MAX_ID, MIN_ID, UINT64_MAX, formatId, parseStrictId, type StreamId } from '../../src/streams/streamId';

const settings = { nodeMaxEntries: 100, nodeMaxBytes: 4096 };
const id = (s: string) => parseStrictId(s);
const fv = (...x: string[]) => x.map((s) => Buffer.from(s));
const explicit = (s: string) => ({ id: id(s), seqGiven: true });
const seqStar = (ms: bigint) => ({ id: { ms, seq: 0n }, seqGiven: false });
/** Appends and returns the ID the entry got (last-generated-id). */
function added(s: Stream, fields: Buffer[], idArg: Parameters<Stream['append']>[1], now: number): StreamId {
  s.append(fields, idArg, now);
  return s.lastId;
}

function ids(s: Stream, start: StreamId = MIN_ID, end: StreamId = MAX_ID, count = 0, rev = false): string[] {
  const out: string[] = [];
  s.range(start, end, count, rev, (i) => out.push(formatId(i)));
  return out;
}

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof CommandError) return e.reply;
    throw e;
  }
  return 'no error';
}

describe('ID generation', () => {
  it('auto IDs follow the clock and never go backwards', () => {
    const s = new Stream('s', settings);
    expect(formatId(added(s, fv('f', 'v'), null, 1000))).toBe('1000-0');
    expect(formatId(added(s, fv('f', 'v'), null, 1000))).toBe('1000-1');
    expect(formatId(added(s, fv('f', 'v'), null, 999))).toBe('1000-2'); // clock went back
    expect(formatId(added(s, fv('f', 'v'), null, 1001))).toBe('1001-0');
  });

  it('sequence overflow moves to the next millisecond; the last possible ID exhausts the stream', () => {
    const s = new Stream('s', settings);
    s.append(fv('f', 'v'), explicit(`5-${UINT64_MAX}`), 0);
    expect(formatId(added(s, fv('f', 'v'), null, 1))).toBe('6-0');
    s.append(fv('f', 'v'), explicit(`${UINT64_MAX}-${UINT64_MAX - 1n}`), 0);
    expect(formatId(added(s, fv('f', 'v'), null, 1))).toBe(`${UINT64_MAX}-${UINT64_MAX}`);
    expect(errorOf(() => s.append(fv('f', 'v'), null, 1))).toBe(Err.xaddIdExhausted);
    expect(errorOf(() => s.append(fv('f', 'v'), explicit('1-1'), 1))).toBe(Err.xaddIdExhausted);
  });

  it('ms-* picks the next sequence, refuses an exhausted ms and a smaller ms', () => {
    const s = new Stream('s', settings);
    expect(formatId(added(s, fv('f', 'v'), seqStar(0n), 0))).toBe('0-1');
    expect(formatId(added(s, fv('f', 'v'), seqStar(5n), 0))).toBe('5-0');
    expect(formatId(added(s, fv('f', 'v'), seqStar(5n), 0))).toBe('5-1');
    expect(errorOf(() => s.append(fv('f', 'v'), seqStar(4n), 0))).toBe(Err.xaddIdTooSmall);
    s.append(fv('f', 'v'), explicit(`7-${UINT64_MAX}`), 0);
    expect(errorOf(() => s.append(fv('f', 'v'), seqStar(7n), 0))).toBe(Err.xaddIdTooSmall);
  });

  it('explicit IDs must grow', () => {
    const s = new Stream('s', settings);
    s.append(fv('f', 'v'), explicit('5-5'), 0);
    expect(errorOf(() => s.append(fv('f', 'v'), explicit('5-5'), 0))).toBe(Err.xaddIdTooSmall);
    expect(errorOf(() => s.append(fv('f', 'v'), explicit('5-4'), 0))).toBe(Err.xaddIdTooSmall);
    expect(s.length).toBe(1);
    expect(s.entriesAdded).toBe(1n);
  });
});

describe('reading', () => {
  const s = new Stream('s', settings);
  for (let i = 1; i <= 10; i++) s.append(fv('f', String(i), 'g', 'x'.repeat(i)), explicit(`${i}-0`), 0);

  it('ranges, counts, reverse, and zero-copy field views', () => {
    expect(ids(s)).toHaveLength(10);
    expect(ids(s, id('3'), id('5-0'))).toEqual(['3-0', '4-0', '5-0']);
    expect(ids(s, id('3'), id('9'), 2)).toEqual(['3-0', '4-0']);
    expect(ids(s, id('3'), id('9'), 2, true)).toEqual(['9-0', '8-0']);
    expect(ids(s, id('9'), id('3'))).toEqual([]);
    expect(ids(s, id('4-1'), id('4-2'))).toEqual([]);
    expect(s.getEntry(id('4-0'))!.map(String)).toEqual(['f', '4', 'g', 'xxxx']);
    expect(s.getEntry(id('4-1'))).toBeNull();
    expect(s.firstEntry()!.id).toEqual(id('1-0'));
    expect(s.lastEntry()!.id).toEqual(id('10-0'));
  });

  it('skips deleted entries and keeps counters as Redis', () => {
    const t = new Stream('t', settings);
    for (let i = 1; i <= 5; i++) t.append(fv('f', 'v'), explicit(`${i}-0`), 0);
    expect(t.delete(id('1-0'))).toBe(true);
    expect(t.delete(id('1-0'))).toBe(false);
    expect(t.delete(id('5-0'))).toBe(true);
    expect(t.delete(id('9-0'))).toBe(false);
    expect(ids(t)).toEqual(['2-0', '3-0', '4-0']);
    expect(ids(t, MIN_ID, MAX_ID, 0, true)).toEqual(['4-0', '3-0', '2-0']);
    expect(formatId(t.recordedFirstId)).toBe('2-0');
    expect(formatId(t.maxDeletedId)).toBe('5-0');
    expect(formatId(t.lastId)).toBe('5-0');
    expect(formatId(t.lastValidId()!)).toBe('4-0');
    expect(t.hasEntry(id('5-0'))).toBe(false);
    expect(t.length).toBe(3);
    expect(rangeHasTombstones(t, id('3-0'), null)).toBe(true);
    expect(estimateDistanceFromFirstEverEntry(t, id('5-0'))).toBe(5n);
    expect(estimateDistanceFromFirstEverEntry(t, id('3-0'))).toBeNull();
    expect(estimateDistanceFromFirstEverEntry(t, id('6-0'))).toBeNull();
  });
});

describe('trimming', () => {
  function filled(n: number, nodeMaxEntries = 10): Stream {
    const s = new Stream('s', { nodeMaxEntries, nodeMaxBytes: 0 });
    for (let i = 1; i <= n; i++) s.append(fv('f', 'v'), explicit(`${i}-0`), 0);
    return s;
  }

  it('MAXLEN = removes exactly; ~ only whole nodes', () => {
    const s = filled(95);
    expect(s.nodeCount).toBe(10);
    expect(s.trim({ strategy: 'maxlen', maxLen: 50, approx: true, limit: 0 })).toBe(40);
    expect(s.length).toBe(55);
    expect(s.trim({ strategy: 'maxlen', maxLen: 50, approx: false, limit: 0 })).toBe(5);
    expect(ids(s, MIN_ID, MAX_ID, 1)).toEqual(['46-0']);
    expect(s.nodeCount).toBe(6); // the flagged entries stay in their node
    expect(formatId(s.recordedFirstId)).toBe('46-0');
    expect(formatId(s.maxDeletedId)).toBe('0-0'); // trimming is not deletion
  });

  it('LIMIT stops before a node that would exceed it', () => {
    const s = filled(100);
    expect(s.trim({ strategy: 'maxlen', maxLen: 0, approx: true, limit: 25 })).toBe(20);
    expect(s.trim({ strategy: 'maxlen', maxLen: 0, approx: true, limit: 9 })).toBe(0);
  });

  it('MINID removes nodes whose last entry is below the ID, exact flags the rest', () => {
    const s = filled(30);
    expect(s.trim({ strategy: 'minid', minId: id('15-0'), approx: true, limit: 0 })).toBe(10);
    expect(s.trim({ strategy: 'minid', minId: id('15-0'), approx: false, limit: 0 })).toBe(4);
    expect(ids(s, MIN_ID, MAX_ID, 1)).toEqual(['15-0']);
    expect(s.trim({ strategy: 'minid', minId: id('100-0'), approx: false, limit: 0 })).toBe(16);
    expect(s.length).toBe(0);
    expect(s.nodeCount).toBe(0);
    expect(formatId(s.recordedFirstId)).toBe('0-0');
    // New entries after a full trim.
    s.append(fv('f', 'v'), null, 5);
    expect(ids(s)).toEqual(['30-1']);
  });

  it('a node emptied by XDEL disappears; the previous node becomes the tail again', () => {
    const s = filled(15);
    expect(s.nodeCount).toBe(2);
    for (let i = 11; i <= 15; i++) s.delete(id(`${i}-0`));
    expect(s.nodeCount).toBe(1);
    s.append(fv('f', 'v'), explicit('20-0'), 0);
    // The first node holds 10 entries: node-max-entries 10 opens a new one.
    expect(s.nodeCount).toBe(2);
    expect(ids(s).slice(-2)).toEqual(['10-0', '20-0']);
  });
});

describe('XSETID', () => {
  it('validates against the top entry and the length', () => {
    const s = new Stream('s', settings);
    s.append(fv('f', 'v'), explicit('5-0'), 0);
    expect(errorOf(() => s.setId(id('4-0')))).toBe(Err.xsetidTooSmall);
    expect(errorOf(() => s.setId(id('6-0'), 0n))).toBe(Err.xsetidEntriesAddedSmall);
    s.setId(id('6-0'), 10n, id('3-0'));
    expect(formatId(s.lastId)).toBe('6-0');
    expect(s.entriesAdded).toBe(10n);
    expect(formatId(s.maxDeletedId)).toBe('3-0');
    s.setId(id('7-0'), undefined, MIN_ID); // a zero max-deleted ID leaves it
    expect(formatId(s.maxDeletedId)).toBe('3-0');
    s.delete(id('5-0'));
    s.setId(id('1-0')); // empty: no top-item check
    expect(formatId(s.lastId)).toBe('1-0');
  });
});

describe('storage pieces', () => {
  it('entry index grows, drops heads and compacts, keeping absolute positions', () => {
    const ix = new EntryIndex();
    for (let i = 0; i < 5000; i++) ix.append(BigInt(i), 0n, 0, i);
    ix.dropBefore(3000);
    expect(ix.start).toBe(3000);
    for (let i = 5000; i < 9000; i++) ix.append(BigInt(i), 0n, 0, i);
    expect(ix.end).toBe(9000);
    expect(ix.offset(8000)).toBe(8000);
    expect(ix.find(4000n, 0n)).toBe(4000);
    expect(ix.find(10n, 0n)).toBe(-1);
    expect(ix.lowerBound(4000n, 1n)).toBe(4001);
    expect(ix.upperBound(4000n, 0n)).toBe(4001);
  });

  it('entry index keeps exact IDs after a part reaches 2^53: Number columns until then, 64-bit columns after', () => {
    const ix = new EntryIndex();
    for (let i = 0; i < 100; i++) ix.appendSafe(1700000000000 + i, i, 0, i);
    expect(ix.msNumber(50)).toBe(1700000000050);
    expect(ix.find(1700000000050n, 50n)).toBe(50);
    expect(ix.lowerBound(2n ** 60n, 0n)).toBe(100); // a bound beyond 2^53 is above every Number-held ID
    expect(ix.upperBound(1700000000099n, 2n ** 60n)).toBe(100);
    expect(ix.lowerBound(1700000000010n, 2n ** 60n)).toBe(11);
    const big = 2n ** 53n + 1n; // not a double: the switch must keep it exact
    ix.append(big, UINT64_MAX, 0, 100);
    expect(ix.ms(100)).toBe(big);
    expect(ix.seq(100)).toBe(UINT64_MAX);
    expect(ix.msNumber(100)).toBe(-1);
    expect(ix.msNumber(50)).toBe(1700000000050);
    expect(ix.seq(50)).toBe(50n);
    expect(ix.find(big, UINT64_MAX)).toBe(100);
    expect(ix.find(big, UINT64_MAX - 1n)).toBe(-1);
    for (let i = 0; i < 200; i++) ix.append(big + 1n, BigInt(i), 0, 101 + i); // grows in exact mode
    expect(ix.find(big + 1n, 150n)).toBe(251);
    expect(ix.seqNumber(251)).toBe(150);
    ix.dropBefore(90);
    expect(ix.find(1700000000095n, 95n)).toBe(95);
  });

  it('entry store returns views and releases whole chunks behind the first entry', () => {
    const store = new MemoryEntryStore();
    const locs: [number, number][] = [];
    for (let i = 0; i < 2000; i++) {
      store.append(0n, 0n, fv('field', 'v'.repeat(100)));
      locs.push([store.lastSegment, store.lastOffset]);
    }
    const segs = new Set(locs.map((l) => l[0]));
    expect(segs.size).toBeGreaterThan(2);
    const before = store.bytes;
    store.releaseBefore(locs[1500][0]);
    expect(store.bytes).toBeLessThan(before);
    const got = store.read(...locs[1999]);
    expect(got[0].toString()).toBe('field');
    expect(got[1].length).toBe(100);
  });

  it('trimming releases chunks of a long stream', () => {
    const s = new Stream('s', settings);
    for (let i = 1; i <= 20000; i++) s.append(fv('f', 'x'.repeat(50)), explicit(`${i}-0`), 0);
    const before = s.dataBytes;
    s.trim({ strategy: 'maxlen', maxLen: 100, approx: true, limit: 0 });
    // Every chunk but the one being appended to (the tail entries live there) is released.
    expect(s.dataBytes).toBeLessThan(before * 0.6);
    expect(ids(s, MIN_ID, MAX_ID, 1)).toEqual([s.firstEntry()!.id].map(formatId));
    expect(s.getEntry(id('20000-0'))!.map(String)).toEqual(['f', 'x'.repeat(50)]);
  });

  it('listpack element sizes', () => {
    expect(lpStringToInt(Buffer.from('-0'))).toBeNull();
    expect(lpStringToInt(Buffer.from('007'))).toBeNull();
    expect(lpStringToInt(Buffer.from('-9223372036854775808'))).toBe(-9223372036854775808n);
    expect(lpStringToInt(Buffer.from('9223372036854775808'))).toBeNull();
    expect(stringElementSize(Buffer.from('127'))).toBe(2);
    expect(stringElementSize(Buffer.from('128'))).toBe(3);
    expect(stringElementSize(Buffer.from('abc'))).toBe(5);
    expect(stringElementSize(Buffer.alloc(63))).toBe(65);
    expect(stringElementSize(Buffer.alloc(64))).toBe(67);
    expect(stringElementSize(Buffer.alloc(200))).toBe(204);
    expect(intElementSize(-4096)).toBe(3);
    expect(intElementSize(2147483648)).toBe(10);
  });

  it('rax node counts', () => {
    const k = (...b: number[]) => Uint8Array.from(b);
    expect(raxNodeCount([])).toBe(1);
    expect(raxNodeCount([k(1, 2, 3)])).toBe(2);
    expect(raxNodeCount([k(1, 2, 3), k(1, 2, 4)])).toBe(4);
    expect(raxNodeCount([k(1, 2, 3), k(1, 3, 4)])).toBe(6);
  });
});
