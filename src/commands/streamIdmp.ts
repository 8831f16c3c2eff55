// Idempotent XADD's companions (Redis 8.6/8.8): XCFGSET's IDMP-DURATION / IDMP-MAXSIZE options (read here, applied
// by XCFGSET in streamConfig.ts) and XIDMPRECORD, the internal command that records a (producer, iid) -> entry
// mapping. Spool records every mapping as an IDMP change in the stream's log, so replay rebuilds the IDMP table.

import { CommandError, Err, IdmpErr } from '../errors';
import { keywordEquals } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import { parseInt64 } from '../protocol/numbers';
import { IDMP_MAX_DURATION, IDMP_MAX_MAXSIZE, IdmpTable } from '../streams/idmp';
import { compareIds, parseStrictId } from '../streams/streamId';
import type { Stream } from '../streams/stream';
import { changeLog } from './changes';
import { ChangeType } from '../streams/changeRecords';

/** XCFGSET's IDMP options; `rest` holds every other argument (Spool's own options) in order. */
export interface IdmpSettings {
  duration: number | null;
  maxsize: number | null;
  rest: Buffer[];
}

function rangeChecked(arg: Buffer, max: number, error: string): number {
  const v = parseInt64(arg);
  if (v === null) throw new CommandError(Err.notInteger);
  if (v < 1n || v > BigInt(max)) throw new CommandError(error);
  return Number(v);
}

/**
 * Picks IDMP-DURATION n / IDMP-MAXSIZE n out of XCFGSET's arguments (from args[2]): a keyword without a value is a
 * syntax error, a value that is no integer "not an integer", one out of range (1-86400, 1-10000) the docs' texts.
 */
export function parseIdmpSettings(args: Buffer[]): IdmpSettings {
  const out: IdmpSettings = { duration: null, maxsize: null, rest: [] };
  for (let i = 2; i < args.length; i++) {
    const a = args[i];
    const duration = keywordEquals(a, 'IDMP-DURATION');
    if (duration || keywordEquals(a, 'IDMP-MAXSIZE')) {
      if (i + 1 >= args.length) throw new CommandError(Err.syntax);
      if (duration) out.duration = rangeChecked(args[++i], IDMP_MAX_DURATION, IdmpErr.duration);
      else out.maxsize = rangeChecked(args[++i], IDMP_MAX_MAXSIZE, IdmpErr.maxsize);
    } else {
      out.rest.push(a);
    }
  }
  return out;
}

/** Applies parsed IDMP options: the stream's own settings change and every producer's iids are forgotten. */
export function applyIdmpSettings(stream: Stream, settings: IdmpSettings): void {
  if (settings.duration === null && settings.maxsize === null) return;
  const table = (stream.idmp ??= new IdmpTable());
  if (settings.duration !== null) table.duration = settings.duration;
  if (settings.maxsize !== null) table.maxsize = settings.maxsize;
  table.clear();
}

/** XIDMPRECORD key pid iid stream-id: +OK when recorded, or when the pair already maps to that same entry. */
function xidmprecord(ctx: CommandContext): void {
  const [, keyArg, pidArg, iidArg, idArg] = ctx.args;
  const id = parseStrictId(idArg);
  const key = keyArg.toString('latin1');
  const stream = ctx.db.get(key);
  if (!stream) throw new CommandError(Err.noSuchKey);
  if (pidArg.length === 0) throw new CommandError(IdmpErr.emptyPid);
  if (iidArg.length === 0) throw new CommandError(IdmpErr.emptyIid);
  if (!stream.hasEntry(id)) throw new CommandError(IdmpErr.recordNoEntry);
  const pid = pidArg.toString('latin1');
  const iid = iidArg.toString('latin1');
  const table = (stream.idmp ??= new IdmpTable());
  const existing = table.recorded(pid, iid);
  if (existing !== null) {
    if (compareIds(existing, id) !== 0) throw new CommandError(IdmpErr.recordConflict);
    ctx.reply.ok();
    return;
  }
  table.record(pid, iid, id, ctx.now, stream.idmpMaxsize);
  changeLog(ctx.server)?.record(stream, { type: ChangeType.IDMP, pid, iid, id, time: ctx.now });
  ctx.db.touch(key);
  ctx.reply.ok();
}

export const streamIdmpCommands: CommandSpec[] = [
  command({
    name: 'xidmprecord',
    arity: 5,
    flags: ['write', 'denyoom', 'fast'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    aclCategories: ['@write', '@stream', '@fast'],
    group: 'stream',
    summary: 'An internal command for setting IDMP metadata on an existing stream message.',
    since: '8.8.0',
    complexity: 'O(1)',
    handler: xidmprecord,
  }),
];
