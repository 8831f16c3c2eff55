// The soak in its short CI mode: bench/soakRunner.js (the same load `npm run soak` runs for 10 minutes) for
// about 20 seconds against a Spool child process built in dist/. Asserted: no error anywhere (producers,
// groups, blocking readers, trimming, probes, churn), every acknowledged XADD readable (entries-added and last
// ID per stream, retained entries, the untrimmed audit stream entry for entry), open fds bounded, and a clean
// exit on SIGTERM. Memory flatness is only judged by the long run (20 s is all warm-up).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSoak, formatReport } from '../../bench/soakRunner.js';

const ROOT = path.resolve(__dirname, '..', '..');

interface Check {
  key: string;
  acked: number;
  entriesAdded: number;
  lastGeneratedId: string;
  lastAcked: string | null;
  missing: number;
  retainedChecked: number;
}

describe('soak (short mode)', () => {
  it('runs mixed load for ~20 s with no errors, bounded fds and every acknowledged XADD readable', async () => {
    expect(existsSync(path.join(ROOT, 'dist', 'main.js')), 'dist/ is built (npm ci / npm run build)').toBe(true);
    const result = await runSoak({ seconds: 20, sampleEvery: 2, warmup: 4, rate: 1000, readers: 24 });
    const report = formatReport(result);
    if (result.errors.length > 0) console.error(report);
    expect(result.errors).toEqual([]);
    expect(result.serverExit).toBe(0);

    // The load ran: writes acknowledged, group reads acknowledged, blocking readers fed, trims and probes done.
    expect(result.totals.xaddAcked).toBeGreaterThan(5000);
    expect(result.totals.xaddErrors).toBe(0);
    expect(result.totals.groupAcked).toBeGreaterThan(0);
    expect(result.totals.xreadEntries).toBeGreaterThan(0);
    expect(result.totals.xtrimmed).toBeGreaterThan(0);
    expect(result.totals.probes).toBeGreaterThan(10);
    expect(result.totals.churn).toBeGreaterThan(5);

    // Every acknowledged XADD is accounted for.
    const checks = result.checks.streams as Check[];
    expect(checks.length).toBe(4);
    for (const c of checks) {
      expect(c.entriesAdded, c.key).toBe(c.acked);
      expect(c.lastGeneratedId, c.key).toBe(c.lastAcked);
      expect(c.missing, c.key).toBe(0);
      expect(c.retainedChecked, c.key).toBeGreaterThan(0);
    }
    expect(result.checks.audit.ok).toBe(true);
    expect(result.checks.audit.length).toBe(result.checks.audit.acked);

    // File descriptors stay bounded while connections churn (each churned client disconnects while blocked).
    const fds = result.samples.map((s: { fds: number }) => s.fds);
    expect(fds.length).toBeGreaterThan(5);
    expect(Math.max(...fds) - Math.min(...fds)).toBeLessThanOrEqual(20);
  }, 60_000);
});
