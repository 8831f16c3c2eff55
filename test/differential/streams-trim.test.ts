// XADD with MAXLEN/MINID (exact and ~, LIMIT) and XTRIM. Approximate trimming removes whole Redis stream
// nodes (stream-node-max-entries 100, stream-node-max-bytes 4096), so the counts below check Spool's node model.
import { addMany, differentialSuite, type Script } from '../helpers/differential';
import { maskXinfo } from '../helpers/mask';

const scripts: Script[] = [
  {
    name: 'XADD MAXLEN exact',
    steps: [addMany('s', 1, 10), 'XADD s MAXLEN 5 11-0 f v', 'XLEN s', 'XRANGE s - + COUNT 1', 'XADD s MAXLEN = 2 12-0 f v', 'XRANGE s - +', 'XADD s MAXLEN 0 13-0 f v', 'XLEN s', 'EXISTS s'],
  },
  {
    name: 'XADD MINID exact',
    steps: [addMany('s', 1, 10), 'XADD s MINID 5 11-0 f v', 'XLEN s', 'XRANGE s - + COUNT 1', 'XADD s MINID = 11-0 12-0 f v', 'XRANGE s - +', 'XADD s MINID 100 13-0 f v', 'XLEN s'],
  },
  {
    name: 'XADD MAXLEN ~ keeps whole nodes',
    steps: [addMany('s', 1, 350), 'XADD s MAXLEN ~ 120 351-0 f v', 'XLEN s', 'XRANGE s - + COUNT 1', 'XADD s MAXLEN ~ 10 352-0 f v', 'XLEN s', 'XRANGE s - + COUNT 1'],
  },
  {
    name: 'XADD MINID ~ keeps whole nodes',
    steps: [addMany('s', 1, 350), 'XADD s MINID ~ 150 351-0 f v', 'XLEN s', 'XRANGE s - + COUNT 1', 'XADD s MINID ~ 351 352-0 f v', 'XLEN s'],
  },
  {
    name: 'XADD MAXLEN ~ LIMIT',
    steps: [addMany('s', 1, 550), 'XADD s MAXLEN ~ 0 LIMIT 150 551-0 f v', 'XLEN s', 'XADD s MAXLEN ~ 0 LIMIT 0 552-0 f v', 'XLEN s', 'XADD s MAXLEN ~ 0 LIMIT 99 553-0 f v', 'XLEN s', 'XADD s MAXLEN ~ 0 LIMIT 1000 554-0 f v', 'XLEN s'],
  },
  {
    name: 'XTRIM MAXLEN and MINID, exact',
    steps: [
      addMany('s', 1, 20),
      'XTRIM s MAXLEN 15',
      'XTRIM s MAXLEN = 15',
      'XTRIM s MINID 10',
      'XTRIM s MINID = 10-0',
      'XLEN s',
      'XRANGE s - + COUNT 2',
      'XTRIM s MAXLEN 0',
      'XLEN s',
      'EXISTS s',
      'XTRIM nosuch MAXLEN 0',
    ],
  },
  {
    name: 'XTRIM approximate and LIMIT',
    steps: [
      addMany('s', 1, 450),
      'XTRIM s MAXLEN ~ 300',
      'XTRIM s MAXLEN ~ 300',
      'XLEN s',
      'XTRIM s MINID ~ 260',
      'XLEN s',
      'XTRIM s MAXLEN ~ 0 LIMIT 100',
      'XLEN s',
      'XTRIM s MAXLEN ~ 0 LIMIT 50',
      'XLEN s',
      'XTRIM s MAXLEN 0 LIMIT 10',
      'XRANGE s - + COUNT 1',
    ],
  },
  {
    name: 'XTRIM with big values (node byte limit)',
    steps: [
      addMany('s', 1, 120, (i) => 'x'.repeat(200 + (i % 7))),
      'XTRIM s MAXLEN ~ 50',
      'XLEN s',
      'XRANGE s - + COUNT 1',
      'XTRIM s MAXLEN ~ 5',
      'XLEN s',
    ],
  },
  {
    name: 'XTRIM errors',
    steps: [
      'XADD s 1-0 f v',
      'XTRIM s',
      'XTRIM s MAXLEN',
      'XTRIM s FOO 1',
      'XTRIM s MAXLEN abc',
      'XTRIM s MAXLEN -1',
      'XTRIM s MINID abc',
      'XTRIM s MAXLEN 1 MINID 1',
      'XTRIM s MAXLEN 1 LIMIT 5',
      'XTRIM s MAXLEN = 1 LIMIT 5',
      'XTRIM s MAXLEN ~ 1 LIMIT -1',
      'XTRIM s MAXLEN ~ 1 LIMIT x',
      'XTRIM s MAXLEN ~ 1 EXTRA',
      'XTRIM s MAXLEN 1 1',
      'XLEN s',
    ],
  },
  {
    name: 'trimming updates XINFO first-entry and max-deleted-entry-id',
    steps: [addMany('s', 1, 10), 'XTRIM s MAXLEN 3', { cmd: 'XINFO STREAM s', mask: [maskXinfo] }, 'XDEL s 9-0', { cmd: 'XINFO STREAM s', mask: [maskXinfo] }],
  },
  {
    name: 'config stream-node-max-entries changes approximate trimming',
    steps: [
      'CONFIG SET stream-node-max-entries 10',
      addMany('s', 1, 95),
      'XTRIM s MAXLEN ~ 42',
      'XLEN s',
      'CONFIG SET stream-node-max-entries 100',
    ],
    after: ['CONFIG SET stream-node-max-entries 100'],
  },
];

differentialSuite(scripts);
