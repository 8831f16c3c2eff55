// Server commands: CONFIG, COMMAND, SHUTDOWN, TIME, LASTSAVE, and the harmless FUNCTION FLUSH / SCRIPT FLUSH
// that test harnesses send between tests.

import { rdbSavesOf } from '../server/rdbSaves';
import { CommandError, Err } from '../errors';
import { OPTIONS, findOption } from '../config/options';
import { rewriteConfigFile } from '../config/configFile';
import { globMatch } from '../keyspace/glob';
import { commandDocsTree, commandInfoTree, writeTree } from './commandDocs';
import { command, type CommandContext, type CommandSpec } from './types';
import { keyArguments } from './registry';

const ADMIN_FLAGS = ['admin', 'noscript', 'loading', 'stale'] as const;
const ADMIN_ACL = ['@admin', '@slow', '@dangerous'];

function helpReply(ctx: CommandContext, lines: readonly string[]): void {
  ctx.reply.array(lines.length);
  for (const line of lines) ctx.reply.simple(line);
}

// ---- CONFIG ----

function configGet(ctx: CommandContext): void {
  const patterns = ctx.args.slice(2).map((a) => a.toString('latin1').toLowerCase());
  const pairs: [string, string][] = [];
  for (const spec of OPTIONS) {
    if (patterns.some((p) => globMatch(p, spec.name, true))) pairs.push([spec.name, ctx.server.config.get(spec.name)]);
  }
  ctx.reply.map(pairs.length);
  for (const [k, v] of pairs) {
    ctx.reply.bulk(k);
    ctx.reply.bulk(v);
  }
}

