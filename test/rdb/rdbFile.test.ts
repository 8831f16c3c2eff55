// Whole RDB files. loadRdb reads a dump.rdb written by redis-server 7.0 SAVE (streams of many shapes, keys of
// every other type, a function library, keys with expires), from one buffer and from small chunks, skipping and
// counting what Spool does not store. SAVE/BGSAVE on Spool write a dump.rdb that redis-server loads with the same
// streams; LASTSAVE and INFO persistence follow.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection, nodeText, type Arg } from '../helpers/resp';
import { encodeDumpPayload, restoreStreamValue } from '../../src/rdb/dump';
import { loadRdb } from '../../src/rdb/rdbLoad';
import type { StreamValue } from '../../src/rdb/streamValue';
import { buildStreams, bulk, streamViews } from './streamShapes';

let redis: RunningRedis;
let r: RespConnection;
beforeAll(async () => {
  redis = await startRedis();
  r = await RespConnection.connect(redis.port);
});
afterAll(async () => {
  r?.close();
  await redis?.stop();
});

const text = (b: Buffer) => b.toString('latin1');

async function* chunks(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function redisKeyData(c: RespConnection, run: (args: Arg[]) => Promise<unknown>): Promise<void> {
  void c;
  await run(['SET', 'str', 'value']);
  await run(['SET', 'num', '12345']);
  await run(['SET', 'long', 'x'.repeat(500)]);
  await run(['SET', 'ttl', 'v', 'PX', '100000000']);
  await run(['XADD', 'expiring', '1-1', 'f', 'v']);
  await run(['PEXPIRE', 'expiring', '100000000']);
  await run(['RPUSH', 'list', 'a', 'b', '1', '2']);
  const big: string[] = [];
  for (let i = 0; i < 300; i++) big.push(`item-${i}`);
  await run(['RPUSH', 'biglist', ...big]);
  await run(['HSET', 'hash', 'f', 'v', 'g', '2']);
  await run(['HSET', 'bighash', ...big.flatMap((b) => [b, 'y'.repeat(80)])]);
  await run(['SADD', 'intset', '1', '2', '3']);
  await run(['SADD', 'set', 'a', 'b']);
  await run(['SADD', 'bigset', ...big]);
  await run(['ZADD', 'zset', '1', 'a', '2.5', 'b']);
  await run(['ZADD', 'bigzset', ...big.flatMap((b, i) => [String(i / 3), b])]);
  await run(['SELECT', '3']);
  await run(['XADD', 'in-db-3', '7-7', 'db', '3']);
  await run(['SET', 'str3', 'x']);
  await run(['SELECT', '0']);
  await run(['FUNCTION', 'LOAD', "#!lua name=lib1\nredis.register_function('f1', function() return 1 end)"]);
}

describe('loadRdb on a redis-server dump.rdb', () => {
  it('loads every stream and skips the other types', async () => {
    const run = async (args: Arg[]) => {
      const reply = await r.call(args);
      if (reply.type === '-') throw new Error(`${args.join(' ')}: ${text(reply.bytes)}`);
      return reply;
    };
    const keys = await buildStreams((args) => r.call(args));
    await redisKeyData(r, run);
    expect(nodeText(await r.call(['SAVE']))).toBe('OK');
    const file = await readFile(path.join(redis.dir, 'dump.rdb'));
    const expected = new Map<string, Buffer>();
    for (const key of [...keys, 'expiring']) expected.set(`0:${key}`, encodeDumpPayload(restoreStreamValue(bulk(await r.call(['DUMP', key])))));
    await r.call(['SELECT', '3']);
    expected.set('3:in-db-3', encodeDumpPayload(restoreStreamValue(bulk(await r.call(['DUMP', 'in-db-3'])))));
    await r.call(['SELECT', '0']);

    for (const source of [file, chunks(file, 777), chunks(file, 1)]) {
      const got = new Map<string, Buffer>();
      const expires = new Map<string, number | null>();
      const logs: string[] = [];
      const summary = await loadRdb(source, {
        stream: (db: number, key: Buffer, value: StreamValue, expiresAt: number | null) => {
          got.set(`${db}:${text(key)}`, encodeDumpPayload(value));
          expires.set(`${db}:${text(key)}`, expiresAt);
        },
        log: (m) => logs.push(m),
      });
      expect([...got.keys()].sort()).toEqual([...expected.keys()].sort());
      for (const [k, v] of expected) expect(got.get(k)!.equals(v), k).toBe(true);
      expect(expires.get('0:expiring')).toBeGreaterThan(Date.now());
      expect(expires.get('0:shapes:small')).toBeNull();
      expect(summary.skipped).toEqual({ string: 5, list: 2, hash: 2, set: 3, zset: 2 });
      expect(summary.functionsSkipped).toBe(1);
      expect(summary.aux['redis-ver']).toBe('7.0.15');
      expect(logs).toEqual([
        'RDB loaded: 8 streams, skipped keys of types Spool does not store: 2 hash, 2 list, 3 set, 5 string, 2 zset, 1 function libraries skipped',
      ]);
    }
  });

  it('refuses damaged files', async () => {
    await r.call(['SAVE']);
    const file = await readFile(path.join(redis.dir, 'dump.rdb'));
    const sink = { stream: () => undefined };
    const flipped = Buffer.from(file);
    flipped[Math.floor(file.length / 2)] ^= 0xff;
    await expect(loadRdb(flipped, sink)).rejects.toThrow();
    await expect(loadRdb(file.subarray(0, file.length - 20), sink)).rejects.toThrow();
    await expect(loadRdb(chunks(file.subarray(0, file.length - 3), 100), sink)).rejects.toThrow();
    await expect(loadRdb(Buffer.from('REDIS0099'), sink)).rejects.toThrow(/version/);
    await expect(loadRdb(Buffer.from('garbage!!'), sink)).rejects.toThrow(/signature/);
  });
});

describe('SAVE and BGSAVE on Spool', () => {
  let spool: SpoolHandle;
  let s: RespConnection;
  beforeAll(async () => {
    spool = await startSpool();
    s = await RespConnection.connect(spool.port);
  });
  afterAll(async () => {
    s?.close();
    await spool?.stop();
  });

  const views = (c: RespConnection, keys: string[]) => streamViews((args) => c.call(args), keys);

  async function loadedByRedis(dir: string, file: string, keys: string[]): Promise<string[]> {
    const loader = await startRedis(['--dir', dir, '--dbfilename', file]);
    try {
      const c = await RespConnection.connect(loader.port);
      try {
        return await views(c, keys);
      } finally {
        c.close();
      }
    } finally {
      await loader.stop();
    }
  }

  it('BGSAVE writes a dump.rdb redis-server loads with the same streams', async () => {
    const keys = await buildStreams((args) => s.call(args));
    await s.call(['SELECT', '5']);
    await s.call(['XADD', 'five', '5-5', 'in', 'db5']);
    await s.call(['SELECT', '0']);
    const before = Number(nodeText(await s.call(['LASTSAVE'])));
    expect(nodeText(await s.call(['BGSAVE']))).toBe('Background saving started');
    for (let i = 0; i < 200; i++) {
      const info = nodeText(await s.call(['INFO', 'persistence']))!;
      if (info.includes('rdb_bgsave_in_progress:0')) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    const info = nodeText(await s.call(['INFO', 'persistence']))!;
    expect(info).toContain('rdb_bgsave_in_progress:0');
    expect(info).toContain('rdb_last_bgsave_status:ok');
    expect(info).toContain('rdb_saves:1');
    expect(Number(nodeText(await s.call(['LASTSAVE'])))).toBeGreaterThanOrEqual(before);
    expect(await loadedByRedis(spool.dir, 'dump.rdb', keys)).toEqual(await views(s, keys));
    // The other database too.
    await s.call(['SELECT', '5']);
    const five = await views(s, ['five']);
    await s.call(['SELECT', '0']);
    const loader = await startRedis(['--dir', spool.dir, '--dbfilename', 'dump.rdb']);
    const c = await RespConnection.connect(loader.port);
    await c.call(['SELECT', '5']);
    expect(await views(c, ['five'])).toEqual(five);
    c.close();
    await loader.stop();
  });

  it('SAVE replies when the file is in place; dbfilename is honoured; errors as Redis', async () => {
    // Redis's text for a path (Redis 7.0 also refuses CONFIG SET dbfilename as a protected config; Spool allows a
    // plain file name).
    expect(text((await s.call(['CONFIG', 'SET', 'dbfilename', '../x.rdb'])).bytes)).toBe(
      "-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - dbfilename can't be a path, just a filename\r\n",
    );
    expect(nodeText(await s.call(['CONFIG', 'SET', 'dbfilename', 'other.rdb']))).toBe('OK');
    await s.call(['XADD', 'shapes:small', '9-9', 'after', 'bgsave']);
    expect(nodeText(await s.call(['SAVE']))).toBe('OK');
    const file = await readFile(path.join(spool.dir, 'other.rdb'));
    let streams = 0;
    await loadRdb(file, { stream: () => void streams++ });
    expect(streams).toBe(7);
    expect(await loadedByRedis(spool.dir, 'other.rdb', ['shapes:small'])).toEqual(await views(s, ['shapes:small']));
    expect(text((await s.call(['BGSAVE', 'NOW'])).bytes)).toBe('-ERR syntax error\r\n');
    expect(text((await s.call(['BGSAVE', 'SCHEDULE'])).bytes)).toBe('+Background saving started\r\n');
    // A second save while one runs, or one that finished: either way no crash and a valid file at the end.
    const second = text((await s.call(['BGSAVE'])).bytes);
    expect(['+Background saving started\r\n', '-ERR Background save already in progress\r\n']).toContain(second);
    for (let i = 0; i < 200; i++) {
      if (nodeText(await s.call(['INFO', 'persistence']))!.includes('rdb_bgsave_in_progress:0')) break;
      await new Promise((res) => setTimeout(res, 25));
    }
    // Inside EXEC (Redis refuses SAVE when queued; Spool refuses it when run).
    await s.call(['MULTI']);
    await s.call(['SAVE']);
    expect(text((await s.call(['EXEC'])).bytes)).toBe('*1\r\n-ERR Command not allowed inside a transaction\r\n');
  });
});
