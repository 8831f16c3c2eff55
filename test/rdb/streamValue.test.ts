// The stream value codec against bytes from a real redis-server 7.0: a DUMP made by Redis decodes to the
// entries, flags, counters and groups Redis reports, and encoding that value again gives Redis's bytes exactly
// (Redis started with rdbcompression no, since Spool writes strings uncompressed). Also the primitives:
// CRC-64 check value, listpack integer and string encodings, LZF strings from a compressing Redis.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText, type Arg } from '../helpers/resp';
import { crc64 } from '../../src/rdb/crc64';
import { encodeDumpPayload, restoreStreamValue, DumpPayloadError } from '../../src/rdb/dump';
import type { StreamValue } from '../../src/rdb/streamValue';
import { ListpackBuilder, readListpack } from '../../src/rdb/listpack';
import { buildStreams, bulk, type Builder } from './streamShapes';

let plain: RunningRedis;
let packed: RunningRedis;
let conn: RespConnection;
let connPacked: RespConnection;

beforeAll(async () => {
  plain = await startRedis(['--rdbcompression', 'no']);
  packed = await startRedis();
  conn = await RespConnection.connect(plain.port);
  connPacked = await RespConnection.connect(packed.port);
});

afterAll(async () => {
  conn?.close();
  connPacked?.close();
  await plain?.stop();
  await packed?.stop();
});


const call = (c: RespConnection): Builder => async (args: Arg[]) => c.call(args);

function withoutTimes(value: StreamValue): StreamValue {
  for (const g of value.groups) {
    for (const p of g.pending) p.deliveryTime = 0;
    for (const c of g.consumers) c.seenTime = 0;
  }
  return value;
}

describe('primitives', () => {
  it('CRC-64/Jones check value of crc64.c', () => {
    expect(crc64(Buffer.from('123456789')).readBigUInt64LE(0)).toBe(0xe9c6d914c4b8d9can);
  });

  it('listpack integers and strings round-trip with lpAppend encodings', () => {
    const lp = new ListpackBuilder();
    const ints = [0n, 127n, 128n, -1n, -4096n, 4095n, 4096n, -32768n, 32767n, 8388607n, -8388608n, 2147483647n, -2147483648n, 2n ** 62n, -(2n ** 63n)];
    for (const v of ints) lp.int(v);
    const strings = ['', 'a', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(4095), 'w'.repeat(4096), '007', '-0', '12a'];
    for (const s of strings) lp.string(Buffer.from(s));
    lp.string(Buffer.from('123'));
    const back = readListpack(lp.finish());
    expect(back.slice(0, ints.length)).toEqual(ints);
    expect(back.slice(ints.length, -1).map((b) => (b as Buffer).toString())).toEqual(strings);
    expect(back[back.length - 1]).toBe(123n);
  });
});

describe('stream values DUMPed by redis-server 7.0', () => {
  it('decode and encode back to the same bytes', async () => {
    const keys = await buildStreams(call(conn));
    expect(keys.length).toBeGreaterThan(3);
    for (const key of keys) {
      const payload = bulk(await conn.call(['DUMP', key]));
      const value = restoreStreamValue(payload);
      const len = nodeText(await conn.call(['XLEN', key]));
      expect(String(value.length)).toBe(len);
      expect(encodeDumpPayload(value).equals(payload), `payload of ${key}`).toBe(true);
    }
  });

  it('reads LZF-compressed listpacks (rdbcompression yes)', async () => {
    const keys = await buildStreams(call(connPacked));
    for (const key of keys) {
      const compressed = bulk(await connPacked.call(['DUMP', key]));
      const reference = bulk(await conn.call(['DUMP', key]));
      // Two servers: delivery and seen times differ, the rest must not.
      const untimed = (p: Buffer) => encodeDumpPayload(withoutTimes(restoreStreamValue(p)));
      expect(untimed(compressed).equals(untimed(reference)), `payload of ${key}`).toBe(true);
    }
  });

  it('refuses bad versions and checksums', async () => {
    const payload = bulk(await conn.call(['DUMP', 'shapes:small']));
    const wrongCrc = Buffer.from(payload);
    wrongCrc[wrongCrc.length - 1] ^= 1;
    const kind = (p: Buffer) => {
      try {
        restoreStreamValue(p);
        return 'ok';
      } catch (err) {
        return (err as DumpPayloadError).kind;
      }
    };
    expect(kind(wrongCrc)).toBe('version-or-checksum');
    expect(kind(payload.subarray(0, 5))).toBe('version-or-checksum');
    expect(kind(payload)).toBe('ok');
  });
});

describe('hostile payloads', () => {
  it('an LZF string claiming a huge size is refused without allocating it', () => {
    // type 19, node count 1, key (16 raw bytes), then an LZF string: clen 2, ulen 2^32 - 1.
    const body = Buffer.concat([
      Buffer.from([19, 1, 16]),
      Buffer.alloc(16),
      Buffer.from([0xc3, 2, 0x80, 0xff, 0xff, 0xff, 0xff, 0, 0x41]),
      Buffer.from([10, 0]),
    ]);
    const payload = Buffer.concat([body, crc64(body)]);
    expect(() => restoreStreamValue(payload)).toThrow(DumpPayloadError);
  });
});
