// Failover by redis-sentinel: one Spool master (a process, killed with SIGKILL), two Spool replicas, three
// Sentinels on loopback ports. The Sentinels promote a replica (their failover transaction: MULTI, SLAVEOF NO ONE,
// CONFIG REWRITE, CLIENT KILL ..., EXEC), reconfigure the other, and an ioredis client configured with
// `sentinels:` carries on against the new master, where every entry acknowledged by WAIT 1 before the kill is.
//
// Sentinels find each other through Spool's Pub/Sub (hello messages on __sentinel__:hello).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import { startSpool, startSpoolProcess } from '../helpers/spool';
import { freePort, waitForPort } from '../helpers/ports';
import { until } from '../helpers/replication';

const cleanups: Array<() => Promise<unknown>> = [];
const clients: Redis[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
});

async function startSentinel(dir: string, masterPort: number): Promise<number> {
  const port = await freePort();
  const conf = path.join(dir, `sentinel-${port}.conf`);
  await writeFile(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor spool 127.0.0.1 ${masterPort} 2`,
      'sentinel down-after-milliseconds spool 1000',
      'sentinel failover-timeout spool 10000',
      'sentinel parallel-syncs spool 1',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('redis-sentinel', [conf], { stdio: 'ignore' });
  cleanups.push(async () => {
    child.kill('SIGKILL');
  });
  await waitForPort(port, 10000);
  return port;
}

describe('redis-sentinel failover', () => {
  test('Sentinels promote a Spool replica; the client follows; acknowledged entries survive', async () => {
    const master = await startSpoolProcess(['--appendfsync', 'always']);
    cleanups.push(() => master.kill('SIGKILL'));
    const probe = new Redis({ port: master.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on('error', () => undefined); // its master is killed below
    clients.push(probe);

    const replicas = [await startSpool(), await startSpool()];
    for (const r of replicas) {
      cleanups.push(() => r.stop());
      const c = new Redis({ port: r.port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
      clients.push(c);
      await c.call('REPLICAOF', '127.0.0.1', String(master.port));
    }
    await until('two replicas online', async () => ((await probe.call('ROLE')) as unknown[][])[2].length === 2);

    const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-sentinel-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const sentinelPorts = [];
    for (let i = 0; i < 3; i++) sentinelPorts.push(await startSentinel(dir, master.port));
    const sentinel = new Redis({ port: sentinelPorts[0], host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    clients.push(sentinel);
    await until('the Sentinels to know each other and the replicas', async () => {
      const info = (await sentinel.call('SENTINEL', 'MASTER', 'spool')) as string[];
      const field = (name: string) => info[info.indexOf(name) + 1];
      return field('num-other-sentinels') === '2' && field('num-slaves') === '2';
    }, 30000);

    const app = new Redis({ sentinels: sentinelPorts.map((port) => ({ host: '127.0.0.1', port })), name: 'spool', maxRetriesPerRequest: 3 });
    app.on('error', () => undefined); // reconnections during the failover are expected
    clients.push(app);
    const acknowledged: string[] = [];
    for (let i = 0; i < 20; i++) {
      const id = (await app.xadd('orders', '*', 'n', String(i))) as string;
      if ((await app.call('WAIT', '1', '2000')) === 1) acknowledged.push(id);
    }
    expect(acknowledged.length).toBe(20);

    await master.kill('SIGKILL');
    // The client carries on once the Sentinels promoted a replica (bounded retries while they vote).
    await until('a write on the new master', async () => {
      await app.xadd('orders', '*', 'after', 'failover');
      return true;
    }, 60000);
    const [host, port] = (await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'spool')) as [string, string];
    expect(host).toBe('127.0.0.1');
    expect(replicas.map((r) => String(r.port))).toContain(port);
    const promoted = new Redis({ port: Number(port), host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
    clients.push(promoted);
    const ids = ((await promoted.xrange('orders', '-', '+')) as [string][]).map((e) => e[0]);
    for (const id of acknowledged) expect(ids).toContain(id);
    expect(((await promoted.call('ROLE')) as unknown[])[0]).toBe('master');
  });
});
