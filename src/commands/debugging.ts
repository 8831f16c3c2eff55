// Debugging commands users reach for: SLOWLOG (src/server/slowLog.ts) and MONITOR (src/server/monitors.ts),
// with Redis 7.0's replies.

import { CommandError, Err } from '../errors';
import { command, type CommandContext, type CommandSpec } from './types';

const ADMIN_FLAGS = ['admin', 'loading', 'stale'] as const;
const ADMIN_ACL = ['@admin', '@slow', '@dangerous'];

/** Entries SLOWLOG GET returns without a count (Redis's default). */
const SLOWLOG_GET_DEFAULT = 10;

function slowlogGet(ctx: CommandContext): void {
  const { argv } = ctx;
  const log = ctx.server.slowLog;
  // Arity -2 admits any number of arguments; slowlogCommand accepts GET with at most a count.
  if (argv.remaining > 1) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'slowlog'));
  let count = SLOWLOG_GET_DEFAULT;
  if (argv.hasMore()) {
    count = argv.intAtLeast(-1, Err.slowlogCount, Err.slowlogCount);
    if (count === -1) count = log.length; // -1: the whole log
  }
  const entries = log.newest(count);
  const reply = ctx.reply;
  reply.array(entries.length);
  for (const e of entries) {
    reply.array(6);
    reply.integer(e.id);
    reply.integer(e.time);
    reply.integer(e.duration);
    reply.array(e.args.length);
    for (const arg of e.args) reply.bulk(arg);
    reply.bulk(e.peer);
    reply.bulk(e.clientName);
  }
}

const SLOWLOG_HELP = [
  'SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
  'HELP',
  '    Prints this help.',
];

function slowlogSub(name: string, arity: number, summary: string, complexity: string, handler: (ctx: CommandContext) => void, admin = true): CommandSpec {
  return command({
    name: `slowlog|${name}`,
    arity,
    flags: admin ? [...ADMIN_FLAGS] : ['loading', 'stale'],
    aclCategories: admin ? ADMIN_ACL : ['@slow'],
    group: 'server',
    summary,
    since: name === 'help' ? '6.2.0' : '2.2.12',
    complexity,
    handler,
  });
}

/**
 * MONITOR as monitorCommand: refused inside EXEC (a client there expects one reply per command); a client that
 * already monitors gets no reply at all.
 */
function monitor(ctx: CommandContext): void {
  if (ctx.inTransaction) throw new CommandError(Err.monitorDenyBlocking);
  if (ctx.client.monitoring) return;
  ctx.server.monitors.add(ctx.client);
  ctx.reply.ok();
}

export const debuggingCommands: CommandSpec[] = [
  command({
    name: 'monitor',
    arity: 1,
    flags: ['admin', 'noscript', 'loading', 'stale'],
    aclCategories: ADMIN_ACL,
    group: 'server',
    summary: 'Listen for all requests received by the server in real time',
    since: '1.0.0',
    handler: monitor,
  }),
  command({
    name: 'slowlog',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'server',
    summary: 'A container for slow log commands',
    since: '2.2.12',
    complexity: 'Depends on subcommand.',
    subcommands: [
      slowlogSub('get', -2, 'Get the slow log\'s entries', 'O(N) where N is the number of entries returned', slowlogGet),
      slowlogSub('len', 2, 'Get the slow log\'s length', 'O(1)', (ctx) => ctx.reply.integer(ctx.server.slowLog.length)),
      slowlogSub('reset', 2, 'Clear all entries from the slow log', 'O(N) where N is the number of entries in the slowlog', (ctx) => {
        ctx.server.slowLog.reset();
        ctx.reply.ok();
      }),
      slowlogSub('help', 2, 'Show helpful text about the different subcommands', 'O(1)', (ctx) => {
        ctx.reply.array(SLOWLOG_HELP.length);
        for (const line of SLOWLOG_HELP) ctx.reply.simple(line);
      }, false),
    ],
  }),
];
