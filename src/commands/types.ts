// Commands are data: each family module exports CommandSpec objects; the registry indexes them, checks arity
// centrally and COMMAND INFO/DOCS reports them. Handlers never parse their own name or arity.

import type { ReplyWriter } from '../protocol/replyWriter';
import type { Request } from '../protocol/request';
import type { ArgReader } from './args';
import type { ClientState } from '../server/clientState';
import type { ServerState } from '../server/serverState';
import type { Database } from '../keyspace/database';
import type { BlockRequest } from '../server/blocking';

export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'no_mandatory_keys'
  | 'no_multi'
  | 'allow_busy'
  | 'sentinel';

export interface CommandContext {
  readonly server: ServerState;
  readonly client: ClientState;
  /** The client's selected database. */
  readonly db: Database;
  /**
   * The request as received, read in place: hot commands take their arguments from it by position without a
   * Buffer per argument.
   */
  readonly request: Request;
  /** The request as Buffers (made on first use): args[0] is the command name (and args[1] the subcommand for containers). */
  readonly args: Buffer[];
  /** Reads arguments after the command (and subcommand) name, with Redis's error texts. */
  readonly argv: ArgReader;
  readonly reply: ReplyWriter;
  /** Milliseconds since the epoch, from the server's (injectable) clock; fixed for the whole command. */
  readonly now: number;
  /** True while this command runs inside EXEC: blocking commands then behave as with a timeout reached. */
  readonly inTransaction: boolean;
  /**
   * Parks the client until one of the keys is signalled ready or the timeout passes. The handler must not reply
   * when it blocks; the request's callbacks reply later.
   */
  block(request: BlockRequest): void;
  /** Runs another request for this client inside a transaction (EXEC), its reply going to ctx.reply. */
  callQueued(args: Buffer[]): void;
}

export type CommandHandler = (ctx: CommandContext) => void;

export interface CommandSpec {
  /** Lower case, as COMMAND reports it; subcommands are named `container|sub`. */
  readonly name: string;
  /** Redis semantics: N means exactly N arguments including the name, -N means at least N. */
  readonly arity: number;
  readonly flags: readonly CommandFlag[];
  /** Key positions as COMMAND INFO reports them (0 when the command takes no key). */
  readonly firstKey: number;
  readonly lastKey: number;
  readonly keyStep: number;
  /**
   * The key arguments when the positions above do not tell them (Redis's getkeys_proc, COMMAND INFO flag
   * movablekeys): used by COMMAND GETKEYS, the cluster slot check and the segment mapping before a command.
   */
  readonly keys?: (args: readonly Buffer[]) => Buffer[];
  readonly aclCategories: readonly string[];
  /** COMMAND DOCS fields. */
  readonly summary: string;
  readonly since: string;
  readonly group: string;
  readonly complexity?: string;
  readonly handler?: CommandHandler;
  readonly subcommands?: readonly CommandSpec[];
  /**
   * Positions of arguments that SLOWLOG and MONITOR show as `(redacted)` (passwords), as Redis 7's
   * redactClientCommandArgument: only asked when a command is logged or monitored.
   */
  readonly redact?: (args: readonly Buffer[]) => readonly number[];
}

const REDACTED = Buffer.from('(redacted)', 'latin1');

/** The arguments of a request as the slow log and MONITOR show them: `args`, with the spec's redactions. */
export function shownArguments(spec: CommandSpec, args: readonly Buffer[]): readonly Buffer[] {
  if (spec.redact === undefined) return args;
  const hidden = spec.redact(args);
  if (hidden.length === 0) return args;
  const shown = args.slice();
  for (const i of hidden) if (i < shown.length) shown[i] = REDACTED;
  return shown;
}

/** Builds a spec with the defaults most commands share. */
export function command(
  spec: Partial<CommandSpec> & Pick<CommandSpec, 'name' | 'arity' | 'summary' | 'since' | 'group'>,
): CommandSpec {
  return {
    flags: [],
    firstKey: 0,
    lastKey: 0,
    keyStep: 0,
    aclCategories: [],
    ...spec,
  };
}
