// A stream renamed twice in one pipeline, with writes between the renames, under appendfsync always: every reply
// comes (the second RENAME used to deadlock the stream's log, holding its reply and every later write of the
// server: see test/storage/streamLogRename.test.ts), the replies match redis-server's, and the entries are there.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText, type RespNode } from '../helpers/resp';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let spool: SpoolHandle;
let redis: RunningRedis;
beforeAll(async () => {
  spool = await startSpool({ appendfsync: 'always' });
  redis = await startRedis();
}, 60000);
afterAll(async () => {
  await spool?.stop();
  await redis?.stop();
});

/** The pipeline's replies, XADD's IDs replaced by their type (they differ between servers). */
async function run(port: number, commands: string[][]): Promise<string[]> {
  const c = await RespConnection.connect(port);
  try {
    for (const args of commands) c.sendCommand(args);
    const replies: RespNode[] = await c.read(commands.length, 10000);
    return replies.map((r, i) => (commands[i][0] === 'XADD' ? r.type : `${r.type}:${nodeText(r)}`));
  } finally {
    c.close();
  }
}

describe('RENAME twice in one pipeline (appendfsync always)', () => {
  it.each([
    // a new stream: its first reservation runs while both moves are issued
    ['a new stream', 0, 10],
    // 230 entries of 139 bytes stay below half of the 64 KiB first segment; the 2 KiB entry after the first
    // RENAME crosses it: the reservation ahead of need it starts waits for that move, then the second comes
    ['a stream whose reservation starts during the first RENAME', 230, 2000],
  ])('%s: every reply comes and matches redis-server', async (_name, before, size) => {
    const tag = `t${before}`;
    const fill = Array.from({ length: before }, () => ['XADD', `${tag}:a`, '*', 'f', 'x'.repeat(100)]);
    const pipeline = [
      ...fill,
      ['XADD', `${tag}:a`, '*', 'f', 'v1'],
      ['RENAME', `${tag}:a`, `${tag}:b`],
      ['XADD', `${tag}:b`, '*', 'f', 'y'.repeat(size)],
      ['RENAME', `${tag}:b`, `${tag}:c`],
      ['XADD', `${tag}:c`, '*', 'f', 'v3'],
      ['XLEN', `${tag}:c`],
      ['EXISTS', `${tag}:a`, `${tag}:b`],
    ];
    const [fromSpool, fromRedis] = await Promise.all([run(spool.port, pipeline), run(redis.port, pipeline)]);
    expect(fromSpool).toEqual(fromRedis);
    expect(fromSpool.at(-2)).toBe(`::${before + 3}`);
  }, 60000);
});
