// XINFO STREAM [FULL [COUNT]], GROUPS, CONSUMERS, HELP. Idle/seen/active times and radix-tree-nodes are masked.
import { addMany, differentialSuite, type Script } from '../helpers/differential';
import { maskXinfo } from '../helpers/mask';

const x = (cmd: string) => ({ cmd, mask: [maskXinfo] });

const scripts: Script[] = [
  {
    name: 'XINFO STREAM on a small stream',
    steps: [addMany('s', 1, 3), x('XINFO STREAM s')],
  },
  {
    name: 'XINFO STREAM on an empty stream (MKSTREAM, all deleted)',
    steps: ['XGROUP CREATE e g $ MKSTREAM', x('XINFO STREAM e'), 'XADD d 1-0 f v', 'XDEL d 1-0', x('XINFO STREAM d'), x('XINFO STREAM d FULL')],
  },
  {
    name: 'XINFO STREAM after XSETID and deletions',
    steps: [addMany('s', 1, 4), 'XDEL s 2-0', 'XSETID s 100-0 ENTRIESADDED 50 MAXDELETEDID 10-0', x('XINFO STREAM s'), x('XINFO STREAM s FULL')],
  },
  {
    name: 'XINFO STREAM with many entries (radix-tree-keys)',
    steps: [addMany('s', 1, 250), x('XINFO STREAM s'), x('XINFO STREAM s FULL COUNT 3'), x('XINFO STREAM s FULL COUNT 0')],
  },
  {
    name: 'XINFO STREAM FULL default COUNT is 10',
    steps: [addMany('s', 1, 15), x('XINFO STREAM s FULL')],
  },
  {
    name: 'XINFO STREAM FULL with a PEL over COUNT',
    steps: [addMany('s', 1, 15), 'XGROUP CREATE s g 0', 'XREADGROUP GROUP g c STREAMS s >', x('XINFO STREAM s FULL COUNT 2')],
  },
  {
    name: 'XINFO errors',
    steps: [
      'XADD s 1-0 f v',
      'XINFO STREAM nosuch',
      'XINFO GROUPS nosuch',
      'XINFO CONSUMERS nosuch g',
      'XINFO CONSUMERS s nog',
      'XINFO STREAM s FOO',
      'XINFO STREAM s FULL COUNT',
      'XINFO STREAM s FULL COUNT x',
      'XINFO STREAM s FULL COUNT -1',
      'XINFO STREAM s COUNT 1',
      'XINFO STREAM',
      'XINFO GROUPS',
      'XINFO CONSUMERS s',
      'XINFO FOO s',
      'XINFO',
      'XINFO STREAM s FULL COUNT 1 extra',
    ],
  },
  {
    name: 'XINFO HELP',
    steps: ['XINFO HELP', 'XINFO help', 'XINFO HELP x'],
  },
  {
    name: 'XINFO GROUPS and CONSUMERS',
    steps: [
      addMany('s', 1, 4),
      x('XINFO GROUPS s'),
      'XGROUP CREATE s g 0',
      'XGROUP CREATE s a $',
      'XGROUP CREATECONSUMER s g zed',
      'XREADGROUP GROUP g bob COUNT 1 STREAMS s >',
      'XREADGROUP GROUP g al COUNT 2 STREAMS s >',
      x('XINFO GROUPS s'),
      x('XINFO CONSUMERS s g'),
      x('XINFO CONSUMERS s a'),
    ],
  },
  {
    name: 'XSETID',
    steps: [
      addMany('s', 1, 3),
      'XSETID s 5-0',
      'XSETID s 2-0',
      'XSETID s 3-0',
      'XSETID s 10-0 ENTRIESADDED 2',
      'XSETID s 10-0 ENTRIESADDED 10',
      'XSETID s 10-0 ENTRIESADDED 10 MAXDELETEDID 11-0',
      'XSETID s 10-0 ENTRIESADDED 10 MAXDELETEDID 9-0',
      'XSETID s 10-0 ENTRIESADDED -1',
      'XSETID s 10-0 ENTRIESADDED x',
      'XSETID s 10-0 MAXDELETEDID x',
      'XSETID s 10-0 FOO',
      'XSETID nosuch 1-0',
      'XSETID s abc',
      'XSETID s',
      'XSETID s $',
      'XADD s 10-0 f v',
      'XADD s 11-* f v',
      x('XINFO STREAM s'),
      'XADD e 1-0 f v',
      'XDEL e 1-0',
      'XSETID e 0-0',
      'XSETID e 0-1',
      x('XINFO STREAM e'),
    ],
  },
];

differentialSuite(scripts);
