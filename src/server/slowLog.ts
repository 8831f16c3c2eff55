// The slow log (SLOWLOG): commands whose run took at least `slowlog-log-slower-than` microseconds, newest first,
// at most `slowlog-max-len` of them, recorded as Redis 7.0's slowlog.c records them (arguments cut to 32, each
// cut to 128 bytes, with the same "... (N more ...)" markers).

import type { ConfigStore } from '../config/configStore';

/** Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING. */
const MAX_ARGS = 32;
const MAX_ARG_BYTES = 128;

export interface SlowLogEntry {
  readonly id: number;
  /** Unix time in seconds when the command finished. */
  readonly time: number;
  /** Microseconds the command ran. */
  readonly duration: number;
  /** The arguments as Redis keeps them: copies (the request's buffers are views of the input), cut as above. */
  readonly args: readonly Buffer[];
  /** `ip:port` of the client. */
  readonly peer: string;
  readonly clientName: string;
}

/** Who ran the command: a ClientState is one. */
export interface SlowLogClient {
  readonly remoteAddress: string;
  readonly name: string;
}

/** The arguments a slow log entry keeps of `args`, as slowlogCreateEntry cuts them. */
export function slowLogArgs(args: readonly Buffer[]): Buffer[] {
  const kept = Math.min(args.length, MAX_ARGS);
  const out: Buffer[] = new Array(kept);
  for (let i = 0; i < kept; i++) {
    const arg = args[i];
    if (kept !== args.length && i === kept - 1) {
      out[i] = Buffer.from(`... (${args.length - kept + 1} more arguments)`, 'latin1');
    } else if (arg.length > MAX_ARG_BYTES) {
      out[i] = Buffer.concat([arg.subarray(0, MAX_ARG_BYTES), Buffer.from(`... (${arg.length - MAX_ARG_BYTES} more bytes)`, 'latin1')]);
    } else {
      out[i] = Buffer.from(arg);
    }
  }
  return out;
}

export class SlowLog {
  /**
   * Microseconds at or above which a command is logged; Infinity while the log is off (a negative setting), so
   * the dispatcher's one comparison per command also covers "off".
   */
  threshold: number;
  private maxLen: number;
  /** Oldest first (appending is cheap); SLOWLOG GET reads it backwards. */
  private entries: SlowLogEntry[] = [];
  private nextId = 0;

  constructor(config: ConfigStore) {
    this.threshold = thresholdOf(config.getNumber('slowlog-log-slower-than'));
    this.maxLen = config.getNumber('slowlog-max-len');
    config.onChange((name, value) => {
      if (name === 'slowlog-log-slower-than') this.threshold = thresholdOf(Number(value));
      else if (name === 'slowlog-max-len') this.maxLen = Number(value);
      else return;
      // Redis trims after every command while the log is on; the next command would, so trimming now is the same.
      if (this.threshold !== Infinity) this.trim();
    });
  }

  get length(): number {
    return this.entries.length;
  }

  /** Records a command that ran `duration` microseconds (the caller checked it against the threshold). */
  push(client: SlowLogClient, args: readonly Buffer[], duration: number, nowMs: number): void {
    this.entries.push({
      id: this.nextId++,
      time: Math.floor(nowMs / 1000),
      duration: Math.floor(duration),
      args: slowLogArgs(args),
      peer: client.remoteAddress,
      clientName: client.name,
    });
    this.trim();
  }

  /** Up to `count` entries, newest first. */
  newest(count: number): SlowLogEntry[] {
    const out: SlowLogEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < count; i--) out.push(this.entries[i]);
    return out;
  }

  /** SLOWLOG RESET: drops the entries; ids go on from where they were, as in Redis. */
  reset(): void {
    this.entries = [];
  }

  private trim(): void {
    const excess = this.entries.length - this.maxLen;
    if (excess > 0) this.entries.splice(0, excess);
  }
}

function thresholdOf(setting: number): number {
  return setting < 0 ? Infinity : setting;
}
