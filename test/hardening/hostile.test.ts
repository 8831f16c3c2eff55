// Hostile and malformed input end to end over TCP: every case goes to an in-process Spool and to a private
// redis-server 7.0.15 on its own connection; the reply bytes and whether the connection was closed must match.
// Cases run concurrently (one connection each), so the suite takes about one wait period, not one per case.
import { appendFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { encode, exchange, scanReply, startInProcess, type Exchange, type InProcessSpool } from './raw';
import { PROTOCOL_CASES, globCases, globSetup, streamNumberCases, type HostileCase } from './hostileCases';

let spool: InProcessSpool;
let redis: RunningRedis;

beforeAll(async () => {
  [spool, redis] = await Promise.all([startInProcess(), startRedis()]);
});

afterAll(async () => {
  await Promise.all([spool?.stop(), redis?.stop()]);
});

const show = (e: Exchange) => {
  let t = e.reply.toString('latin1');
  if (t.length > 300) t = `${t.slice(0, 300)}...(${t.length} bytes)`;
  return `${JSON.stringify(t)} ${e.closed ? '[closed]' : '[open]'}`;
};

/** A reply stream is well-formed when it is a sequence of complete RESP2 replies. */
function wellFormed(buf: Buffer): boolean {
  let pos = 0;
  while (pos < buf.length) {
    const end = scanReply(buf, pos);
    if (end === 'invalid' || end < 0) return false;
    pos = end;
  }
  return true;
}

const SENTINEL = encode('ECHO', 'hardening-sentinel');
const SENTINEL_REPLY = Buffer.from('$18\r\nhardening-sentinel\r\n');

/**
 * With `sentinel`, each case's bytes are followed by an ECHO whose reply ends the wait (then stripped), so slow
 * replies (a first XADD creates a stream's log) are awaited without a fixed sleep; only for cases made of
 * complete requests. Without it, a case waits `waitMs` unless the server closes the connection.
 */
async function compare(cases: HostileCase[], waitMs: number, sentinel = false): Promise<void> {
  const run = (port: number) =>
    Promise.all(
      cases.map(async (c) => {
        if (!sentinel) return exchange(port, c.bytes, waitMs);
        const e = await exchange(port, Buffer.concat([c.bytes, SENTINEL]), waitMs, (r) =>
          r.subarray(r.length - SENTINEL_REPLY.length).equals(SENTINEL_REPLY),
        );
        const r = e.reply;
        const done = r.subarray(r.length - SENTINEL_REPLY.length).equals(SENTINEL_REPLY);
        return { ...e, reply: done ? r.subarray(0, r.length - SENTINEL_REPLY.length) : Buffer.concat([r, Buffer.from('<no sentinel reply>')]) };
      }),
    );
  const [mine, theirs] = await Promise.all([run(spool.port), run(redis.port)]);
  const mismatches: string[] = [];
  cases.forEach((c, i) => {
    if (c.knownDifference) {
      if (!wellFormed(mine[i].reply)) mismatches.push(`${c.name}: malformed reply ${show(mine[i])}`);
      return;
    }
    if (!mine[i].reply.equals(theirs[i].reply) || mine[i].closed !== theirs[i].closed)
      mismatches.push(`${c.name}:\n  spool ${show(mine[i])}\n  redis ${show(theirs[i])}`);
  });
  if (process.env.HOSTILE_REPORT) report(process.env.HOSTILE_REPORT, cases, mine, theirs);
  expect(mismatches.join('\n')).toBe('');
}

/**
 * HOSTILE_REPORT=<file>: appends a Markdown table of what each case got back (for the hardening issue's note):
 * Spool's reply, shortened, whether the connection was closed, and whether Redis's bytes and fate were the same.
 */
function report(file: string, cases: HostileCase[], mine: Exchange[], theirs: Exchange[]): void {
  const cell = (e: Exchange) => {
    let t = JSON.stringify(e.reply.toString('latin1')).slice(1, -1);
    if (t.length > 90) t = `${t.slice(0, 90)}… (${e.reply.length} bytes)`;
    return t.replace(/\|/g, '\\|') || '(nothing)';
  };
  const rows = cases.map((c, i) => {
    const same = mine[i].reply.equals(theirs[i].reply) && mine[i].closed === theirs[i].closed;
    return `| ${c.name.replace(/\|/g, '\\|')} | \`${cell(mine[i])}\` | ${mine[i].closed ? 'closed' : 'open'} | ${same ? 'same' : 'differs'} |`;
  });
  appendFileSync(file, ['', '| Case | Spool replied | Connection | vs Redis 7.0.15 |', '|---|---|---|---|', ...rows, ''].join('\n'));
}

describe('hostile requests, Spool vs redis-server', () => {
  it('protocol-level abuse: lengths, frame types, NUL bytes, line ends, quotes, huge lines', async () => {
    await compare(PROTOCOL_CASES, 500);
  });

  it('overflowing and malformed numbers in stream command arguments', async () => {
    await compare(streamNumberCases(), 15000, true);
  });

  // Before the bounded matcher these froze the event loop for minutes (exponential backtracking over long keys).
  it('pathological glob patterns over long keys: KEYS, SCAN MATCH, CONFIG GET, COMMAND LIST', async () => {
    await compare([globSetup()], 15000, true);
    await compare(globCases(), 15000, true);
  });

  it('the server is still healthy afterwards', async () => {
    const e = await exchange(spool.port, 'PING\r\n', 200);
    expect(e.reply.toString()).toBe('+PONG\r\n');
  });
});
