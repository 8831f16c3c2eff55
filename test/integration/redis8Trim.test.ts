// Redis 8.2's trim policies on XADD and XTRIM (KEEPREF | DELREF | ACKED) against an in-process Spool over raw
// RESP. Expected replies follow redis.io's XADD/XTRIM pages and Redis 8.2's test suite (stream.tcl: "XADD with
// MAXLEN option and ACKED option", "... and DELREF option"); no Redis 8 server exists here.
import { describe, expect, test } from 'vitest';
import { useRawSpool } from '../helpers/rawSpool';

const server = useRawSpool();
const raw = server.raw;

const len = async (key: string) => raw('XLEN', key);
const pendingCount = async (key: string, group: string) => (await raw('XPENDING', key, group)).split('\r\n')[1];

async function addRange(key: string, from: number, to: number): Promise<void> {
  for (let i = from; i <= to; i++) await raw('XADD', key, `${i}-0`, 'f', 'v');
}

describe('XADD / XTRIM reference policies', () => {
  test('ACKED: entries not yet delivered or still pending are kept, even past MAXLEN (Redis 8.2 test)', async () => {
    await addRange('s', 1, 5);
    await raw('XGROUP', 'CREATE', 's', 'g', '0');
    expect(await raw('XADD', 's', 'MAXLEN', '=', '1', 'ACKED', '6-0', 'f', 'v')).toBe('$3\r\n6-0\r\n');
    expect(await len('s')).toBe(':6\r\n');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>');
    await raw('XACK', 's', 'g', '1-0');
    await raw('XADD', 's', 'MAXLEN', '=', '1', 'ACKED', '7-0', 'f', 'v');
    expect(await len('s')).toBe(':6\r\n');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    await raw('XACK', 's', 'g', '2-0', '3-0', '4-0', '5-0', '6-0', '7-0');
    await raw('XADD', 's', 'MAXLEN', '=', '1', 'ACKED', '8-0', 'f', 'v');
    expect(await len('s')).toBe(':1\r\n');
  });

  test('ACKED skips a referenced entry and trims the acknowledged ones after it; MINID likewise', async () => {
    await addRange('s', 1, 6);
    await raw('XGROUP', 'CREATE', 's', 'g', '0');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
    await raw('XACK', 's', 'g', '1-0', '3-0', '4-0', '5-0', '6-0');
    // 2-0 is pending: MAXLEN 2 removes 1, 3, 4, 5 and keeps 2 and 6.
    expect(await raw('XTRIM', 's', 'MAXLEN', '2', 'ACKED')).toBe(':4\r\n');
    expect(await raw('XRANGE', 's', '-', '+')).toBe('*2\r\n*2\r\n$3\r\n2-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n*2\r\n$3\r\n6-0\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(await raw('XTRIM', 's', 'ACKED', 'MINID', '6-0')).toBe(':0\r\n');
    await raw('XACK', 's', 'g', '2-0');
    expect(await raw('XTRIM', 's', 'ACKED', 'MINID', '6-0')).toBe(':1\r\n');
    expect(await len('s')).toBe(':1\r\n');
  });

  test('DELREF trims and removes the trimmed entries from every PEL (Redis 8.2 test); KEEPREF keeps them', async () => {
    await addRange('s', 1, 5);
    await raw('XGROUP', 'CREATE', 's', 'g', '0');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>');
    await raw('XADD', 's', 'MAXLEN', '=', '1', 'DELREF', '*', 'f', 'v');
    expect(await len('s')).toBe(':1\r\n');
    expect(await pendingCount('s', 'g')).toBe(':0');

    await addRange('k', 1, 5);
    await raw('XGROUP', 'CREATE', 'k', 'g', '0');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '2', 'STREAMS', 'k', '>');
    expect(await raw('XTRIM', 'k', 'KEEPREF', 'MAXLEN', '1')).toBe(':4\r\n');
    expect(await pendingCount('k', 'g')).toBe(':2');
  });

  test('approximate trims: DELREF drops references of whole nodes; ACKED stops at a node with a referenced entry', async () => {
    await server.conn.call(['CONFIG', 'SET', 'stream-node-max-entries', '2']);
    try {
      await addRange('s', 1, 6);
      await raw('XGROUP', 'CREATE', 's', 'g', '0');
      await raw('XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '>');
      // nodes [1,2] [3,4] [5,6]; only 1, 2 and 4 acknowledged: the second node still has 3 pending.
      await raw('XACK', 's', 'g', '1-0', '2-0', '4-0');
      expect(await raw('XTRIM', 's', 'MAXLEN', '~', '0', 'ACKED')).toBe(':2\r\n');
      expect(await raw('XTRIM', 's', 'DELREF', 'MAXLEN', '~', '2')).toBe(':2\r\n');
      expect(await len('s')).toBe(':2\r\n');
      expect(await pendingCount('s', 'g')).toBe(':2');
    } finally {
      await server.conn.call(['CONFIG', 'SET', 'stream-node-max-entries', '100']);
    }
  });

  test('no groups: every policy trims as KEEPREF (the docs: the arguments have no effect)', async () => {
    await addRange('s', 1, 5);
    expect(await raw('XTRIM', 's', 'MAXLEN', '2', 'ACKED')).toBe(':3\r\n');
    expect(await raw('XADD', 's', 'DELREF', 'MAXLEN', '1', '*', 'f', 'v')).toMatch(/^\$\d+\r\n\d+-0\r\n$/);
    expect(await len('s')).toBe(':1\r\n');
  });

  test('the policies are mutually exclusive; XADD takes one without a strategy, XTRIM still needs a strategy', async () => {
    expect(await raw('XADD', 's', 'KEEPREF', 'DELREF', '*', 'f', 'v')).toBe('-ERR syntax error\r\n');
    expect(await raw('XTRIM', 's', 'MAXLEN', '1', 'ACKED', 'ACKED')).toBe('-ERR syntax error\r\n');
    expect(await raw('XADD', 's', 'ACKED', '1-0', 'f', 'v')).toBe('$3\r\n1-0\r\n');
    expect(await raw('XTRIM', 's', 'ACKED', 'KEEPREF')).toBe('-ERR syntax error\r\n');
    expect(await raw('XTRIM', 's', 'ACKED', 'LIMIT', '1')).toBe('-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n');
  });
});
