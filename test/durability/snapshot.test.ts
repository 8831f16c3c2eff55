// Index snapshots (storage/logSnapshot.ts, server/streamSnapshots.ts): a start loads a stream's state and index
// from its SNAPSHOT file and scans only the records after it, with the same result as a full scan; a snapshot
// that does not match its log (damaged itself, or a segment it covers changed) is ignored, and the guarantees of
// the full scan hold (corruption before the tail stops start-up, a torn tail after the snapshot is cut).
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RespConnection, type Arg } from '../helpers/resp';
import { run, snapshot } from './state';
import { ensureBuilt, newDataDir, removeDir, sleep, spawnSpool } from './helpers';
import type { SpoolProcess } from '../helpers/spool';

beforeAll(() => ensureBuilt(), 120000);

let dir = '';
let server: SpoolProcess | null = null;
let conn: RespConnection | null = null;
afterEach(async () => {
  conn?.close();
  conn = null;
  await server?.kill('SIGKILL');
  server = null;
  if (dir) await removeDir(dir);
  dir = '';
});

async function start(): Promise<RespConnection> {
  server = await spawnSpool(dir, ['--appendfsync', 'everysec']);
  conn = await RespConnection.connect(server.port);
  return conn;
}

async function stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  conn?.close();
  conn = null;
  await server!.kill(signal);
}

/** "N from snapshots" of the start-up line. */
function fromSnapshots(): number {
  const m = /\((\d+) from snapshots\)/.exec(server!.output());
  expect(m, server!.output()).not.toBeNull();
  return Number(m![1]);
}

const streamDir = (key: string): string => path.join(dir, `0-${Buffer.from(key).toString('hex')}`);
const segmentFiles = (key: string): string[] => readdirSync(streamDir(key)).filter((n) => n.endsWith('.log')).sort();

/** Waits (10 s at most) for the background snapshot of `key`. */
async function waitForSnapshot(key: string): Promise<void> {
  const file = path.join(streamDir(key), 'SNAPSHOT');
  for (let i = 0; i < 100 && !existsSync(file); i++) await sleep(100);
  expect(existsSync(file)).toBe(true);
}

/** SIGKILL after the everysec sync and start again: `count` streams start from their snapshots, all as they were. */
async function killedRestartFromSnapshots(c: RespConnection, count: number): Promise<void> {
  const before = await snapshot(c, DBS);
  await sleep(1500); // the everysec sync
  await stop('SIGKILL');
  const again = await start();
  expect(fromSnapshots()).toBe(count);
  expect(await snapshot(again, DBS)).toEqual(before);
}

/** Two streams with entries, a trim, a deletion, a group with pending entries. */
async function workload(c: RespConnection, from: number, count: number): Promise<void> {
  const cmds: Arg[][] = [];
  for (let i = from; i < from + count; i++) {
    cmds.push(['XADD', 's:a', '*', 'f', `v${i}`, 'g', 'x'.repeat(i % 40)]);
    cmds.push(['XADD', 's:b', `${i + 1}-1`, 'n', String(i)]);
  }
  if (from === 0) cmds.push(['XGROUP', 'CREATE', 's:a', 'g', '0']);
  cmds.push(['XREADGROUP', 'GROUP', 'g', `c${from}`, 'COUNT', '5', 'STREAMS', 's:a', '>']);
  cmds.push(['XDEL', 's:b', `${from + 3}-1`]);
  cmds.push(['XTRIM', 's:b', 'MAXLEN', '=', String(from + count - 10)]);
  await run(c, cmds);
}

const DBS = [0];

