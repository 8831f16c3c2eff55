// A restart reproduces every stream byte for byte, both after SIGKILL (the log is replayed) and after SIGTERM
// (the shutdown checkpoints are loaded):
// XINFO STREAM key FULL (entries, counters, groups, PEL with delivery times and counts, consumers with their
// seen times), XINFO GROUPS, XRANGE, KEYS, in several databases, after XDEL, XTRIM MAXLEN ~, XSETID, RENAME,
// DEL + re-create, consumer-group traffic, a binary key and a key longer than 120 bytes (hashed directory name).
// Nothing is masked: the times in XINFO STREAM FULL are recorded times and must come back as they were.
// XINFO CONSUMERS and XPENDING report idle times relative to now; those are compared with idle masked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RespConnection, escapeBytes, type Arg } from '../helpers/resp';
import { blob, run, snapshot } from './state';
import { ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('restart');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

const BIN_KEY = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0x20, 0x2f, 0x2e, 0x2e]); // NUL CR LF 0xff ' ' '/..'
const LONG_KEY = Buffer.concat([Buffer.from('long:'), Buffer.alloc(150, 0x7a), Buffer.from([0, 1, 2, 0xfe])]);


function value(i: number): Buffer {
  return Buffer.concat([Buffer.from(`v${i}\r\n`), Buffer.from([0, i & 0xff]), Buffer.alloc(i % 50, 0x2a)]);
}


