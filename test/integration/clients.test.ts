// node-redis and redis-py (Debian's python3-redis) against Spool with nothing configured but host and port.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from 'redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';

const run = promisify(execFile);
let spool: SpoolHandle;

beforeAll(async () => {
  spool = await startSpool();
});
afterAll(async () => {
  await spool.stop();
});

describe('node-redis', () => {
  it.each([2, 3] as const)('streams and groups work over RESP%s', async (RESP) => {
    const client = createClient({ socket: { host: '127.0.0.1', port: spool.port }, RESP });
    await client.connect();
    try {
      const key = `nr${RESP}`;
      const id = await client.xAdd(key, '*', { a: '1', b: 'two' });
      expect(id).toMatch(/^\d+-\d+$/);
      expect(await client.xLen(key)).toBe(1);
      const range = await client.xRange(key, '-', '+');
      expect(range.length).toBe(1);
      expect(JSON.stringify(range[0])).toContain('two');
      await client.xGroupCreate(key, 'g', '0');
      const read = await client.xReadGroup('g', 'c', { key, id: '>' }, { COUNT: 10 });
      expect(JSON.stringify(read)).toContain(id);
      expect(await client.xAck(key, 'g', id)).toBe(1);
      const info = await client.xInfoStream(key);
      expect(JSON.stringify(info)).toContain('"length":1');
    } finally {
      await client.quit();
    }
  });
});

describe('redis-py', () => {
  it('streams and groups work', async () => {
    const script = `
import redis, sys
r = redis.Redis(host='127.0.0.1', port=int(sys.argv[1]))
assert r.ping()
i = r.xadd('py', {'a': '1', 'b': b'\\x00\\xff'})
assert r.xlen('py') == 1
assert r.xrange('py')[0][1][b'b'] == b'\\x00\\xff'
r.xgroup_create('py', 'g', id='0')
got = r.xreadgroup('g', 'c', {'py': '>'}, count=5)
assert got[0][1][0][0] == i
assert r.xpending('py', 'g')['pending'] == 1
assert r.xack('py', 'g', i) == 1
assert r.xinfo_stream('py')['length'] == 1
print('ok')
`;
    const { stdout } = await run('/usr/bin/python3', ['-c', script, String(spool.port)]);
    expect(stdout.trim()).toBe('ok');
  });
});
