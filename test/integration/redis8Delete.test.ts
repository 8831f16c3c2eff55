// Redis 8.2's XDELEX and XACKDEL against an in-process Spool over raw RESP. No Redis 8 server exists here: the
// expected replies are the ones redis.io documents and Redis 8.2's own test suite (tests/unit/type/stream*.tcl)
// asserts, written out byte for byte.
import { describe, expect, test } from 'vitest';
import { useRawSpool } from '../helpers/rawSpool';

const server = useRawSpool();
const raw = server.raw;

const ints = (...n: number[]) => `*${n.length}\r\n${n.map((v) => `:${v}\r\n`).join('')}`;
const error = (text: string) => `-${text}\r\n`;

/** Stream `s` with entries 1-0..n-0 and groups g1, g2 that both read everything (so both have all pending). */
async function twoGroupsReadAll(n = 2): Promise<void> {
  for (let i = 1; i <= n; i++) await raw('XADD', 's', `${i}-0`, 'f', 'v');
  await raw('XGROUP', 'CREATE', 's', 'g1', '0');
  await raw('XGROUP', 'CREATE', 's', 'g2', '0');
  await raw('XREADGROUP', 'GROUP', 'g1', 'c1', 'STREAMS', 's', '>');
  await raw('XREADGROUP', 'GROUP', 'g2', 'c2', 'STREAMS', 's', '>');
}

describe('XDELEX', () => {
  test('argument errors: arity, numids, mismatch, extra arguments, duplicate policy, bad ID', async () => {
    expect(await raw('XDELEX', 's', 'IDS', '1')).toBe(error("ERR wrong number of arguments for 'xdelex' command"));
    for (const n of ['abc', '0', '-5']) expect(await raw('XDELEX', 's', 'IDS', n, '1-1')).toBe(error('ERR Number of IDs must be a positive integer'));
    expect(await raw('XDELEX', 's', 'IDS', '3', '1-1', '2-2')).toBe(error('ERR The `numids` parameter must match the number of arguments'));
    expect(await raw('XDELEX', 's', 'IDS', '1', '1-1', '2-2')).toBe(error('ERR syntax error'));
    expect(await raw('XDELEX', 's', 'KEEPREF', 'DELREF', 'IDS', '1', '1-1')).toBe(error('ERR syntax error'));
    expect(await raw('XDELEX', 's', 'BOGUS', 'IDS', '1', '1-1')).toBe(error('ERR syntax error'));
    expect(await raw('XDELEX', 's', 'IDS', '1', 'not-an-id')).toBe(error('ERR Invalid stream ID specified as stream command argument'));
  });

  test('missing key: -1 per ID; missing IDs -1; KEEPREF (default) deletes and keeps PEL references', async () => {
    expect(await raw('XDELEX', 'nokey', 'IDS', '2', '1-1', '2-2')).toBe(ints(-1, -1));
    await twoGroupsReadAll(3);
    expect(await raw('XDELEX', 's', 'IDS', '2', '1-0', '9-9')).toBe(ints(1, -1));
    // The IDS block may come before the policy.
    expect(await raw('XDELEX', 's', 'IDS', '1', '2-0', 'keepref')).toBe(ints(1));
    expect(await raw('XLEN', 's')).toBe(':1\r\n');
    expect(await raw('XPENDING', 's', 'g1')).toBe('*4\r\n:3\r\n$3\r\n1-0\r\n$3\r\n3-0\r\n*1\r\n*2\r\n$2\r\nc1\r\n$1\r\n3\r\n');
  });

  test('DELREF removes the entry from every PEL, also a dangling reference of an entry already gone', async () => {
    await twoGroupsReadAll(3);
    await raw('XDEL', 's', '3-0');
    expect(await raw('XDELEX', 's', 'DELREF', 'IDS', '2', '1-0', '3-0')).toBe(ints(1, -1));
    expect(await raw('XPENDING', 's', 'g1')).toBe('*4\r\n:1\r\n$3\r\n2-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n');
    expect(await raw('XPENDING', 's', 'g2')).toBe('*4\r\n:1\r\n$3\r\n2-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\nc2\r\n$1\r\n1\r\n');
  });

  test('ACKED deletes only what no group needs: pending or not yet delivered entries answer 2', async () => {
    // Redis 8.2's "XGROUP DESTROY removes all consumer group references".
    for (let j = 0; j < 5; j++) await raw('XADD', 'm', `${j}-1`, 'item', String(j));
    await raw('XGROUP', 'CREATE', 'm', 'mygroup', '0');
    await raw('XREADGROUP', 'GROUP', 'mygroup', 'consumer1', 'STREAMS', 'm', '>');
    expect(await raw('XDELEX', 'm', 'ACKED', 'IDS', '5', '0-1', '1-1', '2-1', '3-1', '4-1')).toBe(ints(2, 2, 2, 2, 2));
    await raw('XGROUP', 'DESTROY', 'm', 'mygroup');
    expect(await raw('XDELEX', 'm', 'ACKED', 'IDS', '5', '0-1', '1-1', '2-1', '3-1', '4-1')).toBe(ints(1, 1, 1, 1, 1));
    expect(await raw('XLEN', 'm')).toBe(':0\r\n');

    // Not delivered to a group yet (its last ID is below the entry): still referenced.
    for (let j = 1; j <= 3; j++) await raw('XADD', 'n', `${j}-0`, 'f', 'v');
    await raw('XGROUP', 'CREATE', 'n', 'a', '1-0');
    await raw('XGROUP', 'CREATE', 'n', 'b', '3-0');
    expect(await raw('XDELEX', 'n', 'ACKED', 'IDS', '3', '1-0', '2-0', '4-0')).toBe(ints(1, 2, -1));
    await raw('XREADGROUP', 'GROUP', 'a', 'c', 'STREAMS', 'n', '>');
    expect(await raw('XDELEX', 'n', 'ACKED', 'IDS', '1', '2-0')).toBe(ints(2));
    await raw('XACK', 'n', 'a', '2-0', '3-0');
    expect(await raw('XDELEX', 'n', 'ACKED', 'IDS', '2', '2-0', '3-0')).toBe(ints(1, 1));
  });

  test('COMMAND INFO and DOCS describe it', async () => {
    expect(await raw('COMMAND', 'INFO', 'XDELEX')).toContain('$6\r\nxdelex\r\n:-5\r\n');
    expect(await raw('COMMAND', 'DOCS', 'XACKDEL')).toContain('8.2.0');
  });
});

