// The client side of MIGRATE: one connection to the target, the whole pipeline (AUTH, SELECT, RESTOREs) written
// at once, then one reply read per command, each step bounded by the idle timeout, as Redis's migrateCommand
// does with syncWrite/syncReadLine, but without blocking the event loop. Replies are parsed with redis-parser.
// Failures carry which step failed, for Redis's IOERR texts.

import net from 'node:net';

interface RespParser {
  execute(data: Buffer): void;
}
type ParserCtor = new (options: {
  returnReply: (reply: unknown) => void;
  returnError: (err: Error) => void;
  returnFatalError?: (err: Error) => void;
}) => RespParser;
/** Loaded on the first MIGRATE only: a server that never migrates does not need the package. */
let parserCtor: ParserCtor | null = null;
function parserClass(): ParserCtor {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (parserCtor ??= require('redis-parser') as ParserCtor);
}

/** A reply line: `ok` true for a status/other reply, false for an error (`text` without the leading '-'). */
export interface TargetReply {
  ok: boolean;
  text: string;
}

export class MigrateIoError extends Error {
  constructor(readonly step: 'connecting' | 'writing' | 'reading') {
    super(`migrate ${step}`);
  }
}

/** Encodes one command as a RESP array of bulk strings. */
export function encodeRequest(args: readonly (Buffer | string)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`, 'latin1')];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`, 'latin1'), b, Buffer.from('\r\n', 'latin1'));
  }
  return Buffer.concat(parts);
}

/**
 * Connects to host:port, writes `request`, and collects `expected` replies. `timeoutMs` bounds the connection and
 * every wait for progress. Rejects with MigrateIoError; `replies` received before a read failure are kept in
 * `partial` (MIGRATE still deletes the keys the target acknowledged).
 */
export function exchange(host: string, port: number, request: Buffer, expected: number, timeoutMs: number, partial: TargetReply[] = []): Promise<TargetReply[]> {
  return new Promise((resolve, reject) => {
    const socket = new net.Socket();
    let step: 'connecting' | 'writing' | 'reading' = 'connecting';
    let settled = false;
    const finish = (err: MigrateIoError | null) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      if (err) reject(err);
      else resolve(partial);
    };
    const Parser = parserClass();
    const parser = new Parser({
      returnReply: (reply) => {
        partial.push({ ok: true, text: Buffer.isBuffer(reply) ? reply.toString('latin1') : String(reply) });
        if (partial.length === expected) finish(null);
      },
      returnError: (err) => {
        partial.push({ ok: false, text: err.message });
        if (partial.length === expected) finish(null);
      },
      returnFatalError: () => finish(new MigrateIoError('reading')),
    });
    socket.setTimeout(timeoutMs, () => finish(new MigrateIoError(step)));
    // Redis connects without blocking and learns of a refused connection only when it writes: a refused or reset
    // connection is a write error there; an address that cannot be resolved or reached, a connect error.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      const refused = err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET';
      finish(new MigrateIoError(step === 'connecting' && refused ? 'writing' : step));
    });
    socket.on('close', () => finish(new MigrateIoError(step === 'connecting' ? 'writing' : 'reading')));
    socket.on('data', (chunk) => parser.execute(chunk));
    socket.connect({ host, port }, () => {
      step = 'writing';
      socket.write(request, (err) => {
        if (err) finish(new MigrateIoError('writing'));
        else if (step === 'writing') step = 'reading';
      });
    });
  });
}
