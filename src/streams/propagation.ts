// How stream writes travel to replicas, as Redis 7 propagates them (t_stream.c), so a replica — Spool or
// redis-server — ends in the same state whatever its clock and node sizes: XADD carries the ID it generated,
// approximate trims become the exact trim with the same effect (streamRewriteApproxSpecifier /
// streamRewriteTrimArgument), and reads and claims by a consumer group travel as the XCLAIM / XGROUP SETID /
// XGROUP CREATECONSUMER that reproduce the state they left (streamPropagateXCLAIM, streamPropagateGroupID,
// streamPropagateConsumerCreation). Every other write travels as sent.

import { keywordEquals } from '../commands/args';
import { refPolicyOf } from '../commands/refPolicy';
import { formatId, type StreamId } from './streamId';
import type { ConsumerGroup } from './consumerGroup';
import type { Stream } from './stream';

/** `streamOf` finds the stream a command changed, after it ran; null: the command travels as sent. */
type Rewriter = (args: Buffer[], streamOf: (key: Buffer) => Stream | undefined) => Buffer[] | null;

const XCLAIM = Buffer.from('XCLAIM');
const XGROUP = Buffer.from('XGROUP');
const ZERO = Buffer.from('0');
const TIME = Buffer.from('TIME');
const RETRYCOUNT = Buffer.from('RETRYCOUNT');
const FORCE = Buffer.from('FORCE');
const JUSTID = Buffer.from('JUSTID');
const LASTID = Buffer.from('LASTID');
const SETID = Buffer.from('SETID');
const ENTRIESREAD = Buffer.from('ENTRIESREAD');
const CREATECONSUMER = Buffer.from('CREATECONSUMER');
const EXACT = Buffer.from('=');
const MAX_ID_TEXT = '18446744073709551615-18446744073709551615';

const text = (s: string | number | bigint): Buffer => Buffer.from(String(s), 'latin1');

/**
 * Rewrites, in place on a copy, the `~` before the threshold at `at` into `=` and the threshold into what the
 * trim left: the stream's length (MAXLEN) or its first entry's ID (MINID).
 */
function exactTrim(out: Buffer[], at: number, stream: Stream, minid: boolean): void {
  if (out[at] === undefined || out[at].length !== 1 || out[at][0] !== 0x7e /* ~ */) return; // exact already
  out[at] = EXACT;
  at++;
  const first = stream.firstEntry();
  // An empty stream: streamGetEdgeID's maximum ID, which trims everything.
  out[at] = minid ? text(first === null ? MAX_ID_TEXT : formatId(first.id)) : text(stream.length);
}

/**
 * Trimming options from `from` on (MAXLEN/MINID [=|~] threshold [LIMIT n], policies, IDMP...) up to the first
 * argument that is not one; rewrites an approximate trim. Returns the index after the options.
 */
function rewriteTrimOptions(out: Buffer[], from: number, stream: Stream, stopAtId: boolean): number {
  let i = from;
  for (; i < out.length; i++) {
    const a = out[i];
    if (keywordEquals(a, 'MAXLEN') || keywordEquals(a, 'MINID')) {
      exactTrim(out, i + 1, stream, keywordEquals(a, 'MINID'));
      const next = out[i + 1];
      i += next.length === 1 && (next[0] === 0x3d || next[0] === 0x7e) ? 2 : 1;
    } else if (keywordEquals(a, 'LIMIT')) i++;
    else if (keywordEquals(a, 'IDMP')) i += 2;
    else if (keywordEquals(a, 'IDMPAUTO')) i++;
    else if (keywordEquals(a, 'NOMKSTREAM') || refPolicyOf(a) !== null) continue;
    else if (stopAtId) break;
  }
  return i;
}

/** XADD: the generated ID in place of `*` / `ms-*`, approximate trims made exact. */
const xadd: Rewriter = (args, streamOf) => {
  const stream = streamOf(args[1]);
  if (stream === undefined) return null;
  const out = args.slice();
  const idAt = rewriteTrimOptions(out, 2, stream, true);
  out[idAt] = text(formatId(stream.lastId));
  return out;
};

/** XTRIM: an approximate trim made exact. */
const xtrim: Rewriter = (args, streamOf) => {
  const stream = streamOf(args[1]);
  if (stream === undefined) return null;
  const out = args.slice();
  rewriteTrimOptions(out, 2, stream, false);
  return out;
};

