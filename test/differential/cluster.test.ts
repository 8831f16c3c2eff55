// Cluster mode against real redis-server 7.0 cluster nodes: a pair of Redis nodes joined by CLUSTER MEET (slots
// 0-8191 and 8192-16383) next to a pair of Spool nodes declaring the same split, and a lone Redis node owning
// every slot next to a lone Spool node. The same scripts run on node A of each side; transcripts are compared
// byte for byte once node IDs, ports and the values only gossip produces (epochs, pong times) are replaced by
// placeholders. Redirections (MOVED, ASK, CROSSSLOT, TRYAGAIN, CLUSTERDOWN), transactions across slots,
// SETSLOT states, CLUSTER errors and the reply shapes of SLOTS / SHARDS / NODES / INFO.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runScript, type Script, type Step } from '../helpers/differential';
import { call, startRedisCluster, startSpoolCluster, topologyEntries, type RedisNode, type SpoolCluster } from '../cluster/clusterHarness';
import { RespConnection, serialize, escapeBytes } from '../helpers/resp';
import { maskKeys } from '../helpers/mask';
import { keyHashSlot } from '../../src/cluster/keySlot';

interface Side {
  a: { port: number; id: string };
  b: { port: number; id: string };
}

/** Puts the side's node IDs into a script's `$A` / `$B` placeholders. */
function bind(script: Script, side: Side): Script {
  const fill = (s: string) => s.replace(/\$A/g, side.a.id).replace(/\$B/g, side.b.id);
  const step = (st: Step): Step => {
    if (typeof st === 'string') return fill(st);
    if (Array.isArray(st)) return st.map((a) => (typeof a === 'string' ? fill(a) : a));
    return { ...st, cmd: typeof st.cmd === 'string' ? fill(st.cmd) : st.cmd?.map((a) => (typeof a === 'string' ? fill(a) : a)) };
  };
  return { ...script, steps: script.steps.map(step) };
}

/** Replaces what differs between two clusters by nature: IDs, ports, bus ports, epochs and ping/pong times. */
function neutral(lines: string[], side: Side): string[] {
  return lines.map((l) =>
    l
      .split(side.a.id).join('<idA>')
      .split(side.b.id).join('<idB>')
      .replace(new RegExp(`\\b${side.a.port}\\b`, 'g'), '<portA>')
      .replace(new RegExp(`\\b${side.b.port}\\b`, 'g'), '<portB>')
      .replace(/@\d+/g, '@<cport>')
      .replace(/(master|slave) (\S+) \d+ \d+ \d+ connected/g, '$1 $2 <ping> <pong> <epoch> connected')
      .replace(/cluster_(current|my)_epoch:\d+/g, 'cluster_$1_epoch:<epoch>'),
  );
}

