// MULTI/EXEC/DISCARD/WATCH/UNWATCH over stream commands.
import { differentialSuite, type Script } from '../helpers/differential';
import { maskXinfo } from '../helpers/mask';

const scripts: Script[] = [
  {
    name: 'MULTI EXEC with stream commands',
    steps: ['MULTI', 'XADD s 1-0 f v', 'XADD s 2-0 g w', 'XLEN s', 'XRANGE s - +', 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', 'XPENDING s g', 'EXEC', 'XLEN s'],
  },
  {
    name: 'runtime errors inside EXEC do not abort the rest',
    steps: ['MULTI', 'XADD s 1-0 f v', 'XADD s 1-0 f v', 'XGROUP CREATE nosuch g 0', 'XLEN s', 'EXEC'],
  },
  {
    name: 'queue-time errors abort EXEC',
    steps: ['MULTI', 'XADD s 1-0 f v', 'XADD s', 'NOSUCHCMD', 'EXEC', 'EXISTS s', 'MULTI', 'FOO', 'EXEC'],
  },
  {
    name: 'DISCARD and errors outside MULTI',
    steps: ['EXEC', 'DISCARD', 'MULTI', 'MULTI', 'XADD s 1-0 f v', 'DISCARD', 'EXISTS s', 'EXEC', 'MULTI', 'EXEC', 'MULTI', 'WATCH s', 'EXEC'],
  },
  {
    name: 'WATCH: modification by another client aborts EXEC',
    steps: ['XADD s 1-0 f v', 'WATCH s', { c: 1, cmd: 'XADD s 2-0 f v' }, 'MULTI', 'XLEN s', 'EXEC', 'XLEN s'],
  },
  {
    name: 'WATCH: no modification, EXEC runs; UNWATCH clears',
    steps: [
      'XADD s 1-0 f v',
      'WATCH s',
      'MULTI',
      'XLEN s',
      'EXEC',
      'WATCH s',
      { c: 1, cmd: 'XADD s 2-0 f v' },
      'UNWATCH',
      'MULTI',
      'XLEN s',
      'EXEC',
    ],
  },
  {
    name: 'WATCH sees every kind of stream modification',
    steps: [
      'XADD s 1-0 f v',
      'XADD s 2-0 f v',
      'XGROUP CREATE s g 0',
      ...[
        'XDEL s 1-0',
        'XTRIM s MAXLEN 0',
        'XSETID s 100-0',
        'XGROUP CREATE s h 0',
        'XGROUP SETID s g 0',
        'XREADGROUP GROUP g c STREAMS s >',
        'XGROUP CREATECONSUMER s g d',
        'DEL s',
        'RENAME s t',
        'FLUSHDB',
      ].flatMap((mod, i) => [
        `XADD s ${10 + i}-0 f v`,
        'XGROUP CREATE s g 0',
        'WATCH s',
        { c: 1, cmd: mod },
        'MULTI',
        'PING',
        'EXEC',
      ]),
    ],
  },
  {
    name: 'WATCH is not triggered by reads or failed writes',
    steps: [
      'XADD s 5-0 f v',
      'XGROUP CREATE s g 0',
      'WATCH s',
      { c: 1, cmd: 'XRANGE s - +' },
      { c: 1, cmd: 'XLEN s' },
      { c: 1, cmd: 'XADD s 1-0 f v' },
      { c: 1, cmd: 'XDEL s 9-0' },
      { c: 1, cmd: 'XINFO STREAM s', mask: [maskXinfo] },
      'MULTI',
      'PING',
      'EXEC',
    ],
  },
  {
    name: 'WATCH a missing key that is then created',
    steps: ['WATCH s', { c: 1, cmd: 'XADD s 1-0 f v' }, 'MULTI', 'PING', 'EXEC'],
  },
  {
    name: 'EXEC with blocking reads and SELECT inside',
    steps: ['MULTI', 'SELECT 2', 'XADD s 1-0 f v', 'XREAD BLOCK 0 STREAMS s 0', 'XREADGROUP GROUP g c BLOCK 0 STREAMS s >', 'EXEC', 'XLEN s', 'SELECT 2', 'XLEN s'],
  },
  {
    name: 'commands not allowed in MULTI',
    steps: ['MULTI', 'WATCH x', 'MULTI', 'PING', 'EXEC'],
  },
];

differentialSuite(scripts);
