// Old segments go once trimming leaves them behind (checkpoint, sync, delete), and nothing is lost with them:
// with 64 KiB segments, streams trimmed by MAXLEN ~ / MINID / XDEL / MAXLEN 0 under consumer-group traffic keep
// a bounded number of segment files, and a SIGKILL + restart (and a second one after more writes) reproduces
// XINFO STREAM FULL, groups, PELs, entries and per-stream settings (XCFGSET) byte for byte.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import { parseStreamDirName } from '../../src/storage/fileNames';
import path from 'node:path';
import { RespConnection, type Arg } from '../helpers/resp';
import { ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';
import { blob, run, snapshot } from './state';

let dir = '';
beforeAll(async () => {
  ensureBuilt();
  dir = await newDataDir('compaction');
}, 120000);
afterAll(async () => {
  if (dir) await removeDir(dir);
});

const SMALL_SEGMENTS = ['--segment-initial-size', '64kb', '--segment-max-size', '64kb'];

/** Segment files per stream directory. */
/** Bytes of all segment files in the data directory. */
function segmentFileBytes(): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    for (const f of readdirSync(path.join(dir, e.name))) if (f.endsWith('.log')) total += statSync(path.join(dir, e.name, f)).size;
  }
  return total;
}

/** Segment files per stream directory (the commit journal's directory is not a stream's). */
function segmentFiles(): number[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && parseStreamDirName(e.name) !== null)
    .map((e) => readdirSync(path.join(dir, e.name)).filter((f) => f.endsWith('.log')).length);
}

/** One round of writes: about 400 KiB per stream (six segments' worth) with trims and group traffic. */
async function round(conn: RespConnection, r: number): Promise<void> {
  const value = 'x'.repeat(180);
  for (let batch = 0; batch < 20; batch++) {
    const cmds: Arg[][] = [];
    for (let i = 0; i < 100; i++) {
      const n = r * 10000 + batch * 100 + i;
      cmds.push(['XADD', 'capped', 'MAXLEN', '~', '150', '*', 'n', String(n), 'v', value]);
      cmds.push(['XADD', 'byid', `${n + 1}-1`, 'n', String(n), 'v', value]);
      cmds.push(['XADD', 'drained', '*', 'v', value]);
    }
    cmds.push(['XTRIM', 'byid', 'MINID', String(Math.max(0, r * 10000 + batch * 100 - 120))]);
    cmds.push(['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '30', 'STREAMS', 'capped', 'byid', '>', '>']);
    cmds.push(['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '7', 'STREAMS', 'capped', '>']);
    if (batch % 4 === 3) cmds.push(['XTRIM', 'drained', 'MAXLEN', '0']);
    await run(conn, cmds);
    // ack part of alice's deliveries, claim some to carol, delete a few live entries
    const pending = await run(conn, [['XPENDING', 'capped', 'g', '-', '+', '10', 'alice']]);
    const ids = (pending[0].children ?? []).map((e) => blob(e.children![0]).toString('latin1'));
    if (ids.length >= 4) {
      await run(conn, [
        ['XACK', 'capped', 'g', ids[0], ids[1]],
        ['XCLAIM', 'capped', 'g', 'carol', '0', ids[2], 'RETRYCOUNT', '5'],
        ['XDEL', 'capped', ids[3]],
      ]);
    }
  }
}

describe('deleting segments behind checkpoints', () => {
  it('keeps segment files bounded and restores every stream exactly after SIGKILL', async () => {
    let server = await spawnSpool(dir, SMALL_SEGMENTS);
    let conn = await RespConnection.connect(server.port);
    try {
      await run(conn, [
        ['XGROUP', 'CREATE', 'capped', 'g', '0', 'MKSTREAM'],
        ['XGROUP', 'CREATE', 'byid', 'g', '0', 'MKSTREAM'],
        ['XGROUP', 'CREATE', 'drained', 'g', '$', 'MKSTREAM', 'ENTRIESREAD', '3'],
        ['XGROUP', 'CREATECONSUMER', 'drained', 'g', 'idle-one'],
        // per-stream settings live in the first segment too: the checkpoint must carry them
        ['XCFGSET', 'byid', 'maxbytes', '50mb', 'appendfsync', 'no'],
      ]);
      for (let r = 0; r < 2; r++) {
        await round(conn, r);
        // deletion runs after the checkpoint's sync (thread pool): poll until it is done
        let files = segmentFiles();
        for (let waited = 0; waited < 10000 && files.some((n) => n > 6); waited += 100) {
          await new Promise((resolve) => setTimeout(resolve, 100));
          files = segmentFiles();
        }
        expect(files.length).toBe(3);
        // each stream wrote ~6 segments per round (12 by the second); what is left: the live data's (entries and
        // the checkpoint records after them, which carry the growing PEL), the active one, the spare
        for (const n of files) expect(n).toBeLessThanOrEqual(6);
        const [info] = await run(conn, [['INFO', 'streams']]);
        const infoText = info.bytes.toString('latin1');
        expect(Number(/stream_segments_deleted:(\d+)/.exec(infoText)?.[1])).toBeGreaterThan(0);
        expect(Number(/stream_checkpoints:(\d+)/.exec(infoText)?.[1])).toBeGreaterThan(0);
        const reported = Number(/stream_segments:(\d+)/.exec(infoText)?.[1]);
        expect(reported).toBeGreaterThanOrEqual(3);
        expect(reported).toBeLessThanOrEqual(18); // deletions may still be finishing: the bound, not the count
        // stream_bytes_on_disk is what the segment files take (not the bytes ever written: deleted ones are gone)
        let onDisk = -1;
        for (let waited = 0; waited < 5000; waited += 100) {
          const [text] = await run(conn, [['INFO', 'streams']]);
          onDisk = Number(/stream_bytes_on_disk:(\d+)/.exec(text.bytes.toString('latin1'))?.[1]);
          if (onDisk === segmentFileBytes()) break;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(onDisk).toBe(segmentFileBytes());
        const before = await snapshot(conn, [0]);
        const [settingsBefore] = await run(conn, [['XCFGGET', 'byid']]);
        conn.close();
        await server.kill('SIGKILL');
        server = await spawnSpool(dir, SMALL_SEGMENTS);
        conn = await RespConnection.connect(server.port);
        const after = await snapshot(conn, [0]);
        expect(Object.fromEntries(after)).toEqual(Object.fromEntries(before));
        const [settingsAfter] = await run(conn, [['XCFGGET', 'byid']]);
        expect(settingsAfter.bytes.toString('latin1')).toBe(settingsBefore.bytes.toString('latin1'));
        expect(settingsAfter.bytes.toString('latin1')).toContain('52428800');
      }
      // and the restored streams go on: IDs continue, groups deliver, trims still work
      const [added, read] = await run(conn, [
        ['XADD', 'byid', '*', 'n', 'after'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1000', 'STREAMS', 'byid', '>'],
      ]);
      expect(added.type).toBe('$');
      expect((read.children ?? []).length).toBe(1);
    } finally {
      conn.close();
      await server.stop();
    }
  }, 180000);
});
