// Runs an async job per item, at most `concurrency` at a time: start-up work over thousands of stream
// directories overlaps their thread-pool round trips without opening thousands of files at once.

export async function forEachBounded<T>(items: readonly T[], concurrency: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const k = next++;
      await job(items[k], k);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker));
}
