// XADD/XDEL/XTRIM/XSETID/XRANGE/XREVRANGE/XLEN/XREAD run directly (no server) over the real Stream.
// Byte-for-byte comparison with redis-server is in test/differential/streams-*.test.ts.
import { describe, expect, it } from 'vitest';
import { CommandRegistry } from '../../src/commands/registry';
import { ArgReader } from '../../src/commands/args';
import { Request } from '../../src/protocol/request';
import { CommandError } from '../../src/errors';
import { ReplyWriter, type Protocol } from '../../src/protocol/replyWriter';
import { Database } from '../../src/keyspace/database';
import type { CommandContext } from '../../src/commands/types';
import type { BlockRequest } from '../../src/server/blocking';
import { Stream } from '../../src/streams/stream';
import { streamWriteCommands } from '../../src/commands/streamWrite';
import { streamReadCommands } from '../../src/commands/streamRead';

class Bench {
  readonly registry = new CommandRegistry([...streamWriteCommands, ...streamReadCommands]);
  readonly touched: string[] = [];
  readonly signalled: string[] = [];
  readonly db = new Database(0, (_d, k) => this.touched.push(k), (_d, k) => this.signalled.push(k));
  readonly streamSettings = { nodeMaxEntries: 100, nodeMaxBytes: 4096 };
  now = 1000;
  protocol: Protocol = 2;
  inTransaction = false;
  blocked: BlockRequest | null = null;

