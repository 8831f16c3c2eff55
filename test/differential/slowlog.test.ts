// SLOWLOG against redis-server 7.0.15: with slowlog-log-slower-than 0 every command is logged, so what is logged,
// in which order, with which arguments (cut to 32, each to 128 bytes, passwords redacted) and client name can be
// compared byte for byte; the id, time, duration and client address are masked (they differ by nature).
import { differentialSuite, type Script } from '../helpers/differential';
import { maskHelloId, maskPath, sortAt, sortPairs, sortPairsUnderKey } from '../helpers/mask';

/** Entry fields [id, unix time, microseconds, args, ip:port, name]: all but the arguments and the name masked. */
const maskEntries = [maskPath('*', 0), maskPath('*', 1), maskPath('*', 2), maskPath('*', 4)];

/** Every command logged from here on (each script starts from an empty log). */
const LOG_ALL = ['CONFIG SET slowlog-log-slower-than 0', 'SLOWLOG RESET'];
const RESTORE = ['CONFIG SET slowlog-log-slower-than 10000 slowlog-max-len 128', 'SLOWLOG RESET'];

const binary = Buffer.from([0x00, 0xff, 0x0a, 0x22, 0x5c, 0x41]);

const scripts: Script[] = [
  {
    name: 'SLOWLOG HELP, and errors of the subcommands',
    steps: [
      'SLOWLOG HELP',
      'SLOWLOG',
      'SLOWLOG NOSUCH',
      'SLOWLOG LEN extra',
      'SLOWLOG RESET extra',
      'SLOWLOG HELP extra',
      'SLOWLOG GET 1 2',
      'SLOWLOG GET -2',
      'SLOWLOG GET abc',
      'SLOWLOG GET 1.5',
      'SLOWLOG get 0',
    ],
  },
  {
    name: 'COMMAND INFO and COMMAND DOCS of SLOWLOG and MONITOR',
    steps: [
      { cmd: 'COMMAND INFO slowlog monitor', mask: [sortAt(0, 9)] },
      'COMMAND INFO slowlog|get slowlog|len slowlog|reset slowlog|help',
      { cmd: 'COMMAND DOCS slowlog monitor', mask: [sortPairsUnderKey('subcommands')] },
    ],
  },
  {
    name: 'slowlog options: defaults, CONFIG GET and SET, range errors',
    steps: [
      { cmd: 'CONFIG GET slowlog*', mask: [sortPairs] },
      'CONFIG SET slowlog-log-slower-than -2',
      'CONFIG SET slowlog-log-slower-than abc',
      'CONFIG SET slowlog-max-len -1',
      'CONFIG SET slowlog-log-slower-than -1 slowlog-max-len 5',
      { cmd: 'CONFIG GET slowlog*', mask: [sortPairs] },
    ],
    after: RESTORE,
  },
  {
    name: 'every command logged at threshold 0, newest first, with the client name',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      'CLIENT SETNAME tracer',
      'XADD s 1-0 f v',
      'XRANGE s - +',
      ['XADD', 's', '2-0', 'bin', binary],
      'XLEN nosuch',
      'XADD s 1-0 f v',
      'SLOWLOG LEN',
      'SLOWLOG GET',
      'SLOWLOG GET 2',
      'SLOWLOG GET -1',
      'SLOWLOG GET 0',
      { c: 1, cmd: 'PING' },
      'SLOWLOG GET 1',
    ],
    after: RESTORE,
  },
  {
    name: 'arguments cut as Redis: 33 arguments, a 200-byte argument',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      ['XADD', 's', '1-0', ...Array.from({ length: 15 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
      ['XADD', 's', '2-0', 'f', 'x'.repeat(200)],
      ['XADD', 's', '3-0', 'g'.repeat(129), 'y'.repeat(128)],
      ['XADD', 's', '4-0', ...Array.from({ length: 16 }, (_, i) => [`f${i}`, 'z'.repeat(130)]).flat()],
      'SLOWLOG GET 4',
    ],
    after: RESTORE,
  },
  {
    name: 'rejected commands are not logged; EXEC is not, the commands it runs are',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      'NOSUCHCOMMAND a',
      'XADD s',
      'MULTI',
      'XADD s 1-0 f v',
      'XLEN s',
      'EXEC',
      'SLOWLOG GET',
    ],
    after: RESTORE,
  },
  {
    name: 'passwords redacted: AUTH and HELLO AUTH',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      'AUTH secret',
      'AUTH default secret',
      'AUTH a b c',
      { c: 1, cmd: 'HELLO 2 AUTH default secret SETNAME named', mask: [maskHelloId] },
      { c: 1, cmd: 'HELLO 4 AUTH default secret' },
      'SLOWLOG GET',
    ],
    after: RESTORE,
  },
  {
    name: 'slowlog-max-len keeps the newest; a negative threshold logs nothing',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      'XADD s 1-0 f v',
      'XADD s 2-0 f v',
      'XADD s 3-0 f v',
      'CONFIG SET slowlog-max-len 2',
      'SLOWLOG LEN',
      'SLOWLOG GET',
      'CONFIG SET slowlog-log-slower-than -1',
      'XADD s 4-0 f v',
      'SLOWLOG GET',
      'CONFIG SET slowlog-max-len 0',
      'SLOWLOG LEN',
      'CONFIG SET slowlog-log-slower-than 0',
      'XADD s 5-0 f v',
      'SLOWLOG LEN',
      'CONFIG SET slowlog-max-len 128',
      'SLOWLOG RESET',
      'SLOWLOG LEN',
      'XLEN s',
      'SLOWLOG GET',
    ],
    after: RESTORE,
  },
  {
    // Slept for rather than polled with INFO: every INFO would be logged too.
    name: 'a blocked XREAD is logged once served, not when it timed out',
    mask: maskEntries,
    steps: [
      ...LOG_ALL,
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { sleep: 100 },
      'XADD s 1-0 f v',
      { c: 1, collect: 1 },
      { c: 1, cmd: 'XREAD BLOCK 10 STREAMS s $' },
      'SLOWLOG GET',
    ],
    after: RESTORE,
  },
  {
    // A threshold no command reaches (100 s), rather than the default: a loaded machine may take 10 ms.
    name: 'commands under the threshold are not logged',
    steps: ['CONFIG SET slowlog-log-slower-than 100000000', 'SLOWLOG RESET', 'XADD s 1-0 f v', 'XRANGE s - +', 'SLOWLOG LEN', 'SLOWLOG GET'],
    after: RESTORE,
  },
];

differentialSuite(scripts);
