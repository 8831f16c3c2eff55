// Redis 8.4's XREADGROUP ... CLAIM min-idle-time against an in-process Spool over raw RESP, following redis.io's
// XREADGROUP page and Redis 8.4's test suite (stream-cgroups.tcl, "XREADGROUP CLAIM ..."): idle pending entries
// first (longest idle first) with two extra fields (idle ms, deliveries before this one), then new entries with
// 0 and 0, COUNT over both, NOACK only for the new ones.
import { describe, expect, test } from 'vitest';
import { type Arg, type RespNode } from '../helpers/resp';
import { useRawSpool } from '../helpers/rawSpool';

const server = useRawSpool();
const raw = server.raw;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (n: RespNode) => n.bytes.subarray(n.header.length, n.bytes.length - 2).toString('latin1');
const num = (n: RespNode) => Number(n.bytes.subarray(1, n.bytes.length - 2).toString('latin1'));

/** The entries of the first stream of an XREADGROUP reply as [id, fields..., idle, deliveries]. */
async function claimRead(...args: Arg[]): Promise<Array<Array<string | number>>> {
  const r = await server.conn.call(['XREADGROUP', ...args]);
  if (r.type === '*' && r.children === undefined) return []; // null array: nothing served
  const entries = r.children![0].children![1].children!;
  return entries.map((e) => {
    const [id, fields, ...extra] = e.children!;
    return [text(id), ...(fields.children ?? []).map(text), ...extra.map(num)];
  });
}

async function setup(n: number, readFirst: number): Promise<void> {
  for (let i = 1; i <= n; i++) await raw('XADD', 's', `${i}-0`, 'f', `v${i}`);
  await raw('XGROUP', 'CREATE', 's', 'g', '0');
  if (readFirst > 0) await raw('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', String(readFirst), 'STREAMS', 's', '>');
}

describe('XREADGROUP CLAIM', () => {
  test('claims idle pending entries (idle >= min-idle-time, deliveries before), then new ones with 0 0', async () => {
    await setup(3, 2);
    await sleep(60);
    const got = await claimRead('GROUP', 'g', 'c2', 'CLAIM', '50', 'STREAMS', 's', '>');
    expect(got.map((e) => [e[0], e[1], e[2], e[4]])).toEqual([
      ['1-0', 'f', 'v1', 1],
      ['2-0', 'f', 'v2', 1],
      ['3-0', 'f', 'v3', 0],
    ]);
    expect(got[0][3]).toBeGreaterThanOrEqual(50);
    expect(got[2][3]).toBe(0);
    // Now owned by c2, delivered twice (and the new one once).
    const pending = await raw('XPENDING', 's', 'g', '-', '+', '10');
    expect(pending.replace(/:\d+\r\n(:\d\r\n)/g, ':*\r\n$1')).toBe(
      '*3\r\n' + ['1-0', '2-0', '3-0'].map((id, i) => `*4\r\n$3\r\n${id}\r\n$2\r\nc2\r\n:*\r\n:${i < 2 ? 2 : 1}\r\n`).join(''),
    );
  });

  test('below min-idle-time nothing is claimed: only new entries, or a null reply', async () => {
    await setup(2, 2);
    expect(await raw('XREADGROUP', 'GROUP', 'g', 'c2', 'CLAIM', '100000', 'STREAMS', 's', '>')).toBe('*-1\r\n');
    await raw('XADD', 's', '3-0', 'f', 'v3');
    expect(await claimRead('GROUP', 'g', 'c2', 'CLAIM', '9223372036854775807', 'STREAMS', 's', '>')).toEqual([['3-0', 'f', 'v3', 0, 0]]);
  });

  test('longest idle first; COUNT covers claimed and new; min-idle-time 0 claims everything pending', async () => {
    await setup(4, 1);
    await sleep(5);
    await raw('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', 's', '>'); // 2-0, delivered later
    // 2-0 is re-delivered after 1-0's: a claim of both serves 1-0 first even from the consumer itself.
    const got = await claimRead('GROUP', 'g', 'c1', 'COUNT', '3', 'CLAIM', '0', 'STREAMS', 's', '>');
    expect(got.map((e) => [e[0], e[4]])).toEqual([
      ['1-0', 1],
      ['2-0', 1],
      ['3-0', 0],
    ]);
    await sleep(5);
    await raw('XCLAIM', 's', 'g', 'c3', '0', '2-0', 'JUSTID');
    expect((await claimRead('GROUP', 'g', 'c1', 'CLAIM', '0', 'COUNT', '2', 'STREAMS', 's', '>')).map((e) => e[0])).toEqual(['1-0', '3-0']);
  });

  test('NOACK applies to new entries only; an explicit ID ignores CLAIM', async () => {
    await setup(2, 1);
    expect((await claimRead('GROUP', 'g', 'c1', 'NOACK', 'CLAIM', '0', 'STREAMS', 's', '>')).map((e) => [e[0], e[4]])).toEqual([
      ['1-0', 1],
      ['2-0', 0],
    ]);
    expect(await raw('XPENDING', 's', 'g')).toBe('*4\r\n:1\r\n$3\r\n1-0\r\n$3\r\n1-0\r\n*1\r\n*2\r\n$2\r\nc1\r\n$1\r\n1\r\n');
    expect(await claimRead('GROUP', 'g', 'c1', 'CLAIM', '0', 'STREAMS', 's', '0')).toEqual([['1-0', 'f', 'v1']]);
  });

  test('an entry released with XNACK is claimed first, with any min-idle-time', async () => {
    await setup(2, 2);
    await raw('XNACK', 's', 'g', 'FAIL', 'IDS', '1', '2-0');
    expect((await claimRead('GROUP', 'g', 'c2', 'CLAIM', '3600000', 'STREAMS', 's', '>')).map((e) => [e[0], e[4]])).toEqual([['2-0', 1]]);
  });

  test('min-idle-time errors (Redis test suite texts); CLAIM before GROUP and the last CLAIM win', async () => {
    await setup(2, 1);
    for (const v of ['test', '5.5', '+10', '-0', '10e']) {
      expect(await raw('XREADGROUP', 'GROUP', 'g', 'c', 'CLAIM', v, 'STREAMS', 's', '>')).toBe('-ERR min-idle-time is not an integer\r\n');
    }
    expect(await raw('XREADGROUP', 'GROUP', 'g', 'c', 'CLAIM', '-10', 'STREAMS', 's', '>')).toBe('-ERR min-idle-time must be a positive integer\r\n');
    expect((await claimRead('CLAIM', '100000', 'GROUP', 'g', 'c1', 'COUNT', '1', 'CLAIM', '0', 'STREAMS', 's', '>')).map((e) => [e[0], e[4]])).toEqual([
      ['1-0', 1],
    ]);
  });
});