/** Writes a varied history into the current db of `conn`. */
async function workload(conn: RespConnection, tag: string): Promise<void> {
  const cmds: Arg[][] = [];
  for (const key of [`${tag}:a`, BIN_KEY, LONG_KEY, `${tag}:b`, `${tag}:c`, `${tag}:d`]) {
    for (let i = 0; i < 120; i++) cmds.push(['XADD', key, '*', 'f', value(i), Buffer.from([0, 0x0a]), value(i + 1)]);
  }
  for (let i = 1; i <= 40; i++) cmds.push(['XADD', `${tag}:e`, `${1000 + i}-${i % 3}`, 'n', String(i)]);
  cmds.push(['XADD', `${tag}:e`, '5000-*', 'n', 'x']);
  cmds.push(['XADD', `${tag}:nomk`, 'NOMKSTREAM', '*', 'n', 'x']);
  cmds.push(['XADD', `${tag}:a`, 'MAXLEN', '~', '60', '*', 'trimmed', 'yes']);
  cmds.push(['XTRIM', `${tag}:b`, 'MAXLEN', '~', '30']);
  cmds.push(['XTRIM', `${tag}:c`, 'MAXLEN', '=', '17']);
  cmds.push(['XTRIM', `${tag}:e`, 'MINID', '1010']);
  cmds.push(['XADD', `${tag}:d`, 'MINID', '~', '0', '*', 'a', 'b']);
  // groups
  cmds.push(['XGROUP', 'CREATE', BIN_KEY, 'g1', '0']);
  cmds.push(['XGROUP', 'CREATE', BIN_KEY, 'g2', '$', 'ENTRIESREAD', '7']);
  cmds.push(['XGROUP', 'CREATE', LONG_KEY, 'g\r\n\0', '0']);
  cmds.push(['XGROUP', 'CREATE', `${tag}:new`, 'g', '$', 'MKSTREAM']);
  // a group and a consumer named like the STREAMS keyword: their XREADGROUP must replay as it ran
  cmds.push(['XGROUP', 'CREATE', `${tag}:a`, 'streams', '0']);
  cmds.push(['XREADGROUP', 'GROUP', 'streams', 'STREAMS', 'COUNT', '3', 'STREAMS', `${tag}:a`, '>']);
  cmds.push(['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '10', 'STREAMS', BIN_KEY, '>']);
  cmds.push(['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '7', 'STREAMS', BIN_KEY, '>']);
  cmds.push(['XREADGROUP', 'GROUP', 'g1', 'nack', 'COUNT', '3', 'NOACK', 'STREAMS', BIN_KEY, '>']);
  cmds.push(['XREADGROUP', 'GROUP', 'g\r\n\0', 'c\0', 'COUNT', '25', 'STREAMS', LONG_KEY, '>']);
  cmds.push(['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', BIN_KEY, '0']);
  cmds.push(['XGROUP', 'CREATECONSUMER', BIN_KEY, 'g1', 'idle-one']);
  cmds.push(['XGROUP', 'CREATECONSUMER', BIN_KEY, 'g1', 'gone']);
  cmds.push(['XGROUP', 'DELCONSUMER', BIN_KEY, 'g1', 'gone']);
  cmds.push(['XGROUP', 'CREATE', BIN_KEY, 'g3', '0']);
  cmds.push(['XGROUP', 'SETID', BIN_KEY, 'g3', '$', 'ENTRIESREAD', '100']);
  cmds.push(['XGROUP', 'CREATE', BIN_KEY, 'g4', '0']);
  cmds.push(['XGROUP', 'DESTROY', BIN_KEY, 'g4']);
  await run(conn, cmds);
  // acks and claims need IDs that were delivered
  const pending = (await run(conn, [['XPENDING', BIN_KEY, 'g1', '-', '+', '100']]))[0];
  const ids = (pending.children ?? []).map((p) => blob(p.children![0]));
  expect(ids.length).toBeGreaterThan(10);
  const more: Arg[][] = [
    ['XACK', BIN_KEY, 'g1', ids[0], ids[2], ids[4], '9999999999999-0'],
    ['XCLAIM', BIN_KEY, 'g1', 'carol', '0', ids[5], ids[6], 'IDLE', '12345', 'RETRYCOUNT', '4'],
    ['XCLAIM', BIN_KEY, 'g1', 'dave', '0', ids[7], 'TIME', '1700000000000', 'JUSTID'],
    ['XCLAIM', BIN_KEY, 'g1', 'erin', '0', ids[8], 'FORCE', 'LASTID', ids[9]],
    ['XAUTOCLAIM', BIN_KEY, 'g1', 'frank', '0', '0', 'COUNT', '2'],
    ['XAUTOCLAIM', LONG_KEY, 'g\r\n\0', 'zed', '0', '0-0', 'COUNT', '5', 'JUSTID'],
    ['XDEL', BIN_KEY, ids[1], ids[3], ids[10]],
    ['XDEL', `${tag}:a`, '0-1', '1-0'],
    ['XSETID', `${tag}:c`, '99999999999999-5', 'ENTRIESADDED', '5000', 'MAXDELETEDID', '99999999999999-1'],
    ['XSETID', `${tag}:new`, '123-4'],
    // RENAME: onto a new name, and onto an existing stream (replaces it)
    ['RENAME', `${tag}:b`, `${tag}:renamed`],
    ['RENAME', `${tag}:d`, `${tag}:c`],
    // DEL + re-create under the same name
    ['DEL', `${tag}:e`],
    ['XADD', `${tag}:e`, '7-7', 'again', 'yes'],
    ['MULTI'],
    ['XADD', `${tag}:tx`, '*', 'in', 'multi'],
    ['XADD', `${tag}:tx`, '*', 'in', 'multi2'],
    ['EXEC'],
  ];
  await run(conn, more);
}


describe('clean restart reproduces every stream byte for byte', () => {
  it('XINFO STREAM FULL, groups, PEL, ranges and keys survive SIGKILL + restart (log replay), then SIGTERM + restart (checkpoints)', async () => {
    let server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
    let conn = await RespConnection.connect(server.port);
    try {
      await workload(conn, 'db0');
      await run(conn, [['SELECT', '3']]);
      await workload(conn, 'db3');
      await run(conn, [['SELECT', '15']]);
      await run(conn, [['XADD', BIN_KEY, '1-1', 'only', 'in 15']]);
      const dbs = [0, 3, 15];
      const before = await snapshot(conn, dbs);
      expect(before.get('0 DBSIZE')).not.toBe(':0\r\n');
      for (let restart = 0; restart < 2; restart++) {
        conn.close();
        // SIGKILL first: start-up replays every journaled command; SIGTERM then: it loads the shutdown checkpoints
        const signal = restart === 0 ? 'SIGKILL' : 'SIGTERM';
        const code = await server.kill(signal);
        expect(code, server.output()).toBe(signal === 'SIGKILL' ? 'SIGKILL' : 0);
        server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
        conn = await RespConnection.connect(server.port);
        const after = await snapshot(conn, dbs);
        expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
        for (const [k, v] of before) expect(after.get(k), `restart ${restart + 1}: ${k}`).toBe(v);
        if (restart === 0) {
          // writes after a restart land after the recovered log and survive the next restart too
          await run(conn, [
            ['XADD', 'db0:a', '*', 'after', 'restart'],
            ['XREADGROUP', 'GROUP', 'g1', 'late', 'COUNT', '2', 'STREAMS', BIN_KEY, '>'],
            ['XADD', BIN_KEY, '*', 'after', 'restart'],
          ]);
          const again = await snapshot(conn, dbs);
          before.clear();
          for (const [k, v] of again) before.set(k, v);
        }
      }
    } finally {
      conn.close();
      await server.kill('SIGKILL');
    }
  }, 40000);
});

describe('approximate trims replay by their effect', () => {
  it('the same entries come back when the node sizes changed between the trims and the restart', async () => {
    const own = await newDataDir('restart-nodes');
    let server = await spawnSpool(own, ['--stream-node-max-entries', '10']);
    let conn = await RespConnection.connect(server.port);
    try {
      const cmds: Arg[][] = [];
      for (let i = 1; i <= 300; i++) cmds.push(['XADD', 'n', `${i}-1`, 'f', String(i)]);
      cmds.push(['XTRIM', 'n', 'MAXLEN', '~', '95'], ['XADD', 'n', 'MAXLEN', '~', '50', '301-1', 'f', 'x'], ['XDEL', 'n', '260-1']);
      await run(conn, cmds);
      const [before] = await run(conn, [['XRANGE', 'n', '-', '+']]);
      conn.close();
      await server.kill('SIGKILL');
      // replayed with 100-entry nodes, a `~` trim would keep a different number of entries
      server = await spawnSpool(own, ['--stream-node-max-entries', '100']);
      conn = await RespConnection.connect(server.port);
      const [after] = await run(conn, [['XRANGE', 'n', '-', '+']]);
      expect(escapeBytes(after.bytes)).toBe(escapeBytes(before.bytes));
      expect(before.children!.length).toBeLessThan(100);
    } finally {
      conn.close();
      await server.kill('SIGKILL');
      await removeDir(own);
    }
  }, 40000);
});
