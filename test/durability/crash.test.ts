// SIGKILL under XADD load, per appendfsync policy: every acknowledged entry survives a restart byte for byte,
// in order, and nothing that was not added appears (docs/ARCHITECTURE.md, "Durability": a process crash loses
// nothing under any policy, because acknowledged records are in the MAP_SHARED mapping, i.e. the page cache).
// Each policy runs a few kill/restart rounds on the same data directory (the restarted server is the next
// round's target, so recovery after a cut tail is exercised too).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SpoolProcess } from '../helpers/spool';
import { client, connected, ensureBuilt, killHard, newDataDir, removeDir, sleep, spawnSpool } from './helpers';
import { XaddLoad } from './load';

const ROUNDS = Number(process.env.SPOOL_CRASH_ROUNDS ?? 2);
const dirs: string[] = [];

beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

describe.each(['always', 'everysec', 'no'] as const)('SIGKILL under XADD load (appendfsync %s)', (policy) => {
  it('keeps every acknowledged entry, in order, and nothing unsent', async () => {
    const dir = await newDataDir(`crash-${policy}`);
    dirs.push(dir);
    const seed = Math.floor(Math.random() * 1e6);
    // small segments so that growth, roll-over and staging happen within a short run
    const args = ['--appendfsync', policy, '--segment-initial-size', '64kb', '--segment-max-size', '256kb'];
    const load = new XaddLoad(['s:a', 's:\0b\r\n', 's:c'], 3, seed);
    let server: SpoolProcess = await spawnSpool(dir, args);
    try {
      for (let round = 0; round < ROUNDS; round++) {
        const conns = await Promise.all(Array.from({ length: 3 }, () => connected(client(server.port))));
        const running = load.run(conns);
        const killAfter = 200 + Math.floor(Math.random() * 900);
        await sleep(killAfter);
        const acked = load.acknowledged();
        await killHard(server);
        await running;
        for (const c of conns) c.disconnect();
        const context = `seed ${seed} round ${round} (killed after ${killAfter} ms, ${acked}+ acknowledged)`;
        expect(load.acknowledged(), `${context}: no load ran`).toBeGreaterThan(0);
        server = await spawnSpool(dir, args);
        const check = await connected(client(server.port));
        try {
          await load.verify(check, context);
        } finally {
          check.disconnect();
        }
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 40000);
});
