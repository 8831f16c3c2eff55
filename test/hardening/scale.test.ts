// Many clients at once: 5,000 concurrent connections each writing, and 1,000 clients blocked in XREAD on one
// stream all woken by a single XADD. Counts are bounded and scaled down (with a message) when the open-file
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
});
