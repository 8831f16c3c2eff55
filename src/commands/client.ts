// CLIENT subcommands: ID, SETNAME, GETNAME, INFO, LIST, KILL, SETINFO, NO-EVICT, NO-TOUCH, UNBLOCK, REPLY,
// PAUSE, UNPAUSE, HELP. CLIENT LIST lines use Redis 7's field order so tools that parse them keep working.

import { CommandError, Err } from '../errors';
import type { ClientState } from '../server/clientState';
import type { PauseKind } from '../server/clientPause';
import { parseInt64 } from '../protocol/numbers';
import { validateClientName } from './connection';
import { command, type CommandContext, type CommandSpec } from './types';

const SUB = { group: 'connection', flags: ['noscript', 'loading', 'stale'] as const };
const ADMIN = ['admin', 'noscript', 'loading', 'stale'] as const;
const ACL_CONN = ['@slow', '@connection'];
const ACL_ADMIN = ['@admin', '@slow', '@dangerous', '@connection'];

/** One CLIENT LIST / CLIENT INFO line. */
export function describeClient(c: ClientState, now: number): string {
  let flags = c.monitoring ? 'O' : '';
  if (c.replicationRole === 'replica') flags += 'S';
  else if (c.replicationRole === 'master') flags += 'M';
  if (c.subscribed) flags += 'P';
  if (c.multi !== null) flags += 'x';
  if (c.blocked !== null || c.held) flags += 'b';
  if (c.watchDirty) flags += 'd';
  if (c.closing) flags += 'c';
  if (c.readonlyCluster) flags += 'r';
  if (c.noEvict) flags += 'e';
  if (c.noTouch) flags += 'T';
  if (flags === '') flags = 'N';
  const fields: [string, string | number][] = [
    ['id', c.id],
    ['addr', c.remoteAddress],
    ['laddr', c.localAddress],
    ['fd', c.fd],
    ['name', c.name],
    ['age', Math.floor((now - c.createdAt) / 1000)],
    ['idle', Math.floor((now - c.lastInteraction) / 1000)],
    ['flags', flags],
    ['db', c.dbIndex],
    ['sub', c.subscriptions?.channel.size ?? 0],
    ['psub', c.subscriptions?.pattern.size ?? 0],
    ['ssub', c.subscriptions?.shard.size ?? 0],
    ['multi', c.multi === null ? -1 : c.multi.length],
    ['qbuf', c.queryBufferBytes],
    ['qbuf-free', 0],
    ['argv-mem', 0],
    ['multi-mem', 0],
    ['rbs', 16384],
    ['rbp', 0],
    ['obl', 0],
    ['oll', 0],
    ['omem', c.outputBytes],
    ['tot-mem', c.queryBufferBytes + c.outputBytes],
    ['events', 'r'],
    ['cmd', c.lastCommand],
    ['user', 'default'],
    ['redir', -1],
    ['resp', c.protocol],
    ['lib-name', c.libName],
    ['lib-ver', c.libVersion],
  ];
  return fields.map(([k, v]) => `${k}=${v}`).join(' ');
}

/** Redis's getClientType as CLIENT LIST/KILL TYPE name it: no masters or replicas here (a monitor is normal). */
/** Redis's getClientType: a master link, a replica, a subscriber, or normal. */
function clientType(c: ClientState): string {
  if (c.replicationRole === 'master') return 'master';
  if (c.replicationRole === 'replica') return 'replica';
  return c.subscribed ? 'pubsub' : 'normal';
}

const CLIENT_TYPES = ['normal', 'master', 'replica', 'slave', 'pubsub'];

