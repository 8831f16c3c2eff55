// Log output: the human-readable formatter used when standard output is a terminal (as a function, and end to
// end under a pseudo-terminal), JSON lines otherwise, and the debug line of every error reply (command name,
// client id and address, error text) from a real spool-server process (dist/).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import Redis from 'ioredis';
import { afterEach, describe, expect, test } from 'vitest';
import { createLogger } from '../../src/server/logger';
import { formatLogLine } from '../../src/server/logFormat';
import { freePort } from '../helpers/ports';
import { ROOT, startSpoolProcess, type SpoolProcess } from '../helpers/spool';

/** Polls `read` until `pred` holds or `ms` pass (bounded: at most ms / 50 rounds); returns the last value. */
async function waitFor<T>(read: () => T, pred: (v: T) => boolean, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = read();
  for (let round = 0; !pred(v) && round < ms / 50 && Date.now() < deadline; round++) {
    await new Promise((r) => setTimeout(r, 50));
    v = read();
  }
  return v;
}

describe('human-readable log lines', () => {
  test('formatLogLine: time, level, message, then key=value pairs (pid left out, strings quoted when needed)', () => {
    const line = JSON.stringify({
      level: 'info',
      time: '2026-12-02T11:30:13.000Z',
      pid: 42,
      event: 'ready',
      port: 6379,
      dir: '/var/lib/spool data',
      tls: false,
      recovery: { streams: 2 },
      msg: 'ready to accept connections',
    });
    expect(formatLogLine(line)).toBe(
      '2026-12-02T11:30:13.000Z INFO  ready to accept connections event=ready port=6379 dir="/var/lib/spool data" ' +
        'tls=false recovery={"streams":2}\n',
    );
    expect(formatLogLine('{"level":"warn","time":"t","msg":"a \\"b\\""}\n')).toBe('t WARN  a "b"\n');
    expect(formatLogLine('not json')).toBe('not json\n');
  });

  test('createLogger({ human: true }) writes formatted lines; the default for a stream is JSON', () => {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    createLogger({ level: 'notice', stream, human: true }).pino.info({ event: 'shutdown', signal: 'SIGTERM' }, 'Received SIGTERM');
    expect(chunks.join('')).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  Received SIGTERM event=shutdown signal=SIGTERM\n$/);
    chunks.length = 0;
    createLogger({ level: 'notice', stream }).pino.info('json');
    expect(JSON.parse(chunks.join(''))).toMatchObject({ level: 'info', msg: 'json' });
  });

  test('spool-server with a terminal as standard output logs human lines (JSON on a pipe: the tests below)', async () => {
    // util-linux `script` runs the server under a pseudo-terminal (its stdout is a TTY).
    if (!existsSync('/usr/bin/script')) return;
    const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-tty-'));
    const port = await freePort();
    const command = `${process.execPath} ${path.join(ROOT, 'bin', 'spool-server.js')} --port ${port} --bind 127.0.0.1 --dir ${dir}`;
    const child = spawn('script', ['-qfec', command, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], cwd: ROOT });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      out = await waitFor(() => out, (o) => o.includes('ready to accept connections'), 15000);
      const ready = out.split(/\r?\n/).find((l) => l.includes('ready to accept connections'))!;
      expect(ready).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO  Spool .* event=ready version=/);
      expect(ready.startsWith('{')).toBe(false);
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => {
        const t = setTimeout(r, 5000);
        child.once('exit', () => (clearTimeout(t), r(null)));
      });
      rmSync(dir, { recursive: true, force: true });
    }
  }, 30000);
});

describe('error replies in the debug log', () => {
  let spool: SpoolProcess | null = null;
  afterEach(async () => {
    await spool?.stop();
    spool = null;
  });

  test('loglevel debug: each error reply is a line with the command, client id and address, and the text', async () => {
    spool = await startSpoolProcess(['--loglevel', 'debug']);
    const client = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    try {
      const id = (await client.client('ID')) as number;
      const local = `${client.stream.localAddress}:${client.stream.localPort}`;
      await expect(client.call('XADD', 'k', '*', 'f')).rejects.toThrow(/wrong number of arguments/);
      await expect(client.call('XLEN', 'k', 'extra')).rejects.toThrow(/wrong number of arguments/);
      await client.set('s', 'v').catch(() => undefined); // unknown command: the name as sent
      const errorLines = () =>
        spool!
          .output()
          .split('\n')
          .filter((l) => l.includes('"error_reply"'))
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      const lines = await waitFor(errorLines, (l) => l.length >= 3);
      expect(lines[0]).toMatchObject({
        level: 'debug',
        event: 'error_reply',
        code: 'ERR',
        command: 'xadd',
        client_id: id,
        addr: local,
        msg: `error reply to client id=${id} addr=${local} (xadd): ERR wrong number of arguments for 'xadd' command`,
      });
      expect(lines[1]).toMatchObject({ command: 'xlen', client_id: id, msg: expect.stringContaining("for 'xlen' command") });
      expect(lines[2]).toMatchObject({ command: 'set', client_id: id, msg: expect.stringContaining("(set): ERR unknown command 'set'") });
    } finally {
      client.disconnect();
    }
  }, 30000);

  test('loglevel notice: no error reply lines', async () => {
    spool = await startSpoolProcess([]);
    const client = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
    await client.connect();
    try {
      await expect(client.call('XADD', 'k', '*', 'f')).rejects.toThrow(/wrong number of arguments/);
      await client.ping();
      expect(spool.output()).not.toContain('error_reply');
    } finally {
      client.disconnect();
    }
  }, 30000);
});
