// Damaged logs at server start-up (docs/ARCHITECTURE.md, "Recovery"): a flipped byte in the middle of a segment
// stops start-up with a message naming the file, the offset and the spool-check repair command, exit code
// non-zero; `spool-check DIR` reports it (exit 1), `spool-check --fix DIR` repairs it, naming each stream by its
// key and the offsets and bytes it dropped, and the server then starts with every entry but the damaged one. A
// torn tail (last record cut short) is cut by start-up itself, which logs it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/spool';
import { client, connected, ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

const KEY = Buffer.from('corrupt\r\n\0me');
const OTHER = 'healthy';
const N = 300;

function val(i: number): Buffer {
  return Buffer.concat([Buffer.from(`value-${i}-\r\n`), Buffer.alloc(i % 40, 0), Buffer.from('end')]);
}

/**
 * A stopped server's data dir with N entries in KEY and in OTHER; returns the segment file of KEY. SIGTERM leaves
 * a checkpoint as each log's last record; SIGKILL (all acknowledged under always) leaves the last entry last.
 */
async function prepare(tag: string, stop: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<{ dir: string; segment: string }> {
  const dir = await newDataDir(tag);
  dirs.push(dir);
  const server = await spawnSpool(dir, ['--appendfsync', 'always']);
  const c = await connected(client(server.port));
  const p = c.pipeline();
  for (let i = 0; i < N; i++) {
    p.xadd(KEY, `${i + 1}-0`, 'i', String(i), 'v', val(i));
    p.xadd(OTHER, `${i + 1}-0`, 'i', String(i));
  }
  const res = await p.exec();
  expect(res!.every(([err]) => err === null)).toBe(true);
  c.disconnect();
  expect(await server.kill(stop)).toBe(stop === 'SIGTERM' ? 0 : 'SIGKILL');
  const streamDir = path.join(dir, `0-${KEY.toString('hex')}`);
  const files = (await fsp.readdir(streamDir)).filter((f) => f.endsWith('.log')).sort();
  expect(files.length).toBeGreaterThan(0);
  return { dir, segment: path.join(streamDir, files[0]) };
}

async function dataEnd(file: string): Promise<number> {
  const buf = await fsp.readFile(file);
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  return end;
}

function runCheck(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(ROOT, 'bin', 'spool-check.js'), ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      const code = err ? ((err as unknown as { code?: number }).code ?? 1) : 0;
      resolve({ code: typeof code === 'number' ? code : 1, out: stdout + stderr });
    });
  });
}

async function entries(port: number, key: Buffer | string): Promise<[string, string[]][]> {
  const c = await connected(client(port));
  try {
    return (await c.xrange(key, '-', '+')) as [string, string[]][];
  } finally {
    c.disconnect();
  }
}