/** By statistics name: commands whose propagated form differs from the request. */
export const REWRITE: ReadonlyMap<string, Rewriter> = new Map([
  ['xadd', xadd],
  ['xtrim', xtrim],
]);

/**
 * Commands that travel as what they did (built by the handler: the functions below), never as sent. The others
 * travel when they touched a key (server.dirty), or always on success (ALWAYS_PROPAGATED).
 */
export const PROPAGATED_BY_HANDLER: ReadonlySet<string> = new Set(['xreadgroup', 'xclaim', 'xautoclaim']);
export const ALWAYS_PROPAGATED: ReadonlySet<string> = new Set([
  'flushall',
  'flushdb',
  'swapdb',
  // Successful, yet no key touched (as Redis, WATCH does not see them): sent on success. CREATECONSUMER of an
  // existing consumer is a no-op on the replica too.
  'xsetid',
  'xgroup|create',
  'xgroup|setid',
  'xgroup|createconsumer',
  'xcfgset',
  'xidmprecord',
]);

/**
 * `XCLAIM <key> <group> <consumer> 0 <id> TIME <ms> RETRYCOUNT <n> FORCE JUSTID LASTID <group last id>`: puts
 * the pending entry `id` in the state it has now (streamPropagateXCLAIM). With no pending entry left (it was
 * dropped because its stream entry was deleted), the XCLAIM that drops it on the replica too.
 */
export function xclaimOf(key: Buffer, groupName: Buffer, group: ConsumerGroup, id: StreamId, now: number, claimant: Buffer): Buffer[] {
  const nack = group.pel.get(id);
  const owner = nack === null ? null : group.ownerOf(nack.owner);
  return [
    XCLAIM,
    key,
    groupName,
    owner === null ? claimant : Buffer.from(owner.name, 'latin1'),
    ZERO,
    text(formatId(id)),
    TIME,
    text(nack === null ? now : nack.deliveryTime),
    RETRYCOUNT,
    text(nack === null ? 0 : nack.deliveryCount),
    FORCE,
    JUSTID,
    LASTID,
    text(formatId(group.lastId)),
  ];
}

/** `XGROUP SETID <key> <group> <last id> ENTRIESREAD <n>` (streamPropagateGroupID). */
export function groupIdOf(key: Buffer, groupName: Buffer, group: ConsumerGroup): Buffer[] {
  return [XGROUP, SETID, key, groupName, text(formatId(group.lastId)), ENTRIESREAD, text(group.entriesRead)];
}

/** `XGROUP CREATECONSUMER <key> <group> <consumer>` (streamPropagateConsumerCreation). */
export function consumerCreationOf(key: Buffer, groupName: Buffer, consumer: Buffer): Buffer[] {
  return [XGROUP, CREATECONSUMER, key, groupName, consumer];
}

/**
 * A replica applying its master's stream: a master sends `=` trims with the LIMIT the client gave (Redis
 * ignores LIMIT from its master, the threshold being exact); Spool's parser refuses LIMIT without `~`, so it is
 * dropped here. Returns the arguments to run.
 */
export function withoutMasterLimit(args: Buffer[]): Buffer[] {
  const isXadd = keywordEquals(args[0], 'XADD');
  if (!isXadd && !keywordEquals(args[0], 'XTRIM')) return args;
  const out = args.slice(0, 2);
  let i = 2;
  while (i < args.length) {
    const a = args[i];
    if (keywordEquals(a, 'LIMIT')) {
      i += 2;
      continue;
    }
    let n = 1;
    if (keywordEquals(a, 'MAXLEN') || keywordEquals(a, 'MINID')) {
      const next = args[i + 1];
      n = next !== undefined && next.length === 1 && (next[0] === 0x3d || next[0] === 0x7e) ? 3 : 2;
    } else if (keywordEquals(a, 'IDMP')) n = 3;
    else if (keywordEquals(a, 'IDMPAUTO')) n = 2;
    else if (isXadd && !keywordEquals(a, 'NOMKSTREAM') && refPolicyOf(a) === null) n = args.length - i; // the ID and fields
    out.push(...args.slice(i, i + n));
    i += n;
  }
  return out;
}
