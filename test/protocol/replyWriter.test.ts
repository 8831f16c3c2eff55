// The reply writer's in-place number and byte writers against the plain String/Buffer results.
import { describe, expect, it } from 'vitest';
import { ReplyWriter } from '../../src/protocol/replyWriter';

function bulkText(s: string): string {
  return `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
}

describe('ReplyWriter', () => {
  it('writes stream IDs digit for digit as String() does, across digit counts and the 2^53 edge', () => {
    const parts = [0, 1, 9, 10, 99, 100, 9999, 10000, 99999999, 1e8, 1e8 + 1, 123456789012, 1733140000000, 9999999999999999, 2 ** 53 - 1];
    for (let i = 0; i < 2000; i++) parts.push(Math.floor(Math.random() * 2 ** 53));
    const w = new ReplyWriter(2);
    let expected = '';
    for (let i = 0; i < parts.length; i++) {
      const ms = parts[i];
      const seq = parts[(i * 7) % parts.length];
      w.streamIdOf(ms, seq);
      expected += bulkText(`${ms}-${seq}`);
    }
    w.streamId(2n ** 64n - 1n, 2n ** 53n); // beyond 2^53: the string path
    expected += bulkText(`${2n ** 64n - 1n}-${2n ** 53n}`);
    expect(w.take().toString('latin1')).toBe(expected);
  });

  it('copies bulk bytes of every length exactly (short runs by a loop, long ones by set)', () => {
    const source = Buffer.alloc(5000);
    for (let i = 0; i < source.length; i++) source[i] = (i * 31 + 7) & 0xff;
    const w = new ReplyWriter(2);
    const chunks: Buffer[] = [];
    for (const [start, end] of [[0, 0], [3, 4], [10, 26], [10, 27], [100, 200], [1, 4999], [0, 5000]]) {
      w.bulkFrom(source, start, end);
      const body = source.subarray(start, end);
      chunks.push(Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n'));
      w.raw(body);
      chunks.push(body);
      w.bulk(Buffer.from(body));
      chunks.push(Buffer.from(`$${body.length}\r\n`), body, Buffer.from('\r\n'));
    }
    expect(w.take().equals(Buffer.concat(chunks))).toBe(true);
  });
});
