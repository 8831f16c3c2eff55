// SYNC and PSYNC on Spool: `redis-cli --rdb <file>` (which sends REPLCONF capa eof, REPLCONF rdb-only 1, then
// SYNC) gets a valid RDB that redis-server loads with the same streams; PSYNC ? -1 gets +FULLRESYNC with a
// 40-hex replication ID, then the payload as `$<len>\r\n<rdb>` with no trailing CRLF.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection } from '../helpers/resp';
import { loadRdb } from '../../src/rdb/rdbLoad';
import { buildStreams, streamViews } from './streamShapes';

let spool: SpoolHandle;
let s: RespConnection;
let tmp: string;
let keys: string[];
beforeAll(async () => {
  spool = await startSpool();
  s = await RespConnection.connect(spool.port);
  keys = await buildStreams((args) => s.call(args));
  tmp = await mkdtemp(path.join(os.tmpdir(), 'spool-sync-'));
});
afterAll(async () => {
  s?.close();
  await spool?.stop();
  await rm(tmp, { recursive: true, force: true });
});

const views = (c: RespConnection) => streamViews((args) => c.call(args), keys);

describe('redis-cli --rdb against Spool', () => {
  it('writes an RDB that redis-server loads with the same streams', async () => {
    const file = path.join(tmp, 'cli.rdb');
    const result = await new Promise<{ code: number; out: string }>((resolve) => {
      execFile('redis-cli', ['-h', '127.0.0.1', '-p', String(spool.port), '--rdb', file], { timeout: 30000 }, (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout + stderr }),
      );
    });
    expect(result.out).toContain('Transfer finished with success');
    expect(result.code).toBe(0);
    const loader = await startRedis(['--dir', tmp, '--dbfilename', 'cli.rdb']);
    try {
      const c = await RespConnection.connect(loader.port);
      expect(await views(c)).toEqual(await views(s));
      c.close();
    } finally {
      await loader.stop();
    }
    // Spool still serves the others.
    expect((await s.call(['PING'])).bytes.toString()).toBe('+PONG\r\n');
  });
});

describe('PSYNC ? -1', () => {
  it('answers +FULLRESYNC then the RDB payload, then closes', async () => {
    const socket = net.connect({ port: spool.port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    socket.on('data', (d) => chunks.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('PSYNC ? -1\r\n');
    await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('no close within 20 s')), 20000))]);
    const all = Buffer.concat(chunks);
    const first = all.indexOf('\r\n');
    expect(all.subarray(0, first).toString()).toMatch(/^\+FULLRESYNC [0-9a-f]{40} 0$/);
    const second = all.indexOf('\r\n', first + 2);
    const header = all.subarray(first + 2, second).toString();
    expect(header).toMatch(/^\$\d+$/);
    const rdb = all.subarray(second + 2);
    expect(rdb.length).toBe(Number(header.slice(1)));
    let streams = 0;
    await loadRdb(rdb, { stream: () => void streams++ });
    expect(streams).toBe(keys.length);
  });

  it('is refused inside MULTI', async () => {
    await s.call(['MULTI']);
    await s.call(['SYNC']);
    expect((await s.call(['EXEC'])).bytes.toString()).toBe('*1\r\n-ERR Command not allowed inside a transaction\r\n');
  });
});
