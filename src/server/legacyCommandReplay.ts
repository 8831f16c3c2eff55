// LEGACY: logs written by builds before the typed change records (src/streams/changeRecords.ts) hold every
// stream change but entries as a COMMAND record: the (rewritten) command with its time, replayed through its
// handler. This build writes no COMMAND record; it only reads them, so an existing data directory still starts.
// Nothing else should grow here: new changes are typed records, replayed directly.

import { keywordEquals } from '../commands/args';
import { ReplyWriter } from '../protocol/replyWriter';
import { ClientState } from './clientState';
import type { Dispatcher } from './dispatcher';

/** A COMMAND payload: u64 time (ms), u32 argc, then u32 length + bytes per argument. */
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

/** The COMMAND payload of `args` at `now`, as the older builds wrote it (tests make old-format logs with it). */
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

/**
 * Index of the key argument in a journaled command: XGROUP subcommands name it third, XREADGROUP records read
 * exactly one key (the next-to-last argument), the others name it second. Replay puts the stream's current key
 * there (a RENAME after the command moved the log).
 */
export function journaledKeyIndex(args: Buffer[]): number {
  const name = args[0];
  if (keywordEquals(name, 'XGROUP')) return 2;
  if (keywordEquals(name, 'XREADGROUP')) return args.length - 2;
  return 1;
}

/** Replays COMMAND records through the dispatcher, as a recovery client of database `dbIndex` (made on first use). */
export class LegacyCommandReplay {
  private client: ClientState | null = null;
  private readonly sink = new ReplyWriter(2);

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly dbIndex: number,
  ) {}

  replay(payload: Buffer, key: Buffer): void {
    const { now, args } = decodeCommand(payload);
    args[journaledKeyIndex(args)] = key;
    if (this.client === null) {
      this.client = new ClientState(0, 'recovery', 'recovery', -1, 0, false, () => undefined);
      this.client.dbIndex = this.dbIndex;
    }
    this.dispatcher.replay(this.client, args, now, this.sink);
    this.sink.take();
  }
}
