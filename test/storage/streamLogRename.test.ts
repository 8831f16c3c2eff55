// Found by the crash simulator (test/crash/): a second RENAME of a stream while its reservation loop waited for
// the first one deadlocked the log. moveTo waits for the reservation in flight; the loop, once the first move was
// done, found the second move as the barrier and waited for it: neither settled, the staged records never
// landed, and every later batch of the server waited behind theirs.
import { afterEach, describe, expect, it } from 'vitest';
import { StreamLog } from '../../src/storage/streamLog';
import { collect, rig, tempDir, type Rig } from './helpers';

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

const within = <T>(p: Promise<T>, ms: number): Promise<T | 'timed out'> =>
  Promise.race([p, new Promise<'timed out'>((r) => setTimeout(() => r('timed out'), ms))]);

/** Both moves settle, the two records land and are durable, and the log is found whole under key `c`. */
async function settlesAsC(log: StreamLog, r: Rig, moves: Promise<void>[]): Promise<void> {
  for (const move of moves) expect(await within(move, 10000)).not.toBe('timed out');
  expect(await within(log.whenLanded() ?? Promise.resolve(), 10000)).not.toBe('timed out');
  expect(await within(r.batcher.whenDurable(log.lastTicket), 10000)).not.toBe('timed out');
  await log.close();
  r.batcher.close();
  const { records } = await collect(log.dir);
  expect(log.dir.endsWith(`0-${Buffer.from('c').toString('hex')}`)).toBe(true);
  expect(records.length).toBe(2);
}

describe('StreamLog.moveTo', () => {
  it('a second rename while a staged append waits for the first one settles, and the records land', async () => {
    const t = tempDir('rename2');
    cleanup = t.cleanup;
    const r = rig({ policy: 'always' });
    const log = await StreamLog.create(t.dir, 0, Buffer.from('a'), r.opts);
    const first = log.moveTo(t.dir, 0, Buffer.from('b'), null);
    // larger than the reserved room: staged, and the reservation loop it starts waits for the first move
    log.appendEntry(1, 0, [Buffer.from('f'), Buffer.alloc(100 * 1024, 1)]);
    const second = log.moveTo(t.dir, 0, Buffer.from('c'), null);
    log.appendEntry(2, 0, [Buffer.from('f'), Buffer.alloc(10, 2)]);
    await settlesAsC(log, r, [first, second]);
  }, 60000);

  it('two renames of a new stream in the turn that created it settle, and the records land', async () => {
    const t = tempDir('rename-new');
    cleanup = t.cleanup;
    const r = rig({ policy: 'always' });
    // XADD a, RENAME a b, XADD b, RENAME b c in one pipeline: the reservation loop creating the directory was
    // running before either move, so each move waits for it: it must not wait for them
    const log = StreamLog.createNow(t.dir, 0, Buffer.from('a'), r.opts, null);
    log.appendEntry(1, 0, [Buffer.from('f'), Buffer.alloc(10, 1)]);
    const first = log.moveTo(t.dir, 0, Buffer.from('b'), null);
    log.appendEntry(2, 0, [Buffer.from('f'), Buffer.alloc(10, 2)]);
    const second = log.moveTo(t.dir, 0, Buffer.from('c'), null);
    await settlesAsC(log, r, [first, second]);
  }, 60000);
});
