// How stream writes are rewritten for replicas (src/streams/propagation.ts): XADD carries its generated ID and
// exact trims, XTRIM ~ becomes the exact trim with the same effect, and a replica drops the LIMIT its master
// sends with `=` trims.
import { describe, expect, test } from 'vitest';
import { REWRITE, withoutMasterLimit } from '../../src/streams/propagation';
import { Stream } from '../../src/streams/stream';

const args = (...words: string[]): Buffer[] => words.map((w) => Buffer.from(w, 'latin1'));
const text = (a: Buffer[] | null): string[] | null => a?.map((b) => b.toString('latin1')) ?? null;
const settings = { nodeMaxEntries: 100, nodeMaxBytes: 4096, idmpDuration: 100, idmpMaxsize: 100 };

function streamWith(ids: string[]): Stream {
  const s = new Stream('s', settings);
  for (const id of ids) {
    const [ms, seq] = id.split('-').map(BigInt);
    s.append(args('f', 'v'), { id: { ms, seq }, seqGiven: true }, 0);
  }
  return s;
}

describe('propagated forms', () => {
  test('XADD: the generated ID, approximate trims made exact (MAXLEN: the length, MINID: the first ID)', () => {
    const s = streamWith(['5-1', '6-1', '7-1']);
    const of = () => s;
    expect(text(REWRITE.get('xadd')!(args('XADD', 's', '*', 'f', 'v'), of))).toEqual(['XADD', 's', '7-1', 'f', 'v']);
    expect(text(REWRITE.get('xadd')!(args('XADD', 's', 'MAXLEN', '~', '2', 'LIMIT', '10', '7-*', 'f', 'v'), of))).toEqual([
      'XADD', 's', 'MAXLEN', '=', '3', 'LIMIT', '10', '7-1', 'f', 'v',
    ]);
    expect(text(REWRITE.get('xadd')!(args('XADD', 's', 'NOMKSTREAM', 'MINID', '~', '0', '*', 'MAXLEN', 'x'), of))).toEqual([
      'XADD', 's', 'NOMKSTREAM', 'MINID', '=', '5-1', '7-1', 'MAXLEN', 'x',
    ]);
    expect(text(REWRITE.get('xadd')!(args('XADD', 's', 'MAXLEN', '2', '*', 'f', 'v'), of))).toEqual(['XADD', 's', 'MAXLEN', '2', '7-1', 'f', 'v']);
  });

  test('XTRIM ~ becomes exact; an emptied stream trims with the largest ID', () => {
    expect(text(REWRITE.get('xtrim')!(args('XTRIM', 's', 'MINID', '~', '6'), () => streamWith(['6-1'])))).toEqual(['XTRIM', 's', 'MINID', '=', '6-1']);
    expect(text(REWRITE.get('xtrim')!(args('XTRIM', 's', 'MINID', '~', '9'), () => streamWith([])))).toEqual([
      'XTRIM', 's', 'MINID', '=', '18446744073709551615-18446744073709551615',
    ]);
  });

  test('a replica drops LIMIT from its master\'s trims, and nothing else', () => {
    expect(text(withoutMasterLimit(args('XTRIM', 's', 'MAXLEN', '=', '3', 'LIMIT', '10')))).toEqual(['XTRIM', 's', 'MAXLEN', '=', '3']);
    expect(text(withoutMasterLimit(args('XADD', 's', 'MAXLEN', '=', '3', 'LIMIT', '10', '7-1', 'LIMIT', 'v')))).toEqual([
      'XADD', 's', 'MAXLEN', '=', '3', '7-1', 'LIMIT', 'v',
    ]);
    const plain = args('XACK', 's', 'g', '1-1');
    expect(withoutMasterLimit(plain)).toBe(plain);
  });
});
