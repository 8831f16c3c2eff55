// 10,000 streams under an open files limit of 256: segments are opened lazily and the LRU (open-segments-limit)
// closes idle ones, so descriptors stay bounded; reads of closed segments map them again first. Every entry
// reads back, before and after a SIGKILL + restart under the same limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { RespConnection, type Arg } from '../helpers/resp';
import { startSpoolProcess } from '../helpers/spool';
import { ensureBuilt, newDataDir, removeDir } from './helpers';
import { blob, run } from './state';

const STREAMS = 10_000;
const NOFILE = 256;
const ARGS = ['--maxclients', '16', '--appendfsync', 'everysec'];

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('many');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

async function pipelined(conn: RespConnection, cmds: Arg[][]): Promise<Awaited<ReturnType<typeof run>>> {
  const out: Awaited<ReturnType<typeof run>> = [];
  for (let i = 0; i < cmds.length; i += 500) out.push(...(await run(conn, cmds.slice(i, i + 500))));
  return out;
}

/** Reads every stream back and checks its two entries. */
async function verify(conn: RespConnection): Promise<void> {
  const cmds: Arg[][] = [];
  for (let i = 0; i < STREAMS; i++) cmds.push(['XRANGE', `s:${i}`, '-', '+']);
  const replies = await pipelined(conn, cmds);
  replies.forEach((r, i) => {
    const entries = r.children ?? [];
    expect(entries.length, `s:${i}`).toBe(2);
    expect(blob(entries[0].children![0]).toString()).toBe(`${i + 1}-1`);
    expect(blob(entries[1].children![1].children![1]).toString()).toBe(`second ${i}`);
  });
}

function openFiles(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

describe('10,000 streams with a low open files limit', () => {
  it('keeps descriptors bounded and every entry readable, across a SIGKILL', async () => {
    let server = await startSpoolProcess(ARGS, { dir, keepDir: true, nofile: NOFILE });
    let conn = await RespConnection.connect(server.port);
    try {
      const writes: Arg[][] = [];
      for (let i = 0; i < STREAMS; i++) writes.push(['XADD', `s:${i}`, `${i + 1}-1`, 'first', String(i)]);
      for (let i = 0; i < STREAMS; i++) writes.push(['XADD', `s:${i}`, '*', 'second', `second ${i}`]);
      await pipelined(conn, writes);
      const groups: Arg[][] = [];
      for (let i = 0; i < STREAMS; i += 10) groups.push(['XGROUP', 'CREATE', `s:${i}`, 'g', '0']);
      await pipelined(conn, groups);
      expect(openFiles(server.process.pid!)).toBeLessThan(NOFILE);
      await verify(conn);
      const [read] = await run(conn, [['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's:0', 's:5000', '>', '>']]);
      expect(read.children!.length).toBe(2);
      expect(openFiles(server.process.pid!)).toBeLessThan(NOFILE);

      conn.close();
      await server.kill('SIGKILL');
      // Start-up of 10,000 streams after SIGKILL takes a few opens and listings per stream (10-23 s measured on a
      // shared, busy 2-core machine under this limit, where the build before took 34 s on the same data); the
      // timeout stays generous because such a machine's load swings several-fold. How slow is the restart
      // benchmark's business, not this test's.
      server = await startSpoolProcess(ARGS, { dir, keepDir: true, nofile: NOFILE, startTimeoutMs: 120_000 });
      conn = await RespConnection.connect(server.port);
      const [dbsize] = await run(conn, [['DBSIZE']]);
      expect(dbsize.bytes.toString()).toBe(`:${STREAMS}\r\n`);
      await verify(conn);
      const [pending] = await run(conn, [['XPENDING', 's:5000', 'g']]);
      expect(pending.children![0].bytes.toString()).toBe(':2\r\n');
      expect(openFiles(server.process.pid!)).toBeLessThan(NOFILE);
    } finally {
      conn.close();
      await server.kill('SIGKILL');
    }
  }, 300000);
});
