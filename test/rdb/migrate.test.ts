// MIGRATE both ways between Spool and a real redis-server 7.0.15: Redis moving streams into Spool (Spool serves
// RESTORE), Spool moving streams into Redis (Spool is the client), with COPY, REPLACE, KEYS and AUTH/AUTH2; the
// replies and errors of MIGRATE on Spool are those of MIGRATE on Redis for the same situations.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { freePort } from '../helpers/ports';
import { RespConnection, nodeText, type Arg } from '../helpers/resp';
import { buildStreams, streamViews } from './streamShapes';
import { until } from '../helpers/replication';

let redis: RunningRedis;
let other: RunningRedis;
let spool: SpoolHandle;
let r: RespConnection;
let o: RespConnection;
let s: RespConnection;

beforeAll(async () => {
  redis = await startRedis();
  other = await startRedis();
  spool = await startSpool();
  r = await RespConnection.connect(redis.port);
  o = await RespConnection.connect(other.port);
  s = await RespConnection.connect(spool.port);
});
afterAll(async () => {
  for (const c of [r, o, s]) c?.close();
  await spool?.stop();
  await redis?.stop();
  await other?.stop();
});

const text = (b: Buffer) => b.toString('latin1');

const views = (c: RespConnection, keys: string[]) => streamViews((args) => c.call(args), keys);

describe('MIGRATE from redis-server into Spool', () => {
  it('moves streams, with COPY, REPLACE and KEYS', async () => {
    await r.call(['FLUSHALL']);
    await s.call(['FLUSHALL']);
    const keys = await buildStreams((args) => r.call(args));
    const before = await views(r, keys);
    // One key, moved.
    expect(nodeText(await r.call(['MIGRATE', '127.0.0.1', String(spool.port), keys[0], '0', '5000']))).toBe('OK');
    expect(nodeText(await r.call(['EXISTS', keys[0]]))).toBe('0');
    // The rest copied with KEYS, then again with REPLACE.
    const rest = keys.slice(1);
    expect(nodeText(await r.call(['MIGRATE', '127.0.0.1', String(spool.port), '', '0', '5000', 'COPY', 'KEYS', ...rest]))).toBe('OK');
    expect(nodeText(await r.call(['EXISTS', ...rest]))).toBe(String(rest.length));
    const busy = await r.call(['MIGRATE', '127.0.0.1', String(spool.port), '', '0', '5000', 'COPY', 'KEYS', ...rest]);
    expect(text(busy.bytes)).toBe('-ERR Target instance replied with error: BUSYKEY Target key name already exists.\r\n');
    expect(nodeText(await r.call(['MIGRATE', '127.0.0.1', String(spool.port), '', '0', '5000', 'REPLACE', 'KEYS', ...rest]))).toBe('OK');
    expect(nodeText(await r.call(['DBSIZE']))).toBe('0');
    expect(await views(s, keys)).toEqual(before);
  });

  it('authenticates with AUTH and AUTH2, and selects the destination database', async () => {
    await s.call(['CONFIG', 'SET', 'requirepass', 'sekret']);
    await s.call(['AUTH', 'sekret']);
    try {
      await r.call(['XADD', 'authed', '1-1', 'a', 'b']);
      const wrong = await r.call(['MIGRATE', '127.0.0.1', String(spool.port), 'authed', '0', '5000', 'AUTH', 'nope']);
      expect(text(wrong.bytes)).toMatch(/^-ERR Target instance replied with error: WRONGPASS/);
      expect(nodeText(await r.call(['MIGRATE', '127.0.0.1', String(spool.port), 'authed', '3', '5000', 'COPY', 'AUTH', 'sekret']))).toBe('OK');
      expect(nodeText(await r.call(['MIGRATE', '127.0.0.1', String(spool.port), 'authed', '4', '5000', 'AUTH2', 'default', 'sekret']))).toBe('OK');
      for (const db of ['3', '4']) {
        await s.call(['SELECT', db]);
        expect(text((await s.call(['XRANGE', 'authed', '-', '+'])).bytes)).toBe('*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n');
      }
      await s.call(['SELECT', '0']);
    } finally {
      await s.call(['CONFIG', 'SET', 'requirepass', '']);
    }
  });
});