// Keys: bar (slot 5061) and {user1}:a / {user1}:b (8106) on node A; foo (12182) on node B; {bar}x shares bar's slot.
const PAIR_SCRIPTS: Script[] = [
  {
    name: 'keys of this node run, keys of the other get MOVED, keyless commands pass',
    steps: ['XADD bar 1-1 f v', 'XLEN bar', 'XADD foo 1-1 f v', 'XLEN foo', 'XRANGE foo - +', 'PING', 'DBSIZE', 'TYPE foo', 'DEL foo'],
  },
  {
    name: 'CROSSSLOT for multi-key commands across slots, one slot through hash tags',
    steps: [
      'EXISTS bar foo',
      'EXISTS bar {user1}:a',
      'XADD {user1}:a 1-1 f v',
      'XADD {user1}:b 1-1 f v',
      'EXISTS {user1}:a {user1}:b',
      'XREAD STREAMS {user1}:a {user1}:b 0 0',
      'XREAD COUNT 1 STREAMS bar {user1}:a 0 0',
      'XREAD STREAMS foo 0',
      'XREADGROUP GROUP g c STREAMS foo >',
      'RENAME {user1}:a foo',
      'RENAME {user1}:a {user1}:c',
      'WATCH foo',
      'WATCH bar {user1}:a',
    ],
  },
  {
    name: 'MULTI/EXEC: one slot works, a MOVED command aborts EXEC, slots differing across commands get CROSSSLOT',
    steps: [
      'MULTI', 'XADD {user1}:a 1-1 f v', 'XADD {user1}:b 1-1 f v', 'XLEN {user1}:a', 'EXEC',
      'MULTI', 'XADD bar 1-1 f v', 'XADD foo 1-1 f v', 'EXEC',
      'MULTI', 'XADD bar 2-1 f v', 'XADD {user1}:a 2-1 f v', 'EXEC',
      'XLEN bar',
      'MULTI', 'PING', 'EXEC',
    ],
  },
  {
    name: 'SELECT and SWAPDB in cluster mode, ASKING, READONLY, READWRITE',
    steps: ['SELECT 1', 'SELECT 0', 'SELECT x', 'SELECT 99', 'SWAPDB 0 1', 'ASKING', 'READONLY', 'READWRITE', 'ASKING x'],
  },
  {
    name: 'CLUSTER KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT and their errors',
    steps: [
      'CLUSTER KEYSLOT foo', 'CLUSTER KEYSLOT {user1}:a', 'CLUSTER KEYSLOT {}x', 'CLUSTER KEYSLOT a{b}c{d}', 'CLUSTER KEYSLOT {', 'CLUSTER KEYSLOT }{x}',
      'XADD bar 1-1 f v', 'XADD {bar}x 1-1 f v',
      'CLUSTER COUNTKEYSINSLOT 5061', 'CLUSTER COUNTKEYSINSLOT 12182', 'CLUSTER COUNTKEYSINSLOT 16384', 'CLUSTER COUNTKEYSINSLOT -1', 'CLUSTER COUNTKEYSINSLOT x',
      'CLUSTER GETKEYSINSLOT 5061 0', 'CLUSTER GETKEYSINSLOT 5061 1', 'CLUSTER GETKEYSINSLOT 12182 5',
      'CLUSTER GETKEYSINSLOT 5061 -1', 'CLUSTER GETKEYSINSLOT 16384 1', 'CLUSTER GETKEYSINSLOT x 1', 'CLUSTER GETKEYSINSLOT 1 x',
      'CLUSTER KEYSLOT', 'CLUSTER KEYSLOT a b',
    ],
  },
  {
    name: 'slot assignment errors',
    steps: [
      'CLUSTER ADDSLOTS 0', 'CLUSTER ADDSLOTS 16384', 'CLUSTER ADDSLOTS x', 'CLUSTER ADDSLOTS -1', 'CLUSTER ADDSLOTS',
      'CLUSTER ADDSLOTSRANGE 5 3', 'CLUSTER ADDSLOTSRANGE 3 5 4 6', 'CLUSTER ADDSLOTSRANGE 3', 'CLUSTER ADDSLOTSRANGE 3 x',
      'CLUSTER DELSLOTSRANGE 9 8', 'CLUSTER DELSLOTS 1 1', 'CLUSTER DELSLOTS x',
      'CLUSTER SETSLOT 100 MIGRATING nosuchnode', 'CLUSTER SETSLOT 12182 MIGRATING $B', 'CLUSTER SETSLOT 100 IMPORTING $B',
      'CLUSTER SETSLOT 12182 IMPORTING nosuchnode', 'CLUSTER SETSLOT 100 NODE nosuchnode', 'CLUSTER SETSLOT 100 BOGUS',
      'CLUSTER SETSLOT 100 STABLE x', 'CLUSTER SETSLOT 100', 'CLUSTER SETSLOT 16384 STABLE', 'CLUSTER SETSLOT x STABLE',
      'CLUSTER SETSLOT 100 MIGRATING', 'CLUSTER SETSLOT 100 STABLE',
    ],
  },
  {
    name: 'an unassigned slot is not served, and the cluster is down until it is assigned again',
    steps: ['XADD bar 1-1 f v', 'CLUSTER DELSLOTS 5061', 'XADD bar 2-1 f v', 'XLEN bar', 'CLUSTER DELSLOTS 5061', 'CLUSTER ADDSLOTS 5061', 'XADD bar 2-1 f v', 'XLEN bar'],
  },
  {
    name: 'a migrating slot: keys still here are served, missing ones get ASK, split multi-key requests TRYAGAIN',
    steps: [
      'XADD bar 1-1 f v',
      'CLUSTER SETSLOT 5061 MIGRATING $B',
      'XLEN bar', 'XADD bar 2-1 f v', 'XLEN {bar}x', 'XADD {bar}x 1-1 f v', 'EXISTS bar {bar}x', 'EXISTS bar bar',
      'CLUSTER SETSLOT 5061 STABLE',
      'XLEN {bar}x',
    ],
  },
  {
    name: 'an importing slot serves a command after ASKING only, for one command (or one transaction)',
    steps: [
      'CLUSTER SETSLOT 12182 IMPORTING $B',
      'XADD foo 1-1 f v', 'ASKING', 'XADD foo 1-1 f v', 'XLEN foo', 'ASKING', 'XLEN foo', 'PING', 'XLEN foo',
      'ASKING', 'MULTI', 'XLEN foo', 'XADD foo 2-1 f v', 'EXEC',
      'ASKING', 'EXISTS foo {foo}y',
      'ASKING', 'NOSUCHCOMMAND', 'XLEN foo', 'ASKING', 'XLEN', 'XLEN foo',
      'CLUSTER SETSLOT 12182 STABLE',
      'XLEN foo',
    ],
  },
  {
    // k279 is in slot 6000. Redis works its cluster state out again after a slot change (not after CONFIG SET):
    // the slot is given and taken again for that, and sleeps let its state update run.
    name: 'cluster-require-full-coverage no serves assigned slots; cluster-allow-reads-when-down yes serves reads',
    steps: [
      'XADD bar 1-1 f v',
      'CONFIG SET cluster-require-full-coverage no',
      'CLUSTER DELSLOTS 6000',
      { sleep: 200 },
      'XADD bar 2-1 f v', 'XADD k279 1-1 f v',
      'CONFIG SET cluster-require-full-coverage yes',
      'CLUSTER ADDSLOTS 6000', 'CLUSTER DELSLOTS 6000',
      { sleep: 200 },
      'XLEN bar', 'XADD bar 3-1 f v',
      'CONFIG SET cluster-allow-reads-when-down yes',
      'XLEN bar', 'XRANGE bar - +', 'XADD bar 3-1 f v', 'XREAD STREAMS bar 0', 'XADD k279 1-1 f v',
      'MULTI', 'XLEN bar', 'XADD bar 3-1 f v', 'EXEC',
      'CONFIG GET cluster-allow-reads-when-down', 'CONFIG GET cluster-require-full-coverage',
      'CLUSTER ADDSLOTS 6000',
      { sleep: 200 },
      'CONFIG SET cluster-allow-reads-when-down no',
      'XADD bar 3-1 f v',
    ],
    after: ['CLUSTER ADDSLOTS 6000', 'CONFIG SET cluster-require-full-coverage yes', 'CONFIG SET cluster-allow-reads-when-down no'],
  },
  {
    // Redis redirects blocked clients from its periodic client cron: the sleep lets it run.
    name: 'a client blocked on a slot that moves away gets MOVED, on a cluster going down CLUSTERDOWN',
    steps: [
      { c: 1, cmd: 'XREAD BLOCK 0 STREAMS bar $', defer: true },
      { waitBlocked: 1 },
      'CLUSTER SETSLOT 5061 NODE $B',
      { sleep: 400 },
      { c: 1, collect: 1 },
      'CLUSTER SETSLOT 5061 NODE $A',
      { c: 2, cmd: 'XREAD BLOCK 0 STREAMS bar $', defer: true },
      'XGROUP CREATE {user1}:a g $ MKSTREAM',
      { c: 1, cmd: 'XREADGROUP GROUP g c BLOCK 0 STREAMS {user1}:a >', defer: true },
      { waitBlocked: 2 },
      'CLUSTER DELSLOTS 6000',
      { sleep: 400 },
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      'CLUSTER ADDSLOTS 6000',
      'XLEN bar',
    ],
  },
  {
    name: 'CLUSTER subcommand errors and answers that need no gossip',
    steps: [
      'CLUSTER', 'CLUSTER NOSUCH', 'CLUSTER MYID x', 'CLUSTER MEET 1.2.3.4 x', 'CLUSTER MEET 1.2.3.4 1 x', 'CLUSTER MEET nohost 7000',
      'CLUSTER MEET 127.0.0.1 0', 'CLUSTER MEET 127.0.0.1 70000', 'CLUSTER MEET a b c d',
      'CLUSTER COUNT-FAILURE-REPORTS nosuchnode', 'CLUSTER COUNT-FAILURE-REPORTS $B',
      'CLUSTER FORGET nosuchnode', 'CLUSTER FORGET $A',
      'CLUSTER REPLICAS nosuchnode', 'CLUSTER REPLICAS $B', 'CLUSTER SLAVES $A',
      'CLUSTER RESET bogus', 'CLUSTER RESET soft x',
      'CLUSTER FAILOVER', 'CLUSTER FAILOVER bogus', 'CLUSTER FAILOVER force', 'CLUSTER FAILOVER a b',
      'CLUSTER SET-CONFIG-EPOCH -1', 'CLUSTER SET-CONFIG-EPOCH x', 'CLUSTER SET-CONFIG-EPOCH 5',
      'CLUSTER LINKS x', 'CLUSTER SAVECONFIG', 'CLUSTER INFO x', 'CLUSTER SLOTS x',
      'XADD bar 1-1 f v', 'CLUSTER FLUSHSLOTS', 'CLUSTER RESET',
    ],
  },
];

