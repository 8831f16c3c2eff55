// All or nothing per command and per EXEC, within a stream's log: every record one command (or one EXEC) appends
// to a log but the last carries FLAG_BATCH_CONTINUES (src/storage/streamLog.ts joinBatch), and recovery drops a
// batch whose last record is missing. The test reads the flags from the segment file, then cuts the log inside
// a batch, as a crash could leave it, and restarts.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeStatus, FLAG_BATCH_CONTINUES, RecordType, RecordView, decodeAt } from '../../src/storage/recordCodec';
import { segmentFileName, streamDirName } from '../../src/storage/fileNames';
import { client, connected, ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

interface Rec {
  offset: number;
  size: number;
  type: number;
  flags: number;
}

function records(seg: Buffer): Rec[] {
  const out: Rec[] = [];
  const v = new RecordView();
  for (let off = 0; off < seg.length; ) {
    if (decodeAt(seg, off, seg.length, v) !== DecodeStatus.OK) break;
    out.push({ offset: off, size: v.size, type: v.type, flags: v.flags });
    off += v.size;
  }
  return out;
}

describe('batches in the stream logs', () => {
  it('flags every record of a command or EXEC but the last, and recovery drops a batch cut short', async () => {
    const dir = await newDataDir('batch');
    dirs.push(dir);
    let server = await spawnSpool(dir, ['--appendfsync', 'always']);
    const segPath = path.join(dir, streamDirName(0, Buffer.from('s')), segmentFileName(0));
    try {
      let c = await connected(client(server.port));
      await c.xadd('s', '1-1', 'a', '1'); // one record: no flag
      await c.xadd('s', 'MAXLEN', '=', '1', '2-1', 'a', '2'); // ENTRY + the trim's TRIM record
      const exec = await c.multi().xadd('s', '3-1', 'a', '3').xadd('s', '4-1', 'a', '4').xdel('s', '3-1').exec();
      expect(exec?.map(([err]) => err)).toEqual([null, null, null]);
      c.disconnect();
      await server.kill('SIGTERM');

      const seg = await readFile(segPath);
      const recs = records(seg).filter((r) => r.type !== RecordType.CHECKPOINT);
      expect(recs.map((r) => [r.type, r.flags])).toEqual([
        [RecordType.ENTRY, 0],
        [RecordType.ENTRY, FLAG_BATCH_CONTINUES],
        [RecordType.TRIM, 0],
        [RecordType.ENTRY, FLAG_BATCH_CONTINUES],
        [RecordType.ENTRY, FLAG_BATCH_CONTINUES],
        [RecordType.DELETE, 0],
      ]);

      // A crash that kept the EXEC's first two records but not its last: the whole EXEC is dropped.
      const lastOfExec = recs[5];
      const cut = Buffer.from(seg);
      cut.fill(0, lastOfExec.offset);
      await writeFile(segPath, cut);
      server = await spawnSpool(dir, ['--appendfsync', 'always']);
      c = await connected(client(server.port));
      const ids = (await c.xrange('s', '-', '+')).map(([id]) => id);
      expect(ids).toEqual(['2-1']); // the trim kept only 2-1; 3-1 and 4-1 never happened
      c.disconnect();
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60000);
});
