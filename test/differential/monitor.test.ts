// MONITOR against redis-server 7.0.15: the lines a monitoring client receives for other clients' commands
// (quoting of binary and special bytes, database, redaction, admin commands hidden, MULTI/EXEC), and what the
// monitoring client may still do. Timestamps and client addresses are masked; their format is checked.
import { differentialSuite, type Script } from '../helpers/differential';
import { nodeText } from '../helpers/resp';
import { maskAll, type Masker } from '../helpers/mask';

/**
 * `+<secs>.<6 digits> [<db> 127.0.0.1:<port>] ...` becomes `+<time> [<db> <addr>] ...`: the format is checked,
 * the values (which differ from run to run) are not. A line not in that format is left as it is, so it differs.
 */
const maskMonitorLine: Masker = (node) => {
  if (node.type !== '+') return;
  const text = nodeText(node)!;
  const masked = text.replace(/^\d+\.\d{6} \[(\d+) 127\.0\.0\.1:\d+\]/, '<time> [$1 <addr>]');
  if (masked === text) return;
  node.header = node.bytes = Buffer.from(`+${masked}\r\n`, 'latin1');
};

const special = Buffer.concat([Buffer.from('q"b\\n\nr\rt\ta\x07b\x08', 'latin1'), Buffer.from([0x00, 0x7f, 0x80, 0xff, 0x20, 0x7e])]);

/** CLIENT INFO: only its flags field (the rest is addresses, ids and ages), with the reply's type kept. */
const flagsOnly: Masker = (node) => {
  const m = /flags=(\S+)/.exec(nodeText(node) ?? '');
  if (m) node.header = node.bytes = Buffer.from(`+(${node.type}) flags=${m[1]}\r\n`, 'latin1');
};

/** Opens client 1 before client 0 monitors, so its RESP3 set-up (HELLO 3) is not among the lines. */
const OPEN_OTHER = { c: 1, cmd: 'PING' };

const scripts: Script[] = [
  {
    name: 'MONITOR shows other clients\' commands with Redis\'s quoting',
    mask: [maskMonitorLine],
    steps: [
      OPEN_OTHER,
      { c: 0, cmd: 'MONITOR' },
      { c: 1, cmd: ['XADD', 's', '1-0', 'f', special] },
      { c: 1, cmd: ['XADD', 's', '2-0', '', 'with space'] },
      { c: 1, cmd: 'XRANGE s - +' },
      { c: 1, cmd: 'XLEN nosuch' },
      { c: 1, cmd: 'XADD s 1-0 f v' },
      { c: 1, cmd: 'NOSUCHCOMMAND x' },
      { c: 1, cmd: 'XLEN' },
      { c: 0, collect: 5 },
    ],
  },
  {
    name: 'MONITOR hides admin commands and redacts passwords',
    mask: [maskMonitorLine],
    steps: [
      OPEN_OTHER,
      { c: 0, cmd: 'MONITOR' },
      { c: 1, cmd: 'CONFIG GET maxmemory' },
      { c: 1, cmd: 'SLOWLOG RESET' },
      { c: 1, cmd: 'CLIENT LIST', mask: [maskAll] },
      { c: 1, cmd: 'CLIENT KILL ID 999999' },
      { c: 1, cmd: 'CLIENT SETNAME watched' },
      { c: 1, cmd: 'CLIENT GETNAME' },
      { c: 1, cmd: 'AUTH secret' },
      { c: 1, cmd: 'AUTH default secret' },
      { c: 1, cmd: 'PING' },
      { c: 0, collect: 5 },
    ],
  },
  {
    name: 'MONITOR: database of SELECT, MULTI/EXEC, a blocking XREAD shown once',
    mask: [maskMonitorLine],
    steps: [
      OPEN_OTHER,
      { c: 2, cmd: 'PING' },
      { c: 0, cmd: 'MONITOR' },
      { c: 1, cmd: 'SELECT 3' },
      { c: 1, cmd: 'XADD s 1-0 f v' },
      { c: 1, cmd: 'MULTI' },
      { c: 1, cmd: 'XLEN s' },
      { c: 1, cmd: 'XRANGE s - +' },
      { c: 1, cmd: 'EXEC' },
      { c: 1, cmd: 'SELECT 0' },
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS s $', defer: true },
      { sleep: 100 },
      { c: 1, cmd: 'XADD s 2-0 f v' },
      { c: 2, collect: 1 },
      { c: 0, collect: 9 },
    ],
  },
  {
    name: 'the monitoring client: its own commands, keyspace refused, MONITOR twice, RESET leaves; MONITOR in MULTI',
    mask: [maskMonitorLine],
    steps: [
      { c: 1, cmd: 'MULTI' },
      { c: 1, cmd: 'MONITOR' },
      { c: 1, cmd: 'EXEC' },
      { c: 0, cmd: 'MONITOR' },
      { c: 0, cmd: 'CLIENT INFO', replies: 2, mask: [flagsOnly] },
      { c: 0, cmd: 'PING', replies: 2 },
      { c: 0, cmd: 'XLEN s' },
      { c: 0, cmd: 'XADD s 1-0 f v' },
      { c: 0, cmd: 'MONITOR', replies: 0 },
      { c: 0, cmd: 'ECHO x', replies: 2 },
      { c: 1, cmd: 'PING' },
      { c: 0, collect: 1 },
      { c: 0, cmd: 'RESET' },
      { c: 1, cmd: 'PING' },
      { c: 0, cmd: 'XLEN s' },
    ],
  },
];

differentialSuite(scripts);
