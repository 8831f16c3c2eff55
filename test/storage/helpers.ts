import { afterAll, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommitBatcher, type CommitBatcherOptions } from '../../src/storage/commitBatcher';
import { SegmentCache } from '../../src/storage/segmentCache';
import { StreamLog, type StreamLogOptions } from '../../src/storage/streamLog';
import { recoverStream, type RecoveryReport } from '../../src/storage/recovery';

export function tempDir(tag: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), `spool-${tag}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface Rig {
  batcher: CommitBatcher;
  cache: SegmentCache;
  opts: StreamLogOptions;
}

export function rig(batcherOpts: CommitBatcherOptions = {}, logOpts: Partial<StreamLogOptions> = {}): Rig {
  const batcher = new CommitBatcher({ warn: () => undefined, ...batcherOpts });
  const cache = new SegmentCache(64);
  return { batcher, cache, opts: { batcher, cache, initialSegmentSize: 64 * 1024, maxSegmentSize: 256 * 1024, ...logOpts } };
}

/** Recovers a stream directory collecting every record (payloads copied). */
export async function collect(dir: string, mode: 'recover' | 'check' | 'fix' = 'recover') {
  const records: { type: number; payload: Buffer; pos: number }[] = [];
  const report: RecoveryReport = await recoverStream(dir, (r) => records.push({ type: r.type, payload: Buffer.from(r.payload()), pos: r.pos }), mode);
  return { records, report };
}

export async function reopen(dir: string, r: Rig): Promise<{ log: StreamLog; records: { type: number; payload: Buffer; pos: number }[] }> {
  const { records, report } = await collect(dir);
  const log = await StreamLog.open(dir, r.opts, report.segments, report.end);
  return { log, records };
}

export const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * A tmpfs of `size` (e.g. '4m') mounted on a new directory, for full-disk tests; `mounted` false (with `why`)
 * when mount(2) is refused (not root). `unmount` is lazy: mappings may live until GC.
 */
/**
 * A tmpfs of `size` mounted for the whole test file (beforeAll/afterAll registered here); `mount` holds where, or
 * why it could not be mounted (the suites then fail with that reason: they need root, as CI runs).
 */
export function useTmpfs(tag: string, size: string, before?: () => void): { mnt: string; mounted: boolean; why: string } {
  const state = { mnt: '', mounted: false, why: '' };
  let unmount = (): void => undefined;
  beforeAll(() => {
    before?.();
    const m = mountTmpfs(tag, size);
    Object.assign(state, { mnt: m.mnt, mounted: m.mounted, why: m.why });
    unmount = m.unmount;
  }, 120000);
  afterAll(() => unmount());
  return state;
}

export function mountTmpfs(tag: string, size: string): { mnt: string; mounted: boolean; why: string; unmount: () => void } {
  const mnt = mkdtempSync(path.join(os.tmpdir(), `spool-${tag}-`));
  let mounted = false;
  let why = '';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', mnt], { stdio: 'pipe' });
    mounted = true;
  } catch (e) {
    why = (e as Error).message.split('\n')[0];
  }
  const unmount = (): void => {
    if (mounted) execFileSync('umount', ['-l', mnt]);
    rmSync(mnt, { recursive: true, force: true });
  };
  return { mnt, mounted, why, unmount };
}
