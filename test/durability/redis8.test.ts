// The Redis 8 stream commands survive a SIGKILL + restart (their journaled records are replayed) and a clean
// restart (the shutdown checkpoint): the state after restart equals the state before it, byte for byte
// (XINFO STREAM FULL, groups, PELs, XRANGE; see state.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConnection, type Arg } from '../helpers/resp';
import { run, snapshot } from './state';
import { ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

/** Entries 1-0..10-0 on `key`, groups g1 and g2 reading all of them (both have everything pending). */
function setup(key: string): Arg[][] {
  const cmds: Arg[][] = [];
  for (let i = 1; i <= 10; i++) cmds.push(['XADD', key, `${i}-0`, 'f', String(i)]);
  cmds.push(['XGROUP', 'CREATE', key, 'g1', '0'], ['XGROUP', 'CREATE', key, 'g2', '0']);
  cmds.push(['XREADGROUP', 'GROUP', 'g1', 'a', 'STREAMS', key, '>'], ['XREADGROUP', 'GROUP', 'g2', 'b', 'STREAMS', key, '>']);
  return cmds;
}

async function restartKeepsState(
  tag: string,
  signal: 'SIGKILL' | 'SIGTERM',
  cmds: Arg[][],
  expectAfter: (conn: RespConnection) => Promise<void>,
  args: string[] = [],
): Promise<void> {
  const dir = await newDataDir(tag);
  dirs.push(dir);
  let server = await spawnSpool(dir, args);
  try {
    let conn = await RespConnection.connect(server.port);
    await run(conn, cmds);
    await expectAfter(conn);
    const before = await snapshot(conn, [0]);
    conn.close();
    await server.kill(signal);
    server = await spawnSpool(dir, args);
    conn = await RespConnection.connect(server.port);
    expect(await snapshot(conn, [0])).toEqual(before);
    await expectAfter(conn);
    conn.close();
  } finally {
    await server.kill('SIGKILL');
  }
}

describe.each(['SIGKILL', 'SIGTERM'] as const)('Redis 8 commands across a restart (%s)', (signal) => {
  it('XDELEX (KEEPREF, DELREF, ACKED) and XACKDEL (KEEPREF, DELREF, ACKED)', async () => {
    const cmds = [
      ...setup('s'),
      ['XDELEX', 's', 'IDS', '1', '1-0'],
      ['XDELEX', 's', 'DELREF', 'IDS', '2', '2-0', '1-0'],
      ['XDELEX', 's', 'ACKED', 'IDS', '1', '3-0'],
      ['XACKDEL', 's', 'g1', 'IDS', '1', '4-0'],
      ['XACKDEL', 's', 'g1', 'DELREF', 'IDS', '1', '5-0'],
      ['XACKDEL', 's', 'g1', 'ACKED', 'IDS', '2', '6-0', '7-0'],
      ['XACKDEL', 's', 'g2', 'ACKED', 'IDS', '1', '7-0'],
    ];
    await restartKeepsState(`r8del-${signal}`, signal, cmds, async (conn) => {
      // left: 3 (ACKED kept it), 6 (g2 still has it), 8, 9, 10
      expect((await conn.call(['XLEN', 's'])).bytes.toString()).toBe(':5\r\n');
      expect((await conn.call(['XPENDING', 's', 'g1'])).bytes.toString()).toBe(
        '*4\r\n:4\r\n$3\r\n3-0\r\n$4\r\n10-0\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\n4\r\n',
      );
      expect((await conn.call(['XPENDING', 's', 'g2'])).bytes.toString()).toBe(
        '*4\r\n:6\r\n$3\r\n3-0\r\n$4\r\n10-0\r\n*1\r\n*2\r\n$1\r\nb\r\n$1\r\n6\r\n',
      );
    });
  }, 60000);

  it('trims with DELREF and ACKED, exact and approximate (small nodes)', async () => {
    const cmds = [
      ...setup('t'),
      ['XACK', 't', 'g1', '1-0', '2-0', '3-0', '4-0', '6-0'],
      ['XACK', 't', 'g2', '1-0', '2-0', '3-0', '4-0', '6-0'],
      // nodes of 2: [1,2] [3,4] [5,6] ...; 5 is pending in both groups
      ['XTRIM', 't', 'MAXLEN', '~', '0', 'ACKED'],
      ['XADD', 't', 'MAXLEN', '=', '3', 'ACKED', '11-0', 'f', 'v'],
      ['XADD', 't', 'DELREF', 'MAXLEN', '~', '2', '12-0', 'f', 'v'],
    ];
    await restartKeepsState(
      `r8trim-${signal}`,
      signal,
      cmds,
      async (conn) => {
        expect((await conn.call(['XLEN', 't'])).bytes.toString()).toBe(':2\r\n');
        expect((await conn.call(['XPENDING', 't', 'g1'])).bytes.toString()).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
      },
      ['--stream-node-max-entries', '2'],
    );
  }, 60000);

  it('XNACK (modes, RETRYCOUNT, FORCE): released entries stay unowned with their counts', async () => {
    const cmds = [
      ...setup('n'),
      ['XNACK', 'n', 'g1', 'SILENT', 'IDS', '1', '1-0'],
      ['XNACK', 'n', 'g1', 'FATAL', 'IDS', '1', '2-0'],
      ['XNACK', 'n', 'g2', 'FAIL', 'IDS', '2', '3-0', '4-0', 'RETRYCOUNT', '9'],
      ['XACK', 'n', 'g2', '5-0'],
      ['XNACK', 'n', 'g2', 'FAIL', 'IDS', '1', '5-0', 'FORCE'],
    ];
    await restartKeepsState(`r8nack-${signal}`, signal, cmds, async (conn) => {
      const rows = (await conn.call(['XPENDING', 'n', 'g1', '-', '+', '2'])).bytes.toString();
      expect(rows).toBe('*2\r\n*4\r\n$3\r\n1-0\r\n$0\r\n\r\n:-1\r\n:0\r\n*4\r\n$3\r\n2-0\r\n$0\r\n\r\n:-1\r\n:9223372036854775807\r\n');
      const g2 = (await conn.call(['XPENDING', 'n', 'g2', '3-0', '5-0', '3'])).bytes.toString();
      expect(g2).toBe(
        '*3\r\n*4\r\n$3\r\n3-0\r\n$0\r\n\r\n:-1\r\n:9\r\n*4\r\n$3\r\n4-0\r\n$0\r\n\r\n:-1\r\n:9\r\n*4\r\n$3\r\n5-0\r\n$0\r\n\r\n:-1\r\n:0\r\n',
      );
    });
  }, 60000);

  it('XREADGROUP CLAIM: claimed entries keep their new owner, delivery time and count', async () => {
    const cmds = [
      ...setup('c'),
      ['XADD', 'c', '11-0', 'f', 'v'],
      ['XNACK', 'c', 'g1', 'FAIL', 'IDS', '1', '7-0'],
      // takes 7-0 (released: the idlest), then 1-0 and 2-0; COUNT leaves 11-0 undelivered
      ['XREADGROUP', 'GROUP', 'g1', 'z', 'COUNT', '3', 'CLAIM', '0', 'STREAMS', 'c', '>'],
      // nothing idle that long: only the new 11-0, not pending (NOACK)
      ['XREADGROUP', 'GROUP', 'g2', 'z', 'NOACK', 'CLAIM', '3600000', 'STREAMS', 'c', '>'],
    ];
    await restartKeepsState(`r8claim-${signal}`, signal, cmds, async (conn) => {
      expect((await conn.call(['XPENDING', 'c', 'g1'])).bytes.toString()).toBe(
        '*4\r\n:10\r\n$3\r\n1-0\r\n$4\r\n10-0\r\n*2\r\n*2\r\n$1\r\na\r\n$1\r\n7\r\n*2\r\n$1\r\nz\r\n$1\r\n3\r\n',
      );
      expect((await conn.call(['XPENDING', 'c', 'g2'])).bytes.toString()).toBe(
        '*4\r\n:10\r\n$3\r\n1-0\r\n$4\r\n10-0\r\n*1\r\n*2\r\n$1\r\nb\r\n$2\r\n10\r\n',
      );
    });
  }, 60000);

  it('idempotent XADD: a retry after the restart answers the original ID and adds nothing', async () => {
    const dir = await newDataDir(`r8idmp-${signal}`);
    dirs.push(dir);
    let server = await spawnSpool(dir);
    try {
      let conn = await RespConnection.connect(server.port);
      const text = (n: { bytes: Buffer }) => n.bytes.toString('latin1');
      const [a, b] = await run(conn, [
        ['XADD', 'i', 'IDMP', 'p1', 'req-1', '*', 'f', 'v1'],
        ['XADD', 'i', 'IDMPAUTO', 'p2', 'MAXLEN', '=', '10', '*', 'a', '1', 'b', '2'],
      ]);
      await run(conn, [
        ['XADD', 'j', '*', 'f', 'v'],
        ['XCFGSET', 'j', 'IDMP-MAXSIZE', '2', 'IDMP-DURATION', '3600'],
        ['XADD', 'j', 'IDMP', 'p', 'x1', '*', 'f', '1'],
        ['XADD', 'j', 'IDMP', 'p', 'x2', '*', 'f', '2'],
      ]);
      const [x3] = await run(conn, [['XADD', 'j', 'IDMP', 'p', 'x3', '*', 'f', '3']]);
      const before = await snapshot(conn, [0]);
      conn.close();
      await server.kill(signal);
      server = await spawnSpool(dir);
      conn = await RespConnection.connect(server.port);
      expect(await snapshot(conn, [0])).toEqual(before);
      const retried = await run(conn, [
        ['XADD', 'i', 'IDMP', 'p1', 'req-1', '*', 'f', 'other'],
        ['XADD', 'i', 'IDMPAUTO', 'p2', '*', 'b', '2', 'a', '1'],
        ['XADD', 'j', 'IDMP', 'p', 'x3', '*', 'f', 'again'],
        ['XLEN', 'i'],
        // x1 was evicted (IDMP-MAXSIZE 2) before the restart: a retry adds a new entry.
        ['XADD', 'j', 'IDMP', 'p', 'x1', '*', 'f', 'again'],
        ['XLEN', 'j'],
      ]);
      expect(retried.map(text)).toEqual([text(a), text(b), text(x3), ':2\r\n', expect.stringMatching(/^\$/), ':5\r\n']);
      conn.close();
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60000);
});
