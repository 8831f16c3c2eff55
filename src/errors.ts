// The one catalog of error replies. Texts are Redis 7's, byte for byte: clients and test suites match on them.
// A CommandError thrown anywhere inside a command handler becomes an error reply for that command only.

export class CommandError extends Error {
  constructor(readonly reply: string) {
    super(reply);
  }
  /** The first word of the reply ("ERR", "WRONGTYPE", ...), as INFO errorstats counts it. */
  get code(): string {
    return errorCodeOf(this.reply);
  }
}

/** The first word of an error reply ("ERR", "WRONGTYPE", ...), as INFO errorstats counts it. */
export function errorCodeOf(reply: string): string {
  const space = reply.indexOf(' ');
  return space < 0 ? reply : reply.slice(0, space);
}

/** What strerror() (glibc) says for the errno codes a storage write or sync can fail with; else the code itself. */
const ERRNO_TEXTS: Record<string, string> = {
  ENOSPC: 'No space left on device',
  EIO: 'Input/output error',
  EROFS: 'Read-only file system',
  EDQUOT: 'Disk quota exceeded',
  EFBIG: 'File too large',
  EACCES: 'Permission denied',
  EPERM: 'Operation not permitted',
  EMFILE: 'Too many open files',
  ENFILE: 'Too many open files in system',
  ENOMEM: 'Cannot allocate memory',
  ENOENT: 'No such file or directory',
  EBADF: 'Bad file descriptor',
  EINVAL: 'Invalid argument',
  ENXIO: 'No such device or address',
};

export function errnoText(code: string): string {
  return ERRNO_TEXTS[code] ?? code;
}

/**
 * Renders a client-supplied argument the way Redis embeds it in error texts: printf's `%.128s`, so the text is
 * capped and stops at the first NUL byte (Redis formats arguments as C strings: `*1\r\n$3\r\n\xff\0\x01\r\n` gets
 * "unknown command '\xff'"). CR and LF are turned into spaces by ReplyWriter.error, as addReplyErrorFormat does.
 */
export function quoteArg(arg: Buffer | string, max = 128): string {
  let s = typeof arg === 'string' ? arg : arg.toString('latin1');
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  return s.length > max ? s.slice(0, max) : s;
}

