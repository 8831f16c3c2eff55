// The declared topology: the nodes.conf format read and written back, how a node finds itself in a file shared
// by every node, the even slot split of --cluster-local, and topology changes surviving a restart.
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { parseTopology, topologyFileText, TopologyError } from '../../src/cluster/nodesFormat';
import { evenSlotRanges, localTopology, takeClusterLocal } from '../../src/cluster/localCluster';
import { keyHashSlot } from '../../src/cluster/keySlot';
import { freePort } from '../helpers/ports';
import { startSpool } from '../helpers/spool';
import { RespConnection, nodeText } from '../helpers/resp';
import { text } from './clusterHarness';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const TWO = [
  `${A} 127.0.0.1:7000@17000 master - 0 0 1 connected 0-8191`,
  `${B} 10.1.2.3:7001@17001,spool-1 master - 0 0 2 connected 8192-9000 9002 9003-16383`,
  'vars currentEpoch 2 lastVoteEpoch 0',
].join('\n');
const byPort = (port: number) => (n: { port: number }) => n.port === port;

describe('nodes.conf format', () => {
  test('reads nodes, slots, hostnames and epochs; this node is the one matching', () => {
    const t = parseTopology(TWO, 'nodes.conf', 7000, byPort(7000));
    expect(t.myself.id).toBe(A);
    expect(t.nodes.size).toBe(2);
    expect(t.assignedSlots).toBe(16383);
    expect(t.ok).toBe(false);
    expect(t.owner[9001]).toBeNull();
    expect(t.owner[9002]!.id).toBe(B);
    expect(t.nodes.get(B)!.hostname).toBe('spool-1');
    expect(t.currentEpoch).toBe(2);
    expect(t.rangesOf(t.nodes.get(B)!)).toEqual([{ start: 8192, end: 9000 }, { start: 9002, end: 16383 }]);
  });

  test('writes what it reads, itself flagged myself, open slots on its own line; reads that back', () => {
    const t = parseTopology(TWO, 'nodes.conf', 7000, byPort(7000));
    t.migrating.set(5, t.nodes.get(B)!);
    t.importing.set(9001, t.nodes.get(B)!);
    const saved = topologyFileText(t);
    expect(saved).toBe(
      `${A} 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-8191 [5->-${B}] [9001-<-${B}]\n` +
        `${B} 10.1.2.3:7001@17001,spool-1 master - 0 0 2 connected 8192-9000 9002-16383\n` +
        'vars currentEpoch 2 lastVoteEpoch 0\n',
    );
    const again = parseTopology(saved, 'nodes.conf', 7000, () => false);
    expect(again.myself.id).toBe(A);
    expect(again.migrating.get(5)!.id).toBe(B);
    expect(again.importing.get(9001)!.id).toBe(B);
    expect(topologyFileText(again)).toBe(saved);
  });

  test('a replica line: this node as a replica of a listed master, shown with its master\'s config epoch', () => {
    const withReplica = `${TWO}\n${'c'.repeat(40)} 127.0.0.1:7002@17002 slave ${B} 0 0 0 connected`;
    const t = parseTopology(withReplica, 'nodes.conf', 7002, byPort(7002));
    expect([t.myself.role, t.myself.masterId, t.nodeEpoch(t.myself)]).toEqual(['slave', B, 2]);
    expect(t.replicates(t.nodes.get(B)!)).toBe(true);
    expect(t.replicates(t.nodes.get(A)!)).toBe(false);
    expect(t.replicasOf(t.nodes.get(B)!)).toEqual([t.myself]);
    expect(topologyFileText(t)).toContain(`${'c'.repeat(40)} 127.0.0.1:7002@17002 myself,slave ${B} 0 0 2 connected\n`);
  });

  test('a myself flag on another port is ignored (a copy of another node\'s file)', () => {
    const copied = TWO.replace('master - 0 0 1', 'myself,master - 0 0 1');
    expect(parseTopology(copied, 'nodes.conf', 7001, byPort(7001)).myself.id).toBe(B);
  });

  test('refuses a file it cannot use, naming the line', () => {
    const bad = (textIn: string, port = 7000) => () => parseTopology(textIn, 'nodes.conf', port, byPort(port));
    expect(bad(`${A} 127.0.0.1:7000@17000 master - 0 0 1 connected 0-16384`)).toThrow(/nodes.conf:1: bad slot '16384'/);
    expect(bad(`${A} 127.0.0.1:7000@17000 master - 0 0 1 connected 9-3`)).toThrow(/runs backwards/);
    expect(bad(`${A} 127.0.0.1:x@17000 master - 0 0 1 connected`)).toThrow(/bad address/);
    expect(bad(`${A} 127.0.0.1:7000@17000 master - 0 0 1`)).toThrow(/at least 8 fields/);
    expect(bad(`${A} 127.0.0.1:7000@1 master - 0 0 1 connected 1\n${B} 127.0.0.1:7001@2 master - 0 0 1 connected 1`)).toThrow(/slot 1 is given to both/);
    expect(bad(`${A} 127.0.0.1:7000@1 master - 0 0 1 connected\n${A} 127.0.0.1:7001@2 master - 0 0 1 connected`)).toThrow(/listed twice/);
    expect(bad(TWO, 7005)).toThrow(/no node of the topology is this server/);
    expect(bad(`${A} 127.0.0.1:7000@1 master - 0 0 1 connected\n${B} 127.0.0.2:7000@2 master - 0 0 1 connected`)).toThrow(/several nodes/);
    expect(bad(`${A} 127.0.0.1:7000@1 slave ${B} 0 0 1 connected\n${B} 127.0.0.2:7001@2 slave ${A} 0 0 1 connected`)).toThrow(/replicates b+, which is not a master/);
    expect(bad(`${A} 127.0.0.1:7000@1 slave ${B} 0 0 1 connected`)).toThrow(/replicates b+, which is not listed/);
    expect(bad(`${A} 127.0.0.1:7000@1 slave - 0 0 1 connected`)).toThrow(/nodes.conf:1: a replica names its master/);
    expect(bad(`${A} 127.0.0.1:7000@17000 master - 0 0 1 connected [5->-nosuch]`)).toThrow(/unknown node nosuch/);
    expect(() => parseTopology('', 'f', 1, () => true)).toThrow(TopologyError);
  });
});

