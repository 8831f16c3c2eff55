// SWAPDB is durable: after a swap (and writes, renames, deletes and new streams in the swapped databases), a
// restart after SIGKILL and one after SIGTERM bring every stream back in the database it was swapped into. A
// SWAPDB whose reply arrived survives a SIGKILL right after it; a run of swaps ends as a model of them says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { RespConnection, type Arg } from '../helpers/resp';
import { run, snapshot } from './state';
import { ensureBuilt, newDataDir, removeDir, rng, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

async function dataDir(tag: string): Promise<string> {
  const d = await newDataDir(tag);
  dirs.push(d);
  return d;
}

const LONG_KEY = Buffer.concat([Buffer.from('long:'), Buffer.alloc(150, 0x79)]); // hashed directory name

async function fill(conn: RespConnection, db: number, keys: Arg[]): Promise<void> {
  const cmds: Arg[][] = [['SELECT', String(db)]];
  for (const key of keys) for (let i = 0; i < 20; i++) cmds.push(['XADD', key, '*', 'db', String(db), 'i', String(i)]);
  await run(conn, cmds);
}

describe('SWAPDB survives restarts', () => {
  it('streams come back in their swapped databases after SIGKILL, then after SIGTERM', async () => {
    const dir = await dataDir('swapdb');
    let server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
    let conn = await RespConnection.connect(server.port);
    try {
      await fill(conn, 0, ['a', 'shared', LONG_KEY]);
      await fill(conn, 1, ['b', 'shared']);
      await fill(conn, 2, ['c']);
      await run(conn, [
        ['SELECT', '0'],
        ['XGROUP', 'CREATE', 'shared', 'g', '0'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '5', 'STREAMS', 'shared', '>'],
        ['SWAPDB', '0', '1'],
        // db0 now holds db1's streams: write to them, and create, rename and delete in both
        ['XADD', 'shared', '*', 'after', 'swap'],
        ['XADD', 'fresh', '*', 'new', 'in db0'],
        ['RENAME', 'b', 'b2'],
        ['SELECT', '1'],
        ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '3', 'STREAMS', 'shared', '>'],
        ['DEL', LONG_KEY],
        ['XADD', LONG_KEY, '*', 're', 'created'],
        ['RENAME', 'a', 'shared2'],
        ['SWAPDB', '1', '2'],
        ['SWAPDB', '5', '2'],
        ['SELECT', '0'],
      ]);
      const dbs = [0, 1, 2, 5];
      const before = await snapshot(conn, dbs);
      // Where things are now: db0 = old db1 (+writes), db1 = old db2, db5 = old db0 (+writes), db2 = old db5
      expect(before.get('0 KEYS')).toBe('b2|fresh|shared|');
      expect(before.get('1 KEYS')).toBe('c|');
      expect(before.get('2 DBSIZE')).toBe(':0\r\n');
      expect(before.get('5 DBSIZE')).toBe(':3\r\n');
      for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
        conn.close();
        const code = await server.kill(signal);
        expect(code, server.output()).toBe(signal === 'SIGKILL' ? 'SIGKILL' : 0);
        server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
        conn = await RespConnection.connect(server.port);
        const after = await snapshot(conn, dbs);
        expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
        for (const [k, v] of before) expect(after.get(k), `after ${signal}: ${k}`).toBe(v);
      }
    } finally {
      conn.close();
      await server.kill('SIGKILL');
    }
  }, 60000);

  it('a SWAPDB whose reply arrived survives a SIGKILL right after it (appendfsync no)', async () => {
    const dir = await dataDir('swapdb-kill');
    let server = await spawnSpool(dir, ['--appendfsync', 'no']);
    let conn = await RespConnection.connect(server.port);
    try {
      await fill(conn, 3, ['x']);
      const [ok] = await run(conn, [['SWAPDB', '3', '4']]);
      expect(ok.bytes.toString()).toBe('+OK\r\n');
      // the map file is in place once the reply is out
      expect(JSON.parse(await readFile(path.join(dir, 'DATABASES'), 'utf8')).dirs.slice(0, 5)).toEqual([0, 1, 2, 4, 3]);
      conn.close();
      await server.kill('SIGKILL');
      server = await spawnSpool(dir, ['--appendfsync', 'no']);
      conn = await RespConnection.connect(server.port);
      const [three, four] = await run(conn, [['SELECT', '3'], ['DBSIZE'], ['SELECT', '4'], ['XLEN', 'x']]).then((r) => [r[1], r[3]]);
      expect(three.bytes.toString()).toBe(':0\r\n');
      expect(four.bytes.toString()).toBe(':20\r\n');
    } finally {
      conn.close();
      await server.kill('SIGKILL');
    }
  }, 60000);

  it('a run of swaps with writes in between ends where a model of them says, after SIGKILL', async () => {
    const dir = await dataDir('swapdb-many');
    let server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
    let conn = await RespConnection.connect(server.port);
    const r = rng(12);
    // model[db] = the tags of the streams the database holds (each stream is named after the db it began in)
    const model: string[][] = [0, 1, 2, 3].map((db) => [`from${db}`]);
    try {
      for (let db = 0; db < 4; db++) await run(conn, [['SELECT', String(db)], ['XADD', `from${db}`, '*', 'f', 'v']]);
      for (let i = 0; i < 30; i++) {
        const a = Math.floor(r() * 4);
        const b = Math.floor(r() * 4);
        await run(conn, [['SWAPDB', String(a), String(b)]]);
        [model[a], model[b]] = [model[b], model[a]];
        // a write into a swapped database lands in the stream that is there now
        const tag = `new${i}`;
        await run(conn, [['SELECT', String(a)], ['XADD', tag, '*', 'f', 'v']]);
        model[a] = [...model[a], tag];
      }
      conn.close();
      await server.kill('SIGKILL');
      server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
      conn = await RespConnection.connect(server.port);
      const after = await snapshot(conn, [0, 1, 2, 3]);
      for (let db = 0; db < 4; db++) expect(after.get(`${db} KEYS`), `db ${db}`).toBe([...model[db]].sort().map((k) => `${k}|`).join(''));
    } finally {
      conn.close();
      await server.kill('SIGKILL');
    }
  }, 60000);
});
