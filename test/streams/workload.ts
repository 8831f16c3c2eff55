// Random stream workloads run both on redis-server and on a Spool Stream (see nodeModel.redis.test.ts).
import { Stream, type StreamSettings, type TrimSpec } from '../../src/streams/stream';
import { formatId, type StreamId } from '../../src/streams/streamId';

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALUES = [
  '0', '1', '-1', '127', '128', '-4096', '4095', '4096', '-0', '007', '+5', '32767', '32768', '8388607',
  '8388608', '2147483647', '2147483648', '-2147483649', '9223372036854775807', '9223372036854775808',
  '-9223372036854775808', '-9223372036854775809', '12345678901234567890', 'v', '', 'hello world', '1.5',
];
const FIELD_SETS = [['f'], ['a', 'b'], ['a', 'b', 'c'], ['1', '2'], ['field-with-longer-name', 'x'], ['a', 'c']];

function randomValue(r: () => number): string {
  const p = r();
  if (p < 0.6) return VALUES[Math.floor(r() * VALUES.length)];
  if (p < 0.9) return 'x'.repeat(Math.floor(r() * 80));
  if (p < 0.97) return 'y'.repeat(50 + Math.floor(r() * 200));
  return 'z'.repeat(4000 + Math.floor(r() * 300));
}

export interface Op {
  args: string[];
  local(s: Stream): string;
}

export function buildWorkload(seed: number, settings: StreamSettings, ops: number): Op[] {
  const r = rng(seed);
  const out: Op[] = [];
  let ms = 1n + BigInt(Math.floor(r() * 1000));
  let seq = 0n;
  const ids: StreamId[] = [];
  let fieldSet = FIELD_SETS[0];
  for (let k = 0; k < ops; k++) {
    const p = r();
    if (p < 0.72) {
      // XADD with an explicit ID: small or big steps, negative seq deltas relative to node masters.
      const step = r();
      if (step < 0.5) seq += 1n + BigInt(Math.floor(r() * 3));
      else if (step < 0.8) {
        ms += 1n + BigInt(Math.floor(r() * 200));
        seq = BigInt(Math.floor(r() * 5));
      } else if (step < 0.95) {
        ms += BigInt(Math.floor(r() * 5_000_000_000));
        seq = BigInt(Math.floor(r() * 100000));
      } else {
        seq += 1n << BigInt(20 + Math.floor(r() * 40));
      }
      const id = { ms, seq };
      ids.push(id);
      if (r() < 0.3) fieldSet = FIELD_SETS[Math.floor(r() * FIELD_SETS.length)];
      const fv: string[] = [];
      for (const f of fieldSet) fv.push(f, randomValue(r));
      const trimOpt: string[] = [];
      let spec: TrimSpec | null = null;
      if (r() < 0.05) {
        const approx = r() < 0.6;
        const maxLen = Math.floor(r() * 150);
        trimOpt.push('MAXLEN', approx ? '~' : '=', String(maxLen));
        spec = { strategy: 'maxlen', maxLen, approx, limit: approx ? defaultLimit(settings) : 0 };
      }
      out.push({
        args: ['XADD', 's', ...trimOpt, formatId(id), ...fv],
        local: (s) => {
          s.append(fv.map((x) => Buffer.from(x)), { id, seqGiven: true }, 0);
          const got = formatId(s.lastId);
          if (spec) s.trim(spec);
          return got;
        },
      });
    } else if (p < 0.9) {
      // XDEL of one to three IDs, existing or not.
      const n = 1 + Math.floor(r() * 3);
      const del: StreamId[] = [];
      for (let j = 0; j < n && ids.length > 0; j++) del.push(ids[Math.floor(r() * ids.length)]);
      if (del.length === 0) continue;
      out.push({
        args: ['XDEL', 's', ...del.map(formatId)],
        local: (s) => String(del.reduce((acc, id) => acc + (s.delete(id) ? 1 : 0), 0)),
      });
    } else {
      const approx = r() < 0.6;
      const useLimit = approx && r() < 0.4;
      const limit = useLimit ? Math.floor(r() * 120) : approx ? defaultLimit(settings) : 0;
      const limitArgs = useLimit ? ['LIMIT', String(limit)] : [];
      let spec: TrimSpec;
      let args: string[];
      if (r() < 0.5 || ids.length === 0) {
        const maxLen = Math.floor(r() * 200);
        spec = { strategy: 'maxlen', maxLen, approx, limit };
        args = ['XTRIM', 's', 'MAXLEN', approx ? '~' : '=', String(maxLen), ...limitArgs];
      } else {
        const minId = ids[Math.floor(r() * ids.length)];
        spec = { strategy: 'minid', minId, approx, limit };
        args = ['XTRIM', 's', 'MINID', approx ? '~' : '=', formatId(minId), ...limitArgs];
      }
      out.push({ args, local: (s) => String(s.trim(spec)) });
    }
  }
  return out;
}

export function defaultLimit(settings: StreamSettings): number {
  const l = settings.nodeMaxEntries * 100;
  return l <= 0 ? 10000 : l;
}