// Against one node owning every slot: the shapes of the topology replies (one node, so no order to differ).
const SINGLE_SCRIPTS: Script[] = [
  {
    name: 'CLUSTER SLOTS, SHARDS, NODES, INFO, MYID, LINKS of a one-node cluster',
    steps: ['CLUSTER SLOTS', 'CLUSTER SHARDS', 'CLUSTER NODES', 'CLUSTER INFO', 'CLUSTER MYID', 'CLUSTER LINKS', 'CLUSTER COUNT-FAILURE-REPORTS $A', 'CLUSTER REPLICAS $A'],
  },
  {
    name: 'a node without slots: SLOTS, SHARDS, NODES and INFO, then the slots back one range at a time',
    steps: [
      'CLUSTER DELSLOTSRANGE 0 16383', 'CLUSTER SLOTS', 'CLUSTER SHARDS', 'CLUSTER NODES', 'CLUSTER INFO', 'XADD k 1-1 f v',
      'CLUSTER ADDSLOTSRANGE 0 99 200 299', 'CLUSTER ADDSLOTS 100 150', 'CLUSTER SLOTS', 'CLUSTER SHARDS', 'CLUSTER NODES', 'CLUSTER INFO',
      // (No CLUSTER INFO once every slot is back: Redis waits a rejoin delay before its state is ok again.)
      'CLUSTER ADDSLOTSRANGE 300 16383', 'CLUSTER DELSLOTS 101', 'CLUSTER ADDSLOTSRANGE 101 149 151 199', 'CLUSTER SLOTS',
    ],
  },
  {
    name: 'INFO cluster and HELLO in cluster mode',
    steps: ['INFO cluster', { cmd: 'HELLO 3', mask: [maskKeys('id')] }],
    protocols: [2],
  },
];

