// Power loss under appendfsync always, simulated: the commit journal (src/storage/commitJournal.ts) is the only
// synced copy of what a commit acknowledged; the segments are synced behind it. After SIGKILL the test takes
// every range the journal files hold and destroys it in the segment files, as a power loss could leave them
// (all of it zeroed, every other 4 KiB page zeroed, or garbage in place of the bytes), then restarts: journal
// replay must bring back every acknowledged entry byte for byte, and recovery must see nothing torn.
// Small journal files make the journal roll over (and recycle files) within the run.
import { readdir, readFile, open } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJournalFile } from '../../src/storage/journalReplay';
import { JOURNAL_DIR, parseJournalFileName } from '../../src/storage/commitJournal';
import { LOG_ID_FILE, segmentFileName } from '../../src/storage/fileNames';
import type { SpoolProcess } from '../helpers/spool';
import { client, connected, ensureBuilt, killHard, newDataDir, removeDir, rng, sleep, spawnSpool } from './helpers';
import { XaddLoad } from './load';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

type Damage = 'zero' | 'pages' | 'garbage';

/** Destroys in the segment files every range the journal holds; returns how many ranges were damaged. */
async function losePower(dir: string, damage: Damage, seed: number): Promise<number> {
  const r = rng(seed);
  const byId = new Map<string, string>();
  for (const name of await readdir(dir)) {
    try {
      byId.set((await readFile(path.join(dir, name, LOG_ID_FILE))).toString('hex'), path.join(dir, name));
    } catch {
      // not a stream directory
    }
  }
  const jdir = path.join(dir, JOURNAL_DIR);
  const sections: Parameters<typeof parseJournalFile>[2] = [];
  for (const name of await readdir(jdir)) {
    const gen = parseJournalFileName(name);
    if (gen !== null) parseJournalFile(await readFile(path.join(jdir, name)), gen, sections);
  }
  let damaged = 0;
  for (const s of sections) {
    const logDir = byId.get(s.logId);
    if (!logDir) continue;
    const fh = await open(path.join(logDir, segmentFileName(s.segBase)), 'r+').catch(() => null);
    if (!fh) continue;
    try {
      const bad = Buffer.alloc(s.bytes.length);
      if (damage === 'garbage') for (let i = 0; i < bad.length; i++) bad[i] = Math.floor(r() * 256);
      if (damage === 'pages') {
        // every other page of the range, as a writeback that got half way
        for (let page = Math.floor(s.offset / 4096) * 4096; page < s.offset + s.bytes.length; page += 8192) {
          const from = Math.max(page, s.offset);
          const to = Math.min(page + 4096, s.offset + s.bytes.length);
          if (to > from) await fh.write(Buffer.alloc(to - from), 0, to - from, from);
        }
      } else await fh.write(bad, 0, bad.length, s.offset);
      damaged++;
    } finally {
      await fh.close();
    }
  }
  return damaged;
}

// everysec: the journal is synced once a second, so the load stops and the test waits past a sync before the
// power goes: everything acknowledged before that must come back.
describe.each([
  ['always', 'zero'],
  ['always', 'pages'],
  ['always', 'garbage'],
  ['everysec', 'zero'],
  ['everysec', 'pages'],
] as const)('appendfsync %s: power loss of everything synced only through the commit journal', (policy, damage) => {
  it(`journal replay restores every acknowledged entry (segments ${damage})`, async () => {
    const dir = await newDataDir(`jpower-${policy}-${damage}`);
    dirs.push(dir);
    const seed = Math.floor(Math.random() * 1e6);
    const args = ['--appendfsync', policy, '--segment-initial-size', '64kb', '--segment-max-size', '256kb', '--commit-journal-size', '256kb'];
    const keys = Array.from({ length: 12 }, (_, i) => `p:${i}`);
    const load = new XaddLoad(keys, 3, seed);
    let server: SpoolProcess = await spawnSpool(dir, args);
    try {
      for (let round = 0; round < 2; round++) {
        const conns = await Promise.all(Array.from({ length: 3 }, () => connected(client(server.port))));
        const running = load.run(conns);
        // a loaded machine can take a while to create the streams and the journal: wait for some acknowledgements
        for (let waited = 0; load.acknowledged() < 200 && waited < 20000; waited += 50) await sleep(50);
        await sleep(200 + Math.floor(Math.random() * 600));
        if (policy === 'everysec') {
          load.stop();
          await running;
          await sleep(2500);
        }
        await killHard(server);
        await running;
        for (const c of conns) c.disconnect();
        const context = `seed ${seed} round ${round} damage ${damage}`;
        expect(load.acknowledged(), `${context}: no load ran`).toBeGreaterThan(0);
        const damaged = await losePower(dir, damage, seed + round);
        expect(damaged, `${context}: the journal held nothing`).toBeGreaterThan(0);
        server = await spawnSpool(dir, args);
        const check = await connected(client(server.port));
        try {
          const info = await check.info('streams');
          expect(Number(/commit_journal_replayed_frames:(\d+)/.exec(info)?.[1]), `${context}: INFO streams`).toBeGreaterThan(0);
          await load.verify(check, context);
        } finally {
          check.disconnect();
        }
        // replayed and removed: nothing is left to replay twice
        const left = (await readdir(path.join(dir, JOURNAL_DIR)).catch(() => [])).filter((n) => parseJournalFileName(n) !== null);
        expect(left.length <= 2, `${context}: journal files after restart: ${left.join(',')}`).toBe(true);
      }
    } finally {
      await server.kill('SIGKILL');
    }
  }, 120000);
});
