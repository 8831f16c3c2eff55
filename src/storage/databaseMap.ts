// Which number a database's stream directories carry (SWAPDB).
//
// A stream directory is named `<n>-<hex key>` (fileNames.ts). Without SWAPDB, n is the stream's database. SWAPDB
// exchanges the contents of two databases; moving every directory of both would be O(streams), collide on keys
// present in both, and leave a half-swapped keyspace after a crash in the middle. Instead the directories stay
// where they are and this map says which database each number belongs to: SWAPDB swaps two of its entries and
// rewrites the DATABASES file atomically (writeFileAtomic: temp file, fdatasync, rename, directory fsync), so a
// restart sees either the old or the new assignment, never a mix. No file: every number is its own database.

import path from 'node:path';
import { promises as fsp } from 'node:fs';
import { DB_MAP_FILE, writeFileAtomic } from './fileNames';

interface Stored {
  version: 1;
  /** dirs[database] = the number its directories are named with; a permutation of 0..length-1. */
  dirs: number[];
}

export class DatabaseMap {
  /** Pending rewrite of the file (rewrites run one after another, each with the assignment of its time). */
  private writing: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    /** Database → directory number; covers at least every configured database. */
    private readonly dirs: number[],
  ) {}

  /** Every database its own number (before recovery has read the file). */
  static identity(dataDir: string, databases: number): DatabaseMap {
    return new DatabaseMap(path.join(dataDir, DB_MAP_FILE), Array.from({ length: databases }, (_, i) => i));
  }

  /** Reads the data directory's map (identity when there is none); throws when the file is not a valid map. */
  static async load(dataDir: string, databases: number): Promise<DatabaseMap> {
    const file = path.join(dataDir, DB_MAP_FILE);
    let dirs: number[] = [];
    try {
      dirs = parseMap(await fsp.readFile(file, 'utf8'), file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // Databases beyond the stored map (the databases setting grew) are their own numbers.
    for (let i = dirs.length; i < databases; i++) dirs.push(i);
    return new DatabaseMap(file, dirs);
  }

  /** The number the directories of database `db` are named with. */
  dirNumberOf(db: number): number {
    return this.dirs[db] ?? db;
  }

  /** The database whose directories carry number `n`. */
  databaseOf(n: number): number {
    const db = this.dirs.indexOf(n);
    return db < 0 ? n : db;
  }

  /** SWAPDB a b: the two databases exchange their directories. Resolves once the new map is durable. */
  swap(a: number, b: number): Promise<void> {
    const dirs = this.dirs;
    [dirs[a], dirs[b]] = [dirs[b], dirs[a]];
    const bytes = Buffer.from(JSON.stringify({ version: 1, dirs } satisfies Stored) + '\n');
    const write = this.writing.catch(() => undefined).then(() => writeFileAtomic(this.file, bytes));
    this.writing = write;
    return write;
  }

  /** Settles once every rewrite started so far is done (shutdown). */
  settled(): Promise<void> {
    return this.writing.catch(() => undefined);
  }
}

function parseMap(text: string, file: string): number[] {
  let stored: Partial<Stored>;
  try {
    stored = JSON.parse(text) as Partial<Stored>;
  } catch {
    throw new Error(`${file}: not a database map (unparsable); remove it only if no SWAPDB was ever run`);
  }
  const dirs = stored.dirs;
  const valid =
    stored.version === 1 &&
    Array.isArray(dirs) &&
    dirs.every((n) => Number.isInteger(n) && n >= 0 && n < dirs.length) &&
    new Set(dirs).size === dirs.length;
  // A wrong guess would put streams in the wrong databases: refuse to start rather than guess.
  if (!valid) throw new Error(`${file}: not a valid database map`);
  return dirs;
}