describe('--cluster-local', () => {
  test('splits the slots as redis-cli --cluster create does', () => {
    expect(evenSlotRanges(3)).toEqual([[0, 5460], [5461, 10922], [10923, 16383]]);
    expect(evenSlotRanges(1)).toEqual([[0, 16383]]);
    for (const n of [2, 5, 7, 16, 100]) {
      const r = evenSlotRanges(n);
      expect(r[0][0]).toBe(0);
      expect(r[n - 1][1]).toBe(16383);
      for (let i = 1; i < n; i++) expect(r[i][0]).toBe(r[i - 1][1] + 1);
    }
  });

  test('generates one topology every node reads, each finding itself by port', () => {
    const textOut = localTopology('127.0.0.1', 7000, 3);
    const ids = [7000, 7001, 7002].map((p) => parseTopology(textOut, 'f', p, byPort(p)).myself.id);
    expect(new Set(ids).size).toBe(3);
    expect(parseTopology(textOut, 'f', 7000, byPort(7000)).ok).toBe(true);
  });

  test('with --cluster-replicas R: the masters first, then R replicas of each master in turn', () => {
    const textOut = localTopology('127.0.0.1', 7000, 3, 2);
    const lines = textOut.trim().split('\n');
    expect(lines.length).toBe(3 * 3 + 1);
    const ids = lines.slice(0, 9).map((l) => l.split(' ')[0]);
    const masterOf = lines.slice(3, 9).map((l) => ids.indexOf(l.split(' ')[3]));
    expect(masterOf).toEqual([0, 0, 1, 1, 2, 2]);
    for (let i = 3; i < 9; i++) expect(lines[i]).toMatch(new RegExp(`^[0-9a-f]{40} 127\\.0\\.0\\.1:${7000 + i}@${17000 + i} slave [0-9a-f]{40} 0 0 \\d connected$`));
    const replica = parseTopology(textOut, 'f', 7004, byPort(7004));
    expect([replica.myself.role, replica.myself.masterId, replica.nodes.size, replica.ok]).toEqual(['slave', ids[0], 9, true]);
  });

  test('takes its options out of the command line', () => {
    expect(takeClusterLocal(['--port', '7000', '--cluster-local', '3', '--dir', 'd'])).toEqual({ count: 3, replicas: 0, rest: ['--port', '7000', '--dir', 'd'] });
    expect(takeClusterLocal(['--cluster-replicas', '2', '--cluster-local', '3', '--dir', 'd'])).toEqual({ count: 3, replicas: 2, rest: ['--dir', 'd'] });
    expect(() => takeClusterLocal(['--cluster-replicas', '1'])).toThrow(/option of --cluster-local/);
    expect(() => takeClusterLocal(['--cluster-local', '3', '--cluster-replicas', 'x'])).toThrow(/replicas per master/);
    expect(() => takeClusterLocal(['--cluster-local', '3', '--cluster-replicas', '-1'])).toThrow(/replicas per master/);
    expect(() => takeClusterLocal(['--cluster-local', '3', '--cluster-replicas'])).toThrow(/replicas per master/);
    expect(() => takeClusterLocal(['--cluster-local', '501', '--cluster-replicas', '1'])).toThrow(/1000 nodes/);
    expect(takeClusterLocal(['--port', '7000'])).toBeNull();
    expect(() => takeClusterLocal(['--cluster-local', 'x'])).toThrow(/number of nodes/);
    expect(() => takeClusterLocal(['--cluster-local'])).toThrow(/number of nodes/);
  });
});

