// Redis 8.8's XNACK: release pending entries of a consumer group without acknowledging them, so any consumer
// can claim them at once. Syntax and semantics follow redis.io's XNACK page (error texts: see NackErr).

import { CommandError, Err, NackErr } from '../errors';
import { idsBlockCount, keywordEquals } from './args';
import { command, type CommandContext, type CommandSpec } from './types';
import { parseInt64 } from '../protocol/numbers';
import { parseStrictId, type StreamId } from '../streams/streamId';
import { changeLog } from './changes';
import { ChangeType, type ClaimedNack } from '../streams/changeRecords';

/** LLONG_MAX: FATAL's delivery count ("permanently failed"). */
const FATAL_COUNT = 9223372036854775807n;

type NackMode = 'silent' | 'fail' | 'fatal';

function modeOf(arg: Buffer): NackMode {
  if (keywordEquals(arg, 'SILENT')) return 'silent';
  if (keywordEquals(arg, 'FAIL')) return 'fail';
  if (keywordEquals(arg, 'FATAL')) return 'fatal';
  throw new CommandError(NackErr.mode);
}

interface NackArgs {
  mode: NackMode;
  ids: StreamId[];
  /** -1: not given. */
  retryCount: bigint;
  force: boolean;
}

/** `<mode> IDS numids id ... [RETRYCOUNT n] [FORCE]` from args[3] on; the options may come in any order. */
function parseNackArgs(args: Buffer[]): NackArgs {
  const mode = modeOf(args[3]);
  let idsAt = -1;
  let numIds = 0;
  let retryCount = -1n;
  let force = false;
  for (let i = 4; i < args.length; i++) {
    const opt = args[i];
    if (keywordEquals(opt, 'IDS') && i + 1 < args.length) {
      numIds = idsBlockCount(args, i, NackErr);
      idsAt = i + 2;
      i = idsAt + numIds - 1;
    } else if (keywordEquals(opt, 'RETRYCOUNT') && i + 1 < args.length) {
      const n = parseInt64(args[++i]);
      if (n === null) throw new CommandError(Err.notInteger);
      if (n < 0n) throw new CommandError(NackErr.retryCount);
      retryCount = n;
    } else if (keywordEquals(opt, 'FORCE')) {
      force = true;
    } else {
      throw new CommandError(NackErr.unknownOption(opt));
    }
  }
  if (idsAt < 0) throw new CommandError(NackErr.missingIds);
  const ids: StreamId[] = [];
  for (let j = 0; j < numIds; j++) ids.push(parseStrictId(args[idsAt + j]));
  return { mode, ids, retryCount, force };
}

/** The delivery count after the release: RETRYCOUNT wins, else SILENT undoes one delivery (not below 0), FATAL maxes it. */
function countAfter(args: NackArgs, previous: bigint | null): bigint {
  if (args.retryCount >= 0n) return args.retryCount;
  if (args.mode === 'fatal') return FATAL_COUNT;
  if (previous === null) return 0n; // FORCE: a new NACK
  if (args.mode === 'silent') return previous > 0n ? previous - 1n : 0n;
  return previous;
}

function xnack(ctx: CommandContext): void {
  const key = ctx.args[1].toString('latin1');
  const groupName = ctx.args[2].toString('latin1');
  // Key and group first, as XACK looks them up before its IDs.
  const stream = ctx.db.get(key);
  const group = stream?.groups.get(groupName);
  if (!stream || !group) throw new CommandError(Err.noGroupGeneric(key, groupName));
  const args = parseNackArgs(ctx.args);
  const count = (previous: bigint | null) => countAfter(args, previous);
  const released: StreamId[] = [];
  for (const id of args.ids) {
    // FORCE creates NACKs only for entries that exist in the stream.
    if (group.release(id, args.force && stream.hasEntry(id), count)) released.push(id);
  }
  if (released.length > 0) {
    ctx.db.touch(key);
    const log = changeLog(ctx.server);
    if (log !== null) {
      // Recorded as the NACKs it left: no owner, delivery time 0, the new count (a claim by nobody).
      const nacks: ClaimedNack[] = released.map((id) => ({ id, deliveryTime: 0, deliveryCount: group.pel.get(id)!.deliveryCount }));
      log.record(stream, { type: ChangeType.CLAIM, group: groupName, consumer: null, time: ctx.now, lastId: null, nacks, dropped: [] });
    }
  }
  ctx.reply.integer(released.length);
}

export const streamNackCommands: CommandSpec[] = [
  command({
    name: 'xnack',
    arity: -7,
    flags: ['write', 'fast'],
    firstKey: 1,
    lastKey: 1,
    keyStep: 1,
    aclCategories: ['@write', '@stream', '@fast'],
    group: 'stream',
    summary: "Releases pending messages back to the group's PEL without acknowledging them, making them available for re-delivery.",
    since: '8.8.0',
    complexity: 'O(1) for each message ID processed.',
    handler: xnack,
  }),
];
