// XCFGSET / XCFGGET over TCP with ioredis against an in-process Spool: replies and errors, COMMAND INFO/DOCS,
// retention by age (explicit old IDs) and by bytes after XADD, the periodic check, server-wide defaults.
import net from 'node:net';
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

const connect = useIoredis(() => spool.port);

const err = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);

function infoField(info: string, name: string): number {
  return Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1]);
}

describe('XCFGSET / XCFGGET', () => {
  test('replies: +OK, settings as a flat array (RESP2) or a map (RESP3), `default` where the server applies', async () => {
    const r = await connect();
    await r.flushall();
    await r.xadd('s', '1-1', 'f', 'v');
    expect(await r.call('XCFGGET', 's')).toEqual(['appendfsync', 'default', 'maxage', 'default', 'maxbytes', 'default']);
    expect(await r.call('XCFGSET', 's', 'appendfsync', 'always', 'MAXBYTES', '1kb')).toBe('OK');
    expect(await r.call('XCFGGET', 's')).toEqual(['appendfsync', 'always', 'maxage', 'default', 'maxbytes', '1024']);
    expect(await r.call('xcfgset', 's', 'appendfsync', 'default', 'maxage', '0')).toBe('OK');
    expect(await r.call('XCFGGET', 's')).toEqual(['appendfsync', 'default', 'maxage', '0', 'maxbytes', '1024']);
    const r3 = await connect(3);
    // ioredis hands RESP3 maps over as flat arrays; the wire type is checked on a raw socket
    expect(await r3.call('XCFGGET', 's')).toEqual(['appendfsync', 'default', 'maxage', '0', 'maxbytes', '1024']);
    const raw = await new Promise<string>((resolve, reject) => {
      const sock = net.connect(spool.port, '127.0.0.1');
      let got = '';
      sock.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('maxbytes\r\n$4\r\n1024\r\n')) {
          sock.destroy();
          resolve(got.slice(got.lastIndexOf('%3')));
        }
      });
      sock.on('error', reject);
      sock.write('HELLO 3\r\nXCFGGET s\r\n');
    });
    expect(raw).toBe('%3\r\n$11\r\nappendfsync\r\n$7\r\ndefault\r\n$6\r\nmaxage\r\n$1\r\n0\r\n$8\r\nmaxbytes\r\n$4\r\n1024\r\n');
  });

  test('errors: missing key, unknown option, bad value, duplicate, arity; nothing applied on error', async () => {
    const r = await connect();
    await r.flushall();
    expect(await err(r.call('XCFGSET', 'nokey', 'maxage', '10'))).toBe('ERR no such key');
    expect(await err(r.call('XCFGGET', 'nokey'))).toBe('ERR no such key');
    await r.xadd('s', '1-1', 'f', 'v');
    expect(await err(r.call('XCFGSET', 's', 'maxlen', '10'))).toBe("ERR Unknown option or number of arguments for XCFGSET - 'maxlen'");
    expect(await err(r.call('XCFGSET', 's', 'maxage', '10', 'maxage', '20'))).toBe(
      "ERR XCFGSET failed (possibly related to argument 'maxage') - duplicate parameter",
    );
    expect(await err(r.call('XCFGSET', 's', 'maxage', '10', 'maxbytes', 'lots'))).toBe(
      "ERR XCFGSET failed (possibly related to argument 'maxbytes') - argument couldn't be parsed into an integer",
    );
    expect(await err(r.call('XCFGSET', 's', 'appendfsync', 'sometimes'))).toMatch(/must be one of the following: always, everysec, no, default/);
    expect(await err(r.call('XCFGSET', 's', 'maxage'))).toBe("ERR wrong number of arguments for 'xcfgset' command");
    expect(await err(r.call('XCFGSET', 's', 'maxage', '1', 'maxbytes'))).toBe("ERR wrong number of arguments for 'xcfgset' command");
    expect(await err(r.call('XCFGGET', 's', 'extra'))).toBe("ERR wrong number of arguments for 'xcfgget' command");
    // the valid first pair of a failed call was not applied
    expect(await r.call('XCFGGET', 's')).toEqual(['appendfsync', 'default', 'maxage', 'default', 'maxbytes', 'default']);
    expect(await r.xlen('s')).toBe(1);
  });

  test('COMMAND INFO / DOCS / COUNT know the commands', async () => {
    const r = await connect();
    const info = (await r.call('COMMAND', 'INFO', 'xcfgset', 'xcfgget')) as unknown[][];
    // Arity -2: Redis 8.6's XCFGSET (IDMP-DURATION / IDMP-MAXSIZE) shares the command with Spool's options.
    expect(info[0].slice(0, 6)).toEqual(['xcfgset', -2, ['write', 'denyoom'], 1, 1, 1]);
    expect(info[1].slice(0, 6)).toEqual(['xcfgget', 2, ['readonly', 'fast'], 1, 1, 1]);
    const docs = (await r.call('COMMAND', 'DOCS', 'xcfgset')) as unknown[];
    expect(docs[0]).toBe('xcfgset');
    expect(docs[1]).toEqual(expect.arrayContaining(['summary', 'since', 'group', 'stream']));
    expect(await r.call('COMMAND', 'GETKEYS', 'XCFGSET', 'k', 'maxage', '1')).toEqual(['k']);
  });

  test('maxage trims entries whose ID time is older than now - maxage, as XTRIM MINID would', async () => {
    const r = await connect();
    await r.flushall();
    const now = Date.now();
    for (let i = 0; i < 300; i++) await r.xadd('age', `${now - 3_600_000 + i}-0`, 'f', String(i)); // an hour old
    await r.xadd('age', `${now - 1000}-0`, 'f', 'recent');
    // the same history on a twin, trimmed by an explicit XTRIM MINID for comparison
    for (let i = 0; i < 300; i++) await r.xadd('twin', `${now - 3_600_000 + i}-0`, 'f', String(i));
    await r.xadd('twin', `${now - 1000}-0`, 'f', 'recent');
    expect(await r.call('XCFGSET', 'age', 'maxage', '60000')).toBe('OK'); // applied at once
    expect(await r.xlen('age')).toBe(1);
    const cut = await r.xadd('age', '*', 'f', 'new');
    expect(await r.xlen('age')).toBe(2);
    await r.xtrim('twin', 'MINID', `${now - 60_000}`);
    await r.xadd('twin', cut!, 'f', 'new');
    // same entries, counters, first ID and max-deleted-entry-id as the explicit XTRIM MINID
    expect(await r.call('XINFO', 'STREAM', 'age')).toEqual(await r.call('XINFO', 'STREAM', 'twin'));
    // an entry already older than the bound is acknowledged, then trimmed by the same command
    await r.xadd('age2', '1000-0', 'f', 'v');
    await r.call('XCFGSET', 'age2', 'maxage', '60000');
    expect(await r.xlen('age2')).toBe(0);
    expect(await r.xadd('age2', '2000-0', 'f', 'v')).toBe('2000-0'); // acknowledged, then trimmed
    expect(await r.xlen('age2')).toBe(0);
    const xinfo = (await r.call('XINFO', 'STREAM', 'age2')) as unknown[];
    expect(xinfo[xinfo.indexOf('entries-added') + 1]).toBe(2);
    expect(xinfo[xinfo.indexOf('last-generated-id') + 1]).toBe('2000-0');
  });

  test('maxbytes keeps the live entries under the bound after every XADD', async () => {
    const r = await connect();
    await r.flushall();
    await r.xadd('b', '*', 'f', 'x');
    await r.call('XCFGSET', 'b', 'maxbytes', '1000');
    for (let i = 0; i < 500; i++) {
      await r.xadd('b', '*', 'field', 'v'.repeat(i % 37));
      if (i % 50 === 0) {
        await r.xdel('b', ((await r.xrange('b', '-', '+', 'COUNT', 3)) as [string, string[]][])[2]?.[0] ?? '0-1');
      }
    }
    const entries = (await r.xrange('b', '-', '+')) as [string, string[]][];
    const bytes = entries.reduce((n, [, f]) => n + f.reduce((m, x) => m + Buffer.byteLength(x), 0), 0);
    expect(bytes).toBeLessThanOrEqual(1000);
    expect(bytes).toBeGreaterThan(1000 - 45); // the next older entry would not have fitted
    // the newest entry is always there (it fits alone)
    expect(entries[entries.length - 1][1]).toEqual(['field', 'v'.repeat(499 % 37)]);
    const info = await r.info('streams');
    expect(infoField(info, 'stream_retention_trimmed_entries')).toBeGreaterThan(0);
  });

  test('the periodic check trims idle streams; server defaults stream-maxage/stream-maxbytes apply to streams without their own', async () => {
    const r = await connect();
    await r.flushall();
    for (let i = 0; i < 20; i++) await r.xadd('idle', '*', 'f', String(i));
    await r.call('XCFGSET', 'idle', 'maxage', '300');
    expect(await r.xlen('idle')).toBe(20);
    await new Promise((res) => setTimeout(res, 1800)); // one tick past the bound (the timer runs every second)
    expect(await r.xlen('idle')).toBe(0);

    for (let i = 0; i < 50; i++) await r.xadd('dflt', '*', 'f', 'x'.repeat(9)); // 10 bytes each
    await r.xadd('own', '*', 'f', 'x'.repeat(9));
    await r.call('XCFGSET', 'own', 'maxbytes', '0'); // own value: off, whatever the server says
    expect(await r.config('SET', 'stream-maxbytes', '100')).toBe('OK');
    expect(await r.config('GET', 'stream-maxbytes')).toEqual(['stream-maxbytes', '100']);
    await new Promise((res) => setTimeout(res, 1500));
    expect(await r.xlen('dflt')).toBe(10);
    await r.xadd('dflt', '*', 'f', 'x'.repeat(9));
    expect(await r.xlen('dflt')).toBe(10);
    for (let i = 0; i < 20; i++) await r.xadd('own', '*', 'f', 'x'.repeat(9));
    expect(await r.xlen('own')).toBe(21);
    await r.config('SET', 'stream-maxbytes', '0');
  });

  test('the periodic check keeps trimming a stream SWAPDB moved to another database', async () => {
    const r = await connect();
    await r.flushall();
    for (let i = 0; i < 20; i++) await r.xadd('swapped', '*', 'f', String(i));
    await r.call('XCFGSET', 'swapped', 'maxage', '300');
    expect(await r.call('SWAPDB', '0', '1')).toBe('OK');
    await new Promise((res) => setTimeout(res, 1800)); // one tick past the bound (the timer runs every second)
    await r.select(1);
    expect(await r.xlen('swapped')).toBe(0);
    await r.flushall();
  });

  test('inside MULTI/EXEC and with per-stream appendfsync always, replies stay in order', async () => {
    const r = await connect();
    await r.flushall();
    await r.xadd('d', '1-1', 'f', 'v');
    await r.call('XCFGSET', 'd', 'appendfsync', 'always', 'maxbytes', '5');
    const res = await r.multi().xadd('d', '*', 'f', 'abcd').xlen('d').call('XCFGGET', 'd').exec();
    expect(res![1][1]).toBe(1);
    expect((res![2][1] as string[])[1]).toBe('always');
    const p = r.pipeline();
    for (let i = 0; i < 50; i++) p.xadd('d', '*', 'f', String(i % 10)).xlen('d');
    const out = (await p.exec())!.map(([e, v]) => (e ? e.message : v));
    for (let i = 0; i < 50; i++) expect(out[2 * i + 1]).toBeLessThanOrEqual(5);
  });
});
