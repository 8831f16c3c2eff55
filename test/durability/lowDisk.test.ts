// Low disk (issue #11): a server whose disk filled up under `always` starts again on it, serves reads, refuses
// writes with Redis's MISCONF text while no segment space can be reserved, and resumes by itself once space is
// freed. Pipelined writes on a filling disk all get replies (successes for what was stored, MISCONF for the
// rest), other clients are never stuck behind them, and after a restart every acknowledged entry is there and no
// refused one is. A small tmpfs holds the data directory and filler files, as the full-disk suites do.
// Needs mount(2) (root or CAP_SYS_ADMIN, as CI runs): fails with the reason when the mount is refused.
import { describe, expect, it } from 'vitest';
import { rmSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import type Redis from 'ioredis';
import type { SpoolProcess } from '../helpers/spool';
import { client, connected, ensureBuilt, sleep, spawnSpool } from './helpers';
import { useTmpfs } from '../storage/helpers';

const disk = useTmpfs('lowdisk', '4m', ensureBuilt);

const MISCONF = 'MISCONF Errors writing to the AOF file: No space left on device';
const SEGMENTS = ['--segment-initial-size', '64kb', '--segment-max-size', '512kb'];

interface Sent {
  key: string;
  v: Buffer;
  id?: string;
  error?: string;
}

/** A value that tells its writes apart (binary, with CR LF and NUL). */
function value(n: number): Buffer {
  const v = Buffer.alloc(16 * 1024, n & 255);
  v.write(`\r\n${n}\0`);
  return v;
}

/** Resolves with `p`'s value, or with `timeout` when it takes more than `ms`. */
function within<T, U>(p: Promise<T>, ms: number, timeout: U): Promise<T | U> {
  return Promise.race([p, sleep(ms).then(() => timeout)]);
}

/**
 * Pipelines XADDs of 16 KiB values, `depth` at a time, over keys a/b until a batch gets MISCONF (bounded: 400
 * writes). Every reply must come within 5 s.
 */
async function fill(c: Redis, depth: number, sent: Sent[]): Promise<void> {
  for (let i = 0; i < 400; i += depth) {
    const batch = Array.from({ length: depth }, (_, k) => {
      const s: Sent = { key: (i + k) % 3 === 0 ? 'ld:b\0' : 'ld:a', v: value(i + k) };
      sent.push(s);
      return c.xadd(s.key, '*', 'v', s.v).then(
        (id) => void (s.id = id as string),
        (err: Error) => void (s.error = err.message),
      );
    });
    const answered = await within(Promise.all(batch).then(() => true), 5000, false);
    expect(answered, `replies of pipelined writes ${i}..${i + depth - 1} did not come within 5 s`).toBe(true);
    if (sent.some((s) => s.error)) return;
  }
}

/** After a restart: every acknowledged entry is there with its value, nothing else is. */
async function expectExactly(server: SpoolProcess, sent: Sent[]): Promise<void> {
  const d = await connected(client(server.port));
  try {
    const acked = sent.filter((s) => s.id);
    for (const key of ['ld:a', 'ld:b\0']) {
      const got = (await d.xrangeBuffer(key, '-', '+')) as unknown as [Buffer, Buffer[]][];
      const want = acked.filter((s) => s.key === key);
      expect(got.map(([id]) => id.toString()), `${JSON.stringify(key)} after a restart\n${server.output()}`).toEqual(want.map((s) => s.id));
      for (let i = 0; i < want.length; i++) expect(got[i][1][1].equals(want[i].v)).toBe(true);
    }
  } finally {
    d.disconnect();
  }
}

describe('low disk (4 MiB tmpfs)', () => {
  it.each([
    ['always', 1],
    ['always', 8],
    ['everysec', 8],
    ['always', 32],
  ] as const)(
    'appendfsync %s, pipeline depth %i: every write gets a reply, others are not stuck, a restart on the full disk works, writes resume by themselves',
    async (policy, depth) => {
      const ARGS = ['--appendfsync', policy, ...SEGMENTS];
      // Required behaviour: without mount(2) (root or CAP_SYS_ADMIN, as in CI) this fails, never skips.
      expect(disk.mounted, `cannot mount a tmpfs at ${disk.mnt} (${disk.why}): run the tests as root`).toBe(true);
      const dir = path.join(disk.mnt, `data-${policy}-${depth}`);
      const filler = path.join(disk.mnt, `filler-${depth}`);
      const small = path.join(disk.mnt, `small-${depth}`);
      writeFileSync(filler, Buffer.alloc(1024 * 1024, 1));
      writeFileSync(small, Buffer.alloc(192 * 1024, 1));
      let server = await spawnSpool(dir, ARGS);
      const sent: Sent[] = [];
      try {
        const c = await connected(client(server.port));
        const other = await connected(client(server.port));
        await other.xadd('ld:other', '*', 'v', 'first');
        await fill(c, depth, sent);
        const refused = sent.filter((s) => s.error);
        expect(refused.length, 'the disk never filled up').toBeGreaterThan(0);
        for (const s of refused) expect(s.error).toBe(MISCONF);
        expect(sent.filter((s) => s.id).length).toBeGreaterThan(5);
        // Another client and another stream are not stuck: its write is answered (MISCONF or stored), reads are.
        const otherWrite = await within(
          other.xadd('ld:other', '*', 'v', value(9999)).then(() => 'stored', (e: Error) => e.message),
          3000,
          'no reply within 3 s',
        );
        expect([MISCONF, 'stored']).toContain(otherWrite);
        expect(await within(other.xlen('ld:other'), 3000, -1)).toBe(otherWrite === 'stored' ? 2 : 1);
        // A write that would create a stream on the full disk is refused at once, not held unanswered.
        const created = await within(
          other.xadd('ld:new', '*', 'v', value(9998)).then(() => 'stored', (e: Error) => e.message),
          3000,
          'no reply within 3 s',
        );
        expect(created).toBe(MISCONF);
        expect(await other.exists('ld:new')).toBe(0);
        const first = sent.find((s) => s.id)!;
        const got = (await within(other.xrangeBuffer(first.key, first.id!, first.id!), 3000, null)) as [Buffer, Buffer[]][] | null;
        expect(got, 'XRANGE of acknowledged data got no reply while the disk is full').not.toBeNull();
        expect(got![0][1][1].equals(first.v)).toBe(true);
        c.disconnect();
        other.disconnect();

        // Free a little (less than a segment's growth), stop, and start again on the nearly full disk.
        unlinkSync(small);
        expect(await server.kill('SIGTERM'), server.output()).toBe(0);
        server = await spawnSpool(dir, ARGS);
        await expectExactly(server, sent);

        // Writes that need space it cannot reserve are refused; once space is freed they resume by themselves.
        const e = await connected(client(server.port));
        let resumed = false;
        let refusedAfterRestart = 0;
        for (let i = 0; i < 200 && !resumed; i++) {
          const s: Sent = { key: 'ld:a', v: value(10000 + i) };
          sent.push(s);
          const r = await within(
            e.xadd(s.key, '*', 'v', s.v).then((id) => void (s.id = id as string), (err: Error) => void (s.error = err.message)),
            5000,
            'timeout',
          );
          expect(r, 'an XADD got no reply within 5 s').not.toBe('timeout');
          if (s.error) {
            expect(s.error).toBe(MISCONF);
            refusedAfterRestart++;
            if (refusedAfterRestart === 1) unlinkSync(filler); // space comes back
            await sleep(100);
          } else if (refusedAfterRestart > 0) resumed = true;
        }
        expect(refusedAfterRestart, 'the nearly full disk never refused a write after the restart').toBeGreaterThan(0);
        expect(resumed, 'writes did not resume after space was freed').toBe(true);
        e.disconnect();
        expect(await server.kill('SIGTERM'), server.output()).toBe(0);
        server = await spawnSpool(dir, ARGS);
        await expectExactly(server, sent);
      } finally {
        await server.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        rmSync(filler, { force: true });
        rmSync(small, { force: true });
      }
    },
    60000,
  );
});