export const Err = {
  unblockedByClient: 'UNBLOCKED client unblocked via CLIENT UNBLOCK',
  unblockReason: 'ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR',
  syntax: 'ERR syntax error',
  /** COMMAND GETKEYS when the arguments name no key (MIGRATE ... KEYS with a non-empty key argument). */
  getKeysInvalidArguments: 'ERR Invalid arguments specified for command',
  notInteger: 'ERR value is not an integer or out of range',
  notFloat: 'ERR value is not a valid float',
  timeoutNotInteger: 'ERR timeout is not an integer or out of range',
  timeoutNegative: 'ERR timeout is negative',
  clientPauseMode: 'ERR CLIENT PAUSE mode must be WRITE or ALL',
  wrongType: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  noSuchKey: 'ERR no such key',
  dbIndexOutOfRange: 'ERR DB index is out of range',
  invalidFirstDbIndex: 'ERR invalid first DB index',
  invalidSecondDbIndex: 'ERR invalid second DB index',
  invalidStreamId: 'ERR Invalid stream ID specified as stream command argument',
  xaddIdTooSmall: 'ERR The ID specified in XADD is equal or smaller than the target stream top item',
  xaddIdZero: 'ERR The ID specified in XADD must be greater than 0-0',
  xaddIdExhausted: 'ERR The stream has exhausted the last possible ID, unable to add more items',
  xsetidTooSmall: 'ERR The ID specified in XSETID is smaller than the target stream top item',
  xsetidEntriesAddedSmall: 'ERR The entries_added specified in XSETID is smaller than the target stream length',
  xsetidMaxDeletedSmall: 'ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id',
  xsetidEntriesAddedNegative: 'ERR entries_added must be positive',
  noGroup: (key: string, group: string) =>
    `NOGROUP No such key '${key}' or consumer group '${group}' in XREADGROUP with GROUP option`,
  noGroupGeneric: (key: string, group: string) => `NOGROUP No such key '${key}' or consumer group '${group}'`,
  busyGroup: 'BUSYGROUP Consumer Group name already exists',
  xgroupKeyMissing:
    'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.',
  /** Redis 7.0 gives XREADGROUP the same text as XREAD. */
  unbalancedXread: "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
  unbalancedXreadgroup: "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.",
  xreadDollarInGroup:
    'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
  xreadGreaterOutsideGroup:
    'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.',
  noAuth: 'NOAUTH Authentication required.',
  wrongPass: 'WRONGPASS invalid username-password pair or user is disabled.',
  authNotConfigured:
    'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
  multiNested: 'ERR MULTI calls can not be nested',
  execWithoutMulti: 'ERR EXEC without MULTI',
  discardWithoutMulti: 'ERR DISCARD without MULTI',
  watchInMulti: 'ERR WATCH inside MULTI is not allowed',
  execAbort: 'EXECABORT Transaction discarded because of previous errors.',
  unknownCommand: (name: Buffer | string, args: Buffer[]) => {
    // As processCommand: each argument quoted, stopping once the list reaches 128 characters.
    let list = '';
    for (const a of args) {
      if (list.length >= 128) break;
      list += `'${quoteArg(a, 128 - list.length)}' `;
    }
    return `ERR unknown command '${quoteArg(name)}', with args beginning with: ${list}`;
  },
  wrongArity: (name: string) => `ERR wrong number of arguments for '${name}' command`,
  unknownSubcommand: (sub: Buffer | string, container: string) =>
    `ERR unknown subcommand '${quoteArg(sub)}'. Try ${container.toUpperCase()} HELP.`,
  /** The reply of a container's own handler (e.g. XINFO) for a subcommand it does not know. */
  unknownSubcommandOrArity: (sub: Buffer | string, container: string) =>
    `ERR unknown subcommand or wrong number of arguments for '${quoteArg(sub)}'. Try ${container.toUpperCase()} HELP.`,
  sameKeyRename: 'ERR source and destination objects are the same',
  /** SLOWLOG GET's count (getRangeLongFromObjectOrReply with this message, also for a count that is no integer). */
  slowlogCount: 'ERR count should be greater than or equal to -1',
  /** MONITOR inside EXEC (a client that expects one reply per command, CLIENT_DENY_BLOCKING in Redis). */
  monitorDenyBlocking: "ERR MONITOR isn't allowed for DENY BLOCKING client",
  /** A MONITOR client (a replica to Redis) sending a command that reads or writes keys. */
  replicaKeyspace: "ERR Replica can't interact with the keyspace",
  /** A RESP2 client in subscribed mode sending anything else (processCommand's Pub/Sub context check). */
  subscribedContext: (command: string) =>
    `ERR Can't execute '${command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
  /** SSUBSCRIBE inside EXEC (a client that expects one reply per command, CLIENT_DENY_BLOCKING in Redis). */
  ssubscribeDenyBlocking: "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
  protoVersion: 'NOPROTO unsupported protocol version',
  /** Writes refused after a storage write or sync error: Redis's AOF text with strerror() of the errno code. */
  misconf: (code: string) => `MISCONF Errors writing to the AOF file: ${errnoText(code)}`,
  /** Spool only: a stream segment closed by the LRU could not be opened again (EMFILE...): retry later. */
  segmentUnavailable: 'ERR stream data is not available right now (a segment file could not be opened: check open files limits), retry',
  /** Spool only (BACKUP): the target directory exists and holds files. */
  backupNotEmpty: (dir: string) => `ERR backup directory '${dir}' exists and is not empty`,
  /** Spool only (BACKUP): the target would be scanned as part of the data directory. */
  backupInsideData: (dir: string) => `ERR backup directory '${dir}' is inside the data directory`,
  /** Spool only (BACKUP): the target cannot be made or written (the call, its path and strerror's words). */
  backupFailed: (why: string) => `ERR BACKUP failed: ${why}`,
  backupRunning: 'ERR a BACKUP is already in progress',
  backupNoData: 'ERR BACKUP needs a data directory (this server keeps nothing on disk)',
  backupInMulti: 'ERR BACKUP is not allowed inside MULTI',
  maxClients: 'ERR max number of clients reached',
  protectedMode:
    "DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.",
  // Replication (src/server/replication/, src/commands/replication.ts), as Redis 7.0's replication.c.
  readonlyReplica: "READONLY You can't write against a read only replica.",
  noReplicas: 'NOREPLICAS Not enough good replicas to write.',
  noMasterLink: "NOMASTERLINK Can't SYNC while not connected with my master",
  invalidMasterPort: 'ERR Invalid master port',
  waitOnReplica:
    'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
  replconfUnrecognized: (option: string) => `ERR Unrecognized REPLCONF option: ${option}`,
} as const;

// Texts specific to the stream commands, grouped by family (checked against redis-server 7.0.15).

export const StreamErr = {
  elementsTooLarge: 'ERR Elements are too large to be stored',
} as const;

export const WriteErr = {
  limitWithoutStrategy: 'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy',
  limitWithoutApprox: 'ERR syntax error, LIMIT cannot be used without the special ~ option',
  maxlenAndMinid: 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible',
  xtrimNoStrategy: 'ERR syntax error, XTRIM must be called with a trimming strategy',
  maxlenNegative: 'ERR The MAXLEN argument must be >= 0.',
  limitNegative: 'ERR The LIMIT argument must be >= 0.',
} as const;

/** Redis 8.2's XDELEX / XACKDEL (the IDS block), as its test suite (tests/unit/type/stream*.tcl) asserts them. */
export const DeleteErr = {
  numIds: 'ERR Number of IDs must be a positive integer',
  numIdsMismatch: 'ERR The `numids` parameter must match the number of arguments',
} as const;

/**
 * Redis 8.8's XNACK. redis.io's XNACK page documents no error texts; these are the ones two independent
 * reimplementations of 8.8 agree on. Replace them with Redis's own once a Redis 8.8 is at hand.
 */
export const NackErr = {
  mode: 'ERR mode must be SILENT, FAIL, or FATAL',
  numIds: 'ERR numids must be a positive integer',
  numIdsMismatch: "ERR number of IDs doesn't match numids",
  retryCount: 'ERR Invalid RETRYCOUNT value, must be >= 0',
  unknownOption: (opt: Buffer) => `ERR Unrecognized XNACK option '${quoteArg(opt)}'`,
  missingIds: 'ERR syntax error, expected IDS keyword',
} as const;

/** Idempotent XADD and its settings (Redis 8.6), as redis.io and Redis's test suite (stream.tcl) give them. */
export const IdmpErr = {
  twice: 'ERR IDMP/IDMPAUTO specified multiple times',
  autoIdOnly: 'ERR IDMP/IDMPAUTO can be used only with auto-generated IDs',
  emptyPid: 'ERR IDMP requires a non-empty producer ID',
  emptyIid: 'ERR IDMP requires a non-empty idempotent ID',
  emptyAutoPid: 'ERR IDMPAUTO requires a non-empty producer ID',
  /** XCFGSET IDMP-DURATION / IDMP-MAXSIZE out of range: the texts redis.io's XCFGSET page lists. */
  duration: 'ERR invalid duration',
  maxsize: 'ERR invalid maxsize',
  /** XIDMPRECORD (internal, Redis 8.8): redis.io lists the cases, not the texts; these are Spool's. */
  recordNoEntry: 'ERR The stream ID does not refer to an existing entry',
  recordConflict: 'ERR The producer ID and idempotent ID already map to a different stream ID',
} as const;

/** XCFGSET (Spool's per-stream settings): worded like CONFIG SET's errors. */
export const CfgErr = {
  unknownOption: (name: string) => `ERR Unknown option or number of arguments for XCFGSET - '${quoteArg(name)}'`,
  failed: (arg: string, reason: string) => `ERR XCFGSET failed (possibly related to argument '${quoteArg(arg)}') - ${reason}`,
  duplicate: 'duplicate parameter',
  fsyncValues: 'argument(s) must be one of the following: always, everysec, no, default',
  notInteger: "argument couldn't be parsed into an integer",
  range: (max: number) => `argument must be between 0 and ${max} inclusive`,
} as const;

export const ReadErr = {
  invalidStartInterval: 'ERR invalid start ID for the interval',
  invalidEndInterval: 'ERR invalid end ID for the interval',
  groupOnlyInXreadgroup: 'ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.',
  noackOnlyInXreadgroup: 'ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.',
  unbalanced: Err.unbalancedXread,
} as const;

export const GroupErr = {
  noGroupForKey: (group: string, key: string) => `NOGROUP No such consumer group '${group}' for key name '${key}'`,
  entriesReadRange: 'ERR value for ENTRIESREAD must be positive or -1',
  missingGroupOption: 'ERR Missing GROUP option for XREADGROUP',
  blockedKeyDeleted: 'UNBLOCKED the stream key no longer exists',
  blockedGroupDestroyed: 'NOGROUP the consumer group this client was blocked on no longer exists',
  invalidStartInterval: 'ERR invalid start ID for the interval',
  invalidEndInterval: 'ERR invalid end ID for the interval',
  countPositive: 'ERR COUNT must be > 0',
  xclaimMinIdle: 'ERR Invalid min-idle-time argument for XCLAIM',
  xautoclaimMinIdle: 'ERR Invalid min-idle-time argument for XAUTOCLAIM',
  xclaimOption: (name: string) => `ERR Invalid ${name} option argument for XCLAIM`,
  xclaimUnrecognized: (opt: string) => `ERR Unrecognized XCLAIM option '${opt}'`,
  /** XREADGROUP CLAIM (Redis 8.4), as Redis's test suite asserts them. */
  claimNotInteger: 'ERR min-idle-time is not an integer',
  claimNegative: 'ERR min-idle-time must be a positive integer',
} as const;

/** Redis Cluster (cluster.c, Redis 7.0.15): redirections and CLUSTER subcommand errors. */
export const ClusterErr = {
  disabled: 'ERR This instance has cluster support disabled',
  crossSlot: "CROSSSLOT Keys in request don't hash to the same slot",
  tryAgain: 'TRYAGAIN Multiple keys request during rehashing of slot',
  down: 'CLUSTERDOWN The cluster is down',
  downReadOnly: 'CLUSTERDOWN The cluster is down and only accepts read commands',
  unbound: 'CLUSTERDOWN Hash slot not served',
  moved: (slot: number, host: string, port: number) => `MOVED ${slot} ${host}:${port}`,
  ask: (slot: number, host: string, port: number) => `ASK ${slot} ${host}:${port}`,
  select: 'ERR SELECT is not allowed in cluster mode',
  swapdb: 'ERR SWAPDB is not allowed in cluster mode',
  slotRange: 'ERR Invalid or out of range slot',
  slot: 'ERR Invalid slot',
  slotOrCount: 'ERR Invalid slot or number of keys',
  slotBusy: (slot: number) => `ERR Slot ${slot} is already busy`,
  slotUnassigned: (slot: number) => `ERR Slot ${slot} is already unassigned`,
  slotTwice: (slot: number) => `ERR Slot ${slot} specified multiple times`,
  rangeBackwards: (start: number, end: number) => `ERR start slot number ${start} is greater than end slot number ${end}`,
  setslotSyntax: 'ERR Invalid CLUSTER SETSLOT action or number of arguments. Try CLUSTER HELP',
  notOwner: (slot: number) => `ERR I'm not the owner of hash slot ${slot}`,
  alreadyOwner: (slot: number) => `ERR I'm already the owner of hash slot ${slot}`,
  dontKnowNode: (id: string) => `ERR I don't know about node ${quoteArg(id)}`,
  unknownNode: (id: string) => `ERR Unknown node ${quoteArg(id)}`,
  targetNotMaster: 'ERR Target node is not a master',
  stillHoldsKeys: (slot: number) => `ERR Can't assign hashslot ${slot} to a different node while I still hold keys for this hash slot.`,
  badPort: (arg: string) => `ERR Invalid TCP base port specified: ${quoteArg(arg)}`,
  badBusPort: (arg: string) => `ERR Invalid TCP bus port specified: ${quoteArg(arg)}`,
  badAddress: (ip: string, port: string) => `ERR Invalid node address specified: ${quoteArg(ip)}:${quoteArg(port)}`,
  flushslotsNotEmpty: 'ERR DB must be empty to perform CLUSTER FLUSHSLOTS.',
  resetWithKeys: "ERR CLUSTER RESET can't be called with master nodes containing keys",
  forgetMyself: "ERR I tried hard but I can't forget myself...",
  notAMaster: 'ERR The specified node is not a master',
  failoverOnMaster: 'ERR You should send CLUSTER FAILOVER to a replica',
  saveConfig: (reason: string) => `ERR error saving the cluster node config: ${reason}`,
  badEpoch: (arg: string) => `ERR Invalid config epoch specified: ${quoteArg(arg)}`,
  epochWithOthers: 'ERR The user can assign a config epoch only when the node does not know any other node.',
  epochNonZero: 'ERR Node config epoch is already non-zero',
  replicaofInCluster: 'ERR REPLICAOF not allowed in cluster mode.',
  replicateMyself: "ERR Can't replicate myself",
  replicateReplica: 'ERR I can only replicate a master, not a replica.',
  replicateNotEmpty: 'ERR To set a master the node must be empty and without assigned slots.',
  setslotOnReplica: 'ERR Please use SETSLOT only with masters.',
  forgetMyMaster: "ERR Can't forget my master!",
} as const;

