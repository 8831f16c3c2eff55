// Lifecycle of a real spool-server process (dist/): SIGTERM under load loses no acknowledged XADD and exits 0,
// SHUTDOWN exits 0, structured JSON logs in `logfile`, and clear non-zero exits for a taken port or an unusable
// data directory.
import { execFileSync, spawnSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, readdirSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Redis from 'ioredis';
import { beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { ROOT, startSpoolProcess } from '../helpers/spool';
import { redisCli } from './opsHelpers';

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

beforeAll(() => {
  // The processes run dist/: rebuild only when src/ is newer (tsc emits even if another module has type errors).
  const main = path.join(ROOT, 'dist', 'main.js');
  let stale = true;
  try {
    stale = newest(path.join(ROOT, 'src')) > statSync(main).mtimeMs;
  } catch {
    /* no build yet */
  }
  if (stale) {
    try {
      execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], { cwd: ROOT, stdio: 'ignore' });
    } catch {
      /* emitted anyway */
    }
  }
}, 60000);

/** Runs spool-server expecting it to exit by itself; resolves with its code and output. */
function runToExit(args: string[], timeoutMs = 15000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'spool-server.js'), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`spool-server did not exit: ${out}${err}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

describe('graceful shutdown', () => {
  test('SIGTERM under load (appendfsync always): exit 0, every acknowledged XADD survives the restart', async () => {
    const logDir = mkdtempSync(path.join(os.tmpdir(), 'spool-log-'));
    const logfile = path.join(logDir, 'spool.log');
    const server = await startSpoolProcess(['--appendfsync', 'always', '--logfile', logfile], { keepDir: true });
    const acked = new Set<string>();
    const clients: Redis[] = [];
    let running = true;
    const load = async (n: number) => {
      const c = new Redis({ port: server.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
      c.on('error', () => undefined);
      clients.push(c);
      await c.connect();
      let i = 0;
      while (running) {
        const p = c.pipeline();
        for (let k = 0; k < 20; k++) p.xadd(`load-${n % 2}`, '*', 'c', String(n), 'i', String(i++));
        const res = await p.exec().catch(() => null);
        if (!res) break;
        let failed = false;
        for (const [err, id] of res) {
          if (err) failed = true;
          else acked.add(`${n % 2} ${id as string}`);
        }
        if (failed) break;
      }
    };
    const loads = [0, 1, 2, 3].map((n) => load(n).catch(() => undefined));
    while (acked.size < 2000) await new Promise((r) => setTimeout(r, 20));
    const code = await server.kill('SIGTERM');
    running = false;
    await Promise.all(loads);
    for (const c of clients) c.disconnect();
    expect(code, server.output()).toBe(0);
    expect(acked.size).toBeGreaterThanOrEqual(2000);

    // structured logs in the logfile: one JSON object per line, with the start-up banner and the shutdown
    const lines = readFileSync(logfile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const ready = lines.find((l) => l.event === 'ready');
    expect(ready).toMatchObject({ level: 'info', port: server.port, appendfsync: 'always', version: expect.any(String) });
    expect(ready.pid).toBeGreaterThan(0);
    expect(lines.some((l) => l.event === 'shutdown' && l.signal === 'SIGTERM')).toBe(true);
    expect(lines.at(-1)).toMatchObject({ event: 'exit' });

    const again = await startSpoolProcess([], { dir: server.dir });
    try {
      const c = new Redis({ port: again.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await c.connect();
      const present = new Set<string>();
      for (const s of [0, 1]) for (const [id] of await c.xrange(`load-${s}`, '-', '+')) present.add(`${s} ${id}`);
      c.disconnect();
      const lost = [...acked].filter((id) => !present.has(id));
      expect(lost.length, `lost ${lost.length} acknowledged entries, e.g. ${lost.slice(0, 5).join(', ')}`).toBe(0);
    } finally {
      await again.stop();
      rmSync(server.dir, { recursive: true, force: true });
      rmSync(logDir, { recursive: true, force: true });
    }
  });

  test('SHUTDOWN and SIGINT exit 0 with the data synced', async () => {
    const server = await startSpoolProcess(['--appendfsync', 'everysec'], { keepDir: true });
    await redisCli(['-h', '127.0.0.1', '-p', String(server.port), 'XADD', 's', '1-1', 'a', 'b']);
    await redisCli(['-h', '127.0.0.1', '-p', String(server.port), 'SHUTDOWN']);
    expect(await server.exited).toBe(0);
    expect(server.output()).toContain('"event":"exit"');
    const second = await startSpoolProcess([], { dir: server.dir });
    const len = await redisCli(['-h', '127.0.0.1', '-p', String(second.port), 'XLEN', 's']);
    expect(len.out.trim()).toBe('1');
    expect(await second.kill('SIGINT')).toBe(0);
    expect(second.output()).toContain('"signal":"SIGINT"');
    rmSync(server.dir, { recursive: true, force: true });
  });
});

describe('start-up failures exit non-zero with a clear message', () => {
  test('port already in use', async () => {
    const blocker = net.createServer();
    const port = await freePort();
    await new Promise<void>((r) => blocker.listen(port, '127.0.0.1', () => r()));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-ops-'));
    try {
      const res = await runToExit(['--port', String(port), '--bind', '127.0.0.1', '--dir', dir]);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(new RegExp(`Spool failed to start: port already in use \\(127\\.0\\.0\\.1:${port}\\)`));
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('metrics port already in use', async () => {
    const blocker = net.createServer();
    const metricsPort = await freePort();
    await new Promise<void>((r) => blocker.listen(metricsPort, '127.0.0.1', () => r()));
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-ops-'));
    try {
      const res = await runToExit(['--port', String(await freePort()), '--bind', '127.0.0.1', '--dir', dir, '--metrics-port', String(metricsPort)]);
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/Spool failed to start: port already in use .*metrics-port/);
    } finally {
      blocker.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('data directory unusable (a file, or under a file)', async () => {
    const base = mkdtempSync(path.join(os.tmpdir(), 'spool-ops-'));
    const file = path.join(base, 'not-a-dir');
    writeFileSync(file, 'x');
    try {
      for (const dir of [file, path.join(file, 'sub')]) {
        const res = await runToExit(['--port', String(await freePort()), '--bind', '127.0.0.1', '--dir', dir]);
        expect(res.code).toBe(1);
        expect(res.err).toMatch(new RegExp(`Spool failed to start: data directory '${dir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}' is (unusable|not a directory)`));
      }
    } finally {
      rmSync(base, { recursive: true, force: true });
    }
  });

  // procfs answers mkdir with ENOENT under an existing parent: Node's recursive mkdir retried that forever.
  test('data directory that cannot be created (under /proc) exits 1 with the reason, at once', async () => {
    for (const dir of ['/proc/spool-x', '/proc/spool-x/deeper/still']) {
      const res = await runToExit(['--port', String(await freePort()), '--bind', '127.0.0.1', '--dir', dir], 10000);
      expect(res.code).toBe(1);
      expect(res.err).toContain(`Spool failed to start: data directory '${dir}' is unusable: mkdir '/proc/spool-x': No such file or directory (ENOENT)`);
    }
  });
});

describe('informational flags answer and exit, as redis-server', () => {
  test('-v and --version print one version line in redis-server\'s shape and exit 0', async () => {
    const redisLine = execFileSync('redis-server', ['--version'], { encoding: 'utf8' });
    const shape = /^(\w+) server v=\S+( [a-z]+=\S+)+\n$/;
    expect(redisLine).toMatch(shape);
    for (const flag of ['-v', '--version']) {
      const res = await runToExit([flag], 10000);
      expect(res.code).toBe(0);
      expect(res.err).toBe('');
      expect(res.out).toMatch(shape);
      expect(res.out).toMatch(/^Spool server v=\d+\.\d+\.\d+ redis=7\.0\.15 node=v\d+\S* bits=(64|32)\n$/);
    }
  });

  test('-h and --help print the usage with every option on standard error and exit 1, as redis-server, opening nothing', async () => {
    // redis-server's usage() writes to stderr and exits 1: Spool answers the same way.
    const redis = spawnSync('redis-server', ['--help'], { encoding: 'utf8' });
    expect(redis.status).toBe(1);
    expect(redis.stdout).toBe('');
    expect(redis.stderr).toMatch(/^Usage: \.\/redis-server \[\/path\/to\/redis\.conf\] \[options\] \[-\]\n/);
    for (const flag of ['-h', '--help']) {
      // A --dir that cannot be created: if the flag were read as a config file or options, start-up would fail.
      const res = await runToExit([flag, '--dir', '/proc/spool-x'], 10000);
      expect(res.code).toBe(1);
      expect(res.out).toBe('');
      expect(res.err).toMatch(/^Usage: spool-server \[\/path\/to\/spool\.conf\] \[options\]\n {7}spool-server -v or --version\n {7}spool-server -h or --help\n/);
      for (const option of ['--port', '--dir', '--appendfsync', '--requirepass', '--tls-port']) expect(res.err).toContain(`\n       ${option} `);
    }
  });
});
