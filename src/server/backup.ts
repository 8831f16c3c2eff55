// Online backup (BACKUP <directory>): a consistent copy of the data directory, made while the server runs and
// restorable by starting a server on it (`spool-server --dir <directory>`).
//
// The cut is taken in one turn of the event loop (Persistence.cutForBackup): each stream's log end and segment
// files at that moment, after a checkpoint like the one a clean shutdown writes. Nothing after a stream's end is
// copied, so every stream in the copy is exactly its state at the cut, and the streams are cut together (a
// MULTI/EXEC is in or out whole). Sealed segments never change again: they are hard-linked (copied when the
// target is on another file system). The active segment is still being appended to, so its bytes up to the end
// are copied. Directories are named with each stream's database as it is now, so a copy made after SWAPDB needs
// no DATABASES file. Everything is synced (files, directories) before BACKUP answers; all of it runs on the
// thread pool, so other clients are not stalled.

import { constants, promises as fsp } from 'node:fs';
import path from 'node:path';
import { CommandError, Err } from '../errors';
import { KEY_FILE, needsKeyFile, streamDirName, syncDir, writeFileAtomic, type StreamLog } from '../storage';
import { describeFsError } from './startup';

/** One stream at the cut. */
export interface StreamCut {
  /** The database the stream is in now (its directory in the copy is named with it). */
  db: number;
  key: Buffer;
  log: StreamLog;
  /** The log's end at the cut: bytes past it are not copied. */
  end: number;
}

export interface BackupSummary {
  streams: number;
  linked: number;
  copied: number;
}

/** Errors of link(2) that mean "copy instead": another file system, or links not supported or allowed. */
const COPY_INSTEAD = new Set(['EXDEV', 'EPERM', 'EMLINK', 'ENOTSUP', 'EOPNOTSUPP']);

/** Checks and makes the target: it must not be inside the data directory, and must be empty or new. */
export async function prepareTarget(target: string, dataDir: string): Promise<void> {
  const inside = path.relative(path.resolve(dataDir), target);
  if (inside === '' || (!inside.startsWith('..') && !path.isAbsolute(inside))) throw new CommandError(Err.backupInsideData(target));
  try {
    await fsp.mkdir(target, { recursive: true });
    const names = await fsp.readdir(target);
    if (names.length > 0) throw new CommandError(Err.backupNotEmpty(target));
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(Err.backupFailed(describeFsError(err)));
  }
}

/** Copies the streams of the cut into `target` (prepared), synced; returns what it did. */
export async function copyCut(cuts: readonly StreamCut[], target: string): Promise<BackupSummary> {
  const summary: BackupSummary = { streams: 0, linked: 0, copied: 0 };
  try {
    for (const cut of cuts) {
      // Read now, once the cut's records have landed: segments made since then start at or after the end.
      const files = cut.log.segmentFiles().filter((f) => f.base < cut.end);
      if (files.length === 0) continue; // nothing on disk yet
      const dir = path.join(target, streamDirName(cut.db, cut.key));
      await fsp.mkdir(dir);
      if (needsKeyFile(cut.key)) await writeFileAtomic(path.join(dir, KEY_FILE), cut.key);
      for (let i = 0; i < files.length; i++) {
        const dest = path.join(dir, path.basename(files[i].path));
        if (i < files.length - 1) {
          // sealed before the cut; one deleted since was behind a checkpoint that precedes the cut: not needed
          if (await linkOrCopy(files[i].path, dest)) summary.linked++;
          else summary.copied++;
        } else {
          await copyPrefix(files[i].path, dest, cut.end - files[i].base);
          summary.copied++;
        }
      }
      await syncDir(dir);
      summary.streams++;
    }
    await syncDir(target);
  } catch (err) {
    throw new CommandError(Err.backupFailed(describeFsError(err)));
  }
  return summary;
}

/** Hard-links `src` as `dest` (true), or copies it when links cannot be made (false); then syncs it. */
async function linkOrCopy(src: string, dest: string): Promise<boolean | null> {
  let linked = true;
  try {
    await fsp.link(src, dest);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'ENOENT') return null;
    if (!COPY_INSTEAD.has(code)) throw err;
    await fsp.copyFile(src, dest, constants.COPYFILE_EXCL);
    linked = false;
  }
  // Pages written through the mapping may not be on disk yet (everysec, no): the copy is durable once answered.
  const fh = await fsp.open(dest, 'r');
  try {
    await fh.datasync();
  } finally {
    await fh.close();
  }
  return linked;
}

/** Copies the first `length` bytes of `src` into a new file `dest`, synced. */
async function copyPrefix(src: string, dest: string, length: number): Promise<void> {
  const from = await fsp.open(src, 'r');
  try {
    const to = await fsp.open(dest, 'wx');
    try {
      const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(length, 1)));
      for (let pos = 0; pos < length; ) {
        const { bytesRead } = await from.read(buf, 0, Math.min(buf.length, length - pos), pos);
        if (bytesRead === 0) break;
        await to.write(buf, 0, bytesRead, pos);
        pos += bytesRead;
      }
      await to.datasync();
    } finally {
      await to.close();
    }
  } finally {
    await from.close();
  }
}
