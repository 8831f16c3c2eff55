// spool-check --fix on corruption before the tail (src/storage/salvage.ts, src/storage/checkTool.ts): every valid
// record after a damaged region is kept at its position, the region becomes padding (or zeros at a segment's end),
// a broken batch is dropped whole, the report names the stream's key and says which offsets and how many bytes
// were dropped, and the repaired log recovers without error.
import { afterEach, describe, expect, it } from 'vitest';
import { closeSync, openSync, readdirSync, readSync, writeSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { StreamLog } from '../../src/storage/streamLog';
import { entryMs, FLAG_BATCH_CONTINUES, HEADER_SIZE, RecordType } from '../../src/storage/recordCodec';
import { listSegments } from '../../src/storage/fileNames';
import { recoverStream } from '../../src/storage/recovery';
import { salvageStream } from '../../src/storage/salvage';
import { checkLogs, quoteKey } from '../../src/storage/checkTool';
import { collect, rig, tempDir, tick } from './helpers';
import { childEnv } from './buildDist';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

const KEY = Buffer.from('salv\r\n\0"age');

/** `n` single-record entries (ms = index) of ~`size` value bytes; segments of `segment` bytes. */
async function makeLog(n: number, segment = 64 * 1024, size = 50): Promise<{ dir: string; pos: number[]; sizes: number[] }> {
  const t = tempDir('salvage');
  cleanup = t.cleanup;
  const r = rig({ policy: 'no' }, { initialSegmentSize: segment, maxSegmentSize: segment });
  const log = await StreamLog.create(t.dir, 3, KEY, r.opts);
  const pos: number[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    const value = Buffer.alloc(size + (i % 7), i);
    pos.push(log.appendEntry(BigInt(i), 0n, [Buffer.from('f'), value]));
    sizes.push(HEADER_SIZE + 20 + 4 + 1 + 4 + value.length);
    if (i % 100 === 0) await tick();
  }
  await log.close();
  r.batcher.close();
  return { dir: log.dir, pos, sizes };
}

/** The segment file holding log position `p`, and the offset of `p` in it. */
async function locate(dir: string, p: number): Promise<{ file: string; offset: number }> {
  const bases = await listSegments(dir);
  const base = bases.filter((b) => b <= p).pop()!;
  const file = readdirSync(dir).find((f) => f === String(base).padStart(20, '0') + '.log')!;
  return { file: path.join(dir, file), offset: p - base };
}
function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}
function flip(file: string, offset: number): void {
  const fd = openSync(file, 'r+');
  const b = Buffer.alloc(1);
  readSync(fd, b, 0, 1, offset);
  b[0] ^= 0x5a;
  writeSync(fd, b, 0, 1, offset);
  closeSync(fd);
}
async function entryIds(dir: string): Promise<number[]> {
  const { records } = await collect(dir); // recover mode: throws if anything is still corrupt
  return records.filter((r) => r.type === RecordType.ENTRY).map((r) => Number(entryMs(r.payload)));
}
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

