// Storage faults injected through the storage layer (Segment.sync and the commit journal's syncs, made to fail
// with EIO or ENOSPC) in an in-process Spool: the error is sticky, writes are refused with Redis's MISCONF text
// naming the errno (strerror), reads keep working, INFO says aof_last_write_status:err, nothing is acknowledged
// that was not synced under `always`, and everything resumes by itself once the fault clears.
// (A real full disk, with no injection, is test/durability/fullDisk.test.ts.)
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Segment } from '../../src/storage/segment';
import { CommitJournal } from '../../src/storage/commitJournal';
import { RawClient, encode, sleep, startInProcess, type InProcessSpool } from './raw';

let spool: InProcessSpool | null = null;

afterEach(async () => {
  vi.restoreAllMocks();
  RawClient.closeAll();
  await spool?.stop();
  spool = null;
});

/**
 * Makes every segment fdatasync, and every fdatasync of the commit journal (a commit's write under always, the
 * once-a-second sync under everysec), fail with `code` until the returned function is called.
 */
function failSyncs(code: string): () => void {
  const fault = () => Promise.reject(Object.assign(new Error(`injected ${code}`), { code }));
  const spies = [
    vi.spyOn(Segment.prototype, 'sync').mockImplementation(fault),
    vi.spyOn(CommitJournal.prototype, 'sync').mockImplementation(fault),
  ];
  const write = CommitJournal.prototype.write;
  spies.push(
    vi.spyOn(CommitJournal.prototype, 'write').mockImplementation(function (this: CommitJournal, ...args: Parameters<CommitJournal['write']>) {
      return args[2] ? fault() : write.apply(this, args);
    }),
  );
  return () => {
    for (const spy of spies) spy.mockRestore();
  };
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

const writeStatus = async (c: RawClient) => /aof_last_write_status:(\w+)/.exec(await c.call('INFO', 'persistence'))?.[1];

describe('storage faults (injected fdatasync errors)', () => {
  it('always: EIO holds the unsynced XADD, refuses writes with MISCONF Input/output error, then resumes', async () => {
    spool = await startInProcess({ appendfsync: 'always' });
    const a = await RawClient.connect(spool.port);
    const b = await RawClient.connect(spool.port);
    expect(await b.call('XADD', 'before', '1-1', 'f', 'v')).toBe('$3\r\n1-1\r\n');
    const restore = failSyncs('EIO');
    // Its commit's fdatasync fails: not durable, so not acknowledged while the fault lasts.
    a.write(encode('XADD', 'held', '5-1', 'f', 'v'));
    await until('the error to be sticky', async () => (await writeStatus(b)) === 'err');
    expect(await b.call('XADD', 'other', '*', 'f', 'v')).toBe('-MISCONF Errors writing to the AOF file: Input/output error\r\n');
    expect(await b.call('XDEL', 'before', '1-1')).toBe('-MISCONF Errors writing to the AOF file: Input/output error\r\n');
    // Reads of synced data and commands that write nothing keep working.
    expect(await b.call('XRANGE', 'before', '-', '+')).toBe('*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(await b.call('PING')).toBe('+PONG\r\n');
    await expect(a.replies(1, 300)).rejects.toThrow(/timed out/);
    // The fault clears: the retry syncs, the held reply goes out, writes are accepted again.
    restore();
    expect((await a.replies(1, 10000))[0].toString()).toBe('$3\r\n5-1\r\n');
    await until('writes to be accepted', async () => (await writeStatus(b)) === 'ok');
    expect(await b.call('XADD', 'other', '7-1', 'f', 'v')).toBe('$3\r\n7-1\r\n');
    expect(await b.call('XLEN', 'held')).toBe(':1\r\n');
  }, 30000);

  it('everysec: a failed periodic fdatasync (ENOSPC) is sticky until a retry succeeds', async () => {
    spool = await startInProcess({ appendfsync: 'everysec' });
    const c = await RawClient.connect(spool.port);
    const restore = failSyncs('ENOSPC');
    // Acknowledged once in the map (everysec's promise); the next periodic sync fails.
    expect(await c.call('XADD', 's', '1-1', 'f', 'v')).toBe('$3\r\n1-1\r\n');
    await until('the error to be sticky', async () => (await writeStatus(c)) === 'err');
    expect(await c.call('XADD', 's', '2-1', 'f', 'v')).toBe('-MISCONF Errors writing to the AOF file: No space left on device\r\n');
    expect(await c.call('XRANGE', 's', '-', '+')).toBe('*1\r\n*2\r\n$3\r\n1-1\r\n*2\r\n$1\r\nf\r\n$1\r\nv\r\n');
    expect(await c.call('INFO', 'errorstats')).toContain('errorstat_MISCONF:count=1\r\n');
    restore();
    await until('writes to be accepted', async () => (await writeStatus(c)) === 'ok');
    expect(await c.call('XADD', 's', '2-1', 'f', 'v')).toBe('$3\r\n2-1\r\n');
    expect(await c.call('XLEN', 's')).toBe(':2\r\n');
  }, 30000);
});