describe('corrupt segment', () => {
  it('stops start-up naming file, offset and spool-check; spool-check --fix repairs it', async () => {
    const { dir, segment } = await prepare('corrupt');
    const end = await dataEnd(segment);
    const at = Math.floor(end / 2);
    const fh = await fsp.open(segment, 'r+');
    const b = Buffer.alloc(1);
    await fh.read(b, 0, 1, at);
    b[0] ^= 0x5a;
    await fh.write(b, 0, 1, at);
    await fh.close();

    let failure = '';
    try {
      const s = await spawnSpool(dir);
      await s.kill('SIGKILL');
    } catch (err) {
      failure = (err as Error).message;
    }
    expect(failure, 'start-up must fail on corruption before the tail').not.toBe('');
    expect(failure).toMatch(/exited \(([1-9]\d*)\)/); // a non-zero exit code, not a signal
    expect(failure).toContain(segment);
    expect(failure).toMatch(/offset \d+/);
    expect(failure).toContain('spool-check');
    expect(failure).toContain('--fix');
    // the reported offset is at or before the flipped byte
    const offset = Number(/offset (\d+)/.exec(failure)![1]);
    expect(offset).toBeLessThanOrEqual(at);

    const check = await runCheck([dir]);
    expect(check.code, check.out).toBe(1);
    expect(check.out).toContain('CORRUPT');
    const fix = await runCheck(['--fix', dir]);
    expect(fix.code, fix.out).toBe(0);
    expect(fix.out).toContain('stream "corrupt\\r\\n\\x00me" (db 0)');
    expect(fix.out).toContain('stream "healthy" (db 0)');
    // exactly the damaged record's bytes were dropped, from the offset start-up named
    const dropped = /offsets (\d+)-(\d+) \((\d+) bytes\): replaced by a padding record/.exec(fix.out);
    expect(dropped, fix.out).not.toBeNull();
    expect(Number(dropped![1])).toBe(offset);
    expect(Number(dropped![2])).toBeGreaterThan(at);
    expect(Number(dropped![3])).toBe(Number(dropped![2]) - offset);
    // the clean-shutdown checkpoint counted the lost entry: it goes too, and the log is replayed instead
    expect(fix.out).toMatch(/checkpoint at \S+ offset \d+ \(\d+ bytes\): replaced by a padding record/);
    expect((await runCheck([dir])).code).toBe(0);

    const server = await spawnSpool(dir);
    try {
      const got = await entries(server.port, KEY);
      expect(got.length).toBe(N - 1); // every entry but the one whose record held the flipped byte
      let previous = 0;
      for (const [id, fields] of got) {
        const i = Number(id.split('-')[0]) - 1;
        expect(i).toBeGreaterThan(previous - 1);
        previous = i + 1;
        expect(id).toBe(`${i + 1}-0`);
        expect(fields[1]).toBe(String(i));
        expect(Buffer.from(fields[3], 'latin1').equals(val(i))).toBe(true);
      }
      // the other stream is untouched
      expect((await entries(server.port, OTHER)).length).toBe(N);
      // and the repaired stream takes writes again, which survive a restart
      const c = await connected(client(server.port));
      expect(await c.xadd(KEY, '*', 'after', 'fix')).toMatch(/^\d+-\d+$/);
      c.disconnect();
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0);
    }
    const again = await spawnSpool(dir);
    try {
      const got = await entries(again.port, KEY);
      expect(got[got.length - 1][1]).toEqual(['after', 'fix']);
    } finally {
      await again.kill('SIGTERM');
    }
  }, 40000);
});

describe('torn tail', () => {
  it('start-up cuts the last record cut short, logs the cut and keeps everything before it', async () => {
    const { dir, segment } = await prepare('torn', 'SIGKILL');
    const end = await dataEnd(segment);
    // the last record ends with "end" (its value): cut it 5 bytes short, as a crash while writing it would. The
    // commit journal holds that record too (SIGKILL left it): a machine crash that tears a record before its
    // journal frame was durable leaves the journal without it, so the journal goes as well.
    await fsp.truncate(segment, end - 5);
    await fsp.rm(path.join(dir, 'journal'), { recursive: true, force: true });
    const server = await spawnSpool(dir);
    try {
      const out = server.output();
      expect(out).toMatch(/torn tail/);
      expect(out).toContain(segment);
      const got = await entries(server.port, KEY);
      expect(got.length).toBe(N - 1);
      expect(got[got.length - 1][0]).toBe(`${N - 1}-0`);
      expect((await entries(server.port, OTHER)).length).toBe(N);
      const c = await connected(client(server.port));
      expect(await c.xadd(KEY, `${N + 5}-0`, 'after', 'cut')).toBe(`${N + 5}-0`);
      c.disconnect();
    } finally {
      expect(await server.kill('SIGTERM')).toBe(0);
    }
    const again = await spawnSpool(dir);
    try {
      const got = await entries(again.port, KEY);
      expect(got.length).toBe(N);
      expect(got[got.length - 1]).toEqual([`${N + 5}-0`, ['after', 'cut']]);
      expect(again.output()).not.toMatch(/torn tail/);
    } finally {
      await again.kill('SIGTERM');
    }
  }, 40000);

  it('a checkpoint cut short (the last record after a clean shutdown) is dropped and the log replayed', async () => {
    const { dir, segment } = await prepare('torn-checkpoint', 'SIGTERM');
    await fsp.truncate(segment, (await dataEnd(segment)) - 5);
    const server = await spawnSpool(dir);
    try {
      expect(server.output()).toMatch(/torn tail/);
      const got = await entries(server.port, KEY);
      expect(got.length).toBe(N);
      expect(got[got.length - 1][0]).toBe(`${N}-0`);
    } finally {
      await server.stop();
    }
  }, 60000);
});
