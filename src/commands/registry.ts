// Indexes command specs by name and resolves a request to its spec (or subcommand spec) with Redis's
// unknown-command, unknown-subcommand and arity errors. The only place arity is checked.

import { CommandError, Err } from '../errors';
import { keywordEquals } from './args';
import type { CommandSpec } from './types';

export interface Resolved {
  readonly spec: CommandSpec;
  /** Index of the first argument after the command (and subcommand) name. */
  readonly argStart: number;
  /** Name for statistics: `xinfo|stream` style for subcommands. */
  readonly statName: string;
}

/**
 * The key arguments of a request for `spec`: its declared key range (COMMAND INFO's first key, last key, step),
 * or, for the commands whose keys move (firstKey 0: XREAD, XREADGROUP), the first half of what follows the
 * STREAMS option (options read as xreadCommand reads them, so a group named "streams" is not the keyword).
 */
export function keyArguments(spec: CommandSpec, args: readonly Buffer[]): Buffer[] {
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

  constructor(specs: readonly CommandSpec[]) {
    for (const spec of specs) {
      if (this.byName.has(spec.name)) throw new Error(`command ${spec.name} declared twice`);
      this.byName.set(spec.name, spec);
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

  /** Resolves args (args[0] = name) or throws the CommandError Redis would reply. */
  resolve(args: Buffer[]): Resolved {
    const name = args[0].toString('latin1').toLowerCase();
    const spec = this.byName.get(name);
    if (!spec) throw new CommandError(Err.unknownCommand(args[0], args.slice(1, 1 + 20)));
    if (spec.subcommands && spec.subcommands.length > 0) {
      if (args.length === 1) {
        // A container with a handler of its own (COMMAND) runs it when called bare.
        if (spec.handler) return { spec, argStart: 1, statName: name };
        throw new CommandError(Err.wrongArity(name));
      }
      const subName = `${name}|${args[1].toString('latin1').toLowerCase()}`;
      const sub = spec.subcommands.find((s) => s.name === subName);
      if (!sub) throw new CommandError(Err.unknownSubcommand(args[1], name));
      if (!arityOk(sub.arity, args.length)) throw new CommandError(Err.wrongArity(subName));
      return { spec: sub, argStart: 2, statName: subName };
    }
    if (!arityOk(spec.arity, args.length)) throw new CommandError(Err.wrongArity(name));
    return { spec, argStart: 1, statName: name };
  }
}

export { keywordEquals };
