// The body of an index snapshot (checkpoint.ts): a checkpoint and its entry index as columns; loading it into
// a new stream gives the same stream as the one it was taken from.
import { describe, expect, it } from 'vitest';
import { Stream } from '../../src/streams/stream';
import { decodeStreamSnapshot, encodeCheckpoint, encodeStreamSnapshot } from '../../src/streams/checkpoint';

const settings = { nodeMaxEntries: 7, nodeMaxBytes: 4096 };
const fv = (...x: string[]) => x.map((s) => Buffer.from(s));

describe('index snapshot body', () => {
  it('restores the index and the state of the stream it was taken from', () => {
    const s = new Stream('s', settings);
    for (let i = 0; i < 100; i++) s.append(fv('f', `v${i}`), null, 1000 + (i >> 2));
    s.delete({ ms: 1003n, seq: 1n });
    const checkpoint = encodeCheckpoint({ firstEntry: 0, stream: s.exportState(), settings: [] });
    const body = encodeStreamSnapshot(checkpoint, s.indexColumns()!);
    // at an odd offset, as a view of the file's bytes would be
    const decoded = decodeStreamSnapshot(Buffer.concat([Buffer.from([1]), body]).subarray(1));
    expect(decoded.index.ms.length).toBe(100);

    const copy = new Stream('s', settings);
    copy.restoreColumns(decoded.index);
    copy.importState(decoded.checkpoint.stream);
    expect(copy.length).toBe(99);
    expect(copy.exportState()).toEqual(s.exportState());
    expect(Array.from(copy.indexColumns()!.segment)).toEqual(Array.from(s.indexColumns()!.segment));
    expect(Array.from(copy.indexColumns()!.offset)).toEqual(Array.from(s.indexColumns()!.offset));
  });

  it('refuses a body whose index does not hold the entries its checkpoint counts', () => {
    const s = new Stream('s', settings);
    for (let i = 0; i < 10; i++) s.append(fv('f', 'v'), null, 1000);
    const checkpoint = encodeCheckpoint({ firstEntry: 0, stream: { ...s.exportState(), entries: 11 }, settings: [] });
    expect(() => decodeStreamSnapshot(encodeStreamSnapshot(checkpoint, s.indexColumns()!))).toThrow(/11/);
    expect(() => decodeStreamSnapshot(encodeStreamSnapshot(checkpoint, s.indexColumns()!).subarray(0, 40))).toThrow();
  });

  it('has no columns for a stream whose IDs reach 2^53 (not snapshotted)', () => {
    const s = new Stream('s', settings);
    s.append(fv('f', 'v'), { id: { ms: 2n ** 60n, seq: 0n }, seqGiven: true }, 0);
    expect(s.indexColumns()).toBeNull();
  });
});
