// The commit journal's file format, roll-over and replay (src/storage/commitJournal.ts, journalReplay.ts), on
// real files: frames end at a torn, stale or damaged one; a full file rolls over to the next and is recycled
// once the segments it covers are synced; replay writes sections back by log id, skipping streams that are gone.
import { mkdtemp, mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommitJournal, FRAME_HEADER, JOURNAL_DIR, JournalFrame, journalFileName, parseJournalFileName } from '../../src/storage/commitJournal';
import { parseJournalFile, replayJournal } from '../../src/storage/journalReplay';
import { LOG_ID_FILE, segmentFileName } from '../../src/storage/fileNames';
import type { Syncable } from '../../src/storage/commitBatcher';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});
async function tmp(): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'spool-journal-'));
  dirs.push(d);
  return d;
}

const ID_A = Buffer.from('0102030405060708', 'hex');
const ID_B = Buffer.from('1112131415161718', 'hex');

function frameOf(sections: [Buffer, number, number, string][]): JournalFrame {
  const f = new JournalFrame();
  f.reset();
  for (const [id, base, off, text] of sections) {
    const b = Buffer.from(text);
    f.add(id, base, off, b, 0, b.length);
  }
  return f;
}

function fakeSegment(): Syncable & { syncs: number } {
  return {
    dirty: true,
    syncs: 0,
    async sync() {
      this.syncs++;
    },
  };
}

describe('journal frames', () => {
  it('parses sealed frames and stops at a torn, stale or damaged one', () => {
    const one = Buffer.from(frameOf([[ID_A, 0, 10, 'hello']]).seal(5));
    const two = Buffer.from(frameOf([[ID_B, 4096, 0, 'world'], [ID_A, 0, 15, '!']]).seal(5));
    const file = Buffer.concat([one, two, Buffer.alloc(100)]);
    const out: Parameters<typeof parseJournalFile>[2] = [];
    expect(parseJournalFile(file, 5, out)).toBe(2);
    expect(out.map((s) => [s.logId, s.segBase, s.offset, s.bytes.toString()])).toEqual([
      [ID_A.toString('hex'), 0, 10, 'hello'],
      [ID_B.toString('hex'), 4096, 0, 'world'],
      [ID_A.toString('hex'), 0, 15, '!'],
    ]);
    // the same bytes read as another generation (a recycled file's stale frames): nothing
    expect(parseJournalFile(file, 6, [])).toBe(0);
    // torn second frame
    expect(parseJournalFile(Buffer.concat([one, two.subarray(0, two.length - 1)]), 5, [])).toBe(1);
    // a flipped bit in the second frame's body
    const damaged = Buffer.from(file);
    damaged[one.length + FRAME_HEADER + 30] ^= 0x40;
    expect(parseJournalFile(damaged, 5, [])).toBe(1);
  });
});

describe('CommitJournal', () => {
  it('rolls over to the next file, syncs the segments behind the full one, then recycles it', async () => {
    const dir = await tmp();
    const j = await CommitJournal.open(dir, 1, { fileSize: 64 * 1024 });
    const segs = [fakeSegment(), fakeSegment()];
    const payload = 'x'.repeat(20000);
    // concurrent writes, as overlapping commits make them
    await Promise.all([0, 1, 2, 3, 4].map((i) => j.write(frameOf([[ID_A, 0, i * 20000, payload]]), [segs[i % 2]], true)));
    expect(j.rotations).toBeGreaterThanOrEqual(1);
    await j.write(frameOf([[ID_A, 0, 100000, "tail"]]), [segs[0]], false);
    for (let i = 0; i < 100 && segs[1].syncs === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(segs[0].syncs + segs[1].syncs).toBeGreaterThan(0);
    const names = (await readdir(path.join(dir, JOURNAL_DIR))).filter((n) => parseJournalFileName(n) !== null);
    expect(names.length).toBeLessThanOrEqual(3);
    // every frame written since the segments were last synced is readable
    const sections: Parameters<typeof parseJournalFile>[2] = [];
    for (const n of names) parseJournalFile(await readFile(path.join(dir, JOURNAL_DIR, n)), parseJournalFileName(n)!, sections);
    expect(sections.some((s) => s.bytes.toString() === 'tail')).toBe(true);
    await j.close(true);
    expect((await readdir(path.join(dir, JOURNAL_DIR))).filter((n) => parseJournalFileName(n) !== null)).toEqual([]);
  });
});

describe('replayJournal', () => {
  it('writes sections back by log id, skips streams and segments that are gone, removes the files', async () => {
    const data = await tmp();
    // stream A exists with its segment; stream B was deleted (no directory carries its id)
    const a = path.join(data, '0-61');
    await mkdir(a);
    await writeFile(path.join(a, LOG_ID_FILE), ID_A);
    await writeFile(path.join(a, segmentFileName(0)), Buffer.alloc(64));
    await mkdir(path.join(data, JOURNAL_DIR));
    const frame = frameOf([
      [ID_A, 0, 8, 'restored'],
      [ID_B, 0, 0, 'lost'],
      [ID_A, 65536, 0, 'no such segment'],
    ]).seal(3);
    const file = Buffer.alloc(4096);
    frame.copy(file);
    await writeFile(path.join(data, JOURNAL_DIR, journalFileName(3)), file);
    const report = await replayJournal(data);
    expect(report).toMatchObject({ files: 1, frames: 1, restored: 1, skipped: 2, nextGen: 4 });
    const seg = await readFile(path.join(a, segmentFileName(0)));
    expect(seg.subarray(8, 16).toString()).toBe('restored');
    expect(seg.length).toBe(64);
    expect(await readdir(path.join(data, JOURNAL_DIR))).toEqual([]);
    // nothing to replay the second time
    expect(await replayJournal(data)).toMatchObject({ files: 0, frames: 0, nextGen: 1 });
  });
});
