// Resource limits over TCP: memory charged only for bytes received, client-query-buffer-limit,
// client-output-buffer-limit (hard and soft), backpressure on clients that do not read, maxclients, timeout,
// tcp-keepalive, and no state left behind by clients that vanish mid-pipeline or while blocked.
// Where Redis's behaviour is observable the same steps run against a private redis-server 7.0.15.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RawClient, encode, exchange, sleep, startInProcess, type InProcessSpool } from './raw';

let spool: InProcessSpool;
let redis: RunningRedis;
let control: RawClient;

beforeAll(async () => {
  [spool, redis] = await Promise.all([startInProcess(), startRedis()]);
  control = await RawClient.connect(spool.port);
});

afterAll(async () => {
  RawClient.closeAll();
  await Promise.all([spool?.stop(), redis?.stop()]);
});

async function onBoth<T>(fn: (port: number, name: 'spool' | 'redis') => Promise<T>): Promise<{ spool: T; redis: T }> {
  const [a, b] = await Promise.all([fn(spool.port, 'spool'), fn(redis.port, 'redis')]);
  return { spool: a, redis: b };
}

async function configSet(port: number, name: string, value: string): Promise<void> {
  const c = await RawClient.connect(port);
  expect(await c.call('CONFIG', 'SET', name, value)).toBe('+OK\r\n');
  c.close();
}

function infoField(info: string, field: string): number {
  const m = new RegExp(`^${field}:(\\d+)`, 'm').exec(info);
  return m ? Number(m[1]) : NaN;
}

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await sleep(20);
  }
}