describe('MIGRATE from Spool into redis-server', () => {
  it('moves streams, with COPY, REPLACE, KEYS and AUTH', async () => {
    await r.call(['FLUSHALL']);
    await s.call(['FLUSHALL']);
    const keys = await buildStreams((args) => s.call(args));
    const before = await views(s, keys);
    expect(nodeText(await s.call(['MIGRATE', '127.0.0.1', String(redis.port), keys[0], '0', '5000']))).toBe('OK');
    expect(nodeText(await s.call(['EXISTS', keys[0]]))).toBe('0');
    const rest = keys.slice(1);
    expect(nodeText(await s.call(['MIGRATE', '127.0.0.1', String(redis.port), '', '0', '5000', 'COPY', 'KEYS', ...rest]))).toBe('OK');
    expect(nodeText(await s.call(['EXISTS', ...rest]))).toBe(String(rest.length));
    expect(nodeText(await s.call(['MIGRATE', '127.0.0.1', String(redis.port), '', '0', '5000', 'REPLACE', 'KEYS', ...rest]))).toBe('OK');
    expect(nodeText(await s.call(['DBSIZE']))).toBe('0');
    expect(await views(r, keys)).toEqual(before);

    await r.call(['CONFIG', 'SET', 'requirepass', 'pw']);
    try {
      await s.call(['XADD', 'a1', '1-1', 'x', 'y']);
      expect(nodeText(await s.call(['MIGRATE', '127.0.0.1', String(redis.port), 'a1', '2', '5000', 'AUTH', 'pw']))).toBe('OK');
      const rc = await RespConnection.connect(redis.port);
      await rc.call(['AUTH', 'pw']);
      await rc.call(['SELECT', '2']);
      expect(nodeText(await rc.call(['XLEN', 'a1']))).toBe('1');
      rc.close();
    } finally {
      await r.call(['AUTH', 'pw']);
      await r.call(['CONFIG', 'SET', 'requirepass', '']);
    }
  });

  it('replies and errors as MIGRATE on redis-server', async () => {
    await r.call(['FLUSHALL']);
    await s.call(['FLUSHALL']);
    await o.call(['FLUSHALL']);
    for (const c of [r, s]) {
      await c.call(['XADD', 'k1', '1-1', 'a', '1']);
      await c.call(['XADD', 'k2', '1-1', 'b', '2']);
    }
    await o.call(['XADD', 'k1', '5-5', 'taken', 'already']);
    const closed = String(await freePort());
    const target = String(other.port);
    const scripts: Arg[][] = [
      ['MIGRATE', '127.0.0.1', target, 'missing', '0', '1000'],
      ['MIGRATE', '127.0.0.1', target, '', '0', '1000', 'KEYS', 'missing', 'gone'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', '1000', 'KEYS', 'k2'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', '1000', 'BOGUS'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', '1000', 'AUTH'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', '1000', 'AUTH2', 'u'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', 'x'],
      ['MIGRATE', '127.0.0.1', target, 'k1', 'x', '1000'],
      ['MIGRATE', '127.0.0.1', closed, 'k1', '0', '1000'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '0', '1000', 'COPY'],
      ['MIGRATE', '127.0.0.1', target, 'k1', '99', '1000', 'COPY'],
      ['EXISTS', 'k1'],
    ];
    for (const cmd of scripts) {
      const want = text((await r.call(cmd)).bytes);
      const got = text((await s.call(cmd)).bytes);
      expect(got, cmd.join(' ')).toBe(want);
    }
    // Inside EXEC Spool refuses it (Redis runs it synchronously there); the connection stays usable.
    await s.call(['MULTI']);
    await s.call(['MIGRATE', '127.0.0.1', target, 'k2', '0', '1000', 'COPY']);
    expect(text((await s.call(['EXEC'])).bytes)).toBe('*1\r\n-ERR Command not allowed inside a transaction\r\n');
    expect(text((await s.call(['PING'])).bytes)).toBe('+PONG\r\n');
  });
});

describe('MIGRATE from Spool while other clients write', () => {
  // Redis's MIGRATE blocks the server, so no write can land between the copy and the deletion. Spool keeps serving
  // while the target answers: a write to a stream being moved waits for the end of the MIGRATE, then creates the
  // key afresh, so an acknowledged entry is never deleted with the moved stream.
  it('a write to the stream being moved waits, and is kept', async () => {
    await o.call(['FLUSHALL']);
    await s.call(['FLUSHALL']);
    for (let i = 1; i <= 10; i++) await s.call(['XADD', 'moving', `${i}-1`, 'f', String(i)]);
    const writer = await RespConnection.connect(spool.port);
    try {
      // The target holds RESTORE for a while, so the MIGRATE is in flight when the write arrives.
      expect(nodeText(await o.call(['CLIENT', 'PAUSE', '400', 'WRITE']))).toBe('OK');
      const migrating = s.call(['MIGRATE', '127.0.0.1', String(other.port), 'moving', '0', '5000']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      const late = writer.call(['XADD', 'moving', '20-1', 'f', 'late']);
      expect(nodeText(await migrating)).toBe('OK');
      expect(nodeText(await late)).toBe('20-1');
      expect(nodeText(await o.call(['XLEN', 'moving']))).toBe('10');
      const here = await s.call(['XRANGE', 'moving', '-', '+']);
      expect(text(here.bytes)).toBe('*1\r\n*2\r\n$4\r\n20-1\r\n*2\r\n$1\r\nf\r\n$4\r\nlate\r\n');
    } finally {
      writer.close();
    }
  });
});

describe("MIGRATE and the migrating server's replicas", () => {
  it('the keys MIGRATE deletes are deleted on its replicas too (one DEL, as Redis rewrites MIGRATE); COPY keeps them', async () => {
    const replica = await startRedis();
    const rep = await RespConnection.connect(replica.port);
    try {
      await r.call(['FLUSHALL']);
      await s.call(['FLUSHALL']);
      for (const k of ['m1', 'm2', 'm3']) await s.call(['XADD', k, '1-1', 'f', 'v']);
      expect(nodeText(await rep.call(['REPLICAOF', '127.0.0.1', String(spool.port)]))).toBe('OK');
      await until('the replica to have the streams', async () => nodeText(await rep.call(['DBSIZE'])) === '3');
      const migrate = (...rest: Arg[]) => s.call(['MIGRATE', '127.0.0.1', String(redis.port), '', '0', '5000', ...rest]);
      expect(nodeText(await migrate('KEYS', 'm1', 'm2'))).toBe('OK');
      expect(nodeText(await migrate('COPY', 'KEYS', 'm3'))).toBe('OK');
      await until('the replica to drop m1 and m2', async () => nodeText(await rep.call(['DBSIZE'])) === '1');
      expect(nodeText(await rep.call(['EXISTS', 'm3']))).toBe('1');
      expect(nodeText(await r.call(['DBSIZE']))).toBe('3');
    } finally {
      await rep.call(['REPLICAOF', 'NO', 'ONE']).catch(() => undefined);
      rep.close();
      await replica.stop();
    }
  }, 30000);
});
