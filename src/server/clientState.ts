// What the server knows about one connected client, independent of the socket: identity, selected database,
// protocol, authentication, transaction and blocking state. CLIENT LIST/INFO render it.

import type { Protocol } from '../protocol/replyWriter';
import type { BlockedClient } from './blocking';
import type { ClientSubscriptions } from './pubsub';

export interface QueuedCommand {
  readonly args: Buffer[];
}

export class ClientState {
  name = '';
  libName = '';
  libVersion = '';
  dbIndex = 0;
  protocol: Protocol = 2;
  authenticated: boolean;
  /** MULTI state: queued commands, or null outside a transaction. */
  multi: QueuedCommand[] | null = null;
  /** Set when a queued command was rejected (EXECABORT) . */
  multiError = false;
  /** Set when a WATCHed key changed since WATCH. */
  watchDirty = false;
  /** Watched keys as `${db}\0${key}`. */
  readonly watched = new Set<string>();
  blocked: BlockedClient | null = null;
  /** Replication: `master` for the link this replica reads its master's stream from, `replica` for a replica. */
  replicationRole: 'normal' | 'master' | 'replica' = 'normal';
  /** In MONITOR mode (src/server/monitors.ts keeps it in step; CLIENT LIST flag O). */
  monitoring = false;
  /**
   * Pub/Sub subscribed mode (Redis's CLIENT_PUBSUB: some channel, pattern or shard channel subscribed): a RESP2
   * client may then only (un)subscribe, PING, QUIT and RESET, and its output buffer limit is class pubsub.
   */
  subscribed = false;
  /** Its subscriptions (src/server/pubsub.ts keeps them in step), null until it first subscribes. */
  subscriptions: ClientSubscriptions | null = null;
  /**
   * Under CLIENT REPLY OFF/SKIP: spans [from, to, ...] of the writer (sizes) that the running command wrote as
   * pushes (Pub/Sub confirmations and messages), which Redis sends even when replies are off; null otherwise.
   */
  pushSpans: number[] | null = null;
  /** Held by CLIENT PAUSE: its next command waits for the end of the pause (CLIENT LIST flag b, as Redis). */
  held = false;
  /** Cluster mode: ASKING was sent (serves one command on an importing slot; kept through MULTI, as Redis). */
  asking = false;
  /** Cluster mode: READONLY was sent (CLIENT LIST flag r). */
  readonlyCluster = false;
  lastCommand = 'NULL';
  /** The request of a blocked command (set when it blocks; journaled when it is served). */
  currentArgs: Buffer[] = [];
  lastInteraction: number;
  readonly createdAt: number;
  /** Set by QUIT, protocol errors and CLIENT KILL: close after the pending replies are written. */
  closing = false;
  noEvict = false;
  /**
   * CLIENT REPLY: `off` drops every reply until ON; SKIP sets `skipNext`, which becomes `skip` (drop this one
   * command's reply) once the SKIP command itself is done, as Redis's CLIENT_REPLY_SKIP_NEXT / CLIENT_REPLY_SKIP.
   */
  replyMode: 'on' | 'off' | 'skipNext' | 'skip' = 'on';
  noTouch = false;
  /** Bytes of replies produced but not yet accepted by the socket (for CLIENT LIST omem). */
  outputBytes = 0;
  queryBufferBytes = 0;

  constructor(
    readonly id: number,
    readonly remoteAddress: string,
    readonly localAddress: string,
    readonly fd: number,
    now: number,
    requiresAuth: boolean,
    /** Closes the connection (CLIENT KILL, SHUTDOWN). */
    readonly kill: () => void,
  ) {
    this.createdAt = now;
    this.lastInteraction = now;
    this.authenticated = !requiresAuth;
  }

  get inMulti(): boolean {
    return this.multi !== null;
  }
}
