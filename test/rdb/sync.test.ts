// SYNC and PSYNC on Spool: `redis-cli --rdb <file>` (which sends REPLCONF capa eof, REPLCONF rdb-only 1, then
// SYNC) gets a valid RDB that redis-server loads with the same streams; PSYNC ? -1 gets +FULLRESYNC with a
// 40-hex replication ID, then the payload as `$<len>\r\n<rdb>` with no trailing CRLF, then the stream.
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
  it('answers +FULLRESYNC then the RDB payload, then keeps the link for the replication stream', async () => {
    const socket = net.connect({ port: spool.port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let arrived: () => void = () => undefined;
    socket.on('data', (d) => {
      chunks.push(d);
      arrived();
    });
    socket.write('PSYNC ? -1\r\n');
    // Reads until the payload announced by `$<len>` is whole (bounded in time).
    const deadline = Date.now() + 20000;
    let rdb: Buffer | null = null;
    let first = -1;
    while (rdb === null) {
      if (Date.now() > deadline) throw new Error('no whole RDB within 20 s');
      await new Promise<void>((resolve) => {
        arrived = resolve;
        setTimeout(resolve, 100);
      });
      const all = Buffer.concat(chunks);
      first = all.indexOf('\r\n');
      const second = first < 0 ? -1 : all.indexOf('\r\n', first + 2);
      if (second < 0) continue;
      const length = Number(all.subarray(first + 3, second).toString());
      if (all.length - (second + 2) >= length) rdb = all.subarray(second + 2, second + 2 + length);
    }
    const all = Buffer.concat(chunks);
    expect(all.subarray(0, first).toString()).toMatch(/^\+FULLRESYNC [0-9a-f]{40} \d+$/);
    let streams = 0;
    await loadRdb(rdb, { stream: () => void streams++ });
    expect(streams).toBe(keys.length);
    // A write now reaches this replica's link as a command of the stream.
    await s.call(['XADD', keys[0], '*', 'after', 'sync']);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(Buffer.concat(chunks).toString('latin1')).toContain('XADD');
    socket.destroy();
  });

  it('is refused inside MULTI', async () => {
    await s.call(['MULTI']);
    await s.call(['SYNC']);
    expect((await s.call(['EXEC'])).bytes.toString()).toBe('*1\r\n-ERR Command not allowed inside a transaction\r\n');
  });
});
