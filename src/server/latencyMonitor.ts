// The latency monitor (LATENCY LATEST / HISTORY / RESET), as Redis 7.0's latency.c: per event class, the last
// 160 samples at one per second (the worst of each second), and the worst ever. Events are recorded only when
// they took at least `latency-monitor-threshold` ms; with the threshold at 0 nothing is recorded, and the
// callers' cost is one comparison (thresholdMs is Infinity then).
//
// Events Spool records (Redis's names where Spool does the same thing):
// - `command`, `fast-command`: a command's run (a command with the `fast` flag: fast-command), as Redis's call().
// - `aof-fsync-always`: a commit's fdatasync round under appendfsync always (Redis: the fsync of the AOF).
// - `aof-write`: a commit waiting for staged records to be copied into their segment (Redis: the AOF write()).
// - `retention-cycle`: one pass of the retention timer over the bounded streams (Spool's own: retention is not
//   Redis's key expiry, so it does not borrow `expire-cycle`).

import type { CommitLatencyObserver } from '../storage/commitBatcher';

/** LATENCY_TS_LEN: samples kept per event. */
export const LATENCY_SAMPLES = 160;

/** One event class's samples: a ring of (second, ms), and the worst ever. */
class EventSeries {
  readonly times = new Float64Array(LATENCY_SAMPLES);
  readonly latencies = new Float64Array(LATENCY_SAMPLES);
  /** Where the next sample goes. */
  next = 0;
  max = 0;

  /** Samples oldest first (slots never written, time 0, are skipped as Redis does). */
  *samples(): Generator<[time: number, latency: number]> {
    for (let j = 0; j < LATENCY_SAMPLES; j++) {
      const i = (this.next + j) % LATENCY_SAMPLES;
      if (this.times[i] !== 0) yield [this.times[i], this.latencies[i]];
    }
  }

  get last(): number {
    return (this.next + LATENCY_SAMPLES - 1) % LATENCY_SAMPLES;
  }
}

export interface LatestSample {
  event: string;
  time: number;
  latency: number;
  max: number;
}

export class LatencyMonitor {
  /** The threshold in ms, or Infinity while monitoring is off: `ms >= thresholdMs` is the whole check. */
  thresholdMs = Infinity;
  private readonly events = new Map<string, EventSeries>();

  /** `nowMs`: the server's clock (samples are stamped with its second, as Redis's time(NULL)). */
  constructor(private readonly nowMs: () => number) {}

  /** latency-monitor-threshold: 0 turns monitoring off. */
  setThreshold(ms: number): void {
    this.thresholdMs = ms > 0 ? ms : Infinity;
  }

  get enabled(): boolean {
    return this.thresholdMs !== Infinity;
  }

  /** latencyAddSampleIfNeeded: records `ms` for `event` when it reaches the threshold. */
  addIfNeeded(event: string, ms: number): void {
    if (ms >= this.thresholdMs) this.add(event, ms);
  }

  /** latencyAddSample: whole milliseconds; a second already sampled keeps the worst of its samples. */
  add(event: string, ms: number): void {
    const latency = Math.floor(ms);
    let series = this.events.get(event);
    if (series === undefined) this.events.set(event, (series = new EventSeries()));
    if (latency > series.max) series.max = latency;
    const now = Math.floor(this.nowMs() / 1000);
    const prev = series.last;
    if (series.times[prev] === now) {
      if (latency > series.latencies[prev]) series.latencies[prev] = latency;
      return;
    }
    series.times[series.next] = now;
    series.latencies[series.next] = latency;
    series.next = (series.next + 1) % LATENCY_SAMPLES;
  }

  /** LATENCY LATEST: each event's last sample and worst ever. */
  latest(): LatestSample[] {
    const out: LatestSample[] = [];
    for (const [event, series] of this.events) {
      const last = series.last;
      out.push({ event, time: series.times[last], latency: series.latencies[last], max: series.max });
    }
    return out;
  }

  /** LATENCY HISTORY: the event's samples oldest first (none for an unknown event; names match exactly). */
  history(event: string): [time: number, latency: number][] {
    const series = this.events.get(event);
    return series === undefined ? [] : [...series.samples()];
  }

  /**
   * LATENCY RESET: forgets the named events (matched case-insensitively, as Redis's strcasecmp), or all of them;
   * returns how many were reset. Each name counts what it matched, as Redis sums latencyResetEvent per argument.
   */
  reset(events?: readonly string[]): number {
    if (events === undefined) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let resets = 0;
    for (const name of events) {
      const lower = name.toLowerCase();
      for (const event of [...this.events.keys()]) {
        if (event.toLowerCase() !== lower) continue;
        this.events.delete(event);
        resets++;
      }
    }
    return resets;
  }
}

/** The commit batcher's latency hooks, under Redis's AOF event names (see the header). */
export function commitLatencyObserver(monitor: LatencyMonitor): CommitLatencyObserver {
  return {
    landed: (ms) => monitor.addIfNeeded('aof-write', ms),
    synced: (ms) => monitor.addIfNeeded('aof-fsync-always', ms),
  };
}