describe('spool-check --fix keeps the records after a damaged region', () => {
  it('a flipped byte: only that record is dropped, replaced by a padding record of its exact size', async () => {
    const { dir, pos, sizes } = await makeLog(100);
    const { file, offset } = await locate(dir, pos[40]);
    flip(file, offset + 25);
    await expect(recoverStream(dir, null)).rejects.toThrow(/corrupt stream log/);

    const check = await checkLogs(dir, false);
    expect(check.code).toBe(1);
    expect(check.lines.join('\n')).toContain(`would drop ${sizes[40]} byte(s)`);
    expect(check.lines.join('\n')).toContain('to be replaced by a padding record');
    expect(check.lines.join('\n')).not.toContain('of data dropped'); // the plain cut is not what --fix does
    expect(await entryIds(dir).catch(() => 'still corrupt')).toBe('still corrupt'); // check changed nothing

    const fixed = await checkLogs(dir, true);
    const out = fixed.lines.join('\n');
    expect(fixed.code).toBe(0);
    expect(out).toContain(`stream ${quoteKey(KEY)} (db 3)`);
    expect(quoteKey(KEY)).toBe('"salv\\r\\n\\x00\\"age"');
    expect(out).toContain(`CORRUPT at ${file} offset ${offset}: checksum mismatch`);
    expect(out).toContain(`${path.basename(file)} offsets ${offset}-${offset + sizes[40]} (${sizes[40]} bytes): replaced by a padding record`);
    expect(await entryIds(dir)).toEqual([...range(0, 40), ...range(41, 100)]);
    const { records } = await collect(dir);
    expect(records[40]).toMatchObject({ type: RecordType.PAD, pos: pos[40] });
    expect(records[41].pos).toBe(pos[41]); // positions unchanged
    expect((await checkLogs(dir, false)).code).toBe(0);
  });

  it('random garbage across a segment boundary: zeros to the first segment\'s end, padding in the next', async () => {
    const { dir, pos, sizes } = await makeLog(200, 4096);
    const bases = await listSegments(dir);
    expect(bases.length).toBeGreaterThanOrEqual(3);
    const boundary = bases[1];
    const first = pos.findIndex((p, i) => p + sizes[i] > boundary - 500); // damage starts in this record
    const start = pos[first] + 7;
    const stop = boundary + 700; // damage ends in the second segment
    const lastHit = pos.findIndex((p) => p >= stop) - 1;
    let seed = 7;
    const junk = Buffer.alloc(stop - start);
    for (let i = 0; i < junk.length; i++) junk[i] = (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
    const a = await locate(dir, start);
    const endOfFirstData = pos.filter((p) => p < boundary).length; // records in segment 0
    // the junk runs from segment 0 into segment 1 (the reserve at the end of segment 0 included)
    patch(a.file, a.offset, junk.subarray(0, 4096 - a.offset));
    patch((await locate(dir, boundary)).file, 0, junk.subarray(4096 - a.offset, 4096 - a.offset + 700));
    expect(endOfFirstData).toBeGreaterThan(first);

    const fixed = await checkLogs(dir, true);
    const out = fixed.lines.join('\n');
    expect(out).toMatch(/zeroed \(the segment's data ends there\)/);
    expect(out).toMatch(/replaced by a padding record/);
    expect(await entryIds(dir)).toEqual([...range(0, first), ...range(lastHit + 1, 200)]);
  });

  it('a valid record closer than a header after the damage is absorbed; damage right after a region extends it', async () => {
    const { dir, pos, sizes } = await makeLog(60);
    const { file } = await locate(dir, pos[41]);
    expect(sizes[41]).toBe(sizes[42] + 6); // values of 56 and 50 bytes
    // Record 41 becomes 5 junk bytes, a copy of record 42 (valid anywhere: the checksum does not cover the
    // position), and its own last byte: the resync point is 5 bytes in, too close for a padding header.
    const copy = Buffer.alloc(sizes[42]);
    const fd = openSync(file, 'r');
    readSync(fd, copy, 0, copy.length, pos[42]);
    closeSync(fd);
    patch(file, pos[41], Buffer.concat([Buffer.alloc(5, 0xee), copy]));

    const report = await salvageStream(dir);
    expect(report.regions).toHaveLength(1);
    expect(report.regions[0]).toMatchObject({ badOffset: pos[41], recordsDropped: 1, bytes: sizes[41] });
    expect(report.regions[0].ranges).toEqual([{ file, from: pos[41], to: pos[42], action: 'padded' }]);
    expect(await entryIds(dir)).toEqual([...range(0, 41), ...range(42, 60)]);
  });

  it('a damaged record inside a batch drops the whole batch and keeps the batches around it', async () => {
    const t = tempDir('salvage-batch');
    cleanup = t.cleanup;
    const r = rig({ policy: 'no' });
    const log = await StreamLog.create(t.dir, 0, KEY, r.opts);
    const e = (i: number) => [Buffer.from('f'), Buffer.alloc(30, i)];
    const pos: number[] = [];
    pos.push(log.appendEntry(1n, 0n, e(1))); // batch of one
    pos.push(log.appendEntry(2n, 0n, e(2), 0, 2, FLAG_BATCH_CONTINUES)); // batch 2..4
    pos.push(log.appendEntry(3n, 0n, e(3), 0, 2, FLAG_BATCH_CONTINUES));
    pos.push(log.appendEntry(4n, 0n, e(4)));
    pos.push(log.appendEntry(5n, 0n, e(5))); // batch of one
    await log.close();
    r.batcher.close();
    const { file } = await locate(log.dir, pos[2]);
    flip(file, pos[2] + HEADER_SIZE + 12); // a payload byte: the header (flags: continues) stays believable

    const report = await salvageStream(log.dir);
    expect(report.regions).toHaveLength(1);
    expect(report.regions[0]).toMatchObject({ badOffset: pos[2], recordsDropped: 2 });
    expect(report.regions[0].ranges).toEqual([{ file, from: pos[1], to: pos[4], action: 'padded' }]);
    expect(await entryIds(log.dir)).toEqual([1, 5]);
  });

  it('the CLI prints the key of every stream and the dropped offsets', async () => {
    const { dir, pos, sizes } = await makeLog(60);
    const { file, offset } = await locate(dir, pos[10]);
    flip(file, offset + 30);
    const cli = path.resolve(__dirname, '../../bin/spool-check.js');
    const out = execFileSync(process.execPath, [cli, '--fix', path.dirname(dir)], { env: childEnv(), stdio: 'pipe' }).toString();
    expect(out).toContain(`stream ${quoteKey(KEY)} (db 3)`);
    expect(out).toContain(`offsets ${offset}-${offset + sizes[10]} (${sizes[10]} bytes)`);
    expect(await entryIds(dir)).toEqual([...range(0, 10), ...range(11, 60)]);
  });
});
