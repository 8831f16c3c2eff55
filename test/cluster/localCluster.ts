// `spool-server --cluster-local N [--cluster-replicas R]` as a child process (from dist/), on N*(R+1)
// consecutive free loopback ports (the masters' first, then the replicas').
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort, waitForPort } from '../helpers/ports';
import { ROOT } from '../helpers/spool';

export interface LocalCluster {
  ports: number[];
  dir: string;
  process: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
  /** SIGTERM to the launcher; resolves with its exit code once it (and so every node) has exited. */
  stop(): Promise<number | string>;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ port, host: '127.0.0.1' }, () => srv.close(() => resolve(true)));
  });
}

/** A base port with `count` free ports from it (and their +10000 bus ports unused by anything we start). */
async function freeRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = await freePort();
    if (base + count > 55535) continue;
    let ok = true;
    for (let i = 1; i < count && ok; i++) ok = await portFree(base + i);
    if (ok) return base;
  }
  throw new Error(`no run of ${count} free ports found`);
}

export async function startLocalCluster(masters: number, extra: string[] = [], replicas = 0): Promise<LocalCluster> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-local-cluster-'));
  const count = masters * (replicas + 1);
  const base = await freeRun(count);
  const replicaArgs = replicas > 0 ? ['--cluster-replicas', String(replicas)] : [];
  const args = [path.join(ROOT, 'bin', 'spool-server.js'), '--cluster-local', String(masters), ...replicaArgs, '--port', String(base), '--bind', '127.0.0.1', '--dir', dir, ...extra];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  let out = '';
  const collect = (d: Buffer) => (out = (out + d.toString('utf8')).slice(-16384));
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const ports = Array.from({ length: count }, (_, i) => base + i);
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const code = await Promise.race([exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15000))]);
    if (code === 'timeout') child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    return code;
  };
  try {
    await Promise.race([
      Promise.all(ports.map((p) => waitForPort(p, 30000))),
      exited.then((code) => {
        throw new Error(`--cluster-local exited (${code}) during start-up:\n${out}`);
      }),
    ]);
  } catch (err) {
    await stop();
    throw err;
  }
  return { ports, dir, process: child, output: () => out, exited, stop };
}
