// What each stream write command leaves in its stream's log besides entries. Entries themselves are ENTRY
// records written by the entry store; every other change (XDEL, trims, XSETID, consumer groups) is journaled
// as the command that made it, with its time, and replayed through the same handler at recovery — so the log
// alone rebuilds all state and there is one implementation of each command's semantics.
//
// Commands are rewritten where replay could otherwise differ: XADD journals only its trim (as XTRIM), an
// approximate trim is journaled as the exact trim with the same effect (exactTrimOf), XREADGROUP journals one
// record per stream it read, without BLOCK (replay never blocks).

import { keywordEquals } from '../commands/args';
import { refPolicyOf } from '../commands/refPolicy';
import { formatId } from './streamId';
import type { Stream } from './stream';

export interface JournalRecord {
  /** Key (in the client's database) whose log gets the record. */
  readonly key: Buffer;
  readonly args: Buffer[];
}

/** `streamOf` finds a stream the command just changed (XADD IDMP journals what it recorded there). */
type Journaler = (args: Buffer[], streamOf?: (key: Buffer) => Stream | undefined) => JournalRecord[];

const NOTHING: JournalRecord[] = [];

const XTRIM = Buffer.from('XTRIM');
const XIDMPRECORD = Buffer.from('XIDMPRECORD');
const STREAMS = Buffer.from('STREAMS');

/** The whole command, in the log of the key at `keyIndex`. */
const whole =
  (keyIndex: number): Journaler =>
  (args) => [{ key: args[keyIndex], args }];

/**
 * XADD's trimming options (MAXLEN/MINID [=|~] threshold [LIMIT n], KEEPREF | DELREF | ACKED) as an XTRIM, or
 * nothing. With IDMP/IDMPAUTO, first the mapping it recorded as XIDMPRECORD (its iid as computed, its entry's
 * ID); a duplicate (nothing recorded) added and trimmed nothing, so it leaves no record at all.
 */
function xaddTrim(args: Buffer[], streamOf?: (key: Buffer) => Stream | undefined): JournalRecord[] {
  // Options are words; an ID is digits or `*`: most XADDs have no option and journal nothing.
  const first = args[2]?.[0] ?? 0;
  if (first < 0x41 || first > 0x7a) return NOTHING;
  const trim: Buffer[] = [];
  const out: JournalRecord[] = [];
  let strategy = false;
  for (let i = 2; i < args.length; i++) {
    const a = args[i];
    if (keywordEquals(a, 'NOMKSTREAM')) continue;
    const idmp = keywordEquals(a, 'IDMP');
    if (idmp || keywordEquals(a, 'IDMPAUTO')) {
      i += idmp ? 2 : 1;
      const recorded = streamOf?.(args[1])?.idmp?.lastRecord;
      if (!recorded) return [];
      const record = [XIDMPRECORD, args[1], Buffer.from(recorded.pid, 'latin1'), Buffer.from(recorded.iid, 'latin1'), Buffer.from(formatId(recorded.id))];
      out.push({ key: args[1], args: record });
      continue;
    }
    if (refPolicyOf(a) !== null) {
      trim.push(a);
      continue;
    }
    if (keywordEquals(a, 'MAXLEN') || keywordEquals(a, 'MINID')) {
      strategy = true;
      trim.push(a);
      const next = args[i + 1];
      if (next && next.length === 1 && (next[0] === 0x3d /* = */ || next[0] === 0x7e) /* ~ */) trim.push(args[++i]);
      trim.push(args[++i]);
      continue;
    }
    if (keywordEquals(a, 'LIMIT')) {
      trim.push(a, args[++i]);
      continue;
    }
    break; // the ID: options end here
  }
  // A policy without a strategy trims nothing.
  if (strategy) out.push({ key: args[1], args: [XTRIM, args[1], ...trim] });
  return out;
}

/**
 * XREADGROUP ... STREAMS k1 k2 id1 id2: one record per key, each reading only that key, BLOCK dropped. Options are
 * read as xreadCommand reads them (GROUP takes two arguments, COUNT and BLOCK one), so a group or consumer named
 * "streams" is not taken for the STREAMS keyword.
 */
function xreadgroupPerKey(args: Buffer[]): JournalRecord[] {
  let streamsAt = -1;
  const options: Buffer[] = [];
  for (let i = 1; i < args.length; i++) {
    const a = args[i];
    if (keywordEquals(a, 'STREAMS')) {
      streamsAt = i;
      break;
    }
    if (keywordEquals(a, 'BLOCK')) {
      i++;
      continue;
    }
    if (keywordEquals(a, 'GROUP')) {
      options.push(a, args[i + 1], args[i + 2]);
      i += 2;
      continue;
    }
    if (keywordEquals(a, 'COUNT')) {
      options.push(a, args[++i]);
      continue;
    }
    options.push(a);
  }
  if (streamsAt < 0) return [];
  const rest = args.slice(streamsAt + 1);
  const n = rest.length / 2;
  const out: JournalRecord[] = [];
  for (let k = 0; k < n; k++) {
    out.push({ key: rest[k], args: [args[0], ...options, STREAMS, rest[k], rest[n + k]] });
  }
  return out;
}

