// lastNonZero (src/storage/recovery.ts) finds where a segment's data ends by comparing blocks against zeros,
// narrowing a non-zero block by smaller ones: every position, around every block size, in any range.
import { describe, expect, it } from 'vitest';
import { lastNonZero } from '../../src/storage/recovery';

describe('lastNonZero', () => {
  it('finds the last non-zero byte at every distance from the block boundaries', () => {
    const sizes = [1, 15, 16, 17, 255, 256, 257, 4095, 4096, 4097, 65535, 65536, 65537, 200_000];
    for (const n of sizes) {
      for (const len of [n + 1, n + 4097, 300_000]) {
        const b = Buffer.alloc(len);
        b[n] = 7;
        if (n > 3) b[3] = 1; // an earlier non-zero byte does not count
        expect(lastNonZero(b, 0, len)).toBe(n);
        expect(lastNonZero(b, 0, n)).toBe(n > 3 ? 3 : -1); // the range's end is exclusive
        expect(lastNonZero(b, n + 1, len)).toBe(-1);
      }
    }
  });

  it('is -1 for all zeros and for an empty range', () => {
    expect(lastNonZero(Buffer.alloc(150_000), 0, 150_000)).toBe(-1);
    expect(lastNonZero(Buffer.alloc(10), 5, 5)).toBe(-1);
  });
});
