// Replication over real TCP on loopback: a Spool replica of a Spool master through writes, detaches and partial
// resynchronizations; Spool replicating a real redis-server 7 (full sync, live stream, other types skipped,
// cut-over); a real redis-server 7 replicating Spool. The end state is compared with XRANGE and XINFO STREAM
// FULL on both sides. Every wait is a bounded poll.
import Redis from 'ioredis';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { clientPool, infoField, until } from '../helpers/replication';

const stops: Array<() => Promise<void>> = [];
const pool = clientPool();
const client = (port: number): Redis => pool.client(port);
afterEach(async () => {
  pool.closeAll();
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});
afterAll(async () => {
  for (const stop of stops.splice(0).reverse()) await stop().catch(() => undefined);
});

async function spool(options: Record<string, string> = {}): Promise<SpoolHandle> {
  const s = await startSpool(options);
  stops.push(() => s.stop());
  return s;
}

async function redisServer(args: string[] = []): Promise<RunningRedis> {
  const r = await startRedis(args);
  stops.push(() => r.stop());
  return r;
}

async function linkUp(replica: Redis): Promise<void> {
  await until('the master link', async () => infoField(await replica.info('replication'), 'master_link_status') === 'up');
}

/** Both at the same offset: the replica processed everything the master produced. */
async function caughtUp(master: Redis, replica: Redis): Promise<void> {
  await until('the replica to catch up', async () => {
    const m = infoField(await master.info('replication'), 'master_repl_offset');
    const r = infoField(await replica.info('replication'), 'slave_repl_offset');
    return m !== undefined && m === r && infoField(await replica.info('replication'), 'master_link_status') === 'up';
  });
}

/**
 * XINFO STREAM FULL without what only reflects when each side ran a command (consumers' seen/active times).
 * `skip`: more fields left out (a redis-server 7.0 master does not propagate a group's entries-read after a
 * plain XREADGROUP, so its own replicas differ there too).
 */
async function streamState(r: Redis, key: string, skip: readonly string[] = []): Promise<unknown> {
  const full = (await r.call('XINFO', 'STREAM', key, 'FULL')) as unknown[];
  const left = ['seen-time', 'active-time', ...skip];
  const strip = (value: unknown): unknown => {
    if (!Array.isArray(value)) return value;
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const v = value[i];
      if (typeof v === 'string' && left.includes(v) && i % 2 === 0) {
        i++;
        continue;
      }
      out.push(strip(v));
    }
    return out;
  };
  return { full: strip(full), range: await r.xrange(key, '-', '+') };
}

async function expectSameStreams(master: Redis, replica: Redis, keys: string[], skip: readonly string[] = []): Promise<void> {
  for (const key of keys) expect(await streamState(replica, key, skip), key).toEqual(await streamState(master, key, skip));
}