/** Whether a journaled XTRIM trims approximately (`~`): its effect depends on the node sizes in force. */
export function isApproximateTrim(args: Buffer[]): boolean {
  if (!keywordEquals(args[0], 'XTRIM')) return false;
  for (let i = 2; i < args.length; i++) if (args[i].length === 1 && args[i][0] === 0x7e /* ~ */) return true;
  return false;
}

/**
 * The exact trim that leaves what an approximate one (`approxArgs`) left: `~` removes whole nodes, so everything
 * before the first live entry is gone and `XTRIM MINID =` that entry (or MAXLEN 0 when none is left) does the
 * same on the same layout, whatever stream-node-max-entries/-bytes are when the log is replayed. DELREF is kept
 * (the removed entries leave the PELs too); ACKED is not needed: it removed only entries no group needed, which
 * is what the plain exact trim removes then.
 */
export function exactTrimOf(key: Buffer, firstLiveId: string | null, approxArgs: Buffer[] = []): Buffer[] {
  const out =
    firstLiveId === null
      ? [XTRIM, key, Buffer.from('MAXLEN'), Buffer.from('='), Buffer.from('0')]
      : [XTRIM, key, Buffer.from('MINID'), Buffer.from('='), Buffer.from(firstLiveId)];
  for (let i = 2; i < approxArgs.length; i++) if (refPolicyOf(approxArgs[i]) === 'delref') out.push(approxArgs[i]);
  return out;
}

/** By statistics name (`container|sub` for subcommands). Commands not listed change no stream state. */
export const JOURNAL: ReadonlyMap<string, Journaler> = new Map<string, Journaler>([
  ['xadd', xaddTrim],
  ['xdel', whole(1)],
  ['xdelex', whole(1)],
  ['xackdel', whole(1)],
  ['xtrim', whole(1)],
  ['xsetid', whole(1)],
  ['xgroup|create', whole(2)],
  ['xgroup|setid', whole(2)],
  ['xgroup|destroy', whole(2)],
  ['xgroup|createconsumer', whole(2)],
  ['xgroup|delconsumer', whole(2)],
  ['xreadgroup', xreadgroupPerKey],
  ['xack', whole(1)],
  ['xnack', whole(1)],
  ['xclaim', whole(1)],
  ['xautoclaim', whole(1)],
  // Spool's per-stream settings: replayed at recovery, so they survive restarts.
  ['xcfgset', whole(1)],
  ['xidmprecord', whole(1)],
]);

/** Payload of a COMMAND record: u64 time (ms), u32 argc, then u32 length + bytes per argument. */
export function encodeCommand(now: number, args: Buffer[]): Buffer {
  let size = 12;
  for (const a of args) size += 4 + a.length;
  const out = Buffer.allocUnsafe(size);
  out.writeBigUInt64LE(BigInt(Math.max(0, Math.floor(now))), 0);
  out.writeUInt32LE(args.length, 8);
  let p = 12;
  for (const a of args) {
    out.writeUInt32LE(a.length, p);
    a.copy(out, p + 4);
    p += 4 + a.length;
  }
  return out;
}

export function decodeCommand(payload: Buffer): { now: number; args: Buffer[] } {
  const now = Number(payload.readBigUInt64LE(0));
  const argc = payload.readUInt32LE(8);
  const args: Buffer[] = [];
  let p = 12;
  for (let i = 0; i < argc; i++) {
    const len = payload.readUInt32LE(p);
    args.push(Buffer.from(payload.subarray(p + 4, p + 4 + len)));
    p += 4 + len;
  }
  return { now, args };
}


/**
 * Index of the key argument in a journaled command (as journaled above: XGROUP subcommands name it third,
 * XREADGROUP records read exactly one key, so it is the next-to-last argument, whatever the group or consumer
 * is called; the others name it second).
 * Recovery replaces that argument with the stream's current key: a RENAME after the command moved the stream's
 * log to a new key, and replaying the command under its old name would hit a missing key (a trim, XDEL, XSETID
 * or group change made before a RENAME was silently lost at restart).
 */
export function journaledKeyIndex(args: Buffer[]): number {
  const name = args[0];
  if (keywordEquals(name, 'XGROUP')) return 2;
  if (keywordEquals(name, 'XREADGROUP')) return args.length - 2;
  return 1;
}