describe('input limits', () => {
  it('a declared 512 MiB bulk costs only the bytes that arrived', async () => {
    const c = await RawClient.connect(spool.port);
    global.gc?.();
    const before = process.memoryUsage();
    c.write('*2\r\n$4\r\nECHO\r\n$536870912\r\n');
    for (let i = 0; i < 8; i++) c.write(Buffer.alloc(1024, 97));
    await sleep(150);
    const after = process.memoryUsage();
    const conn = [...spool.server.state.clients.values()].find((s) => s.queryBufferBytes > 0);
    expect(conn?.queryBufferBytes ?? 0).toBeLessThan(64 * 1024);
    expect(after.arrayBuffers - before.arrayBuffers).toBeLessThan(32 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(64 * 1024 * 1024);
    c.close();
  });

  it('client-query-buffer-limit closes a client that exceeds it, as Redis does', async () => {
    const r = await onBoth(async (port) => {
      await configSet(port, 'client-query-buffer-limit', '1mb');
      const c = await RawClient.connect(port);
      c.write('*2\r\n$4\r\nECHO\r\n$3000000\r\n');
      for (let i = 0; i < 24; i++) c.write(Buffer.alloc(64 * 1024, 98));
      try {
        await c.waitClosed(5000);
      } catch {
        /* reported below */
      }
      const closed = c.closed;
      c.close();
      await configSet(port, 'client-query-buffer-limit', '1gb');
      return closed;
    });
    expect(r).toEqual({ spool: true, redis: true });
  });
});

describe('output limits and backpressure', () => {
  const ENTRY = 'x'.repeat(64 * 1024);

  async function bigStream(port: number, key: string, entries: number): Promise<void> {
    const c = await RawClient.connect(port);
    for (let i = 1; i <= entries; i++) c.write(encode('XADD', key, `${i}-0`, 'f', ENTRY));
    await c.replies(entries);
    c.close();
  }

  it('CONFIG GET/SET client-output-buffer-limit use Redis syntax and texts', async () => {
    const r = await onBoth(async (port) => {
      const c = await RawClient.connect(port);
      const out = [
        await c.call('CONFIG', 'GET', 'client-output-buffer-limit'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1 2'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'master 1 2 3'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal -1 2 3'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 2kb x'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'Normal 1mb 512kb 10 replica 1 2 3 pubsub 4k 5kb 6'),
        await c.call('CONFIG', 'GET', 'client-output-buffer-limit'),
        await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'),
      ];
      c.close();
      return out;
    });
    expect(r.spool).toEqual(r.redis);
  });

  it('the hard limit closes a client whose pending replies reach it (Spool and Redis alike)', async () => {
    const r = await onBoth(async (port, name) => {
      await bigStream(port, 'obuf-hard', 8); // each XRANGE reply is about 512 KiB
      await configSet(port, 'client-output-buffer-limit', 'normal 1mb 0 0');
      const c = await RawClient.connect(port);
      for (let i = 0; i < 40; i++) c.write(encode('XRANGE', 'obuf-hard', '-', '+'));
      try {
        await c.waitClosed(5000);
      } catch {
        /* reported below */
      }
      const closed = c.closed;
      c.close();
      await configSet(port, 'client-output-buffer-limit', 'normal 0 0 0');
      return { closed, name };
    });
    expect(r.spool.closed).toBe(true);
    expect(r.redis.closed).toBe(true);
  });

  it('the soft limit closes a client that stays above it for longer than soft-seconds', async () => {
    await bigStream(spool.port, 'obuf-soft', 8);
    // Backpressure keeps a stalled client's pending output between a few KiB and ~4 MiB (the kernel buffers
    // take the rest), so the soft limit is set low enough that the stalled client surely stays above it.
    await configSet(spool.port, 'client-output-buffer-limit', 'normal 0 1kb 1');
    let elapsed = 0;
    try {
      const c = await RawClient.connect(spool.port);
      await c.call('CLIENT', 'SETNAME', 'soft-victim');
      c.socket.pause(); // never read (a paused socket does not see the close either, until it reads)
      const started = Date.now();
      for (let i = 0; i < 200; i++) c.write(encode('XRANGE', 'obuf-soft', '-', '+'));
      const clients = spool.server.state.clients;
      await waitFor(() => ![...clients.values()].some((s) => s.name === 'soft-victim'), 6000);
      elapsed = Date.now() - started;
      c.socket.resume();
      await c.waitClosed(5000);
    } finally {
      await configSet(spool.port, 'client-output-buffer-limit', 'normal 0 0 0');
    }
    // Not before the soft period: the backpressure pause keeps it above the soft limit, the sweep closes it.
    expect(elapsed).toBeGreaterThanOrEqual(900);
  });

  it('a client pipelining large XRANGEs without reading stops being read: server memory stays bounded', async () => {
    await bigStream(spool.port, 'bp', 4); // replies of about 256 KiB
    const REQUESTS = 1000; // 256 MB of replies if the server buffered them all
    const c = await RawClient.connect(spool.port);
    c.socket.pause();
    global.gc?.();
    const before = process.memoryUsage();
    const stats = spool.server.state.stats;
    const commandsBefore = stats.totalCommands;
    for (let i = 0; i < REQUESTS; i++) c.write(encode('XRANGE', 'bp', '-', '+'));
    // Let the server run until it stops making progress (it waits for the client to read).
    let last = -1;
    await waitFor(async () => {
      const now = stats.totalCommands;
      const still = now === last;
      last = now;
      await sleep(100);
      return still;
    });
    const processed = stats.totalCommands - commandsBefore;
    const after = process.memoryUsage();
    const grown = after.arrayBuffers + after.heapUsed - before.arrayBuffers - before.heapUsed;
    expect(processed).toBeLessThan(REQUESTS);
    expect(grown).toBeLessThan(96 * 1024 * 1024);
    // Reading resumes the pipeline: every reply arrives, complete and in order.
    c.socket.resume();
    const replies = await c.replies(REQUESTS, 30000);
    expect(replies.length).toBe(REQUESTS);
    expect(new Set(replies.map((b) => b.length)).size).toBe(1);
    c.close();
  });
});

describe('connections', () => {
  it('maxclients refuses with Redis text, byte for byte', async () => {
    const r = await onBoth(async (port) => {
      const admin = await RawClient.connect(port);
      const held: RawClient[] = [];
      for (let i = 0; i < 2; i++) held.push(await RawClient.connect(port));
      await admin.call('PING'); // all three registered
      const current = Number(/connected_clients:(\d+)/.exec(await admin.call('INFO', 'clients'))![1]);
      expect(await admin.call('CONFIG', 'SET', 'maxclients', String(current))).toBe('+OK\r\n');
      const refused = await exchange(port, 'PING\r\n', 1000);
      expect(await admin.call('CONFIG', 'SET', 'maxclients', '10000')).toBe('+OK\r\n');
      for (const c of [admin, ...held]) c.close();
      return { reply: refused.reply.toString('latin1'), closed: refused.closed };
    });
    expect(r.spool).toEqual({ reply: '-ERR max number of clients reached\r\n', closed: true });
    expect(r.spool).toEqual(r.redis);
  });

  it('timeout closes idle clients, not active or blocked ones', async () => {
    await configSet(spool.port, 'timeout', '1');
    try {
      const idle = await RawClient.connect(spool.port);
      const active = await RawClient.connect(spool.port);
      const blocked = await RawClient.connect(spool.port);
      blocked.write(encode('XREAD', 'BLOCK', '0', 'STREAMS', 'timeout-never', '$'));
      const started = Date.now();
      while (Date.now() - started < 2600) {
        await active.call('PING');
        await control.call('PING');
        await sleep(250);
      }
      await idle.waitClosed(1000);
      expect(active.closed).toBe(false);
      expect(blocked.closed).toBe(false);
      for (const c of [active, blocked]) c.close();
    } finally {
      await configSet(spool.port, 'timeout', '0');
    }
  });

  it('tcp-keepalive turns TCP keepalive on for new connections (and 0 turns it off)', async () => {
    let ssWorks = true;
    try {
      execFileSync('ss', ['-V'], { stdio: 'ignore' });
    } catch {
      ssWorks = false;
    }
    if (!ssWorks) return; // iproute2's ss is missing: nothing to observe the socket option with
    const keepaliveTimers = () =>
      execFileSync('ss', ['-tno', 'state', 'established', `( sport = :${spool.port} )`], { encoding: 'utf8' })
        .split('\n')
        .filter((l) => l.includes('keepalive')).length;
    const base = keepaliveTimers();
    const withKeepalive = await RawClient.connect(spool.port);
    await withKeepalive.call('PING');
    expect(keepaliveTimers()).toBe(base + 1);
    await configSet(spool.port, 'tcp-keepalive', '0');
    const without = await RawClient.connect(spool.port);
    await without.call('PING');
    expect(keepaliveTimers()).toBe(base + 1);
    await configSet(spool.port, 'tcp-keepalive', '300');
    withKeepalive.close();
    without.close();
  });
});

describe('clients that vanish leave nothing behind', () => {
  async function clientsInfo(): Promise<{ connected: number; blocked: number; listed: number }> {
    const info = await control.call('INFO', 'clients');
    const list = await control.call('CLIENT', 'LIST');
    return {
      connected: infoField(info, 'connected_clients'),
      blocked: infoField(info, 'blocked_clients'),
      listed: list.split('\n').filter((l) => l.includes('id=')).length,
    };
  }

  it('mid-pipeline, mid-frame, while blocked in XREAD/XREADGROUP, while WATCHing, inside MULTI', async () => {
    await control.call('PING');
    const base = await clientsInfo();
    const state = spool.server.state;
    const watchers = () => (state as unknown as { watchers: Map<string, unknown> }).watchers.size;
    const watchBase = watchers();
    await control.call('XGROUP', 'CREATE', 'vanish-g', 'g', '$', 'MKSTREAM');

    const clients: RawClient[] = [];
    for (let i = 0; i < 20; i++) {
      const c = await RawClient.connect(spool.port);
      clients.push(c);
      switch (i % 5) {
        case 0: // a long pipeline, cut in the middle of a frame
          c.write(Buffer.concat([...Array.from({ length: 200 }, (_, j) => encode('XADD', `vanish-${i}`, '*', 'n', String(j))), Buffer.from('*3\r\n$4\r\nXADD\r\n$2\r\nab')]));
          break;
        case 1:
          c.write(encode('XREAD', 'BLOCK', '0', 'STREAMS', 'vanish-block', '$'));
          break;
        case 2:
          c.write(encode('XREADGROUP', 'GROUP', 'g', `c${i}`, 'BLOCK', '0', 'STREAMS', 'vanish-g', '>'));
          break;
        case 3:
          c.write(Buffer.concat([encode('WATCH', 'vanish-w1', 'vanish-w2'), encode('MULTI'), encode('XADD', 'vanish-w1', '*', 'a', 'b')]));
          break;
        case 4:
          c.write(Buffer.concat([encode('WATCH', `vanish-w${i}`), encode('XREAD', 'BLOCK', '0', 'STREAMS', 'vanish-block', '$')]));
          break;
      }
    }
    await waitFor(async () => (await clientsInfo()).blocked === base.blocked + 12);
    expect(watchers()).toBeGreaterThan(watchBase);
    for (const c of clients) c.close();
    await waitFor(async () => {
      const now = await clientsInfo();
      return now.connected === base.connected && now.listed === base.listed && now.blocked === base.blocked;
    });
    expect(watchers()).toBe(watchBase);
    // Waking the keys now serves nobody and breaks nothing.
    expect(await control.call('XADD', 'vanish-block', '*', 'a', 'b')).toMatch(/^\$\d+\r\n\d+-\d+\r\n$/);
    expect(await control.call('XADD', 'vanish-g', '*', 'a', 'b')).toMatch(/^\$\d+\r\n\d+-\d+\r\n$/);
    const pending = await control.call('XPENDING', 'vanish-g', 'g');
    expect(pending).toBe('*4\r\n:0\r\n$-1\r\n$-1\r\n*-1\r\n');
    expect(await clientsInfo()).toEqual(base);
  });
});
