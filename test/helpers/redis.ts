// Starts a real redis-server (Debian's 7.0 package) on a free loopback port, with no persistence and its own
// temporary directory, for the differential suites. Never the system service: a private process per suite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports';
import { RespConnection, nodeText } from './resp';

export interface RunningRedis {
  port: number;
  dir: string;
  process: ChildProcess;
  /** The last lines redis-server printed, for error messages. */
  log(): string;
  stop(): Promise<void>;
}

export const REDIS_SERVER = process.env.REDIS_SERVER_BIN || 'redis-server';

export async function startRedis(extraArgs: string[] = []): Promise<RunningRedis> {
  let lastErr: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startRedisOnce(await freePort(), extraArgs);
    } catch (err) {
      lastErr = err; // most likely the port was taken between freePort() and bind: try another
    }
  }
  throw lastErr;
}

async function startRedisOnce(port: number, extraArgs: string[]): Promise<RunningRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-redis-'));
  const args = [
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--daemonize', 'no',
    '--protected-mode', 'yes',
    '--loglevel', 'warning',
    ...extraArgs,
  ];
  const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (d: Buffer) => {
    output = (output + d.toString('utf8')).slice(-4000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let exited = false;
  const exitPromise = new Promise<void>((resolve) => {
    child.once('exit', () => {
      exited = true;
      resolve();
    });
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (err) => reject(new Error(`cannot run ${REDIS_SERVER}: ${err.message} (run: node scripts/ensure-test-deps.js)`))),
  );
  spawnError.catch(() => {});

  const stop = async () => {
    if (!exited) {
      child.kill('SIGKILL');
      await exitPromise;
    }
    await rm(dir, { recursive: true, force: true });
  };

  // Wait until PING answers.
  const deadline = Date.now() + 10000;
  for (;;) {
    if (exited) {
      await stop();
      throw new Error(`redis-server exited during start-up on port ${port}:\n${output}`);
    }
    try {
      const conn = await Promise.race([RespConnection.connect(port), spawnError]);
      try {
        const reply = await conn.call(['PING'], 2000);
        if (nodeText(reply) === 'PONG') break;
      } finally {
        conn.close();
      }
    } catch (err) {
      if ((err as Error).message.startsWith('cannot run')) {
        await stop();
        throw err;
      }
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`redis-server did not answer PING on port ${port} within 10 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port, dir, process: child, log: () => output, stop };
}
