// The storage layer's recording seam: every change it makes to files (writes, through fs or through a segment's
// mapping; syncs; creations, renames, unlinks, truncations, directories made or removed) can be reported to one
// observer. The crash simulator (test/crash/) records them to rebuild, for any point of a run, the files a power
// loss could leave. No observer is installed in a server: the write path pays one null check per append.
//
// Files are named by the descriptor the change went through (a renamed directory does not change what an open
// descriptor writes to), paths only where the call takes a path. Reports are made once the change is in the page
// cache (after the call returned), except syncs, which report their start (they cover what was written before it)
// and, through the function returned, their success. The fs calls below are the storage layer's, reported.

import * as fs from 'node:fs';
import { promisify } from 'node:util';

export interface IoObserver {
  /** `file` was opened as `fd` with open(2) `flags` ('r', 'r+', 'w', 'w+', 'wx+': 'w' creates and truncates). */
  opened(fd: number, file: string, flags: string): void;
  closed(fd: number): void;
  /** src[from, to) was written at `position` of `fd` (a positioned write, or a copy into its mapping). */
  wrote(fd: number, position: number, src: Uint8Array, from: number, to: number): void;
  /** An fdatasync/fsync of `fd` (a file's data, or a directory's entries) starts; call the result once it succeeded. */
  syncing(fd: number): () => void;
  /** `fd` (or, with a path, the file) was cut or extended to `length`. */
  truncated(file: number | string, length: number): void;
  made(dir: string): void;
  renamed(from: string, to: string): void;
  unlinked(file: string): void;
  /** `target` (a file or a whole directory tree) was removed (rm -rf). */
  removed(target: string): void;
}

/** The observer, if any (tests install one; `io.observer = null` removes it). */
export const io: { observer: IoObserver | null } = { observer: null };

/** Runs the sync `run` of `fd`, reporting its start and its success to the observer. */
export async function observedSync(fd: number, run: () => Promise<void>): Promise<void> {
  const o = io.observer;
  if (o === null) return run();
  const done = o.syncing(fd);
  await run();
  done();
}

const fsOpen = promisify(fs.open);
const fsClose = promisify(fs.close);
const fdatasync = promisify(fs.fdatasync);
const fsUnlink = promisify(fs.unlink);
const fsRename = promisify(fs.rename);
function fsWrite(fd: number, b: Buffer, o: number, l: number, p: number): Promise<number> {
  return new Promise((resolve, reject) => fs.write(fd, b, o, l, p, (err, n) => (err ? reject(err) : resolve(n))));
}

/** fdatasync of `fd` on the thread pool. */
export function fsFdatasync(fd: number): Promise<void> {
  return observedSync(fd, () => fdatasync(fd));
}

/** Opens `file` with `flags`; resolves to the descriptor. */
export async function openFile(file: string, flags: string): Promise<number> {
  const fd = await fsOpen(file, flags);
  io.observer?.opened(fd, file, flags);
  return fd;
}

export function closeFile(fd: number): Promise<void> {
  io.observer?.closed(fd);
  return fsClose(fd);
}

export async function unlinkFile(file: string): Promise<void> {
  await fsUnlink(file);
  io.observer?.unlinked(file);
}

export async function renameFile(from: string, to: string): Promise<void> {
  await fsRename(from, to);
  io.observer?.renamed(from, to);
}

/** Positioned write of b[o, o+l) at p. Resolves to the bytes written. */
export async function writeAt(fd: number, b: Buffer, o: number, l: number, p: number): Promise<number> {
  const n = await fsWrite(fd, b, o, l, p);
  io.observer?.wrote(fd, p, b, o, o + n);
  return n;
}