describe('index snapshots', () => {
  it('a clean restart starts every stream from its snapshot; writes after it replay on top after SIGKILL', async () => {
    dir = await newDataDir('snap-clean');
    let c = await start();
    await workload(c, 0, 300);
    const before = await snapshot(c, DBS);
    await stop('SIGTERM');
    expect(existsSync(path.join(streamDir('s:a'), 'SNAPSHOT'))).toBe(true);

    c = await start();
    expect(fromSnapshots()).toBe(2);
    expect(await snapshot(c, DBS)).toEqual(before);

    // records after the snapshot: scanned and replayed on top of it
    await workload(c, 300, 50);
    const later = await snapshot(c, DBS);
    await stop('SIGKILL');
    c = await start();
    expect(fromSnapshots()).toBe(2);
    expect(await snapshot(c, DBS)).toEqual(later);
  }, 60000);

  it('a damaged snapshot is ignored and the whole log is scanned', async () => {
    dir = await newDataDir('snap-damaged');
    let c = await start();
    await workload(c, 0, 200);
    const before = await snapshot(c, DBS);
    await stop('SIGTERM');
    const file = path.join(streamDir('s:a'), 'SNAPSHOT');
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] ^= 0x40;
    writeFileSync(file, bytes);
    writeFileSync(path.join(streamDir('s:b'), 'SNAPSHOT'), bytes.subarray(0, 20)); // cut short
    c = await start();
    expect(fromSnapshots()).toBe(0);
    expect(await snapshot(c, DBS)).toEqual(before);
  }, 60000);

  it('a bit flip in a covered segment voids the snapshot, and start-up refuses the corrupt log as without one', async () => {
    dir = await newDataDir('snap-flip');
    const c = await start();
    await workload(c, 0, 200);
    await stop('SIGTERM');
    const seg = path.join(streamDir('s:b'), segmentFiles('s:b')[0]);
    const bytes = readFileSync(seg);
    bytes[200] ^= 0x01; // inside an early record, valid records follow
    writeFileSync(seg, bytes);
    server = await spawnSpool(dir, ['--appendfsync', 'everysec']).catch((e: Error) => {
      expect(e.message).toMatch(/corrupt stream log/);
      return null;
    });
    expect(server).toBeNull();
  }, 60000);

  it('a torn tail after the snapshot is cut as without one', async () => {
    dir = await newDataDir('snap-torn');
    let c = await start();
    await workload(c, 0, 200);
    await stop('SIGTERM');
    c = await start();
    const kept = await snapshot(c, DBS);
    await run(c, [['XADD', 's:b', '999999-1', 'torn', 'x'.repeat(100)]]);
    await sleep(1500); // the everysec sync
    await stop('SIGKILL');
    // cut the last record short: what a crash while writing it leaves
    const seg = path.join(streamDir('s:b'), segmentFiles('s:b').at(-1)!);
    const bytes = readFileSync(seg);
    let last = bytes.length - 1;
    while (last >= 0 && bytes[last] === 0) last--;
    bytes.fill(0, last - 50, last + 1);
    writeFileSync(seg, bytes);
    c = await start();
    expect(fromSnapshots()).toBe(2);
    expect(server!.output()).toMatch(/torn tail/);
    expect(await snapshot(c, DBS)).toEqual(kept);
  }, 60000);

  it('old segments deleted behind a checkpoint after the snapshot: the checkpoint among the scanned records wins', async () => {
    dir = await newDataDir('snap-compacted');
    const args = ['--appendfsync', 'everysec', '--segment-initial-size', '64kb', '--segment-max-size', '64kb'];
    server = await spawnSpool(dir, args);
    conn = await RespConnection.connect(server.port);
    const fill = (from: number): Arg[][] => Array.from({ length: 600 }, (_, i) => ['XADD', 'rolled', `${from + i + 1}-0`, 'f', 'x'.repeat(200)]);
    await run(conn, fill(0));
    await stop('SIGTERM');
    const segmentsBefore = segmentFiles('rolled');
    expect(segmentsBefore.length).toBeGreaterThan(2);
    server = await spawnSpool(dir, args);
    conn = await RespConnection.connect(server.port);
    expect(fromSnapshots()).toBe(1);
    // trimmed past the first segment (not past the snapshot's end): a checkpoint is appended, that segment deleted
    await run(conn, [...fill(600), ['XTRIM', 'rolled', 'MAXLEN', '=', '800'], ['XDEL', 'rolled', '1150-0']]);
    for (let i = 0; i < 100 && segmentFiles('rolled')[0] === segmentsBefore[0]; i++) await sleep(100);
    expect(segmentFiles('rolled')[0]).not.toBe(segmentsBefore[0]);
    const before = await snapshot(conn, DBS);
    await sleep(1500); // the everysec sync
    await stop('SIGKILL');
    server = await spawnSpool(dir, args);
    conn = await RespConnection.connect(server.port);
    expect(fromSnapshots()).toBe(1); // the segments it covers that are left still match
    expect(await snapshot(conn, DBS)).toEqual(before);
  }, 60000);

  it('a stream that appended a MiB gets a snapshot in the background, so a SIGKILL restart starts from it', async () => {
    dir = await newDataDir('snap-background');
    const c = await start();
    const cmds: Arg[][] = [];
    for (let i = 0; i < 1100; i++) cmds.push(['XADD', 'big', '*', 'f', 'x'.repeat(1000)]);
    await run(c, cmds);
    await waitForSnapshot('big');
    await run(c, [['XADD', 'big', '*', 'after', 'snapshot']]);
    await killedRestartFromSnapshots(c, 1);
  }, 60000);

  it('a stream that goes quiet after growing by a quarter of its snapshot (at least 64 KiB) gets one in the background', async () => {
    dir = await newDataDir('snap-quiet');
    const c = await start();
    const cmds: Arg[][] = [];
    for (let i = 0; i < 200; i++) cmds.push(['XADD', 'burst', '*', 'f', 'x'.repeat(1000)]); // ~200 KB: below a MiB
    for (let i = 0; i < 5; i++) cmds.push(['XADD', 'small', '*', 'f', String(i)]); // far below 64 KiB
    await run(c, cmds);
    await waitForSnapshot('burst');
    expect(existsSync(path.join(streamDir('small'), 'SNAPSHOT'))).toBe(false);
    await killedRestartFromSnapshots(c, 1);
  }, 60000);
});
