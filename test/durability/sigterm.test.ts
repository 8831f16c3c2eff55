// SIGTERM under XADD load: the server stops accepting, lets the batch in flight commit and its replies go out,
// syncs and exits 0; after a restart no acknowledged entry is missing (entries in flight may or may not be).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, connected, ensureBuilt, newDataDir, removeDir, sleep, spawnSpool } from './helpers';
import { XaddLoad } from './load';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

describe.each(['always', 'no'] as const)('SIGTERM under XADD load (appendfsync %s)', (policy) => {
  it('exits 0 and loses no acknowledged entry', async () => {
    const dir = await newDataDir(`sigterm-${policy}`);
    dirs.push(dir);
    const seed = Math.floor(Math.random() * 1e6);
    const args = ['--appendfsync', policy, '--segment-initial-size', '64kb', '--segment-max-size', '256kb'];
    const load = new XaddLoad(['t:a', 't:\r\n\0'], 3, seed);
    let server = await spawnSpool(dir, args);
    try {
      const conns = await Promise.all(Array.from({ length: 3 }, () => connected(client(server.port))));
      const running = load.run(conns);
      const after = 300 + Math.floor(Math.random() * 700);
      await sleep(after);
      const code = await Promise.race([server.kill('SIGTERM'), sleep(10000).then(() => 'timeout')]);
      await running;
      for (const c of conns) c.disconnect();
      expect(code, `seed ${seed}: exit after SIGTERM\n${server.output()}`).toBe(0);
      expect(server.output()).toContain('ready to exit');
      expect(load.acknowledged()).toBeGreaterThan(0);
      server = await spawnSpool(dir, args);
      // a clean shutdown leaves nothing to cut
      expect(server.output()).not.toMatch(/torn tail|partial batch/);
      const check = await connected(client(server.port));
      try {
        await load.verify(check, `seed ${seed} (SIGTERM after ${after} ms)`);
      } finally {
        check.disconnect();
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 30000);
});
