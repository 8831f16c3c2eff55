// Redis 8.2's XDELEX and XACKDEL: delete (and, XACKDEL, acknowledge) entries under a reference policy
// (KEEPREF | DELREF | ACKED), one integer per ID. Replies and error texts follow redis.io's command pages and
// Redis 8.2's test suite; the policy semantics live in src/streams/references.ts.

import { CommandError, DeleteErr, Err } from '../errors';
import { idsBlockCount, keywordEquals } from './args';
import { checkSinglePolicy, refPolicyOf } from './refPolicy';
import { command, type CommandContext, type CommandSpec } from './types';
import { changeLog } from './changes';
import { ChangeType } from '../streams/changeRecords';
import type { Stream } from '../streams/stream';
import { deleteWithPolicy, type RefPolicy } from '../streams/references';
import { parseStrictId, type StreamId } from '../streams/streamId';

interface DeleteArgs {
  policy: RefPolicy;
  ids: StreamId[];
}

/**
 * `[KEEPREF | DELREF | ACKED] IDS numids id ...` from args[from] on, in any order (the docs: the IDS block can be
 * anywhere). A numids that is not an integer >= 1, or larger than the arguments left, has its own error; extra
 * arguments after the IDs are read as options, so `IDS 1 1-1 2-2` is a syntax error. IDs are all checked before
 * anything is changed.
 */
function parseDeleteArgs(args: Buffer[], from: number): DeleteArgs {
  let policy: RefPolicy | null = null;
  let idsAt = -1;
  let numIds = 0;
  for (let i = from; i < args.length; i++) {
    const opt = args[i];
    const named = refPolicyOf(opt);
    if (named !== null) {
      checkSinglePolicy(policy);
      policy = named;
    } else if (keywordEquals(opt, 'IDS') && i + 1 < args.length && idsAt < 0) {
      numIds = idsBlockCount(args, i, DeleteErr);
      idsAt = i + 2;
      i = idsAt + numIds - 1;
    } else {
      throw new CommandError(Err.syntax);
    }
  }
  if (idsAt < 0) throw new CommandError(Err.syntax);
  const ids: StreamId[] = [];
  for (let j = 0; j < numIds; j++) ids.push(parseStrictId(args[idsAt + j]));
  return { policy: policy ?? 'keepref', ids };
}

function replyAllMissing(ctx: CommandContext, n: number): void {
  ctx.reply.array(n);
  for (let j = 0; j < n; j++) ctx.reply.integer(-1);
}

function xdelex(ctx: CommandContext): void {
  const { policy, ids } = parseDeleteArgs(ctx.args, 2);
  const key = ctx.args[1].toString('latin1');
  const stream = ctx.db.get(key);
  if (!stream) return replyAllMissing(ctx, ids.length);
  const changed: StreamId[] = [];
  ctx.reply.array(ids.length);
  for (const id of ids) {
    const result = deleteWithPolicy(stream, id, policy);
    if (result.changed) changed.push(id);
    ctx.reply.integer(result.outcome);
  }
  if (changed.length > 0) {
    ctx.db.touch(key);
    recordDeletes(ctx, stream, changed, policy);
  }
}

/**
 * Records the IDs whose entry (or, DELREF, whose references) went: replayed as deletions, DELREF dropping the
 * references too. An ACKED deletion is a plain one then (only unreferenced entries were deleted).
 */
function recordDeletes(ctx: CommandContext, stream: Stream, ids: StreamId[], policy: RefPolicy): void {
  changeLog(ctx.server)?.record(stream, { type: ChangeType.DELETE, ids, delref: policy === 'delref' });
}

function xackdel(ctx: CommandContext): void {
  const { policy, ids } = parseDeleteArgs(ctx.args, 3);
  const key = ctx.args[1].toString('latin1');
  const stream = ctx.db.get(key);
  const group = stream?.groups.get(ctx.args[2].toString('latin1'));
  if (!stream || !group) return replyAllMissing(ctx, ids.length);
  const acked: StreamId[] = [];
  const deleted: StreamId[] = [];
  ctx.reply.array(ids.length);
  for (const id of ids) {
    // Not pending in this group: nothing is acknowledged, nothing deleted (Redis 8.2: -1).
    if (!group.ack(id)) {
      ctx.reply.integer(-1);
      continue;
    }
    acked.push(id);
    // Acknowledged: deleted, or already gone from the stream (both 1, as Redis 8.2's KEEPREF test shows), or
    // kept because another group still needs it (ACKED: 2).
    const result = deleteWithPolicy(stream, id, policy);
    if (result.changed) deleted.push(id);
    ctx.reply.integer(result.outcome === 2 ? 2 : 1);
  }
  if (acked.length > 0) {
    ctx.db.touch(key);
    // Each ID's acknowledgement and deletion touch only that ID: all acks, then all deletions, is the same.
    changeLog(ctx.server)?.record(stream, { type: ChangeType.ACK, group: group.name, ids: acked });
    if (deleted.length > 0) recordDeletes(ctx, stream, deleted, policy);
  }
}

const STREAM = { group: 'stream' } as const;
const KEY_AT_1 = { firstKey: 1, lastKey: 1, keyStep: 1 } as const;

export const streamDeleteCommands: CommandSpec[] = [
  command({
    name: 'xdelex',
    arity: -5,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary: 'Deletes one or multiple entries from the stream.',
    since: '8.2.0',
    complexity: 'O(1) for each single item to delete in the stream, regardless of the stream size.',
    handler: xdelex,
  }),
  command({
    name: 'xackdel',
    arity: -6,
    flags: ['write', 'fast'],
    ...KEY_AT_1,
    aclCategories: ['@write', '@stream', '@fast'],
    ...STREAM,
    summary: 'Acknowledges and conditionally deletes one or multiple entries for a stream consumer group.',
    since: '8.2.0',
    complexity: 'O(1) for each entry ID processed.',
    handler: xackdel,
  }),
];
