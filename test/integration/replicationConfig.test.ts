// Replication set up by configuration, and what Sentinel does to it: `replicaof` at start-up (config file and
// command line), Sentinel's failover transaction (MULTI, SLAVEOF NO ONE / SLAVEOF host port, CONFIG REWRITE,
// CLIENT KILL TYPE normal, CLIENT KILL TYPE pubsub, EXEC) with the rewritten file, and a replica process killed
// with SIGKILL that restarts with what it had replicated and reconnects.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type Redis from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import { startSpool, startSpoolProcess } from '../helpers/spool';
import { clientPool, infoField, until } from '../helpers/replication';

const cleanups: Array<() => Promise<unknown>> = [];
const pool = clientPool();
const client = (port: number): Redis => pool.client(port);
afterEach(async () => {
  pool.closeAll();
  for (const f of cleanups.splice(0).reverse()) await f().catch(() => undefined);
});

const field = infoField;

describe('replication from the configuration', () => {
  test('replicaof in the config file; Sentinel\'s failover transaction; CONFIG REWRITE keeps the role', async () => {
    const master = await startSpool();
    cleanups.push(() => master.stop());
    const m = client(master.port);
    await m.xadd('s', '1-1', 'f', 'v');

    const confDir = await mkdtemp(path.join(os.tmpdir(), 'spool-repl-conf-'));
    cleanups.push(() => rm(confDir, { recursive: true, force: true }));
    const conf = path.join(confDir, 'spool.conf');
    await writeFile(conf, `# a replica\nslaveof 127.0.0.1 ${master.port}\n`);
    const { startServer } = await import('../../src/server/server');
    const { readConfigFile } = await import('../../src/config/configFile');
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'spool-repl-data-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const options = Object.fromEntries(readConfigFile(conf));
    const server = await startServer({ ...options, port: '0', bind: '127.0.0.1', dir: dataDir }, { configFile: conf });
    cleanups.push(() => server.close());
    const r = client(server.port);
    await until('the replica link', async () => field(await r.info('replication'), 'master_link_status') === 'up');
    await until('the stream', async () => (await r.xlen('s')) === 1);
    expect(await r.config('GET', 'replicaof')).toEqual(['replicaof', `127.0.0.1 ${master.port}`]);

    // Sentinel promotes this replica: its transaction, as sentinelSendSlaveOf sends it.
    const bystander = client(server.port);
    expect(await bystander.ping()).toBe('PONG');
    const promote = await r
      .multi()
      .call('SLAVEOF', 'NO', 'ONE')
      .call('CONFIG', 'REWRITE')
      .call('CLIENT', 'KILL', 'TYPE', 'normal')
      .call('CLIENT', 'KILL', 'TYPE', 'pubsub')
      .exec();
    expect(promote).toEqual([
      [null, 'OK'],
      [null, 'OK'],
      [null, 1],
      [null, 0],
    ]);
    await until('the bystander to be closed', async () => bystander.status === 'end' || bystander.status === 'close');
    expect(field(await r.info('replication'), 'role')).toBe('master');
    expect(await r.xadd('s', '2-1', 'now', 'master')).toBe('2-1');
    // Inside EXEC the rewrite finishes after the reply.
    await until('the rewritten file', async () => !/^(replicaof|slaveof) 127/m.test(await readFile(conf, 'latin1')));

    // And demotes it again (SLAVEOF host port + CONFIG REWRITE): the file says so.
    const demote = await r.multi().call('SLAVEOF', '127.0.0.1', String(master.port)).call('CONFIG', 'REWRITE').exec();
    expect(demote).toEqual([
      [null, 'OK'],
      [null, 'OK'],
    ]);
    await until('the rewritten file', async () => Object.fromEntries(readConfigFile(conf)).replicaof === `127.0.0.1 ${master.port}`);
    expect(await readFile(conf, 'latin1')).toContain('# a replica');
    // It resynchronizes with the master (its own write 2-1 is gone: the master's dataset wins).
    await until('the resync', async () => field(await r.info('replication'), 'master_link_status') === 'up');
    await until('the master dataset', async () => (await r.xlen('s')) === 1);
  });

  test('a replica process killed with SIGKILL restarts with its data and reconnects (--replicaof)', async () => {
    const master = await startSpool();
    cleanups.push(() => master.stop());
    const m = client(master.port);
    for (let i = 1; i <= 100; i++) await m.xadd('log', `${i}-1`, 'n', String(i));
    const first = await startSpoolProcess(['--replicaof', '127.0.0.1', String(master.port), '--appendfsync', 'always'], { keepDir: true });
    cleanups.push(() => rm(first.dir, { recursive: true, force: true }));
    cleanups.push(() => first.kill('SIGKILL'));
    const r1 = client(first.port);
    await until('the first sync', async () => (await r1.xlen('log')) === 100);
    await m.xadd('log', '101-1', 'n', '101');
    expect(await m.call('WAIT', '1', '5000')).toBe(1);
    r1.disconnect();
    await first.kill('SIGKILL');

    // Restarted: its log has everything it had acknowledged, before it even reaches the master again.
    await m.xadd('log', '102-1', 'n', '102');
    const second = await startSpoolProcess(['--replicaof', '127.0.0.1', '1', '--appendfsync', 'always'], { dir: first.dir });
    cleanups.push(() => second.kill('SIGKILL'));
    const r2 = client(second.port);
    expect(await r2.xlen('log')).toBe(101);
    expect(field(await r2.info('replication'), 'master_link_status')).toBe('down');
    expect(await r2.call('REPLICAOF', '127.0.0.1', String(master.port))).toBe('OK');
    await until('the resync', async () => (await r2.xlen('log')) === 102);
  });
});
