// SLOWLOG and MONITOR through a real client (ioredis): its monitor mode parses Spool's MONITOR lines into time,
// arguments, client address and database, and SLOWLOG GET entries read as Redis's six-field shape.
import Redis from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let spool: SpoolHandle;
beforeAll(async () => {
  spool = await startSpool();
});
afterAll(async () => {
  await spool?.stop();
});

const clients: Redis[] = [];
const connect = async (): Promise<Redis> => {
  const r = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
  clients.push(r);
  await r.connect();
  return r;
};
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});

interface Seen {
  time: string;
  args: string[];
  source: string;
  database: string;
}

describe('ioredis', () => {
  test('monitor mode sees XADD and XRANGE of another client, with their arguments, address and database', async () => {
    const r = await connect();
    const monitor = await r.monitor();
    clients.push(monitor);
    const seen: Seen[] = [];
    monitor.on('monitor', (time: string, args: string[], source: string, database: string) => seen.push({ time, args, source, database }));
    const other = await connect();
    await other.select(2);
    await other.xadd('s', '1-0', 'f', 'say "hi"');
    await other.xrange('s', '-', '+');
    // Bounded wait for the two lines (they are written as the commands run; this only absorbs socket delay).
    const ours = () => seen.filter((s) => ['xadd', 'xrange'].includes(s.args[0]?.toLowerCase()));
    for (let i = 0; i < 100 && ours().length < 2; i++) await new Promise((r) => setTimeout(r, 10));
    const commands = ours();
    expect(commands.map((s) => s.args)).toEqual([
      ['xadd', 's', '1-0', 'f', 'say "hi"'],
      ['xrange', 's', '-', '+'],
    ]);
    for (const s of commands) {
      expect(s.time).toMatch(/^\d+\.\d{6}$/);
      expect(s.source).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(s.database).toBe('2');
    }
  });

  test('SLOWLOG GET entries: id, time, duration, arguments, address, name', async () => {
    const r = await connect();
    await r.config('SET', 'slowlog-log-slower-than', '0');
    try {
      await r.slowlog('RESET');
      await r.client('SETNAME', 'io');
      await r.xadd('t', '1-0', 'f', 'v');
      const entries = (await r.slowlog('GET', '1')) as [number, number, number, string[], string, string][];
      expect(entries).toHaveLength(1);
      const [id, time, duration, args, peer, name] = entries[0];
      expect(typeof id).toBe('number');
      expect(Math.abs(time - Date.now() / 1000)).toBeLessThan(600);
      expect(duration).toBeGreaterThanOrEqual(0);
      expect(args).toEqual(['xadd', 't', '1-0', 'f', 'v']);
      expect(peer).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(name).toBe('io');
      expect(await r.slowlog('LEN')).toBeGreaterThanOrEqual(1);
    } finally {
      await r.config('SET', 'slowlog-log-slower-than', '10000');
    }
  });
});
