// The typed change records (changeRecords.ts): every type round-trips through its binary form, the type codes
// are storage's, the payload is versioned and a damaged one is refused; applying the changes (changeReplay.ts)
// to a copy of a stream gives the stream the changes were taken from.
import { describe, expect, it } from 'vitest';
import { ChangeType, decodeChange, encodeChange, exactTrimOf, isChangeType, type StreamChange } from '../../src/streams/changeRecords';
import { applyChange } from '../../src/streams/changeReplay';
import { ConsumerGroup } from '../../src/streams/consumerGroup';
import { RecordType } from '../../src/storage/recordCodec';
import { Stream } from '../../src/streams/stream';

const id = (ms: number | bigint, seq: number | bigint = 0) => ({ ms: BigInt(ms), seq: BigInt(seq) });
const MAX = 18446744073709551615n;

const samples: StreamChange[] = [
  { type: ChangeType.DELETE, ids: [id(1, 2), id(MAX, MAX)], delref: true },
  { type: ChangeType.DELETE, ids: [], delref: false },
  { type: ChangeType.TRIM, trim: { strategy: 'maxlen', maxLen: 0, approx: false, limit: 0 } },
  { type: ChangeType.TRIM, trim: { strategy: 'maxlen', maxLen: 2 ** 53, approx: false, limit: 0, policy: 'acked' } },
  { type: ChangeType.TRIM, trim: { strategy: 'minid', minId: id(7, 3), approx: false, limit: 0, policy: 'delref' } },
  { type: ChangeType.SETID, lastId: id(9, 9), entriesAdded: MAX, maxDeletedId: id(0) },
  { type: ChangeType.SETTINGS, idmp: null, overrides: null },
  { type: ChangeType.SETTINGS, idmp: { duration: 60, maxsize: null }, overrides: { appendfsync: 'always', maxage: 0, maxbytes: 5e9 } },
  { type: ChangeType.IDMP, pid: 'p\u00ff\u0000', iid: '', id: id(5, 1), time: 1_700_000_000_123 },
  { type: ChangeType.GROUP_CREATE, group: 'g', lastId: id(0), entriesRead: -1n },
  { type: ChangeType.GROUP_SETID, group: '\u00e9t\u00e9', lastId: id(MAX, 0), entriesRead: 9223372036854775807n },
  { type: ChangeType.GROUP_DESTROY, group: '' },
  { type: ChangeType.CONSUMER_CREATE, group: 'g', consumer: 'c', time: 12.5 },
  { type: ChangeType.CONSUMER_DELETE, group: 'g', consumer: 'c' },
  { type: ChangeType.DELIVER, group: 'g', consumer: 'c', time: 42, noack: true, lastId: id(3, 4), entriesRead: 17n, redelivered: [id(1), id(2)] },
  { type: ChangeType.ACK, group: 'g', ids: [id(1), id(2, 7)] },
  {
    type: ChangeType.CLAIM,
    group: 'g',
    consumer: 'c',
    time: 99,
    lastId: id(8),
    nacks: [{ id: id(1), deliveryTime: -5, deliveryCount: 9223372036854775807n }],
    dropped: [id(4)],
  },
  { type: ChangeType.CLAIM, group: 'g', consumer: null, time: 1, lastId: null, nacks: [{ id: id(2), deliveryTime: 0, deliveryCount: 0n }], dropped: [] },
];

