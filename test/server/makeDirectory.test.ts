// Creating the data directory: nested levels are made, and a path whose parent refuses children with ENOENT
// (anything under /proc) fails at once with that error. Node's recursive mkdir retried such a parent forever at
// 100% CPU: spool-server --dir /proc/x spun (see ops-lifecycle.test.ts), and startServer's promise never settled.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { makeDirectoryTree, makeDirectoryTreeSync } from '../../src/server/makeDirectory';
import { startServer } from '../../src/server/server';

let base: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(os.tmpdir(), 'spool-mkdir-'));
  await writeFile(path.join(base, 'file'), 'x');
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('makeDirectoryTree (async) and makeDirectoryTreeSync', () => {
  for (const [name, make] of [
    ['async', makeDirectoryTree],
    ['sync', async (d: string) => makeDirectoryTreeSync(d)],
  ] as const) {
    test(`${name}: makes every missing level, accepts an existing directory`, async () => {
      const deep = path.join(base, name, 'a', 'b', 'c');
      await make(deep);
      expect((await stat(deep)).isDirectory()).toBe(true);
      await make(deep);
      await make(base);
    });

    test(`${name}: under /proc fails with ENOENT, under a file with ENOTDIR`, async () => {
      await expect(make('/proc/spool-x/deeper')).rejects.toMatchObject({ code: 'ENOENT', path: '/proc/spool-x' });
      await expect(make(path.join(base, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    });
  }

  test('startServer with a data directory under /proc rejects with the reason instead of never settling', async () => {
    await expect(startServer({ port: '0', bind: '127.0.0.1', dir: '/proc/spool-y' })).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
