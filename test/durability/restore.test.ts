// RESTORE survives a crash: streams restored from redis-server DUMPs (groups, PELs, flagged entries, several
// nodes), then SIGKILL right after the replies, then a restart: every stream reads back as before the kill
// (XINFO STREAM FULL, XRANGE), and again after a further write and a clean restart. Keys MIGRATE moved away
// stay gone.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, killHard, newDataDir, removeDir, spawnSpool } from './helpers';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText } from '../helpers/resp';
import { buildStreams, bulk, streamViews } from '../rdb/streamShapes';

const dirs: string[] = [];
let redis: RunningRedis;
beforeAll(async () => {
  ensureBuilt();
  redis = await startRedis();
}, 120000);
afterAll(async () => {
  await redis?.stop();
  for (const d of dirs) await removeDir(d);
});

const snapshot = (c: RespConnection, keys: string[]) => streamViews((args) => c.call(args), keys);

describe('RESTORE and a crash', () => {
  it('restored streams come back after SIGKILL and restart', async () => {
    const dir = await newDataDir('restore');
    dirs.push(dir);
    const rc = await RespConnection.connect(redis.port);
    const keys = await buildStreams((args) => rc.call(args));
    const payloads = [];
    for (const key of keys) payloads.push(bulk(await rc.call(['DUMP', key])));
    rc.close();

    let spool = await spawnSpool(dir);
    let c = await RespConnection.connect(spool.port);
    await c.call(['XADD', keys[0], '1-1', 'old', 'stream']);
    for (let i = 0; i < keys.length; i++) expect(nodeText(await c.call(['RESTORE', keys[i], '0', payloads[i], 'REPLACE']))).toBe('OK');
    const before = await snapshot(c, keys);
    c.close();
    await killHard(spool);

    spool = await spawnSpool(dir);
    c = await RespConnection.connect(spool.port);
    expect(await snapshot(c, keys)).toEqual(before);
    await c.call(['XADD', 'shapes:groups', '99-0', 'after', 'restart']);
    await c.call(['XACK', 'shapes:groups', 'g1', '1-0']);
    const later = await snapshot(c, keys);
    c.close();
    await spool.kill('SIGTERM');

    spool = await spawnSpool(dir);
    c = await RespConnection.connect(spool.port);
    expect(await snapshot(c, keys)).toEqual(later);
    c.close();
    await spool.kill('SIGTERM');
  }, 120000);

  it('keys MIGRATE moved away stay gone after SIGKILL and restart', async () => {
    const dir = await newDataDir('migrate');
    dirs.push(dir);
    let spool = await spawnSpool(dir);
    let c = await RespConnection.connect(spool.port);
    for (const key of ['m1', 'm2', 'kept']) await c.call(['XADD', key, '1-1', 'f', key]);
    expect(nodeText(await c.call(['MIGRATE', '127.0.0.1', String(redis.port), '', '0', '5000', 'KEYS', 'm1', 'm2']))).toBe('OK');
    c.close();
    await killHard(spool);
    spool = await spawnSpool(dir);
    c = await RespConnection.connect(spool.port);
    expect(nodeText(await c.call(['EXISTS', 'm1', 'm2', 'kept']))).toBe('1');
    c.close();
    await spool.kill('SIGTERM');
    const rc = await RespConnection.connect(redis.port);
    expect(nodeText(await rc.call(['EXISTS', 'm1', 'm2']))).toBe('2');
    rc.close();
  }, 120000);
});
