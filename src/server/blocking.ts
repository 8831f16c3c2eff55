// Clients blocked on keys (XREAD/XREADGROUP BLOCK). Keys signalled ready during a command are served after
// that command, in the order clients blocked (FIFO per key), like Redis's handleClientsBlockedOnKeys.

import type { ReplyWriter } from '../protocol/replyWriter';
import type { ClientState } from './clientState';
import type { Database } from '../keyspace/database';

export interface BlockRequest {
  /** Keys (latin1 strings) in the client's current database. */
  readonly keys: readonly string[];
  /** Milliseconds to wait; 0 waits forever. */
  readonly timeoutMs: number;
  /**
   * Called when `key` was signalled ready (new entries, deleted, renamed, group destroyed...). Writes a reply
   * and returns true to unblock, or writes nothing and returns false to keep waiting. May throw CommandError:
   * the error is the reply and the client is unblocked.
   */
  tryServe(key: string, reply: ReplyWriter, now: number): boolean;
  /** Writes the reply for a timeout (Redis: a null array). */
  onTimeout(reply: ReplyWriter): void;
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export interface BlockedClient {
  readonly client: ClientState;
  readonly db: Database;
  readonly request: BlockRequest;
  /** Absolute deadline in ms, or 0 for none. */
  readonly deadline: number;
  timer: NodeJS.Timeout | null;
  /** The blocked request and its statistics name: a served read that changed state is journaled from them. */
  readonly args: Buffer[];
  readonly statName: string;
}

/**
 * Tracks blocked clients per (database, key) and serves them when keys are signalled ready.
 * `deliver` hands a finished reply (or error) to the client's connection and resumes its pipeline.
 */
export class BlockingManager {
  private readonly waiters = new Map<string, BlockedClient[]>();
  private readonly ready = new Set<string>();
  private readonly readyDbs = new Map<string, { db: Database; key: string }>();

  constructor(
    private readonly clock: () => number,
    private readonly newWriter: (client: ClientState) => ReplyWriter,
    private readonly deliver: (client: ClientState, reply: ReplyWriter, ticket: number) => void,
    /** The durability tickets of the command in progress (see durabilityGate.ts). */
    private readonly tickets: { take(): number; require(ticket: number): void },
    /** Called after a blocked client was served (the storage layer journals what the read changed). */
    private readonly onServed: (entry: BlockedClient, key: string) => void = () => undefined,
  ) {}

  get blockedCount(): number {
    let n = 0;
    const seen = new Set<BlockedClient>();
    for (const list of this.waiters.values()) for (const b of list) if (!seen.has(b)) (seen.add(b), n++);
    return n;
  }

  private static slot(db: Database, key: string): string {
    return `${db.index}\0${key}`;
  }

  block(client: ClientState, db: Database, request: BlockRequest): void {
    const now = this.clock();
    const entry: BlockedClient = {
      client,
      db,
      request,
      deadline: request.timeoutMs > 0 ? now + request.timeoutMs : 0,
      timer: null,
      args: client.currentArgs,
      statName: client.lastCommand,
    };
    client.blocked = entry;
    for (const key of new Set(request.keys)) {
      const slot = BlockingManager.slot(db, key);
      let list = this.waiters.get(slot);
      if (!list) this.waiters.set(slot, (list = []));
      list.push(entry);
    }
    if (entry.deadline > 0) this.arm(entry);
  }

  /** setTimeout fires at once beyond 2^31-1 ms, so long timeouts are armed in steps. */
  private arm(entry: BlockedClient): void {
    const left = entry.deadline - this.clock();
    const step = Math.min(Math.max(left, 0), MAX_TIMER_MS);
    entry.timer = setTimeout(() => {
      if (entry.deadline - this.clock() > 0 && step === MAX_TIMER_MS) this.arm(entry);
      else this.timeout(entry);
    }, step);
  }

  /** Marks a key ready; clients blocked on it are served by serveReady(). */
  signal(db: Database, key: string): void {
    const slot = BlockingManager.slot(db, key);
    if (!this.waiters.has(slot)) return;
    this.ready.add(slot);
    this.readyDbs.set(slot, { db, key });
  }

  /** Serves clients blocked on keys signalled since the last call, FIFO per key. */
  serveReady(): void {
    while (this.ready.size > 0) {
      const slots = [...this.ready];
      this.ready.clear();
      for (const slot of slots) {
        const target = this.readyDbs.get(slot)!;
        this.readyDbs.delete(slot);
        const list = this.waiters.get(slot);
        if (!list) continue;
        for (const entry of [...list]) {
          if (entry.client.blocked !== entry) continue;
          const reply = this.newWriter(entry.client);
          // The served client's reply waits for what *its* read depends on, not for the waking command.
          const outer = this.tickets.take();
          let served: boolean;
          try {
            served = entry.request.tryServe(target.key, reply, this.clock());
            if (served) this.onServed(entry, target.key);
          } catch (err) {
            const e = err as { reply?: string };
            if (typeof e.reply !== 'string') throw err;
            reply.error(e.reply);
            served = true;
          }
          const ticket = this.tickets.take();
          this.tickets.require(outer);
          if (served) {
            this.unblock(entry);
            this.deliver(entry.client, reply, ticket);
          }
        }
      }
    }
  }

  /** Removes a client from every wait list (served, timed out, disconnected, CLIENT UNBLOCK). */
  unblock(entry: BlockedClient): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.client.blocked === entry) entry.client.blocked = null;
    for (const key of new Set(entry.request.keys)) {
      const slot = BlockingManager.slot(entry.db, key);
      const list = this.waiters.get(slot);
      if (!list) continue;
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(slot);
    }
  }

  /** Ends a client's wait as if its timeout had passed (timeout and CLIENT UNBLOCK [TIMEOUT]). */
  timeout(entry: BlockedClient): void {
    if (entry.client.blocked !== entry) return;
    this.unblock(entry);
    const reply = this.newWriter(entry.client);
    entry.request.onTimeout(reply);
    this.deliver(entry.client, reply, 0);
  }

  /** Ends a wait with a reply produced elsewhere (an asynchronous operation finished, e.g. CONFIG REWRITE). */
  resolve(entry: BlockedClient, write: (reply: ReplyWriter) => void): void {
    if (entry.client.blocked !== entry) return;
    this.unblock(entry);
    const reply = this.newWriter(entry.client);
    write(reply);
    this.deliver(entry.client, reply, 0);
  }

  /** CLIENT UNBLOCK ... ERROR */
  fail(entry: BlockedClient, error: string): void {
    if (entry.client.blocked !== entry) return;
    this.unblock(entry);
    const reply = this.newWriter(entry.client);
    reply.error(error);
    this.deliver(entry.client, reply, 0);
  }
}
