// Pub/Sub with real client libraries over TCP, in RESP2 and RESP3: ioredis and node-redis subscribers receive
// channel, pattern and shard-channel messages (binary ones too) published from another connection, their
// subscription counts, introspection, and leaving subscribed mode to run other commands again.
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { useIoredis } from '../helpers/ioredis';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let spool: SpoolHandle;
beforeAll(async () => {
  spool = await startSpool();
});
afterAll(async () => {
  await spool?.stop();
});

/** Resolves once `check` holds, polled every 10 ms, or rejects after 5 s. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe.each([2, 3] as const)('ioredis RESP%i', (protocol) => {
  const open = useIoredis(() => spool.port);
  const connect = () => open(protocol);

  test('SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE receive what another connection publishes', async () => {
    const sub = await connect();
    const pub = await connect();
    const got: string[] = [];
    sub.on('message', (channel: string, message: string) => got.push(`message ${channel} ${message}`));
    sub.on('pmessage', (pattern: string, channel: string, message: string) => got.push(`pmessage ${pattern} ${channel} ${message}`));
    sub.on('smessage', (channel: string, message: string) => got.push(`smessage ${channel} ${message}`));
    expect(await sub.subscribe('io:news', 'io:other')).toBe(2);
    expect(await sub.psubscribe('io:n*')).toBe(3);
    expect(await sub.ssubscribe('io:shard')).toBe(1);
    expect(await pub.publish('io:news', 'hello')).toBe(2);
    expect(await pub.publish('io:other', 'x')).toBe(1);
    expect(await pub.spublish('io:shard', 's')).toBe(1);
    expect(await pub.publish('io:zzz', 'y')).toBe(0);
    await until(() => got.length === 4, 'four messages');
    expect(got).toEqual(['message io:news hello', 'pmessage io:n* io:news hello', 'message io:other x', 'smessage io:shard s']);
    expect(await pub.pubsub('NUMSUB', 'io:news', 'io:zzz')).toEqual(['io:news', 1, 'io:zzz', 0]);
    expect(await pub.pubsub('NUMPAT')).toBe(1);
    expect(((await pub.pubsub('CHANNELS', 'io:*')) as string[]).sort()).toEqual(['io:news', 'io:other']);
    // By name: ioredis waits forever on a bare UNSUBSCRIBE while patterns or shard channels are subscribed
    // (against redis-server 7.0.15 as well); the bare form is in the next test.
    expect(await sub.unsubscribe('io:news', 'io:other')).toBe(1);
    expect(await sub.punsubscribe('io:n*')).toBe(0);
    expect(await sub.sunsubscribe('io:shard')).toBe(0);
    expect(await sub.ping()).toBe('PONG');
    expect(await sub.xadd(`io:s${protocol}`, '1-1', 'f', 'v')).toBe('1-1');
    expect(await pub.publish('io:news', 'gone')).toBe(0);
  });

  test('a bare UNSUBSCRIBE leaves every channel', async () => {
    // (Channels only: ioredis waits forever on a bare UNSUBSCRIBE while patterns or shard channels are also
    // subscribed, against redis-server 7.0.15 as well.)
    const sub = await connect();
    const pub = await connect();
    expect(await sub.subscribe('io:a', 'io:b')).toBe(2);
    expect(await sub.unsubscribe()).toBe(0);
    expect(await sub.ping()).toBe('PONG');
    expect(await pub.pubsub('NUMSUB', 'io:a', 'io:b')).toEqual(['io:a', 0, 'io:b', 0]);
  });

  test('binary channels and messages arrive byte for byte', async () => {
    const sub = await connect();
    const pub = await connect();
    const channel = Buffer.from([0x00, 0xff, 0x0d, 0x0a]);
    const message = Buffer.from([0xfe, 0x00, 0x80, 0x7f]);
    const got: Buffer[][] = [];
    sub.on('messageBuffer', (c: Buffer, m: Buffer) => got.push([c, m]));
    await sub.subscribe(channel as unknown as string);
    expect(await pub.publish(channel, message)).toBe(1);
    await until(() => got.length === 1, 'the binary message');
    expect(got[0][0].equals(channel)).toBe(true);
    expect(got[0][1].equals(message)).toBe(true);
  });
});

describe.each([2, 3] as const)('node-redis RESP%i', (RESP) => {
  test('subscribe, pSubscribe and sSubscribe listeners, introspection, unsubscribe', async () => {
    const pub = createClient({ socket: { host: '127.0.0.1', port: spool.port }, RESP });
    await pub.connect();
    const sub = pub.duplicate();
    await sub.connect();
    const news = `nr${RESP}:news`;
    const shard = `nr${RESP}:shard`;
    try {
      const got: string[] = [];
      await sub.subscribe(news, (message, channel) => got.push(`message ${channel} ${message}`));
      await sub.pSubscribe(`nr${RESP}:n*`, (message, channel) => got.push(`pmessage ${channel} ${message}`));
      await sub.sSubscribe(shard, (message, channel) => got.push(`smessage ${channel} ${message}`));
      expect(await pub.publish(news, 'hello')).toBe(2);
      expect(await pub.sPublish(shard, 's')).toBe(1);
      await until(() => got.length === 3, 'three messages');
      expect(got.sort()).toEqual([`message ${news} hello`, `pmessage ${news} hello`, `smessage ${shard} s`]);
      expect(await pub.pubSubNumSub([news])).toEqual({ [news]: 1 });
      expect(await pub.pubSubNumPat()).toBe(1);
      expect(await pub.pubSubShardChannels()).toEqual([shard]);
      // By name: node-redis 5 over RESP2 waits forever on a bare UNSUBSCRIBE while shard channels are
      // subscribed, against redis-server 7.0.15 as well.
      await sub.unsubscribe(news);
      await sub.pUnsubscribe(`nr${RESP}:n*`);
      await sub.sUnsubscribe(shard);
      // (node-redis hands RESP2's PONG back as a Buffer on a connection that has been subscribed, Redis alike.)
      expect(String(await sub.ping())).toBe('PONG');
      expect(await pub.publish(news, 'gone')).toBe(0);
    } finally {
      sub.destroy();
      pub.destroy();
    }
  });
});
