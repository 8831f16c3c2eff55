// Under appendfsync always, replies keep request order when reads follow pending writes on one connection
// (XLEN / XRANGE pipelined right after XADDs see exactly the writes before them), and CONFIG SET appendfsync
// switches policy at run time under load without losing or reordering anything.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpoolProcess } from '../helpers/spool';
import { client, connected, ensureBuilt, newDataDir, removeDir, sleep, spawnSpool } from './helpers';
import { XaddLoad } from './load';

let dir = '';
let server: SpoolProcess;
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('ordering');
  server = await spawnSpool(dir, ['--appendfsync', 'always']);
}, 120000);
afterAll(async () => {
  await server?.kill('SIGKILL');
  if (dir) await removeDir(dir);
});

describe('reply order under appendfsync always', () => {
  it('XLEN and XRANGE pipelined after XADDs see exactly the writes before them', async () => {
    const c = await connected(client(server.port));
    const p = c.pipeline();
    const expected: [string, number][] = [];
    let n = 0;
    for (let i = 0; i < 400; i++) {
      const key = `o:${i % 3}`;
      p.xadd(key, '*', 'i', String(i));
      expected.push(['xadd', 0]);
      if (i % 3 === 2) {
        n = Math.floor(i / 3) + 1;
        p.xlen('o:0');
        expected.push(['xlen', n]);
        p.xrange('o:1', '-', '+');
        expected.push(['xrange', n]);
      }
    }
    const res = (await p.exec())!;
    res.forEach(([err, reply], k) => {
      expect(err).toBeNull();
      const [kind, want] = expected[k];
      if (kind === 'xlen') expect(reply, `reply ${k}`).toBe(want);
      if (kind === 'xrange') expect((reply as unknown[]).length, `reply ${k}`).toBe(want);
    });
    c.disconnect();
  });

  it('CONFIG SET appendfsync always/everysec/no at run time under load', async () => {
    const load = new XaddLoad(['p:a', 'p:b'], 2, 7);
    const conns = await Promise.all([0, 1].map(() => connected(client(server.port))));
    const admin = await connected(client(server.port));
    let stop = false;
    const running = load.run(conns, 16);
    const switching = (async () => {
      const policies = ['everysec', 'no', 'always', 'no', 'everysec', 'always'];
      for (const p of policies) {
        expect(await admin.config('SET', 'appendfsync', p)).toBe('OK');
        expect(await admin.config('GET', 'appendfsync')).toEqual(['appendfsync', p]);
        await sleep(150);
        if (stop) break;
      }
    })();
    await switching;
    load.stop();
    stop = true;
    await running;
    expect(load.acknowledged()).toBeGreaterThan(100);
    // everything acknowledged is there now, and after a restart
    await load.verify(admin, 'live');
    for (const c of [...conns, admin]) c.disconnect();
    expect(await server.kill('SIGTERM')).toBe(0);
    server = await spawnSpool(dir, ['--appendfsync', 'always']);
    const check = await connected(client(server.port));
    await load.verify(check, 'after restart');
    check.disconnect();
  }, 30000);
});
