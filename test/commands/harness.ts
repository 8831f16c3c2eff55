// Runs command handlers directly (registry resolution, arity, error replies) against a Database holding the
// fake in-memory Stream from test/streams/fakeStream.ts. Test files must vi.mock src/streams/stream with it.
import { CommandRegistry } from '../../src/commands/registry';
import { ArgReader } from '../../src/commands/args';
import { Request } from '../../src/protocol/request';
import { CommandError } from '../../src/errors';
import { ReplyWriter, type Protocol } from '../../src/protocol/replyWriter';
import { Database } from '../../src/keyspace/database';
import type { CommandContext, CommandSpec } from '../../src/commands/types';
import type { BlockRequest } from '../../src/server/blocking';
import { Stream } from '../streams/fakeStream';
import { parseStrictId } from '../../src/streams/streamId';

export class Harness {
  readonly registry: CommandRegistry;
  readonly touched: string[] = [];
  readonly signalled: string[] = [];
  readonly db: Database;
  now = 1_000_000;
  protocol: Protocol = 2;
  inTransaction = false;
  blocked: BlockRequest | null = null;

  constructor(specs: readonly CommandSpec[]) {
    this.registry = new CommandRegistry(specs);
    this.db = new Database(0, (_db, key) => this.touched.push(key), (_db, key) => this.signalled.push(key));
  }

  stream(key: string): Stream {
    let s = this.db.get(key) as unknown as Stream | undefined;
    if (!s) {
      s = new Stream(key);
      this.db.set(key, s as never);
    }
    return s;
  }

  /** XADD-like helper: add entries `id f v ...`. */
  add(key: string, id: string, ...kv: string[]): void {
    this.stream(key).add(parseStrictId(id), ...(kv.length ? kv : ['f', 'v']));
  }

  del(key: string, ...ids: string[]): void {
    for (const id of ids) this.stream(key).del(parseStrictId(id));
  }

  /** Runs one command; returns the reply bytes as a latin1 string. */
  run(...words: string[]): string {
    const args = words.map((w) => Buffer.from(w, 'latin1'));
    const reply = new ReplyWriter(this.protocol);
    try {
      const { spec, argStart } = this.registry.resolve(args);
      const ctx: CommandContext = {
        server: {
          createStream: (_db: Database, key: string) => new Stream(key),
          // retention (XCFGSET maxage/maxbytes) is tested in test/integration/streamConfig.test.ts
          retention: { defaultsActive: false, changed: () => undefined },
          // no replica, no backlog: nothing is propagated (replication is tested in test/integration)
          propagation: null,
          // no logs: handlers record no changes (the records are tested in test/durability/typedRecords.test.ts)
          persistence: null,
        } as never,
        client: {} as never,
        db: this.db,
        request: Request.of(args),
        args,
        argv: new ArgReader(args, argStart),
        reply,
        now: this.now,
        inTransaction: this.inTransaction,
        block: (req) => {
          this.blocked = req;
        },
        callQueued: () => {},
      };
      spec.handler!(ctx);
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      reply.error(e.reply);
    }
    return reply.take().toString('latin1');
  }

  /** Offers a signalled key to the blocked request; returns the reply (or null when it keeps waiting). */
  wake(key: string): string | null {
    const req = this.blocked!;
    const reply = new ReplyWriter(this.protocol);
    try {
      if (!req.tryServe(key, reply, this.now)) return null;
    } catch (e) {
      if (!(e instanceof CommandError)) throw e;
      reply.error(e.reply);
    }
    return reply.take().toString('latin1');
  }
}

/** RESP helpers for expected values. */
export const bulk = (s: string) => `$${Buffer.byteLength(s, 'latin1')}\r\n${s}\r\n`;
export const int = (n: number | bigint) => `:${n}\r\n`;
export const arr = (...items: string[]) => `*${items.length}\r\n${items.join('')}`;
export const map3 = (...items: string[]) => `%${items.length / 2}\r\n${items.join('')}`;
export const entry = (id: string, ...kv: string[]) => arr(bulk(id), arr(...kv.map(bulk)));
export const err = (s: string) => `-${s}\r\n`;
export const OK = '+OK\r\n';
export const NULL_BULK = '$-1\r\n';
export const NULL_ARRAY = '*-1\r\n';
