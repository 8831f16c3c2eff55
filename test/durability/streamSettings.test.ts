// Per-stream settings across a crash: XCFGSET settings and the trims retention made come back after SIGKILL +
// restart (XINFO STREAM FULL and XCFGGET equal before and after), and a write acknowledged on a stream under its
// own `appendfsync always` while the server runs everysec was synced before the reply (spool_commit_syncs_total
// on the metrics endpoint) and survives SIGKILL.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/ports';
import { client, connected, ensureBuilt, killHard, newDataDir, removeDir, spawnSpool } from './helpers';

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('settings');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

function metric(port: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => {
          const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(body);
          if (!m) reject(new Error(`${name} not in /metrics`));
          else resolve(Number(m[1]));
        });
      })
      .on('error', reject);
  });
}

describe('per-stream settings survive SIGKILL', () => {
  it('settings, retention trims and per-stream always writes come back after a crash', async () => {
    const metricsPort = await freePort();
    const args = ['--appendfsync', 'everysec', '--metrics-port', String(metricsPort)];
    let server = await spawnSpool(dir, args);
    let c = await connected(client(server.port));
    const now = Date.now();
    // retention by age and bytes, with XDEL and a rename in the history
    for (let i = 0; i < 200; i++) await c.xadd('ret', `${now - 7_200_000 + i}-0`, 'f', `old${i}`);
    for (let i = 0; i < 200; i++) await c.xadd('ret', `${now - 5_000 + i}-0`, 'f', `recent${i}`.padEnd(20, '.'));
    expect(await c.call('XCFGSET', 'ret', 'maxage', '600000', 'maxbytes', '2000')).toBe('OK');
    await c.xdel('ret', `${now - 5_000 + 150}-0`);
    for (let i = 0; i < 30; i++) await c.xadd('ret', '*', 'f', `new${i}`.padEnd(20, '.'));
    await c.rename('ret', 'kept');
    await c.xadd('kept', '*', 'f', 'after-rename'.padEnd(20, '.'));
    // a stream with settings back to default, and one with appendfsync no
    await c.xadd('plain', '1-1', 'f', 'v');
    await c.call('XCFGSET', 'plain', 'maxage', '1000', 'appendfsync', 'no');
    await c.call('XCFGSET', 'plain', 'maxage', 'default');
    const infoBefore = await c.call('XINFO', 'STREAM', 'kept', 'FULL');
    const cfgBefore = await c.call('XCFGGET', 'kept');
    const plainBefore = await c.call('XCFGGET', 'plain');
    expect(await c.xlen('kept')).toBeLessThan(100);
    expect(cfgBefore).toEqual(['appendfsync', 'default', 'maxage', '600000', 'maxbytes', '2000']);

    // per-stream always under server everysec: every acknowledged write was synced first
    await c.xadd('dur', '*', 'f', 'first');
    expect(await c.call('XCFGSET', 'dur', 'appendfsync', 'always')).toBe('OK');
    const syncsBefore = await metric(metricsPort, 'spool_commit_syncs_total');
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) acked.push((await c.xadd('dur', '*', 'n', String(i)))!);
    const syncsAfter = await metric(metricsPort, 'spool_commit_syncs_total');
    // each unpipelined write waited for its own commit (the periodic everysec sync adds at most a few)
    expect(syncsAfter - syncsBefore).toBeGreaterThanOrEqual(20);
    c.disconnect();
    await killHard(server);

    server = await spawnSpool(dir, args);
    c = await connected(client(server.port));
    try {
      expect(await c.call('XINFO', 'STREAM', 'kept', 'FULL')).toEqual(infoBefore);
      expect(await c.call('XCFGGET', 'kept')).toEqual(cfgBefore);
      expect(await c.call('XCFGGET', 'plain')).toEqual(plainBefore);
      expect(await c.call('XCFGGET', 'dur')).toEqual(['appendfsync', 'always', 'maxage', 'default', 'maxbytes', 'default']);
      const ids = ((await c.xrange('dur', '-', '+')) as [string, string[]][]).map(([id]) => id);
      expect(ids.slice(1)).toEqual(acked);
      // retention still applies after the restart
      await c.xadd('kept', '*', 'f', 'x'.repeat(2000));
      expect(await c.xlen('kept')).toBe(0);
    } finally {
      c.disconnect();
      await server.stop();
    }
  }, 120000);
});
