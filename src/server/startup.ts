// Start-up checks and messages for main.ts: a data directory that cannot be used, or a port already taken,
// stop the process with one clear line (and exit code 1) rather than a stack trace.

import fs from 'node:fs';
import path from 'node:path';
import { makeDirectoryTreeSync } from './makeDirectory';

/**
 * Makes sure `dir` exists (created if needed) and accepts a file: creates, writes, syncs and removes a probe
 * (a full file system passes: it is usable, only full).
 * Synchronous: runs once before anything listens. Returns an error message, or null when the directory is usable.
 */
export function checkDataDir(dir: string): string | null {
  const resolved = path.resolve(dir);
  const probe = path.join(resolved, `.spool-write-probe-${process.pid}`);
  try {
    makeDirectoryTreeSync(resolved);
    if (!fs.statSync(resolved).isDirectory()) return `data directory '${resolved}' is not a directory`;
    const fd = fs.openSync(probe, 'w');
    try {
      fs.writeSync(fd, 'spool');
      fs.fdatasyncSync(fd);
    } finally {
      fs.closeSync(fd);
      fs.rmSync(probe, { force: true });
    }
    return null;
  } catch (err) {
    // A full disk is usable: the server starts, serves reads and refuses writes until space is freed (as Redis).
    if ((err as NodeJS.ErrnoException).code === 'ENOSPC' || (err as NodeJS.ErrnoException).code === 'EDQUOT') {
      fs.rmSync(probe, { force: true });
      return null;
    }
    return `data directory '${resolved}' is unusable: ${describeFsError(err)}`;
  }
}

/** `mkdir '/proc/x': No such file or directory (ENOENT)`: the call, its path, and the reason in strerror's words. */
export function describeFsError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (!e.code || !e.syscall) return e.message ?? String(err);
  // Node's message is "CODE: strerror text, syscall 'path'"; keep the text, capitalised as strerror prints it.
  const text = e.message.replace(/^[A-Z0-9_]+: /, '').replace(/, \w+( '.*')?$/, '');
  const reason = text.charAt(0).toUpperCase() + text.slice(1);
  return `${e.syscall}${e.path ? ` '${e.path}'` : ''}: ${reason} (${e.code})`;
}

/** One line telling why startServer failed. */
export function describeStartupError(err: unknown): string {
  const e = err as NodeJS.ErrnoException & { address?: string; port?: number };
  if (e.code === 'EADDRINUSE') {
    const where = e.port !== undefined ? `${e.address ?? ''}:${e.port}` : '';
    return `port already in use${where ? ` (${where})` : ''}: ${e.message}`;
  }
  if (e.code === 'EADDRNOTAVAIL') return `cannot bind the address (not an address of this machine?): ${e.message}`;
  if (e.code === 'EACCES' && e.syscall === 'listen') return `not allowed to listen on the port (below 1024?): ${e.message}`;
  return e.message ?? String(err);
}
