// `mkdir -p` one level at a time. Node's own `{ recursive: true }` never returns when a parent exists but refuses
// children with ENOENT (anything under /proc, a dangling symlink): it retries the parent forever at 100% CPU
// (synchronously on the main thread, or asynchronously on a libuv thread with a promise that never settles).
// Here each missing level is created once, so that error is final and reported.

import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { io } from '../storage/ioObserver';

/** Start-up checks (before anything listens): synchronous. */
export function makeDirectoryTreeSync(dir: string): void {
  const missing: string[] = [];
  for (let d = dir; !fs.existsSync(d) && path.dirname(d) !== d; d = path.dirname(d)) missing.push(d);
  for (const d of missing.reverse()) fs.mkdirSync(d);
}

/** From a running process: the same, without blocking the event loop on the file system. */
export async function makeDirectoryTree(dir: string): Promise<void> {
  const exists = (d: string) => fsp.stat(d).then(() => true, () => false);
  const missing: string[] = [];
  for (let d = dir; !(await exists(d)) && path.dirname(d) !== d; d = path.dirname(d)) missing.push(d);
  for (const d of missing.reverse()) {
    // Another process may have made it meanwhile; anything else (ENOENT under /proc, ENOTDIR...) is final.
    await fsp.mkdir(d).catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EEXIST' || !(await fsp.stat(d)).isDirectory()) throw err;
    });
    io.observer?.made(d);
  }
}
