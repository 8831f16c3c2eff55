// MONITOR: clients that receive every command other clients run, one status line per command, in the format of
// Redis 7.0's replicationFeedMonitors: `+<secs>.<usecs> [<db> <ip:port>] "arg" "arg" ...` with sdscatrepr quoting.

import { performance } from 'node:perf_hooks';
import type { CommandSpec } from '../commands/types';
import type { ClientState } from './clientState';

/** Hands a line to a monitoring client's connection (ServerHooks.deliver without a durability ticket). */
export type MonitorDeliver = (client: ClientState, line: Buffer) => void;

const HEX = '0123456789abcdef';

/** One argument as Redis's sdscatrepr writes it: quoted, with C escapes and \xHH for what is not printable. */
export function reprArgument(arg: Buffer): string {
  let out = '"';
  for (let i = 0; i < arg.length; i++) {
    const c = arg[i];
    if (c === 0x5c || c === 0x22) out += '\\' + String.fromCharCode(c);
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x07) out += '\\a';
    else if (c === 0x08) out += '\\b';
    else if (c >= 0x20 && c <= 0x7e) out += String.fromCharCode(c);
    else out += '\\x' + HEX[c >> 4] + HEX[c & 15];
  }
  return out + '"';
}

/** `secs.usecs` of the wall clock, as gettimeofday printed with %ld.%06ld. */
function timestamp(): string {
  const micros = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

export class Monitors {
  private readonly clients = new Set<ClientState>();

  constructor(private readonly deliver: MonitorDeliver) {}

  /** The dispatcher's one check per command: nothing else runs while this is 0. */
  get size(): number {
    return this.clients.size;
  }

  add(client: ClientState): void {
    this.clients.add(client);
    client.monitoring = true;
  }

  /** The client left MONITOR (RESET) or went away. */
  delete(client: ClientState): void {
    if (!client.monitoring) return;
    this.clients.delete(client);
    client.monitoring = false;
  }

  /** Whether monitors are shown a command: Redis hides admin commands and those flagged skip_monitor. */
  static shows(spec: CommandSpec): boolean {
    return !spec.flags.includes('admin') && !spec.flags.includes('skip_monitor');
  }

  /**
   * Whether a monitoring client is refused this command: Redis flags monitors as replicas, which may not run
   * commands that read or write keys (processCommand's "Replica can't interact with the keyspace").
   */
  static refuses(spec: CommandSpec): boolean {
    return spec.flags.includes('readonly') || spec.flags.includes('write') || spec.flags.includes('may_replicate');
  }

  /** Sends every monitor the line for `args` (already redacted), run by `client` in database `db`. */
  feed(client: ClientState, db: number, args: readonly Buffer[]): void {
    let line = `+${timestamp()} [${db} ${client.remoteAddress}]`;
    for (const arg of args) line += ' ' + reprArgument(arg);
    const bytes = Buffer.from(line + '\r\n', 'latin1');
    for (const monitor of this.clients) this.deliver(monitor, bytes);
  }
}
