// globMatch against a real redis-server 7.0.15's stringmatchlen on random patterns (fast-check, fixed seed,
// bounded runs). Case-sensitive matching is read from KEYS over a fixed set of keys put in Redis; case-insensitive
// matching from COMMAND LIST FILTERBY PATTERN (Redis matches command names with nocase) over Redis's own command
// names. The alphabets are small and full of the matcher's special bytes, so classes, ranges (also reversed and
// with bytes >= 0x80), escapes, unterminated classes and runs of stars come up often.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globMatch } from '../../src/keyspace/glob';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText, type RespNode } from '../helpers/resp';

const SEED = Number(process.env.SPOOL_FUZZ_SEED ?? 20261202);

let redis: RunningRedis;
let conn: RespConnection;

beforeAll(async () => {
  redis = await startRedis();
  conn = await RespConnection.connect(redis.port);
}, 30000);

afterAll(async () => {
  conn?.close();
  await redis?.stop();
});

const texts = (node: RespNode): string[] => node.children!.map((c) => nodeText(c)!).sort();

/** '' when both lists hold the same strings, else what Spool's matcher got wrong for this pattern (short). */
function difference(pattern: string, redisSays: string[], spoolSays: string[]): string {
  const missing = redisSays.filter((k) => !spoolSays.includes(k));
  const extra = spoolSays.filter((k) => !redisSays.includes(k));
  if (missing.length === 0 && extra.length === 0 && redisSays.length === spoolSays.length) return '';
  const few = (l: string[]) => JSON.stringify(l.slice(0, 5)) + (l.length > 5 ? `+${l.length - 5}` : '');
  return `${JSON.stringify(pattern)}: spool misses ${few(missing)}, spool adds ${few(extra)}`;
}

const KEY_BYTES = ['a', 'b', 'A', '*', '?', '[', ']', '^', '-', '\\', '\x00', '\xc8', '\xff', 'z'];
const PATTERN_BYTES = [...KEY_BYTES, '*', '*', '?', '[', '[^', ']', '-', '\\'];

const fromAlphabet = (alphabet: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength }).map((parts) => parts.join(''));

/** Every key of up to 3 bytes over a small alphabet, plus a few longer ones. */
function keySet(): string[] {
  const small = ['a', 'b', 'A', '*', '[', ']', '-', '\\', '\x00', '\xff', 'z'];
  const keys = new Set<string>(['']);
  for (const x of small) {
    keys.add(x);
    for (const y of small) {
      keys.add(x + y);
      for (const z of ['a', ']', '\\', '\xff']) keys.add(x + y + z);
    }
  }
  for (const k of ['aaaaaaaaab', 'a*b?c[d]e', 'ab\\-^z', '\xc8\xc8a', 'ba'.repeat(12)]) keys.add(k);
  return [...keys];
}

describe('globMatch matches as redis-server 7.0.15', () => {
  it('case-sensitive: KEYS over a fixed keyspace, random patterns', async () => {
    const keys = keySet();
    await conn.call(['FLUSHALL']);
    for (const k of keys) conn.sendCommand(['SET', Buffer.from(k, 'latin1'), '1']);
    await conn.read(keys.length);
    const patterns = fc.sample(fromAlphabet(PATTERN_BYTES, 8), { numRuns: 400, seed: SEED });
    patterns.push('*', '**', '', '[', '[^', '[a-', '[a-]', '[\\', '\\', '[a-\xff]', '[\xff-a]', '*a*a*a*a*a*a*a*a*b');
    for (const p of patterns) conn.sendCommand(['KEYS', Buffer.from(p, 'latin1')]);
    const replies = await conn.read(patterns.length, 30000);
    const mismatches: string[] = [];
    patterns.forEach((p, i) => {
      // KEYS '*' is Redis's all-keys shortcut, not stringmatchlen (which does not match '' with '*').
      const got = p === '*' ? keys : keys.filter((k) => globMatch(p, k));
      const diff = difference(p, texts(replies[i]), got);
      if (diff) mismatches.push(diff);
    });
    expect(`${mismatches.length} of ${patterns.length} patterns differ\n${mismatches.slice(0, 10).join('\n')}`).toBe(
      `0 of ${patterns.length} patterns differ\n`,
    );
  }, 60000);

  it('case-insensitive: COMMAND LIST FILTERBY PATTERN over Redis command names, random patterns', async () => {
    const names = texts(await conn.call(['COMMAND', 'LIST']));
    const alphabet = ['x', 'X', 'a', 'E', 'i', 'n', 'f', 'o', '|', '-', '*', '*', '?', '[', '[^', ']', '\\', 'g-z', 'B-e'];
    const patterns = fc.sample(fromAlphabet(alphabet, 7), { numRuns: 300, seed: SEED });
    patterns.push('X*', '*|*', '[A-Z]*', '[x-Z]*', '*[^a-z]*', 'x\\A*', '[\\X]*');
    for (const p of patterns) conn.sendCommand(['COMMAND', 'LIST', 'FILTERBY', 'PATTERN', p]);
    const replies = await conn.read(patterns.length, 30000);
    const mismatches: string[] = [];
    patterns.forEach((p, i) => {
      const diff = difference(p, texts(replies[i]), names.filter((n) => globMatch(p, n, true)));
      if (diff) mismatches.push(diff);
    });
    expect(`${mismatches.length} of ${patterns.length} patterns differ\n${mismatches.slice(0, 10).join('\n')}`).toBe(
      `0 of ${patterns.length} patterns differ\n`,
    );
  }, 60000);
});