describe('change record codec', () => {
  it('round-trips every type', () => {
    for (const change of samples) {
      const payload = encodeChange(change);
      expect(payload[0]).toBe(1); // the version
      expect(isChangeType(change.type)).toBe(true);
      // from a copy at an odd offset, as a view of a mapped segment would be
      const view = Buffer.concat([Buffer.from([0]), payload]).subarray(1);
      expect(decodeChange(change.type, view)).toEqual(change);
    }
  });

  it('uses the record types storage declares', () => {
    for (const [name, code] of Object.entries(ChangeType)) expect(RecordType[name as keyof typeof RecordType]).toBe(code);
    expect(isChangeType(RecordType.ENTRY)).toBe(false);
    expect(isChangeType(RecordType.CHECKPOINT)).toBe(false);
    expect(isChangeType(RecordType.COMMAND)).toBe(false);
  });

  it('is compact: an ACK of one ID is its group name and 16 bytes', () => {
    expect(encodeChange({ type: ChangeType.ACK, group: 'g', ids: [id(1)] }).length).toBe(1 + 5 + 4 + 16);
  });

  it('refuses a newer version, a cut payload and a list longer than the payload', () => {
    const payload = Buffer.from(encodeChange(samples[0]));
    const newer = Buffer.from(payload);
    newer[0] = 2;
    expect(() => decodeChange(ChangeType.DELETE, newer)).toThrow(/version 2/);
    expect(() => decodeChange(ChangeType.DELETE, payload.subarray(0, payload.length - 1))).toThrow(RangeError);
    const long = Buffer.from(payload);
    long.writeUInt32LE(0xffffffff, 2); // the ID count
    expect(() => decodeChange(ChangeType.DELETE, long)).toThrow(/runs past/);
    expect(() => decodeChange(RecordType.ENTRY, payload)).toThrow(/not a stream change/);
  });
});

describe('exactTrimOf', () => {
  const fv = (n: number) => [Buffer.from('f'), Buffer.from(String(n))];
  function stream(): Stream {
    const s = new Stream('s', { nodeMaxEntries: 4, nodeMaxBytes: 4096 });
    for (let i = 1; i <= 10; i++) s.append(fv(i), { id: id(i), seqGiven: true }, 0);
    return s;
  }

  it('keeps an exact trim, and turns an approximate one into MINID of the first live entry', () => {
    const s = stream();
    const exact = { strategy: 'maxlen', maxLen: 5, approx: false, limit: 0 } as const;
    expect(exactTrimOf(s, exact)).toBe(exact);
    s.trim({ strategy: 'maxlen', maxLen: 5, approx: true, limit: 400, policy: 'delref' });
    expect(exactTrimOf(s, { strategy: 'maxlen', maxLen: 5, approx: true, limit: 400, policy: 'delref' })).toEqual({
      strategy: 'minid',
      minId: id(5), // nodes of 4: only the first went
      approx: false,
      limit: 0,
      policy: 'delref',
    });
    s.trim({ strategy: 'maxlen', maxLen: 0, approx: true, limit: 0 });
    expect(exactTrimOf(s, { strategy: 'maxlen', maxLen: 0, approx: true, limit: 0, policy: 'acked' })).toEqual({
      strategy: 'maxlen',
      maxLen: 0,
      approx: false,
      limit: 0,
    });
  });
});