describe('XACKDEL', () => {
  test('arity, missing key or group: -1 per ID, argument errors', async () => {
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '1')).toBe(error("ERR wrong number of arguments for 'xackdel' command"));
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '2', '1-1', '2-2')).toBe(ints(-1, -1));
    await raw('XADD', 's', '1-0', 'f', 'v');
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '2', '1-1', '2-2')).toBe(ints(-1, -1));
    await raw('XGROUP', 'CREATE', 's', 'g', '0');
    expect(await raw('XACKDEL', 's', 'g', 'IDS', 'abc', '1-1')).toBe(error('ERR Number of IDs must be a positive integer'));
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '3', '1-1', '2-2')).toBe(error('ERR The `numids` parameter must match the number of arguments'));
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '1', '1-1', '2-2')).toBe(error('ERR syntax error'));
    expect(await raw('XACKDEL', 's', 'g', 'KEEPREF', 'ACKED', 'IDS', '1', '1-1')).toBe(error('ERR syntax error'));
  });

  test('KEEPREF: acknowledged and deleted; the other group keeps its references and can still ack them (1)', async () => {
    await twoGroupsReadAll();
    expect(await raw('XACKDEL', 's', 'g1', 'KEEPREF', 'IDS', '2', '1-0', '2-0')).toBe(ints(1, 1));
    expect(await raw('XLEN', 's')).toBe(':0\r\n');
    expect(await raw('XPENDING', 's', 'g1')).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
    expect(await raw('XPENDING', 's', 'g2')).toBe('*4\r\n:2\r\n$3\r\n1-0\r\n$3\r\n2-0\r\n*1\r\n*2\r\n$2\r\nc2\r\n$1\r\n2\r\n');
    expect(await raw('XACKDEL', 's', 'g2', 'IDS', '2', '1-0', '2-0')).toBe(ints(1, 1));
    expect(await raw('XPENDING', 's', 'g2')).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
  });

  test('DELREF removes the entry from all PELs; ACKED deletes once every group acknowledged (2 before)', async () => {
    await twoGroupsReadAll();
    expect(await raw('XACKDEL', 's', 'g1', 'DELREF', 'IDS', '2', '1-0', '2-0')).toBe(ints(1, 1));
    expect(await raw('XLEN', 's')).toBe(':0\r\n');
    expect(await raw('XPENDING', 's', 'g2')).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
    expect(await raw('XACKDEL', 's', 'g2', 'DELREF', 'IDS', '2', '1-0', '2-0')).toBe(ints(-1, -1));

    await server.conn.call(['FLUSHALL']);
    await twoGroupsReadAll();
    expect(await raw('XACKDEL', 's', 'g1', 'ACKED', 'IDS', '2', '1-0', '2-0')).toBe(ints(2, 2));
    expect(await raw('XLEN', 's')).toBe(':2\r\n');
    expect(await raw('XPENDING', 's', 'g1')).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
    expect(await raw('XACKDEL', 's', 'g2', 'ACKED', 'IDS', '2', '1-0', '2-0')).toBe(ints(1, 1));
    expect(await raw('XLEN', 's')).toBe(':0\r\n');
  });

  test('an ID not pending in the group is left alone (-1)', async () => {
    await raw('XADD', 's', '1-0', 'f', 'v');
    await raw('XADD', 's', '2-0', 'f', 'v');
    await raw('XGROUP', 'CREATE', 's', 'g', '0');
    await raw('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '1', 'STREAMS', 's', '>');
    expect(await raw('XACKDEL', 's', 'g', 'IDS', '2', '1-0', '2-0')).toBe(ints(1, -1));
    expect(await raw('XLEN', 's')).toBe(':1\r\n');
  });
});
