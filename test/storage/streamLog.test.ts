import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { StreamLog } from '../../src/storage/streamLog';
import { decodeEntry, HEADER_SIZE, RecordType } from '../../src/storage/recordCodec';
import { parseSegmentFileName, streamDirName, parseStreamDirName, segmentFileName } from '../../src/storage/fileNames';
import { collect, reopen, rig, tempDir, tick } from './helpers';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

const fields = (i: number, size = 100) => [Buffer.from('f'), Buffer.alloc(size, i & 0xff)];

describe('fileNames', () => {
  it('encodes binary keys reversibly, with the db number', () => {
    for (const key of [Buffer.from('mystream'), Buffer.from([0, 1, 2, 255, 47, 46]), Buffer.alloc(0), Buffer.alloc(500, 'x')]) {
      const name = streamDirName(3, key);
      expect(name).not.toContain('/');
      expect(name.length).toBeLessThan(200);
      const p = parseStreamDirName(name)!;
      expect(p.db).toBe(3);
      if (key.length <= 120) expect(p.key!.equals(key)).toBe(true);
      else expect(p.key).toBeNull();
    }
    expect(segmentFileName(1048576)).toBe('00000000000001048576.log');
    expect(parseSegmentFileName('00000000000001048576.log')).toBe(1048576);
  });
});

describe('StreamLog', () => {
  it('grows the active segment by doubling, rolls at the max size, and reads back every record', async () => {
    const t = tempDir('log');
    cleanup = t.cleanup;
    const r = rig({ policy: 'no' });
    const log = await StreamLog.create(t.dir, 0, Buffer.from('s1'), r.opts);
    const dir = log.dir;
    const positions: number[] = [];
    for (let i = 0; i < 6000; i++) {
      positions.push(log.appendEntry(BigInt(i), 0n, fields(i)));
      if (i % 200 === 0) await tick(); // let reservations run (they also catch up when staged)
    }
    const landed = log.whenLanded();
    if (landed) await landed;
    for (let i = 0; i < 6000; i += 397) {
      const e = decodeEntry(log.read(positions[i])!);
      expect(e.ms).toBe(BigInt(i));
      expect(e.items[1].equals(Buffer.alloc(100, i & 0xff))).toBe(true);
    }
    const files = readdirSync(dir).filter((n) => n.endsWith('.log'));
    expect(files.length).toBeGreaterThan(2); // 6000 * ~140 B = 840 KiB over 256 KiB segments
    for (const f of files.slice(0, -2)) expect(statSync(path.join(dir, f)).size).toBe(256 * 1024);
    await r.batcher.drain();
    await log.close();
    const { records, report } = await collect(dir);
    expect(records.length).toBe(6000);
    expect(records.map((x) => x.pos)).toEqual(positions);
    expect(report.tornTail).toBeNull();
    r.batcher.close();
  });

  it('stages records when a burst outruns the reservation and lands them in order', async () => {
    const t = tempDir('burst');
    cleanup = t.cleanup;
    const r = rig({ policy: 'everysec', every: () => () => undefined });
    const log = await StreamLog.create(t.dir, 0, Buffer.from('b'), r.opts);
    const positions: number[] = [];
    // 3 MiB in one turn: far beyond the 64 KiB first reservation
    for (let i = 0; i < 768; i++) positions.push(log.appendEntry(BigInt(i + 1), 0n, fields(i, 4096)));
    expect(log.stagedBytes).toBeGreaterThan(0);
    // a staged record is readable before it lands
    expect(decodeEntry(log.read(positions[700])!).ms).toBe(701n);
    const ticket = log.lastTicket;
    expect(r.batcher.durableTicket()).toBeLessThan(ticket); // not released until it is in the map
    await r.batcher.whenDurable(ticket);
    expect(log.whenLanded()).toBeNull();
    await log.close();
    const { records } = await collect(log.dir);
    expect(records.map((x) => decodeEntry(x.payload).ms)).toEqual(positions.map((_, i) => BigInt(i + 1)));
    r.batcher.close();
  });

  it('reopens after recovery and appends after the last record; deletes whole segments before a position', async () => {
    const t = tempDir('reopen');
    cleanup = t.cleanup;
    const r = rig({ policy: 'no' });
    let log = await StreamLog.create(t.dir, 2, Buffer.from('k'), r.opts);
    const dir = log.dir;
    const pos: number[] = [];
    for (let i = 0; i < 3000; i++) {
      pos.push(log.appendEntry(BigInt(i), 1n, fields(i)));
      if (i % 100 === 0) await tick();
    }
    await log.close();
    const again = await reopen(dir, r);
    log = again.log;
    expect(again.records.length).toBe(3000);
    const p = log.appendRecord(RecordType.TRIM, Buffer.from('x'));
    expect(p).toBeGreaterThan(pos[pos.length - 1]);
    const before = log.segmentCount;
    const removed = await log.deleteBefore(pos[2500]);
    expect(removed).toBeGreaterThan(0);
    expect(log.segmentCount).toBe(before - removed);
    // sealed segments are mapped lazily: read() says null until load() mapped it (no sync disk access)
    if (log.read(pos[2000]) === null) await log.load(pos[2000]);
    expect(decodeEntry(log.read(pos[2000])!).ms).toBe(2000n);
    await log.load(pos[2999]);
    expect(decodeEntry(log.read(pos[2999])!).ms).toBe(2999n);
    await log.close();
    const { records } = await collect(dir);
    expect(records[records.length - 1].type).toBe(RecordType.TRIM);
    r.batcher.close();
  });
  it('appendedBytes counts the record bytes appended since opening, not the segment space, across roll-overs', async () => {
    const t = tempDir('appended');
    cleanup = t.cleanup;
    const r = rig({ policy: 'no' });
    const log = await StreamLog.create(t.dir, 0, Buffer.from('a'), r.opts);
    const dir = log.dir;
    // records of varying sizes, with reservations keeping up (segments sealed with a tail left unused) ...
    for (let i = 0; i < 3000; i++) {
      log.appendEntry(BigInt(i + 1), 0n, fields(i, 100 + (i % 37)));
      if (i % 100 === 0) await tick();
    }
    // ... then a burst outrunning them (staged, rolled over on the slow path)
    for (let i = 0; i < 500; i++) log.appendEntry(BigInt(5000 + i), 0n, fields(i, 4096));
    log.appendRecord(RecordType.TRIM, Buffer.alloc(33));
    expect(log.stagedBytes).toBeGreaterThan(0);
    const appended = log.appendedBytes;
    const landed = log.whenLanded();
    if (landed) await landed;
    expect(log.segmentCount).toBeGreaterThan(3);
    await r.batcher.drain();
    await log.close();
    // what the log holds, record by record, as recovery reads it back
    const again = await reopen(dir, r);
    expect(again.records.length).toBe(3501);
    expect(appended).toBe(again.records.reduce((n, x) => n + HEADER_SIZE + x.payload.length, 0));
    // a reopened log counts from where it ended
    expect(again.log.appendedBytes).toBe(0);
    again.log.appendRecord(RecordType.TRIM, Buffer.alloc(5));
    expect(again.log.appendedBytes).toBe(HEADER_SIZE + 5);
    await again.log.close();
    r.batcher.close();
  });
});
