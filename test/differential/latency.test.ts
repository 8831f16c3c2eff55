// LATENCY against redis-server 7: HELP texts byte for byte, argument errors, empty replies, the option
// latency-monitor-threshold; then a `command` event: redis-server sleeps (DEBUG SLEEP), Spool runs a command
// slowed in-process, and LATENCY LATEST/HISTORY/RESET answer with the same shapes. Spool's other events
// (fast-command, aof-fsync-always) are checked on Spool alone, with the slow part injected.
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, beforeAll, expect, test, vi } from 'vitest';
import { describeSpool, differentialSuite, runScript, type Arg, type Script } from '../helpers/differential';
import { maskPath } from '../helpers/mask';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RawClient, startInProcess, type InProcessSpool } from '../hardening/raw';
import { Segment } from '../../src/storage/segment';
import { CommitJournal } from '../../src/storage/commitJournal';
import type { CommandHandler, CommandSpec } from '../../src/commands/types';

differentialSuite([
  {
    name: 'LATENCY HELP, empty LATEST and HISTORY, RESET, errors',
    steps: [
      'LATENCY HELP',
      'latency help',
      'LATENCY LATEST',
      'LATENCY HISTORY command',
      'LATENCY RESET',
      'LATENCY RESET command fork',
      'LATENCY',
      'LATENCY NOSUCH',
      'LATENCY HISTORY',
      'LATENCY HISTORY a b',
      'LATENCY LATEST x',
      'LATENCY HELP x',
    ],
  },
  {
    name: 'CONFIG latency-monitor-threshold',
    steps: [
      'CONFIG GET latency-monitor-threshold',
      'CONFIG SET latency-monitor-threshold -1',
      'CONFIG SET latency-monitor-threshold abc',
      'CONFIG SET latency-monitor-threshold 250',
      'CONFIG GET latency-monitor-threshold',
      'CONFIG SET latency-monitor-threshold 0',
      'CONFIG GET latency-monitor-*',
    ],
    after: ['CONFIG SET latency-monitor-threshold 0'],
  },
  {
    // The containers list every subcommand Redis has; Spool lists the ones it implements, each as Redis does.
    name: 'COMMAND INFO of the subcommands',
    steps: ['COMMAND INFO latency|latest latency|history latency|reset latency|help'],
  },
]);

/** Holds the event loop for `ms`, as a slow command holds Redis's (bounded by the clock). */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // spin
  }
}

/** Makes `name` (a command or `container|sub`) take at least `ms` on this in-process Spool. */
function slowDown(spool: InProcessSpool, name: string, ms: number): void {
  const [container] = name.split('|');
  const top = spool.server.state.registry.find(container)!;
  const spec = name.includes('|') ? top.subcommands!.find((s) => s.name === name)! : top;
  const original = spec.handler!;
  vi.spyOn(spec as CommandSpec & { handler: CommandHandler }, 'handler').mockImplementation((ctx) => {
    busy(ms);
    original(ctx);
  });
}

/** LATENCY's command event on one server: `slow` takes about 50 ms there, the threshold is 20 ms. */
function commandEventScript(slow: Arg[]): Script {
  const slowStep = { cmd: slow, label: 'a command taking 50 ms' };
  return {
    name: 'command event',
    steps: [
      'CONFIG SET latency-monitor-threshold 20',
      'LATENCY RESET',
      slowStep,
      // [event, time, latest ms, max ms]: the numbers depend on the clock; their types must not.
      { cmd: 'LATENCY LATEST', mask: [maskPath(0, 1), maskPath(0, 2), maskPath(0, 3)] },
      { cmd: 'LATENCY HISTORY command', mask: [maskPath(0, 0), maskPath(0, 1)] },
      'LATENCY HISTORY fast-command',
      'LATENCY HISTORY COMMAND',
      'LATENCY RESET nosuch',
      'LATENCY RESET COMMAND command',
      'LATENCY LATEST',
      // Threshold 0: monitoring off, the same slow command records nothing.
      'CONFIG SET latency-monitor-threshold 0',
      slowStep,
      'LATENCY LATEST',
    ],
    after: ['CONFIG SET latency-monitor-threshold 0', 'LATENCY RESET'],
  };
}

