import { afterEach, describe, expect, it } from 'vitest';
import { openSync, readdirSync, readSync, writeSync, closeSync, fstatSync } from 'node:fs';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { StreamLog } from '../../src/storage/streamLog';
import { FLAG_BATCH_CONTINUES, RecordType } from '../../src/storage/recordCodec';
import { CorruptLogError, recoverStream } from '../../src/storage/recovery';
import { collect, rig, tempDir, tick } from './helpers';
import { childEnv } from './buildDist';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

/** Writes `n` entries (single-record batches) and returns the directory and each record's position. */
async function makeLog(tag: string, n: number, size = 50): Promise<{ dir: string; pos: number[] }> {
  const t = tempDir(tag);
  cleanup = t.cleanup;
  const r = rig({ policy: 'no' });
  const log = await StreamLog.create(t.dir, 0, Buffer.from(tag), r.opts);
  const pos: number[] = [];
  for (let i = 0; i < n; i++) {
    pos.push(log.appendEntry(BigInt(i), 0n, [Buffer.from('f'), Buffer.alloc(size, i)]));
    if (i % 100 === 0) await tick();
  }
  await log.close();
  r.batcher.close();
  return { dir: log.dir, pos };
}

function lastSegment(dir: string): string {
  const files = readdirSync(dir).filter((f) => f.endsWith('.log')).sort();
  return path.join(dir, files[files.length - 1]);
}
function patch(file: string, offset: number, bytes: Buffer): void {
  const fd = openSync(file, 'r+');
  writeSync(fd, bytes, 0, bytes.length, offset);
  closeSync(fd);
}
function readAt(file: string, offset: number, len: number): Buffer {
  const fd = openSync(file, 'r');
  const b = Buffer.alloc(len);
  readSync(fd, b, 0, len, offset);
  closeSync(fd);
  return b;
}

describe('recovery', () => {
  it('cuts a torn tail (last record cut short, zero reserve after it)', async () => {
    const { dir, pos } = await makeLog('torn', 100);
    const file = lastSegment(dir);
    // zero the second half of the last record: as if the crash happened while it was written
    const last = pos[99] - 0; // single segment: position = offset
    patch(file, last + 30, Buffer.alloc(40));
    const { records, report } = await collect(dir);
    expect(records.length).toBe(99);
    expect(report.tornTail).toMatchObject({ file, offset: last });
    expect(report.end).toBe(last);
    expect(fstatSync(openSync(file, 'r')).size).toBe(last);
    // the cut is stable: a second recovery finds nothing to do
    const again = await collect(dir);
    expect(again.records.length).toBe(99);
    expect(again.report.tornTail).toBeNull();
  });

  it('cuts random garbage written from a random offset to the end of the data', async () => {
    for (let round = 0; round < 5; round++) {
      const { dir, pos } = await makeLog(`garbage${round}`, 200);
      const file = lastSegment(dir);
      const k = 50 + Math.floor(Math.random() * 140);
      const inside = Math.floor(Math.random() * 40);
      const end = pos[199] + 71;
      const from = pos[k] + inside;
      const junk = Buffer.alloc(end - from + Math.floor(Math.random() * 5000));
      for (let i = 0; i < junk.length; i++) junk[i] = (Math.random() * 256) | 0;
      patch(file, from, junk);
      const { records, report } = await collect(dir);
      expect(records.length).toBe(k);
      expect(report.tornTail?.offset).toBe(pos[k]);
      expect(report.corruption).toBeNull();
      cleanup();
    }
  });

  it('refuses a bit flip before the tail, naming file, offset and the repair command; spool-check --fix repairs', async () => {
    const { dir, pos } = await makeLog('flip', 100);
    const file = lastSegment(dir);
    const at = pos[40] + 25;
    const b = readAt(file, at, 1);
    b[0] ^= 0x10;
    patch(file, at, b);
    const err = await recoverStream(dir, null).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err.file).toBe(file);
    expect(err.offset).toBe(pos[40]);
    expect(err.message).toContain(`offset ${pos[40]}`);
    expect(err.message).toContain('node bin/spool-check.js --fix');

    // check mode reports without touching the files
    const checked = await recoverStream(dir, null, 'check');
    expect(checked.corruption?.offset).toBe(pos[40]);
    expect(checked.modified).toBe(false);

    // the CLI (plain JS over dist/storage) reports, then fixes
    const cli = path.resolve(__dirname, '../../bin/spool-check.js');
    const env = childEnv();
    let code = 0;
    try {
      execFileSync(process.execPath, [cli, dir], { env, stdio: 'pipe' });
    } catch (e) {
      code = (e as { status: number }).status;
    }
    expect(code).toBe(1);
    const out = execFileSync(process.execPath, [cli, '--fix', dir], { env, stdio: 'pipe' }).toString();
    expect(out).toContain('CORRUPT');
    // the damaged record became padding; every record after it is kept (test/storage/salvage.test.ts)
    const { records } = await collect(dir);
    expect(records.length).toBe(100);
    expect(records.filter((r) => r.type === RecordType.ENTRY).length).toBe(99);
    expect(records[40].type).toBe(RecordType.PAD);
  });

  it('drops a trailing partial batch and keeps complete batches', async () => {
    const t = tempDir('batch');
    cleanup = t.cleanup;
    const r = rig({ policy: 'no' });
    const log = await StreamLog.create(t.dir, 0, Buffer.from('b'), r.opts);
    const e = (i: number) => [Buffer.from('f'), Buffer.from(String(i))];
    log.appendEntry(1n, 0n, e(1), 0, 2, FLAG_BATCH_CONTINUES);
    log.appendEntry(2n, 0n, e(2)); // batch 1 complete: 2 records
    log.appendRecord(RecordType.SETID, Buffer.from('x')); // batch 2: 1 record
    const cut = log.appendEntry(3n, 0n, e(3), 0, 2, FLAG_BATCH_CONTINUES);
    log.appendRecord(RecordType.DELIVER, Buffer.from('y'), FLAG_BATCH_CONTINUES); // batch 3 never ends (crash)
    await log.close();
    r.batcher.close();
    const { records, report } = await collect(log.dir);
    expect(records.map((x) => x.type)).toEqual([RecordType.ENTRY, RecordType.ENTRY, RecordType.SETID]);
    expect(report.partialBatch).toMatchObject({ offset: cut, records: 2 });
    expect(report.batches).toBe(2);
    expect(report.end).toBe(cut);
  });

  it('treats zeros followed by valid data as corruption, not as the end', async () => {
    const { dir, pos } = await makeLog('hole', 50);
    const file = lastSegment(dir);
    patch(file, pos[10], Buffer.alloc(pos[11] - pos[10]));
    const err = await recoverStream(dir, null).catch((e) => e);
    expect(err).toBeInstanceOf(CorruptLogError);
    expect(err.offset).toBe(pos[10]);
  });
});