/** Runs `body` with a fresh temporary directory, removed afterwards. */
async function inTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-topology-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Runs `body` against an in-process cluster node on `port` with topology `file`, stopped afterwards. */
async function withNode(port: number, file: string, body: () => Promise<void>): Promise<void> {
  const node = await startSpool({ port: String(port), 'cluster-enabled': 'yes', 'cluster-config-file': file });
  try {
    await body();
  } finally {
    await node.stop(); // waits for the topology write in flight
  }
}

describe('a node persists its topology', () => {
  test('slot changes are written to its cluster-config-file and read again after a restart', () =>
    inTempDir(async (dir) => {
      const port = await freePort();
      const file = path.join(dir, 'nodes.conf');
      await writeFile(file, `${A} 127.0.0.1:${port}@1 master - 0 0 1 connected 0-16383\n${B} 127.0.0.1:1@2 master - 0 0 2 connected\n`);
      await withNode(port, file, async () => {
        expect(await text(port, ['CLUSTER', 'DELSLOTSRANGE', '100', '199'])).toBe('OK');
        expect(await text(port, ['CLUSTER', 'SETSLOT', '5', 'MIGRATING', B])).toBe('OK');
        expect(await text(port, ['CLUSTER', 'SETSLOT', '300', 'NODE', B])).toBe('OK');
        expect(await text(port, ['CLUSTER', 'BUMPEPOCH'])).toBe('BUMPED 3');
      });
      const saved = await readFile(file, 'utf8');
      expect(saved).toContain(`${A} 127.0.0.1:${port}@1 myself,master - 0 0 3 connected 0-99 200-299 301-16383 [5->-${B}]`);
      expect(saved).toContain(`${B} 127.0.0.1:1@2 master - 0 0 2 connected 300`);
      await withNode(port, file, async () => {
        const nodes = await text(port, ['CLUSTER', 'NODES']);
        expect(nodes).toContain(`myself,master - 0 0 3 connected 0-99 200-299 301-16383 [5->-${B}]`);
        expect(await text(port, ['CLUSTER', 'INFO'])).toContain('cluster_slots_assigned:16284');
        // The cluster is down while slots 100-199 have no owner; once they have, slot 300 goes to the other node.
        expect(await text(port, ['XADD', 'k', '*', 'f', 'v'])).toBe('CLUSTERDOWN The cluster is down');
        expect(await text(port, ['CLUSTER', 'ADDSLOTSRANGE', '100', '199'])).toBe('OK');
        const key = Array.from({ length: 100000 }, (_, i) => `k${i}`).find((k) => keyHashSlot(Buffer.from(k)) === 300)!;
        expect(await text(port, ['XADD', key, '*', 'f', 'v'])).toBe('MOVED 300 127.0.0.1:1');
      });
    }));

  test('a node without a file starts alone with no slot, and saves itself', () =>
    inTempDir(async (dir) => {
      const port = await freePort();
      const file = path.join(dir, 'fresh.conf');
      await withNode(port, file, async () => {
        const id = await text(port, ['CLUSTER', 'MYID']);
        expect(id).toMatch(/^[0-9a-f]{40}$/);
        expect(await readFile(file, 'utf8')).toBe(`${id} 127.0.0.1:${port}@${port + 10000} myself,master - 0 0 0 connected\nvars currentEpoch 0 lastVoteEpoch 0\n`);
        expect(await text(port, ['XADD', 'k', '*', 'f', 'v'])).toBe('CLUSTERDOWN Hash slot not served');
        expect(await text(port, ['CLUSTER', 'RESET', 'HARD'])).toBe('OK');
        expect(await text(port, ['CLUSTER', 'MYID'])).not.toBe(id);
      });
    }));

  test('CLUSTER SAVECONFIG answers once the file is written, or with the reason it could not be', () =>
    inTempDir(async (dir) => {
      const port = await freePort();
      const sub = path.join(dir, 'sub');
      await mkdir(sub);
      const file = path.join(sub, 'nodes.conf');
      await withNode(port, file, async () => {
        expect(await text(port, ['CLUSTER', 'ADDSLOTS', '7'])).toBe('OK');
        expect(await text(port, ['CLUSTER', 'SAVECONFIG'])).toBe('OK');
        expect(await readFile(file, 'utf8')).toMatch(/myself,master - 0 0 0 connected 7\n/);
        await rm(sub, { recursive: true, force: true });
        expect(await text(port, ['CLUSTER', 'SAVECONFIG'])).toBe('ERR error saving the cluster node config: No such file or directory');
        expect(await text(port, ['PING'])).toBe('PONG');
      });
    }));

  test('a node finds itself by its host name (Kubernetes: spool-0 is spool-0.spool.<ns>.svc...)', () =>
    inTempDir(async (dir) => {
      const port = await freePort();
      const file = path.join(dir, 'nodes.conf');
      await writeFile(file, `${A} ${os.hostname()}.spool.default.svc.cluster.local:${port}@1 master - 0 0 1 connected 0-16383\n${B} other-host.example:${port}@1 master - 0 0 2 connected\n`);
      await withNode(port, file, async () => {
        expect(await text(port, ['CLUSTER', 'MYID'])).toBe(A);
      });
    }));

  test('cluster mode refuses port 0 and a topology without this node', () =>
    inTempDir(async (dir) => {
      await expect(startSpool({ port: '0', 'cluster-enabled': 'yes' })).rejects.toThrow(/fixed port/);
      const file = path.join(dir, 'nodes.conf');
      await writeFile(file, `${A} 127.0.0.1:1@2 master - 0 0 1 connected 0-16383\n`);
      await expect(withNode(await freePort(), file, async () => undefined)).rejects.toThrow(/no node of the topology is this server/);
    }));
});

test('CLIENT LIST shows READONLY as flag r', () =>
  inTempDir(async (dir) => {
    const port = await freePort();
    await withNode(port, path.join(dir, 'n.conf'), async () => {
      const c = await RespConnection.connect(port);
      await c.call(['READONLY']);
      expect(nodeText(await c.call(['CLIENT', 'INFO']))).toMatch(/ flags=r /);
      await c.call(['READWRITE']);
      expect(nodeText(await c.call(['CLIENT', 'INFO']))).toMatch(/ flags=N /);
      c.close();
      expect(await text(port, ['PING'])).toBe('PONG');
    });
  }));
