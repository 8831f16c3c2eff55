import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { decodeEntry } from '../../src/storage/recordCodec';
import { collect, tempDir } from './helpers';
import { childEnv } from './buildDist';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { valueFor } = require('./crashData.js') as { valueFor: (i: number) => Buffer };

let cleanup: () => void = () => undefined;
afterEach(() => cleanup());

/** Runs the child, SIGKILLs it `killAfterMs` after it is ready, returns the highest acknowledged count. */
function runAndKill(dir: string, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, 'crashChild.js'), dir], { env: childEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let buf = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line === 'READY') setTimeout(() => child.kill('SIGKILL'), killAfterMs);
        else if (line.startsWith('ACK ')) acked = Math.max(acked, Number(line.slice(4)));
      }
    });
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('exit', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${err}`));
      else resolve(acked);
    });
    setTimeout(() => child.kill('SIGKILL'), 15000);
  });
}

describe('crash safety (appendfsync always, SIGKILL at a random moment)', () => {
  it('every acknowledged record survives byte for byte, and the log recovers to a valid prefix', async () => {
    childEnv(); // build once before timing anything
    const deadline = Date.now() + 20000;
    for (let round = 0; round < 4 && Date.now() < deadline; round++) {
      const t = tempDir(`crash${round}`);
      cleanup = t.cleanup;
      const acked = await runAndKill(t.dir, 150 + Math.floor(Math.random() * 600));
      const streamDir = path.join(t.dir, readdirSync(t.dir)[0]);
      const { records } = await collect(streamDir);
      expect(acked).toBeGreaterThan(0);
      expect(records.length).toBeGreaterThanOrEqual(acked);
      records.forEach((r, k) => {
        const e = decodeEntry(r.payload);
        expect(e.ms).toBe(BigInt(k));
        expect(e.seq).toBe(7n);
        expect(e.items[1].equals(valueFor(k))).toBe(true);
      });
      cleanup();
    }
  }, 60000);
});
