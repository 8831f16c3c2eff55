// Small tools for the operations suites (ops-*.test.ts): a raw RESP session over TCP or TLS that returns each
// reply's exact text, redis-cli runs, and a throw-away CA with server and client certificates made by openssl.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { parseReply } from '../helpers/resp';

export interface RawSession {
  /** Sends `text` and resolves with the next `replies` replies, each as its exact latin1 text. */
  send(text: string | Buffer, replies?: number): Promise<string[]>;
  /** Resolves true once the server closed the connection (within ms). */
  closed(ms?: number): Promise<boolean>;
  end(): void;
}

export function rawSession(socket: net.Socket): RawSession {
  let buf = Buffer.alloc(0);
  let isClosed = false;
  const waiters: (() => void)[] = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    wake();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    isClosed = true;
    wake();
  });
  const take = async (n: number, deadline: number): Promise<string[]> => {
    const out: string[] = [];
    while (out.length < n) {
      const r = parseReply(buf);
      if (r) {
        out.push(r.node.bytes.toString('latin1'));
        buf = buf.subarray(r.end);
        continue;
      }
      if (isClosed || Date.now() > deadline) throw new Error(`got ${out.length}/${n} replies (closed=${isClosed}): ${JSON.stringify(out)} rest ${JSON.stringify(buf.toString('latin1'))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return out;
  };
  return {
    send: (text, replies = 1) => {
      socket.write(text);
      return take(replies, Date.now() + 5000);
    },
    closed: async (ms = 2000) => {
      const deadline = Date.now() + ms;
      while (!isClosed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return isClosed;
    },
    end: () => socket.destroy(),
  };
}

export function connectRaw(port: number, host = '127.0.0.1', localAddress?: string): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host, localAddress }, () => resolve(rawSession(s)));
    s.once('error', reject);
  });
}

export function connectTls(port: number, options: tls.ConnectionOptions): Promise<RawSession> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', ...options }, () => resolve(rawSession(s)));
    s.once('error', reject);
  });
}

/** RESP array of bulk strings. */
export function cmd(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

export function redisCli(args: string[], timeoutMs = 10000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('redis-cli', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A client certificate signed by another CA (must be refused when client certificates are checked). */
  rogueCert: string;
  rogueKey: string;
}

/** A CA, a server certificate for 127.0.0.1/localhost, and client certificates, with openssl (EC P-256: fast). */
export function makeTestPki(): TestPki {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-tls-'));
  const f = (name: string) => path.join(dir, name);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-keyout', f('ca.key'), '-out', f('ca.crt'), '-subj', '/CN=Spool Test CA', '-days', '2');
  ssl('req', '-x509', ...ec, '-keyout', f('rogue-ca.key'), '-out', f('rogue-ca.crt'), '-subj', '/CN=Rogue CA', '-days', '2');
  writeFileSync(f('server.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  writeFileSync(f('client.ext'), 'extendedKeyUsage=clientAuth\n');
  const issue = (name: string, cn: string, ca: string, ext: string) => {
    ssl('req', ...ec, '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${cn}`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f(`${ca}.crt`), '-CAkey', f(`${ca}.key`), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '2', '-extfile', f(ext));
  };
  issue('server', 'localhost', 'ca', 'server.ext');
  issue('client', 'spool-client', 'ca', 'client.ext');
  issue('rogue', 'rogue-client', 'rogue-ca', 'client.ext');
  return {
    dir,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    clientCert: f('client.crt'),
    clientKey: f('client.key'),
    rogueCert: f('rogue.crt'),
    rogueKey: f('rogue.key'),
  };
}
