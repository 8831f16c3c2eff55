// CLIENT PAUSE / CLIENT UNPAUSE with Redis 7.0's semantics (networking.c pauseClients, server.c processCommand):
// - WRITE holds every command that may write (flag write or may_replicate, and EXEC when a queued command does);
//   ALL holds every command, CLIENT UNPAUSE and QUIT included (Redis 7.0 exempts only replicas, which Spool has
//   not). A command is held after the checks that answer at once (unknown command, arity, NOAUTH, MISCONF, a
//   RESP2 subscriber's command outside Pub/Sub), so those errors are still immediate, and before MULTI queues
//   it, as in processCommand.
// - A held client runs nothing else (its pipeline waits behind the held command); at the end of the pause
//   (timer or CLIENT UNPAUSE) held clients resume in the order they were held and the command is checked again
//   from the start, so a new pause holds it again.
// - A second pause while one is active keeps the stronger kind and the later end.
// Nothing here runs per command while no pause is active: the dispatcher looks at `active` only.

import { keywordEquals } from '../commands/args';
import type { CommandRegistry } from '../commands/registry';
import type { CommandSpec } from '../commands/types';
import type { ClientState } from './clientState';

export type PauseKind = 'write' | 'all';

/** Redis's CLIENT_PAUSE_OFF < WRITE < ALL: a later pause never weakens an active one. */
const OFF = 0;
const WRITE = 1;
const ALL = 2;

/** setTimeout's longest delay (about 24.8 days); a longer pause re-arms the timer when it fires. */
const MAX_TIMER_MS = 2 ** 31 - 1;

function mayWrite(spec: CommandSpec): boolean {
  return spec.flags.includes('write') || spec.flags.includes('may_replicate');
}

/** Whether the command may write: its own flags, or for EXEC those of the commands MULTI queued. */
function writes(client: ClientState, args: Buffer[], spec: CommandSpec, registry: CommandRegistry): boolean {
  if (mayWrite(spec)) return true;
  if (client.multi === null || !keywordEquals(args[0], 'EXEC')) return false;
  return client.multi.some((queued) => {
    try {
      return mayWrite(registry.resolve(queued.args).spec);
    } catch {
      return false; // queued commands were resolved once already; a failure here only means "not a write"
    }
  });
}

export class ClientPause {
  private level = OFF;
  /** When the pause ends (ms since the epoch): it is over once the clock is past it, as Redis's `end < now`. */
  private endAt = 0;
  private timer: NodeJS.Timeout | null = null;
  /** Clients held now, in the order they were held. */
  private readonly heldClients: ClientState[] = [];
  /** Resolved when the pause ends; held commands wait on it (callbacks run in the order they were held). */
  private ended: Promise<void> | null = null;
  private endNow: (() => void) | null = null;
  /** Replication: full resynchronizations writing their RDB; writes wait meanwhile (a point-in-time snapshot). */
  private snapshots = 0;

  constructor(private readonly clock: () => number) {}

  /** True while a pause may hold commands (the only thing the dispatcher reads per command). */
  get active(): boolean {
    return this.level !== OFF || this.snapshots > 0;
  }

  /**
   * Replication: holds writes, as CLIENT PAUSE WRITE does, until the returned function is called (the RDB of a
   * full resynchronization is then the dataset at one offset). Independent of CLIENT PAUSE/UNPAUSE.
   */
  holdWrites(): () => void {
    this.snapshots++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.snapshots === 0 && this.level === OFF) this.unpause();
    };
  }

  /** Clients waiting for the end of the pause (Redis counts them in INFO blocked_clients). */
  get heldCount(): number {
    return this.heldClients.length;
  }

  /** A held client disconnected: it no longer counts. */
  forget(client: ClientState): void {
    const i = this.heldClients.indexOf(client);
    if (i >= 0) this.heldClients.splice(i, 1);
    client.held = false;
  }

  /** CLIENT PAUSE: `end` in ms since the epoch (already past: the pause ends at the next turn). */
  pause(kind: PauseKind, end: number): void {
    this.level = Math.max(this.level, kind === 'all' ? ALL : WRITE);
    this.endAt = Math.max(this.endAt, end);
    this.arm();
  }

  /** CLIENT UNPAUSE, or the end of the pause: held clients resume in order. */
  unpause(): void {
    this.level = OFF;
    this.endAt = 0;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const client of this.heldClients) client.held = false;
    this.heldClients.length = 0;
    const wake = this.endNow;
    this.ended = null;
    this.endNow = null;
    wake?.();
  }

  /**
   * Server shutdown: stops the timer. Held clients stay held: their connections are about to be closed, and a
   * held write must not run while the server drains its last commit.
   */
  close(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  /**
   * Whether `args` from `client` must wait for the end of the pause: the promise to wait for, or null when it runs
   * now (including every request execute() answers with an error at once). Call only while `active`.
   */
  holds(client: ClientState, args: Buffer[], registry: CommandRegistry, storageRefusesWrites: boolean): Promise<void> | null {
    if (this.level !== OFF && this.clock() > this.endAt) this.unpause(); // the timer has not fired yet, but the pause is over
    if (this.level === OFF && this.snapshots === 0) return null;
    const level = this.snapshots > 0 ? Math.max(this.level, WRITE) : this.level;
    let spec: CommandSpec;
    let statName: string;
    let inSubscribedMode: boolean;
    try {
      ({ spec, statName, traits: { inSubscribedMode } } = registry.resolve(args));
    } catch {
      return null; // unknown command or wrong arity: answered at once
    }
    if (!client.authenticated && !spec.flags.includes('no_auth')) return null; // NOAUTH at once
    if (storageRefusesWrites && spec.flags.includes('write')) return null; // MISCONF at once
    if (client.subscribed && client.protocol === 2 && !inSubscribedMode) return null; // refused at once
    if (level === WRITE && !writes(client, args, spec, registry)) return null;
    if (this.ended === null) this.ended = new Promise<void>((resolve) => (this.endNow = resolve));
    // As Redis, CLIENT LIST shows the held client blocked (flag b) on the command it waits to run.
    client.lastCommand = statName;
    if (!client.held) {
      client.held = true;
      this.heldClients.push(client);
    }
    return this.ended;
  }

  private arm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    const delay = Math.min(Math.max(this.endAt - this.clock() + 1, 0), MAX_TIMER_MS);
    this.timer = setTimeout(() => this.expire(), delay);
    // A pause alone must not keep a stopping process alive.
    this.timer.unref();
  }

  private expire(): void {
    this.timer = null;
    if (this.clock() > this.endAt) this.unpause();
    else this.arm(); // longer than one timer can wait, or the clock lagged the timer
  }
}
