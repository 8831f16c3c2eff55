// Many clients woken together (issue 6, wake-up speed): Spool encodes the reply once for blocked XREAD clients
// whose requests are alike (key, start ID, COUNT, protocol) and writes the same bytes to each. These scripts pin
// that sharing to Redis's replies: alike and different readers mixed, COUNT, protocols mixed on one wake-up,
// XREADGROUP consumers (never shared: each moves entries into its own PEL) interleaved with XREAD readers, and
// clients blocked on several keys.
import { differentialSuite, type Script } from '../helpers/differential';
import { maskHelloId, maskPendingIdle } from '../helpers/mask';

/** Three XADDs in one write, so a single wake-up finds three new entries. */
const xadd3 = (key: string, first: number): string =>
  [0, 1, 2]
    .map((i) => `*5\r\n$4\r\nXADD\r\n$${key.length}\r\n${key}\r\n$3\r\n${first + i}-0\r\n$1\r\nf\r\n$1\r\n${i}\r\n`)
    .join('');

const scripts: Script[] = [
  {
    name: 'XREAD BLOCK alike and different readers woken by one batch',
    steps: [
      'XADD s 1-0 f v',
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 0 COUNT 1 STREAMS s $', defer: true },
      { c: 4, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 5, cmd: 'XREAD BLOCK 0 COUNT 2 STREAMS s 1-0', defer: true },
      { c: 6, cmd: 'XREAD BLOCK 0 COUNT 1 STREAMS s $', defer: true },
      { c: 7, cmd: 'XREAD BLOCK 0 STREAMS s 1-0', defer: true },
      { waitBlocked: 7 },
      { raw: xadd3('s', 2), replies: 3 },
      ...[1, 2, 3, 4, 5, 6, 7].map((c) => ({ c, collect: 1 })),
      // Woken again: the shared reply of the last wake-up is not reused.
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 2 },
      'XADD s 9-0 g w',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
    ],
  },
  {
    name: 'XREAD BLOCK alike readers in RESP2 and RESP3 woken together',
    protocols: [2],
    steps: [
      { c: 2, cmd: 'HELLO 3', mask: [maskHelloId] },
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 3 },
      'XADD s 5-0 f v',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
    ],
  },
  {
    name: 'XREADGROUP consumers interleaved with XREAD readers',
    steps: [
      'XGROUP CREATE s g $ MKSTREAM',
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 2, cmd: 'XREADGROUP GROUP g alice BLOCK 0 STREAMS s >', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { c: 4, cmd: 'XREADGROUP GROUP g bob COUNT 1 BLOCK 0 STREAMS s >', defer: true },
      { c: 5, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { waitBlocked: 5 },
      { raw: xadd3('s', 1), replies: 3 },
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
      { c: 5, collect: 1 },
      // alice took every new entry: bob waits for the next one.
      'XADD s 7-0 f v',
      { c: 4, collect: 1 },
      'XPENDING s g',
      { cmd: 'XPENDING s g - + 10', mask: [maskPendingIdle] },
    ],
  },
  {
    name: 'XREAD BLOCK on several keys, alike readers on each, one transaction wakes both keys',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS a b $ $', defer: true },
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS b $', defer: true },
      { c: 3, cmd: 'XREAD BLOCK 0 STREAMS a $', defer: true },
      { c: 4, cmd: 'XREAD BLOCK 0 STREAMS b a $ $', defer: true },
      { c: 5, cmd: 'XREAD BLOCK 0 STREAMS b $', defer: true },
      { waitBlocked: 5 },
      'MULTI',
      'XADD a 1-0 f v',
      'XADD b 1-0 f v',
      'EXEC',
      ...[1, 2, 3, 4, 5].map((c) => ({ c, collect: 1 })),
    ],
  },
];

differentialSuite(scripts);
