// Parallel socket writes (src/server/ioThreads.ts) over real loopback sockets: every target gets exactly its
// bytes in order whichever thread wrote them, a direct write the socket buffer could not take is finished through
// socket.write, and targets that cannot be written directly fall back to their own path.
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoThreads, type DirectTarget } from '../../src/server/ioThreads';
import { RawClient, encode, sleep, startInProcess } from '../hardening/raw';

interface Pair {
  /** The accepted end, which the batch writes to (as Spool's connections). */
  server: net.Socket;
  /** The connecting end, which reads. */
  client: net.Socket;
  received: Buffer[];
}

let listener: net.Server;
let port = 0;
const accepted: net.Socket[] = [];
const open: Pair[] = [];

beforeAll(async () => {
  listener = net.createServer((s) => accepted.push(s));
  await new Promise<void>((r) => listener.listen(0, '127.0.0.1', r));
  port = (listener.address() as net.AddressInfo).port;
});

afterAll(async () => {
  for (const p of open) {
    p.client.destroy();
    p.server.destroy();
  }
  await new Promise<void>((r) => listener.close(() => r()));
});

async function pairs(n: number): Promise<Pair[]> {
  const out: Pair[] = [];
  for (let i = 0; i < n; i++) {
    const before = accepted.length;
    const client = await new Promise<net.Socket>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => resolve(c));
    });
    while (accepted.length === before) await new Promise((r) => setImmediate(r));
    const pair: Pair = { server: accepted[accepted.length - 1], client, received: [] };
    client.on('data', (d) => pair.received.push(d));
    out.push(pair);
    open.push(pair);
  }
  return out;
}

/** A target as Connection is one: direct while Node has nothing queued for the socket. */
function targetOf(socket: net.Socket, log: string[] = []): DirectTarget {
  return {
    directFd: () => {
      const handle = (socket as unknown as { _handle?: { fd?: number } | null })._handle;
      return socket.writableLength === 0 && !socket.destroyed ? (handle?.fd ?? -1) : -1;
    },
    writeRest: (bytes) => {
      log.push(`rest ${bytes.length}`);
      socket.write(bytes);
    },
  };
}

