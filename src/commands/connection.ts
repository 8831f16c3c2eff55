// Connection commands: PING, ECHO, HELLO, AUTH, SELECT, QUIT, RESET.

import { timingSafeEqual, createHash } from 'node:crypto';
import { ClusterErr, CommandError, Err } from '../errors';
import { keywordEquals, toInteger } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import { REDIS_VERSION } from '../version';

const CONNECTION = { group: 'connection', aclCategories: ['@fast', '@connection'] } as const;

/** Constant-time password check: hashing first makes both sides the same length. */
function passwordMatches(ctx: CommandContext, given: Buffer): boolean {
  const expected = ctx.server.config.get('requirepass');
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(Buffer.from(expected, 'latin1')).digest();
  return timingSafeEqual(a, b);
}

/**
 * AUTH semantics shared by AUTH and HELLO AUTH. Only the `default` user exists; without requirepass it has
 * `nopass`, so any password authenticates it.
 */
function authenticate(ctx: CommandContext, user: Buffer | null, password: Buffer): void {
  const required = ctx.server.config.get('requirepass') !== '';
  if (user !== null && user.toString('latin1') !== 'default') throw new CommandError(Err.wrongPass);
  if (required && !passwordMatches(ctx, password)) throw new CommandError(Err.wrongPass);
  ctx.client.authenticated = true;
}

function ping(ctx: CommandContext): void {
  if (ctx.args.length > 2) throw new CommandError(Err.wrongArity('ping'));
  if (ctx.client.subscribed && ctx.client.protocol === 2) {
    // A RESP2 subscriber reads every reply as a message: PING answers in that shape, ["pong", argument or ""].
    ctx.reply.array(2);
    ctx.reply.bulk('pong');
    ctx.reply.bulk(ctx.args.length === 2 ? ctx.args[1] : '');
    return;
  }
  if (ctx.args.length === 2) ctx.reply.bulk(ctx.args[1]);
  else ctx.reply.simple('PONG');
}

function auth(ctx: CommandContext): void {
  if (ctx.args.length > 3) throw new CommandError(Err.syntax);
  if (ctx.args.length === 2 && ctx.server.config.get('requirepass') === '') throw new CommandError(Err.authNotConfigured);
  const user = ctx.args.length === 3 ? ctx.args[1] : null;
  authenticate(ctx, user, ctx.args[ctx.args.length - 1]);
  ctx.reply.ok();
}

/** AUTH's password (and user): redacted unless the syntax check refused the command first, as authCommand. */
function authRedacted(args: readonly Buffer[]): number[] {
  if (args.length > 3) return [];
  return args.length === 3 ? [1, 2] : [1];
}

/**
 * HELLO's AUTH user and password, redacted as helloCommand reads its options: after a valid protocol version,
 * option by option until one it does not know.
 */
function helloRedacted(args: readonly Buffer[]): number[] {
  const hidden: number[] = [];
  if (args.length >= 2) {
    const version = parseVersion(args[1]);
    if (version === null || version < 2 || version > 3) return hidden;
  }
  for (let i = 2; i < args.length; i++) {
    const more = args.length - 1 - i;
    if (more >= 2 && keywordEquals(args[i], 'AUTH')) {
      hidden.push(i + 1, i + 2);
      i += 2;
    } else if (more >= 1 && keywordEquals(args[i], 'SETNAME')) i++;
    else break;
  }
  return hidden;
}

function parseVersion(arg: Buffer): number | null {
  try {
    return toInteger(arg);
  } catch {
    return null;
  }
}

