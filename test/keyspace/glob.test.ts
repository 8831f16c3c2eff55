import { describe, expect, it } from 'vitest';
import { globMatch } from '../../src/keyspace/glob';

describe('globMatch', () => {
  it.each([
    ['*', 'anything', true],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h*llo', 'heeeello', true],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h\\*llo', 'h*llo', true],
    ['h\\*llo', 'hello', false],
    ['stream-*', 'stream-node-max-bytes', true],
  ])('%s ~ %s = %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });

  it('matches case-insensitively when asked', () => {
    expect(globMatch('PORT', 'port', true)).toBe(true);
    expect(globMatch('PORT', 'port')).toBe(false);
  });

  it('bounds nesting as Redis does: 1000 stars deep still match, 1001 do not', () => {
    const text = 'a'.repeat(1005);
    expect(globMatch('*a'.repeat(1000), text)).toBe(true);
    expect(globMatch('*a'.repeat(1001), text)).toBe(false);
  });

  it('keeps stringmatchlen quirks: a star needs text, signed bytes in ranges, [a-] is a range up to ]', () => {
    expect(globMatch('**', '')).toBe(false);
    expect(globMatch('', '')).toBe(true);
    expect(globMatch('[a-\xff]', '\x00')).toBe(true);
    expect(globMatch('[a-\xff]', 'b')).toBe(false);
    expect(globMatch('[a-]', '^')).toBe(true);
    expect(globMatch('[a-]', '-')).toBe(false);
    expect(globMatch('[\\', '\\')).toBe(true);
  });

  it('answers a pathological pattern over a long text without exponential backtracking', () => {
    // 40 stars over 200 bytes: the unbounded matcher would need more steps than there is time.
    expect(globMatch('*a'.repeat(40) + '*b', 'a'.repeat(200))).toBe(false);
  });
});
