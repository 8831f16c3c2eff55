// XREAD: COUNT, several streams, $, BLOCK with a timeout and woken by XADD from another connection.
import { expect, test } from 'vitest';
import { addMany, describeSpool, differentialSuite, useSpool, type Script } from '../helpers/differential';
import { RespConnection, escapeBytes } from '../helpers/resp';

const scripts: Script[] = [
  {
    name: 'XREAD one stream, COUNT',
    steps: [
      addMany('s', 1, 5),
      'XREAD STREAMS s 0',
      'XREAD COUNT 2 STREAMS s 0',
      'XREAD COUNT 2 STREAMS s 2-0',
      'XREAD STREAMS s 5-0',
      'XREAD STREAMS s 3',
      'XREAD COUNT 0 STREAMS s 0',
      'XREAD COUNT -5 STREAMS s 0',
      'XREAD STREAMS nosuch 0',
      'XREAD STREAMS s $',
      'xread count 1 streams s 0-0',
    ],
  },
  {
    name: 'XREAD several streams',
    steps: [
      addMany('a', 1, 3),
      addMany('b', 10, 3),
      'XREAD STREAMS a b 0 0',
      'XREAD COUNT 1 STREAMS a b 0 0',
      'XREAD STREAMS a b 3-0 0',
      'XREAD STREAMS a b nosuch 0 0 0',
      'XREAD STREAMS a nosuch b 0 0 11',
      'XREAD STREAMS a a 0 2',
      'XREAD STREAMS a b $ $',
    ],
  },
  {
    name: 'XREAD errors',
    steps: [
      'XADD s 1-0 f v',
      'XREAD',
      'XREAD STREAMS',
      'XREAD STREAMS s',
      'XREAD STREAMS s t 0',
      'XREAD COUNT x STREAMS s 0',
      'XREAD BLOCK x STREAMS s 0',
      'XREAD BLOCK -1 STREAMS s 0',
      'XREAD STREAMS s abc',
      'XREAD STREAMS s >',
      'XREAD FOO STREAMS s 0',
      'XREAD COUNT 1',
      'XREAD STREAMS s 0 extra',
      'XREAD COUNT 1 COUNT 2 STREAMS s 0',
      'XREAD NOACK STREAMS s 0',
    ],
  },
  {
    name: 'XREAD BLOCK times out with a null reply',
    steps: ['XADD s 1-0 f v', { cmd: 'XREAD BLOCK 100 STREAMS s $' }, { cmd: 'XREAD BLOCK 50 STREAMS nosuch 0' }, 'PING'],
  },
  {
    name: 'XREAD BLOCK with data available returns at once',
    steps: ['XADD s 1-0 f v', 'XREAD BLOCK 0 STREAMS s 0', 'XREAD BLOCK 1000 COUNT 1 STREAMS s 0-0'],
  },
  {
    name: 'XREAD BLOCK 0 $ woken by XADD on another connection',
    steps: [
      'XADD s 1-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      'XADD s 2-0 g w',
      { c: 1, collect: 1 },
      { c: 1, cmd: 'PING' },
    ],
  },
  {
    name: 'XREAD BLOCK on a missing key woken by XADD that creates it',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 5000 STREAMS s 0', defer: true },
      { waitBlocked: 1 },
      'XADD s 3-0 f v',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK several clients woken by one XADD',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREAD BLOCK 0 COUNT 10 STREAMS s 0', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 0 STREAMS other s $ 0', defer: true },
      { waitBlocked: 3 },
      'XADD s 7-0 f v',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
    ],
  },
  {
    // Redis 7.0 adds the time to the timeout and lets it wrap; the client then waits until served
    name: 'XREAD and XREADGROUP BLOCK with timeouts near LLONG_MAX wait until woken',
    steps: [
      'XADD s 1-0 f v',
      'XGROUP CREATE s g $',
      { c: 1, cmd: 'XREAD BLOCK 9223372036854775807 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREADGROUP GROUP g c BLOCK 9223372036854775000 STREAMS s >', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 9223370000000000000 STREAMS s $', defer: true },
      { waitBlocked: 3 },
      'XADD s 2-0 g w',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK on two streams woken by the second',
    steps: [
      'XADD a 1-0 f v',
      'XADD b 1-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS a b $ $', defer: true },
      { waitBlocked: 1 },
      'XADD b 2-0 x y',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK not woken by an XADD below its ID, woken by a later one',
    steps: [
      'XADD s 5-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s 10-0', defer: true },
      { waitBlocked: 1 },
      'XADD s 6-0 f v',
      { sleep: 30 },
      'XADD s 11-0 f v',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK pipelined behind it: later commands wait for the blocked one',
    steps: [
      { c: 1, raw: '*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$1\r\ns\r\n$1\r\n$\r\n*1\r\n$4\r\nPING\r\n', replies: 2, defer: true },
      { waitBlocked: 1 },
      'XADD s 1-0 f v',
      { c: 1, collect: 2 },
    ],
  },
  {
    name: 'XREAD BLOCK not woken by XDEL or XTRIM, timeout afterwards',
    steps: [
      'XADD s 1-0 f v',
      'XADD s 2-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 300 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      'XDEL s 1-0',
      'XTRIM s MAXLEN 0',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK $ on a deleted and re-created key with a lower ID times out',
    steps: [
      'XADD s 5-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 300 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      'DEL s',
      'XADD s 1-0 f v',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK inside MULTI does not block',
    steps: ['MULTI', 'XREAD BLOCK 0 STREAMS s $', 'XREAD BLOCK 0 STREAMS s 0', 'EXEC', 'XADD s 1-0 f v', 'MULTI', 'XREAD BLOCK 0 STREAMS s 0', 'EXEC'],
  },
  {
    name: 'XREAD BLOCK COUNT returns at most COUNT of a batch',
    steps: [
      { c: 1, cmd: 'XREAD COUNT 2 BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      { raw: '*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n1-0\r\n$1\r\na\r\n$1\r\n1\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n2-0\r\n$1\r\nb\r\n$1\r\n2\r\n*5\r\n$4\r\nXADD\r\n$1\r\ns\r\n$3\r\n3-0\r\n$1\r\nc\r\n$1\r\n3\r\n', replies: 3 },
      { c: 1, collect: 1 },
    ],
  },
  // Blocked readers are served after the whole command (EXEC included), as handleClientsBlockedOnKeys runs:
  // they never see a state from the middle of a transaction.
  {
    name: 'XREAD BLOCK is not served the inside of a MULTI that adds then deletes the key',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 20000 STREAMS s1 $', defer: true },
      { waitBlocked: 1 },
      'MULTI',
      'XADD s1 1-0 old abcd1234',
      'DEL s1',
      'EXEC',
      'XADD s1 2-0 new abcd1234',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK on one key named three times gets every entry a MULTI added',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 20000 STREAMS s2 s2 s2 $ $ $', defer: true },
      { waitBlocked: 1 },
      'MULTI',
      'XADD s2 1-0 a 1',
      'XADD s2 2-0 b 2',
      'XADD s2 3-0 c 3',
      'EXEC',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK on two keys served once after a MULTI that adds to both',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 20000 STREAMS a b $ $', defer: true },
      { waitBlocked: 1 },
      'MULTI',
      'XADD a 1-0 f 1',
      'XADD b 1-0 f 2',
      'XADD a 2-0 f 3',
      'EXEC',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREADGROUP BLOCK is not served the inside of a MULTI',
    steps: [
      'XGROUP CREATE s g $ MKSTREAM',
      { c: 1, cmd: 'XREADGROUP GROUP g alice BLOCK 20000 STREAMS s >', defer: true },
      { c: 2, cmd: 'XREADGROUP GROUP g bob BLOCK 300 COUNT 1 STREAMS s >', defer: true },
      { waitBlocked: 2 },
      'MULTI',
      'XADD s 1-0 f 1',
      'XADD s 2-0 f 2',
      'XADD s 3-0 f 3',
      'EXEC',
      { c: 1, collect: 1 },
      'XPENDING s g',
      { c: 2, collect: 1 },
    ],
  },
  {
    name: 'XREADGROUP BLOCK after a MULTI that adds, deletes and re-creates the key with its group',
    steps: [
      'XGROUP CREATE s g $ MKSTREAM',
      { c: 1, cmd: 'XREADGROUP GROUP g alice BLOCK 20000 STREAMS s >', defer: true },
      { waitBlocked: 1 },
      'MULTI',
      'XADD s 1-0 old 1',
      'DEL s',
      'XGROUP CREATE s g $ MKSTREAM',
      'XADD s 2-0 new 2',
      'EXEC',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'XREADGROUP BLOCK after a MULTI that adds to the key and deletes it is unblocked with an error',
    steps: [
      'XGROUP CREATE s g $ MKSTREAM',
      { c: 1, cmd: 'XREADGROUP GROUP g alice BLOCK 20000 STREAMS s >', defer: true },
      { waitBlocked: 1 },
      'MULTI',
      'XADD s 1-0 f 1',
      'DEL s',
      'EXEC',
      { c: 1, collect: 1 },
    ],
  },
  {
    name: 'blocked client closed before data arrives',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 1 },
      { c: 1, close: true },
      'XADD s 1-0 f v',
      'XLEN s',
    ],
  },
];

differentialSuite(scripts);

// XREAD with `+` (the last entry) is Redis 7.4; the reference here is 7.0, so Spool's replies are checked directly
// against what 7.4 sends.
describeSpool('XREAD + (Redis 7.4) on Spool', () => {
  const port = useSpool();
  const run = async (cmds: string[][]): Promise<string[]> => {
    const c = await RespConnection.connect(port());
    try {
      const out: string[] = [];
      for (const cmd of cmds) out.push(escapeBytes((await c.call(cmd)).bytes));
      return out;
    } finally {
      c.close();
    }
  };

  test('returns the last entry of each stream, ignores COUNT, skips empty and missing streams', async () => {
    const out = await run([
      ['FLUSHALL'],
      ['XADD', 'a', '1-0', 'f', 'v1'],
      ['XADD', 'a', '2-0', 'f', 'v2'],
      ['XADD', 'b', '5-0', 'g', 'w'],
      ['XGROUP', 'CREATE', 'e', 'g', '$', 'MKSTREAM'],
      ['XREAD', 'STREAMS', 'a', '+'],
      ['XREAD', 'COUNT', '5', 'STREAMS', 'a', 'b', '+', '+'],
      ['XREAD', 'STREAMS', 'nosuch', 'e', '+', '+'],
      ['XREAD', 'STREAMS', 'a', 'nosuch', '+', '0'],
      ['XREAD', 'BLOCK', '100', 'STREAMS', 'a', '+'],
    ]);
    expect(out.slice(5)).toEqual([
      '*1\\r\\n*2\\r\\n$1\\r\\na\\r\\n*1\\r\\n*2\\r\\n$3\\r\\n2-0\\r\\n*2\\r\\n$1\\r\\nf\\r\\n$2\\r\\nv2\\r\\n',
      '*2\\r\\n*2\\r\\n$1\\r\\na\\r\\n*1\\r\\n*2\\r\\n$3\\r\\n2-0\\r\\n*2\\r\\n$1\\r\\nf\\r\\n$2\\r\\nv2\\r\\n*2\\r\\n$1\\r\\nb\\r\\n*1\\r\\n*2\\r\\n$3\\r\\n5-0\\r\\n*2\\r\\n$1\\r\\ng\\r\\n$1\\r\\nw\\r\\n',
      '*-1\\r\\n',
      '*1\\r\\n*2\\r\\n$1\\r\\na\\r\\n*1\\r\\n*2\\r\\n$3\\r\\n2-0\\r\\n*2\\r\\n$1\\r\\nf\\r\\n$2\\r\\nv2\\r\\n',
      '*1\\r\\n*2\\r\\n$1\\r\\na\\r\\n*1\\r\\n*2\\r\\n$3\\r\\n2-0\\r\\n*2\\r\\n$1\\r\\nf\\r\\n$2\\r\\nv2\\r\\n',
    ]);
  });

  test('XREADGROUP rejects +', async () => {
    const out = await run([['FLUSHALL'], ['XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM'], ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 's', '+']]);
    expect(out[2]).toMatch(/^-ERR /);
  });
});
