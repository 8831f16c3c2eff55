// Replicas per shard against a real redis-server 7.0 cluster: two masters (slots 0-8191 and 8192-16383) with a
// replica each (CLUSTER REPLICATE, gossip) next to two Spool masters and their replicas declared in the topology
// file. The same scripts run on a replica and on a master of each side; transcripts are compared byte for byte
// once node IDs, ports, epochs, ping/pong times and replication offsets (which differ by nature) are replaced by
// placeholders. MOVED from a replica, READONLY/READWRITE, MULTI/EXEC on a replica, CLUSTER REPLICATE's and the
// replica-only errors, and the shapes of CLUSTER SLOTS / SHARDS / NODES / REPLICAS with replicas in them.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { runScript, type Script } from '../helpers/differential';
import { call, startRedisCluster, startSpoolCluster, text, topologyEntries, type RedisNode, type SpoolCluster } from '../cluster/clusterHarness';
import { RespConnection, serialize, escapeBytes } from '../helpers/resp';
import { until } from '../helpers/replication';

/** Masters A and B, then A's replica RA and B's replica RB (the harnesses' layout). */
const NAMES = ['A', 'B', 'RA', 'RB'] as const;
type Side = { port: number; id: string }[];

function bind(script: Script, side: Side): Script {
  const fill = (s: string) => NAMES.reduce((acc, name, i) => acc.replace(new RegExp(`\\$${name}\\b`, 'g'), side[i].id), s);
  return { ...script, steps: script.steps.map((st) => (typeof st === 'string' ? fill(st) : st)) };
}

/** Replaces what differs between two clusters by nature: IDs, ports, bus ports, epochs, times, offsets. */
function neutral(lines: string[], side: Side): string[] {
  return lines.map((l) => {
    let out = l;
    side.forEach((n, i) => {
      out = out.split(n.id).join(`<id${NAMES[i]}>`).replace(new RegExp(`\\b${n.port}\\b`, 'g'), `<port${NAMES[i]}>`);
    });
    return out
      .replace(/@\d+/g, '@<cport>')
      .replace(/(master|slave) (\S+) \d+ \d+ \d+ connected/g, '$1 $2 <ping> <pong> <epoch> connected')
      .replace(/cluster_(current|my)_epoch:\d+/g, 'cluster_$1_epoch:<epoch>')
      .replace(/(replication-offset\\r\\n:)\d+/g, '$1<offset>')
      // A node line's length varies with its ping/pong times.
      .replace(/\$\d+(\\r\\n<id)/g, '$<len>$1');
  });
}

// bar (slot 5061) is A's, foo (12182) B's.
const ON_REPLICA: Script[] = [
  {
    name: 'a replica sends writes to its master (MOVED), reads too until READONLY; READWRITE undoes it',
    steps: [
      'XADD bar 2-1 f v', 'XLEN bar', 'XLEN foo', 'READONLY', 'XLEN bar', 'XRANGE bar - +', 'XREAD STREAMS bar 0', 'XADD bar 2-1 f v',
      'XLEN foo', 'EXISTS bar', 'TYPE bar', 'READWRITE', 'XLEN bar', 'PING',
    ],
  },
  {
    name: 'MULTI/EXEC on a replica: reads run after READONLY, a queued write is MOVED and aborts EXEC',
    steps: [
      'MULTI', 'XLEN bar', 'EXEC',
      'READONLY', 'MULTI', 'XLEN bar', 'XRANGE bar - +', 'EXEC',
      'MULTI', 'XLEN bar', 'XADD bar 3-1 f v', 'EXEC', 'XLEN bar',
    ],
  },
  {
    name: "a replica's own errors: REPLICAOF in cluster mode, CLUSTER REPLICATE, SETSLOT, FORGET of its master, REPLICAS of a replica",
    steps: [
      'REPLICAOF NO ONE', 'REPLICAOF 127.0.0.1 1', 'SLAVEOF NO ONE', 'REPLICAOF x y',
      'CLUSTER REPLICATE $RA', 'CLUSTER REPLICATE $RB', 'CLUSTER REPLICATE nosuchnode', 'CLUSTER REPLICATE', 'CLUSTER REPLICATE a b',
      'CLUSTER SETSLOT 5 STABLE', 'CLUSTER SETSLOT 5061 NODE $B', 'CLUSTER FORGET $A', 'CLUSTER FORGET $RA',
      'CLUSTER REPLICAS $RA', 'CLUSTER SLAVES $RB', 'CLUSTER REPLICAS $A', 'CLUSTER COUNT-FAILURE-REPORTS $A',
      'CLUSTER COUNTKEYSINSLOT 5061', 'CLUSTER GETKEYSINSLOT 5061 10', 'DBSIZE', 'CLUSTER KEYSLOT bar',
    ],
  },
];

const ON_MASTER: Script[] = [
  {
    name: 'a master with slots cannot become a replica; REPLICAS lists a master\'s replica line; CLUSTER HELP',
    steps: ['CLUSTER REPLICATE $B', 'CLUSTER REPLICATE $RB', 'CLUSTER REPLICATE $A', 'REPLICAOF 127.0.0.1 1', 'CLUSTER REPLICAS $A', 'CLUSTER SLAVES $B', 'XLEN bar', 'CLUSTER HELP'],
  },
];

