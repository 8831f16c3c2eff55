// `redis-cli --cluster reshard` against three Spool nodes (`spool-server --cluster-local 3`, real processes from
// dist/) while an ioredis Cluster client keeps adding entries: 1000 slots move from the first node to the second
// through CLUSTER SETSLOT and MIGRATE (the source sends RESTORE-ASKING, the target serves it on the slot it
// imports). Afterwards `redis-cli --cluster check` is clean, every acknowledged entry is on the node owning its
// stream's slot, and the moved streams kept their consumer groups, PELs and consumers. Bounded in count and time.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import Redis, { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startLocalCluster, type LocalCluster } from '../cluster/localCluster';
import { keyHashSlot } from '../../src/cluster/keySlot';

const run = promisify(execFile);

const STREAMS = 200;
const MOVED_SLOTS = 1000;
/** Bounds of the write load running beside the reshard. */
const MAX_WRITES = 40_000;
const MAX_WRITE_MS = 120_000;
const IN_FLIGHT = 16;

/** Stream names: three quarters in the slots the reshard moves (redis-cli takes the source's lowest slots). */
function streamNames(): string[] {
  const moving: string[] = [];
  const staying: string[] = [];
  for (let i = 0; moving.length < (STREAMS * 3) / 4 || staying.length < STREAMS / 4; i++) {
    const name = `r:{${i}}`;
    const slot = keyHashSlot(Buffer.from(name));
    if (slot < MOVED_SLOTS) {
      if (moving.length < (STREAMS * 3) / 4) moving.push(name);
    } else if (staying.length < STREAMS / 4) staying.push(name);
  }
  return [...moving, ...staying];
}

function nodeClient(port: number): Redis {
  return new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
}

