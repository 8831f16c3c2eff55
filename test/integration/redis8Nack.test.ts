// Redis 8.8's XNACK against an in-process Spool over raw RESP, following redis.io's XNACK page (replies, modes,
// RETRYCOUNT, FORCE, XPENDING's view of a released entry: empty consumer, idle -1).
import { beforeEach, describe, expect, test } from 'vitest';
import { useRawSpool } from '../helpers/rawSpool';

const server = useRawSpool();
const raw = server.raw;
beforeEach(async () => {
  await raw('XADD', 's', '1-0', 'field', 'value1');
  await raw('XADD', 's', '2-0', 'field', 'value2');
  await raw('XADD', 's', '3-0', 'field', 'value3');
  await raw('XGROUP', 'CREATE', 's', 'g', '0');
  await raw('XREADGROUP', 'GROUP', 'g', 'consumer1', 'COUNT', '2', 'STREAMS', 's', '>');
});

const row = (id: string, consumer: string, idle: number | string, count: number | string) =>
  `*4\r\n$${id.length}\r\n${id}\r\n$${consumer.length}\r\n${consumer}\r\n:${idle}\r\n:${count}\r\n`;
/** XPENDING extended rows with owned entries' idle times (not deterministic) replaced by `*`. */
async function pendingRows(): Promise<string> {
  const r = await raw('XPENDING', 's', 'g', '-', '+', '10');
  return r.replace(/(\$9\r\nconsumer\d\r\n):\d+\r\n/g, '$1:*\r\n');
}

describe('XNACK', () => {
  test('FAIL releases the entries: empty consumer, idle -1, delivery count unchanged (the docs example)', async () => {
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '2', '1-0', '2-0')).toBe(':2\r\n');
    expect(await pendingRows()).toBe(`*2\r\n${row('1-0', '', -1, 1)}${row('2-0', '', -1, 1)}`);
    // Summary: both still pending, owned by no consumer.
    expect(await raw('XPENDING', 's', 'g')).toBe('*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*0\r\n');
    expect(await raw('XINFO', 'CONSUMERS', 's', 'g')).toContain('$7\r\npending\r\n:0\r\n');
  });

  test('SILENT undoes one delivery (not below 0), FATAL sets LLONG_MAX, RETRYCOUNT sets the count', async () => {
    expect(await raw('XNACK', 's', 'g', 'SILENT', 'IDS', '1', '1-0')).toBe(':1\r\n');
    expect(await raw('XNACK', 's', 'g', 'SILENT', 'IDS', '1', '1-0')).toBe(':1\r\n');
    expect(await raw('XNACK', 's', 'g', 'FATAL', 'IDS', '1', '2-0')).toBe(':1\r\n');
    expect(await pendingRows()).toBe(`*2\r\n${row('1-0', '', -1, 0)}${row('2-0', '', -1, '9223372036854775807')}`);
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', '1-0', 'RETRYCOUNT', '5')).toBe(':1\r\n');
    expect(await pendingRows()).toBe(`*2\r\n${row('1-0', '', -1, 5)}${row('2-0', '', -1, '9223372036854775807')}`);
  });

  test('IDs not pending are not counted; FORCE creates unowned entries for existing stream entries only', async () => {
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '2', '3-0', '9-0')).toBe(':0\r\n');
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '2', '3-0', '9-0', 'FORCE')).toBe(':1\r\n');
    expect(await raw('XNACK', 's', 'g', 'FATAL', 'FORCE', 'IDS', '1', '3-0', 'RETRYCOUNT', '7')).toBe(':1\r\n');
    expect(await pendingRows()).toBe(`*3\r\n${row('1-0', 'consumer1', '*', 1)}${row('2-0', 'consumer1', '*', 1)}${row('3-0', '', -1, 7)}`);
  });

  test('released entries are claimable at once, with any min-idle-time', async () => {
    await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', '2-0');
    expect(await raw('XCLAIM', 's', 'g', 'consumer2', '3600000', '1-0', '2-0', 'JUSTID')).toBe('*1\r\n$3\r\n2-0\r\n');
    expect(await pendingRows()).toBe(`*2\r\n${row('1-0', 'consumer1', '*', 1)}${row('2-0', 'consumer2', '*', 1)}`);
  });

  test('errors: arity, missing key or group, mode, numids, RETRYCOUNT, unknown option, no IDS, bad ID', async () => {
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1')).toBe("-ERR wrong number of arguments for 'xnack' command\r\n");
    expect(await raw('XNACK', 'nokey', 'g', 'FAIL', 'IDS', '1', '1-0')).toBe("-NOGROUP No such key 'nokey' or consumer group 'g'\r\n");
    expect(await raw('XNACK', 's', 'nog', 'FAIL', 'IDS', '1', '1-0')).toBe("-NOGROUP No such key 's' or consumer group 'nog'\r\n");
    expect(await raw('XNACK', 's', 'g', 'MAYBE', 'IDS', '1', '1-0')).toBe('-ERR mode must be SILENT, FAIL, or FATAL\r\n');
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '0', '1-0')).toBe('-ERR numids must be a positive integer\r\n');
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '3', '1-0')).toBe("-ERR number of IDs doesn't match numids\r\n");
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', '1-0', 'RETRYCOUNT', '-1')).toBe('-ERR Invalid RETRYCOUNT value, must be >= 0\r\n');
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', '1-0', 'BOGUS')).toBe("-ERR Unrecognized XNACK option 'BOGUS'\r\n");
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'FORCE', 'FORCE', 'FORCE')).toBe('-ERR syntax error, expected IDS keyword\r\n');
    expect(await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', 'notanid')).toBe('-ERR Invalid stream ID specified as stream command argument\r\n');
  });
});
