// Pub/Sub under hostile or heavy use: a subscriber that does not read is closed by the pubsub class of
// client-output-buffer-limit (Spool and redis-server 7.0.15 alike), also in the middle of a PUBLISH's fan-out
// without disturbing the other subscribers; tens of thousands of channels in one SUBSCRIBE are answered and freed;
// pathological patterns cost a bounded match per PUBLISH; `timeout` never closes a subscriber. Every loop is
// bounded in count and time.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RawClient, encode, startInProcess, type InProcessSpool } from './raw';

let spool: InProcessSpool;
let redis: RunningRedis;

beforeAll(async () => {
  [spool, redis] = await Promise.all([startInProcess(), startRedis()]);
});

afterAll(async () => {
  RawClient.closeAll();
  await Promise.all([spool?.stop(), redis?.stop()]);
});

async function onBoth<T>(fn: (port: number) => Promise<T>): Promise<{ spool: T; redis: T }> {
  const [a, b] = await Promise.all([fn(spool.port), fn(redis.port)]);
  return { spool: a, redis: b };
}

async function withLimit<T>(port: number, value: string, fn: () => Promise<T>): Promise<T> {
  const c = await RawClient.connect(port);
  expect(await c.call('CONFIG', 'SET', 'client-output-buffer-limit', value)).toBe('+OK\r\n');
  try {
    return await fn();
  } finally {
    await c.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
    c.close();
  }
}

/** A RESP2 subscriber of `channel` (confirmation read). */
async function subscriber(port: number, channel: string): Promise<RawClient> {
  const c = await RawClient.connect(port);
  c.write(encode('SUBSCRIBE', channel));
  await c.replies(1);
  return c;
}

const MESSAGE = Buffer.alloc(64 * 1024, 0x6d);

describe('Pub/Sub output buffer limits', () => {
  it('a subscriber that stops reading is closed at the pubsub hard limit, and PUBLISH stops counting it', async () => {
    const r = await onBoth((port) =>
      withLimit(port, 'pubsub 1mb 0 0', async () => {
        const sub = await subscriber(port, 'slow');
        sub.socket.pause(); // reads nothing more: the server's output for it piles up
        const pub = await RawClient.connect(port);
        const counts: string[] = [];
        // At most 1000 messages of 64 KiB (64 MiB): far past 1 MiB plus what the socket buffers hold.
        for (let i = 0; i < 1000; i++) {
          const n = await pub.call('PUBLISH', 'slow', MESSAGE);
          if (counts[counts.length - 1] !== n) counts.push(n);
          if (n === ':0\r\n') break;
        }
        const numsub = await pub.call('PUBSUB', 'NUMSUB', 'slow');
        sub.close();
        pub.close();
        return { counts, numsub };
      }),
    );
    expect(r.spool).toEqual({ counts: [':1\r\n', ':0\r\n'], numsub: '*2\r\n$4\r\nslow\r\n:0\r\n' });
    expect(r.spool).toEqual(r.redis);
  });

  it('a subscriber is judged by the pubsub class, not the normal one', async () => {
    const r = await onBoth((port) =>
      withLimit(port, 'normal 256kb 0 0', async () => {
        const sub = await subscriber(port, 'classy');
        sub.socket.pause();
        const pub = await RawClient.connect(port);
        let last = '';
        for (let i = 0; i < 48; i++) last = await pub.call('PUBLISH', 'classy', MESSAGE); // 3 MiB < 32 MiB
        sub.close();
        pub.close();
        return last;
      }),
    );
    expect(r.spool).toBe(':1\r\n');
    expect(r.spool).toBe(r.redis);
  });

  it('a subscriber closed in the middle of a fan-out leaves the others every message, in order', async () => {
    const r = await onBoth((port) =>
      withLimit(port, 'pubsub 512kb 0 0', async () => {
        const first = await subscriber(port, 'fan');
        const slow = await subscriber(port, 'fan');
        const last = await subscriber(port, 'fan');
        slow.socket.pause();
        const pub = await RawClient.connect(port);
        // One PUBLISH at a time, each message read by the two readers before the next, until the slow one is
        // gone and 20 more (at most 1000). A RESP2 message is the array of bulk strings a request is.
        const counts: string[] = [];
        let inOrder = true;
        for (let i = 0, after = 0; i < 1000 && after < 20; i++) {
          const message = Buffer.concat([Buffer.from(`${i}:`), MESSAGE]);
          counts.push(await pub.call('PUBLISH', 'fan', message));
          const expected = encode('message', 'fan', message);
          for (const reader of [first, last]) if (!(await reader.replies(1))[0].equals(expected)) inOrder = false;
          if (counts[i] !== ':3\r\n') after++;
        }
        const result = {
          // 3 until the slow one is closed, then 2 to the end.
          shape: counts.filter((c, i) => i === 0 || c !== counts[i - 1]),
          inOrder,
          numsub: await pub.call('PUBSUB', 'NUMSUB', 'fan'),
          ping: await pub.call('PING'),
        };
        for (const c of [first, slow, last, pub]) c.close();
        return result;
      }),
    );
    expect(r.spool).toEqual({ shape: [':3\r\n', ':2\r\n'], inOrder: true, numsub: '*2\r\n$3\r\nfan\r\n:2\r\n', ping: '+PONG\r\n' });
    expect(r.spool).toEqual(r.redis);
  });
});

