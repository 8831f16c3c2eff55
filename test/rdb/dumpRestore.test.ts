// DUMP and RESTORE against a real redis-server 7.0.15: streams of many shapes DUMPed by Redis and RESTOREd into
// Spool read back identically (XINFO STREAM FULL, XRANGE) and DUMP back to Redis's bytes; streams built in
// Spool RESTORE into Redis identically; option and payload errors are Redis's; mutated payloads never crash.
import { describe, expect, it } from 'vitest';
import { useServerPair } from './serverPair';
import { RespConnection, nodeText, type Arg } from '../helpers/resp';
import { crc64 } from '../../src/rdb/crc64';
import { buildStreams, bulk, streamViews } from './streamShapes';

const pair = useServerPair(['--rdbcompression', 'no']);

const text = (b: Buffer) => b.toString('latin1');

const views = (c: RespConnection, key: string) => streamViews((args) => c.call(args), [key]);

describe('DUMP from redis-server, RESTORE into Spool', () => {
  it('reads back identically and DUMPs to the same bytes', async () => {
    await pair.r.call(['FLUSHALL']);
    await pair.s.call(['FLUSHALL']);
    const keys = await buildStreams((args) => pair.r.call(args));
    for (const key of keys) {
      const payload = bulk(await pair.r.call(['DUMP', key]));
      expect(nodeText(await pair.s.call(['RESTORE', key, '0', payload]))).toBe('OK');
      expect(await views(pair.s, key), key).toEqual(await views(pair.r, key));
      expect(bulk(await pair.s.call(['DUMP', key])).equals(payload), `DUMP of ${key}`).toBe(true);
    }
    // The restored streams take new writes as Redis's do.
    for (const c of [pair.r, pair.s]) {
      await c.call(['XADD', 'shapes:big', '*', 'more', '1']);
      await c.call(['XTRIM', 'shapes:big', 'MAXLEN', '~', '100']);
      await c.call(['XREADGROUP', 'GROUP', 'g1', 'erin', 'COUNT', '2', 'STREAMS', 'shapes:groups', '>']);
    }
    expect(text((await pair.s.call(['XINFO', 'STREAM', 'shapes:big'])).bytes).replace(/\d{13}-\d+/g, 'ID')).toBe(
      text((await pair.r.call(['XINFO', 'STREAM', 'shapes:big'])).bytes).replace(/\d{13}-\d+/g, 'ID'),
    );
  });
});

describe('DUMP from Spool, RESTORE into redis-server', () => {
  it('restores identically and both DUMP the same bytes for streams built the same way', async () => {
    await pair.r.call(['FLUSHALL']);
    await pair.s.call(['FLUSHALL']);
    const keys = await buildStreams((args) => pair.s.call(args));
    await buildStreams((args) => pair.r.call(args));
    for (const key of keys) {
      const payload = bulk(await pair.s.call(['DUMP', key]));
      expect(nodeText(await pair.r.call(['RESTORE', `copy:${key}`, '0', payload]))).toBe('OK');
      const restored = await views(pair.r, `copy:${key}`);
      expect(restored, key).toEqual(await views(pair.s, key));
      if (key !== 'shapes:groups') {
        // Built the same way, the same bytes (group delivery and seen times differ between the two runs).
        expect(bulk(await pair.r.call(['DUMP', key])).equals(payload), `DUMP of ${key}`).toBe(true);
      }
    }
  });
});

