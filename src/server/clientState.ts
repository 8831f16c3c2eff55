// What the server knows about one connected client, independent of the socket: identity, selected database,
// protocol, authentication, transaction and blocking state. CLIENT LIST/INFO render it.

import type { Protocol } from '../protocol/replyWriter';
import type { BlockedClient } from './blocking';

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
  /** Held by CLIENT PAUSE: its next command waits for the end of the pause (CLIENT LIST flag b, as Redis). */
  held = false;
  lastCommand = 'NULL';
  /** The request being executed (kept for a blocked command, journaled when it is served). */
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
