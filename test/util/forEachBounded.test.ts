// forEachBounded (src/util/forEachBounded.ts): every item once, never more than `concurrency` jobs at a time.
import { describe, expect, it } from 'vitest';
import { forEachBounded } from '../../src/util/forEachBounded';

describe('forEachBounded', () => {
  it('runs every item once with at most `concurrency` jobs in flight', async () => {
    const items = Array.from({ length: 50 }, (_, i) => i);
    const seen: number[] = [];
    let running = 0;
    let peak = 0;
    await forEachBounded(items, 4, async (item, index) => {
      expect(index).toBe(item);
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      seen.push(item);
      running--;
    });
    expect(seen.sort((a, b) => a - b)).toEqual(items);
    expect(peak).toBe(4);
  });

  it('does nothing for no items and rejects with a job\'s error', async () => {
    await forEachBounded([], 8, async () => {
      throw new Error('never called');
    });
    await expect(forEachBounded([1, 2, 3], 2, async (n) => {
      if (n === 2) throw new Error('job 2 failed');
    })).rejects.toThrow('job 2 failed');
  });
});
