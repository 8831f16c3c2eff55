// CLIENT PAUSE / CLIENT UNPAUSE against redis-server 7.0.15: argument errors, which commands a WRITE pause holds
// (writes, XREADGROUP, EXEC with queued writes, writes inside MULTI) and which it serves at once (reads, EXEC of
// reads, errors), that held clients resume in the order they were held, and that ALL holds everything.
// Held clients are awaited through INFO blocked_clients (Redis counts them there), never by sleeping.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startServer } from '../../src/server/server';
import { differentialSuite, pipeline, type Script } from '../helpers/differential';
import { maskAll } from '../helpers/mask';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText } from '../helpers/resp';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { startInProcess, type InProcessSpool } from '../hardening/raw';

const UNPAUSE = ['CLIENT UNPAUSE'];

const scripts: Script[] = [
  {
    name: 'CLIENT PAUSE and UNPAUSE: arguments and errors',
    steps: [
      'CLIENT PAUSE',
      'CLIENT PAUSE abc',
      'CLIENT PAUSE -1',
      'CLIENT PAUSE 1.5',
      'CLIENT PAUSE 99999999999999999999',
      'CLIENT PAUSE 10 foo',
      // The mode is checked before the timeout.
      'CLIENT PAUSE abc foo',
      'CLIENT PAUSE -1 foo',
      'CLIENT PAUSE 10 WRITE extra',
      'CLIENT pause 10 write extra',
      'CLIENT UNPAUSE x',
      'CLIENT PAUSE 0',
      'CLIENT PAUSE 0 write',
      'CLIENT PAUSE 0 ALL',
      'CLIENT UNPAUSE',
      'CLIENT UNPAUSE',
      // timeout + now overflows int64 in Redis 7.0.15: the pause is over at once and writes go through.
      'CLIENT PAUSE 9223372036854775807 WRITE',
      'XADD s 1-1 f v',
      'CLIENT PAUSE 100000 WRITE',
      'CLIENT UNPAUSE',
      'XADD s 2-1 f v',
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE pause: a write waits for UNPAUSE, reads from others are served meanwhile',
    steps: [
      'XADD s 1-1 f v',
      'CLIENT PAUSE 100000 WRITE',
      { c: 1, cmd: 'XADD s 2-1 f v', defer: true },
      { waitBlocked: 1 },
      { c: 2, cmd: 'XLEN s' },
      { c: 2, cmd: 'XRANGE s - +' },
      { c: 2, cmd: 'XREAD STREAMS s 0' },
      { c: 2, cmd: 'XADD s' }, // an arity error is answered at once
      { c: 2, cmd: 'NOSUCHCOMMAND' },
      { cmd: 'CLIENT LIST', mask: [maskAll] },
      'CLIENT UNPAUSE',
      { c: 1, collect: 1 },
      { c: 2, cmd: 'XLEN s' },
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE pause: the pipeline behind a held write waits with it',
    steps: [
      'CLIENT PAUSE 100000 WRITE',
      { c: 1, ...pipeline(['XADD s 1-1 f v', 'XLEN s', 'PING']), defer: true },
      { waitBlocked: 1 },
      { c: 2, cmd: 'XLEN s' },
      'CLIENT UNPAUSE',
      { c: 1, collect: 3 },
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE pause: XREADGROUP, XACK, DEL and FLUSHDB are held, XREAD BLOCK is served',
    steps: [
      'XADD s 1-1 f v',
      'XGROUP CREATE s g 0',
      'CLIENT PAUSE 100000 WRITE',
      { c: 1, cmd: 'XREADGROUP GROUP g c STREAMS s >', defer: true },
      { c: 2, cmd: 'XACK s g 1-1', defer: true },
      { c: 3, cmd: 'DEL nosuch', defer: true },
      { c: 4, cmd: 'FLUSHDB', defer: true },
      { waitBlocked: 4 },
      { c: 5, cmd: 'XREAD BLOCK 50 STREAMS s $' },
      { c: 5, cmd: 'XPENDING s g' },
      'CLIENT UNPAUSE',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
      { c: 4, collect: 1 },
      { c: 5, cmd: 'EXISTS s' },
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE pause: EXEC of queued writes is held, EXEC of reads is not, a write inside MULTI is held before QUEUED',
    steps: [
      'XADD s 1-1 f v',
      { c: 1, cmd: 'MULTI' },
      { c: 1, cmd: 'XADD s 2-1 f v' },
      { c: 2, cmd: 'MULTI' },
      { c: 2, cmd: 'XLEN s' },
      'CLIENT PAUSE 100000 WRITE',
      { c: 1, cmd: 'EXEC', defer: true },
      { waitBlocked: 1 },
      { c: 2, cmd: 'EXEC' },
      { c: 3, cmd: 'MULTI' },
      { c: 3, cmd: 'XADD s 3-1 f v', defer: true },
      { waitBlocked: 2 },
      'CLIENT UNPAUSE',
      { c: 1, collect: 1 },
      { c: 3, collect: 1 },
      { c: 3, cmd: 'EXEC' },
      'XLEN s',
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE pause: held clients resume in the order they were held',
    steps: [
      'CLIENT PAUSE 100000 WRITE',
      { c: 1, cmd: 'XADD s 5-1 f first', defer: true },
      { waitBlocked: 1 },
      { c: 2, cmd: 'XADD s 3-1 f second', defer: true },
      { waitBlocked: 2 },
      { c: 3, cmd: 'XADD s 9-1 f third', defer: true },
      { waitBlocked: 3 },
      'CLIENT UNPAUSE',
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      { c: 3, collect: 1 },
      'XRANGE s - +',
    ],
    after: UNPAUSE,
  },
  {
    name: 'WRITE then ALL: the stronger pause and the later end win; ALL holds UNPAUSE too until the timer ends it',
    steps: [
      'CLIENT PAUSE 300 WRITE',
      'CLIENT PAUSE 0 ALL',
      { c: 1, cmd: 'PING', defer: true },
      { c: 2, cmd: 'CLIENT UNPAUSE', defer: true },
      { c: 1, collect: 1 },
      { c: 2, collect: 1 },
      'XADD s 1-1 f v',
    ],
    after: UNPAUSE,
  },
  {
    name: 'CLIENT PAUSE and UNPAUSE in COMMAND INFO and COMMAND DOCS',
    steps: ['COMMAND INFO client|pause client|unpause', 'COMMAND DOCS client|pause', 'COMMAND DOCS client|unpause'],
  },
];

differentialSuite(scripts);

/**
 * The behaviour the pause exists for, checked step by step (the same steps against redis-server prove the test):
 * a write sent during a WRITE pause gets no reply until CLIENT UNPAUSE, while a read from another client is
 * answered at once and does not see the write.
 */
async function writeWaitsForUnpause(port: number): Promise<void> {
  const [admin, writer, reader] = await Promise.all([1, 2, 3].map(() => RespConnection.connect(port)));
  try {
    expect(nodeText(await admin.call(['CLIENT', 'PAUSE', '100000', 'WRITE']))).toBe('OK');
    writer.sendCommand(['XADD', 'paused', '1-1', 'f', 'v']);
    // Bounded wait until the server holds the writer (so the write certainly arrived before the reads below).
    const deadline = Date.now() + 5000;
    while (!/blocked_clients:1\r\n/.test(nodeText(await reader.call(['INFO', 'clients'])) ?? '')) {
      if (Date.now() > deadline) throw new Error('the write was never held');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(nodeText(await reader.call(['XLEN', 'paused']))).toBe('0');
    expect(nodeText(await reader.call(['EXISTS', 'paused']))).toBe('0');
    expect(writer.take()).toEqual([]);
    expect(writer.pendingBytes.length).toBe(0);
    expect(nodeText(await admin.call(['CLIENT', 'UNPAUSE']))).toBe('OK');
    expect(nodeText((await writer.read(1, 5000))[0])).toBe('1-1');
    expect(nodeText(await reader.call(['XLEN', 'paused']))).toBe('1');
  } finally {
    await admin.call(['CLIENT', 'UNPAUSE']).catch(() => undefined);
    for (const c of [admin, writer, reader]) c.close();
  }
}

describe('CLIENT PAUSE WRITE holds a write until CLIENT UNPAUSE, serves reads at once', () => {
  let redis: RunningRedis;
  let spool: SpoolHandle;
  beforeAll(async () => {
    [redis, spool] = await Promise.all([startRedis(), startSpool()]);
  });
  afterAll(async () => {
    await Promise.all([redis?.stop(), spool?.stop()]);
  });

  test('redis-server (proves the steps)', async () => {
    await writeWaitsForUnpause(redis.port);
  });

  test('Spool', async () => {
    await writeWaitsForUnpause(spool.port);
  });
});

// Redis stops active expiry during a pause; Spool's counterpart is time-based retention, which would otherwise
// write (trim and journal) while writers are held.
describe('CLIENT PAUSE defers time-based retention trims until it ends', () => {
  let spool: InProcessSpool;
  beforeAll(async () => {
    spool = await startInProcess();
  });
  afterAll(async () => {
    await spool?.stop();
  });

  test('an entry past stream-maxage stays while paused and is trimmed by the first check after UNPAUSE', async () => {
    const conn = await RespConnection.connect(spool.port);
    try {
      expect(nodeText(await conn.call(['XADD', 'aged', '1-1', 'f', 'v']))).toBe('1-1');
      expect(nodeText(await conn.call(['CLIENT', 'PAUSE', '100000', 'WRITE']))).toBe('OK');
      expect(nodeText(await conn.call(['CONFIG', 'SET', 'stream-maxage', '1000']))).toBe('OK');
      spool.server.state.retention.tick();
      expect(nodeText(await conn.call(['XLEN', 'aged']))).toBe('1');
      expect(nodeText(await conn.call(['CLIENT', 'UNPAUSE']))).toBe('OK');
      spool.server.state.retention.tick();
      expect(nodeText(await conn.call(['XLEN', 'aged']))).toBe('0');
    } finally {
      conn.close();
    }
  });
});

describe('SHUTDOWN during a WRITE pause', () => {
  test('the held write never runs: the connection closes unanswered and the data has no trace of it', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-pause-'));
    try {
      const first = await startServer({ port: '0', bind: '127.0.0.1', dir });
      const [admin, writer] = await Promise.all([RespConnection.connect(first.port), RespConnection.connect(first.port)]);
      expect(nodeText(await admin.call(['XADD', 's', '1-1', 'f', 'v']))).toBe('1-1');
      expect(nodeText(await admin.call(['CLIENT', 'PAUSE', '100000', 'WRITE']))).toBe('OK');
      writer.sendCommand(['XADD', 's', '2-1', 'f', 'v']);
      const deadline = Date.now() + 5000;
      while (first.state.clientPause.heldCount < 1) {
        if (Date.now() > deadline) throw new Error('the write was never held');
        await new Promise((r) => setTimeout(r, 10));
      }
      admin.sendCommand(['SHUTDOWN']);
      await first.stopped;
      await writer.closed;
      expect(writer.take()).toEqual([]);
      admin.close();
      const second = await startServer({ port: '0', bind: '127.0.0.1', dir });
      const conn = await RespConnection.connect(second.port);
      expect(nodeText(await conn.call(['XLEN', 's']))).toBe('1');
      conn.close();
      await second.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
