// MEMORY USAGE's estimate of a stream's heap: it grows with the index (by capacity), with consumer groups, their
// consumers and PELs, and with the key; entry bytes (in the log, not the heap) do not count.
import { describe, expect, it } from 'vitest';
import { ConsumerGroup } from '../../src/streams/consumerGroup';
import { streamHeapBytes } from '../../src/streams/memoryUsage';
import { Stream } from '../../src/streams/stream';
import { MIN_ID } from '../../src/streams/streamId';

const settings = { nodeMaxEntries: 100, nodeMaxBytes: 4096 };
const fv = (value: string) => [Buffer.from('f'), Buffer.from(value)];

function streamOf(entries: number, value = 'v'): Stream {
  const s = new Stream('s', settings);
  for (let i = 1; i <= entries; i++) s.append(fv(value), { id: { ms: BigInt(i), seq: 0n }, seqGiven: true }, i);
  return s;
}

describe('streamHeapBytes', () => {
  it('grows with the index capacity, not with entry sizes', () => {
    const small = streamHeapBytes('s', streamOf(1));
    expect(small).toBeGreaterThan(0);
    expect(streamHeapBytes('s', streamOf(1, 'x'.repeat(10000)))).toBe(small); // entry bytes live in the log
    expect(streamHeapBytes('s', streamOf(1000))).toBeGreaterThan(small + 1000 * 20); // ~25 index bytes per entry
    expect(streamHeapBytes('a-longer-key', streamOf(1))).toBe(small + 'a-longer-key'.length - 1);
  });

  it('counts consumer groups, consumers and pending entries', () => {
    const s = streamOf(300);
    const bare = streamHeapBytes('s', s);
    const group = new ConsumerGroup('g', MIN_ID);
    s.groups.set('g', group);
    const withGroup = streamHeapBytes('s', s);
    expect(withGroup).toBeGreaterThan(bare);
    const consumer = group.consumer('alice', 0);
    const withConsumer = streamHeapBytes('s', s);
    expect(withConsumer).toBeGreaterThan(withGroup);
    for (let i = 1; i <= 300; i++) group.deliver({ ms: BigInt(i), seq: 0n }, consumer, 0);
    expect(streamHeapBytes('s', s)).toBeGreaterThan(withConsumer + 300 * 16);
  });
});