function hello(ctx: CommandContext): void {
  const { argv, client } = ctx;
  let protocol = client.protocol;
  if (argv.hasMore()) {
    const version = toInteger(argv.next(), 'ERR Protocol version is not an integer or out of range');
    if (version < 2 || version > 3) throw new CommandError(Err.protoVersion);
    protocol = version as 2 | 3;
  }
  let name: Buffer | null = null;
  let credentials: [Buffer, Buffer] | null = null;
  while (argv.hasMore()) {
    if (argv.remaining >= 3 && argv.accept('AUTH')) {
      credentials = [argv.next(), argv.next()];
    } else if (argv.remaining >= 2 && argv.accept('SETNAME')) {
      name = argv.next();
    } else {
      throw new CommandError(`ERR Syntax error in HELLO option '${argv.nextString()}'`);
    }
  }
  if (credentials) authenticate(ctx, credentials[0], credentials[1]);
  if (!client.authenticated) throw new CommandError('NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time');
  if (name !== null) client.name = validateClientName(name);
  client.protocol = protocol;
  ctx.reply.protocol = protocol;
  const r = ctx.reply;
  r.map(7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(REDIS_VERSION);
  r.bulk('proto');
  r.integer(protocol);
  r.bulk('id');
  r.integer(client.id);
  r.bulk('mode');
  r.bulk(ctx.server.cluster !== null ? 'cluster' : 'standalone');
  r.bulk('role');
  r.bulk('master');
  r.bulk('modules');
  r.array(0);
}

/** Client names may not contain spaces, newlines or special characters (checked as Redis does). */
export function validateClientName(arg: Buffer): string {
  for (const c of arg) {
    if (c < 33 || c > 126) throw new CommandError('ERR Client names cannot contain spaces, newlines or special characters.');
  }
  return arg.toString('latin1');
}

function select(ctx: CommandContext): void {
  const index = toInteger(ctx.args[1]);
  if (ctx.server.cluster !== null && index !== 0) throw new CommandError(ClusterErr.select);
  if (index < 0 || index >= ctx.server.databases.length) throw new CommandError(Err.dbIndexOutOfRange);
  ctx.client.dbIndex = index;
  ctx.reply.ok();
}

function quit(ctx: CommandContext): void {
  ctx.reply.ok();
  ctx.client.closing = true;
}

function reset(ctx: CommandContext): void {
  const { client, server } = ctx;
  client.multi = null;
  client.multiError = false;
  server.unwatchAll(client);
  client.dbIndex = 0;
  client.protocol = 2;
  ctx.reply.protocol = 2;
  client.name = '';
  client.noEvict = false;
  client.noTouch = false;
  client.authenticated = server.config.get('requirepass') === '';
  server.monitors.delete(client);
  server.pubsub.forget(client);
  ctx.reply.simple('RESET');
}

const CONN_FLAGS = ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'] as const;

export const connectionCommands: CommandSpec[] = [
  command({ name: 'ping', arity: -1, flags: ['fast'], ...CONNECTION, summary: 'Ping the server', since: '1.0.0', complexity: 'O(1)', handler: ping }),
  command({ name: 'echo', arity: 2, flags: ['fast'], ...CONNECTION, summary: 'Echo the given string', since: '1.0.0', complexity: 'O(1)', handler: (ctx) => ctx.reply.bulk(ctx.args[1]) }),
  command({ name: 'auth', arity: -2, flags: [...CONN_FLAGS], ...CONNECTION, summary: 'Authenticate to the server', since: '1.0.0', complexity: 'O(N) where N is the number of passwords defined for the user', handler: auth, redact: authRedacted }),
  command({ name: 'hello', arity: -1, flags: [...CONN_FLAGS], ...CONNECTION, summary: 'Handshake with Redis', since: '6.0.0', complexity: 'O(1)', handler: hello, redact: helloRedacted }),
  command({ name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], ...CONNECTION, summary: 'Change the selected database for the current connection', since: '1.0.0', complexity: 'O(1)', handler: select }),
  command({ name: 'quit', arity: -1, flags: ['allow_busy', 'noscript', 'loading', 'stale', 'fast', 'no_auth'], ...CONNECTION, summary: 'Close the connection', since: '1.0.0', complexity: 'O(1)', handler: quit }),
  command({ name: 'reset', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'], ...CONNECTION, summary: 'Reset the connection', since: '6.2.0', complexity: 'O(1)', handler: reset }),
];