describe('RESTORE options and errors, as Redis', () => {
  it('answers like redis-server', async () => {
    await pair.r.call(['FLUSHALL']);
    await pair.s.call(['FLUSHALL']);
    for (const c of [pair.r, pair.s]) await c.call(['XADD', 'src', '1-1', 'a', '1']);
    const good = bulk(await pair.r.call(['DUMP', 'src']));
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 3] ^= 0x40;
    const badVersion = Buffer.from(good);
    badVersion.writeUInt16LE(12, badVersion.length - 10);
    badVersion.set(crc64(badVersion.subarray(0, badVersion.length - 8)), badVersion.length - 8);
    const truncatedBody = Buffer.concat([good.subarray(0, 20), good.subarray(good.length - 10, good.length - 8)]);
    const truncated = Buffer.concat([truncatedBody, crc64(truncatedBody)]);
    const scripts: Arg[][] = [
      ['RESTORE', 'src', '0', good],
      ['RESTORE', 'src', 'x', good],
      ['RESTORE', 'n1', 'x', good],
      ['RESTORE', 'n1', '-1', good],
      ['RESTORE', 'n1', '0', good, 'BOGUS'],
      ['RESTORE', 'n1', '0', good, 'IDLETIME'],
      ['RESTORE', 'n1', '0', good, 'IDLETIME', '-1'],
      ['RESTORE', 'n1', '0', good, 'IDLETIME', 'x'],
      ['RESTORE', 'n1', '0', good, 'FREQ', '256'],
      ['RESTORE', 'n1', '0', good, 'FREQ', '1', 'IDLETIME', '1'],
      ['RESTORE', 'n1', '0', badCrc],
      ['RESTORE', 'n1', '0', badVersion],
      ['RESTORE', 'n1', '0', 'short'],
      ['RESTORE', 'n1', '0', truncated],
      ['RESTORE', 'n1', '0', good, 'IDLETIME', '5', 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'n1'],
      ['RESTORE', 'n2', '1', good, 'ABSTTL'],
      ['EXISTS', 'n2'],
      ['RESTORE', 'src', '1', good, 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'src'],
      ['RESTORE', 'src', '0', good, 'REPLACE', 'FREQ', '7'],
      ['XRANGE', 'src', '-', '+'],
      ['RESTORE-ASKING', 'n3', '0', good],
      ['XRANGE', 'n3', '-', '+'],
      ['DUMP', 'nokey'],
      ['RESTORE', 'n1'],
    ];
    for (const cmd of scripts) {
      const want = text((await pair.r.call(cmd)).bytes);
      const got = text((await pair.s.call(cmd)).bytes);
      expect(got, cmd.map((a) => (Buffer.isBuffer(a) ? '<payload>' : a)).join(' ')).toBe(want);
    }
  });

  it('serves readers blocked on the restored key, as Redis', async () => {
    await pair.r.call(['XADD', 'blocksrc', '5-1', 'f', 'v']);
    const payload = bulk(await pair.r.call(['DUMP', 'blocksrc']));
    for (const [c, port] of [
      [pair.r, pair.redis.port],
      [pair.s, pair.spool.port],
    ] as const) {
      const reader = await RespConnection.connect(port);
      reader.sendCommand(['XREAD', 'BLOCK', '10000', 'STREAMS', 'wakes', '0-0']);
      // The reader is blocked once CLIENT LIST shows it (bounded wait, no timing assertion).
      for (let i = 0; i < 200 && !text((await c.call(['CLIENT', 'LIST'])).bytes).includes('cmd=xread'); i++) {
        await new Promise((res) => setTimeout(res, 10));
      }
      expect(nodeText(await c.call(['RESTORE', 'wakes', '0', payload]))).toBe('OK');
      const [got] = await reader.read(1, 10000);
      expect(text(got.bytes)).toBe('*1\r\n*2\r\n$5\r\nwakes\r\n*1\r\n*2\r\n$3\r\n5-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
      reader.close();
    }
  });

  it('refuses payloads of the types Spool does not store, naming the type', async () => {
    await pair.r.call(['SET', 'plain', 'text']);
    await pair.r.call(['HSET', 'hash', 'f', 'v']);
    for (const [key, type] of [['plain', 'string'], ['hash', 'hash']]) {
      const payload = bulk(await pair.r.call(['DUMP', key]));
      expect(text((await pair.s.call(['RESTORE', key, '0', payload])).bytes)).toBe(
        `-ERR Bad data format: the DUMP payload holds a ${type}, and Spool stores streams only\r\n`,
      );
    }
  });

  it('mutated payloads get an error or restore, never a crash (bounded fuzz)', async () => {
    await pair.s.call(['FLUSHALL']);
    await buildStreams((args) => pair.s.call(args));
    const sources = [bulk(await pair.s.call(['DUMP', 'shapes:groups'])), bulk(await pair.s.call(['DUMP', 'shapes:fields']))];
    let seed = 12345;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const allowed = new Set(['+OK', '-ERR Bad data format', '-ERR DUMP payload version or checksum are wrong']);
    for (let i = 0; i < 300; i++) {
      const source = sources[i % 2];
      let body = Buffer.from(source.subarray(0, source.length - 8));
      const kind = rand(3);
      if (kind === 0) for (let k = 0; k <= rand(4); k++) body[rand(body.length - 2)] = rand(256);
      else if (kind === 1) body = Buffer.concat([body.subarray(0, rand(body.length)), body.subarray(body.length - 2)]);
      else body = Buffer.concat([body.subarray(0, rand(body.length - 2)), Buffer.from([rand(256)]), body.subarray(rand(body.length - 2))]);
      const payload = i % 5 === 0 ? Buffer.concat([body, Buffer.alloc(8)]) : Buffer.concat([body, crc64(body)]);
      const reply = (await pair.s.call(['RESTORE', `fuzz${i}`, '0', payload])).bytes.toString('latin1').trimEnd();
      expect(allowed.has(reply) || reply.startsWith('-ERR Bad data format'), reply).toBe(true);
      if (reply === '+OK') {
        // Whatever was restored is a readable stream.
        expect((await pair.s.call(['XINFO', 'STREAM', `fuzz${i}`, 'FULL'])).type).not.toBe('-');
      }
    }
    expect(nodeText(await pair.s.call(['PING']))).toBe('PONG');
  });
});