/** DUMP, RESTORE, MIGRATE, SAVE/BGSAVE, SYNC (texts of Redis 7.0's cluster.c, rdb.c and replication.c). */
export const RdbErr = {
  busyKey: 'BUSYKEY Target key name already exists.',
  badTtl: 'ERR Invalid TTL value, must be >= 0',
  badIdletime: 'ERR Invalid IDLETIME value, must be >= 0',
  badFreq: 'ERR Invalid FREQ value, must be >= 0 and <= 255',
  payloadVersionOrChecksum: 'ERR DUMP payload version or checksum are wrong',
  badDataFormat: 'ERR Bad data format',
  /** Spool only: a valid payload of a type Spool does not store. */
  notAStream: (type: string) => `ERR Bad data format: the DUMP payload holds a ${type}, and Spool stores streams only`,
  migrateKeysNeedEmptyKey: 'ERR When using MIGRATE KEYS option, the key argument must be set to the empty string',
  migrateConnect: 'IOERR error or timeout connecting to the client',
  migrateIo: (writing: boolean) => `IOERR error or timeout ${writing ? 'writing' : 'reading'} to target instance`,
  migrateTarget: (text: string) => `ERR Target instance replied with error: ${text}`,
  bgsaveInProgress: 'ERR Background save already in progress',
  notInTransaction: 'ERR Command not allowed inside a transaction',
} as const;