async function receivedBytes(pair: Pair, length: number, timeoutMs = 10000): Promise<Buffer> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const got = Buffer.concat(pair.received);
    if (got.length >= length) return got;
    if (Date.now() > deadline) throw new Error(`received ${got.length} of ${length} bytes`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('IoThreads', () => {
  it('writes every item exactly once and in order, the writer thread taking a share', async () => {
    const io = new IoThreads(1);
    try {
      const ps = await pairs(64);
      const targets = ps.map((p) => targetOf(p.server));
      const shared = Buffer.from('+shared reply\r\n');
      const expected = ps.map(() => [] as Buffer[]);
      // Repeated batches until the writer thread has taken part (it wakes while the main thread writes its share).
      for (let round = 0; round < 200 && (round < 5 || io.threadedWrites === 0); round++) {
        io.batch(() => {
          ps.forEach((_, i) => {
            const own = Buffer.from(`:${round}-${i}\r\n`);
            // One reply shared by every target (copied once), then a second write joining the target's item.
            expect(io.offer(targets[i], shared)).toBe(true);
            expect(io.offer(targets[i], own)).toBe(true);
            expected[i].push(shared, own);
          });
        });
      }
      expect(io.threadedWrites).toBeGreaterThan(0);
      for (let i = 0; i < ps.length; i++) {
        const want = Buffer.concat(expected[i]);
        expect((await receivedBytes(ps[i], want.length)).equals(want)).toBe(true);
      }
    } finally {
      io.close();
    }
  }, 30000);

  it('joins a target\'s writes within a batch, and take() hands them back', async () => {
    const io = new IoThreads(1);
    try {
      const [p] = await pairs(1);
      const target = targetOf(p.server);
      expect(io.offer(target, Buffer.from('a'))).toBe(false); // no batch open
      io.batch(() => {
        expect(io.offer(target, Buffer.from('b'))).toBe(true);
        expect(io.offer(target, Buffer.from('c'))).toBe(true);
        expect(io.take(target)?.toString()).toBe('bc');
        expect(io.take(target)).toBeNull();
        expect(io.offer(target, Buffer.from('d'))).toBe(true);
        io.batch(() => expect(io.offer(target, Buffer.from('e'))).toBe(true)); // nested: joins the outer batch
        expect(p.received.length).toBe(0);
      });
      expect((await receivedBytes(p, 2)).toString()).toBe('de');
      expect(new IoThreads(0).offer(target, Buffer.from('x'))).toBe(false); // no writer threads: caller writes
    } finally {
      io.close();
    }
  });

  it('finishes through socket.write what the socket buffer did not take, in order', async () => {
    const io = new IoThreads(1);
    try {
      const ps = await pairs(8);
      // The readers do not read, and each socket is filled up to EAGAIN: the batch's direct writes take little or
      // nothing.
      const filled = ps.map((p) => {
        p.client.pause();
        const fd = (p.server as unknown as { _handle: { fd: number } })._handle.fd;
        const chunk = Buffer.alloc(64 * 1024, 0x2e);
        let total = 0;
        for (;;) {
          try {
            total += fs.writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return total;
            throw err;
          }
        }
      });
      const big = Buffer.alloc(3 * 1024 * 1024);
      for (let i = 0; i < big.length; i++) big[i] = i % 251;
      const logs = ps.map(() => [] as string[]);
      io.batch(() => ps.forEach((p, i) => io.offer(targetOf(p.server, logs[i]), big)));
      // The rest went through socket.write, so Node now holds it; a later write queues behind it, never before.
      for (const [i, p] of ps.entries()) {
        expect(logs[i]).toHaveLength(1);
        p.server.write('+after\r\n');
        p.client.resume();
      }
      for (const [i, p] of ps.entries()) {
        const got = await receivedBytes(p, filled[i] + big.length + 8);
        expect(got.subarray(filled[i], filled[i] + big.length).equals(big)).toBe(true);
        expect(got.subarray(filled[i] + big.length).toString()).toBe('+after\r\n');
      }
    } finally {
      io.close();
    }
  }, 30000);

  it('gives the writer threads up, rather than hanging, when one holds a claim for good', async () => {
    const warnings: string[] = [];
    const io = new IoThreads(1, (m) => warnings.push(m));
    try {
      const ps = await pairs(8);
      // White box: a writer that announced itself and never finishes (as a thread killed mid-claim would).
      const control = (io as unknown as { shared: { control: Int32Array } }).shared.control;
      Atomics.add(control, 2 /* INFLIGHT */, 1);
      const started = Date.now();
      io.batch(() => ps.forEach((p, i) => io.offer(targetOf(p.server), Buffer.from(`+${i}\r\n`))));
      expect(Date.now() - started).toBeGreaterThanOrEqual(1900);
      expect(warnings.join()).toMatch(/stopped answering/);
      expect(io.active).toBe(0);
      for (const [i, p] of ps.entries()) expect((await receivedBytes(p, 4)).toString()).toBe(`+${i}\r\n`);
      // From now on the caller writes: no batch is taken.
      io.batch(() => expect(io.offer(targetOf(ps[0].server), Buffer.from('x'))).toBe(false));
    } finally {
      io.close();
    }
  });

  it('leaves targets that cannot be written directly to their own path', async () => {
    const io = new IoThreads(1);
    try {
      const ps = await pairs(10);
      const log: string[] = [];
      let closing = false;
      const targets = ps.map((p, i) => {
        const direct = targetOf(p.server, log);
        // Target 0 turns unwritable between its offer and the batch's end (as a connection that starts closing).
        return i === 0 ? { directFd: () => (closing ? -1 : direct.directFd()), writeRest: direct.writeRest } : direct;
      });
      io.batch(() => {
        targets.forEach((t, i) => io.offer(t, Buffer.from(`+${i}\r\n`)));
        closing = true;
      });
      expect(log).toEqual(['rest 4']);
      for (const [i, p] of ps.entries()) expect((await receivedBytes(p, 4)).toString()).toBe(`+${i}\r\n`);
    } finally {
      io.close();
    }
  });
});

describe('Spool with writer threads', () => {
  for (const appendfsync of ['everysec', 'always']) {
    it(`wakes mixed readers and releases pipelined replies intact (appendfsync ${appendfsync})`, async () => {
      const spool = await startInProcess({ 'io-threads': '3', appendfsync, maxclients: '5000' });
      try {
        const writer = await RawClient.connect(spool.port);
        const readers = await Promise.all(Array.from({ length: 240 }, () => RawClient.connect(spool.port)));
        // Group readers each have their own group: consumers of one group would share the one new entry.
        for (let i = 2; i < readers.length; i += 3) expect(await writer.call('XGROUP', 'CREATE', 'fan', `g${i}`, '$', 'MKSTREAM')).toBe('+OK\r\n');
        readers.forEach((r, i) => {
          if (i % 3 === 0) r.write(encode('XREAD', 'BLOCK', '0', 'STREAMS', 'fan', '$'));
          // Pipelined behind the blocked read: its reply must come after the read's, never before.
          else if (i % 3 === 1) r.write(Buffer.concat([encode('XREAD', 'BLOCK', '0', 'STREAMS', 'fan', '$'), encode('ECHO', `after-${i}`)]));
          else r.write(encode('XREADGROUP', 'GROUP', `g${i}`, 'c', 'BLOCK', '0', 'STREAMS', 'fan', '>'));
        });
        // One reader leaves while blocked: its connection is cleaned up and nobody else is affected.
        readers[0].close();
        const deadline = Date.now() + 10000;
        while (spool.server.state.blocking.blockedCount < readers.length - 1) {
          if (Date.now() > deadline) throw new Error('readers did not all block');
          await sleep(10);
        }
        // Pipelining writers: under `always` each fsync releases many connections' replies at once.
        const writers = await Promise.all(Array.from({ length: 40 }, () => RawClient.connect(spool.port)));
        const id = (await writer.call('XADD', 'fan', '1-1', 'k', 'v')).trim();
        expect(id).toBe('$3\r\n1-1');
        writers.forEach((w, i) => w.write(Buffer.concat(Array.from({ length: 20 }, (_, j) => Buffer.concat([encode('XADD', `w${i}`, '*', 'n', String(j)), encode('ECHO', `${i}-${j}`)])))));
        const entry = '*1\r\n*2\r\n$3\r\nfan\r\n*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nk\r\n$1\r\nv\r\n';
        for (const [i, r] of readers.entries()) {
          if (i === 0) continue;
          const got = await r.replies(i % 3 === 1 ? 2 : 1);
          expect(got[0].toString()).toBe(entry);
          if (i % 3 === 1) expect(got[1].toString()).toBe(`$${`after-${i}`.length}\r\nafter-${i}\r\n`);
        }
        for (const [i, w] of writers.entries()) {
          const got = await w.replies(40);
          for (let j = 0; j < 20; j++) {
            expect(got[2 * j].toString()).toMatch(/^\$\d+\r\n\d+-\d+\r\n$/);
            expect(got[2 * j + 1].toString()).toBe(`$${`${i}-${j}`.length}\r\n${i}-${j}\r\n`);
          }
        }
        const info = await writer.call('INFO', 'everything');
        expect(info).toContain('io_threads_active:1\r\n');
        expect(info).toMatch(/io_threaded_writes_processed:\d+\r\n/);
        expect(await writer.call('XPENDING', 'fan', 'g239')).toMatch(/^\*4\r\n:1\r\n/);
        for (const c of [...readers, ...writers, writer]) c.close();
      } finally {
        await spool.stop();
      }
    }, 30000);
  }
});
