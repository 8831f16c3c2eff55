// The replication backlog's ring buffer: offsets, wrap-around, what a PSYNC offset can still get, resizing.
import { describe, expect, test } from 'vitest';
import { ReplicationBacklog } from '../../../src/server/replication/backlog';

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

describe('ReplicationBacklog', () => {
  test('keeps the last `size` bytes with their stream offsets, across wrap-around', () => {
    const b = new ReplicationBacklog(8, 100);
    b.append(bytes('abcde'));
    expect(b.offset).toBe(105);
    expect(b.firstByteOffset).toBe(101);
    expect(b.since(101)?.toString()).toBe('abcde');
    expect(b.since(104)?.toString()).toBe('de');
    expect(b.since(106)?.toString()).toBe(''); // up to date: nothing missing
    b.append(bytes('fghij'));
    expect(b.histlen).toBe(8);
    expect(b.firstByteOffset).toBe(103);
    expect(b.since(103)?.toString()).toBe('cdefghij');
    expect(b.since(102)).toBeNull(); // overwritten: a full resynchronization
    expect(b.since(111)?.toString()).toBe('');
    expect(b.since(112)).toBeNull(); // beyond what was produced
  });

  test('a write longer than the buffer keeps its tail', () => {
    const b = new ReplicationBacklog(4, 0);
    b.append(bytes('0123456789'));
    expect(b.offset).toBe(10);
    expect(b.since(7)?.toString()).toBe('6789');
    expect(b.since(6)).toBeNull();
  });

  test('resize keeps the newest bytes that fit and the offsets', () => {
    const b = new ReplicationBacklog(8, 0);
    b.append(bytes('abcdefgh'));
    b.resize(4);
    expect(b.offset).toBe(8);
    expect(b.since(5)?.toString()).toBe('efgh');
    b.resize(16);
    b.append(bytes('ij'));
    expect(b.since(5)?.toString()).toBe('efghij');
  });
});
