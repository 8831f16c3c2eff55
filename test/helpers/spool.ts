// Starts Spool for the tests: in-process by default (startServer from src/, no build needed), or as a child
// process from the build in dist/ (startSpoolProcess) when a test needs a real process to kill or to load.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from './ports';
import { startRedis } from './redis';

/** SPOOL_DIFF_TARGET=redis: every "Spool" the tests start is a redis-server instead (harness self-test). */
const SELF_TEST = process.env.SPOOL_DIFF_TARGET === 'redis';

export const ROOT = path.resolve(__dirname, '..', '..');

export interface SpoolHandle {
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/** In-process Spool on an ephemeral port with a fresh data directory. */
export async function startSpool(options: Record<string, string> = {}): Promise<SpoolHandle> {
  if (SELF_TEST) return startRedis();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-test-'));
  // Imported lazily so that a suite still loads (and reports a clear failure) while the server does not compile.
  const { startServer } = await import('../../src/server/server');
  let server;
  try {
    server = await startServer({ port: '0', bind: '127.0.0.1', dir, ...options });
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port: server.port,
    dir,
    stop: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface SpoolProcess extends SpoolHandle {
  process: ChildProcess;
  /** What the process printed so far (stdout and stderr, last 8 KiB). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

/**
 * `node bin/spool-server.js --port P --dir D` as a child process. Needs the build in dist/ (made by `npm ci`
 * through `prepare`, or `npm run build`). `keepDir` keeps the data directory across a restart: pass the dir of
 * a previous process.
 */
export async function startSpoolProcess(
  args: string[] = [],
  /** `nofile`: the open files limit (ulimit -n) the server runs under, set with prlimit (util-linux). */
  opts: { dir?: string; keepDir?: boolean; nofile?: number; startTimeoutMs?: number } = {},
): Promise<SpoolProcess> {
  if (SELF_TEST) {
    const r = await startRedis();
    const exited = new Promise<number | string>((res) => r.process.once('exit', (c, sig) => res(c ?? sig ?? -1)));
    return {
      ...r,
      output: r.log,
      exited,
      kill: async (signal: NodeJS.Signals = 'SIGTERM') => {
        r.process.kill(signal);
        return exited;
      },
    };
  }
  const main = path.join(ROOT, 'dist', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm ci does it)`);
  if (newestMtime(path.join(ROOT, 'src')) > statSync(main).mtimeMs) {
    process.stderr.write('warning: src/ is newer than dist/: startSpoolProcess runs the old build (npm run build)\n');
  }
  const dir = opts.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'spool-proc-')));
  const port = await freePort();
  const serverArgs = [path.join(ROOT, 'bin', 'spool-server.js'), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, ...args];
  // prlimit execs the server in place: the child's pid is the server's.
  const child = opts.nofile
    ? spawn('prlimit', [`--nofile=${opts.nofile}:${opts.nofile}`, '--', process.execPath, ...serverArgs], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT })
    : spawn(process.execPath, serverArgs, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  const collect = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-8192);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)),
  );
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    return exited;
  };
  try {
    await Promise.race([
      waitForPort(port, opts.startTimeoutMs ?? 15000),
      exited.then((code) => {
        throw new Error(`spool-server exited (${code}) during start-up:\n${out}`);
      }),
    ]);
  } catch (err) {
    await kill('SIGKILL');
    if (!opts.dir && !opts.keepDir) await rm(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    process: child,
    output: () => out,
    exited,
    kill,
    stop: async () => {
      const code = await Promise.race([
        kill('SIGTERM'),
        new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5000)),
      ]);
      if (code === 'timeout') await kill('SIGKILL');
      if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    },
  };
}
