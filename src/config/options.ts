// The option table: every option Spool knows, with its type, default, check and whether CONFIG SET may change it.
// redis.conf files, the command line and CONFIG GET/SET all go through this table.

export type OptionType = 'string' | 'integer' | 'memory' | 'boolean' | 'enum' | 'percent' | 'buffer-limits';

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
  /** More checks of a string option's value: an error message, or null when valid. */
  readonly validate?: (raw: string) => string | null;
}

const GB = 1024 * 1024 * 1024;

export const OPTIONS: readonly OptionSpec[] = [
  { name: 'port', type: 'integer', default: '6379', min: 0, max: 65535, mutable: false, doc: 'TCP port to listen on (0 picks a free port, reported in the start-up line).' },
  { name: 'bind', type: 'string', default: '127.0.0.1', mutable: false, doc: 'Addresses to listen on, space separated.' },
  { name: 'dir', type: 'string', default: './data', mutable: false, doc: 'Directory for the stream logs.' },
  { name: 'dbfilename', type: 'string', default: 'dump.rdb', mutable: true, doc: 'File (in `dir`) that SAVE and BGSAVE write an RDB snapshot of every stream to, as Redis does; Spool never reads it at start-up (the stream logs are its data).', validate: (v) => (v.includes('/') ? "dbfilename can't be a path, just a filename" : null) },
  { name: 'appendonly', type: 'boolean', default: 'yes', mutable: true, doc: 'Always yes: every stream is a log. Accepted for compatibility.' },
  { name: 'appendfsync', type: 'enum', default: 'everysec', values: ['everysec', 'always', 'no'], mutable: true, doc: 'When appended entries are synced to disk: always, everysec or no.' },
  { name: 'databases', type: 'integer', default: '16', min: 1, max: 1024 * 1024, mutable: false, doc: 'Number of databases (SELECT 0..n-1).' },
  { name: 'requirepass', type: 'string', default: '', mutable: true, doc: 'Password clients must give with AUTH; empty: none.' },
  { name: 'protected-mode', type: 'boolean', default: 'yes', mutable: true, doc: 'Refuse non-loopback clients when no password is set.' },
  { name: 'maxclients', type: 'integer', default: '10000', min: 1, max: 2 ** 31 - 1, mutable: true, doc: 'Maximum simultaneous clients.' },
  { name: 'io-threads', type: 'integer', default: '2', min: 1, max: 128, mutable: false, doc: 'Threads writing replies, the main one included, as Redis\'s io-threads (1: the main thread alone). When one step produces replies for many clients at once (readers woken by one XADD, replies released by one fsync), the others take a share of the socket writes.' },
  { name: 'timeout', type: 'integer', default: '0', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'Close idle clients after this many seconds (0: never).' },
  { name: 'tcp-keepalive', type: 'integer', default: '300', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'TCP keepalive interval in seconds (0: off).' },
  { name: 'proto-max-bulk-len', type: 'memory', default: '536870912', min: 1024 * 1024, max: 2 ** 53, mutable: true, doc: 'Largest bulk string a request may carry.' },
  { name: 'client-output-buffer-limit', type: 'buffer-limits', default: 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', mutable: true, doc: 'Per client class `<class> <hard> <soft> <soft-seconds>`: a client whose pending replies reach <hard> bytes, or stay above <soft> for <soft-seconds>, is disconnected (0: no limit). Spool enforces class normal, and class pubsub for a client subscribed to any channel, pattern or shard channel; replica is accepted for redis.conf compatibility.' },
  { name: 'client-query-buffer-limit', type: 'memory', default: String(GB), min: 1024 * 1024, max: 2 ** 53, mutable: true, doc: 'Largest unparsed input a client may have buffered.' },
  { name: 'stream-node-max-bytes', type: 'memory', default: '4096', min: 0, max: 2 ** 53, mutable: true, doc: 'Largest stream node in bytes (approximate trimming granularity, as Redis).' },
  { name: 'stream-node-max-entries', type: 'integer', default: '100', min: 0, max: 2 ** 53, mutable: true, doc: 'Most entries per stream node (approximate trimming granularity, as Redis).' },
  { name: 'stream-maxage', type: 'integer', default: '0', min: 0, max: 2 ** 53 - 1, mutable: true, doc: 'Retention by age for streams without their own maxage (XCFGSET): entries whose ID time is more than this many milliseconds old are trimmed (0: off).' },
  { name: 'stream-maxbytes', type: 'memory', default: '0', min: 0, max: 2 ** 53 - 1, mutable: true, doc: 'Retention by size for streams without their own maxbytes (XCFGSET): the oldest entries are trimmed while the field and value bytes of a stream\'s entries exceed this (0: off).' },
  { name: 'stream-idmp-duration', type: 'integer', default: '100', min: 1, max: 86400, mutable: true, doc: 'IDMP-DURATION of streams without their own (XCFGSET): seconds an idempotent ID of XADD IDMP/IDMPAUTO is remembered (Redis 8.6).' },
  { name: 'stream-idmp-maxsize', type: 'integer', default: '100', min: 1, max: 10000, mutable: true, doc: 'IDMP-MAXSIZE of streams without their own (XCFGSET): most idempotent IDs remembered per producer (Redis 8.6).' },
  { name: 'segment-initial-size', type: 'memory', default: '64kb', min: 64 * 1024, max: 2 ** 40, mutable: false, doc: 'Size of a stream\'s first segment file (small, so thousands of small streams reserve little); segments double from there up to segment-max-size.' },
  { name: 'segment-max-size', type: 'memory', default: '64mb', min: 64 * 1024, max: 2 ** 40, mutable: false, doc: 'Largest segment file: a stream rolls over to a new segment beyond it.' },
  { name: 'commit-journal-size', type: 'memory', default: '64mb', min: 64 * 1024, max: 2 ** 40, mutable: false, doc: 'Size of each commit journal file (appendfsync always and everysec: the bytes of every stream a batch wrote go to this journal in one write, synced per commit under always and once a second under everysec; segments are synced behind it when a file fills, then the file is reused). Two files of this size exist once a write used it; 4 times this size must be free to create them, else segments are synced directly.' },
  { name: 'open-segments-limit', type: 'integer', default: '0', min: 0, max: 2 ** 31 - 1, mutable: false, doc: 'Most segment files kept open and mapped at once; least recently used ones are closed beyond it and mapped again when read. 0: derived from the open files limit (ulimit -n) minus maxclients and a reserve.' },
  { name: 'latency-monitor-threshold', type: 'integer', default: '0', min: 0, max: 2 ** 53, mutable: true, doc: 'Latency monitor (LATENCY LATEST/HISTORY/RESET): events that took at least this many milliseconds are recorded, as Redis\'s (0: off). Events: `command` and `fast-command` (a command\'s run), `aof-fsync-always` (a commit\'s fdatasync under always), `aof-write` (a commit waiting for staged records to reach their segment), `retention-cycle` (one retention check of every stream).' },
  { name: 'loglevel', type: 'enum', default: 'notice', values: ['debug', 'verbose', 'notice', 'warning', 'nothing'], mutable: true, doc: 'Log verbosity.' },
  { name: 'logfile', type: 'string', default: '', mutable: false, doc: 'Log file path; empty: standard output.' },
  { name: 'save', type: 'string', default: '', mutable: true, doc: 'Accepted for compatibility: streams are always persisted by their logs.' },
  { name: 'maxmemory', type: 'memory', default: '0', min: 0, max: 2 ** 53, mutable: true, doc: 'Accepted for compatibility (reported by CONFIG GET).' },
  { name: 'maxmemory-policy', type: 'enum', default: 'noeviction', values: ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'], mutable: true, doc: 'Accepted for compatibility: Spool never evicts.' },
  { name: 'daemonize', type: 'boolean', default: 'no', mutable: false, doc: 'Accepted for compatibility; Spool always runs in the foreground.' },
  { name: 'pidfile', type: 'string', default: '', mutable: false, doc: 'Write the process id to this file at start-up.' },
  // Cluster mode (src/cluster/): Redis Cluster's client protocol over a declared topology.
  { name: 'cluster-enabled', type: 'boolean', default: 'no', mutable: false, doc: 'Run as a Redis Cluster node: keys hash to 16384 slots, commands on slots other nodes serve get -MOVED/-ASK redirections, CLUSTER commands answer from the topology in cluster-config-file. Only database 0. Needs a fixed port.' },
  { name: 'cluster-config-file', type: 'string', default: 'nodes.conf', mutable: false, doc: 'The cluster topology, in Redis\'s nodes.conf line format (one line per node: ID, host:port@cport, flags, master, ping, pong, config epoch, link state, slot ranges; last line `vars currentEpoch N lastVoteEpoch M`), relative to `dir`. Declared, not gossiped: give every node the same content. This node is the line flagged `myself` at its port, else the line with its port at cluster-announce-ip or at an address (or host name) of this machine. Created (this node alone, no slots) when missing; rewritten after CLUSTER commands change the topology.' },
  { name: 'cluster-require-full-coverage', type: 'boolean', default: 'yes', mutable: true, doc: 'Cluster mode: while any slot has no owner the cluster is down (CLUSTER INFO cluster_state:fail) and every key command gets -CLUSTERDOWN; no: keys of assigned slots are served anyway.' },
  { name: 'cluster-allow-reads-when-down', type: 'boolean', default: 'no', mutable: true, doc: 'Cluster mode: while the cluster is down, commands that do not write are still served (writes get -CLUSTERDOWN ... only accepts read commands).' },
  { name: 'cluster-announce-ip', type: 'string', default: '', mutable: false, doc: 'The address this node has in the topology (picks its line in cluster-config-file when several nodes share a host); empty: found from the machine\'s addresses and host name.' },
  // Debugging (SLOWLOG: src/server/slowLog.ts).
  { name: 'slowlog-log-slower-than', type: 'integer', default: '10000', min: -1, max: 2 ** 53, mutable: true, doc: 'Commands that run at least this many microseconds are recorded in the slow log (SLOWLOG GET); 0 records every command, a negative value none.' },
  { name: 'slowlog-max-len', type: 'integer', default: '128', min: 0, max: 2 ** 53, mutable: true, doc: 'Most entries the slow log keeps; the oldest go first.' },
  // Operations (metrics endpoint and TLS listener: src/metrics/, src/server/tlsListener.ts).
  { name: 'metrics-port', type: 'integer', default: '0', min: 0, max: 65535, mutable: false, doc: 'HTTP port serving Prometheus metrics at /metrics, on the `bind` addresses (0: disabled). Unauthenticated: keep it on a private address.' },
  { name: 'metrics-max-streams', type: 'integer', default: '1000', min: 0, max: 1000000, mutable: true, doc: 'Most streams given per-stream and per-group metric series (the first ones by database, then key); the rest are left out and counted in spool_streams_unlabelled. Bounds the size of a scrape.' },
  { name: 'tls-port', type: 'integer', default: '0', min: 0, max: 65535, mutable: false, doc: 'TLS port (0: no TLS listener), on the `bind` addresses. Needs tls-cert-file and tls-key-file.' },
  { name: 'tls-cert-file', type: 'string', default: '', mutable: false, doc: 'Server certificate (PEM) for the TLS port.' },
  { name: 'tls-key-file', type: 'string', default: '', mutable: false, doc: 'Private key (PEM) of tls-cert-file.' },
  { name: 'tls-ca-cert-file', type: 'string', default: '', mutable: false, doc: 'CA certificates (PEM) client certificates are checked against.' },
  { name: 'tls-auth-clients', type: 'enum', default: 'yes', values: ['yes', 'no', 'optional'], mutable: false, doc: 'Client certificates on the TLS port: yes (required), optional (checked when given) or no (not asked for), as Redis.' },
  // Replication (src/server/replication/): REPLICAOF, PSYNC, WAIT, as Redis's.
  { name: 'replicaof', type: 'string', default: '', mutable: false, doc: 'At start-up, `<host> <port>`: replicate that master (Spool or redis-server), as REPLICAOF. Empty: a master. REPLICAOF changes it (CONFIG REWRITE saves it); alias `slaveof`. Not allowed in cluster mode, where a replica\'s master is named by its `slave <master-id>` line in cluster-config-file.' },
  { name: 'masterauth', type: 'string', default: '', mutable: true, doc: 'Password a replica gives its master with AUTH (empty: none).' },
  { name: 'masteruser', type: 'string', default: '', mutable: true, doc: 'User name a replica gives with AUTH <user> <password> (empty: AUTH <password> alone).' },
  { name: 'replica-read-only', type: 'boolean', default: 'yes', mutable: true, doc: 'A replica refuses writes from its own clients (READONLY error); alias `slave-read-only`.' },
  { name: 'repl-backlog-size', type: 'memory', default: '1mb', min: 16 * 1024, max: 2 ** 40, mutable: true, doc: 'Bytes of the replication stream kept for replicas that reconnect (partial resynchronization, PSYNC).' },
  { name: 'repl-ping-replica-period', type: 'integer', default: '10', min: 1, max: 2 ** 31 - 1, mutable: true, doc: 'Seconds between the PINGs a master sends its replicas.' },
  { name: 'repl-timeout', type: 'integer', default: '60', min: 1, max: 2 ** 31 - 1, mutable: true, doc: 'Seconds without data after which a replica drops its master link (and reconnects), or a master a silent replica.' },
  { name: 'min-replicas-to-write', type: 'integer', default: '0', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'A master refuses writes (NOREPLICAS) unless at least this many replicas acknowledged within min-replicas-max-lag seconds (0: off).' },
  { name: 'min-replicas-max-lag', type: 'integer', default: '10', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'Seconds since its last acknowledgement within which a replica counts for min-replicas-to-write.' },
  { name: 'replica-priority', type: 'integer', default: '100', min: 0, max: 2 ** 31 - 1, mutable: true, doc: 'Reported to Sentinel (INFO slave_priority): lower is preferred for promotion, 0 never promoted.' },
  { name: 'replica-announced', type: 'boolean', default: 'yes', mutable: true, doc: 'Reported to Sentinel (INFO replica_announced): no hides this replica from Sentinel\'s replies.' },
];

const BY_NAME = new Map(OPTIONS.map((o) => [o.name, o]));

/** Redis's old names of options (redis.conf files and CONFIG GET/SET accept both). */
const ALIASES = new Map([
  ['slaveof', 'replicaof'],
  ['slave-read-only', 'replica-read-only'],
  ['slave-priority', 'replica-priority'],
  ['repl-ping-slave-period', 'repl-ping-replica-period'],
  ['min-slaves-to-write', 'min-replicas-to-write'],
  ['min-slaves-max-lag', 'min-replicas-max-lag'],
]);

export function findOption(name: string): OptionSpec | undefined {
  const lower = name.toLowerCase();
  return BY_NAME.get(ALIASES.get(lower) ?? lower);
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

/** One client class's output buffer limits (bytes, bytes, seconds; 0 = no limit), as Redis's clientBufferLimitsConfig. */
export interface BufferLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

export interface BufferLimits {
  normal: BufferLimit;
  slave: BufferLimit;
  pubsub: BufferLimit;
}

const BUFFER_CLASSES: Record<string, keyof BufferLimits> = { normal: 'normal', slave: 'slave', replica: 'slave', pubsub: 'pubsub' };

function parseLimitNumber(text: string): number | null {
  // Redis reads each of the three numbers with memtoull: units allowed, no sign, must fit.
  if (!/^[0-9]/.test(text)) return null;
  const n = parseMemory(text);
  return n === null || !Number.isSafeInteger(n) ? null : n;
}

/**
 * Parses `client-output-buffer-limit` the way Redis's config.c does: groups of `<class> <hard> <soft> <seconds>`
 * (class normal, slave/replica or pubsub, case-insensitive), applied over `base`; the whole text is refused when
 * any group is bad. Error texts are Redis's (CONFIG SET prefixes them with "CONFIG SET failed ...").
 */
export function parseBufferLimits(raw: string, base: BufferLimits): { limits: BufferLimits } | { error: string } {
  const words = raw.split(/\s+/).filter(Boolean);
  if (words.length % 4 !== 0) return { error: 'Wrong number of arguments in buffer limit configuration.' };
  const limits: BufferLimits = { normal: { ...base.normal }, slave: { ...base.slave }, pubsub: { ...base.pubsub } };
  for (let i = 0; i < words.length; i += 4) {
    if (BUFFER_CLASSES[words[i].toLowerCase()] === undefined)
      return { error: 'Invalid client class specified in buffer limit configuration.' };
    for (let j = 1; j <= 3; j++)
      if (parseLimitNumber(words[i + j]) === null)
        return { error: 'Error in hard, soft or soft_seconds setting in buffer limit configuration.' };
  }
  for (let i = 0; i < words.length; i += 4) {
    limits[BUFFER_CLASSES[words[i].toLowerCase()]] = {
      hard: parseLimitNumber(words[i + 1])!,
      soft: parseLimitNumber(words[i + 2])!,
      // Redis takes the seconds with strtoll, i.e. the leading digits.
      softSeconds: parseInt(words[i + 3], 10),
    };
  }
  return { limits };
}

export function formatBufferLimits(l: BufferLimits): string {
  const f = (name: string, c: BufferLimit) => `${name} ${c.hard} ${c.soft} ${c.softSeconds}`;
  return `${f('normal', l.normal)} ${f('slave', l.slave)} ${f('pubsub', l.pubsub)}`;
}

const NO_LIMITS: BufferLimits = {
  normal: { hard: 0, soft: 0, softSeconds: 0 },
  slave: { hard: 0, soft: 0, softSeconds: 0 },
  pubsub: { hard: 0, soft: 0, softSeconds: 0 },
};

let memoText = '';
let memoLimits: BufferLimits = NO_LIMITS;

/** The limits in a normalised `client-output-buffer-limit` value (memoised: connections read it per reply). */
export function bufferLimitsOf(value: string): BufferLimits {
  if (value !== memoText) {
    const parsed = parseBufferLimits(value, NO_LIMITS);
    memoLimits = 'limits' in parsed ? parsed.limits : NO_LIMITS;
    memoText = value;
  }
  return memoLimits;
}

/** Bounds at JS's exact-integer limit stand for Redis's LLONG_MAX, which is what Redis prints. */
function boundText(n: number): string {
  return n >= 2 ** 53 ? '9223372036854775807' : String(n);
}

/**
 * Checks and normalises a value for an option; returns the canonical text or an error message. `current` is
 * the option's value now, for options whose new value merges into the old one (client-output-buffer-limit:
 * `CONFIG SET client-output-buffer-limit "normal 1mb 0 0"` leaves the other classes as they are); without it
 * the default is the base.
 */
export function normalizeOption(spec: OptionSpec, raw: string, current?: string): { value: string } | { error: string } {
  switch (spec.type) {
    case 'buffer-limits': {
      const base = bufferLimitsOf(current ?? spec.default);
      const result = parseBufferLimits(raw, base);
      return 'error' in result ? result : { value: formatBufferLimits(result.limits) };
    }
    case 'string': {
      const error = spec.validate?.(raw) ?? null;
      return error === null ? { value: raw } : { error };
    }
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
        return { error: `argument must be between ${spec.min} and ${boundText(spec.max!)} inclusive` };
      return { value: String(n) };
    }
  }
}
