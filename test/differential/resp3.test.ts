// RESP3-specific behaviour: switching protocols with HELLO, null and map encodings of stream replies, RESET.
// (Every other differential script also runs in RESP3; these scripts do their own HELLO.)
import { differentialSuite, type Script } from '../helpers/differential';
import { maskHelloId, maskPendingIdle, maskXinfo } from '../helpers/mask';

const scripts: Script[] = [
  {
    name: 'null replies in RESP2 and RESP3 on one connection',
    steps: [
      'XADD s NOMKSTREAM 1-0 f v',
      'XREAD STREAMS s 0',
      'CLIENT GETNAME',
      { cmd: 'HELLO 3', mask: [maskHelloId] },
      'XADD s NOMKSTREAM 1-0 f v',
      'XREAD STREAMS s 0',
      'XREAD BLOCK 10 STREAMS s 0',
      'CLIENT GETNAME',
      'XRANGE s - + COUNT 0',
      'XGROUP CREATE s g $ MKSTREAM',
      'XPENDING s g',
      'XREADGROUP GROUP g c STREAMS s >',
      'XINFO GROUPS s',
      'MULTI',
      'EXEC',
      'WATCH s',
      { c: 1, cmd: 'XADD s 1-0 f v' },
      'MULTI',
      'EXEC',
    ],
  },
  {
    name: 'maps in RESP3: XREAD, XREADGROUP, XINFO, CONFIG GET, HELLO',
    steps: [
      { cmd: 'HELLO 3', mask: [maskHelloId] },
      'XADD a 1-0 f v',
      'XADD b 1-0 f v',
      'XREAD STREAMS a b 0 0',
      'XGROUP CREATE a g 0',
      'XREADGROUP GROUP g c STREAMS a >',
      { cmd: 'XPENDING a g - + 10', mask: [maskPendingIdle] },
      { cmd: 'XINFO STREAM a', mask: [maskXinfo] },
      { cmd: 'XINFO STREAM a FULL', mask: [maskXinfo] },
      { cmd: 'XINFO GROUPS a', mask: [maskXinfo] },
      { cmd: 'XINFO CONSUMERS a g', mask: [maskXinfo] },
      'CONFIG GET stream-node-max-entries',
      'XAUTOCLAIM a g d 0 0',
      'XINFO HELP',
    ],
  },
  {
    name: 'back to RESP2 with HELLO 2 and RESET',
    steps: [
      { cmd: 'HELLO 3', mask: [maskHelloId] },
      'XADD a 1-0 f v',
      'XREAD STREAMS a 0',
      { cmd: 'HELLO 2', mask: [maskHelloId] },
      'XREAD STREAMS a 0',
      { cmd: 'HELLO 3', mask: [maskHelloId] },
      'RESET',
      'XREAD STREAMS a 0',
      'CLIENT GETNAME',
    ],
  },
  {
    name: 'HELLO with SETNAME and AUTH in RESP3',
    steps: [{ cmd: 'HELLO 3 SETNAME n AUTH default x', mask: [maskHelloId] }, 'CLIENT GETNAME', 'HELLO 3 AUTH default', { cmd: 'HELLO 3 AUTH default pw SETNAME m', mask: [maskHelloId] }, 'CLIENT GETNAME'],
  },
  {
    name: 'RESP3 errors and transactions',
    steps: [{ cmd: 'HELLO 3', mask: [maskHelloId] }, 'MULTI', 'XADD s 1-0 f v', 'XADD s 1-0 f v', 'XREAD STREAMS s 0', 'EXEC', 'FOO', 'XADD'],
  },
];

differentialSuite(scripts.map((s) => ({ protocols: [2 as const], ...s })));
