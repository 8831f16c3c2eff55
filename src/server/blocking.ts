// Clients blocked on keys (XREAD/XREADGROUP BLOCK). Keys signalled ready during a command are served after
// that command, in the order clients blocked (FIFO per key), like Redis's handleClientsBlockedOnKeys.
//
// Waking many clients at once (a thousand readers of one stream woken by one XADD) is kept linear and cheap:
// clients served in a pass leave the key's wait list in one sweep after it (no indexOf/splice per client), the
// replies are encoded into one scratch writer rather than a fresh writer per client, and requests that declare
// their reply shareable (plain XREAD: same key, start ID, COUNT and protocol) have it encoded once per pass and
// the same bytes written to every such client.

import { errorCodeOf } from '../errors';
import { ReplyWriter } from '../protocol/replyWriter';
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
  /**
   * Optional. A text naming this request's outcome for `key`: requests with the same text, served for the same
   * key in the same pass, get the same answer (served with byte-identical replies, or kept waiting), so it is
   * computed once. Only for requests whose serving changes no state (plain XREAD; never XREADGROUP, which
   * moves entries into its consumer's PEL). The text must cover everything the reply depends on besides the
   * key and the stream: start ID, COUNT, protocol.
   */
  shareKey?(key: string, protocol: number): string;
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
  /** The wait-list slots of its distinct keys. */
  readonly slots: readonly string[];
  /**
   * SLOWLOG: microseconds the blocking call itself ran, set when that reached the threshold; the command is
   * logged when it is served (onAnswered), as Redis's updateStatsOnUnblock.
   */
  callUsec: number;
}

/** The outcome of a shareable request in one serve pass: the reply (null: kept waiting) and its durability ticket. */
interface SharedOutcome {
  readonly bytes: Buffer | null;
  readonly ticket: number;
}

/**
 * Tracks blocked clients per (database, key) and serves them when keys are signalled ready.
 * `deliver` hands a finished reply (or error) to the client's connection and resumes its pipeline.
 */
export class BlockingManager {
  private readonly waiters = new Map<string, BlockedClient[]>();
  private readonly ready = new Set<string>();
  private readonly readyDbs = new Map<string, { db: Database; key: string }>();
  private blocked = 0;
  /**
   * Called when a blocked client is served (or its asynchronous operation resolved), as Redis's
   * updateStatsOnUnblock; not when it times out, is unblocked by CLIENT UNBLOCK or disconnects.
   */
  onAnswered: (entry: BlockedClient) => void = () => undefined;
  /** Replies of served clients are encoded here; each is handed out as a view (see ReplyWriter.take). */
  private scratch: ReplyWriter | null = null;
  /** setTimeout callback shared by every armed client (no closure per client). */
  private readonly fire = (entry: BlockedClient, step: number): void => {
    if (step === MAX_TIMER_MS && entry.deadline - this.clock() > 0) this.arm(entry);
    else this.timeout(entry);
  };

  constructor(
    private readonly clock: () => number,
    private readonly newWriter: (client: ClientState) => ReplyWriter,
    private readonly deliver: (client: ClientState, reply: ReplyWriter | Buffer, ticket: number) => void,
    /** The durability tickets of the command in progress (see durabilityGate.ts). */
    private readonly tickets: { take(): number; require(ticket: number): void },
    /** Called after a blocked client was served (the storage layer journals what the read changed). */
    private readonly onServed: (entry: BlockedClient, key: string) => void = () => undefined,
    /**
     * Called when a blocked client is unblocked with an error reply (`code`: its first word): Redis counts it
     * in INFO errorstats and total_error_replies, and as a failed call of the blocked command.
     */
    private readonly onErrorReply: (entry: BlockedClient, code: string) => void = () => undefined,
  ) {}

  get blockedCount(): number {
    return this.blocked;
  }

  private static slot(db: Database, key: string): string {
    return `${db.index}\0${key}`;
  }

  block(client: ClientState, db: Database, request: BlockRequest): void {
    const now = this.clock();
    const slots: string[] = [];
    for (const key of request.keys) {
      const slot = BlockingManager.slot(db, key);
      if (!slots.includes(slot)) slots.push(slot);
    }
    const entry: BlockedClient = {
      client,
      db,
      request,
      deadline: request.timeoutMs > 0 ? now + request.timeoutMs : 0,
      timer: null,
      args: client.currentArgs,
      statName: client.lastCommand,
      slots,
      callUsec: 0,
    };
    client.blocked = entry;
    this.blocked++;
    for (const slot of slots) {
      const list = this.waiters.get(slot);
      if (list) list.push(entry);
      else this.waiters.set(slot, [entry]);
    }
    if (entry.deadline > 0) this.arm(entry);
  }

  /** setTimeout fires at once beyond 2^31-1 ms, so long timeouts are armed in steps. */
  private arm(entry: BlockedClient): void {
    const left = entry.deadline - this.clock();
    const step = Math.min(Math.max(left, 0), MAX_TIMER_MS);
    entry.timer = setTimeout(this.fire, step, entry, step);
  }