function list(ctx: CommandContext): void {
  const { argv } = ctx;
  let ids: Set<number> | null = null;
  let type: string | null = null;
  if (argv.hasMore()) {
    const option = argv.nextKeyword();
    if (option === 'TYPE' && argv.remaining === 1) {
      type = argv.nextString().toLowerCase();
      if (!CLIENT_TYPES.includes(type)) throw new CommandError(`ERR Unknown client type '${type}'`);
    } else if (option === 'ID' && argv.hasMore()) {
      ids = new Set();
      while (argv.hasMore()) {
        const id = argv.int('ERR Invalid client ID');
        if (id <= 0) throw new CommandError('ERR Invalid client ID');
        ids.add(id);
      }
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  let text = '';
  for (const c of ctx.server.clients.values()) {
    if (ids !== null && !ids.has(c.id)) continue;
    if (type !== null && !isOfType(c, type)) continue;
    text += describeClient(c, ctx.now) + '\n';
  }
  ctx.reply.verbatim(text);
}

/** CLIENT LIST/KILL TYPE (`slave` is `replica`). */
function isOfType(c: ClientState, type: string): boolean {
  return clientType(c) === (type === 'slave' ? 'replica' : type);
}

interface KillFilter {
  id?: number;
  addr?: string;
  laddr?: string;
  type?: string;
  user?: string;
  skipMe: boolean;
}

function kill(ctx: CommandContext): void {
  const { argv } = ctx;
  // Old form: CLIENT KILL addr:port — replies OK or an error.
  if (argv.remaining === 1) {
    const addr = argv.nextString();
    const target = [...ctx.server.clients.values()].find((c) => c.remoteAddress === addr);
    if (!target) throw new CommandError('ERR No such client');
    killClient(ctx, target);
    ctx.reply.ok();
    return;
  }
  const filter: KillFilter = { skipMe: true };
  while (argv.hasMore()) {
    const option = argv.nextKeyword();
    if (!argv.hasMore()) throw new CommandError(Err.syntax);
    const value = argv.nextString();
    if (option === 'ID') {
      const id = Number(value);
      if (!/^[0-9]+$/.test(value) || id <= 0) throw new CommandError('ERR client-id should be greater than 0');
      filter.id = id;
    } else if (option === 'ADDR') filter.addr = value;
    else if (option === 'LADDR') filter.laddr = value;
    else if (option === 'USER') filter.user = value;
    else if (option === 'TYPE') {
      const type = value.toLowerCase();
      if (!CLIENT_TYPES.includes(type)) throw new CommandError(`ERR Unknown client type '${value}'`);
      filter.type = type;
    } else if (option === 'SKIPME') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw new CommandError(Err.syntax);
      filter.skipMe = v === 'yes';
    } else throw new CommandError(Err.syntax);
  }
  let killed = 0;
  for (const c of [...ctx.server.clients.values()]) {
    if (filter.id !== undefined && c.id !== filter.id) continue;
    if (filter.addr !== undefined && c.remoteAddress !== filter.addr) continue;
    if (filter.laddr !== undefined && c.localAddress !== filter.laddr) continue;
    if (filter.type !== undefined && !isOfType(c, filter.type)) continue;
    if (filter.user !== undefined && filter.user !== 'default') continue;
    if (filter.skipMe && c === ctx.client) continue;
    killClient(ctx, c);
    killed++;
  }
  ctx.reply.integer(killed);
}

/** The calling client is closed after its reply is written; others at once. */
function killClient(ctx: CommandContext, target: ClientState): void {
  if (target === ctx.client) target.closing = true;
  else target.kill();
}

function setinfo(ctx: CommandContext): void {
  const attribute = ctx.argv.nextKeyword();
  const value = ctx.argv.next();
  for (const c of value) {
    if (c < 33 || c > 126)
      throw new CommandError(`ERR ${attribute} cannot contain spaces, newlines or special characters.`);
  }
  if (attribute === 'LIB-NAME') ctx.client.libName = value.toString('latin1');
  else if (attribute === 'LIB-VER') ctx.client.libVersion = value.toString('latin1');
  else throw new CommandError(`ERR Unrecognized option '${ctx.args[2].toString('latin1')}'`);
  ctx.reply.ok();
}

function onOff(ctx: CommandContext, apply: (on: boolean) => void): void {
  const v = ctx.argv.nextKeyword();
  if (v !== 'ON' && v !== 'OFF') throw new CommandError(Err.syntax);
  apply(v === 'ON');
  ctx.reply.ok();
}

/** CLIENT UNBLOCK's name in INFO commandstats. */
const UNBLOCK_STAT = 'client|unblock';

function unblock(ctx: CommandContext): void {
  const id = ctx.argv.int();
  let mode = 'TIMEOUT';
  if (ctx.argv.hasMore()) {
    mode = ctx.argv.nextKeyword();
    if (mode !== 'TIMEOUT' && mode !== 'ERROR') throw new CommandError(Err.unblockReason);
  }
  const target = ctx.server.clients.get(id);
  if (!target || target.blocked === null) {
    ctx.reply.integer(0);
    return;
  }
  const stats = ctx.server.stats;
  if (mode === 'ERROR') {
    // The error reply is counted by fail(). Redis also counts CLIENT UNBLOCK itself as failed: its call() sees
    // the server's error count go up while it ran.
    ctx.server.blocking.fail(target.blocked, Err.unblockedByClient);
    stats.command(UNBLOCK_STAT).failedCalls++;
  } else {
    // Redis 7.0 counts an unblocked command as failed in either mode (updateStatsOnUnblock with had_errors set).
    stats.command(target.blocked.statName).failedCalls++;
    ctx.server.blocking.timeout(target.blocked);
  }
  ctx.reply.integer(1);
}

/**
 * CLIENT HELP, entry by entry in Redis's order and words (7.0.15; SETINFO and NO-TOUCH as Redis 7.2 has them).
 * The reply lists the entries of the subcommands registered below only, so it cannot offer one that does not
 * exist; test/differential/client.test.ts checks that every registered subcommand has its entry.
 */
const CLIENT_HELP: readonly (readonly [subcommand: string, lines: readonly string[]])[] = [
  ['getname', ['GETNAME', '    Return the name of the current connection.']],
  ['id', ['ID', '    Return the ID of the current connection.']],
  ['info', ['INFO', '    Return information about the current client connection.']],
  ['kill', [
    'KILL <ip:port>',
    '    Kill connection made from <ip:port>.',
    'KILL <option> <value> [<option> <value> [...]]',
    '    Kill connections. Options are:',
    '    * ADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made from the specified address',
    '    * LADDR (<ip:port>|<unixsocket>:0)',
    '      Kill connections made to specified local address',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Kill connections by type.',
    '    * USER <username>',
    '      Kill connections authenticated by <username>.',
    '    * SKIPME (YES|NO)',
    '      Skip killing current connection (default: yes).',
  ]],
  ['list', [
    'LIST [options ...]',
    '    Return information about client connections. Options:',
    '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
    '      Return clients of specified type.',
  ]],
  ['unpause', ['UNPAUSE', '    Stop the current client pause, resuming traffic.']],
  ['pause', ['PAUSE <timeout> [WRITE|ALL]', '    Suspend all, or just write, clients for <timeout> milliseconds.']],
  ['reply', ['REPLY (ON|OFF|SKIP)', '    Control the replies sent to the current connection.']],
  ['setname', ['SETNAME <name>', '    Assign the name <name> to the current connection.']],
  ['setinfo', [
    'SETINFO <option> <value>',
    '    Set client meta attr. Options are:',
    '    * LIB-NAME: the client lib name.',
    '    * LIB-VER: the client lib version.',
  ]],
  ['unblock', ['UNBLOCK <clientid> [TIMEOUT|ERROR]', '    Unblock the specified blocked client.']],
  ['no-evict', ['NO-EVICT (ON|OFF)', '    Protect current client connection from eviction.']],
  ['no-touch', ['NO-TOUCH (ON|OFF)', '    Will not touch LRU/LFU stats when this mode is on.']],
  ['help', ['HELP', '    Prints this help.']],
];

const HELP_TITLE = 'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:';

function help(ctx: CommandContext): void {
  const registered = ctx.server.registry.find('client')?.subcommands ?? [];
  const lines = [HELP_TITLE];
  for (const [name, entry] of CLIENT_HELP) if (registered.some((s) => s.name === `client|${name}`)) lines.push(...entry);
  ctx.reply.array(lines.length);
  for (const line of lines) ctx.reply.simple(line);
}

/**
 * CLIENT PAUSE timeout [WRITE|ALL], as Redis 7.0's clientCommand: the mode is checked before the timeout, and
 * more than one option is the container's syntax error. The end is timeout + now in int64 arithmetic: Redis
 * 7.0.15 does not check that sum, so one past 2^63-1 wraps to a time long gone (the pause ends at once).
 */
function pause(ctx: CommandContext): void {
  const { argv } = ctx;
  if (argv.remaining > 2) throw new CommandError(Err.unknownSubcommandOrArity(ctx.args[1], 'client'));
  const timeoutArg = argv.next(); // parsed once the mode is known good
  let kind: PauseKind = 'all';
  if (argv.hasMore()) {
    const mode = argv.nextKeyword();
    if (mode === 'WRITE') kind = 'write';
    else if (mode !== 'ALL') throw new CommandError(Err.clientPauseMode);
  }
  const timeout = parseInt64(timeoutArg);
  if (timeout === null) throw new CommandError(Err.timeoutNotInteger);
  if (timeout < 0n) throw new CommandError(Err.timeoutNegative);
  let end = 0;
  if (timeout > 0n) {
    const sum = timeout + BigInt(ctx.now);
    end = Number(sum > INT64_MAX ? sum - 2n ** 64n : sum);
  }
  ctx.server.clientPause.pause(kind, end);
  ctx.reply.ok();
}

const INT64_MAX = 2n ** 63n - 1n;

function sub(name: string, arity: number, handler: (ctx: CommandContext) => void, admin = false, summary = '', since = '2.4.0') {
  return command({
    name: `client|${name}`,
    arity,
    flags: admin ? [...ADMIN] : [...SUB.flags],
    aclCategories: admin ? ACL_ADMIN : ACL_CONN,
    group: 'connection',
    summary,
    since,
    handler,
  });
}

export const clientCommands: CommandSpec[] = [
  command({
    name: 'client',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'connection',
    summary: 'A container for client connection commands',
    since: '2.4.0',
    subcommands: [
      sub('id', 2, (ctx) => ctx.reply.integer(ctx.client.id), false, 'Returns the client ID for the current connection', '5.0.0'),
      sub('setname', 3, (ctx) => {
        ctx.client.name = validateClientName(ctx.args[2]);
        ctx.reply.ok();
      }, false, 'Set the current connection name', '2.6.9'),
      sub('getname', 2, (ctx) => (ctx.client.name ? ctx.reply.bulk(ctx.client.name) : ctx.reply.nullBulk()), false, 'Get the current connection name', '2.6.9'),
      sub('info', 2, (ctx) => ctx.reply.verbatim(describeClient(ctx.client, ctx.now) + '\n'), false, 'Returns information about the current client connection.', '6.2.0'),
      sub('list', -2, list, true, 'Get the list of client connections', '2.4.0'),
      sub('kill', -3, kill, true, 'Kill the connection of a client', '2.4.0'),
      sub('setinfo', 4, setinfo, false, 'Set client or connection specific info', '7.2.0'),
      sub('no-evict', 3, (ctx) => onOff(ctx, (on) => (ctx.client.noEvict = on)), true, 'Set client eviction mode for the current connection', '7.0.0'),
      sub('no-touch', 3, (ctx) => onOff(ctx, (on) => (ctx.client.noTouch = on)), false, 'Controls whether commands sent by the client will alter the LRU/LFU of the keys they access.', '7.2.0'),
      sub('unblock', -3, unblock, true, 'Unblock a client blocked in a blocking command from a different connection', '5.0.0'),
      sub('reply', 3, (ctx) => {
        // OFF and SKIP answer nothing; the connection drops the replies they silence (see Connection.afterCommand).
        const mode = ctx.argv.nextKeyword();
        if (mode === 'ON') {
          ctx.client.replyMode = 'on';
          ctx.reply.ok();
        } else if (mode === 'OFF') ctx.client.replyMode = 'off';
        else if (mode === 'SKIP') {
          if (ctx.client.replyMode !== 'off') ctx.client.replyMode = 'skipNext';
        } else throw new CommandError(Err.syntax);
      }, false, 'Instruct the server whether to reply to commands', '3.2.0'),
      sub('pause', -3, pause, true, 'Suspend commands processing', '3.0.0'),
      sub('unpause', 2, (ctx) => {
        ctx.server.clientPause.unpause();
        ctx.reply.ok();
      }, true, 'Resume processing of clients that were paused', '6.2.0'),
      sub('help', 2, help, false, 'Show helpful text about the different subcommands', '5.0.0'),
    ],
  }),
];
