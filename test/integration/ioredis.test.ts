// ioredis against Spool over TCP, in RESP2 and RESP3: the stream family end to end, 1000-command pipelines,
// transactions, and blocking reads woken from other connections.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useIoredis } from '../helpers/ioredis';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let spool: SpoolHandle;
beforeAll(async () => {
  spool = await startSpool();
});
afterAll(async () => {
  await spool?.stop();
});

describe.each([2, 3] as const)('ioredis RESP%i', (protocol) => {
  const open = useIoredis(() => spool.port);
  const connect = () => open(protocol);

  test('connects and answers PING, INFO has redis_version >= 7', async () => {
    const r = await connect();
    await r.flushall();
    expect(await r.ping()).toBe('PONG');
    const info = await r.info('server');
    expect(Number(/redis_version:(\d+)/.exec(info)?.[1])).toBeGreaterThanOrEqual(7);
  });

  test('XADD XLEN XRANGE XREVRANGE XDEL XTRIM', async () => {
    const r = await connect();
    await r.flushall();
    expect(await r.xadd('s', '1-1', 'a', '1')).toBe('1-1');
    expect(await r.xadd('s', '1-*', 'b', '2')).toBe('1-2');
    const auto = await r.xadd('s', '*', 'c', '3');
    expect(auto).toMatch(/^\d{13}-\d+$/);
    expect(await r.xlen('s')).toBe(3);
    expect(await r.xrange('s', '-', '+', 'COUNT', 2)).toEqual([
      ['1-1', ['a', '1']],
      ['1-2', ['b', '2']],
    ]);
    expect((await r.xrevrange('s', '+', '-', 'COUNT', 1))[0]![0]).toBe(auto);
    expect(await r.xdel('s', '1-1')).toBe(1);
    expect(await r.xtrim('s', 'MAXLEN', 1)).toBe(1);
    expect(await r.xlen('s')).toBe(1);
    expect(await r.xadd('nope', 'NOMKSTREAM', '*', 'f', 'v')).toBeNull();
    await expect(r.xadd('s', '1-0', 'f', 'v')).rejects.toThrow('ERR The ID specified in XADD is equal or smaller than the target stream top item');
  });

  test('binary keys and values round-trip', async () => {
    const r = await connect();
    await r.flushall();
    const key = Buffer.from([0xff, 0x00, 0x0d, 0x0a, 0x80]);
    const val = Buffer.from([0, 1, 2, 0xfe, 0xff, 13, 10]);
    await r.xadd(key, '1-0', Buffer.from([0xc3]), val);
    const got = await r.xrangeBuffer(key, '-', '+');
    expect(got[0]![0].toString()).toBe('1-0');
    expect(Buffer.compare(got[0]![1][0]!, Buffer.from([0xc3]))).toBe(0);
    expect(Buffer.compare(got[0]![1][1]!, val)).toBe(0);
    expect(await r.exists(key)).toBe(1);
  });

  test('a pipeline of 1000 XADDs is answered in order, then 1000 mixed commands', async () => {
    const r = await connect();
    await r.flushall();
    const p = r.pipeline();
    for (let i = 1; i <= 1000; i++) p.xadd('s', `${i}-0`, 'i', String(i));
    const res = await p.exec();
    expect(res).toHaveLength(1000);
    res!.forEach(([err, id], i) => {
      expect(err).toBeNull();
      expect(id).toBe(`${i + 1}-0`);
    });
    expect(await r.xlen('s')).toBe(1000);

    const q = r.pipeline();
    for (let i = 0; i < 1000; i++) {
      if (i % 4 === 0) q.xlen('s');
      else if (i % 4 === 1) q.xrange('s', `${i}-0`, `${i}-0`);
      else if (i % 4 === 2) q.xadd('s', '1-0', 'f', 'v'); // error: ID too small
      else q.ping(String(i));
    }
    const res2 = await q.exec();
    expect(res2).toHaveLength(1000);
    res2!.forEach(([err, val], i) => {
      if (i % 4 === 0) expect(val).toBe(1000);
      else if (i % 4 === 1) expect(val).toEqual([[`${i}-0`, ['i', String(i)]]]);
      else if (i % 4 === 2) expect(String(err)).toContain('equal or smaller');
      else expect(val).toBe(String(i));
    });
  });

  test('1000 pipelined commands from each of 5 connections at once', async () => {
    const conns = await Promise.all(Array.from({ length: 5 }, () => connect()));
    await conns[0]!.flushall();
    await Promise.all(
      conns.map(async (c, k) => {
        const p = c.pipeline();
        for (let i = 0; i < 1000; i++) p.xadd(`s${k}`, '*', 'i', String(i));
        const res = await p.exec();
        expect(res!.every(([e]) => e === null)).toBe(true);
      }),
    );
    for (let k = 0; k < 5; k++) expect(await conns[0]!.xlen(`s${k}`)).toBe(1000);
  });

  test('MULTI/EXEC and WATCH', async () => {
    const r = await connect();
    const other = await connect();
    await r.flushall();
    const res = await r.multi().xadd('s', '1-0', 'f', 'v').xlen('s').exec();
    expect(res).toEqual([
      [null, '1-0'],
      [null, 1],
    ]);
    await r.watch('s');
    await other.xadd('s', '2-0', 'f', 'v');
    expect(await r.multi().xlen('s').exec()).toBeNull();
  });

  test('XREAD BLOCK is woken by an XADD from another connection', async () => {
    const reader = await connect();
    const writer = await connect();
    await writer.flushall();
    await writer.xadd('s', '1-0', 'f', 'v');
    const pending = reader.xread('BLOCK', 5000, 'STREAMS', 's', '$');
    await new Promise((r) => setTimeout(r, 50));
    await writer.xadd('s', '2-0', 'g', 'w');
    expect(await pending).toEqual([['s', [['2-0', ['g', 'w']]]]]);
  });

  test('XREAD BLOCK times out with null', async () => {
    const r = await connect();
    await r.flushall();
    const t0 = Date.now();
    expect(await r.xread('BLOCK', 100, 'STREAMS', 's', '$')).toBeNull();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90);
  });

  test('50 blocked readers are all woken by one XADD', async () => {
    const writer = await connect();
    await writer.flushall();
    const readers = await Promise.all(Array.from({ length: 50 }, () => connect()));
    const pending = readers.map((r) => r.xread('BLOCK', 10000, 'STREAMS', 's', '$'));
    await new Promise((r) => setTimeout(r, 100));
    await writer.xadd('s', '5-0', 'f', 'v');
    const all = await Promise.all(pending);
    for (const res of all) expect(res).toEqual([['s', [['5-0', ['f', 'v']]]]]);
  });

  test('consumer group workflow with a blocked XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM', async () => {
    const a = await connect();
    const b = await connect();
    await a.flushall();
    expect(await a.xgroup('CREATE', 's', 'g', '$', 'MKSTREAM')).toBe('OK');
    const pending = a.xreadgroup('GROUP', 'g', 'alice', 'BLOCK', 5000, 'STREAMS', 's', '>');
    await new Promise((r) => setTimeout(r, 50));
    await b.xadd('s', '1-0', 'f', 'v');
    await b.xadd('s', '2-0', 'f', 'w');
    expect(await pending).toEqual([['s', [['1-0', ['f', 'v']]]]]);
    expect(await b.xreadgroup('GROUP', 'g', 'bob', 'STREAMS', 's', '>')).toEqual([['s', [['2-0', ['f', 'w']]]]]);
    const summary = (await b.xpending('s', 'g')) as unknown[];
    expect(summary.slice(0, 3)).toEqual([2, '1-0', '2-0']);
    expect(await b.xclaim('s', 'g', 'bob', 0, '1-0', 'JUSTID')).toEqual(['1-0']);
    expect(await b.xack('s', 'g', '1-0')).toBe(1);
    const auto = (await b.xautoclaim('s', 'g', 'carol', 0, '0', 'JUSTID')) as unknown[];
    expect(auto[0]).toBe('0-0');
    expect(auto[1]).toEqual(['2-0']);
    const groups = (await b.xinfo('GROUPS', 's')) as unknown[][];
    expect(groups[0]!.slice(0, 2)).toEqual(['name', 'g']);
  });
});

describe('ioredis RESP3 with map replies', () => {
  test('XINFO STREAM and XREAD come back as objects', async () => {
    const r = new Redis({ port: spool.port, host: '127.0.0.1', protocol: 3, replyMapping: 'resp3', lazyConnect: true });
    await r.connect();
    try {
      await r.flushall();
      await r.xadd('s', '1-0', 'f', 'v');
      const info = (await r.xinfo('STREAM', 's')) as unknown as Record<string, unknown>;
      expect(info.length).toBe(1);
      expect(info['last-generated-id']).toBe('1-0');
      const read = (await r.xread('STREAMS', 's', '0')) as unknown as Record<string, unknown>;
      expect(read).toEqual({ s: [['1-0', ['f', 'v']]] });
    } finally {
      r.disconnect();
    }
  });
});
