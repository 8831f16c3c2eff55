// The option table: every option Spool knows, with its type, default, check and whether CONFIG SET may change it.
// redis.conf files, the command line and CONFIG GET/SET all go through this table.

export type OptionType = 'string' | 'integer' | 'memory' | 'boolean' | 'enum' | 'percent';

export interface OptionSpec {
  readonly name: string;
  readonly type: OptionType;
  readonly default: string;
  /** For enums, the allowed values (lower case). */
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** False for options that only take effect at start-up (CONFIG SET refuses them, as Redis does). */
  readonly mutable: boolean;
  readonly doc: string;
}

const GB = 1024 * 1024 * 1024;

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'port', type: 'integer', default: '6379', min: 0, max: 65535, mutable: false, doc: 'TCP port to listen on (0 picks a free port, reported in the start-up line).' },
  { name: 'bind', type: 'string', default: '127.0.0.1', mutable: false, doc: 'Addresses to listen on, space separated.' },
  { name: 'dir', type: 'string', default: './data', mutable: false, doc: 'Directory for the stream logs.' },
  { name: 'appendonly', type: 'boolean', default: 'yes', mutable: true, doc: 'Always yes: every stream is a log. Accepted for compatibility.' },
  { name: 'appendfsync', type: 'enum', default: 'everysec', values: ['always', 'everysec', 'no'], mutable: true, doc: 'When appended entries are synced to disk: always, everysec or no.' },
  { name: 'databases', type: 'integer', default: '16', min: 1, max: 1024 * 1024, mutable: false, doc: 'Number of databases (SELECT 0..n-1).' },
  { name: 'requirepass', type: 'string', default: '', mutable: true, doc: 'Password clients must give with AUTH; empty: none.' },
  { name: 'protected-mode', type: 'boolean', default: 'yes', mutable: true, doc: 'Refuse non-loopback clients when no password is set.' },
  { name: 'maxclients', type: 'integer', default: '10000', min: 1, max: 2 ** 31 - 1, mutable: true, doc: 'Maximum simultaneous clients.' },
  { name: 'timeout', type: 'integer', default: '0', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'Close idle clients after this many seconds (0: never).' },
  { name: 'tcp-keepalive', type: 'integer', default: '300', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'TCP keepalive interval in seconds (0: off).' },
  { name: 'proto-max-bulk-len', type: 'memory', default: '536870912', min: 1024 * 1024, max: 2 ** 53, mutable: true, doc: 'Largest bulk string a request may carry.' },
  { name: 'client-query-buffer-limit', type: 'memory', default: String(GB), min: 1024 * 1024, max: 2 ** 53, mutable: true, doc: 'Largest unparsed input a client may have buffered.' },
  { name: 'stream-node-max-bytes', type: 'memory', default: '4096', min: 0, max: 2 ** 53, mutable: true, doc: 'Largest stream node in bytes (approximate trimming granularity, as Redis).' },
  { name: 'stream-node-max-entries', type: 'integer', default: '100', min: 0, max: 2 ** 53, mutable: true, doc: 'Most entries per stream node (approximate trimming granularity, as Redis).' },
  { name: 'loglevel', type: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], mutable: true, doc: 'Log verbosity.' },
  { name: 'logfile', type: 'string', default: '', mutable: false, doc: 'Log file path; empty: standard output.' },
  { name: 'save', type: 'string', default: '', mutable: true, doc: 'Accepted for compatibility: streams are always persisted by their logs.' },
  { name: 'maxmemory', type: 'memory', default: '0', min: 0, max: 2 ** 53, mutable: true, doc: 'Accepted for compatibility (reported by CONFIG GET).' },
  { name: 'maxmemory-policy', type: 'enum', default: 'noeviction', values: ['volatile-lru', 'allkeys-lru', 'volatile-lfu', 'allkeys-lfu', 'volatile-random', 'allkeys-random', 'volatile-ttl', 'noeviction'], mutable: true, doc: 'Accepted for compatibility: Spool never evicts.' },
  { name: 'daemonize', type: 'boolean', default: 'no', mutable: false, doc: 'Accepted for compatibility; Spool always runs in the foreground.' },
  { name: 'pidfile', type: 'string', default: '', mutable: false, doc: 'Write the process id to this file at start-up.' },
];

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

export function findOption(name: string): OptionSpec | undefined {
  return BY_NAME.get(name.toLowerCase());
}

const UNITS: Record<string, number> = {
  '': 1, b: 1, k: 1000, kb: 1024, m: 1000 ** 2, mb: 1024 ** 2, g: 1000 ** 3, gb: 1024 ** 3,
};

/** Parses a memory value with redis.conf units (1k = 1000, 1kb = 1024, case-insensitive). */
export function parseMemory(text: string): number | null {
  const m = /^(-?[0-9]+)([a-z]*)$/i.exec(text);
  if (!m) return null;
  const unit = UNITS[m[2].toLowerCase()];
  if (unit === undefined) return null;
  return Number(m[1]) * unit;
}

/** Checks and normalises a value for an option; returns the canonical text or an error message. */
export function normalizeOption(spec: OptionSpec, raw: string): { value: string } | { error: string } {
  switch (spec.type) {
    case 'string':
      return { value: raw };
    case 'boolean': {
      const v = raw.toLowerCase();
      if (v !== 'yes' && v !== 'no') return { error: 'argument must be \'yes\' or \'no\'' };
      return { value: v };
    }
    case 'enum': {
      const v = raw.toLowerCase();
      if (!spec.values!.includes(v)) return { error: 'argument(s) must be one of the following: ' + spec.values!.join(', ') };
      return { value: v };
    }
    case 'integer':
    case 'percent':
    case 'memory': {
      const n = spec.type === 'memory' ? parseMemory(raw) : /^-?[0-9]+$/.test(raw) ? Number(raw) : null;
      if (n === null || !Number.isSafeInteger(n)) return { error: 'argument couldn\'t be parsed into an integer' };
      if ((spec.min !== undefined && n < spec.min) || (spec.max !== undefined && n > spec.max))
        return { error: `argument must be between ${spec.min} and ${spec.max} inclusive` };
      return { value: String(n) };
    }
  }
}
