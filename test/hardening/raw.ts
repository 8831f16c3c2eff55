// Raw-socket tools for the hardening suites: send exact bytes, collect exact reply bytes, see whether the server
// closed the connection; a strict RESP2 reply scanner to tell a well-formed reply stream from garbage; and an
// in-process Spool / private redis-server pair. Only 127.0.0.1.
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { startServer, type RunningServer } from '../../src/server/server';

export interface Exchange {
  reply: Buffer;
  /** True when the server closed the connection (or reset it) within the wait. */
  closed: boolean;
}

/**
 * Connects, writes `bytes`, and collects what comes back until the server closes the connection or `waitMs`
 * pass without a close (a connection kept open is then reported as such).
 */
export function exchange(
  port: number,
  bytes: Buffer | string,
  waitMs = 400,
  /** Stop early once the reply so far satisfies this (e.g. ends with a sentinel's reply). */
  until?: (reply: Buffer) => boolean,
): Promise<Exchange> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const chunks: Buffer[] = [];
    let done = false;
    let closed = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply: Buffer.concat(chunks), closed });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (d) => {
      chunks.push(d);
      if (until && until(Buffer.concat(chunks))) finish();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      closed = true;
      finish();
    });
    socket.on('connect', () => socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes));
  });
}

/** Encodes a request as a RESP multibulk (binary-safe; strings are latin1). */
export function encode(...args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** A client that can pipeline, read replies one by one (strict RESP2 scanner), and tell when it was closed. */
export class RawClient {
  /** Every client not yet closed, so a suite's afterAll can close what a failed test left open. */
  static readonly open = new Set<RawClient>();

  static closeAll(): void {
    for (const c of RawClient.open) c.close();
  }

  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;
  constructor(readonly socket: net.Socket) {
    RawClient.open.add(this);
    socket.on('data', (d) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closed = true;
      RawClient.open.delete(this);
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host: '127.0.0.1' });
      s.once('connect', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  write(bytes: Buffer | string): void {
    this.socket.write(typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes);
  }

  /** Reads `n` whole replies (raw bytes each); rejects when the connection closes first or after timeoutMs. */
  async replies(n: number, timeoutMs = 10000): Promise<Buffer[]> {
    const out: Buffer[] = [];
    const deadline = Date.now() + timeoutMs;
    while (out.length < n) {
      const end = scanReply(this.buf, 0);
      if (end === 'invalid') throw new Error(`malformed reply: ${JSON.stringify(this.buf.subarray(0, 200).toString('latin1'))}`);
      if (end >= 0) {
        out.push(this.buf.subarray(0, end));
        this.buf = this.buf.subarray(end);
        continue;
      }
      if (this.closed) throw new Error(`connection closed after ${out.length} of ${n} replies`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${out.length} of ${n} replies`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
    return out;
  }

  async call(...args: (string | Buffer)[]): Promise<string> {
    this.write(encode(...args));
    return (await this.replies(1))[0].toString('latin1');
  }

  /** Resolves when the server has closed the connection (or rejects after timeoutMs). */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('connection still open');
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 50));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  close(): void {
    RawClient.open.delete(this);
    this.socket.destroy();
  }
}

/**
 * Length of the first complete RESP2 reply in buf from `at`: a number (end offset) when complete, -1 when more
 * bytes are needed, 'invalid' when the bytes cannot be a RESP2 reply (unknown type byte, bad length, missing CRLF).
 */
export function scanReply(buf: Buffer, at: number): number | 'invalid' {
  if (at >= buf.length) return -1;
  const cr = buf.indexOf('\r\n', at);
  if (cr < 0) return -1;
  const type = buf[at];
  const line = buf.subarray(at + 1, cr).toString('latin1');
  const next = cr + 2;
  switch (type) {
    case 0x2b: // +
    case 0x2d: // -
      return /[\r\n]/.test(line) ? 'invalid' : next;
    case 0x3a: // :
      return /^-?[0-9]+$/.test(line) ? next : 'invalid';
    case 0x24: {
      // $
      if (line === '-1') return next;
      if (!/^(0|[1-9][0-9]*)$/.test(line)) return 'invalid';
      const end = next + Number(line) + 2;
      if (end > buf.length) return -1;
      return buf[end - 2] === 13 && buf[end - 1] === 10 ? end : 'invalid';
    }
    case 0x2a: {
      // *
      if (line === '-1') return next;
      if (!/^(0|[1-9][0-9]*)$/.test(line)) return 'invalid';
      let pos = next;
      for (let i = Number(line); i > 0; i--) {
        const end = scanReply(buf, pos);
        if (end === 'invalid' || end < 0) return end;
        pos = end;
      }
      return pos;
    }
    default:
      return 'invalid';
  }
}

export interface InProcessSpool {
  port: number;
  server: RunningServer;
  stop(): Promise<void>;
}

/** Spool in this process (so tests can look at its state and memory), on an ephemeral port, fresh data dir. */
export async function startInProcess(options: Record<string, string> = {}): Promise<InProcessSpool> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'spool-hardening-'));
  const server = await startServer({ port: '0', bind: '127.0.0.1', dir, ...options });
  return {
    port: server.port,
    server,
    stop: async () => {
      await server.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The soft limit on open files of a fresh shell (a test cannot raise its own). */
export function openFileLimit(): number {
  try {
    const out = execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  } catch {
    return 1024;
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
