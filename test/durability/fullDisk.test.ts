// Full disk at server level: a 2 MiB tmpfs holds the data directory and a filler file; XADDs of large values
// fill it. Writes then fail with Redis's AOF error text (MISCONF ... No space left on device) and the server
// stays up (no crash, no SIGBUS: segment space is reserved before it is mapped); reads keep working; once the
// filler is deleted, writes resume by themselves; after a restart nothing acknowledged is lost.
// Needs mount(2) (root or CAP_SYS_ADMIN, as CI runs): fails with the reason when the mount is refused.
import { describe, expect, it } from 'vitest';
import { rmSync, writeFileSync, unlinkSync } from 'node:fs';
import path from 'node:path';
import { client, connected, ensureBuilt, sleep, spawnSpool } from './helpers';
import { useTmpfs } from '../storage/helpers';

const disk = useTmpfs('fulldisk', '2m', ensureBuilt);

const MISCONF = 'MISCONF Errors writing to the AOF file: No space left on device';

// depth 1: one XADD at a time. depth 8: pipelined, so that writes outrun the reservation: each waits on its
// connection for its stream's room, and gets MISCONF when that cannot be reserved (test/durability/lowDisk.test.ts
// checks that every reply comes). A write held anyway (`stalled` below: a new stream's first segment) is not
// acknowledged until space is freed. Both cases are checked strictly.
describe.each([
  ['always', 1],
  ['everysec', 1],
  ['everysec', 8],
] as const)('full disk (appendfsync %s, pipeline depth %i)', (policy, depth) => {
  it('MISCONF on writes, reads keep working, writes resume once space is freed, nothing acknowledged lost', async () => {
    // Required behaviour: without mount(2) (root or CAP_SYS_ADMIN, as in CI) this fails, never skips.
    expect(disk.mounted, `cannot mount a tmpfs at ${disk.mnt} (${disk.why}): run the tests as root`).toBe(true);
    const dir = path.join(disk.mnt, `data-${policy}-${depth}`);
    const filler = path.join(disk.mnt, `filler-${policy}-${depth}`);
    writeFileSync(filler, Buffer.alloc(600 * 1024, 1));
    const args = ['--appendfsync', policy, '--segment-initial-size', '64kb', '--segment-max-size', '256kb'];
    let server = await spawnSpool(dir, args);
    const acked: { key: string; id: string; v: Buffer }[] = [];
    try {
      const c = await connected(client(server.port));
      // Pipelined, so that some appends are staged (the reservation lags) when the disk fills up. Such appends
      // are already in the stream but not in the map: their replies wait until space is free (they are not
      // acknowledged, so nothing acknowledged can be lost); new writes get MISCONF at once.
      let error = '';
      let stalled: Promise<unknown> | null = null;
      for (let i = 0; i < 400 && !error && !stalled; i += depth) {
        const batch = Array.from({ length: depth }, (_, k) => {
          const key = (i + k) % 3 === 0 ? 'fd:b\0' : 'fd:a';
          const v = Buffer.alloc(16 * 1024, (i + k) & 255);
          v.write(`\r\n${i + k}\0`);
          return c.xadd(key, '*', 'v', v).then(
            (id) => void acked.push({ key, id: id as string, v }),
            (err: Error) => void (error ||= err.message),
          );
        });
        const all = Promise.all(batch);
        if (!(await Promise.race([all.then(() => true), sleep(3000).then(() => false)]))) stalled = all;
      }
      // another client: the server is up, new writes are refused with MISCONF promptly, reads of data work
      const other = await connected(client(server.port));
      expect(await other.ping()).toBe('PONG');
      const refused = await Promise.race([
        other.xadd('fd:a', '*', 'v', Buffer.alloc(16 * 1024)).then(() => 'accepted', (e: Error) => e.message),
        sleep(3000).then(() => 'no reply within 3 s'),
      ]);
      if (!error) error = refused;
      expect(error, 'the disk never filled up').toBe(MISCONF);
      expect(refused).toBe(MISCONF);
      expect(acked.length).toBeGreaterThan(5);
      const first = acked[0];
      const got = (await Promise.race([other.xrangeBuffer(first.key, first.id, first.id), sleep(3000).then(() => null)])) as [Buffer, Buffer[]][] | null;
      expect(got, 'XRANGE of acknowledged data got no reply while the disk is full').not.toBeNull();
      expect(got![0][1][1].equals(first.v)).toBe(true);
      expect(server.process.exitCode).toBeNull();
      other.disconnect();

      // free space: writes come back by themselves (reservation retry)
      unlinkSync(filler);
      let resumed = false;
      const deadline = Date.now() + 8000;
      while (!resumed && Date.now() < deadline) {
        try {
          const v = Buffer.from('after the disk was freed\r\n\0');
          acked.push({ key: 'fd:a', id: (await c.xadd('fd:a', '*', 'v', v)) as string, v });
          resumed = true;
        } catch (err) {
          expect((err as Error).message).toBe(MISCONF);
          await sleep(200);
        }
      }
      expect(resumed, 'writes did not resume after space was freed').toBe(true);
      if (stalled) {
        const done = await Promise.race([stalled.then(() => true), sleep(8000).then(() => false)]);
        expect(done, 'replies of writes staged when the disk filled up never came after space was freed').toBe(true);
      }
      c.disconnect();
      expect(await server.kill('SIGTERM'), server.output()).toBe(0);

      server = await spawnSpool(dir, args);
      const d = await connected(client(server.port));
      for (const a of acked) {
        const e = (await d.xrangeBuffer(a.key, a.id, a.id)) as unknown as [Buffer, Buffer[]][];
        expect(e.length, `${a.key} ${a.id} lost`).toBe(1);
        expect(e[0][1][1].equals(a.v)).toBe(true);
      }
      expect((await d.xlen('fd:a')) + (await d.xlen('fd:b\0'))).toBe(acked.length);
      d.disconnect();
    } finally {
      await server.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
      rmSync(filler, { force: true });
    }
  }, 30000);
});
