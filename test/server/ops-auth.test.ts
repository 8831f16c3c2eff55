// Security end to end: requirepass with AUTH / HELLO AUTH / NOAUTH (Redis's exact texts), the unauthenticated
// protocol limits, and protected mode (its decision function: test traffic never leaves loopback).

import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { ConfigStore } from '../../src/config/configStore';
import { isLoopback, protectedModeRefuses } from '../../src/server/protectedMode';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { cmd, connectRaw, redisCli } from './opsHelpers';

const NOAUTH = '-NOAUTH Authentication required.\r\n';
const WRONGPASS = '-WRONGPASS invalid username-password pair or user is disabled.\r\n';

describe('requirepass', () => {
  let spool: SpoolHandle;
  beforeAll(async () => {
    spool = await startSpool({ requirepass: 's3cret' });
  });
  afterAll(async () => spool?.stop());

  test('NOAUTH before AUTH, WRONGPASS for a bad password, then served', async () => {
    const s = await connectRaw(spool.port);
    expect(await s.send(cmd('PING'))).toEqual([NOAUTH]);
    expect(await s.send(cmd('XADD', 's', '*', 'f', 'v'))).toEqual([NOAUTH]);
    expect(await s.send(cmd('AUTH', 'nope'))).toEqual([WRONGPASS]);
    expect(await s.send(cmd('AUTH', 'other', 's3cret'))).toEqual([WRONGPASS]);
    expect(await s.send(cmd('PING'))).toEqual([NOAUTH]);
    expect(await s.send(cmd('AUTH', 's3cret'))).toEqual(['+OK\r\n']);
    expect(await s.send(cmd('XADD', 's', '1-1', 'f', 'v'))).toEqual(['$3\r\n1-1\r\n']);
    // RESET drops the authentication again
    expect(await s.send(cmd('RESET'))).toEqual(['+RESET\r\n']);
    expect(await s.send(cmd('XLEN', 's'))).toEqual([NOAUTH]);
    expect(await s.send(cmd('AUTH', 'default', 's3cret'))).toEqual(['+OK\r\n']);
    expect(await s.send(cmd('XLEN', 's'))).toEqual([':1\r\n']);
    s.end();
  });

  test('HELLO without AUTH is refused; HELLO 3 AUTH default <pw> authenticates and switches to RESP3', async () => {
    const s = await connectRaw(spool.port);
    const [refused] = await s.send(cmd('HELLO', '3'));
    expect(refused).toMatch(/^-NOAUTH HELLO must be called with the client already authenticated/);
    expect(await s.send(cmd('HELLO', '3', 'AUTH', 'default', 'bad'))).toEqual([WRONGPASS]);
    const [hello] = await s.send(cmd('HELLO', '3', 'AUTH', 'default', 's3cret'));
    expect(hello.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n')).toBe(true);
    expect(hello).toContain('$5\r\nproto\r\n:3\r\n');
    expect(await s.send(cmd('XREAD', 'STREAMS', 'missing', '0'))).toEqual(['_\r\n']); // RESP3 null
    s.end();
  });

  test('unauthenticated clients are held to small requests (as Redis)', async () => {
    const big = await connectRaw(spool.port);
    const [multibulk] = await big.send(`*11\r\n`);
    expect(multibulk).toBe('-ERR Protocol error: unauthenticated multibulk length\r\n');
    expect(await big.closed()).toBe(true);
    const bulk = await connectRaw(spool.port);
    const [bulkReply] = await bulk.send(`*2\r\n$4\r\nAUTH\r\n$16385\r\n`);
    expect(bulkReply).toBe('-ERR Protocol error: unauthenticated bulk length\r\n');
    expect(await bulk.closed()).toBe(true);
    // once authenticated, the same sizes are fine
    const ok = await connectRaw(spool.port);
    await ok.send(cmd('AUTH', 's3cret'));
    const value = 'v'.repeat(16385);
    expect(await ok.send(cmd('XADD', 'big', '*', 'f', value, 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'))).toHaveLength(1);
    ok.end();
  });

  test('the container health check (scripts/healthcheck.js) counts NOAUTH as alive, a closed port as down', async () => {
    const script = path.join(__dirname, '..', '..', 'scripts', 'healthcheck.js');
    // asynchronous: the server under test runs in this process
    const run = (port: number) =>
      new Promise<{ status: number; stderr: string }>((resolve) =>
        execFile(process.execPath, [script], { env: { ...process.env, SPOOL_PORT: String(port) } }, (err, _out, stderr) =>
          resolve({ status: err ? Number(err.code ?? 1) : 0, stderr }),
        ),
      );
    expect((await run(spool.port)).status).toBe(0);
    const down = await run(await freePort()); // nothing listens there
    expect(down.status).toBe(1);
    expect(down.stderr).toMatch(/ECONNREFUSED/);
  });

  test('redis-cli -a', async () => {
    const res = await redisCli(['-h', '127.0.0.1', '-p', String(spool.port), '--no-auth-warning', '-a', 's3cret', 'XLEN', 's']);
    expect(res.out.trim()).toBe('1');
    const denied = await redisCli(['-h', '127.0.0.1', '-p', String(spool.port), 'XLEN', 's']);
    expect(denied.out.trim()).toBe('NOAUTH Authentication required.'); // no "(error) " prefix without a tty
  });
});

describe('protected mode', () => {
  const config = (o: Record<string, string>) => new ConfigStore(new Map(Object.entries(o)));

  test('decision: refuses non-loopback clients only with protected-mode yes and no password', () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('127.3.4.5')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopback(undefined)).toBe(true);
    expect(isLoopback('10.0.0.1')).toBe(false);
    expect(isLoopback('::ffff:10.0.0.1')).toBe(false);
    expect(isLoopback('fe80::1')).toBe(false);
    expect(protectedModeRefuses(config({}), '10.0.0.1')).toBe(true);
    expect(protectedModeRefuses(config({}), '127.0.0.1')).toBe(false);
    expect(protectedModeRefuses(config({ requirepass: 'x' }), '10.0.0.1')).toBe(false);
    expect(protectedModeRefuses(config({ 'protected-mode': 'no' }), '10.0.0.1')).toBe(false);
  });
  // No end-to-end test from a non-loopback address: test traffic only ever targets 127.0.0.1.
});
