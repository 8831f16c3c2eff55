// The SNAPSHOT file's codec and its match against the segments found on disk (logSnapshot.ts).
import { describe, expect, it } from 'vitest';
import { crc32c } from '@node-rs/crc32';
import { coverSegments, decodeLogSnapshot, encodeLogSnapshot, snapshotMatches, type LogSnapshot } from '../../src/storage/logSnapshot';

function segments(): { bases: number[]; maps: Buffer[] } {
  const a = Buffer.alloc(4096);
  const b = Buffer.alloc(8192);
  for (let i = 0; i < a.length; i++) a[i] = (i * 7) & 0xff;
  for (let i = 0; i < 5000; i++) b[i] = (i * 13 + 1) & 0xff;
  return { bases: [0, 4096], maps: [a, b] };
}

const mapped = (s: { bases: number[]; maps: Buffer[] }) => ({
  segmentBases: () => s.bases,
  segmentMap: (base: number) => s.maps[s.bases.indexOf(base)] ?? null,
});

describe('log snapshots', () => {
  it('round-trips and refuses any damaged byte', () => {
    const s: LogSnapshot = { end: 9096, segments: [{ base: 0, length: 4096, crc: 1 }, { base: 4096, length: 5000, crc: 2 }], body: Buffer.from('body bytes') };
    const bytes = encodeLogSnapshot(s);
    expect(decodeLogSnapshot(bytes)).toEqual(s);
    for (let i = 0; i < bytes.length; i++) {
      const damaged = Buffer.from(bytes);
      damaged[i] ^= 0x04;
      expect(decodeLogSnapshot(damaged)).toBeNull();
    }
    expect(decodeLogSnapshot(bytes.subarray(0, bytes.length - 1))).toBeNull();
  });

  it('covers every segment below the end and matches exactly the bytes it covered', () => {
    const disk = segments();
    const covered = coverSegments(mapped(disk), 9096, [])!;
    expect(covered).toEqual([
      { base: 0, length: 4096, crc: crc32c(disk.maps[0]) >>> 0 },
      { base: 4096, length: 5000, crc: crc32c(disk.maps[1].subarray(0, 5000)) >>> 0 },
    ]);
    const snap: LogSnapshot = { end: 9096, segments: covered, body: Buffer.alloc(0) };
    expect(snapshotMatches(snap, disk.bases, disk.maps)).toBe(true);
    // bytes after the end may change (appends), bytes below it may not
    disk.maps[1][6000] = 1;
    expect(snapshotMatches(snap, disk.bases, disk.maps)).toBe(true);
    disk.maps[1][4999] ^= 1;
    expect(snapshotMatches(snap, disk.bases, disk.maps)).toBe(false);
  });

  it('continues the CRCs of the previous snapshot over the bytes appended since', () => {
    const disk = segments();
    const first = coverSegments(mapped(disk), 4096 + 1000, [])!;
    const next = coverSegments(mapped(disk), 9096, first)!;
    expect(next).toEqual(coverSegments(mapped(disk), 9096, [])!);
  });

  it('allows head segments deleted behind a checkpoint, nothing else missing, shorter or unknown', () => {
    const disk = segments();
    const snap: LogSnapshot = { end: 9096, segments: coverSegments(mapped(disk), 9096, [])!, body: Buffer.alloc(0) };
    expect(snapshotMatches(snap, [4096], [disk.maps[1]])).toBe(true);
    expect(snapshotMatches(snap, [0], [disk.maps[0]])).toBe(false);
    expect(snapshotMatches(snap, disk.bases, [disk.maps[0], disk.maps[1].subarray(0, 4000)])).toBe(false);
    expect(snapshotMatches(snap, [0, 2048, 4096], [disk.maps[0], disk.maps[0], disk.maps[1]])).toBe(false);
    expect(snapshotMatches(snap, [], [])).toBe(false);
    // a segment the LRU closed: no coverage now
    expect(coverSegments({ segmentBases: () => disk.bases, segmentMap: () => null }, 9096, [])).toBeNull();
  });
});
