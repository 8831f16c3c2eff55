// Stream changes are typed records (src/streams/changeRecords.ts) applied to the model at recovery: a log that
// holds every record type restarts after SIGKILL to exactly the state before (XINFO STREAM FULL, groups, PELs,
// XRANGE, settings; see state.ts), also across a RENAME (records do not name the key), and the new build writes
// no COMMAND record. A log of the previous format (changes as COMMAND records) still loads.
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DecodeStatus, RecordType, RecordView, decodeAt, encodeRecord } from '../../src/storage/recordCodec';
import { segmentFileName, streamDirName } from '../../src/storage/fileNames';
import { ChangeType } from '../../src/streams/changeRecords';
import { encodeCommand } from '../../src/server/legacyCommandReplay';
import { RespConnection, type Arg } from '../helpers/resp';
import { blob, run, snapshot } from './state';
import { ensureBuilt, newDataDir, removeDir, spawnSpool } from './helpers';

const dirs: string[] = [];
beforeAll(() => ensureBuilt(), 120000);
afterAll(async () => {
  for (const d of dirs) await removeDir(d);
});

/** Record types in every segment file of every stream directory under `dir`. */
async function recordTypes(dir: string): Promise<Set<number>> {
  const types = new Set<number>();
  const view = new RecordView();
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (!d.isDirectory()) continue;
    for (const f of await readdir(path.join(dir, d.name))) {
      if (!f.endsWith('.log')) continue;
      const seg = await readFile(path.join(dir, d.name, f));
      for (let off = 0; off < seg.length && decodeAt(seg, off, seg.length, view) === DecodeStatus.OK; off += view.size) types.add(view.type);
    }
  }
  return types;
}

/** Writes on `s` (and a few other keys) that leave one record of every change type in the logs. */
const WORKLOAD: Arg[][] = [
  ...Array.from({ length: 30 }, (_, i): Arg[] => ['XADD', 's', `${i + 1}-1`, 'f', `v${i + 1}`, 'g', 'x']),
  ['XGROUP', 'CREATE', 's', 'g', '0'],
  ['XGROUP', 'CREATE', 's', 'gone', '$'],
  ['XGROUP', 'CREATE', 's', 'h', '5-1', 'ENTRIESREAD', '5'],
  ['XGROUP', 'CREATECONSUMER', 's', 'g', 'idle'],
  ['XGROUP', 'CREATECONSUMER', 's', 'g', 'tmp'],
  ['XGROUP', 'DELCONSUMER', 's', 'g', 'tmp'],
  ['XGROUP', 'DESTROY', 's', 'gone'],
  ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '8', 'STREAMS', 's', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '4', 'NOACK', 'STREAMS', 's', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '3', 'STREAMS', 's', '>'],
  ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '0'],
  ['XREADGROUP', 'GROUP', 'h', 'carol', 'COUNT', '5', 'STREAMS', 's', '>'],
  ['XACK', 's', 'g', '1-1', '2-1'],
  ['XCLAIM', 's', 'g', 'carol', '0', '3-1', '4-1', 'RETRYCOUNT', '7', 'LASTID', '20-1'],
  ['XCLAIM', 's', 'g', 'dave', '0', '25-1', 'FORCE', 'TIME', '1000'],
  ['XDEL', 's', '5-1'],
  ['XAUTOCLAIM', 's', 'g', 'erin', '0', '0', 'COUNT', '4'], // claims 3-1, 4-1, 6-1; drops 5-1's dangling NACK
  ['XNACK', 's', 'g', 'FAIL', 'IDS', '1', '7-1'],
  ['XREADGROUP', 'GROUP', 'g', 'frank', 'CLAIM', '0', 'COUNT', '2', 'STREAMS', 's', '>'],
  ['XDELEX', 's', 'DELREF', 'IDS', '1', '8-1'],
  ['XACKDEL', 's', 'h', 'IDS', '1', '9-1'],
  ['XADD', 's', 'MAXLEN', '~', '20', '*', 'f', 'approx'], // small nodes (see ARGS): whole nodes go
  ['XTRIM', 's', 'MINID', '12-1'],
  ['XGROUP', 'SETID', 's', 'h', '14-1', 'ENTRIESREAD', '9'],
  ['XADD', 's', 'IDMP', 'p1', 'i1', '*', 'f', 'once'],
  ['XADD', 'ids', '5-5', 'f', 'v'],
  ['XSETID', 'ids', '100-0', 'ENTRIESADDED', '40', 'MAXDELETEDID', '50-0'],
  ['XCFGSET', 'ids', 'appendfsync', 'always', 'maxbytes', '1mb', 'IDMP-MAXSIZE', '50'],
  ['XIDMPRECORD', 'ids', 'p', 'i', '5-5'],
];
const ARGS = ['--stream-node-max-entries', '4'];

