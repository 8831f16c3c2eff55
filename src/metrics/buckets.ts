// The bucket bounds of Spool's histograms, and Buckets: a histogram filled on the hot path (per command, per held
// reply) without allocating: a fixed array of counts, a sum and a count. prom-client's own observe() costs about half a microsecond and allocates (a labels
// object and a hash string per call), too much once per command at several hundred thousand commands a second;
// these are read into prom-client Histograms at scrape time instead (registry.ts, loadHistogram).
//
// No prom-client here: the server layer holds these through its TimingObserver interface.

/** fdatasync latency: 50 µs (a fast NVMe) to 5 s (a disk in trouble; Redis warns from 2 s). */
export const FSYNC_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
] as const;

/** Replies held for their durability ticket: one commit (an fsync and a turn or two) up to a stalled disk. */
export const DURABILITY_WAIT_SECONDS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
] as const;

/** Command execution time (the handler, not the wait for durability): most run in microseconds. */
export const COMMAND_SECONDS = [
  0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
  0.25, 1,
] as const;

/** Appends per group-commit batch: 1 (one unpipelined client) to thousands (many clients pipelining). */
export const BATCH_RECORDS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384] as const;

/** Segments synced per sync round (one per stream written since the last one, or two across a roll-over). */
export const SYNC_SEGMENTS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024] as const;

export class Buckets {
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records `n` observations of `value` (a linear scan: small values, the usual ones, stop early). */
  observe(value: number, n: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i] += n;
    this.sum += value * n;
    this.count += n;
  }
}
