// Low disk at the log level (see streamLog.ts, "Low disk"): on a nearly full file system a log opens without
// reserving ahead of need, a write's room is reserved as small as the record when the disk has no more, a
// write the disk cannot hold gets the reservation error, and the SpaceWatch count follows. A 2 MiB tmpfs.
// Needs mount(2) (root or CAP_SYS_ADMIN, as CI runs): fails with the reason when the mount is refused.
import { afterAll, describe, expect, it } from 'vitest';
import { statSync, statfsSync, unlinkSync, writeFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { StreamLog } from '../../src/storage/streamLog';
import { StorageError } from '../../src/storage/commitBatcher';
import { SpaceWatch } from '../../src/storage/spaceWatch';
import { decodeEntry } from '../../src/storage/recordCodec';
import { collect, mountTmpfs, rig } from './helpers';

const { mnt, mounted, why, unmount } = mountTmpfs('lowdisk-log', '2m');

afterAll(unmount);

const free = (): number => {
  const s = statfsSync(mnt);
  return s.bavail * s.bsize;
};

describe('low disk (2 MiB tmpfs)', () => {
  it('a write waits for just its room, gets the error when the disk cannot hold it, and the log reopens on a full disk', async () => {
    expect(mounted, `cannot mount a tmpfs at ${mnt} (${why}): run the tests as root`).toBe(true);
    const space = new SpaceWatch(32 * 1024);
    const r = rig({ policy: 'everysec', every: () => () => undefined }, {
      initialSegmentSize: 64 * 1024, maxSegmentSize: 1024 * 1024, setTimer: () => undefined, space,
    });
    const log = await StreamLog.create(mnt, 0, Buffer.from('low'), r.opts);
    expect(space.short).toBe(0);
    // leave less free than the next doubling of the segment would take (it is optional: not even tried)
    const filler = path.join(mnt, 'filler');
    writeFileSync(filler, Buffer.alloc(free() - 96 * 1024));
    const value = Buffer.alloc(20 * 1024, 3);
    let n = 0;
    // the first writes fit the first segment (64 KiB); then each one asks for its room
    for (let i = 0; i < 8; i++) {
      const need = value.length + 256;
      const room = log.whenRoomFor(need);
      if (room instanceof StorageError) break;
      if (room) await room;
      if (!log.fits(need)) {
        expect(log.reserveError).toBeInstanceOf(StorageError);
        break;
      }
      log.appendEntry(BigInt(++n), 0n, [Buffer.from('f'), value]);
    }
    // it took what the disk had, in steps of about one record (doubling would have taken half the free space)
    expect(n).toBeGreaterThan(4);
    expect(log.stagedBytes).toBe(0);
    const seg = path.join(log.dir, readdirSync(log.dir).find((f) => f.endsWith('.log'))!);
    const size = statSync(seg).size;
    expect(size).toBeGreaterThan(64 * 1024);
    expect([128 * 1024, 256 * 1024, 512 * 1024, 1024 * 1024]).not.toContain(size); // grown in record steps
    // the disk is full now: a write that needs room is refused with the reservation error, nothing is staged
    const refused = log.whenRoomFor(value.length + 256);
    const error = refused instanceof StorageError ? refused : (await refused, log.whenRoomFor(value.length + 256));
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe('ENOSPC');
    expect(space.short).toBe(1);
    await r.batcher.drain();
    await log.close();
    expect(space.short).toBe(0);

    // reopened on the full disk: no throw, short of room, every record there
    const { records, report } = await collect(log.dir);
    expect(records.map((x) => decodeEntry(x.payload).ms)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i + 1)));
    const again = await StreamLog.open(log.dir, r.opts, report.segments, report.end);
    expect(again.reserveError).toBeNull();
    expect(space.short).toBe(1);
    // space comes back: the next write's room is reserved
    unlinkSync(filler);
    const room = again.whenRoomFor(value.length + 256);
    if (room && !(room instanceof StorageError)) await room;
    const retried = again.whenRoomFor(value.length + 256);
    if (retried && !(retried instanceof StorageError)) await retried;
    expect(again.fits(value.length + 256)).toBe(true);
    again.appendEntry(BigInt(n + 1), 0n, [Buffer.from('f'), value]);
    await r.batcher.drain();
    await again.close();
    r.batcher.close();
    expect((await collect(log.dir)).records.length).toBe(n + 1);
  }, 60000);
});