function configSet(ctx: CommandContext): void {
  const args = ctx.args.slice(2);
  if (args.length % 2 !== 0) throw new CommandError(Err.wrongArity('config|set'));
  const config = ctx.server.config;
  const seen = new Set<string>();
  // All or nothing: check every pair before applying any.
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i].toString('latin1');
    const spec = findOption(name);
    if (!spec) throw new CommandError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
    if (seen.has(spec.name))
      throw new CommandError(`ERR CONFIG SET failed (possibly related to argument '${name}') - duplicate parameter`);
    seen.add(spec.name);
    const error = config.check(spec.name, args[i + 1].toString('latin1'));
    if (error) throw new CommandError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${error}`);
  }
  for (let i = 0; i < args.length; i += 2) config.trySet(args[i].toString('latin1'), args[i + 1].toString('latin1'));
  ctx.reply.ok();
}

async function rewrite(ctx: CommandContext): Promise<void> {
  await rewriteConfigFile(ctx.server.configFile, ctx.server.config);
}

function configRewrite(ctx: CommandContext): void {
  if (!ctx.server.configFile) throw new CommandError('ERR The server is running without a config file');
  if (ctx.inTransaction) {
    // Inside EXEC (Sentinel's failover transaction) a reply cannot wait: the rewrite is started and answered
    // at once; a failure is logged as a warning instead of replied.
    rewrite(ctx).catch((err: Error) => ctx.server.log('warning', `CONFIG REWRITE inside a transaction failed: ${err.message}`));
    ctx.reply.ok();
    return;
  }
  // The rewrite happens off the event loop; the reply is sent once the file is renamed into place.
  ctx.block({
    keys: [],
    timeoutMs: 0,
    tryServe: () => false,
    onTimeout: () => undefined,
  });
  const blocked = ctx.client.blocked!;
  rewrite(ctx).then(
    () => ctx.server.blocking.resolve(blocked, (r) => r.ok()),
    (err: Error) => ctx.server.blocking.resolve(blocked, (r) => r.error(`ERR Rewriting config file: ${err.message}`)),
  );
}

const CONFIG_HELP = [
  'CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
  'HELP',
  '    Print this help.',
];

// ---- COMMAND ----

function specsNamed(ctx: CommandContext, names: Buffer[]): (CommandSpec | undefined)[] {
  return names.map((n) => {
    const name = n.toString('latin1').toLowerCase();
    const [container, sub] = name.split('|');
    const spec = ctx.server.registry.find(container);
    if (sub === undefined) return spec;
    return spec?.subcommands?.find((s) => s.name === name);
  });
}

function commandAll(ctx: CommandContext): void {
  const specs = [...ctx.server.registry.all()];
  ctx.reply.array(specs.length);
  for (const spec of specs) writeTree(ctx.reply, commandInfoTree(spec));
}

function commandInfo(ctx: CommandContext): void {
  const names = ctx.args.slice(2);
  const specs = names.length === 0 ? [...ctx.server.registry.all()] : specsNamed(ctx, names);
  ctx.reply.array(specs.length);
  for (const spec of specs) {
    if (spec) writeTree(ctx.reply, commandInfoTree(spec));
    else ctx.reply.nullBulk();
  }
}

function commandDocs(ctx: CommandContext): void {
  const names = ctx.args.slice(2);
  const specs = names.length === 0 ? [...ctx.server.registry.all()] : specsNamed(ctx, names).filter((s) => s !== undefined);
  ctx.reply.map(specs.length);
  for (const spec of specs as CommandSpec[]) {
    ctx.reply.bulk(spec.name);
    writeTree(ctx.reply, commandDocsTree(spec));
  }
}

function commandList(ctx: CommandContext): void {
  const { argv } = ctx;
  let filter: (spec: CommandSpec) => boolean = () => true;
  if (argv.hasMore()) {
    if (!argv.accept('FILTERBY') || argv.remaining !== 2) throw new CommandError(Err.syntax);
    const kind = argv.nextKeyword();
    const value = argv.nextString();
    if (kind === 'PATTERN') filter = (s) => globMatch(value, s.name, true); // nocase as Redis; lowering the pattern first would reorder ranges
    else if (kind === 'ACLCAT') filter = (s) => s.aclCategories.includes(`@${value.toLowerCase()}`);
    else if (kind === 'MODULE') filter = () => false;
    else throw new CommandError(Err.syntax);
  }
  const names: string[] = [];
  for (const spec of ctx.server.registry.all()) {
    if (filter(spec)) names.push(spec.name);
    for (const sub of spec.subcommands ?? []) if (filter(sub)) names.push(sub.name);
  }
  ctx.reply.bulkArray(names);
}

function commandGetKeys(ctx: CommandContext): void {
  const args = ctx.args.slice(2);
  let resolved;
  try {
    resolved = ctx.server.registry.resolve(args);
  } catch {
    throw new CommandError('ERR Invalid command specified');
  }
  const { spec } = resolved;
  const keys = keyArguments(spec, args);
  // XREAD/XREADGROUP have no fixed key positions (movable keys after STREAMS): their keys are found all the same,
  // as Redis's getKeysFromCommand finds them (redis-py's RedisCluster routes them by this reply).
  if (spec.firstKey === 0 && keys.length === 0) throw new CommandError('ERR The command has no key arguments');
  if (keys.length === 0) throw new CommandError(Err.getKeysInvalidArguments);
  ctx.reply.bulkArray(keys);
}

const COMMAND_HELP = [
  'COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  '(no subcommand)',
  "    Return details about all Redis commands.",
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
  'HELP',
  '    Print this help.',
];

// ---- SHUTDOWN ----

function shutdown(ctx: CommandContext): void {
  const { argv } = ctx;
  while (argv.hasMore()) {
    const option = argv.nextKeyword();
    if (option === 'ABORT') throw new CommandError('ERR No shutdown in progress.');
    if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE'].includes(option)) throw new CommandError(Err.syntax);
  }
  // Redis closes the connection without a reply when the shutdown succeeds.
  ctx.client.closing = true;
  void ctx.server.hooks.shutdown();
}

function flushContainer(name: string, summary: string, since: string): CommandSpec {
  const flush = (ctx: CommandContext): void => {
    if (ctx.args.length > 3) throw new CommandError(Err.syntax);
    if (ctx.args.length === 3) {
      const mode = ctx.args[2].toString('latin1').toUpperCase();
      if (mode !== 'ASYNC' && mode !== 'SYNC') throw new CommandError(Err.syntax);
    }
    // Spool has no scripts or functions: there is nothing to flush, and the reply is what Redis gives.
    ctx.reply.ok();
  };
  return command({
    name,
    arity: -2,
    group: 'scripting',
    aclCategories: ['@slow'],
    summary,
    since,
    subcommands: [
      command({ name: `${name}|flush`, arity: -2, flags: ['noscript', 'write'], aclCategories: ['@write', '@slow', '@scripting'], group: 'scripting', summary: name === 'function' ? 'Deleting all functions' : 'Remove all the scripts from the script cache.', since, handler: flush }),
    ],
  });
}

/** A subcommand of a server container (CONFIG, COMMAND, LATENCY, MEMORY): admin unless `admin` is false. */
export function sub(container: string, name: string, arity: number, handler: (ctx: CommandContext) => void, summary: string, since: string, admin = true): CommandSpec {
  return command({
    name: `${container}|${name}`,
    arity,
    flags: admin ? [...ADMIN_FLAGS] : ['loading', 'stale'],
    aclCategories: admin ? ADMIN_ACL : ['@slow', '@connection'],
    group: 'server',
    summary,
    since,
    handler,
  });
}

export const serverAdminCommands: CommandSpec[] = [
  command({
    name: 'config',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'server',
    summary: 'A container for server configuration commands',
    since: '2.0.0',
    subcommands: [
      sub('config', 'get', -3, configGet, 'Get the values of configuration parameters', '2.0.0'),
      sub('config', 'set', -4, configSet, 'Set configuration parameters to the given values', '2.0.0'),
      sub('config', 'resetstat', 2, (ctx) => {
        ctx.server.stats.reset();
        ctx.reply.ok();
      }, 'Reset the stats returned by INFO', '2.0.0'),
      sub('config', 'rewrite', 2, configRewrite, 'Rewrite the configuration file with the in memory configuration', '2.8.0'),
      sub('config', 'help', 2, (ctx) => helpReply(ctx, CONFIG_HELP), 'Show helpful text about the different subcommands', '5.0.0', false),
    ],
  }),
  command({
    name: 'command',
    arity: -1,
    flags: ['loading', 'stale'],
    aclCategories: ['@slow', '@connection'],
    group: 'server',
    summary: 'Get array of Redis command details',
    since: '2.8.13',
    complexity: 'O(N) where N is the total number of Redis commands',
    handler: commandAll,
    subcommands: [
      sub('command', 'count', 2, (ctx) => ctx.reply.integer(ctx.server.registry.size), 'Get total number of Redis commands', '2.8.13', false),
      sub('command', 'info', -2, commandInfo, 'Get array of specific Redis command details, or all when no argument is given.', '2.8.13', false),
      sub('command', 'docs', -2, commandDocs, 'Get array of specific Redis command documentation', '7.0.0', false),
      sub('command', 'list', -2, commandList, 'Get an array of Redis command names', '7.0.0', false),
      sub('command', 'getkeys', -3, commandGetKeys, 'Extract keys given a full Redis command', '2.8.13', false),
      sub('command', 'help', 2, (ctx) => helpReply(ctx, COMMAND_HELP), 'Show helpful text about the different subcommands', '5.0.0', false),
    ],
  }),
  command({ name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], aclCategories: ADMIN_ACL, group: 'server', summary: 'Synchronously save the dataset to disk and then shut down the server', since: '1.0.0', complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)', handler: shutdown }),
  command({ name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], aclCategories: ['@fast'], group: 'server', summary: 'Return the current server time', since: '2.6.0', complexity: 'O(1)', handler: (ctx) => {
    const micros = BigInt(ctx.now) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
    ctx.reply.array(2);
    ctx.reply.bulk(String(micros / 1000000n));
    ctx.reply.bulk(String(micros % 1000000n));
  } }),
  command({ name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], aclCategories: ['@admin', '@fast', '@dangerous'], group: 'server', summary: 'Get the UNIX time stamp of the last successful save to disk', since: '1.0.0', complexity: 'O(1)', handler: (ctx) => ctx.reply.integer(rdbSavesOf(ctx.server).lastSave) }),
  flushContainer('function', 'A container for function commands', '7.0.0'),
  flushContainer('script', 'A container for Lua scripts management commands', '2.6.0'),
];