  /** Marks a key ready; clients blocked on it are served by serveReady(). */
  signal(db: Database, key: string): void {
    // Every XADD signals its key: build the slot name only when some client waits on anything at all.
    if (this.waiters.size === 0) return;
    const slot = BlockingManager.slot(db, key);
    if (!this.waiters.has(slot)) return;
    this.ready.add(slot);
    this.readyDbs.set(slot, { db, key });
  }

  /** SWAPDB: signals every key of `db` that clients wait on and for which `affected(key)` holds. */
  signalWaitedKeys(db: Database, affected: (key: string) => boolean): void {
    const prefix = `${db.index}\0`;
    for (const slot of this.waiters.keys()) {
      if (!slot.startsWith(prefix)) continue;
      const key = slot.slice(prefix.length);
      if (affected(key)) this.signal(db, key);
    }
  }

  /** Keys were signalled since the last serveReady(). */
  get hasReady(): boolean {
    return this.ready.size > 0;
  }

  /** Serves clients blocked on keys signalled since the last call, FIFO per key. (Bound: passed around as is.) */
  readonly serveReady = (): void => {
    while (this.ready.size > 0) {
      const slots = [...this.ready];
      this.ready.clear();
      for (const slot of slots) {
        const target = this.readyDbs.get(slot)!;
        this.readyDbs.delete(slot);
        const list = this.waiters.get(slot);
        if (list) this.serveSlot(slot, target.key, list);
      }
    }
  };

  /** Serves the clients waiting on one key, in the order they blocked. */
  private serveSlot(slot: string, key: string, list: readonly BlockedClient[]): void {
    // A snapshot: whatever unblocks a client meanwhile (its own wait list sweep below, or unblock()) leaves it.
    const waiting = list.slice();
    const now = this.clock();
    let shared: Map<string, SharedOutcome> | null = null;
    let servedAny = false;
    const writer = this.scratch ?? (this.scratch = new ReplyWriter(2));
    try {
      for (let i = 0; i < waiting.length; i++) {
        const entry = waiting[i];
        const client = entry.client;
        if (client.blocked !== entry) continue;
        // The served client's reply waits for what *its* read depends on, not for the waking command.
        const outer = this.tickets.take();
        const shareKey = entry.request.shareKey?.(key, client.protocol);
        const known = shareKey !== undefined && shared !== null ? shared.get(shareKey) : undefined;
        let bytes: Buffer | null;
        if (known !== undefined) {
          bytes = known.bytes;
          if (bytes !== null) {
            this.tickets.require(known.ticket);
            this.onServed(entry, key);
          }
        } else {
          // A request that may change state ends what earlier ones could share.
          if (shareKey === undefined) shared = null;
          writer.protocol = client.protocol;
          let cacheable = shareKey !== undefined;
          try {
            if (entry.request.tryServe(key, writer, now)) {
              this.onServed(entry, key);
              bytes = writer.take();
            } else {
              if (writer.size > 0) writer.take(); // kept waiting: nothing is sent
              bytes = null;
            }
          } catch (err) {
            const e = err as { reply?: string };
            if (typeof e.reply !== 'string') throw err;
            writer.take(); // whatever was written before the error is not sent
            writer.error(e.reply);
            bytes = writer.take();
            cacheable = false;
            this.onErrorReply(entry, errorCodeOf(e.reply));
          }
          if (cacheable) {
            // The ticket so far is what this read depends on: later sharers wait for the same.
            const ticket = this.tickets.take();
            this.tickets.require(ticket);
            (shared ??= new Map()).set(shareKey!, { bytes, ticket });
          }
        }
        const ticket = this.tickets.take();
        this.tickets.require(outer);
        if (bytes !== null) {
          this.release(entry, slot);
          servedAny = true;
          this.onAnswered(entry);
          this.deliver(client, bytes, ticket);
        }
      }
    } finally {
      // Served clients leave this key's list in one sweep.
      if (servedAny) {
        const current = this.waiters.get(slot);
        if (current) {
          const kept = current.filter((e) => e.client.blocked === e);
          if (kept.length > 0) this.waiters.set(slot, kept);
          else this.waiters.delete(slot);
        }
      }
    }
  }

  /**
   * Ends an entry's wait: its timer, the client's blocked state, and its place on the wait lists of its keys
   * other than `except` (whose list the caller sweeps).
   */
  private release(entry: BlockedClient, except: string | null): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.client.blocked === entry) {
      entry.client.blocked = null;
      this.blocked--;
    }
    for (const slot of entry.slots) {
      if (slot === except) continue;
      const list = this.waiters.get(slot);
      if (!list) continue;
      const i = list.indexOf(entry);
      if (i >= 0) list.splice(i, 1);
      if (list.length === 0) this.waiters.delete(slot);
    }
  }

  /** Removes a client from every wait list (served, timed out, disconnected, CLIENT UNBLOCK). */
  unblock(entry: BlockedClient): void {
    this.release(entry, null);
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
    this.onAnswered(entry);
    this.deliver(entry.client, reply, 0);
  }

  /** CLIENT UNBLOCK ... ERROR */
  fail(entry: BlockedClient, error: string): void {
    if (entry.client.blocked !== entry) return;
    this.unblock(entry);
    const reply = this.newWriter(entry.client);
    reply.error(error);
    this.onErrorReply(entry, errorCodeOf(error));
    this.deliver(entry.client, reply, 0);
  }
}
