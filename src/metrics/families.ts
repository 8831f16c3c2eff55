// Metric families whose values are read at scrape time: prom-client Gauges and Counters with a collect()
// callback that loads what the server keeps anyway (statistics, streams, storage counters), so nothing is
// recorded between scrapes and an unscraped server pays nothing for them.

import { Counter, Gauge, type Registry } from 'prom-client';

/** Sets one series of the family being collected. */
export type SetSample = (labels: Record<string, string>, value: number) => void;

/** A gauge without labels, or one that manages its own series (`collect` gets the Gauge). */
export function gauge(registry: Registry, name: string, help: string, collect: (g: Gauge) => void | Promise<void>): Gauge {
  return new Gauge({ name, help, registers: [registry], collect() { return collect(this); } });
}

/**
 * A labelled gauge whose series are all set afresh at every scrape: a series `collect` does not set this time
 * (a deleted stream, a stream beyond the cardinality cap) disappears from the exposition.
 */
export function labelledGauge(registry: Registry, name: string, help: string, labelNames: string[], collect: (set: SetSample) => void): Gauge {
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      collect((labels, v) => this.set(labels, v));
    },
  });
}

/** A counter whose values are running totals kept elsewhere (negative values, never expected, read as 0). */
export function counter(registry: Registry, name: string, help: string, collect: (set: SetSample) => void, labelNames: string[] = []): Counter {
  return new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      this.reset();
      collect((labels, v) => this.inc(labels, Math.max(0, v)));
    },
  });
}

/**
 * A counter derived from a sum that may go down (a stream deleted, XSETID): exposed as monotonic so that
 * rate() never sees a false reset; decreases are absorbed (what was added meanwhile is undercounted once).
 */
export class Monotonic {
  private last = 0;
  total = 0;
  update(sum: number): number {
    if (sum > this.last) this.total += sum - this.last;
    this.last = sum;
    return this.total;
  }
}
