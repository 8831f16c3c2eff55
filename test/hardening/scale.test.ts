// Many clients at once: 5,000 concurrent connections each writing, 1,000 clients blocked in XREAD on one
// stream all woken by a single XADD, and 1,000 blocked on 500 streams whose timeouts fire (or are cancelled). Counts are bounded and scaled down (with a message) when the open-file
// limit is too low: this process holds both ends of every connection. Timing is reported, never asserted
// (bench/wake.js compares the wake-up with redis-server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawClient, encode, openFileLimit, startInProcess, type InProcessSpool } from './raw';

let spool: InProcessSpool;
const fdLimit = openFileLimit();

function scaled(wanted: number): number {
  // Two descriptors per connection in this process, plus headroom for the runner, the server and its logs.
  const possible = Math.floor((fdLimit - 512) / 2);
  if (possible >= wanted) return wanted;
  console.warn(`ulimit -n is ${fdLimit}: scaling ${wanted} connections down to ${Math.max(possible, 10)}`);
  return Math.max(possible, 10);
}

async function connectAll(n: number, port: number): Promise<RawClient[]> {
  const out: RawClient[] = [];
  for (let i = 0; i < n; i += 250) {
    out.push(...(await Promise.all(Array.from({ length: Math.min(250, n - i) }, () => RawClient.connect(port)))));
  }
  return out;
}

beforeAll(async () => {
  spool = await startInProcess({ maxclients: '20000' });
});

afterAll(async () => {
  RawClient.closeAll();
  await spool?.stop();
});

describe('scale', () => {
  it('5,000 concurrent connections each write and get their replies', async () => {
    const n = scaled(5000);
    const t0 = Date.now();
    const clients = await connectAll(n, spool.port);
    console.log(`${n} connections opened in ${Date.now() - t0} ms`);
    const started = Date.now();
    clients.forEach((c, i) => c.write(Buffer.concat([encode('XADD', 'many', '*', 'client', String(i)), encode('ECHO', `hello-${i}`)])));
    const replies = await Promise.all(clients.map((c) => c.replies(2, 20000)));
    console.log(`${n} connections: XADD + ECHO each answered in ${Date.now() - started} ms`);
    replies.forEach((r, i) => expect(r[1].toString()).toBe(`$${`hello-${i}`.length}\r\nhello-${i}\r\n`));
    const ctl = clients[0];
    expect(await ctl.call('XLEN', 'many')).toBe(`:${n}\r\n`);
    const t1 = Date.now();
    for (const c of clients) c.close();
    while (spool.server.state.clients.size > 0) await new Promise((r) => setTimeout(r, 20));
    console.log(`${n} connections closed and cleaned up in ${Date.now() - t1} ms`);
  }, 40000);

  it('1,000 clients blocked in XREAD on one stream all wake on one XADD', async () => {
    const n = scaled(1000);
    const readers = await connectAll(n, spool.port);
    const writer = await RawClient.connect(spool.port);
    for (const r of readers) r.write(encode('XREAD', 'BLOCK', '0', 'STREAMS', 'wake', '$'));
    // Wait until every reader is parked.
    const deadline = Date.now() + 10000;
    while (spool.server.state.blocking.blockedCount < n) {
      if (Date.now() > deadline) throw new Error(`only ${spool.server.state.blocking.blockedCount} of ${n} blocked`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const started = process.hrtime.bigint();
    writer.write(encode('XADD', 'wake', '*', 'k', 'v'));
    const all = await Promise.all(readers.map((r) => r.replies(1, 15000)));
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    console.log(`${n} blocked XREAD clients woken by one XADD in ${ms.toFixed(1)} ms (all replies received)`);
    for (const [reply] of all) expect(reply.toString()).toMatch(/^\*1\r\n\*2\r\n\$4\r\nwake\r\n\*1\r\n\*2\r\n\$\d+\r\n\d+-0\r\n/);
    expect(spool.server.state.blocking.blockedCount).toBe(0);
    for (const r of readers) r.close();
    writer.close();
  }, 40000);

  it('blocked clients on many streams: timeouts fire on time, served clients are not timed out as well', async () => {
    const n = scaled(1000);
    const clients = await connectAll(n, spool.port);
    const writer = await RawClient.connect(spool.port);
    const streams = 250;
    // Even clients time out (200-600 ms) on streams nobody writes; odd ones wait 1500 ms on streams that get an
    // entry at once, so their timers must be cancelled.
    const timeoutOf = (i: number) => (i % 2 === 0 ? 200 + (i % 5) * 100 : 1500);
    const keyOf = (i: number) => `many:${i % 2 === 0 ? 'quiet' : 'fed'}:${i % streams}`;
    const sent = clients.map((c, i) => {
      c.write(encode('XREAD', 'BLOCK', String(timeoutOf(i)), 'STREAMS', keyOf(i), '$'));
      return Date.now();
    });
    const arrived = clients.map((c, i) => c.replies(1, 15000).then((r) => ({ reply: r[0].toString(), at: Date.now() - sent[i] })));
    const deadline = Date.now() + 10000;
    while (spool.server.state.blocking.blockedCount < n) {
      if (Date.now() > deadline) throw new Error(`only ${spool.server.state.blocking.blockedCount} of ${n} blocked`);
      await new Promise((r) => setTimeout(r, 10));
    }
    writer.write(Buffer.concat(Array.from({ length: streams }, (_, k) => encode('XADD', `many:fed:${k}`, '1-1', 'f', 'v'))));
    const got = await Promise.all(arrived);
    const late: string[] = [];
    got.forEach(({ reply, at }, i) => {
      if (i % 2 === 0) {
        expect(reply).toBe('*-1\r\n');
        // Never early; the upper bound is generous (shared CI machines), it catches timers that never fire or
        // fire only with the next unrelated event.
        expect(at).toBeGreaterThanOrEqual(timeoutOf(i) - 5);
        if (at > timeoutOf(i) + 2000) late.push(`client ${i}: ${at} ms for a ${timeoutOf(i)} ms timeout`);
      } else {
        expect(reply).toMatch(/^\*1\r\n\*2\r\n\$\d+\r\nmany:fed:\d+\r\n\*1\r\n\*2\r\n\$3\r\n1-1\r\n/);
      }
    });
    expect(late).toEqual([]);
    const lateness = got.filter((_, i) => i % 2 === 0).map(({ at }, k) => at - timeoutOf(2 * k));
    console.log(`${n / 2} timeouts on ${streams} streams fired ${Math.min(...lateness)}..${Math.max(...lateness)} ms after their deadline (from the client's send)`);
    // Past every served client's 1500 ms: no second reply (a timer left armed would send a null array).
    await new Promise((r) => setTimeout(r, 1700));
    for (let i = 1; i < n; i += 2) await expect(clients[i].replies(1, 1)).rejects.toThrow(/timed out/);
    expect(spool.server.state.blocking.blockedCount).toBe(0);
    for (const c of clients) c.close();
    writer.close();
  }, 40000);
});
