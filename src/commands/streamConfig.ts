// Spool's per-stream settings (not in Redis): XCFGSET key option value [option value ...] and XCFGGET key.
// Options: appendfsync (always|everysec|no|default), maxage (ms, 0 = off|default), maxbytes (bytes, 0 = off|
// default); `default` makes the option follow the server (appendfsync, stream-maxage, stream-maxbytes). Parsing
// and the settings model live in src/streams/streamSettings.ts; retention in src/server/retention.ts.

import { CommandError, Err } from '../errors';
import { command, type CommandContext, type CommandSpec } from './types';
import { applyStreamSettings, formatStreamSettings, parseStreamSettings } from '../streams/streamSettings';
import { applyIdmpSettings, parseIdmpSettings } from './streamIdmp';
import { changeLog } from './changes';
import { ChangeType } from '../streams/changeRecords';

function xcfgset(ctx: CommandContext): void {
  const args = ctx.args;
  // Redis 8.6's options (IDMP-DURATION, IDMP-MAXSIZE) with Redis's rules; the rest are Spool's, with its own.
  // Everything is checked before anything is applied (all or nothing), then the key.
  if (args.length === 2) throw new CommandError(Err.syntax);
  const idmp = parseIdmpSettings(args);
  const change = idmp.rest.length > 0 ? parseStreamSettings(idmp.rest) : null;
  const key = args[1].toString('latin1');
  const stream = ctx.db.get(key);
  if (!stream) throw new CommandError(Err.noSuchKey);
  applyIdmpSettings(stream, idmp);
  if (change !== null) stream.settingsOverride = applyStreamSettings(stream.settingsOverride, change);
  const log = changeLog(ctx.server);
  if (log !== null) {
    const table = idmp.duration !== null || idmp.maxsize !== null ? stream.idmp! : null;
    const idmpAfter = table === null ? null : { duration: table.duration, maxsize: table.maxsize };
    log.record(stream, { type: ChangeType.SETTINGS, idmp: idmpAfter, overrides: stream.settingsOverride });
  }
  if (change === null) {
    ctx.db.touch(key);
    ctx.reply.ok();
    return;
  }
  if (change.has('appendfsync')) {
    ctx.server.persistence?.setStreamFsync(stream, stream.settingsOverride?.appendfsync ?? null);
  }
  // New bounds apply at once (after this command's record); the stream joins the periodic check.
  ctx.server.retention.changed(ctx.db, stream);
  ctx.reply.ok();
}

function xcfgget(ctx: CommandContext): void {
  const stream = ctx.db.get(ctx.args[1].toString('latin1'));
  if (!stream) throw new CommandError(Err.noSuchKey);
  const pairs = formatStreamSettings(stream.settingsOverride);
  ctx.reply.map(pairs.length);
  for (const [name, value] of pairs) {
    ctx.reply.bulk(name);
    ctx.reply.bulk(value);
  }
}

const KEY_AT_1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;
const SINCE = '1.0.0';

export const streamConfigCommands: CommandSpec[] = [
  command({
    name: 'xcfgset',
    // Redis 8.6's arity: `XCFGSET key IDMP-DURATION` is a syntax error there; Spool's own options keep their
    // arity errors (parseStreamSettings).
    arity: -2,
    flags: ['write', 'denyoom'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@slow'],
    group: 'stream',
    summary:
      "Sets the IDMP configuration parameters for a stream (Redis 8.6: IDMP-DURATION, IDMP-MAXSIZE); Spool: also a stream's own appendfsync policy and retention bounds (maxage in ms, maxbytes), 'default' following the server",
    since: SINCE,
    complexity: 'O(1), plus O(N) with N the entries a new retention bound trims.',
    handler: xcfgset,
  }),
  command({
    name: 'xcfgget',
    arity: 2,
    flags: ['readonly', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@read', '@stream', '@fast'],
    group: 'stream',
    summary: "Spool: returns a stream's own settings (appendfsync, maxage, maxbytes), 'default' where it follows the server",
    since: SINCE,
    complexity: 'O(1)',
    handler: xcfgget,
  }),
];
