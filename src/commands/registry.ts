// Indexes command specs by name and resolves a request to its spec (or subcommand spec) with Redis's
// unknown-command, unknown-subcommand and arity errors. The only place arity is checked.

import { sameBytes } from '../util/bytes';
import { CommandError, Err } from '../errors';
import { keywordEquals } from './args';
import type { CommandSpec } from './types';
import type { Request } from '../protocol/request';

/** What the dispatcher asks of a spec on every call, worked out once per spec instead of scanning its flags. */
export interface Traits {
  readonly noAuth: boolean;
  readonly write: boolean;
  /** Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET). */
  readonly multiControl: boolean;
  /** Allowed to a RESP2 client in Pub/Sub subscribed mode ((P|S)(UN)SUBSCRIBE, PING, QUIT, RESET). */
  readonly inSubscribedMode: boolean;
}

export interface Resolved {
  readonly spec: CommandSpec;
  /** Index of the first argument after the command (and subcommand) name. */
  readonly argStart: number;
  /** Name for statistics: `xinfo|stream` style for subcommands. */
  readonly statName: string;
  readonly traits: Traits;
}

/** Commands that run immediately inside MULTI instead of being queued. */
const MULTI_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** What a RESP2 client in subscribed mode may run (Redis 7.0's processCommand). */
const SUBSCRIBED_MODE = new Set(['ping', 'subscribe', 'ssubscribe', 'unsubscribe', 'sunsubscribe', 'psubscribe', 'punsubscribe', 'quit', 'reset']);

function traitsOf(spec: CommandSpec): Traits {
  return {
    noAuth: spec.flags.includes('no_auth'),
    write: spec.flags.includes('write'),
    multiControl: MULTI_CONTROL.has(spec.name.split('|')[0]),
    inSubscribedMode: SUBSCRIBED_MODE.has(spec.name),
  };
}

/**
 * Slots of the name cache: a command name as the client spelled it (its bytes) and what it resolved to. Only
 * commands without subcommands are cached (their resolution depends on the name alone). Direct-mapped by a
 * hash of the length and the first and last bytes, so the common case costs a few byte compares instead of a
 * string, a lower-casing and a map lookup per request.
 */
const NAME_CACHE_SLOTS = 64;
const NAME_CACHE_MAX = 24;

interface CachedName {
  readonly name: Buffer;
  readonly resolved: Resolved;
}

/** Cache slot of a name of n bytes from its first and last bytes (case-folded). */
function slotOf(n: number, first: number, last: number): number {
  return (n * 7 + (first | 0x20) + (last | 0x20) * 3) & (NAME_CACHE_SLOTS - 1);
}

function nameSlot(name: Buffer): number {
  return slotOf(name.length, name[0], name[name.length - 1]);
}


/**
 * The key arguments of a request for `spec`: those its `keys` function finds (MIGRATE), else its declared key range (COMMAND INFO's first key, last key, step),
 * or, for the commands whose keys move (firstKey 0: XREAD, XREADGROUP), the first half of what follows the
 * STREAMS option (options read as xreadCommand reads them, so a group named "streams" is not the keyword).
 */
export function keyArguments(spec: CommandSpec, args: readonly Buffer[]): Buffer[] {
  if (spec.keys !== undefined) return spec.keys(args);
  const keys: Buffer[] = [];
  if (spec.firstKey > 0) {
    const last = spec.lastKey < 0 ? args.length + spec.lastKey : spec.lastKey;
    for (let i = spec.firstKey; i <= last && i < args.length; i += spec.keyStep || 1) keys.push(args[i]);
    return keys;
  }
  for (let i = 1; i < args.length; i++) {
    if (keywordEquals(args[i], 'GROUP')) i += 2;
    else if (keywordEquals(args[i], 'COUNT') || keywordEquals(args[i], 'BLOCK')) i++;
    else if (keywordEquals(args[i], 'STREAMS')) {
      const n = (args.length - i - 1) >> 1;
      for (let k = 1; k <= n; k++) keys.push(args[i + k]);
      break;
    }
  }
  return keys;
}

function arityOk(arity: number, argc: number): boolean {
  return arity >= 0 ? argc === arity : argc >= -arity;
}

export class CommandRegistry {
  private readonly byName = new Map<string, CommandSpec>();
  private readonly traits = new Map<CommandSpec, Traits>();
  private readonly nameCache: (CachedName | undefined)[] = new Array(NAME_CACHE_SLOTS).fill(undefined);

  constructor(specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`command ${spec.name} declared twice`);
      this.byName.set(spec.name, spec);
      this.traits.set(spec, traitsOf(spec));
      for (const sub of spec.subcommands ?? []) this.traits.set(sub, traitsOf(sub));
    }
  }

  all(): IterableIterator<CommandSpec> {
    return this.byName.values();
  }

  get size(): number {
    return this.byName.size;
  }

  find(name: string): CommandSpec | undefined {
    return this.byName.get(name.toLowerCase());
  }

  /**
   * resolve() for a request as the reader left it: a cached name is matched on the request's bytes (no view of
   * any argument is made); anything else goes through resolve().
   */
  resolveRequest(req: Request): Resolved {
    const n = req.length(0);
    if (n > 0 && n <= NAME_CACHE_MAX) {
      const hit = this.nameCache[slotOf(n, req.byte(0, 0), req.byte(0, n - 1))];
      if (hit !== undefined && req.equals(0, hit.name)) {
        if (!arityOk(hit.resolved.spec.arity, req.argc)) throw new CommandError(Err.wrongArity(hit.resolved.statName));
        return hit.resolved;
      }
    }
    return this.resolve(req.args);
  }

  /** Resolves args (args[0] = name) or throws the CommandError Redis would reply. */
  resolve(args: Buffer[]): Resolved {
    const nameBytes = args[0];
    const cacheable = nameBytes.length > 0 && nameBytes.length <= NAME_CACHE_MAX;
    if (cacheable) {
      const hit = this.nameCache[nameSlot(nameBytes)];
      if (hit !== undefined && sameBytes(hit.name, nameBytes)) {
        if (!arityOk(hit.resolved.spec.arity, args.length)) throw new CommandError(Err.wrongArity(hit.resolved.statName));
        return hit.resolved;
      }
    }
    const name = nameBytes.toString('latin1').toLowerCase();
    const spec = this.byName.get(name);
    if (!spec) throw new CommandError(Err.unknownCommand(args[0], args.slice(1, 1 + 20)));
    if (spec.subcommands && spec.subcommands.length > 0) {
      if (args.length === 1) {
        // A container with a handler of its own (COMMAND) runs it when called bare.
        if (spec.handler) return this.resolved(spec, 1, name);
        throw new CommandError(Err.wrongArity(name));
      }
      const subName = `${name}|${args[1].toString('latin1').toLowerCase()}`;
      const sub = spec.subcommands.find((s) => s.name === subName);
      if (!sub) throw new CommandError(Err.unknownSubcommand(args[1], name));
      if (!arityOk(sub.arity, args.length)) throw new CommandError(Err.wrongArity(subName));
      return this.resolved(sub, 2, subName);
    }
    const resolved = this.resolved(spec, 1, name);
    // The name bytes are a view of the client's input buffer: the cache keeps a copy.
    if (cacheable) this.nameCache[nameSlot(nameBytes)] = { name: Buffer.from(nameBytes), resolved };
    if (!arityOk(spec.arity, args.length)) throw new CommandError(Err.wrongArity(name));
    return resolved;
  }

  private resolved(spec: CommandSpec, argStart: number, statName: string): Resolved {
    return { spec, argStart, statName, traits: this.traits.get(spec)! };
  }
}

export { keywordEquals };
