// The Pub/Sub registry (src/server/pubsub.ts) on its own: subscription bookkeeping and counts, subscribed mode,
// freeing names whose last subscriber left, PUBLISH's receivers and encodings, the publisher's own copies.
import { describe, expect, it } from 'vitest';
import { ClientState } from '../../src/server/clientState';
import { PubSub, encodePush } from '../../src/server/pubsub';

let nextId = 1;
function client(protocol: 2 | 3 = 2): ClientState {
  const c = new ClientState(nextId++, '127.0.0.1:1', '127.0.0.1:2', -1, 0, false, () => undefined);
  c.protocol = protocol;
  return c;
}

function registry(): { pubsub: PubSub; pushed: [number, string][] } {
  const pushed: [number, string][] = [];
  return { pubsub: new PubSub((c, bytes) => pushed.push([c.id, bytes.toString('latin1')])), pushed };
}

const buf = (s: string) => Buffer.from(s, 'latin1');

describe('PubSub registry', () => {
  it('keeps per-client and per-name bookkeeping in step, and subscribed mode with it', () => {
    const { pubsub } = registry();
    const a = client();
    expect(pubsub.subscribe(a, 'channel', 'x')).toBe(true);
    expect(pubsub.subscribe(a, 'channel', 'x')).toBe(false);
    expect(pubsub.subscribe(a, 'pattern', 'x*')).toBe(true);
    expect(pubsub.subscribe(a, 'shard', 'x')).toBe(true);
    expect(a.subscribed).toBe(true);
    expect(a.subscriptions!.count).toBe(2);
    expect(a.subscriptions!.total).toBe(3);
    expect([pubsub.size('channel'), pubsub.size('pattern'), pubsub.size('shard')]).toEqual([1, 1, 1]);
    expect(pubsub.unsubscribe(a, 'channel', 'nope')).toBe(false);
    expect(pubsub.unsubscribe(a, 'channel', 'x')).toBe(true);
    expect(pubsub.unsubscribe(a, 'pattern', 'x*')).toBe(true);
    expect(a.subscribed).toBe(true); // the shard channel is left
    expect(pubsub.unsubscribe(a, 'shard', 'x')).toBe(true);
    expect(a.subscribed).toBe(false);
    expect([pubsub.size('channel'), pubsub.size('pattern'), pubsub.size('shard')]).toEqual([0, 0, 0]);
  });

  it('forget drops everything silently, and leaves names other clients still hold', () => {
    const { pubsub } = registry();
    const a = client();
    const b = client();
    for (const c of [a, b]) pubsub.subscribe(c, 'channel', 'shared');
    pubsub.subscribe(a, 'channel', 'mine');
    pubsub.subscribe(a, 'pattern', 'p*');
    pubsub.forget(a);
    expect(a.subscribed).toBe(false);
    expect(a.subscriptions).toBe(null);
    expect(pubsub.names('channel', null)).toEqual(['shared']);
    expect(pubsub.subscribers('channel', 'shared')).toBe(1);
    expect(pubsub.size('pattern')).toBe(0);
  });

  it('PUBLISH counts every delivery, encodes per protocol, and gives the publisher its copies in place', () => {
    const { pubsub, pushed } = registry();
    const two = client(2);
    const three = client(3);
    pubsub.subscribe(two, 'channel', 'news');
    pubsub.subscribe(three, 'channel', 'news');
    pubsub.subscribe(three, 'pattern', 'n?ws');
    pubsub.subscribe(three, 'pattern', 'x*');
    pubsub.subscribe(two, 'shard', 'news');
    const own: string[] = [];
    expect(pubsub.publish(buf('news'), buf('hi'), false, three, (b) => own.push(b.toString('latin1')))).toBe(3);
    expect(pushed).toEqual([[two.id, '*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n']]);
    expect(own).toEqual(['>3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$2\r\nhi\r\n', '>4\r\n$8\r\npmessage\r\n$4\r\nn?ws\r\n$4\r\nnews\r\n$2\r\nhi\r\n']);
    pushed.length = 0;
    // Shard channels: their own subscribers only, never patterns.
    expect(pubsub.publish(buf('news'), buf('s'), true, three, () => undefined)).toBe(1);
    expect(pushed).toEqual([[two.id, '*3\r\n$8\r\nsmessage\r\n$4\r\nnews\r\n$1\r\ns\r\n']]);
    expect(pubsub.publish(buf('none'), buf('z'), false, two, () => undefined)).toBe(0);
  });

  it('names and counts of binary names; patterns select channels', () => {
    const { pubsub } = registry();
    const a = client();
    const name = '\x00\xff\r\n';
    pubsub.subscribe(a, 'channel', name);
    pubsub.subscribe(a, 'channel', 'abc');
    expect(pubsub.names('channel', 'a*')).toEqual(['abc']);
    expect(pubsub.names('channel', '\x00*')).toEqual([name]);
    expect(pubsub.subscribers('channel', name)).toBe(1);
    expect(encodePush(2, [buf('message'), buf(name), Buffer.alloc(0)]).toString('latin1')).toBe(`*3\r\n$7\r\nmessage\r\n$4\r\n${name}\r\n$0\r\n\r\n`);
  });
});