describe('Spool master -> Spool replica', () => {
  test('writes while attached, detached and reattached; partial resync; same streams at the end', async () => {
    const m = await spool();
    const r = await spool();
    const master = client(m.port);
    const replica = client(r.port);
    // Before the replica attaches: streams, a group, deliveries.
    for (let i = 0; i < 50; i++) await master.xadd('s1', '*', 'n', String(i));
    await master.xgroup('CREATE', 's1', 'g', '0');
    await master.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 5, 'STREAMS', 's1', '>');
    await master.xadd('s2', '5-1', 'a', '1');
    await master.select(2);
    await master.xadd('other-db', '*', 'x', 'y');
    await master.select(0);

    expect(await replica.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK');
    expect(await replica.call('REPLICAOF', '127.0.0.1', String(m.port))).toBe('OK Already connected to specified master');
    await linkUp(replica);
    await caughtUp(master, replica);
    expect(await replica.xlen('s1')).toBe(50);

    // While attached: every kind of write, a transaction, approximate trims, NOACK, claims.
    await master.xreadgroup('GROUP', 'g', 'bob', 'COUNT', 3, 'STREAMS', 's1', '>');
    await master.xreadgroup('GROUP', 'g', 'carol', 'COUNT', 2, 'NOACK', 'STREAMS', 's1', '>');
    const pending = (await master.xpending('s1', 'g', '-', '+', 10, 'alice')) as [string][];
    await master.xack('s1', 'g', pending[0][0]);
    await master.xclaim('s1', 'g', 'bob', 0, pending[1][0]);
    await master.xautoclaim('s1', 'g', 'carol', 0, '0', 'COUNT', 1);
    await master.xdel('s1', pending[2][0]);
    await master.multi().xadd('s2', '*', 'b', '2').xadd('s2', 'MAXLEN', '~', 1, '*', 'c', '3').xtrim('s1', 'MAXLEN', '~', 30).exec();
    await master.xtrim('s2', 'MINID', '=', '0-1');
    await master.xgroup('CREATECONSUMER', 's2', 'g2', 'dave').catch(() => undefined); // no group: an error, nothing sent
    await master.xgroup('CREATE', 's2', 'g2', '$', 'MKSTREAM');
    await master.xgroup('CREATECONSUMER', 's2', 'g2', 'dave');
    await master.xgroup('SETID', 's2', 'g2', '0');
    expect(await master.call('WAIT', '1', '5000')).toBe(1);
    await caughtUp(master, replica);
    await expectSameStreams(master, replica, ['s1', 's2']);

    // The link shows in CLIENT LIST on both sides (flags M and S, TYPE master / replica).
    expect(String(await replica.call('CLIENT', 'LIST', 'TYPE', 'master'))).toMatch(/^id=\d+ .*flags=M /);
    expect(String(await master.call('CLIENT', 'LIST', 'TYPE', 'replica'))).toMatch(/^id=\d+ .*flags=S /);
    expect(String(await master.call('CLIENT', 'LIST', 'TYPE', 'normal'))).not.toContain('flags=S');

    // Read-only replica, as Redis words it.
    await expect(replica.xadd('s1', '*', 'no', 'no')).rejects.toThrow("READONLY You can't write against a read only replica.");

    // Detach from the replica side (CLIENT KILL TYPE master): the replica reconnects and resumes partially.
    const okBefore = Number(infoField(await master.info('stats'), 'sync_partial_ok'));
    expect(await replica.call('CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    for (let i = 0; i < 20; i++) await master.xadd('s1', '*', 'while', 'detached');
    await master.xreadgroup('GROUP', 'g', 'alice', 'COUNT', 4, 'STREAMS', 's1', '>');
    await caughtUp(master, replica);
    expect(Number(infoField(await master.info('stats'), 'sync_partial_ok'))).toBeGreaterThan(okBefore);
    await expectSameStreams(master, replica, ['s1', 's2']);

    // Detach from the master side (CLIENT KILL TYPE replica): again a partial resynchronization.
    const okMiddle = Number(infoField(await master.info('stats'), 'sync_partial_ok'));
    expect(await master.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await master.xadd('s2', '*', 'after', 'kill');
    await caughtUp(master, replica);
    expect(Number(infoField(await master.info('stats'), 'sync_partial_ok'))).toBeGreaterThan(okMiddle);
    expect(Number(infoField(await master.info('stats'), 'sync_full'))).toBe(1);
    await expectSameStreams(master, replica, ['s1', 's2']);
    await replica.select(2);
    expect(await replica.xlen('other-db')).toBe(1);

    // INFO and ROLE on both sides.
    const mInfo = await master.info('replication');
    expect(infoField(mInfo, 'role')).toBe('master');
    expect(infoField(mInfo, 'connected_slaves')).toBe('1');
    expect(infoField(mInfo, 'slave0')).toMatch(new RegExp(`^ip=127\\.0\\.0\\.1,port=${r.port},state=online,offset=\\d+,lag=\\d+$`));
    expect(infoField(mInfo, 'repl_backlog_active')).toBe('1');
    const rInfo = await replica.info('replication');
    expect(infoField(rInfo, 'role')).toBe('slave');
    expect(infoField(rInfo, 'master_port')).toBe(String(m.port));
    expect(infoField(rInfo, 'slave_read_only')).toBe('1');
    expect(infoField(rInfo, 'master_replid')).toBe(infoField(mInfo, 'master_replid'));
    const offset = Number(infoField(mInfo, 'master_repl_offset'));
    expect(await master.call('ROLE')).toEqual(['master', offset, [['127.0.0.1', String(r.port), expect.any(String)]]]);
    expect(await replica.call('ROLE')).toEqual(['slave', '127.0.0.1', m.port, 'connected', offset]);

    // REPLICAOF NO ONE: a writable master with a new ID, the old one kept as replid2.
    const oldId = infoField(rInfo, 'master_replid');
    expect(await replica.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const promoted = await replica.info('replication');
    expect(infoField(promoted, 'role')).toBe('master');
    expect(infoField(promoted, 'master_replid2')).toBe(oldId);
    expect(infoField(promoted, 'second_repl_offset')).toBe(String(offset + 1));
    expect(await replica.xadd('s1', '*', 'now', 'writable')).toMatch(/^\d+-\d+$/);
  });

  test('a replica of a promoted sibling resumes partially (replid2)', async () => {
    const m = await spool();
    const a = await spool();
    const b = await spool();
    const master = client(m.port);
    const ra = client(a.port);
    const rb = client(b.port);
    await master.xadd('s', '*', 'k', 'v');
    await ra.call('REPLICAOF', '127.0.0.1', String(m.port));
    await rb.call('REPLICAOF', '127.0.0.1', String(m.port));
    await caughtUp(master, ra);
    await caughtUp(master, rb);
    await master.xadd('s', '*', 'k', 'v2');
    await caughtUp(master, ra);
    await caughtUp(master, rb);
    // Failover by hand: a is promoted, b follows it.
    expect(await ra.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect(await rb.call('REPLICAOF', '127.0.0.1', String(a.port))).toBe('OK');
    await caughtUp(ra, rb);
    const stats = await ra.info('stats');
    expect(infoField(stats, 'sync_partial_ok')).toBe('1');
    expect(infoField(stats, 'sync_full')).toBe('0');
    await ra.xadd('s', '*', 'k', 'v3');
    await caughtUp(ra, rb);
    await expectSameStreams(ra, rb, ['s']);
  });

  test('chained: a replica of a replica gets the master\'s stream as its parent got it', async () => {
    const [a, b, c] = [await spool(), await spool(), await spool()];
    const [ra, rb, rc] = [client(a.port), client(b.port), client(c.port)];
    await ra.xadd('s', '*', 'before', '1');
    await rb.call('REPLICAOF', '127.0.0.1', String(a.port));
    await caughtUp(ra, rb);
    await rc.call('REPLICAOF', '127.0.0.1', String(b.port));
    await caughtUp(rb, rc);
    await ra.xgroup('CREATE', 's', 'g', '0');
    for (let i = 0; i < 10; i++) await ra.xadd('s', '*', 'n', String(i));
    await ra.xreadgroup('GROUP', 'g', 'c', 'COUNT', 3, 'STREAMS', 's', '>');
    await caughtUp(ra, rb);
    await caughtUp(rb, rc);
    expect(infoField(await rc.info('replication'), 'master_replid')).toBe(infoField(await ra.info('replication'), 'master_replid'));
    await expectSameStreams(ra, rc, ['s']);
  });

  test('WAIT blocks only its client; min-replicas-to-write refuses writes without good replicas', async () => {
    const m = await spool({ 'min-replicas-to-write': '1', 'min-replicas-max-lag': '10' });
    const master = client(m.port);
    await expect(master.xadd('s', '*', 'a', '1')).rejects.toThrow('NOREPLICAS Not enough good replicas to write.');
    // No replica: WAIT times out with 0, and other clients are served meanwhile.
    const waiting = master.call('WAIT', '1', '300');
    const other = client(m.port);
    expect(await other.ping()).toBe('PONG');
    expect(await waiting).toBe(0);
    const r = await spool();
    const replica = client(r.port);
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await linkUp(replica);
    await until('a good replica', async () => infoField(await master.info('replication'), 'min_slaves_good_slaves') === '1');
    expect(await master.xadd('s', '1-1', 'a', '1')).toBe('1-1');
    expect(await master.call('WAIT', '1', '5000')).toBe(1);
    expect(await replica.xrange('s', '-', '+')).toEqual([['1-1', ['a', '1']]]);
    await expect(replica.call('WAIT', '1', '10')).rejects.toThrow('ERR WAIT cannot be used with replica instances.');
  });
  test('retention trims on the master travel as exact XTRIMs; a replica never trims by its own settings', async () => {
    const m = await spool({ 'stream-maxbytes': '200' });
    const r = await spool({ 'stream-maxage': '1' });
    const master = client(m.port);
    const replica = client(r.port);
    await replica.call('REPLICAOF', '127.0.0.1', String(m.port));
    await linkUp(replica);
    // Old IDs: the replica's own maxage would remove them all; the master's maxbytes keeps the newest ones.
    for (let i = 1; i <= 40; i++) await master.xadd('s', `${i}-1`, 'field', 'x'.repeat(20));
    await caughtUp(master, replica);
    const kept = await master.xlen('s');
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(40);
    await expectSameStreams(master, replica, ['s']);
  });
});

describe('Spool and a real redis-server 7', () => {
  // Diskless (the RDB as `$EOF:<mark>`, 7.0's default) and disk-based (`$<len>`) full syncs.
  test.each(['yes', 'no'])('Spool replicates redis-server (repl-diskless-sync %s): streams arrive, other types are skipped, REPLICAOF NO ONE cuts over', async (diskless) => {
    const redis = await redisServer(['--repl-diskless-sync', diskless, '--repl-diskless-sync-delay', '0']);
    const source = client(redis.port);
    for (let i = 0; i < 30; i++) await source.xadd('orders', '*', 'n', String(i));
    await source.xgroup('CREATE', 'orders', 'workers', '0');
    await source.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 10, 'STREAMS', 'orders', '>');
    await source.rpush('a-list', 'x', 'y');
    await source.set('a-string', 'z');
    await source.select(3);
    await source.xadd('events', '1-1', 'e', '1');
    await source.select(0);

    const s = await spool();
    const spoolClient = client(s.port);
    expect(await spoolClient.call('REPLICAOF', '127.0.0.1', String(redis.port))).toBe('OK');
    await linkUp(spoolClient);
    await caughtUp(source, spoolClient);
    expect(await spoolClient.dbsize()).toBe(1); // the list and the string were skipped
    // Live writes, including consumer-group traffic propagated as XCLAIM / XGROUP SETID.
    for (let i = 0; i < 10; i++) await source.xadd('orders', 'MAXLEN', '~', '1000', '*', 'live', String(i));
    await source.xreadgroup('GROUP', 'workers', 'w2', 'COUNT', 5, 'NOACK', 'STREAMS', 'orders', '>');
    await source.xreadgroup('GROUP', 'workers', 'w1', 'COUNT', 5, 'STREAMS', 'orders', '>');
    await source.xack('orders', 'workers', ((await source.xrange('orders', '-', '+', 'COUNT', 1)) as [string][])[0][0]);
    await caughtUp(source, spoolClient);
    await expectSameStreams(source, spoolClient, ['orders'], ['entries-read', 'lag']);
    // redis-server's WAIT asks for acknowledgements inside its stream (REPLCONF GETACK): Spool answers.
    expect(await source.call('WAIT', '1', '5000')).toBe(1);
    // A lost link resumes partially on redis-server too.
    expect(await spoolClient.call('CLIENT', 'KILL', 'TYPE', 'master')).toBe(1);
    await source.xadd('orders', '*', 'while', 'detached');
    await caughtUp(source, spoolClient);
    expect(infoField(await source.info('stats'), 'sync_partial_ok')).toBe('1');
    expect(await spoolClient.xlen('orders')).toBe(41);
    await spoolClient.select(3);
    expect(await spoolClient.xrange('events', '-', '+')).toEqual([['1-1', ['e', '1']]]);
    await spoolClient.select(0);

    // Cut-over: writes go to Spool from now on.
    expect(await spoolClient.call('REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect(await spoolClient.xadd('orders', '*', 'after', 'cutover')).toMatch(/^\d+-\d+$/);
    expect(await spoolClient.xlen('orders')).toBe(42);
  });

  test('masterauth / masteruser: Spool authenticates to a redis-server that requires it', async () => {
    const redis = await redisServer(['--repl-diskless-sync-delay', '0']);
    await client(redis.port).config('SET', 'requirepass', 'sekret');
    const source = new Redis({ port: redis.port, host: '127.0.0.1', password: 'sekret', maxRetriesPerRequest: 0 });
    await source.xadd('s', '1-1', 'a', '1');
    await source.call('ACL', 'SETUSER', 'repl', 'on', '>userpass', '+@all', '~*');
    const s = await spool();
    const spoolClient = client(s.port);
    await spoolClient.config('SET', 'masterauth', 'wrong');
    await spoolClient.call('REPLICAOF', '127.0.0.1', String(redis.port));
    await new Promise((r) => setTimeout(r, 300));
    expect(infoField(await spoolClient.info('replication'), 'master_link_status')).toBe('down');
    await spoolClient.config('SET', 'masterauth', 'sekret');
    await linkUp(spoolClient);
    expect(await spoolClient.xrange('s', '-', '+')).toEqual([['1-1', ['a', '1']]]);
    // An ACL user: AUTH <user> <password>.
    await spoolClient.call('REPLICAOF', 'NO', 'ONE');
    await spoolClient.config('SET', 'masteruser', 'repl');
    await spoolClient.config('SET', 'masterauth', 'userpass');
    await source.xadd('s', '2-1', 'b', '2');
    await spoolClient.call('REPLICAOF', '127.0.0.1', String(redis.port));
    await linkUp(spoolClient);
    await until('the second entry', async () => (await spoolClient.xlen('s')) === 2);
    source.disconnect();
  });

  test('redis-server replicates Spool: its streams equal Spool\'s', async () => {
    const s = await spool();
    const master = client(s.port);
    for (let i = 0; i < 20; i++) await master.xadd('s', '*', 'i', String(i));
    await master.xgroup('CREATE', 's', 'g', '0');
    await master.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 4, 'STREAMS', 's', '>');
    const redis = await redisServer(['--replicaof', '127.0.0.1', String(s.port)]);
    const replica = client(redis.port);
    await linkUp(replica);
    for (let i = 0; i < 10; i++) await master.xadd('s', 'MAXLEN', '~', '5', '*', 'live', String(i));
    await master.xreadgroup('GROUP', 'g', 'c2', 'COUNT', 3, 'STREAMS', 's', '>');
    await master.xclaim('s', 'g', 'c2', 0, ((await master.xpending('s', 'g', '-', '+', 1)) as [string][])[0][0]);
    await master.multi().xadd('t', '*', 'a', '1').xadd('t', '*', 'b', '2').exec();
    expect(await master.call('WAIT', '1', '5000')).toBe(1);
    await caughtUp(master, replica);
    await expectSameStreams(master, replica, ['s', 't']);
    // redis-server resumes partially from Spool's backlog after a lost link.
    expect(await master.call('CLIENT', 'KILL', 'TYPE', 'replica')).toBe(1);
    await master.xadd('t', '*', 'c', '3');
    await until('the redis replica back', async () => infoField(await master.info('stats'), 'sync_partial_ok') === '1');
    await caughtUp(master, replica);
    await expectSameStreams(master, replica, ['s', 't']);
    expect(infoField(await master.info('stats'), 'sync_full')).toBe('1');
  });

  test('ROLE and INFO replication have redis-server\'s shapes (master with one replica, and the replica)', async () => {
    const shape = (v: unknown): unknown => (Array.isArray(v) ? v.map(shape) : typeof v);
    const redisMaster = await redisServer(['--repl-diskless-sync-delay', '0']);
    const redisReplica = await redisServer(['--replicaof', '127.0.0.1', String(redisMaster.port)]);
    const rm = client(redisMaster.port);
    const rr = client(redisReplica.port);
    await linkUp(rr);
    await until('redis ACK', async () => ((await rm.call('ROLE')) as unknown[][])[2].length === 1);
    const sm = await spool();
    const sr = await spool();
    const spoolMaster = client(sm.port);
    const spoolReplica = client(sr.port);
    await spoolReplica.call('REPLICAOF', '127.0.0.1', String(sm.port));
    await linkUp(spoolReplica);
    await until('the replica online', async () => ((await spoolMaster.call('ROLE')) as unknown[][])[2].length === 1);
    expect(shape(await spoolMaster.call('ROLE'))).toEqual(shape(await rm.call('ROLE')));
    expect(shape(await spoolReplica.call('ROLE'))).toEqual(shape(await rr.call('ROLE')));
    const names = (info: string): string[] => info.split('\n').filter((l) => l.includes(':')).map((l) => l.split(':')[0]);
    expect(names(await spoolMaster.info('replication'))).toEqual(names(await rm.info('replication')));
    expect(names(await spoolReplica.info('replication'))).toEqual(names(await rr.info('replication')));
  });
});
