// Server commands: COMMAND (COUNT, INFO and DOCS for the stream family), CONFIG GET/SET/RESETSTAT, DBSIZE,
// TIME, FUNCTION/SCRIPT FLUSH. INFO's content legitimately differs: its fields are checked on Spool directly.
import { expect, test } from 'vitest';
import { describeSpool, differentialSuite, useSpool, type Script } from '../helpers/differential';
import { maskAll, maskIntegers, maskPath, sortAt, sortPairs, sortPairsUnderKey } from '../helpers/mask';
import { RespConnection, nodeText } from '../helpers/resp';

const STREAM_COMMANDS = ['xadd', 'xrange', 'xrevrange', 'xlen', 'xdel', 'xtrim', 'xread', 'xreadgroup', 'xsetid', 'xack', 'xpending', 'xclaim', 'xautoclaim', 'xinfo', 'xgroup'];
const STREAM_SUBCOMMANDS = ['xinfo|stream', 'xinfo|groups', 'xinfo|consumers', 'xinfo|help', 'xgroup|create', 'xgroup|setid', 'xgroup|destroy', 'xgroup|createconsumer', 'xgroup|delconsumer', 'xgroup|help'];

const scripts: Script[] = [
  {
    name: 'COMMAND COUNT (shape) and errors',
    steps: [{ cmd: 'COMMAND COUNT', mask: [maskIntegers] }, 'COMMAND FOO', 'COMMAND COUNT x'],
  },
  // Container commands list their subcommands in Redis's dict order: sorted before comparing.
  ...STREAM_COMMANDS.map((c) => ({ name: `COMMAND INFO ${c}`, steps: [{ cmd: `COMMAND INFO ${c}`, mask: [sortAt(0, 9)] }] })),
  { name: 'COMMAND INFO stream subcommands', steps: STREAM_SUBCOMMANDS.map((c) => `COMMAND INFO ${c}`) },
  { name: 'COMMAND INFO of several and unknown commands', steps: ['COMMAND INFO xadd nosuch xlen', 'COMMAND INFO nosuch', 'COMMAND INFO XADD'] },
  ...STREAM_COMMANDS.map((c) => ({ name: `COMMAND DOCS ${c}`, steps: [{ cmd: `COMMAND DOCS ${c}`, mask: [sortPairsUnderKey('subcommands')] }] })),
  { name: 'COMMAND DOCS unknown', steps: ['COMMAND DOCS nosuch', 'COMMAND DOCS xadd nosuch'] },
  {
    // Redis matches the pattern as given, case-insensitively: [x-Z] swaps to Z..x, then lowers to z..x (empty).
    name: 'COMMAND LIST FILTERBY PATTERN matches as stringmatchlen with nocase',
    steps: [{ cmd: 'COMMAND LIST FILTERBY PATTERN X[A-D][D-E][D-L]', mask: [sortAt()] }, 'COMMAND LIST FILTERBY PATTERN [x-Z]*'],
  },
  {
    name: 'CONFIG GET',
    steps: [
      'CONFIG GET stream-node-max-entries',
      'CONFIG GET stream-node-max-bytes',
      'CONFIG GET maxmemory',
      'CONFIG GET maxmemory-policy',
      'CONFIG GET appendfsync',
      'CONFIG GET databases',
      'CONFIG GET timeout',
      'CONFIG GET requirepass',
      'CONFIG GET nosuchparam',
      { cmd: 'CONFIG GET stream-node-*', mask: [sortPairs] },
      { cmd: 'CONFIG GET stream-node-max-entries databases', mask: [sortPairs] },
      'CONFIG GET',
    ],
  },
  {
    name: 'CONFIG SET and errors',
    steps: [
      'CONFIG SET stream-node-max-entries 50',
      'CONFIG GET stream-node-max-entries',
      'CONFIG SET stream-node-max-entries abc',
      'CONFIG SET stream-node-max-entries -1',
      'CONFIG SET stream-node-max-bytes 8kb',
      'CONFIG GET stream-node-max-bytes',
      'CONFIG SET nosuchparam 1',
      'CONFIG SET stream-node-max-entries',
      'CONFIG SET timeout 0 stream-node-max-entries 100',
      'CONFIG GET stream-node-max-entries',
      'CONFIG SET stream-node-max-entries 1 stream-node-max-entries 2',
      'CONFIG SET maxmemory-policy nosuch',
      'CONFIG SET appendfsync sometimes',
      'CONFIG SET databases 4',
      'CONFIG FOO',
    ],
    after: ['CONFIG SET stream-node-max-entries 100', 'CONFIG SET stream-node-max-bytes 4096'],
  },
  {
    name: 'CONFIG RESETSTAT DBSIZE TIME FUNCTION FLUSH SCRIPT FLUSH',
    steps: [
      'CONFIG RESETSTAT',
      'CONFIG RESETSTAT x',
      'DBSIZE',
      'XADD a 1-0 f v',
      'XADD b 1-0 f v',
      'DBSIZE',
      { cmd: 'TIME', mask: [maskPath(0), maskPath(1)] },
      'FUNCTION FLUSH',
      'SCRIPT FLUSH',
      'LASTSAVE x',
    ],
  },
  {
    name: 'INFO shape',
    steps: [{ cmd: 'INFO', mask: [maskAll] }, { cmd: 'INFO server', mask: [maskAll] }, { cmd: 'INFO nosuchsection' }],
  },
];