  run(line: string | string[]): string {
    const words = typeof line === 'string' ? line.split(' ') : line;
    const args = words.map((w) => Buffer.from(w, 'latin1'));
    const reply = new ReplyWriter(this.protocol);
    try {
      const { spec, argStart } = this.registry.resolve(args);
      const ctx: CommandContext = {
        server: {
          streamSettings: this.streamSettings,
          createStream: (_db: Database, key: string) => new Stream(key, this.streamSettings),
          retention: { defaultsActive: false, changed: () => undefined },
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

  wake(key: string): string | null {
    const reply = new ReplyWriter(this.protocol);
    if (!this.blocked!.tryServe(key, reply, this.now)) return null;
    return reply.take().toString('latin1');
  }
}

const entry = (id: string, ...kv: string[]) =>
  `*2\r\n$${id.length}\r\n${id}\r\n*${kv.length}\r\n${kv.map((s) => `$${s.length}\r\n${s}\r\n`).join('')}`;

describe('XADD', () => {
  it('adds, generates IDs from the command clock, touches and signals', () => {
    const b = new Bench();
    expect(b.run('XADD s * f v')).toBe('$6\r\n1000-0\r\n');
    expect(b.run('XADD s * f v')).toBe('$6\r\n1000-1\r\n');
    expect(b.run('XADD s 2000-* f v')).toBe('$6\r\n2000-0\r\n');
    expect(b.touched).toContain('s');
    expect(b.signalled).toEqual(['s', 's', 's']);
    expect(b.run('XLEN s')).toBe(':3\r\n');
  });

  it('NOMKSTREAM, 0-0, arity and option errors', () => {
    const b = new Bench();
    expect(b.run('XADD s NOMKSTREAM * f v')).toBe('$-1\r\n');
    expect(b.db.has('s')).toBe(false);
    expect(b.run('XADD s 0-0 f v')).toBe('-ERR The ID specified in XADD must be greater than 0-0\r\n');
    expect(b.run('XADD s 1-1 f v g')).toBe("-ERR wrong number of arguments for 'xadd' command\r\n");
    expect(b.run('XADD s MAXLEN 5 LIMIT 5 * f v')).toBe(
      '-ERR syntax error, LIMIT cannot be used without the special ~ option\r\n',
    );
    expect(b.run('XADD s LIMIT 5 * f v')).toBe(
      '-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n',
    );
    expect(b.run('XADD s MAXLEN -1 * f v')).toBe('-ERR The MAXLEN argument must be >= 0.\r\n');
    expect(b.run('XADD s MAXLEN 1 MINID 1 * f v')).toBe(
      '-ERR syntax error, MAXLEN and MINID options at the same time are not compatible\r\n',
    );
    expect(b.db.has('s')).toBe(false);
  });

  it('trims after adding', () => {
    const b = new Bench();
    for (let i = 1; i <= 10; i++) b.run(`XADD s ${i}-0 f v`);
    expect(b.run('XADD s MAXLEN = 3 11-0 f v')).toBe('$4\r\n11-0\r\n');
    expect(b.run('XRANGE s - + COUNT 1')).toBe(`*1\r\n${entry('9-0', 'f', 'v')}`);
    expect(b.run('XADD s MINID 11 12-0 f v')).toBe('$4\r\n12-0\r\n');
    expect(b.run('XLEN s')).toBe(':2\r\n');
  });
});

describe('XDEL, XTRIM, XSETID', () => {
  it('XDEL counts deletions; a missing key answers 0 before IDs are checked', () => {
    const b = new Bench();
    expect(b.run('XDEL nosuch bad')).toBe(':0\r\n');
    b.run('XADD s 1-0 f v');
    b.run('XADD s 2-0 f v');
    expect(b.run('XDEL s 1-0 3-0 bad')).toBe('-ERR Invalid stream ID specified as stream command argument\r\n');
    expect(b.run('XDEL s 1-0 3-0 1-0')).toBe(':1\r\n');
    expect(b.run('XLEN s')).toBe(':1\r\n');
  });

  it('XTRIM options', () => {
    const b = new Bench();
    expect(b.run('XTRIM nosuch MAXLEN 0')).toBe(':0\r\n');
    expect(b.run('XTRIM s LIMIT 1')).toBe('-ERR syntax error, LIMIT cannot be used without specifying a trimming strategy\r\n');
    expect(b.run('XTRIM s FOO 1')).toBe('-ERR syntax error\r\n');
    expect(b.run('XTRIM s MAXLEN ~')).toBe('-ERR value is not an integer or out of range\r\n');
    for (let i = 1; i <= 250; i++) b.run(`XADD s ${i}-0 f v`);
    expect(b.run('XTRIM s MAXLEN ~ 120')).toBe(':100\r\n');
    expect(b.run('XTRIM s MAXLEN ~ 0 LIMIT 50')).toBe(':0\r\n');
    expect(b.run('XTRIM s MINID = 200')).toBe(':99\r\n');
  });

  it('XSETID argument errors come before the key lookup', () => {
    const b = new Bench();
    expect(b.run('XSETID nosuch 5-0 ENTRIESADDED -1')).toBe('-ERR entries_added must be positive\r\n');
    expect(b.run('XSETID nosuch 5-0 MAXDELETEDID 6-0')).toBe(
      '-ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id\r\n',
    );
    expect(b.run('XSETID nosuch 5-0 FOO')).toBe('-ERR syntax error\r\n');
    expect(b.run('XSETID nosuch 5-0')).toBe('-ERR no such key\r\n');
    b.run('XADD s 3-0 f v');
    expect(b.run('XSETID s 2-0')).toBe('-ERR The ID specified in XSETID is smaller than the target stream top item\r\n');
    expect(b.run('XSETID s 9-0 ENTRIESADDED 5 MAXDELETEDID 1-0')).toBe('+OK\r\n');
    expect(b.run('XADD s 9-0 f v')).toBe('-ERR The ID specified in XADD is equal or smaller than the target stream top item\r\n');
  });
});

describe('XRANGE / XREVRANGE', () => {
  it('exclusive bounds, COUNT 0 and missing keys', () => {
    const b = new Bench();
    b.run('XADD s 1-1 a 1');
    b.run('XADD s 2-0 b 2');
    expect(b.run('XRANGE s (1-1 +')).toBe(`*1\r\n${entry('2-0', 'b', '2')}`);
    expect(b.run('XREVRANGE s (2-0 -')).toBe(`*1\r\n${entry('1-1', 'a', '1')}`);
    expect(b.run('XRANGE s (18446744073709551615-18446744073709551615 +')).toBe(
      '-ERR invalid start ID for the interval\r\n',
    );
    expect(b.run('XRANGE s - (0-0')).toBe('-ERR invalid end ID for the interval\r\n');
    expect(b.run('XRANGE s - + COUNT 0')).toBe('*-1\r\n');
    expect(b.run('XRANGE nosuch - + COUNT 0')).toBe('*0\r\n');
    expect(b.run('XRANGE s - + FOO')).toBe('-ERR syntax error\r\n');
  });
});

describe('XREAD', () => {
  it('serves synchronously, RESP2 arrays and RESP3 maps', () => {
    const b = new Bench();
    b.run('XADD s 1-0 f v');
    b.run('XADD t 1-0 g w');
    expect(b.run('XREAD STREAMS s t 0 1-0')).toBe(`*1\r\n*2\r\n$1\r\ns\r\n*1\r\n${entry('1-0', 'f', 'v')}`);
    b.protocol = 3;
    expect(b.run('XREAD COUNT 5 STREAMS s 0')).toBe(`%1\r\n$1\r\ns\r\n*1\r\n${entry('1-0', 'f', 'v')}`);
    expect(b.run('XREAD STREAMS s $')).toBe('_\r\n');
  });

  it('+ reads the last entry', () => {
    const b = new Bench();
    b.run('XADD s 1-0 f v');
    b.run('XADD s 2-0 f w');
    expect(b.run('XREAD STREAMS s +')).toBe(`*1\r\n*2\r\n$1\r\ns\r\n*1\r\n${entry('2-0', 'f', 'w')}`);
    expect(b.run('XREAD STREAMS nosuch +')).toBe('*-1\r\n');
  });

  it('BLOCK parks the client, is served by a later XADD, and does not block in a transaction', () => {
    const b = new Bench();
    b.run('XADD s 1-0 f v');
    expect(b.run('XREAD BLOCK 0 STREAMS s $')).toBe('');
    expect(b.blocked!.keys).toEqual(['s']);
    expect(b.wake('s')).toBeNull();
    b.run('XADD s 2-0 f w');
    expect(b.wake('s')).toBe(`*1\r\n*2\r\n$1\r\ns\r\n*1\r\n${entry('2-0', 'f', 'w')}`);
    const timeout = new ReplyWriter(2);
    b.blocked!.onTimeout(timeout);
    expect(timeout.take().toString()).toBe('*-1\r\n');

    b.blocked = null;
    b.inTransaction = true;
    expect(b.run('XREAD BLOCK 0 STREAMS s $')).toBe('*-1\r\n');
    expect(b.blocked).toBeNull();
  });

  it('errors', () => {
    const b = new Bench();
    expect(b.run('XREAD STREAMS s t 0')).toBe(
      "-ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\r\n",
    );
    expect(b.run('XREAD BLOCK -1 STREAMS s 0')).toBe('-ERR timeout is negative\r\n');
    expect(b.run('XREAD GROUP g c STREAMS s 0')).toBe(
      '-ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.\r\n',
    );
    expect(b.run('XREAD STREAMS s >')).toBe(
      '-ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.\r\n',
    );
  });
});