describe('typed change records', () => {
  it('a log with every record type restarts to exactly the state before, across a RENAME too', async () => {
    const dir = await newDataDir('typed');
    dirs.push(dir);
    let server = await spawnSpool(dir, ARGS);
    try {
      let conn = await RespConnection.connect(server.port);
      await run(conn, WORKLOAD);
      // a blocked reader served later records its read too
      await run(conn, [['XGROUP', 'CREATE', 'w', 'g', '$', 'MKSTREAM']]);
      const waiter = await RespConnection.connect(server.port);
      waiter.sendCommand(['XREADGROUP', 'GROUP', 'g', 'waiter', 'BLOCK', '0', 'STREAMS', 'w', '>']);
      waiter.sendCommand(['PING']); // answered once the read is
      await new Promise((resolve) => setTimeout(resolve, 100));
      await run(conn, [['XADD', 'w', '1-1', 'f', 'v']]);
      const [served] = await waiter.read(2, 10000);
      expect(served.type).toBe('*');
      waiter.close();
      // records written before a RENAME replay under the new name; more after it
      await run(conn, [
        ['RENAME', 's', 'renamed'],
        ['XACK', 'renamed', 'g', '13-1'],
        ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '1', 'STREAMS', 'renamed', '>'],
      ]);
      const before = await snapshot(conn, [0]);
      const [cfgBefore] = await run(conn, [['XCFGGET', 'ids']]);
      conn.close();
      await server.kill('SIGKILL');

      const types = await recordTypes(dir);
      for (const code of Object.values(ChangeType)) expect(types.has(code), `record type ${code}`).toBe(true);
      expect(types.has(RecordType.COMMAND)).toBe(false);

      server = await spawnSpool(dir, ARGS);
      conn = await RespConnection.connect(server.port);
      expect(Object.fromEntries(await snapshot(conn, [0]))).toEqual(Object.fromEntries(before));
      const [cfgAfter] = await run(conn, [['XCFGGET', 'ids']]);
      expect(cfgAfter.bytes.toString('latin1')).toBe(cfgBefore.bytes.toString('latin1'));
      // the IDMP mapping came back: a retry answers the original entry and adds nothing
      const [len, retry, last] = await run(conn, [
        ['XLEN', 'renamed'],
        ['XADD', 'renamed', 'IDMP', 'p1', 'i1', '*', 'f', 'once'],
        ['XREVRANGE', 'renamed', '+', '-', 'COUNT', '1'],
      ]);
      expect(blob(retry).toString()).toBe(blob(last.children![0].children![0]).toString());
      expect((await run(conn, [['XLEN', 'renamed']]))[0].bytes.toString()).toBe(len.bytes.toString());
      conn.close();
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60000);

  it('a log of the previous format (changes as COMMAND records) still loads', async () => {
    const dir = await newDataDir('legacy');
    dirs.push(dir);
    let server = await spawnSpool(dir);
    try {
      let conn = await RespConnection.connect(server.port);
      await run(conn, Array.from({ length: 6 }, (_, i): Arg[] => ['XADD', 'old', `${i + 1}-0`, 'f', String(i + 1)]));
      conn.close();
      await server.kill('SIGKILL');

      // What the previous build wrote after those entries: its commands, journaled under the key they ran on
      // (`before`: the stream was renamed since; replay puts the current key in).
      const segPath = path.join(dir, streamDirName(0, Buffer.from('old')), segmentFileName(0));
      const seg = await readFile(segPath);
      const view = new RecordView();
      let end = 0;
      while (decodeAt(seg, end, seg.length, view) === DecodeStatus.OK) end += view.size;
      const t = 1_700_000_000_000;
      const commands: [number, string[]][] = [
        [t, ['XGROUP', 'CREATE', 'before', 'g', '0']],
        [t + 1, ['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 'before', '>']],
        [t + 2, ['XACK', 'before', 'g', '1-0']],
        [t + 3, ['XDEL', 'before', '6-0']],
        [t + 4, ['XTRIM', 'before', 'MINID', '=', '2-0']],
        [t + 5, ['XCFGSET', 'before', 'maxbytes', '1mb']],
      ];
      const records = commands.map(([now, args]) => encodeRecord(RecordType.COMMAND, 0, encodeCommand(now, args.map((a) => Buffer.from(a)))));
      const bytes = Buffer.concat(records);
      bytes.copy(seg, end);
      await writeFile(segPath, seg);

      server = await spawnSpool(dir);
      conn = await RespConnection.connect(server.port);
      const [range, pending, groups, cfg] = await run(conn, [
        ['XRANGE', 'old', '-', '+'],
        ['XPENDING', 'old', 'g', '-', '+', '10'],
        ['XINFO', 'GROUPS', 'old'],
        ['XCFGGET', 'old'],
      ]);
      expect((range.children ?? []).map((e) => blob(e.children![0]).toString())).toEqual(['2-0', '3-0', '4-0', '5-0']);
      expect((pending.children ?? []).map((p) => [blob(p.children![0]).toString(), blob(p.children![1]).toString()])).toEqual([
        ['2-0', 'alice'],
        ['3-0', 'alice'],
      ]);
      const group = (groups.children ?? [])[0].children!.map((c) => (c.type === '$' ? blob(c).toString() : c.bytes.toString().trim()));
      expect(group.slice(0, 8)).toEqual(['name', 'g', 'consumers', ':1', 'pending', ':2', 'last-delivered-id', '3-0']);
      expect(cfg.bytes.toString()).toContain('$8\r\nmaxbytes\r\n$7\r\n1048576\r\n');
      // and what this build writes on top of it is typed
      await run(conn, [['XACK', 'old', 'g', '2-0']]);
      conn.close();
      await server.kill('SIGKILL');
      expect((await recordTypes(dir)).has(RecordType.ACK)).toBe(true);
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60000);
});