describe('cluster mode against redis-server cluster nodes', () => {
  let redisPair: RedisNode[] = [];
  let redisSingle: RedisNode[] = [];
  let spoolPair: SpoolCluster | undefined;
  let spoolSingle: SpoolCluster | undefined;
  const sideOf = (nodes: { port: number; id: string }[]): Side => ({ a: nodes[0], b: nodes[1] ?? nodes[0] });

  beforeAll(async () => {
    [redisPair, redisSingle, spoolPair, spoolSingle] = await Promise.all([
      startRedisCluster([[0, 8191], [8192, 16383]]),
      startRedisCluster([[0, 16383]]),
      startSpoolCluster([[0, 8191], [8192, 16383]]),
      startSpoolCluster([[0, 16383]]),
    ]);
  }, 60000);
  afterAll(async () => {
    for (const n of [...redisPair, ...redisSingle]) await n.redis.stop();
    await spoolPair?.stop();
    await spoolSingle?.stop();
  });

  async function compare(script: Script, protocol: 2 | 3, redis: Side, spool: Side): Promise<void> {
    const expected = neutral(await runScript(redis.a.port, bind(script, redis), protocol), redis);
    const actual = neutral(await runScript(spool.a.port, bind(script, spool), protocol), spool);
    if (process.env.DIFF_PRINT) console.log(`--- ${script.name} (RESP${protocol})\n${expected.join('\n')}`);
    expect(actual).toEqual(expected);
  }

  const cases = (scripts: Script[]) => scripts.flatMap((s) => (s.protocols ?? [2, 3]).map((p) => [`${s.name} (RESP${p})`, s, p] as const));

  test.each(cases(PAIR_SCRIPTS))('two nodes: %s', async (_n, script, protocol) => {
    await compare(script, protocol, sideOf(redisPair), sideOf(spoolPair!.nodes));
  });

  test.each(cases(SINGLE_SCRIPTS))('one node: %s', async (_n, script, protocol) => {
    await compare(script, protocol, sideOf(redisSingle), sideOf(spoolSingle!.nodes));
  });

  /** A topology reply of node A, its top-level elements neutralised and sorted (Redis lists nodes in dict order). */
  async function sortedReply(port: number, args: string[], side: Side, protocol: 2 | 3): Promise<string[]> {
    return neutral(await topologyEntries(port, args, protocol), side).sort();
  }

  test.each([
    ['SLOTS', 2], ['SLOTS', 3], ['SHARDS', 2], ['SHARDS', 3], ['NODES', 2],
  ] as const)('two nodes: CLUSTER %s lists the same entries (RESP%d)', async (sub, protocol) => {
    const redis = sideOf(redisPair);
    const spool = sideOf(spoolPair!.nodes);
    const expected = await sortedReply(redis.a.port, ['CLUSTER', sub], redis, protocol);
    const actual = await sortedReply(spool.a.port, ['CLUSTER', sub], spool, protocol);
    expect(actual).toEqual(expected);
    expect(actual.length).toBe(sub === 'SLOTS' || sub === 'SHARDS' || sub === 'NODES' ? 2 : 0);
  });

  test('CLUSTER NODES shows open slots on the line of the node itself', async () => {
    const ownLine = async (side: Side) => {
      const port = side.a.port;
      await call(port, ['CLUSTER', 'SETSLOT', '5061', 'MIGRATING', side.b.id]);
      await call(port, ['CLUSTER', 'SETSLOT', '12182', 'IMPORTING', side.b.id]);
      await call(port, ['CLUSTER', 'SETSLOT', '100', 'MIGRATING', side.b.id]);
      const nodes = (await call(port, ['CLUSTER', 'NODES'])).bytes.toString('latin1');
      for (const slot of ['5061', '12182', '100']) await call(port, ['CLUSTER', 'SETSLOT', slot, 'STABLE']);
      return neutral([/[^\n]*myself[^\n]*/.exec(nodes)![0]], side);
    };
    expect(await ownLine(sideOf(spoolPair!.nodes))).toEqual(await ownLine(sideOf(redisPair)));
  });

  test('moving slot 5061 (bar) by hand as redis-cli --cluster reshard does: SETSLOT, MIGRATE ... KEYS, RESTORE-ASKING', async () => {
    const transcript = async (side: Side) => {
      const a = await RespConnection.connect(side.a.port);
      const b = await RespConnection.connect(side.b.port);
      const lines: string[] = [];
      const on = async (conn: RespConnection, args: string[], record = true) => {
        const reply = await conn.call(args);
        if (record) lines.push(`${conn === a ? 'A' : 'B'} ${args.join(' ')} => ${escapeBytes(serialize(reply))}`);
        return reply;
      };
      const migrate = (...rest: string[]) => on(a, ['MIGRATE', '127.0.0.1', String(side.b.port), ...rest]);
      try {
        for (const conn of [a, b]) await on(conn, ['FLUSHALL'], false);
        await on(a, ['XADD', 'bar', '1-1', 'f', 'v']);
        await on(a, ['XGROUP', 'CREATE', 'bar', 'g', '0']);
        await on(a, ['XREADGROUP', 'GROUP', 'g', 'c', 'STREAMS', 'bar', '>']);
        // The target does not import the slot yet: its MOVED is MIGRATE's error.
        await migrate('', '0', '5000', 'KEYS', 'bar');
        // MIGRATE's keys, as its slot check finds them (Redis's migrateGetKeys).
        await on(a, ['COMMAND', 'GETKEYS', 'MIGRATE', 'h', '1', '', '0', '5', 'COPY', 'AUTH', 'keys', 'KEYS', 'bar', '{bar}z']);
        await on(a, ['COMMAND', 'GETKEYS', 'MIGRATE', 'h', '1', 'bar', '0', '5', 'AUTH2', 'u', 'p', 'REPLACE']);
        await on(a, ['COMMAND', 'GETKEYS', 'MIGRATE', 'h', '1', 'bar', '0', '5', 'KEYS', 'x']);
        await on(b, ['CLUSTER', 'SETSLOT', '5061', 'IMPORTING', side.a.id]);
        await on(a, ['CLUSTER', 'SETSLOT', '5061', 'MIGRATING', side.b.id]);
        const dump = await on(a, ['DUMP', 'bar'], false);
        const dumped = dump.bytes.subarray(dump.header.length, dump.bytes.length - 2);
        // RESTORE needs ASKING on an importing slot, RESTORE-ASKING does not.
        lines.push(`B RESTORE {bar}y => ${escapeBytes(serialize(await b.call(['RESTORE', '{bar}y', '0', dumped])))}`);
        lines.push(`B RESTORE-ASKING {bar}y => ${escapeBytes(serialize(await b.call(['RESTORE-ASKING', '{bar}y', '0', dumped])))}`);
        lines.push(`B RESTORE-ASKING {bar}y => ${escapeBytes(serialize(await b.call(['RESTORE-ASKING', '{bar}y', '0', dumped])))}`);
        await on(a, ['XLEN', '{bar}y']);
        await on(a, ['XLEN', 'bar']);
        await migrate('', '0', '5000', 'KEYS', 'bar', '{bar}z');
        await on(a, ['XLEN', 'bar']);
        await migrate('', '0', '5000', 'KEYS', 'bar');
        await migrate('bar', '0', '5000');
        await migrate('bar', '0', '5000', 'KEYS', 'bar');
        await on(b, ['XLEN', 'bar']);
        await on(b, ['ASKING']);
        await on(b, ['XPENDING', 'bar', 'g']);
        await on(b, ['CLUSTER', 'SETSLOT', '5061', 'NODE', side.b.id]);
        await on(a, ['CLUSTER', 'SETSLOT', '5061', 'NODE', side.b.id]);
        await on(a, ['XLEN', 'bar']);
        await on(b, ['XRANGE', 'bar', '-', '+']);
        await on(b, ['CLUSTER', 'COUNTKEYSINSLOT', '5061']);
        await on(a, ['CLUSTER', 'COUNTKEYSINSLOT', '5061']);
        // Back to A, emptied: SETSLOT NODE on both nodes again.
        await on(b, ['FLUSHALL'], false);
        await on(a, ['CLUSTER', 'SETSLOT', '5061', 'NODE', side.a.id]);
        await on(b, ['CLUSTER', 'SETSLOT', '5061', 'NODE', side.a.id]);
        await on(a, ['XLEN', 'bar']);
      } finally {
        a.close();
        b.close();
      }
      return neutral(lines, side);
    };
    const expected = await transcript(sideOf(redisPair));
    if (process.env.DIFF_PRINT) console.log(expected.join('\n'));
    expect(await transcript(sideOf(spoolPair!.nodes))).toEqual(expected);
  });

  test('CLUSTER KEYSLOT agrees with keyHashSlot for 2000 random keys, hash tags and binary bytes included', async () => {
    const conn = await RespConnection.connect(redisSingle[0].port);
    try {
      const pieces = ['{', '}', 'a', 'user', '\x00', '\xff', '{}', 'x'];
      for (let i = 0; i < 2000; i++) {
        let s = '';
        const n = 1 + (i % 9);
        for (let j = 0; j < n; j++) s += pieces[(i * 7 + j * 13 + ((i * j) % 5)) % pieces.length];
        const key = Buffer.from(`${s}${i}`, 'latin1');
        conn.sendCommand(['CLUSTER', 'KEYSLOT', key]);
        const [reply] = await conn.read(1);
        expect([key.toString('latin1'), Number(reply.bytes.toString('latin1').slice(1))]).toEqual([key.toString('latin1'), keyHashSlot(key)]);
      }
    } finally {
      conn.close();
    }
  });
});