describe('cluster replicas against redis-server cluster nodes', () => {
  let redis: RedisNode[] = [];
  let spool: SpoolCluster | undefined;

  beforeAll(async () => {
    let spoolSide: SpoolCluster;
    [redis, spoolSide] = await Promise.all([
      startRedisCluster([[0, 8191], [8192, 16383]], 1),
      startSpoolCluster([[0, 8191], [8192, 16383]], {}, 1),
    ]);
    spool = spoolSide;
    for (const side of [redis, spool.nodes]) {
      await call(side[0].port, ['XADD', 'bar', '1-1', 'f', 'v']);
      await call(side[1].port, ['XADD', 'foo', '1-1', 'f', 'v']);
    }
    // Replicas have the data, and each node lists both replicas in CLUSTER SLOTS (Redis leaves out a replica
    // whose offset it knows to be 0: until the gossip, or the replica's acknowledgement, arrives).
    for (const side of [redis, spool.nodes]) {
      for (const replica of side.slice(2)) {
        await until('replica has the data', async () => {
          const conn = await RespConnection.connect(replica.port);
          try {
            await conn.call(['READONLY']);
            return escapeBytes(serialize(await conn.call(['DBSIZE']))) === ':1\\r\\n';
          } finally {
            conn.close();
          }
        }, 30000, 100);
      }
      for (const n of side) {
        await until('both replicas in CLUSTER SLOTS', async () => (await slotsNodes(n.port)) === 4, 30000, 100);
      }
    }
  }, 90000);
  afterAll(async () => {
    for (const n of redis) await n.redis.stop();
    await spool?.stop();
  });

  /** Nodes listed by CLUSTER SLOTS (masters and replicas of every range). */
  async function slotsNodes(port: number): Promise<number> {
    const reply = await call(port, ['CLUSTER', 'SLOTS']);
    return (reply.children ?? []).reduce((n, row) => n + (row.children?.length ?? 2) - 2, 0);
  }

  async function compare(script: Script, protocol: 2 | 3, node: number): Promise<void> {
    const run = async (side: Side) => neutral(await runScript(side[node].port, bind(script, side), protocol), side);
    const expected = await run(redis);
    if (process.env.DIFF_PRINT) console.log(`--- ${script.name} (RESP${protocol})\n${expected.join('\n')}`);
    expect(await run(spool!.nodes)).toEqual(expected);
  }

  const cases = (scripts: Script[]) => scripts.flatMap((s) => ([2, 3] as const).map((p) => [`${s.name} (RESP${p})`, s, p] as const));

  test.each(cases(ON_REPLICA))('on replica RA: %s', async (_n, script, protocol) => {
    await compare(script, protocol, 2);
  });

  test.each(cases(ON_MASTER))('on master A: %s', async (_n, script, protocol) => {
    await compare(script, protocol, 0);
  });

  /** A topology reply, its top-level elements neutralised and sorted (Redis lists nodes in dict order). */
  async function sortedReply(port: number, args: string[], side: Side, protocol: 2 | 3): Promise<string[]> {
    return neutral(await topologyEntries(port, args, protocol), side).sort();
  }

  test.each(
    (['SLOTS', 'SHARDS', 'NODES'] as const).flatMap((sub) =>
      ([0, 2, 3] as const).flatMap((node) => (sub === 'NODES' ? [2] : [2, 3]).map((p) => [sub, NAMES[node], p, node] as const)),
    ),
  )('CLUSTER %s asked of %s lists the same entries (RESP%d)', async (sub, _name, protocol, node) => {
    const expected = await sortedReply(redis[node].port, ['CLUSTER', sub], redis, protocol);
    const actual = await sortedReply(spool!.nodes[node].port, ['CLUSTER', sub], spool!.nodes, protocol);
    expect(actual).toEqual(expected);
    expect(actual.length).toBe(sub === 'NODES' ? 4 : 2);
  });

  test('CLUSTER INFO of a replica: known nodes, size and state as Redis', async () => {
    const fields = async (port: number) =>
      (await text(port, ['CLUSTER', 'INFO'])).split('\r\n').filter((l) => /^cluster_(state|slots_|known_nodes|size)/.test(l));
    expect(await fields(spool!.nodes[2].port)).toEqual(await fields(redis[2].port));
  });

  test('INFO replication of a replica and of its master: the same fields as Redis, role and master address alike', async () => {
    const fields = async (side: Side, node: number) =>
      neutral((await text(side[node].port, ['INFO', 'replication'])).split('\r\n').filter((l) => l.includes(':')), side).map((l) =>
        /^(role|master_host|master_port|master_link_status|connected_slaves|slave_read_only):/.test(l) ? l : l.replace(/:.*/, ':<value>'),
      );
    expect(await fields(spool!.nodes, 2)).toEqual(await fields(redis, 2));
    expect(await fields(spool!.nodes, 0)).toEqual(await fields(redis, 0));
  });

  test('ROLE of a replica and of its master have the same shape as Redis', async () => {
    const shape = async (side: Side, node: number) =>
      neutral([escapeBytes(serialize(await call(side[node].port, ['ROLE'])))], side)[0]
        .replace(/:\d+\\r\\n/g, ':<n>\\r\\n')
        .replace(/\$\d+\\r\\n(\d+|<port\w+>)\\r\\n/g, (_m, v: string) => `$<n>\\r\\n${v.startsWith('<') ? v : '<n>'}\\r\\n`);
    // A replica's ROLE: slave, master host, master port, state, offset; the master's lists the replica.
    expect(await shape(spool!.nodes, 2)).toEqual(await shape(redis, 2));
    expect(await shape(spool!.nodes, 0)).toEqual(await shape(redis, 0));
  });
});
