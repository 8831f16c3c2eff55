// Shared pieces of the server-level durability suites: spawning Spool as a process on a kept data directory,
// ioredis clients that never retry or resend (a command in flight when the server dies must fail, not be sent
// again to the restarted server), and binary-ish values.
import Redis from 'ioredis';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { existsSync, statSync, readdirSync } from 'node:fs';
import { ROOT, startSpoolProcess, type SpoolProcess } from '../helpers/spool';

/** Builds dist/ once per test file if src/ is newer (startSpoolProcess runs the build). */
export function ensureBuilt(): void {
  const main = path.join(ROOT, 'dist', 'main.js');
  const newest = (dir: string): number => {
    let n = 0;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      n = Math.max(n, e.isDirectory() ? newest(p) : e.name.endsWith('.ts') ? statSync(p).mtimeMs : 0);
    }
    return n;
  };
  if (!existsSync(main) || newest(path.join(ROOT, 'src')) > statSync(main).mtimeMs) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
  }
}

export async function newDataDir(tag: string): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), `spool-dur-${tag}-`));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** Spool as a child process on `dir` (kept across restarts: the caller removes it). */
export function spawnSpool(dir: string, args: string[] = []): Promise<SpoolProcess> {
  return startSpoolProcess(args, { dir, keepDir: true });
}

/** A client that fails fast once the server is gone: no reconnect, no offline queue, no resend. */
export function client(port: number): Redis {
  const c = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: false,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: true, // commands issued before 'ready' wait for the first connection only
    autoResendUnfulfilledCommands: false,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableReadyCheck: false,
  });
  c.on('error', () => undefined);
  return c;
}

export async function connected(c: Redis): Promise<Redis> {
  if (c.status !== 'ready' && c.status !== 'connect') {
    await new Promise<void>((resolve, reject) => {
      c.once('ready', () => resolve());
      c.once('connect', () => resolve());
      c.once('end', () => reject(new Error('connection ended')));
    });
  }
  return c;
}

/** Deterministic PRNG (mulberry32) so a failing round can be replayed from its seed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NASTY = [Buffer.from('\r\n'), Buffer.from([0]), Buffer.from('$-1\r\n'), Buffer.from('*2\r\n'), Buffer.from([0xff, 0xfe])];

/** A binary-ish value: random bytes with CR LF, NUL and RESP-looking fragments; mostly small, sometimes large. */
export function binaryValue(r: () => number): Buffer {
  const roll = r();
  const len = roll < 0.02 ? 20000 + Math.floor(r() * 60000) : roll < 0.1 ? 0 : Math.floor(r() * 300);
  const parts: Buffer[] = [];
  let n = 0;
  while (n < len) {
    if (r() < 0.2) {
      const p = NASTY[Math.floor(r() * NASTY.length)];
      parts.push(p);
      n += p.length;
    } else {
      const k = Math.min(len - n, 1 + Math.floor(r() * 64));
      const b = Buffer.allocUnsafe(k);
      for (let i = 0; i < k; i++) b[i] = Math.floor(r() * 256);
      parts.push(b);
      n += k;
    }
  }
  return Buffer.concat(parts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** SIGKILLs the process and waits for it to be gone. */
export async function killHard(p: SpoolProcess): Promise<void> {
  await p.kill('SIGKILL');
}

export function parseId(id: string): [bigint, bigint] {
  const [ms, seq] = id.split('-');
  return [BigInt(ms), BigInt(seq)];
}
