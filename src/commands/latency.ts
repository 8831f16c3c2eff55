// LATENCY LATEST / HISTORY / RESET / HELP, as Redis 7.0's latencyCommand (the samples: src/server/latencyMonitor.ts).
// DOCTOR, GRAPH and HISTOGRAM are not implemented: they get the registry's unknown-subcommand error.

import { command, type CommandContext, type CommandSpec } from './types';
import { sub } from './serverAdmin';
import { writeHelp } from './streamGroups';

// Redis's text, byte for byte (clients and test suites compare it), so it lists DOCTOR, GRAPH and HISTOGRAM too.
const LATENCY_HELP = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

function latest(ctx: CommandContext): void {
  const events = ctx.server.latency.latest();
  ctx.reply.array(events.length);
  for (const e of events) {
    ctx.reply.array(4);
    ctx.reply.bulk(e.event);
    ctx.reply.integer(e.time);
    ctx.reply.integer(e.latency);
    ctx.reply.integer(e.max);
  }
}

function history(ctx: CommandContext): void {
  const samples = ctx.server.latency.history(ctx.argv.nextString());
  ctx.reply.array(samples.length);
  for (const [time, latency] of samples) {
    ctx.reply.array(2);
    ctx.reply.integer(time);
    ctx.reply.integer(latency);
  }
}

function reset(ctx: CommandContext): void {
  const names = ctx.argv.hasMore() ? ctx.argv.rest().map((a) => a.toString('latin1')) : undefined;
  ctx.reply.integer(ctx.server.latency.reset(names));
}

export const latencyCommands: CommandSpec[] = [
  command({
    name: 'latency',
    arity: -2,
    aclCategories: ['@slow'],
    group: 'server',
    summary: 'A container for latency diagnostics commands',
    since: '2.8.13',
    subcommands: [
      sub('latency', 'latest', 2, latest, 'Return the latest latency samples for all events.', '2.8.13'),
      sub('latency', 'history', 3, history, 'Return timestamp-latency samples for an event.', '2.8.13'),
      sub('latency', 'reset', -2, reset, 'Reset latency data for one or more events.', '2.8.13'),
      sub('latency', 'help', 2, (ctx) => writeHelp(ctx.reply, 'LATENCY', LATENCY_HELP), 'Show helpful text about the different subcommands.', '2.8.13', false),
    ],
  }),
];
