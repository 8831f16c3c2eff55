// Pub/Sub: who is subscribed to what, and handing a PUBLISH to them, as Redis 7.0's pubsub.c in a server without
// cluster. Three kinds of subscription, each its own namespace: channels (SUBSCRIBE, reached by PUBLISH),
// patterns (PSUBSCRIBE, Redis's glob over the channel PUBLISH names) and shard channels (SSUBSCRIBE, reached only
// by SPUBLISH, never by patterns).
//
// Subscribers are indexed by name, so a PUBLISH costs the subscribers of its channel plus one bounded glob match
// per distinct pattern, never a walk over every client. A message is encoded once per protocol (and per matching
// pattern) and the same bytes go to every subscriber. Nothing here runs for a client that never subscribed: the
// dispatcher and connection look at ClientState.subscribed / .subscriptions only.

import { globMatch } from '../keyspace/glob';
import type { Protocol } from '../protocol/replyWriter';
import type { ClientState } from './clientState';

export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/** One client's subscriptions by kind, names as latin1 strings, in the order made. */
export class ClientSubscriptions {
  readonly channel = new Set<string>();
  readonly pattern = new Set<string>();
  readonly shard = new Set<string>();

  /** Redis's clientSubscriptionsCount: channels and patterns (what (P)SUBSCRIBE and (P)UNSUBSCRIBE report). */
  get count(): number {
    return this.channel.size + this.pattern.size;
  }

  /** Redis's clientTotalPubSubSubscriptionCount: the client is in subscribed mode while this is above 0. */
  get total(): number {
    return this.count + this.shard.size;
  }
}

/** Hands a message to a subscriber that is not the publisher (its connection writes it after its own replies). */
export type PushMessage = (client: ClientState, bytes: Buffer) => void;

/** Writes the publisher's own copy of a message into its reply, where the command is (before PUBLISH's count). */
export type ToPublisher = (bytes: Buffer) => void;

const CRLF = '\r\n';

/** A push frame of bulk strings: `>n` in RESP3, `*n` in RESP2 (Redis's addReplyPubsub* functions). */
export function encodePush(protocol: Protocol, parts: readonly Buffer[]): Buffer {
  const chunks: Buffer[] = [Buffer.from(`${protocol === 3 ? '>' : '*'}${parts.length}${CRLF}`, 'latin1')];
  for (const part of parts) chunks.push(Buffer.from(`$${part.length}${CRLF}`, 'latin1'), part, CRLF_BYTES);
  return Buffer.concat(chunks);
}

const CRLF_BYTES = Buffer.from(CRLF, 'latin1');
const MESSAGE = Buffer.from('message', 'latin1');
const PMESSAGE = Buffer.from('pmessage', 'latin1');
const SMESSAGE = Buffer.from('smessage', 'latin1');

/** The bytes of one message per protocol, encoded on first need. */
class Encoded {
  private resp2: Buffer | null = null;
  private resp3: Buffer | null = null;

  constructor(private readonly parts: readonly Buffer[]) {}

  for(protocol: Protocol): Buffer {
    if (protocol === 3) return (this.resp3 ??= encodePush(3, this.parts));
    return (this.resp2 ??= encodePush(2, this.parts));
  }
}

export class PubSub {
  /** Per kind: name -> subscribed clients (Redis's server.pubsub_channels, pubsub_patterns, pubsubshard_channels). */
  private readonly index: Record<SubscriptionKind, Map<string, Set<ClientState>>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };

  constructor(private readonly push: PushMessage) {}

  /** Subscribes; false when the client already was (Redis still confirms it). */
  subscribe(client: ClientState, kind: SubscriptionKind, name: string): boolean {
    const mine = (client.subscriptions ??= new ClientSubscriptions())[kind];
    if (mine.has(name)) return false;
    mine.add(name);
    let clients = this.index[kind].get(name);
    if (clients === undefined) this.index[kind].set(name, (clients = new Set()));
    clients.add(client);
    client.subscribed = true;
    return true;
  }

  /** Unsubscribes; false when the client was not subscribed (Redis still confirms it). */
  unsubscribe(client: ClientState, kind: SubscriptionKind, name: string): boolean {
    const subs = client.subscriptions;
    if (subs === null || !subs[kind].delete(name)) return false;
    const clients = this.index[kind].get(name)!;
    clients.delete(client);
    // The last subscriber gone, the name goes too: subscribing to millions of names and leaving frees them.
    if (clients.size === 0) this.index[kind].delete(name);
    client.subscribed = subs.total > 0;
    return true;
  }

  /** The client's subscriptions of a kind, in the order made (UNSUBSCRIBE without arguments goes through them). */
  subscriptionsOf(client: ClientState, kind: SubscriptionKind): string[] {
    return client.subscriptions === null ? [] : [...client.subscriptions[kind]];
  }

  /** Drops every subscription of a client without telling it (RESET, disconnection). */
  forget(client: ClientState): void {
    const subs = client.subscriptions;
    if (subs === null) return;
    for (const kind of KINDS) for (const name of subs[kind]) this.unsubscribe(client, kind, name);
    client.subscriptions = null;
    client.subscribed = false;
  }

  /**
   * PUBLISH (shard false: channel subscribers, then each pattern that matches the channel) or SPUBLISH (shard
   * true: shard channel subscribers only). The publisher's own copies go to `toPublisher` so they land in its
   * reply at this point, before the command's own reply, as in Redis. Returns the number of receivers (a client
   * reached by the channel and by two patterns counts three times, as in Redis).
   */
  publish(channel: Buffer, message: Buffer, shard: boolean, publisher: ClientState, toPublisher: ToPublisher): number {
    const name = channel.toString('latin1');
    let receivers = 0;
    const direct = this.index[shard ? 'shard' : 'channel'].get(name);
    if (direct !== undefined) {
      const encoded = new Encoded([shard ? SMESSAGE : MESSAGE, channel, message]);
      receivers += this.deliver(direct, encoded, publisher, toPublisher);
    }
    if (shard) return receivers;
    for (const [pattern, clients] of this.index.pattern) {
      if (!globMatch(pattern, name)) continue;
      const encoded = new Encoded([PMESSAGE, Buffer.from(pattern, 'latin1'), channel, message]);
      receivers += this.deliver(clients, encoded, publisher, toPublisher);
    }
    return receivers;
  }

  private deliver(clients: Set<ClientState>, encoded: Encoded, publisher: ClientState, toPublisher: ToPublisher): number {
    let n = 0;
    // A subscriber may be closed while we deliver (output buffer limit): Set iteration skips what was deleted.
    for (const client of clients) {
      const bytes = encoded.for(client.protocol);
      if (client === publisher) toPublisher(bytes);
      else this.push(client, bytes);
      n++;
    }
    return n;
  }

  /** PUBSUB CHANNELS / SHARDCHANNELS: names with subscribers, those matching `pattern` when given. */
  names(kind: 'channel' | 'shard', pattern: string | null): string[] {
    const out: string[] = [];
    for (const name of this.index[kind].keys()) if (pattern === null || globMatch(pattern, name)) out.push(name);
    return out;
  }

  /** PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one name (pattern subscriptions not counted). */
  subscribers(kind: 'channel' | 'shard', name: string): number {
    return this.index[kind].get(name)?.size ?? 0;
  }

  /** Distinct names of a kind with subscribers (INFO pubsub_channels, pubsub_patterns, pubsubshard_channels). */
  size(kind: SubscriptionKind): number {
    return this.index[kind].size;
  }
}

const KINDS: readonly SubscriptionKind[] = ['channel', 'pattern', 'shard'];