describe('applying changes', () => {
  const fv = (n: number) => [Buffer.from('f'), Buffer.from(String(n))];
  const settings = { nodeMaxEntries: 3, nodeMaxBytes: 4096 };

  it('rebuilds groups, consumers, PELs, counters and settings as the changes left them', () => {
    const s = new Stream('s', settings);
    for (let i = 1; i <= 12; i++) s.append(fv(i), { id: id(i), seqGiven: true }, 0);
    const changes: StreamChange[] = [
      { type: ChangeType.GROUP_CREATE, group: 'g', lastId: id(0), entriesRead: -1n },
      { type: ChangeType.GROUP_CREATE, group: 'gone', lastId: id(0), entriesRead: -1n },
      { type: ChangeType.CONSUMER_CREATE, group: 'g', consumer: 'idle', time: 5 },
      { type: ChangeType.DELIVER, group: 'g', consumer: 'a', time: 10, noack: false, lastId: id(6), entriesRead: 6n, redelivered: [] },
      { type: ChangeType.DELIVER, group: 'g', consumer: 'b', time: 11, noack: true, lastId: id(8), entriesRead: 8n, redelivered: [] },
      { type: ChangeType.DELIVER, group: 'g', consumer: 'b', time: 12, noack: false, lastId: id(8), entriesRead: 8n, redelivered: [id(2)] },
      { type: ChangeType.ACK, group: 'g', ids: [id(1)] },
      { type: ChangeType.CLAIM, group: 'g', consumer: 'c', time: 20, lastId: id(9), nacks: [{ id: id(3), deliveryTime: 15, deliveryCount: 5n }], dropped: [id(4)] },
      { type: ChangeType.CLAIM, group: 'g', consumer: null, time: 21, lastId: null, nacks: [{ id: id(5), deliveryTime: 0, deliveryCount: 0n }], dropped: [] },
      { type: ChangeType.DELETE, ids: [id(6)], delref: true },
      { type: ChangeType.DELETE, ids: [id(7)], delref: false },
      { type: ChangeType.TRIM, trim: { strategy: 'minid', minId: id(3), approx: false, limit: 0 } },
      { type: ChangeType.SETID, lastId: id(20), entriesAdded: 30n, maxDeletedId: id(7) },
      { type: ChangeType.GROUP_DESTROY, group: 'gone' },
      { type: ChangeType.CONSUMER_CREATE, group: 'g', consumer: 'tmp', time: 30 },
      { type: ChangeType.CONSUMER_DELETE, group: 'g', consumer: 'tmp' },
      { type: ChangeType.GROUP_SETID, group: 'g', lastId: id(9), entriesRead: 9n },
      { type: ChangeType.IDMP, pid: 'p', iid: 'i', id: id(9), time: 40 },
      { type: ChangeType.SETTINGS, idmp: { duration: 50, maxsize: 7 }, overrides: { maxage: 1000 } },
    ];
    let settingsCalls = 0;
    for (const change of changes) {
      const decoded = decodeChange(change.type, encodeChange(change));
      expect(applyChange(s, decoded, () => settingsCalls++)).toBe(true);
    }
    expect(settingsCalls).toBe(1);
    expect(s.length).toBe(8); // 12 - 1, 2 (trim) - 6, 7
    expect([...s.groups.keys()]).toEqual(['g']);
    const g = s.groups.get('g')!;
    expect([g.lastId, g.entriesRead]).toEqual([id(9), 9n]);
    const pel = (group: ConsumerGroup) => {
      const out: string[] = [];
      group.pel.forEach(null, null, (e) => {
        out.push(`${e.id.ms}:${group.ownerOf(e.owner)?.name ?? '-'}:${e.deliveryTime}:${e.deliveryCount}`);
      });
      return out;
    };
    expect(pel(g)).toEqual(['2:b:12:2', '3:c:15:5', '5:-:0:0']);
    expect(g.sortedConsumers().map((c) => `${c.name}:${c.seenTime}:${c.pel.size}`)).toEqual(['a:10:0', 'b:12:1', 'c:20:1', 'idle:5:0']);
    expect([s.lastId, s.entriesAdded, s.maxDeletedId]).toEqual([id(20), 30n, id(7)]);
    expect(s.idmp?.exportState()).toEqual({ duration: 50, maxsize: 7, added: 1, duplicates: 0, producers: [] });
    expect(s.settingsOverride).toEqual({ maxage: 1000 });
  });

  it('changes nothing for a group or consumer that does not exist', () => {
    const s = new Stream('s', settings);
    expect(applyChange(s, { type: ChangeType.ACK, group: 'nope', ids: [id(1)] }, () => undefined)).toBe(false);
    expect(applyChange(s, { type: ChangeType.GROUP_DESTROY, group: 'nope' }, () => undefined)).toBe(false);
    s.groups.set('g', new ConsumerGroup('g', id(0)));
    expect(applyChange(s, { type: ChangeType.CONSUMER_DELETE, group: 'g', consumer: 'nope' }, () => undefined)).toBe(false);
  });
});
