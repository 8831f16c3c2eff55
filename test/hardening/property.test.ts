// Property-based tests (fast-check, fixed seed, bounded runs: a few seconds in CI; bench/fuzz.js runs the same
// properties longer with a random seed).
// - The request reader: any sequence of valid requests, cut into chunks anywhere, reads back exactly; random
//   bytes only ever give requests or a ProtocolError, and always finish.
// - The server: random argument vectors for stream commands never crash it, and every reply is well-formed RESP.
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ProtocolError, RequestReader } from '../../src/protocol/requestReader';
import { RawClient, encode, scanReply, startInProcess, type InProcessSpool } from './raw';

// CI: fixed seed, small run counts. bench/fuzz.js sets SPOOL_FUZZ_SEED (random) and SPOOL_FUZZ_SCALE (run-count
// multiplier) to run the same properties for longer; a failure prints the seed and path to replay it.
const SEED = Number(process.env.SPOOL_FUZZ_SEED ?? 20240611);
const SCALE = Number(process.env.SPOOL_FUZZ_SCALE ?? 1);
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));

const arg = fc.oneof(
  fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)),
  fc.uint8Array({ minLength: 30000, maxLength: 70000 }).map((a) => Buffer.from(a)),
  fc.constantFrom(Buffer.from(''), Buffer.from('\r\n'), Buffer.from('*1\r\n$4\r\nPING\r\n'), Buffer.from([0])),
);
const request = fc.array(arg, { minLength: 1, maxLength: 6 });

/** A plain inline request: words without quotes, spaces, CR, LF or NUL (so the expected split is obvious). */
const inlineWord = fc.stringMatching(/^[A-Za-z0-9_:.\-+*$]{1,12}$/);
// The first byte decides the framing: a request starting with '*' is multibulk (Redis does the same).
const inlineRequest = fc.tuple(fc.stringMatching(/^[A-Za-z][A-Za-z0-9]{0,8}$/), fc.array(inlineWord, { maxLength: 4 })).map(([w, rest]) => [w, ...rest]);

function cut(bytes: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let last = 0;
  for (const p of points) {
    out.push(bytes.subarray(last, p));
    last = p;
  }
  out.push(bytes.subarray(last));
  return out.filter((b) => b.length > 0);
}

describe('request reader properties', () => {
  it('valid multibulk and inline requests round-trip whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(request.map((r) => ({ kind: 'bulk' as const, r })), inlineRequest.map((w) => ({ kind: 'inline' as const, w }))), { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        (reqs, cuts) => {
          const wire = Buffer.concat(
            reqs.map((q) => (q.kind === 'bulk' ? encode(...q.r) : Buffer.from(q.w.join(' ') + '\r\n', 'latin1'))),
          );
          const expected = reqs.map((q) => (q.kind === 'bulk' ? q.r : q.w.map((w) => Buffer.from(w, 'latin1'))));
          const reader = new RequestReader({ maxBulkLength: 512 * 1024 * 1024 });
          const got: Buffer[][] = [];
          for (const chunk of cut(wire, cuts)) {
            reader.feed(chunk);
            for (let r = reader.next(); r; r = reader.next()) got.push(r.args.map((b) => Buffer.from(b)));
          }
          expect(got.length).toBe(expected.length);
          got.forEach((r, i) => {
            expect(r.length).toBe(expected[i].length);
            r.forEach((b, j) => expect(b.equals(expected[i][j])).toBe(true));
          });
          expect(reader.bufferedBytes).toBe(0);
        },
      ),
      { seed: SEED, numRuns: runs(100) },
    );
  });

  it('random bytes yield requests or a ProtocolError, never anything else, and always finish', () => {
    const prefix = fc.constantFrom('', '*', '*1\r\n', '*2\r\n$', '$', '*-', '*1\r\n$-', '"', "'", '*3\r\n$4\r\nXADD\r\n');
    const noise = fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a));
    const biased = fc.array(fc.constantFrom('\r', '\n', '\r\n', '*', '$', '-', '0', '9', '"', "'", '\\', ' ', '\x00', 'x', '99999999999999999999'), { maxLength: 60 }).map((a) => Buffer.from(a.join(''), 'latin1'));
    fc.assert(
      fc.property(prefix, fc.array(fc.oneof(noise, biased), { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 6 }), (p, parts, cuts) => {
        const wire = Buffer.concat([Buffer.from(p, 'latin1'), ...parts]);
        const reader = new RequestReader({ maxBulkLength: 1024 * 1024 });
        reader.authenticated = wire.length % 2 === 0; // both the authenticated and the pre-AUTH limits
        let steps = 0;
        try {
          for (const chunk of cut(wire, cuts)) {
            reader.feed(chunk);
            for (let r = reader.next(); r; r = reader.next()) {
              expect(Array.isArray(r.args)).toBe(true);
              // Progress: each request consumes bytes, so the loop is bounded by the input size.
              expect(++steps).toBeLessThanOrEqual(wire.length);
            }
          }
        } catch (err) {
          if (!(err instanceof ProtocolError)) throw err;
          expect(err.reply).toMatch(/^ERR Protocol error: /);
        }
        expect(reader.bufferedBytes).toBeLessThanOrEqual(wire.length);
      }),
      { seed: SEED, numRuns: runs(2000) },
    );
  });
});