describe('redis-cli --cluster reshard under an XADD load', () => {
  let local: LocalCluster;
  let cluster: Cluster;

  beforeAll(async () => {
    local = await startLocalCluster(3);
    // No auto-pipelining: ioredis retries a redirected pipeline only when every reply in it is the same
    // redirection, so batches mixing served and redirected XADDs would fail (as against Redis).
    cluster = new Cluster([{ host: '127.0.0.1', port: local.ports[0] }]);
  }, 60000);
  afterAll(async () => {
    cluster?.disconnect();
    await local?.stop();
  });

  test(`moves ${MOVED_SLOTS} slots with their streams, groups and PELs; no acknowledged entry is lost`, async () => {
    const names = streamNames();
    const from = nodeClient(local.ports[0]);
    const to = nodeClient(local.ports[1]);
    const fromId = (await from.cluster('MYID')) as string;
    const toId = (await to.cluster('MYID')) as string;

    // Each stream: a few entries, a group with two entries pending for consumer c and an idle consumer d.
    const acked = new Map<string, string[]>(names.map((n) => [n, []]));
    for (const name of names) {
      for (let i = 0; i < 3; i++) acked.get(name)!.push((await cluster.xadd(name, '*', 'n', String(i))) as string);
      await cluster.xgroup('CREATE', name, 'g', '0');
      await cluster.xreadgroup('GROUP', 'g', 'c', 'COUNT', '2', 'STREAMS', name, '>');
      await cluster.xgroup('CREATECONSUMER', name, 'g', 'd');
    }
    // What must move with each stream (XINFO GROUPS without lag, which the later entries change; XPENDING's summary).
    const groupState = async (client: Redis | Cluster, name: string) => [
      ((await client.xinfo('GROUPS', name)) as unknown[][]).map((g) => g.slice(0, 10)),
      await client.xpending(name, 'g'),
    ];
    const groupsBefore = new Map<string, unknown>();
    for (const name of names) groupsBefore.set(name, await groupState(cluster, name));

    // The load: XADDs over every stream until the reshard ends (or the bounds are reached).
    let stop = false;
    let writes = 0;
    const failures: string[] = [];
    const started = Date.now();
    const writer = async (w: number) => {
      for (let i = w; !stop && writes < MAX_WRITES && Date.now() - started < MAX_WRITE_MS; i += IN_FLIGHT) {
        const name = names[i % names.length];
        writes++;
        try {
          acked.get(name)!.push((await cluster.xadd(name, '*', 'n', String(i))) as string);
        } catch (err) {
          failures.push(String(err));
        }
      }
    };
    const writers = Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => writer(w)));

    const reshard = await run(
      'redis-cli',
      ['--cluster', 'reshard', `127.0.0.1:${local.ports[0]}`, '--cluster-from', fromId, '--cluster-to', toId, '--cluster-slots', String(MOVED_SLOTS), '--cluster-yes'],
      { timeout: 180000, maxBuffer: 16 * 1024 * 1024 },
    ).finally(() => (stop = true));
    await writers;
    expect(reshard.stdout).not.toMatch(/ERR|\[ERR\]/);
    expect(writes).toBeGreaterThan(0);
    expect(failures).toEqual([]);

    const check = await run('redis-cli', ['--cluster', 'check', `127.0.0.1:${local.ports[2]}`], { timeout: 60000 });
    expect(check.stdout).toContain('[OK] All nodes agree about slots configuration.');
    expect(check.stdout).toContain('[OK] All 16384 slots covered.');
    expect(check.stdout).not.toContain('WARNING');
    expect(check.stdout).not.toContain('[ERR]');

    // The moved slots are the target's now, and the source holds none of their keys.
    const slots = (await from.cluster('SLOTS')) as [number, number, [string, number, string]][];
    const ownerPort = (slot: number) => slots.find(([a, b]) => slot >= a && slot <= b)![2][1];
    for (let slot = 0; slot < MOVED_SLOTS; slot++) expect(ownerPort(slot)).toBe(local.ports[1]);
    const byPort = new Map(local.ports.map((p) => [p, nodeClient(p)]));
    try {
      let entries = 0;
      for (const name of names) {
        const slot = keyHashSlot(Buffer.from(name));
        const owner = byPort.get(ownerPort(slot))!;
        const ids = ((await owner.xrange(name, '-', '+')) as [string, string[]][]).map(([id]) => id);
        expect(ids, name).toEqual(acked.get(name));
        entries += ids.length;
        expect(await groupState(owner, name), name).toEqual(groupsBefore.get(name));
        const consumers = ((await owner.xinfo('CONSUMERS', name, 'g')) as unknown[][]).map((c) => [c[1], c[3]]);
        expect(consumers, name).toEqual([['c', 2], ['d', 0]]);
        for (const other of byPort.values()) if (other !== owner) await expect(other.xlen(name)).rejects.toThrow(/MOVED/);
      }
      expect(entries).toBe(STREAMS * 3 + writes);
      const leftOnSource = await Promise.all(Array.from({ length: MOVED_SLOTS }, (_, s) => from.cluster('COUNTKEYSINSLOT', s)));
      expect(leftOnSource.every((n) => n === 0)).toBe(true);
    } finally {
      for (const c of byPort.values()) c.disconnect();
      from.disconnect();
      to.disconnect();
    }
  }, 300000);

  test('while a MIGRATE is in flight (its target paused), requests on its key get TRYAGAIN, then ASK', async () => {
    // Redis blocks every client during MIGRATE; Spool serves the others, so a stream already dumped must not
    // change until the target answered. The slot of {m} is node 2's; it moves to node 0 by hand.
    const [a, b] = [nodeClient(local.ports[2]), nodeClient(local.ports[0])];
    const pauser = nodeClient(local.ports[0]);
    const writer = nodeClient(local.ports[2]);
    try {
      const slot = String(keyHashSlot(Buffer.from('{m}')));
      const [idA, idB] = [(await a.cluster('MYID')) as string, (await b.cluster('MYID')) as string];
      await a.xadd('{m}', '1-1', 'f', 'v');
      expect(await b.cluster('SETSLOT', slot, 'IMPORTING', idA)).toBe('OK');
      expect(await a.cluster('SETSLOT', slot, 'MIGRATING', idB)).toBe('OK');
      expect(await pauser.client('PAUSE', 60000, 'WRITE')).toBe('OK');
      const migrated = a.migrate('127.0.0.1', local.ports[0], '', 0, 20000, 'KEYS', '{m}');
      // Once the MIGRATE is sent (its payload made), the key is in flight: TRYAGAIN, for reads and writes alike.
      const deadline = Date.now() + 10000;
      let reply: unknown = null;
      while (Date.now() < deadline) {
        reply = await writer.xadd('{m}', '2-1', 'f', 'v').catch((e: Error) => e.message);
        if (typeof reply === 'string' && reply.startsWith('TRYAGAIN')) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(reply).toBe('TRYAGAIN Multiple keys request during rehashing of slot');
      await expect(writer.xlen('{m}')).rejects.toThrow(/^TRYAGAIN/);
      expect(await pauser.client('UNPAUSE')).toBe('OK');
      expect(await migrated).toBe('OK');
      await expect(writer.xlen('{m}')).rejects.toThrow(`ASK ${slot} 127.0.0.1:${local.ports[0]}`);
      for (const node of [b, a]) expect(await node.cluster('SETSLOT', slot, 'NODE', idB)).toBe('OK');
      expect(await b.xrange('{m}', '-', '+')).toEqual([['1-1', ['f', 'v']]]);
    } finally {
      await pauser.client('UNPAUSE').catch(() => undefined);
      for (const c of [a, b, pauser, writer]) c.disconnect();
    }
  }, 60000);
});
