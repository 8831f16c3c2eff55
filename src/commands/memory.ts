// MEMORY USAGE key [SAMPLES count] and MEMORY HELP, with Redis 7.0's argument checks and replies. The number is
// Spool's estimate of the heap the stream holds (src/streams/memoryUsage.ts): entries live in the mapped log.
// SAMPLES is checked as Redis checks it and then has nothing to do: the estimate reads the tables' sizes, it
// does not sample them. DOCTOR, STATS, MALLOC-STATS and PURGE get the registry's unknown-subcommand error.

import { CommandError, Err } from '../errors';
import { parseInt64 } from '../protocol/numbers';
import { streamHeapBytes } from '../streams/memoryUsage';
import { command, type CommandContext, type CommandSpec } from './types';
import { writeHelp } from './streamGroups';

const MEMORY_HELP = [
  'DOCTOR',
  '    Return memory problems reports.',
  'MALLOC-STATS',
  '    Return internal statistics report from the memory allocator.',
  'PURGE',
  '    Attempt to purge dirty pages for reclamation by the allocator.',
  'STATS',
  '    Return information about the memory usage of the server.',
  'USAGE <key> [SAMPLES <count>]',
  '    Return memory in bytes used by <key> and its value. Nested values are',
  '    sampled up to <count> times (default: 5, 0 means sample all).',
];

function usage(ctx: CommandContext): void {
  const { argv } = ctx;
  const key = argv.nextString();
  // As memoryCommand: options are checked before the key is looked up.
  while (argv.hasMore()) {
    if (!argv.accept('SAMPLES') || !argv.hasMore()) throw new CommandError(Err.syntax);
    const samples = parseInt64(argv.next());
    if (samples === null) throw new CommandError(Err.notInteger);
    if (samples < 0n) throw new CommandError(Err.syntax);
  }
  const stream = ctx.db.get(key);
  if (stream === undefined) ctx.reply.nullBulk();
  else ctx.reply.integer(streamHeapBytes(key, stream));
}

export const memoryCommands: CommandSpec[] = [
  command({
    name: 'memory',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'server',
    summary: 'A container for memory diagnostics commands',
    since: '4.0.0',
    subcommands: [
      command({ name: 'memory|usage', arity: -3, flags: ['readonly'], firstKey: 2, lastKey: 2, keyStep: 1, aclCategories: ['@read', '@slow'], group: 'server', summary: 'Estimate the memory usage of a key', since: '4.0.0', complexity: 'O(N) where N is the number of samples.', handler: usage }),
      command({ name: 'memory|help', arity: 2, flags: ['loading', 'stale'], aclCategories: ['@slow'], group: 'server', summary: 'Show helpful text about the different subcommands', since: '4.0.0', complexity: 'O(1)', handler: (ctx) => writeHelp(ctx.reply, 'MEMORY', MEMORY_HELP) }),
    ],
  }),
];