describe('stream commands with random arguments, over TCP', () => {
  let spool: InProcessSpool;
  let client: RawClient;
  beforeAll(async () => {
    spool = await startInProcess();
    client = await RawClient.connect(spool.port);
  });
  afterAll(async () => {
    RawClient.closeAll();
    await spool?.stop();
  });

  const COMMANDS = ['XADD', 'XRANGE', 'XREVRANGE', 'XLEN', 'XDEL', 'XTRIM', 'XREAD', 'XINFO', 'XSETID', 'XGROUP', 'XREADGROUP', 'XACK', 'XPENDING', 'XCLAIM', 'XAUTOCLAIM'];
  const WORDS = ['*', '$', '>', '+', '-', '(', '(0-1', '0', '0-0', '1-1', '1-*', '18446744073709551615-18446744073709551615', '18446744073709551616', '9223372036854775807', '9223372036854775808', '-9223372036854775809', '-1', '1.5', 'COUNT', 'BLOCK', 'STREAMS', 'MAXLEN', 'MINID', '~', '=', 'LIMIT', 'NOMKSTREAM', 'GROUP', 'CREATE', 'SETID', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER', 'MKSTREAM', 'ENTRIESREAD', 'ENTRIESADDED', 'MAXDELETEDID', 'STREAM', 'GROUPS', 'CONSUMERS', 'FULL', 'HELP', 'IDLE', 'TIME', 'RETRYCOUNT', 'FORCE', 'JUSTID', 'LASTID', 'NOACK', 'k', 'g', 'c', 'f', 'v', ''];
  const argument = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...WORDS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a).toString('latin1')) },
  );
  const vector = fc.tuple(fc.constantFrom(...COMMANDS), fc.array(argument, { maxLength: 12 }));

  it('never crash the server and always get a well-formed reply', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(vector, { minLength: 1, maxLength: 20 }), async (batch) => {
        // A zero or tiny BLOCK would park the connection: keep blocking commands from waiting.
        const requests = batch.map(([cmd, args]) => {
          const a = args.map((x, i) => (/^block$/i.test(args[i - 1] ?? '') ? '1' : x));
          return encode(cmd, ...a);
        });
        client.write(Buffer.concat(requests));
        const replies = await client.replies(requests.length, 10000);
        for (const r of replies) expect(scanReply(r, 0)).toBe(r.length);
      }),
      { seed: SEED, numRuns: runs(150) },
    );
    expect(await client.call('PING')).toBe('+PONG\r\n');
  });

  it('random bytes on a fresh connection get well-formed replies or a close, and the server lives on', async () => {
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)),
      fc.array(fc.constantFrom('*1\r\n', '*2\r\n', '$4\r\n', 'PING', 'XADD k * f v', '\r\n', '\n', '"', "'", '\x00', '$-1\r\n', '*-1\r\n', '+OK', ':9', ' '), { maxLength: 30 }).map((a) => Buffer.from(a.join(''), 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(bytes, async (b) => {
        const c = await RawClient.connect(spool.port);
        c.write(Buffer.concat([b, Buffer.from('\r\n')]));
        await new Promise((r) => setTimeout(r, 5));
        c.close();
      }),
      { seed: SEED, numRuns: runs(150) },
    );
    expect(await client.call('PING')).toBe('+PONG\r\n');
    expect(spool.server.state.clients.size).toBeLessThanOrEqual(2);
  });
});
