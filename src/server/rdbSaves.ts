// SAVE and BGSAVE: an RDB of every stream written to `dir`/`dbfilename` through a temporary file that is synced
// and renamed into place (readers never see a half-written dump.rdb), as Redis's rdbSave does. Spool does not
// fork: both write from the event loop in chunks (rdb/rdbWrite.ts yields between streams), so clients keep being
// served. SAVE replies once the file is in place, BGSAVE at once. One save runs at a time; the state here
// (last save time and status, durations) is what LASTSAVE and INFO persistence report.

import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { writeRdb } from '../rdb/rdbWrite';
import type { ServerState } from './serverState';

export type SaveKind = 'save' | 'bgsave';

export class RdbSaves {
  /** Unix time (s) of the last successful save; the start time until one succeeds, as Redis's lastsave. */
  lastSave: number;
  lastStatus: 'ok' | 'err' = 'ok';
  /** Seconds the last background save took (-1: none yet). */
  lastBgsaveSeconds = -1;
  /** rdb_saves: saves started (SAVE and BGSAVE). */
  saves = 0;
  /** BGSAVE SCHEDULE (or BGSAVE inside MULTI): one more save once the current one is done. */
  scheduled = false;
  private current: Promise<void> | null = null;
  private currentKind: SaveKind | null = null;
  private currentStarted = 0;
  private tempCounter = 0;

  constructor(
    private readonly server: ServerState,
    private readonly log: (message: string) => void = () => undefined,
  ) {
    this.lastSave = Math.floor(server.startedAt / 1000);
  }

  get inProgress(): SaveKind | null {
    return this.currentKind;
  }

  /** Seconds the running save has taken so far (-1: none running). */
  get currentSeconds(): number {
    return this.current === null ? -1 : Math.floor((Date.now() - this.currentStarted) / 1000);
  }

  /** Where the dump goes: dbfilename in dir. */
  get filePath(): string {
    const config = this.server.config;
    return path.resolve(config.get('dir'), config.get('dbfilename'));
  }

  /** Starts a save; resolves once the file is in place, rejects when it could not be written. */
  start(kind: SaveKind): Promise<void> {
    this.saves++;
    this.currentKind = kind;
    this.currentStarted = Date.now();
    const run = this.write().then(
      () => {
        this.lastSave = Math.floor(Date.now() / 1000);
        this.lastStatus = 'ok';
        this.log(kind === 'save' ? 'DB saved on disk' : 'Background saving terminated with success');
      },
      (err: Error) => {
        this.lastStatus = 'err';
        this.log(`Failed saving the DB: ${err.message}`);
        throw err;
      },
    );
    const done = run.finally(() => {
      if (kind === 'bgsave') this.lastBgsaveSeconds = Math.floor((Date.now() - this.currentStarted) / 1000);
      this.current = null;
      this.currentKind = null;
      if (this.scheduled) {
        this.scheduled = false;
        this.start('bgsave').catch(() => undefined);
      }
    });
    this.current = done;
    done.catch(() => undefined);
    return done;
  }

  private async write(): Promise<void> {
    const target = this.filePath;
    const temp = path.join(path.dirname(target), `temp-${process.pid}-${++this.tempCounter}.rdb`);
    const file = await fsp.open(temp, 'w');
    try {
      await writeRdbTo(file, this.server);
      await file.sync();
    } catch (err) {
      await file.close().catch(() => undefined);
      await fsp.rm(temp, { force: true });
      throw err;
    }
    await file.close();
    await fsp.rename(temp, target);
  }

  /** Waits for the save in progress, if any (server shutdown). */
  async settled(): Promise<void> {
    while (this.current) await this.current.catch(() => undefined);
  }
}

/**
 * Writes an RDB of every stream of `server` into an open file (segments the LRU closed are mapped again before
 * their stream is read). Returns the bytes written.
 */
export async function writeRdbTo(file: FileHandle, server: ServerState): Promise<number> {
  const { bytes } = await writeRdb(
    async (chunk) => {
      await file.write(chunk);
    },
    server.databases,
    { beforeStream: (db, key) => server.persistence?.whenMapped(db, [Buffer.from(key, 'latin1')]) ?? null },
  );
  return bytes;
}

const saves = new WeakMap<ServerState, RdbSaves>();

/** The server's save state, made on first use (a server that never saves carries none). */
export function rdbSavesOf(server: ServerState, log?: (message: string) => void): RdbSaves {
  let s = saves.get(server);
  if (s === undefined) saves.set(server, (s = new RdbSaves(server, log)));
  return s;
}
