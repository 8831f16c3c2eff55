// Online backup (BACKUP <directory>): a consistent copy made while clients keep writing, restorable by starting a
// second server on it. The copy holds every entry acknowledged before BACKUP was sent, each stream's entries are a
// prefix of the original's (nothing after the cut, no hole), groups and pending lists come back, sealed segments
// are hard-linked; and bad targets get clear errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { Err } from '../../src/errors';
import { binaryValue, client, connected, ensureBuilt, newDataDir, removeDir, rng, spawnSpool } from './helpers';
import type { SpoolProcess } from '../helpers/spool';

const ARGS = ['--appendfsync', 'everysec', '--segment-initial-size', '64kb', '--segment-max-size', '128kb'];
const LONG_KEY = `long:${'k'.repeat(200)}`; // named by its hash, with a KEY file
const KEYS = ['plain', 'bin:\0\xff\r\n', LONG_KEY];

let dir = '';
let out = '';
let server: SpoolProcess | null = null;

beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('backup');
  out = path.join(await newDataDir('backup-target'), 'copy');
}, 120000);

afterAll(async () => {
  await server?.kill('SIGKILL');
  await removeDir(dir);
  await removeDir(path.dirname(out));
});

type Entry = [Buffer, Buffer[]];

async function entries(c: Redis, key: string): Promise<Entry[]> {
  return (await c.xrangeBuffer(Buffer.from(key, 'latin1'), '-', '+')) as unknown as Entry[];
}

function allFiles(root: string): string[] {
  const found: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    const p = path.join(root, e.name);
    if (e.isDirectory()) found.push(...allFiles(p));
    else found.push(p);
  }
  return found;
}

describe('BACKUP', () => {
  it('copies a consistent cut while clients write; a server started on the copy has it, groups included', async () => {
    server = await spawnSpool(dir, ARGS);
    const c = await connected(client(server.port));
    const writer = await connected(client(server.port));
    const r = rng(11);
    // enough to seal segments (hard-linked) besides the active ones (copied)
    for (let i = 0; i < 600; i++) {
      await c.xadd(Buffer.from(KEYS[i % 3], 'latin1'), '*', 'i', String(i), 'v', Buffer.alloc(300 + (i % 7) * 50, i & 255));
    }
    await c.xgroup('CREATE', Buffer.from(KEYS[0], 'latin1'), 'g1', '0');
    await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 50, 'STREAMS', Buffer.from(KEYS[0], 'latin1'), '>');
    const pending = (await c.xpending(Buffer.from(KEYS[0], 'latin1'), 'g1', '-', '+', 100)) as [string, string, number, number][];
    await c.xack(Buffer.from(KEYS[0], 'latin1'), 'g1', pending[0][0], pending[1][0]);
    const pendingBefore = await c.xpending(Buffer.from(KEYS[0], 'latin1'), 'g1');
    const groupsBefore = await c.xinfo('GROUPS', Buffer.from(KEYS[0], 'latin1'));

    // Writes keep going while the backup runs (bounded: 4000 writes or until told to stop).
    const acked: { key: string; id: string }[] = [];
    let stop = false;
    const load = (async () => {
      for (let i = 0; i < 4000 && !stop; i += 8) {
        await Promise.all(
          Array.from({ length: 8 }, (_, k) => {
            const key = KEYS[(i + k) % 3];
            return writer
              .xadd(Buffer.from(key, 'latin1'), '*', 'w', String(i + k), 'v', binaryValue(r))
              .then((id) => void acked.push({ key, id: id as string }));
          }),
        );
      }
    })();
    while (acked.length < 200) await new Promise((res) => setTimeout(res, 10));
    const ackedBeforeSend = acked.slice();
    expect(await c.call('BACKUP', out)).toBe('OK');
    const afterReply = acked.length;
    while (acked.length < afterReply + 100 && acked.length < 4000) await new Promise((res) => setTimeout(res, 10));
    stop = true;
    await load;

    // Sealed segments are hard links of the originals (same file system here).
    const copied = allFiles(out);
    expect(copied.some((f) => f.endsWith('.log') && statSync(f).nlink > 1)).toBe(true);

    const original = new Map<string, Entry[]>();
    for (const key of KEYS) original.set(key, await entries(c, key));
    c.disconnect();
    writer.disconnect();

    const restored = await spawnSpool(out, ARGS);
    try {
      const d = await connected(client(restored.port));
      for (const key of KEYS) {
        const got = await entries(d, key);
        const full = original.get(key)!;
        // a prefix of the original: same IDs and values, in order, nothing after the cut
        expect(got.length).toBeLessThanOrEqual(full.length);
        for (let i = 0; i < got.length; i++) {
          expect(got[i][0].toString()).toBe(full[i][0].toString());
          expect(Buffer.concat(got[i][1]).equals(Buffer.concat(full[i][1]))).toBe(true);
        }
        const ids = new Set(got.map(([id]) => id.toString()));
        for (const a of ackedBeforeSend.filter((x) => x.key === key)) expect(ids.has(a.id), `${JSON.stringify(key)} ${a.id}`).toBe(true);
        expect(got.length).toBeGreaterThanOrEqual(200);
      }
      expect(await d.xpending(Buffer.from(KEYS[0], 'latin1'), 'g1')).toEqual(pendingBefore);
      // the same group, but its lag counts the entries written since (up to the cut)
      const withoutLag = (groups: unknown) => (groups as unknown[][]).map((g) => g.slice(0, g.indexOf('lag')));
      expect(withoutLag(await d.xinfo('GROUPS', Buffer.from(KEYS[0], 'latin1')))).toEqual(withoutLag(groupsBefore));
      d.disconnect();
    } finally {
      await restored.kill('SIGKILL');
    }
    // the original goes on
    const e = await connected(client(server.port));
    expect(await e.xlen(Buffer.from(KEYS[1], 'latin1'))).toBe(original.get(KEYS[1])!.length);
    e.disconnect();
  }, 120000);

  it('refuses a non-empty target, one inside the data directory, one it cannot make, and inside MULTI; COMMAND describes it', async () => {
    const c = await connected(client(server!.port));
    try {
      const base = path.join(os.tmpdir(), `spool-backup-bad-${process.pid}`);
      mkdirSync(base, { recursive: true });
      writeFileSync(path.join(base, 'something'), 'x');
      await expect(c.call('BACKUP', base)).rejects.toThrow(Err.backupNotEmpty(base));
      const inside = path.join(dir, 'backups');
      await expect(c.call('BACKUP', inside)).rejects.toThrow(Err.backupInsideData(inside));
      const underFile = path.join(base, 'something', 'copy');
      await expect(c.call('BACKUP', underFile)).rejects.toThrow(`ERR BACKUP failed: mkdir '${underFile}': Not a directory (ENOTDIR)`);
      await expect(c.call('BACKUP')).rejects.toThrow(Err.wrongArity('backup'));
      const tx = await c.multi().call('BACKUP', path.join(base, 'tx')).exec();
      expect(String(tx![0][0])).toContain(Err.backupInMulti);
      await removeDir(base);
      // a Spool command, described by its spec
      const info = (await c.call('COMMAND', 'INFO', 'backup')) as unknown[][];
      expect(info[0].slice(0, 6)).toEqual(['backup', 2, ['admin', 'noscript'], 0, 0, 0]);
      const docs = (await c.call('COMMAND', 'DOCS', 'backup')) as unknown[];
      expect(docs[0]).toBe('backup');
      expect(docs[1]).toEqual(expect.arrayContaining(['summary', 'since', 'group', 'server', 'complexity']));
    } finally {
      c.disconnect();
    }
  }, 60000);
});