describeSpool('LATENCY events', () => {
  let redis: RunningRedis;
  let spool: InProcessSpool;
  beforeAll(async () => {
    [redis, spool] = await Promise.all([startRedis(['--enable-debug-command', 'local']), startInProcess()]);
  });
  afterAll(async () => {
    RawClient.closeAll();
    await Promise.all([redis?.stop(), spool?.stop()]);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  test.each([2, 3] as const)('a slow command is a `command` event with the shapes of redis-server (RESP%i)', async (protocol) => {
    slowDown(spool, 'client|setname', 50);
    const expected = await runScript(redis.port, commandEventScript(['DEBUG', 'SLEEP', '0.05']), protocol);
    const actual = await runScript(spool.port, commandEventScript(['CLIENT', 'SETNAME', 'slow']), protocol);
    expect(actual).toEqual(expected);
  });

  test('the sample is the command time in ms, stamped with the second it ended', async () => {
    const c = await RawClient.connect(spool.port);
    slowDown(spool, 'client|setname', 30);
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '10');
    const before = Math.floor(Date.now() / 1000);
    expect(await c.call('CLIENT', 'SETNAME', 'slow')).toBe('+OK\r\n');
    const after = Math.floor(Date.now() / 1000);
    const history = await c.call('LATENCY', 'HISTORY', 'command');
    const m = /^\*1\r\n\*2\r\n:(\d+)\r\n:(\d+)\r\n$/.exec(history);
    expect(m, history).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(before);
    expect(Number(m![1])).toBeLessThanOrEqual(after);
    expect(Number(m![2])).toBeGreaterThanOrEqual(30);
    expect(await c.call('LATENCY', 'RESET', 'command')).toBe(':1\r\n');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  });

  test('a slow command flagged fast is a `fast-command` event', async () => {
    const c = await RawClient.connect(spool.port);
    slowDown(spool, 'xlen', 30);
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '10');
    expect(await c.call('XLEN', 'nosuch')).toBe(':0\r\n');
    expect(await c.call('LATENCY', 'LATEST')).toMatch(/\*4\r\n\$12\r\nfast-command\r\n:\d+\r\n:\d+\r\n:\d+\r\n/);
    expect(await c.call('LATENCY', 'HISTORY', 'command')).toBe('*0\r\n');
    expect(await c.call('LATENCY', 'RESET', 'FAST-COMMAND')).toBe(':1\r\n');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
  });
});

describeSpool('LATENCY retention-cycle', () => {
  let spool: InProcessSpool | null = null;
  afterEach(async () => {
    vi.restoreAllMocks();
    RawClient.closeAll();
    await spool?.stop();
    spool = null;
  });

  test('a slow pass of the retention timer is recorded; threshold 0 records nothing', async () => {
    spool = await startInProcess({ 'stream-maxage': '1000000000' });
    const c = await RawClient.connect(spool.port);
    expect(await c.call('XADD', 's', '*', 'f', 'v')).toMatch(/^\$/); // a bounded stream: the timer checks it
    const retention = spool.server.state.retention;
    const minIdFor = retention.minIdFor.bind(retention);
    vi.spyOn(retention, 'minIdFor').mockImplementation((stream, now) => {
      busy(30);
      return minIdFor(stream, now);
    });
    retention.tick();
    expect(await c.call('LATENCY', 'LATEST')).toBe('*0\r\n');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '20');
    retention.tick();
    // The server's own timer may have made a pass of its own in another second: the first sample is ours.
    const m = /^\*[12]\r\n\*2\r\n:\d+\r\n:(\d+)\r\n/.exec(await c.call('LATENCY', 'HISTORY', 'retention-cycle'));
    expect(m).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(30);
  });
});

describeSpool('LATENCY aof-fsync-always', () => {
  let spool: InProcessSpool | null = null;
  afterEach(async () => {
    vi.restoreAllMocks();
    RawClient.closeAll();
    await spool?.stop();
    spool = null;
  });

  /**
   * Makes every segment fdatasync, and every commit journal write under always (which ends with the journal's
   * fdatasync), take at least `ms` longer (on the thread pool: the event loop is free).
   */
  function slowSyncs(ms: number): void {
    const sync = Segment.prototype.sync;
    vi.spyOn(Segment.prototype, 'sync').mockImplementation(function (this: Segment) {
      return new Promise<void>((r) => setTimeout(r, ms)).then(() => sync.call(this));
    });
    const write = CommitJournal.prototype.write;
    vi.spyOn(CommitJournal.prototype, 'write').mockImplementation(function (this: CommitJournal, ...args: Parameters<CommitJournal['write']>) {
      return new Promise<void>((r) => setTimeout(r, args[2] ? ms : 0)).then(() => write.apply(this, args));
    });
  }

  test('under appendfsync always, a commit whose fdatasync is slow is recorded; threshold 0 records nothing', async () => {
    spool = await startInProcess({ appendfsync: 'always' });
    const c = await RawClient.connect(spool.port);
    expect(await c.call('XADD', 's', '1-1', 'f', 'v')).toBe('$3\r\n1-1\r\n'); // the stream's segment exists
    slowSyncs(40);
    expect(await c.call('XADD', 's', '2-1', 'f', 'v')).toBe('$3\r\n2-1\r\n');
    expect(await c.call('LATENCY', 'LATEST')).toBe('*0\r\n');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '20');
    expect(await c.call('XADD', 's', '3-1', 'f', 'v')).toBe('$3\r\n3-1\r\n');
    const history = await c.call('LATENCY', 'HISTORY', 'aof-fsync-always');
    const m = /^\*1\r\n\*2\r\n:\d+\r\n:(\d+)\r\n$/.exec(history);
    expect(m, history).not.toBeNull();
    expect(Number(m![1])).toBeGreaterThanOrEqual(40);
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await c.call('LATENCY', 'RESET');
    expect(await c.call('XADD', 's', '4-1', 'f', 'v')).toBe('$3\r\n4-1\r\n');
    expect(await c.call('LATENCY', 'LATEST')).toBe('*0\r\n');
  });
});