describe('Pub/Sub and the idle timeout', () => {
  it('a subscriber is never closed as idle; a plain client is (Spool and Redis alike)', async () => {
    const r = await onBoth(async (port) => {
      const control = await RawClient.connect(port);
      const sub = await subscriber(port, 'idle');
      const plain = await RawClient.connect(port);
      expect(await plain.call('PING')).toBe('+PONG\r\n');
      expect(await control.call('CONFIG', 'SET', 'timeout', '1')).toBe('+OK\r\n');
      try {
        // The control connection keeps itself busy; the plain client goes once idle for more than a second.
        const deadline = Date.now() + 8000;
        while (!plain.closed && Date.now() < deadline) {
          await control.call('PING');
          await new Promise((res) => setTimeout(res, 100));
        }
        return { plainClosed: plain.closed, subscriberOpen: !sub.closed, receivers: await control.call('PUBLISH', 'idle', 'still here') };
      } finally {
        await control.call('CONFIG', 'SET', 'timeout', '0');
        for (const c of [control, sub, plain]) c.close();
      }
    });
    expect(r.spool).toEqual({ plainClosed: true, subscriberOpen: true, receivers: ':1\r\n' });
    expect(r.spool).toEqual(r.redis);
  });
});

describe('Pub/Sub at scale', () => {
  it('20000 channels in one SUBSCRIBE are confirmed, counted, and freed by UNSUBSCRIBE and by disconnection', async () => {
    const n = 20000;
    const names = Array.from({ length: n }, (_, i) => `ch:${i}`);
    const info = async (c: RawClient) => /pubsub_channels:(\d+)/.exec(await c.call('INFO', 'stats'))?.[1];
    const control = await RawClient.connect(spool.port);
    const a = await RawClient.connect(spool.port);
    a.write(encode('SUBSCRIBE', ...names));
    const confirmations = await a.replies(n, 30000);
    expect(confirmations[n - 1].toString('latin1')).toBe(`*3\r\n$9\r\nsubscribe\r\n$${names[n - 1].length}\r\n${names[n - 1]}\r\n:${n}\r\n`);
    expect(await info(control)).toBe(String(n));
    a.write(encode('UNSUBSCRIBE'));
    const gone = await a.replies(n, 30000);
    expect(gone[n - 1].toString('latin1')).toMatch(/^\*3\r\n\$11\r\nunsubscribe\r\n\$\d+\r\nch:\d+\r\n:0\r\n$/);
    expect(await info(control)).toBe('0');
    // The same channels again, then the connection goes away without unsubscribing.
    a.write(encode('SUBSCRIBE', ...names));
    await a.replies(n, 30000);
    a.close();
    const deadline = Date.now() + 5000;
    while ((await info(control)) !== '0' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(await info(control)).toBe('0');
    expect(await control.call('PUBSUB', 'NUMSUB', names[7])).toBe(`*2\r\n$${names[7].length}\r\n${names[7]}\r\n:0\r\n`);
    control.close();
  });

  it('pathological patterns answer every PUBLISH (bounded matching), as Redis does', async () => {
    const evil = `${'*a'.repeat(40)}*b`;
    const channel = 'a'.repeat(4000);
    const r = await onBoth(async (port) => {
      const sub = await RawClient.connect(port);
      const patterns = Array.from({ length: 50 }, (_, i) => `${evil}${i}`);
      sub.write(encode('PSUBSCRIBE', ...patterns, 'a*'));
      await sub.replies(patterns.length + 1);
      const pub = await RawClient.connect(port);
      const out = [await pub.call('PUBLISH', channel, 'x'), await pub.call('PUBSUB', 'NUMPAT')];
      const message = (await sub.replies(1))[0].toString('latin1');
      sub.close();
      pub.close();
      return [...out, message === `*4\r\n$8\r\npmessage\r\n$2\r\na*\r\n$4000\r\n${channel}\r\n$1\r\nx\r\n`];
    });
    expect(r.spool).toEqual([':1\r\n', ':51\r\n', true]);
    expect(r.spool).toEqual(r.redis);
  });
});
