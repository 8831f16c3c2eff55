// redis-sentinel (Debian's 7.0) monitoring Spool: two sentinels find each other through Spool's Pub/Sub (each
// PUBLISHes hello messages on __sentinel__:hello and SUBSCRIBEs to it on the master), and see the master up.
// Only 127.0.0.1; every wait is bounded.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort, waitForPort } from '../helpers/ports';
import { RespConnection, nodeText, type RespNode } from '../helpers/resp';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let spool: SpoolHandle;
let dir: string;
const sentinels: { port: number; proc: ChildProcess }[] = [];

async function startSentinel(masterPort: number): Promise<{ port: number; proc: ChildProcess }> {
  const port = await freePort();
  const file = path.join(dir, `sentinel-${port}.conf`);
  // Sentinel rewrites its own config file: it must be a writable file of its own.
  await writeFile(file, `port ${port}\nbind 127.0.0.1\ndir ${dir}\nsentinel monitor mymaster 127.0.0.1 ${masterPort} 1\nsentinel down-after-milliseconds mymaster 5000\n`);
  const proc = spawn('redis-sentinel', [file], { stdio: 'ignore' });
  await waitForPort(port);
  return { port, proc };
}

/** A flat RESP2 array of name/value pairs as a record. */
function fields(node: RespNode): Record<string, string> {
  const out: Record<string, string> = {};
  const items = node.children ?? [];
  for (let i = 0; i + 1 < items.length; i += 2) out[nodeText(items[i]) ?? ''] = nodeText(items[i + 1]) ?? '';
  return out;
}

beforeAll(async () => {
  spool = await startSpool();
  dir = await mkdtemp(path.join(os.tmpdir(), 'spool-sentinel-'));
  sentinels.push(await startSentinel(spool.port), await startSentinel(spool.port));
});

afterAll(async () => {
  for (const s of sentinels) s.proc.kill('SIGKILL');
  await spool?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('redis-sentinel', () => {
  test('two sentinels discover each other over Spool\'s Pub/Sub and see the master up', async () => {
    const first = await RespConnection.connect(sentinels[0].port);
    const master = await RespConnection.connect(spool.port);
    try {
      // Hello messages go out every 2 s: wait at most 20 s for the first sentinel to list the second.
      let others: RespNode | undefined;
      const deadline = Date.now() + 20000;
      while (Date.now() < deadline) {
        others = await first.call(['SENTINEL', 'SENTINELS', 'mymaster']);
        if ((others.children?.length ?? 0) > 0) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(others?.children?.length).toBe(1);
      expect(Number(fields(others!.children![0]).port)).toBe(sentinels[1].port);
      const state = fields(await first.call(['SENTINEL', 'MASTER', 'mymaster']));
      expect(state.flags).toBe('master');
      // Both sentinels hold a subscription to the hello channel on Spool.
      const numsub = await master.call(['PUBSUB', 'NUMSUB', '__sentinel__:hello']);
      expect(nodeText(numsub.children![1]!)).toBe('2');
    } finally {
      first.close();
      master.close();
    }
  }, 40000);
});
