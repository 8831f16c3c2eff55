// TLS (tls-port): redis-cli --tls and ioredis `tls: {...}` against a throw-away CA made with openssl; client
// certificates per tls-auth-clients (yes / optional / no); configuration errors at start-up.
import { readFileSync } from 'node:fs';
import { rmSync } from 'node:fs';
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { cmd, connectTls, hasOpenssl, makeTestPki, redisCli, type TestPki } from './opsHelpers';

// TLS is required behaviour: without openssl (npm test's pretest installs it) these tests fail, never skip.
describe('TLS listener', () => {
  let pki: TestPki;
  beforeAll(() => {
    if (!hasOpenssl()) throw new Error('openssl is not installed (apt-get install openssl; npm test installs it as root)');
    pki = makeTestPki();
  });
  afterAll(() => {
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  const tlsOptions = (pki: TestPki, authClients: string, tlsPort: number) => ({
    'tls-port': String(tlsPort),
    'tls-cert-file': pki.serverCert,
    'tls-key-file': pki.serverKey,
    'tls-ca-cert-file': pki.ca,
    'tls-auth-clients': authClients,
  });

  describe('tls-auth-clients no', () => {
    let spool: SpoolHandle;
    let tlsPort: number;
    beforeAll(async () => {
      tlsPort = await freePort();
      spool = await startSpool(tlsOptions(pki, 'no', tlsPort));
    });
    afterAll(async () => spool?.stop());

    test('redis-cli --tls --cacert PING and XADD/XLEN', async () => {
      const ping = await redisCli(['--tls', '--cacert', pki.ca, '-h', '127.0.0.1', '-p', String(tlsPort), 'PING']);
      expect(ping.err).toBe('');
      expect(ping.out.trim()).toBe('PONG');
      await redisCli(['--tls', '--cacert', pki.ca, '-h', '127.0.0.1', '-p', String(tlsPort), 'XADD', 'tls-s', '1-1', 'f', 'v']);
      const len = await redisCli(['--tls', '--cacert', pki.ca, '-h', '127.0.0.1', '-p', String(tlsPort), 'XLEN', 'tls-s']);
      expect(len.out.trim()).toBe('1');
    });

    test('ioredis over TLS, pipelined, and the same data on the plain port', async () => {
      const r = new Redis({ port: tlsPort, host: '127.0.0.1', tls: { ca: readFileSync(pki.ca) }, lazyConnect: true, maxRetriesPerRequest: 0 });
      await r.connect();
      const p = r.pipeline();
      for (let i = 0; i < 200; i++) p.xadd('tls-io', '*', 'i', String(i));
      const results = await p.exec();
      expect(results!.every(([err]) => err === null)).toBe(true);
      expect(await r.xlen('tls-io')).toBe(200);
      r.disconnect();
      const plain = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
      await plain.connect();
      expect(await plain.xlen('tls-io')).toBe(200);
      const clients = await plain.client('LIST');
      plain.disconnect();
      expect(String(clients)).toMatch(/addr=127\.0\.0\.1:\d+/);
    });

    test('TLS and plain readers woken by one XADD all get their reply (writer threads write plain sockets only)', async () => {
      const opts = { host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 };
      const readers = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? new Redis({ ...opts, port: tlsPort, tls: { ca: readFileSync(pki.ca) } }) : new Redis({ ...opts, port: spool.port }),
      );
      await Promise.all(readers.map((r) => r.connect()));
      const replies = readers.map((r) => r.xread('BLOCK', 0, 'STREAMS', 'tls-wake', '$'));
      const writer = new Redis({ ...opts, port: spool.port });
      await writer.connect();
      const deadline = Date.now() + 10000;
      while (!/blocked_clients:40\r/.test(await writer.info('clients'))) {
        if (Date.now() > deadline) throw new Error('readers did not all block');
        await new Promise((r) => setTimeout(r, 20));
      }
      await writer.xadd('tls-wake', '5-1', 'f', 'v');
      for (const reply of await Promise.all(replies)) expect(reply).toEqual([['tls-wake', [['5-1', ['f', 'v']]]]]);
      for (const r of [...readers, writer]) r.disconnect();
    });

    test('a client that does not trust the CA fails the handshake; the server keeps serving', async () => {
      await expect(connectTls(tlsPort, { rejectUnauthorized: true, ca: readFileSync(pki.rogueCert) })).rejects.toThrow();
      const s = await connectTls(tlsPort, { ca: readFileSync(pki.ca), servername: 'localhost' });
      expect(await s.send(cmd('PING'))).toEqual(['+PONG\r\n']);
      s.end();
    });
  });

  describe('tls-auth-clients yes (default)', () => {
    let spool: SpoolHandle;
    let tlsPort: number;
    beforeAll(async () => {
      tlsPort = await freePort();
      spool = await startSpool(tlsOptions(pki, 'yes', tlsPort));
    });
    afterAll(async () => spool?.stop());

    test('ioredis with a client certificate from the CA is served', async () => {
      const r = new Redis({
        port: tlsPort,
        host: '127.0.0.1',
        tls: { ca: readFileSync(pki.ca), cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) },
        lazyConnect: true,
        maxRetriesPerRequest: 0,
      });
      await r.connect();
      expect(await r.xadd('s', '5-1', 'a', 'b')).toBe('5-1');
      r.disconnect();
    });

    test('redis-cli with --cert/--key is served', async () => {
      const res = await redisCli(['--tls', '--cacert', pki.ca, '--cert', pki.clientCert, '--key', pki.clientKey, '-h', '127.0.0.1', '-p', String(tlsPort), 'PING']);
      expect(res.out.trim()).toBe('PONG');
    });

    test('no client certificate, or one from another CA: no session', async () => {
      const attempt = async (extra: object) => {
        try {
          const s = await connectTls(tlsPort, { ca: readFileSync(pki.ca), servername: 'localhost', ...extra });
          // TLS 1.3: the server's refusal may arrive after the client considers the handshake done
          const reply = await s.send(cmd('PING')).catch((e: Error) => e.message);
          s.end();
          return reply;
        } catch (e) {
          return (e as Error).message;
        }
      };
      expect(String(await attempt({}))).not.toContain('PONG');
      expect(String(await attempt({ cert: readFileSync(pki.rogueCert), key: readFileSync(pki.rogueKey) }))).not.toContain('PONG');
    });
  });

  describe('tls-auth-clients optional', () => {
    test('served without a certificate, refused with a bad one', async () => {
      const tlsPort = await freePort();
      const spool = await startSpool(tlsOptions(pki, 'optional', tlsPort));
      try {
        const s = await connectTls(tlsPort, { ca: readFileSync(pki.ca), servername: 'localhost' });
        expect(await s.send(cmd('PING'))).toEqual(['+PONG\r\n']);
        s.end();
        const good = await connectTls(tlsPort, { ca: readFileSync(pki.ca), servername: 'localhost', cert: readFileSync(pki.clientCert), key: readFileSync(pki.clientKey) });
        expect(await good.send(cmd('PING'))).toEqual(['+PONG\r\n']);
        good.end();
        const bad = await connectTls(tlsPort, { ca: readFileSync(pki.ca), servername: 'localhost', cert: readFileSync(pki.rogueCert), key: readFileSync(pki.rogueKey) }).catch(() => null);
        if (bad) {
          const reply = await bad.send(cmd('PING')).catch((e: Error) => e.message);
          expect(String(reply)).not.toContain('PONG');
          bad.end();
        }
      } finally {
        await spool.stop();
      }
    });
  });

  test('start-up errors name the TLS option at fault', async () => {
    const port = await freePort();
    await expect(startSpool({ 'tls-port': String(port) })).rejects.toThrow(/tls-cert-file and tls-key-file/);
    await expect(startSpool({ 'tls-port': String(port), 'tls-cert-file': pki.serverCert, 'tls-key-file': '/nonexistent.key', 'tls-auth-clients': 'no' })).rejects.toThrow(/tls-key-file '\/nonexistent.key'/);
    await expect(startSpool({ 'tls-port': String(port), 'tls-cert-file': pki.serverCert, 'tls-key-file': pki.serverKey })).rejects.toThrow(/needs tls-ca-cert-file/);
    await expect(startSpool({ 'tls-port': String(port), 'tls-cert-file': pki.serverCert, 'tls-key-file': pki.clientKey, 'tls-auth-clients': 'no' })).rejects.toThrow(/tls-cert-file\/tls-key-file/);
  });
});
