// The SWAPDB database map: identity without a file, swaps persisted atomically and read back, databases beyond
// the stored map are their own numbers, and a damaged map refuses to load rather than misplace streams.
import { afterEach, describe, expect, it } from 'vitest';
import { readdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { DatabaseMap } from '../../src/storage/databaseMap';
import { DB_MAP_FILE } from '../../src/storage/fileNames';
import { tempDir } from './helpers';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

function dir(tag: string): string {
  const t = tempDir(tag);
  cleanup = t.cleanup;
  return t.dir;
}

describe('DatabaseMap', () => {
  it('is the identity without a file', async () => {
    const map = await DatabaseMap.load(dir('dbmap-none'), 4);
    for (let i = 0; i < 4; i++) {
      expect(map.dirNumberOf(i)).toBe(i);
      expect(map.databaseOf(i)).toBe(i);
    }
  });

  it('persists swaps (chained) and reads them back; extra databases are their own numbers', async () => {
    const d = dir('dbmap-swap');
    const map = await DatabaseMap.load(d, 4);
    void map.swap(0, 1);
    await map.swap(1, 3); // dirs: [1, 3, 2, 0]
    await map.settled();
    expect(await readdir(d)).toEqual([DB_MAP_FILE]); // no temp file left behind
    const again = await DatabaseMap.load(d, 6);
    expect([0, 1, 2, 3, 4, 5].map((i) => again.dirNumberOf(i))).toEqual([1, 3, 2, 0, 4, 5]);
    expect([0, 1, 2, 3, 4, 5].map((n) => again.databaseOf(n))).toEqual([3, 0, 2, 1, 4, 5]);
  });

  it.each([
    ['not JSON', 'garbage'],
    ['a repeated number', '{"version":1,"dirs":[0,0]}'],
    ['a number out of range', '{"version":1,"dirs":[0,2]}'],
    ['an unknown version', '{"version":2,"dirs":[0,1]}'],
    ['no dirs', '{"version":1}'],
  ])('refuses a map with %s', async (_what, text) => {
    const d = dir('dbmap-bad');
    await writeFile(path.join(d, DB_MAP_FILE), text);
    await expect(DatabaseMap.load(d, 2)).rejects.toThrow(/database map/);
  });
});
