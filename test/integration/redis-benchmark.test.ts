// redis-benchmark drives Spool (a spool-server process from dist/), bounded in requests and time: XADD with
// pipelining must complete and store exactly the requests sent, and XRANGE must complete.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { RespConnection, nodeText } from '../helpers/resp';
import { startSpoolProcess, type SpoolProcess } from '../helpers/spool';

function bench(port: number, args: string[], timeoutMs = 90000): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-benchmark', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-benchmark ${args.join(' ')} did not finish in ${timeoutMs} ms: ${out.slice(-2000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

async function call(port: number, args: string[]): Promise<string | null> {
  const c = await RespConnection.connect(port);
  try {
    return nodeText(await c.call(args));
  } finally {
    c.close();
  }
}

let spool: SpoolProcess;
beforeAll(async () => {
  spool = await startSpoolProcess();
});
afterAll(async () => {
  await spool?.stop();
});

const N = 50000;

test(`redis-benchmark -P 16 -n ${N} XADD s * f __rand_int__ stores ${N} entries`, async () => {
  await call(spool.port, ['FLUSHALL']);
  const res = await bench(spool.port, ['-P', '16', '-c', '20', '-n', String(N), '-q', 'XADD', 's', '*', 'f', '__rand_int__']);
  expect(res.code, res.out).toBe(0);
  expect(res.out).toMatch(/requests per second/);
  expect(await call(spool.port, ['XLEN', 's'])).toBe(String(N));
}, 120000);

test('redis-benchmark unpipelined XADD on 50 clients', async () => {
  await call(spool.port, ['DEL', 'u']);
  const res = await bench(spool.port, ['-c', '50', '-n', '10000', '-q', 'XADD', 'u', '*', 'f', '__rand_int__']);
  expect(res.code, res.out).toBe(0);
  expect(await call(spool.port, ['XLEN', 'u'])).toBe('10000');
}, 120000);

test('redis-benchmark XRANGE completes', async () => {
  const res = await bench(spool.port, ['-P', '16', '-n', '5000', '-q', 'XRANGE', 's', '-', '+', 'COUNT', '10']);
  expect(res.code, res.out).toBe(0);
  expect(res.out).toMatch(/requests per second/);
  expect(await call(spool.port, ['PING'])).toBe('PONG');
}, 120000);
