// XCFGSET's parsing and the settings model (src/streams/streamSettings.ts), and the byte accounting retention by
// size relies on (EntryIndex's cumulative column through Stream.minIdForBytes).
import { describe, expect, it } from 'vitest';
import { CommandError } from '../../src/errors';
import { Stream } from '../../src/streams/stream';
import {
  applyStreamSettings,
  formatStreamSettings,
  parseStreamSettings,
  streamSettingsArgs,
} from '../../src/streams/streamSettings';
import { formatId } from '../../src/streams/streamId';

const b = (...words: string[]) => words.map((w) => Buffer.from(w));

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CommandError) return e.reply;
    throw e;
  }
  return 'no error';
}

describe('parseStreamSettings', () => {
  it('parses every option, case-insensitively, with `default` as null', () => {
    const c = parseStreamSettings(b('APPENDFSYNC', 'Always', 'maxage', '60000', 'MaxBytes', '1kb'));
    expect([...c]).toEqual([
      ['appendfsync', 'always'],
      ['maxage', 60000],
      ['maxbytes', 1024],
    ]);
    expect([...parseStreamSettings(b('maxage', 'default', 'appendfsync', 'DEFAULT'))]).toEqual([
      ['maxage', null],
      ['appendfsync', null],
    ]);
    expect([...parseStreamSettings(b('maxbytes', '0', 'maxage', '0'))]).toEqual([
      ['maxbytes', 0],
      ['maxage', 0],
    ]);
  });

  it('refuses unknown options, duplicates, bad values and odd counts with CONFIG SET-like texts', () => {
    expect(errorOf(() => parseStreamSettings(b('maxlen', '1')))).toBe(
      "ERR Unknown option or number of arguments for XCFGSET - 'maxlen'",
    );
    expect(errorOf(() => parseStreamSettings(b('maxage', '1', 'MAXAGE', '2')))).toBe(
      "ERR XCFGSET failed (possibly related to argument 'MAXAGE') - duplicate parameter",
    );
    expect(errorOf(() => parseStreamSettings(b('maxage', '-1')))).toBe(
      "ERR XCFGSET failed (possibly related to argument 'maxage') - argument couldn't be parsed into an integer",
    );
    expect(errorOf(() => parseStreamSettings(b('maxage', '1kb')))).toMatch(/maxage.*couldn't be parsed/);
    expect(errorOf(() => parseStreamSettings(b('maxbytes', '-5')))).toMatch(/between 0 and 9007199254740991/);
    expect(errorOf(() => parseStreamSettings(b('maxbytes', '99999999999999999999')))).toMatch(/couldn't be parsed/);
    expect(errorOf(() => parseStreamSettings(b('appendfsync', 'sometimes')))).toBe(
      "ERR XCFGSET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec, no, default",
    );
    expect(errorOf(() => parseStreamSettings(b('maxage', '1', 'maxbytes')))).toBe(
      "ERR wrong number of arguments for 'xcfgset' command",
    );
    // all or nothing: a bad pair after good ones fails the whole call
    expect(errorOf(() => parseStreamSettings(b('maxage', '1', 'bogus', '2')))).toMatch(/Unknown option/);
  });
});

describe('applyStreamSettings / formatStreamSettings / streamSettingsArgs', () => {
  it('merges changes, drops options set back to default, and reports `default` for unset ones', () => {
    let o = applyStreamSettings(null, parseStreamSettings(b('maxage', '100')));
    expect(o).toEqual({ maxage: 100 });
    o = applyStreamSettings(o, parseStreamSettings(b('appendfsync', 'no', 'maxbytes', '0')));
    expect(o).toEqual({ maxage: 100, appendfsync: 'no', maxbytes: 0 });
    expect(formatStreamSettings(o)).toEqual([
      ['appendfsync', 'no'],
      ['maxage', '100'],
      ['maxbytes', '0'],
    ]);
    o = applyStreamSettings(o, parseStreamSettings(b('maxage', 'default', 'appendfsync', 'default', 'maxbytes', 'default')));
    expect(o).toBeNull();
    expect(formatStreamSettings(null)).toEqual([
      ['appendfsync', 'default'],
      ['maxage', 'default'],
      ['maxbytes', 'default'],
    ]);
  });

  it('streamSettingsArgs gives the XCFGSET that recreates a stream\'s own settings', () => {
    const s = new Stream('k\u00ff', { nodeMaxEntries: 100, nodeMaxBytes: 4096 });
    expect(streamSettingsArgs(s)).toEqual([]);
    s.settingsOverride = { appendfsync: 'always', maxbytes: 5000 };
    const args = streamSettingsArgs(s);
    expect(args.map((a) => a.map((x) => x.toString('latin1')))).toEqual([
      ['XCFGSET', 'k\u00ff', 'appendfsync', 'always', 'maxbytes', '5000'],
    ]);
    // parses back to the same settings
    expect(applyStreamSettings(null, parseStreamSettings(args[0].slice(2)))).toEqual(s.settingsOverride);
  });
});

describe('Stream byte accounting (retention by bytes)', () => {
  const settings = { nodeMaxEntries: 4, nodeMaxBytes: 4096 };
  const add = (s: Stream, ms: number, bytes: number) =>
    s.append([Buffer.from('f'), Buffer.alloc(bytes - 1, 0x61)], { id: { ms: BigInt(ms), seq: 0n }, seqGiven: true }, 0);

  /** Reference: the smallest MINID keeping at most max live bytes, by a linear scan over XRANGE. */
  function reference(s: Stream, max: number): string | null {
    const sizes: [string, number][] = [];
    s.range({ ms: 0n, seq: 0n }, { ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n }, 0, false, (id, f) =>
      sizes.push([formatId(id), f.reduce((n, x) => n + x.length, 0)]),
    );
    let total = sizes.reduce((n, [, x]) => n + x, 0);
    if (total <= max) return null;
    let i = 0;
    while (i < sizes.length && total > max) total -= sizes[i++][1];
    return i < sizes.length ? sizes[i][0] : 'all';
  }

  it('counts live bytes through appends, XDEL and trims, and finds the cut by binary search', () => {
    const s = new Stream('k', settings);
    for (let i = 1; i <= 40; i++) add(s, i, 10 + (i % 7));
    s.trackBytes(); // enabled on a stream with entries: reads them once
    let expected = 0;
    for (let i = 1; i <= 40; i++) expected += 10 + (i % 7);
    expect(s.liveBytes).toBe(expected);
    for (let i = 41; i <= 3000; i++) add(s, i, 10 + (i % 7));
    for (let i = 41; i <= 3000; i++) expected += 10 + (i % 7);
    expect(s.liveBytes).toBe(expected);
    for (const max of [0, 5, 100, 1000, 12345, expected - 1, expected]) {
      const id = s.minIdForBytes(max);
      const ref = reference(s, max);
      expect(id === null ? null : formatId(id)).toBe(ref === 'all' ? '3000-1' : ref);
    }
    // XDEL in the middle and at the front: the refined walk accounts for flagged entries
    for (const ms of [2, 3, 500, 501, 502, 1500, 2999]) s.delete({ ms: BigInt(ms), seq: 0n });
    for (const ms of [2, 3, 500, 501, 502, 1500, 2999]) expected -= 10 + (ms % 7);
    expect(s.liveBytes).toBe(expected);
    for (const max of [0, 30, 1000, 20000, expected - 17]) {
      const id = s.minIdForBytes(max);
      const ref = reference(s, max);
      expect(id === null ? null : formatId(id)).toBe(ref === 'all' ? '3000-1' : ref);
    }
    // trimming with that MINID leaves at most max bytes, and the count follows (nodes removed and entries flagged)
    const cut = s.minIdForBytes(20000)!;
    s.trim({ strategy: 'minid', minId: cut, approx: false, limit: 0 });
    expect(s.liveBytes).toBeLessThanOrEqual(20000);
    expect(s.liveBytes).toBeGreaterThan(20000 - 17);
    expect(s.minIdForBytes(20000)).toBeNull();
    // and the running count stays exact through the index's compaction (many trims from the front)
    for (let i = 3001; i <= 9000; i++) {
      add(s, i, 10 + (i % 7));
      const id = s.minIdForBytes(20000);
      if (id) s.trim({ strategy: 'minid', minId: id, approx: false, limit: 0 });
    }
    let live = 0;
    s.range({ ms: 0n, seq: 0n }, { ms: 2n ** 64n - 1n, seq: 2n ** 64n - 1n }, 0, false, (_id, f) => {
      live += f.reduce((n, x) => n + x.length, 0);
    });
    expect(s.liveBytes).toBe(live);
    expect(live).toBeLessThanOrEqual(20000);
  });
});
