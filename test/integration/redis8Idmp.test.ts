// Idempotent XADD (Redis 8.6: IDMP / IDMPAUTO), XCFGSET IDMP-DURATION / IDMP-MAXSIZE and the XINFO STREAM IDMP
// fields, against an in-process Spool over raw RESP. Expected replies follow redis.io (XADD, XCFGSET, XINFO STREAM)
// and Redis's test suite (stream.tcl "XADD IDMP ...", "XCFGSET ..."); no Redis 8 server exists here.
import { describe, expect, test } from 'vitest';
import { useRawSpool } from '../helpers/rawSpool';

const server = useRawSpool();
const raw = server.raw;

const error = (text: string) => `-${text}\r\n`;
/** XINFO STREAM's field `name` as its raw reply bytes. */
async function infoField(key: string, name: string): Promise<string> {
  const r = (await server.conn.call(['XINFO', 'STREAM', key])).children!;
  for (let i = 0; i < r.length; i += 2) {
    if (r[i].bytes.toString('latin1') === `$${name.length}\r\n${name}\r\n`) return r[i + 1].bytes.toString('latin1');
  }
  return 'absent';
}

describe('XADD IDMP / IDMPAUTO', () => {
  test('a retry with the same producer and iid answers the original ID and adds nothing', async () => {
    const id1 = await raw('XADD', 's', 'IDMP', 'p1', 'payment-abc', '*', 'amount', '100', 'currency', 'USD');
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'payment-abc', '*', 'amount', '200', 'currency', 'EUR')).toBe(id1);
    expect(await raw('XLEN', 's')).toBe(':1\r\n');
    expect(await raw('XRANGE', 's', '-', '+')).toContain('$3\r\n100\r\n');
    // Producers have their own namespaces; binary iids are fine.
    expect(await raw('XADD', 's', 'IDMP', 'p2', 'payment-abc', '*', 'f', 'v')).not.toBe(id1);
    const bin = Buffer.from([0, 1, 2, 0xff]);
    const id3 = await raw('XADD', 's', 'MAXLEN', '~', '100', 'IDMP', 'p1', bin, 'KEEPREF', '*', 'f', 'v');
    expect(await raw('XADD', 's', 'IDMP', 'p1', bin, '*', 'f', 'dup')).toBe(id3);
    expect(await raw('XLEN', 's')).toBe(':3\r\n');
    expect(await infoField('s', 'pids-tracked')).toBe(':2\r\n');
    expect(await infoField('s', 'iids-tracked')).toBe(':3\r\n');
    expect(await infoField('s', 'iids-added')).toBe(':3\r\n');
    expect(await infoField('s', 'iids-duplicates')).toBe(':2\r\n');
    expect(await infoField('s', 'idmp-duration')).toBe(':100\r\n');
    expect(await infoField('s', 'idmp-maxsize')).toBe(':100\r\n');
  });

  test('IDMPAUTO: the iid is the field-value pairs, whatever their order; NOMKSTREAM still answers nil', async () => {
    const id1 = await raw('XADD', 's', 'IDMPAUTO', 'p1', '*', 'f1', 'a', 'f2', 'b');
    expect(await raw('XADD', 's', 'IDMPAUTO', 'p1', '*', 'f2', 'b', 'f1', 'a')).toBe(id1);
    expect(await raw('XADD', 's', 'IDMPAUTO', 'p1', '*', 'f2', 'a', 'f1', 'b')).not.toBe(id1);
    expect(await raw('XADD', 's', 'IDMPAUTO', 'p1', '*', 'f1a', '', 'f2', 'b')).not.toBe(id1);
    expect(await raw('XLEN', 's')).toBe(':3\r\n');
    expect(await raw('XADD', 'nokey', 'NOMKSTREAM', 'IDMPAUTO', 'p1', '*', 'f', 'v')).toBe('$-1\r\n');
  });

  test('syntax errors (Redis test suite texts); a stream without IDMP shows no IDMP fields', async () => {
    expect(await raw('XADD', 's', 'IDMP', 'p1', '*', 'f', 'v')).toBe(error('ERR Invalid stream ID specified as stream command argument'));
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'iid1', '1-1', 'f', 'v')).toBe(error('ERR IDMP/IDMPAUTO can be used only with auto-generated IDs'));
    expect(await raw('XADD', 's', 'IDMPAUTO', 'p1', '1-1', 'f', 'v')).toBe(error('ERR IDMP/IDMPAUTO can be used only with auto-generated IDs'));
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'i1', 'IDMP', 'p2', 'i2', '*', 'f', 'v')).toBe(error('ERR IDMP/IDMPAUTO specified multiple times'));
    expect(await raw('XADD', 's', 'IDMPAUTO', 'p1', 'IDMP', 'p2', 'i2', '*', 'f', 'v')).toBe(error('ERR IDMP/IDMPAUTO specified multiple times'));
    expect(await raw('XADD', 's', 'IDMP', '', 'i1', '*', 'f', 'v')).toBe(error('ERR IDMP requires a non-empty producer ID'));
    expect(await raw('XADD', 's', 'IDMP', 'p1', '', '*', 'f', 'v')).toBe(error('ERR IDMP requires a non-empty idempotent ID'));
    expect(await raw('XADD', 's', 'IDMPAUTO', '', '*', 'f', 'v')).toBe(error('ERR IDMPAUTO requires a non-empty producer ID'));
    await raw('XADD', 's', '*', 'f', 'v');
    expect(await infoField('s', 'pids-tracked')).toBe('absent');
  });

  test('IDMP-MAXSIZE evicts each producer\'s oldest iids (Redis test suite scenario)', async () => {
    await raw('XADD', 's', 'IDMP', 'p1', 'init', '*', 'field', 'init');
    expect(await raw('XCFGSET', 's', 'IDMP-MAXSIZE', '3', 'IDMP-DURATION', '60')).toBe('+OK\r\n');
    const ids: string[] = [];
    for (const iid of ['req-1', 'req-2', 'req-3']) ids.push(await raw('XADD', 's', 'IDMP', 'p1', iid, '*', 'field', iid));
    for (let i = 0; i < 3; i++) expect(await raw('XADD', 's', 'IDMP', 'p1', `req-${i + 1}`, '*', 'field', 'dup')).toBe(ids[i]);
    await raw('XADD', 's', 'IDMP', 'p1', 'req-4', '*', 'field', 'v4');
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'req-1', '*', 'field', 'new')).not.toBe(ids[0]);
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'req-3', '*', 'field', 'dup2')).toBe(ids[2]);
    expect(await raw('XLEN', 's')).toBe(':6\r\n');
    expect(await infoField('s', 'idmp-duration')).toBe(':60\r\n');
    expect(await infoField('s', 'idmp-maxsize')).toBe(':3\r\n');
  });

  test('iids expire after IDMP-DURATION seconds; XCFGSET forgets every iid', async () => {
    const id1 = await raw('XADD', 's', 'IDMP', 'p1', 'req-1', '*', 'f', 'v');
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', '1')).toBe('+OK\r\n');
    expect(await infoField('s', 'iids-tracked')).toBe(':0\r\n');
    const id2 = await raw('XADD', 's', 'IDMP', 'p1', 'req-1', '*', 'f', 'v');
    expect(id2).not.toBe(id1);
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'req-1', '*', 'f', 'v')).toBe(id2);
    await new Promise((r) => setTimeout(r, 1100));
    expect(await raw('XADD', 's', 'IDMP', 'p1', 'req-1', '*', 'f', 'v')).not.toBe(id2);
  });

  test('XCFGSET IDMP options: ranges, integers, syntax, missing key; server defaults stream-idmp-*', async () => {
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', '5')).toBe(error('ERR no such key'));
    await raw('XADD', 's', '*', 'f', 'v');
    expect(await raw('XCFGSET', 's')).toBe(error('ERR syntax error'));
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION')).toBe(error('ERR syntax error'));
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', 'A')).toBe(error('ERR value is not an integer or out of range'));
    expect(await raw('XCFGSET', 's', 'IDMP-MAXSIZE', '3.14')).toBe(error('ERR value is not an integer or out of range'));
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', '0')).toBe(error('ERR invalid duration'));
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', '86401')).toBe(error('ERR invalid duration'));
    expect(await raw('XCFGSET', 's', 'IDMP-MAXSIZE', '10001')).toBe(error('ERR invalid maxsize'));
    expect(await raw('XCFGSET', 's', 'IDMP-DURATION', '86400', 'IDMP-MAXSIZE', '10000')).toBe('+OK\r\n');
    expect(await infoField('s', 'idmp-duration')).toBe(':86400\r\n');
    // Spool's own options keep their rules beside Redis's.
    expect(await raw('XCFGSET', 's', 'maxage')).toBe(error("ERR wrong number of arguments for 'xcfgset' command"));
    expect(await raw('XCFGSET', 's', 'IDMP-MAXSIZE', '7', 'maxage', '0')).toBe('+OK\r\n');
    await raw('CONFIG', 'SET', 'stream-idmp-duration', '33');
    try {
      await raw('XADD', 'k', 'IDMP', 'p', 'i', '*', 'f', 'v');
      expect(await infoField('k', 'idmp-duration')).toBe(':33\r\n');
      expect(await infoField('s', 'idmp-maxsize')).toBe(':7\r\n');
    } finally {
      await raw('CONFIG', 'SET', 'stream-idmp-duration', '100');
    }
  });

  test('XIDMPRECORD records a mapping (internal, Redis 8.8)', async () => {
    await raw('XADD', 's', '5-0', 'f', 'v');
    expect(await raw('XIDMPRECORD', 's', 'p', 'i', '5-0')).toBe('+OK\r\n');
    expect(await raw('XIDMPRECORD', 's', 'p', 'i', '5-0')).toBe('+OK\r\n');
    expect(await raw('XIDMPRECORD', 's', 'p', 'i', '6-0')).toBe(error('ERR The stream ID does not refer to an existing entry'));
    expect(await raw('XADD', 's', 'IDMP', 'p', 'i', '*', 'f', 'v')).toBe('$3\r\n5-0\r\n');
  });
});
