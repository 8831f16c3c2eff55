// redis-cli against Spool (a real spool-server process from dist/): one-shot commands, RESP3 (-3), stdin
// scripts and --pipe; the output for the same input is compared with redis-cli's output against redis-server.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpoolProcess, type SpoolProcess } from '../helpers/spool';

function cli(port: number, args: string[], input?: string, timeoutMs = 20000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`redis-cli ${args.join(' ')} timed out; output so far: ${out}${err}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
    // redis-cli may exit before it reads its standard input (--bigkeys never reads it): a write to the closed
    // pipe is then EPIPE, which is no failure of the command (its exit status and output are checked).
    child.stdin.on('error', () => undefined);
    child.stdin.end(input ?? '');
  });
}

let spool: SpoolProcess;
let redis: RunningRedis;
beforeAll(async () => {
  [spool, redis] = await Promise.all([startSpoolProcess(), startRedis()]);
});
afterAll(async () => {
  await Promise.all([spool?.stop(), redis?.stop()]);
});

const SCRIPT = [
  'FLUSHALL',
  'XADD s 1-0 name alice age 30',
  'XADD s 2-0 name "bob smith" age 31',
  'XLEN s',
  'XRANGE s - +',
  'XREVRANGE s + - COUNT 1',
  'XREAD COUNT 1 STREAMS s 0',
  'XGROUP CREATE s g 0',
  'XREADGROUP GROUP g c STREAMS s >',
  'XPENDING s g',
  'XACK s g 1-0',
  'XADD s 0-1 f v',
  'NOSUCHCOMMAND a',
  'XINFO HELP',
  'TYPE s',
  'EXISTS s nosuch',
  'XADD s NOMKSTREAM 3-0 f v',
  'XADD nosuch NOMKSTREAM 3-0 f v',
].join('\n') + '\n';

describe('redis-cli', () => {
  test('one-shot commands', async () => {
    expect((await cli(spool.port, ['PING'])).out).toBe('PONG\n');
    expect((await cli(spool.port, ['XADD', 'k', '1-0', 'f', 'v'])).out).toBe('1-0\n');
    expect((await cli(spool.port, ['XLEN', 'k'])).out).toBe('1\n');
    expect((await cli(spool.port, ['--no-raw', 'XRANGE', 'k', '-', '+'])).out).toBe('1) 1) "1-0"\n   2) 1) "f"\n      2) "v"\n');
  });

  test.each([
    ['raw output', []],
    ['--no-raw output', ['--no-raw']],
    ['RESP3 (-3) --no-raw output', ['-3', '--no-raw']],
    ['RESP3 (-3) raw output', ['-3']],
  ])('a script on stdin prints what redis-server prints: %s', async (_name, flags) => {
    const expected = await cli(redis.port, flags as string[], SCRIPT);
    const actual = await cli(spool.port, flags as string[], SCRIPT);
    expect(actual.out).toBe(expected.out);
    expect(actual.code).toBe(expected.code);
  });

  test('--pipe with 5000 commands', async () => {
    await cli(spool.port, ['FLUSHALL']);
    let input = '';
    for (let i = 1; i <= 5000; i++) input += `*5\r\n$4\r\nXADD\r\n$1\r\np\r\n$${String(i).length + 2}\r\n${i}-0\r\n$1\r\nf\r\n$1\r\nv\r\n`;
    const res = await cli(spool.port, ['--pipe'], input, 60000);
    expect(res.code).toBe(0);
    expect(res.out).toContain('errors: 0, replies: 5000');
    expect((await cli(spool.port, ['XLEN', 'p'])).out).toBe('5000\n');
  });

  /** Streams of 1, 10 and 1000 entries (the last with a consumer group that read them all), in database 0. */
  async function threeStreams(): Promise<void> {
    await cli(spool.port, ['FLUSHALL']);
    let input = 'XADD small 1-0 f v\n';
    for (let i = 1; i <= 10; i++) input += `XADD medium ${i}-0 f v\n`;
    for (let i = 1; i <= 1000; i++) input += `XADD big ${i}-0 field value-${i}\n`;
    input += 'XGROUP CREATE big g 0\nXREADGROUP GROUP g c COUNT 1000 STREAMS big >\n';
    expect((await cli(spool.port, [], input, 60000)).code).toBe(0);
  }

  test('--bigkeys scans the streams and names the longest (XLEN)', async () => {
    await threeStreams();
    const res = await cli(spool.port, ['--bigkeys']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toContain(`Biggest stream found '"big"' has 1000 entries`);
    expect(res.out).toContain('3 streams with 1011 entries');
  });

  test('--memkeys sizes every stream with MEMORY USAGE and names the biggest', async () => {
    await threeStreams();
    const res = await cli(spool.port, ['--memkeys']);
    expect(res.err).toBe('');
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/Biggest stream found '"big"' has \d+ bytes/);
    expect(res.out).toMatch(/3 streams with \d+ bytes/);
  });
});
