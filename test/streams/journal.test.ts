// What write commands leave in a stream's log (src/streams/journal.ts): the records recovery replays.
import { describe, expect, it } from 'vitest';
import { JOURNAL, decodeCommand, encodeCommand, exactTrimOf, isApproximateTrim, journaledKeyIndex } from '../../src/streams/journal';

const b = (...args: string[]) => args.map((a) => Buffer.from(a));
const text = (args: Buffer[]) => args.map((a) => a.toString()).join(' ');

describe('XREADGROUP records', () => {
  const journal = JOURNAL.get('xreadgroup')!;

  it('one record per key, BLOCK dropped, COUNT and NOACK kept', () => {
    const records = journal(b('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', '5', 'BLOCK', '100', 'NOACK', 'STREAMS', 'a', 'b', '>', '0'));
    expect(records.map((r) => [r.key.toString(), text(r.args)])).toEqual([
      ['a', 'XREADGROUP GROUP g c COUNT 5 NOACK STREAMS a >'],
      ['b', 'XREADGROUP GROUP g c COUNT 5 NOACK STREAMS b 0'],
    ]);
  });

  it('a group or consumer named "streams" is not taken for the STREAMS keyword', () => {
    const records = journal(b('XREADGROUP', 'GROUP', 'streams', 'STREAMS', 'BLOCK', '0', 'STREAMS', 'k', '>'));
    expect(records.map((r) => [r.key.toString(), text(r.args)])).toEqual([['k', 'XREADGROUP GROUP streams STREAMS STREAMS k >']]);
    expect(journaledKeyIndex(records[0].args)).toBe(records[0].args.length - 2);
  });
});

describe('XADD records', () => {
  it('only the trim, as an XTRIM', () => {
    const journal = JOURNAL.get('xadd')!;
    expect(journal(b('XADD', 's', '*', 'f', 'v'))).toEqual([]);
    expect(journal(b('XADD', 's', 'NOMKSTREAM', 'MAXLEN', '~', '10', 'LIMIT', '5', '*', 'f', 'v')).map((r) => text(r.args))).toEqual([
      'XTRIM s MAXLEN ~ 10 LIMIT 5',
    ]);
  });

  it('keeps the Redis 8.2 reference policy of the trim, wherever it is; a policy without a strategy trims nothing', () => {
    const journal = JOURNAL.get('xadd')!;
    expect(journal(b('XADD', 's', 'MAXLEN', '=', '1', 'acked', '6-0', 'f', 'v')).map((r) => text(r.args))).toEqual(['XTRIM s MAXLEN = 1 acked']);
    expect(journal(b('XADD', 's', 'DELREF', 'MINID', '5', '*', 'f', 'v')).map((r) => text(r.args))).toEqual(['XTRIM s DELREF MINID 5']);
    expect(journal(b('XADD', 's', 'KEEPREF', '*', 'f', 'v'))).toEqual([]);
  });

  it('IDMP/IDMPAUTO: the recorded mapping as XIDMPRECORD before the trim; a duplicate (nothing recorded) leaves nothing', () => {
    const journal = JOURNAL.get('xadd')!;
    const stream = { idmp: { lastRecord: { pid: 'p', iid: 'MAXLEN', id: { ms: 5n, seq: 1n } } } } as never;
    const args = b('XADD', 's', 'IDMP', 'p', 'MAXLEN', 'MAXLEN', '2', '*', 'f', 'v');
    expect(journal(args, () => stream).map((r) => text(r.args))).toEqual(['XIDMPRECORD s p MAXLEN 5-1', 'XTRIM s MAXLEN 2']);
    const duplicate = { idmp: { lastRecord: null } } as never;
    expect(journal(b('XADD', 's', 'MAXLEN', '2', 'IDMPAUTO', 'p', '*', 'f', 'v'), () => duplicate)).toEqual([]);
  });
});

describe('COMMAND payloads', () => {
  it('round-trip time and binary arguments', () => {
    const args = [Buffer.from('XDEL'), Buffer.from([0, 13, 10, 255]), Buffer.alloc(0)];
    expect(decodeCommand(encodeCommand(1234.9, args))).toEqual({ now: 1234, args });
  });
});

describe('approximate trims', () => {
  it('are recognised and replaced by the exact trim with their effect', () => {
    expect(isApproximateTrim(b('XTRIM', 's', 'MAXLEN', '~', '10'))).toBe(true);
    expect(isApproximateTrim(b('XTRIM', 's', 'MINID', '=', '5'))).toBe(false);
    expect(isApproximateTrim(b('XDEL', 's', '~'))).toBe(false);
    expect(text(exactTrimOf(Buffer.from('s'), '7-1'))).toBe('XTRIM s MINID = 7-1');
    expect(text(exactTrimOf(Buffer.from('s'), null))).toBe('XTRIM s MAXLEN = 0');
  });

  it('keep DELREF (the trimmed entries leave the PELs on replay too), not ACKED or KEEPREF', () => {
    expect(text(exactTrimOf(Buffer.from('s'), '7-1', b('XTRIM', 's', 'DELREF', 'MAXLEN', '~', '3')))).toBe('XTRIM s MINID = 7-1 DELREF');
    expect(text(exactTrimOf(Buffer.from('s'), null, b('XTRIM', 's', 'MAXLEN', '~', '0', 'ACKED')))).toBe('XTRIM s MAXLEN = 0');
  });
});
