// The latency monitor's samples as Redis's latency.c keeps them: one per second per event (the worst of that
// second), at most 160, the worst ever, case-insensitive RESET counts, and nothing at threshold 0. Injected clock.
import { describe, expect, it } from 'vitest';
import { LATENCY_SAMPLES, LatencyMonitor } from '../../src/server/latencyMonitor';

function monitor(thresholdMs: number) {
  let now = 1_700_000_000_000;
  const m = new LatencyMonitor(() => now);
  m.setThreshold(thresholdMs);
  return { m, tick: (ms: number) => void (now += ms), second: () => Math.floor(now / 1000) };
}

describe('LatencyMonitor', () => {
  it('threshold 0 records nothing; below the threshold records nothing', () => {
    const off = monitor(0);
    expect(off.m.enabled).toBe(false);
    off.m.addIfNeeded('command', 1e9);
    expect(off.m.latest()).toEqual([]);
    const on = monitor(10);
    on.m.addIfNeeded('command', 9.99);
    expect(on.m.latest()).toEqual([]);
    on.m.addIfNeeded('command', 10.4);
    expect(on.m.latest()).toEqual([{ event: 'command', time: on.second(), latency: 10, max: 10 }]);
  });

  it('one sample per second per event, keeping the worst; max is the worst ever', () => {
    const { m, tick, second } = monitor(1);
    const first = second();
    m.addIfNeeded('command', 5);
    m.addIfNeeded('command', 12);
    m.addIfNeeded('command', 3);
    m.addIfNeeded('aof-fsync-always', 2);
    tick(1000);
    m.addIfNeeded('command', 4);
    expect(m.history('command')).toEqual([
      [first, 12],
      [first + 1, 4],
    ]);
    expect(m.latest()).toEqual([
      { event: 'command', time: first + 1, latency: 4, max: 12 },
      { event: 'aof-fsync-always', time: first, latency: 2, max: 2 },
    ]);
    expect(m.history('nosuch')).toEqual([]);
    expect(m.history('COMMAND')).toEqual([]); // HISTORY matches exactly, as Redis's dict lookup
  });

  it(`keeps the last ${LATENCY_SAMPLES} seconds, oldest first`, () => {
    const { m, tick, second } = monitor(1);
    const first = second();
    for (let i = 0; i < LATENCY_SAMPLES + 5; i++) {
      m.addIfNeeded('command', i + 1);
      tick(1000);
    }
    const h = m.history('command');
    expect(h.length).toBe(LATENCY_SAMPLES);
    expect(h[0]).toEqual([first + 5, 6]);
    expect(h[LATENCY_SAMPLES - 1]).toEqual([first + LATENCY_SAMPLES + 4, LATENCY_SAMPLES + 5]);
  });

  it('RESET: all events, or the named ones case-insensitively, counting what was reset', () => {
    const { m } = monitor(1);
    for (const e of ['command', 'fast-command', 'aof-fsync-always']) m.add(e, 1);
    expect(m.reset(['COMMAND', 'nosuch', 'command'])).toBe(1);
    expect(m.latest().map((l) => l.event)).toEqual(['fast-command', 'aof-fsync-always']);
    expect(m.reset()).toBe(2);
    expect(m.reset()).toBe(0);
    expect(m.latest()).toEqual([]);
  });
});