differentialSuite(scripts);

describeSpool('INFO on Spool', () => {
  const port = useSpool();
  const info = async (...section: string[]) => {
    const c = await RespConnection.connect(port());
    try {
      return nodeText(await c.call(['INFO', ...section])) ?? '';
    } finally {
      c.close();
    }
  };

  test('default INFO has the sections and fields clients read', async () => {
    const text = await info();
    for (const s of ['# Server', '# Clients', '# Memory', '# Persistence', '# Stats', '# Replication', '# Keyspace']) {
      expect(text).toContain(`${s}\r\n`);
    }
    const version = /redis_version:(\S+)\r\n/.exec(text)?.[1] ?? '';
    expect(Number(version.split('.')[0])).toBeGreaterThanOrEqual(7);
    for (const f of ['redis_mode:standalone', 'tcp_port:', 'process_id:', 'run_id:', 'uptime_in_seconds:', 'connected_clients:', 'blocked_clients:', 'used_memory:', 'total_commands_processed:', 'role:master']) {
      expect(text).toContain(f);
    }
    expect(text).toMatch(/tcp_port:\d+\r\n/);
    expect(text.endsWith('\r\n')).toBe(true);
  });

  test('INFO sections filter and keyspace counts streams', async () => {
    const c = await RespConnection.connect(port());
    try {
      await c.call(['FLUSHALL']);
      await c.call(['XADD', 's', '1-0', 'f', 'v']);
      await c.call(['SELECT', '2']);
      await c.call(['XADD', 't', '1-0', 'f', 'v']);
      await c.call(['XADD', 'u', '1-0', 'f', 'v']);
    } finally {
      c.close();
    }
    const ks = await info('keyspace');
    expect(ks).toContain('# Keyspace\r\n');
    expect(ks).toMatch(/db0:keys=1,expires=0,avg_ttl=0\r\n/);
    expect(ks).toMatch(/db2:keys=2,expires=0,avg_ttl=0\r\n/);
    expect(ks).not.toContain('# Server');
    const server = await info('server');
    expect(server).toContain('# Server\r\n');
    expect(server).not.toContain('# Clients');
    const two = await info('server', 'clients');
    expect(two).toContain('# Server\r\n');
    expect(two).toContain('# Clients\r\n');
    expect(await info('nosuchsection')).toBe('');
  });
});
