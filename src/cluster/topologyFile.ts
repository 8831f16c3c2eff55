// Where a node's topology lives on disk: read once at start-up, written again after every change a CLUSTER
// command makes (the whole file to a temporary name, synced, renamed over the old one, the directory synced).
// Writes are asynchronous and coalesced: changes made while one write runs are saved by one write after it.

import { promises as fsp } from 'node:fs';
import path from 'node:path';

export class TopologyFile {
  private running: Promise<void> | null = null;
  private pending = false;
  /** The last write's error, if it failed (CLUSTER SAVECONFIG reports it). */
  lastError: Error | null = null;

  constructor(
    readonly path: string,
    /** The file's content now (read when a write starts, so it carries every change made until then). */
    private readonly content: () => string,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Reads the file; null when it does not exist yet. */
  static async read(path: string): Promise<string | null> {
    try {
      return await fsp.readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }

  /** Schedules a write of the current topology. */
  save(): void {
    if (this.running !== null) {
      this.pending = true;
      return;
    }
    this.running = this.writeLoop();
  }

  /** Resolves once every scheduled write is done (SAVECONFIG, shutdown). */
  async settled(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  private async writeLoop(): Promise<void> {
    try {
      do {
        this.pending = false;
        await this.writeOnce();
      } while (this.pending);
    } finally {
      this.running = null;
    }
  }

  private async writeOnce(): Promise<void> {
    const temp = `${this.path}.tmp-${process.pid}`;
    try {
      const handle = await fsp.open(temp, 'w');
      try {
        await handle.writeFile(this.content(), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await fsp.rename(temp, this.path);
      // The rename itself is durable once the directory is synced.
      const dir = await fsp.open(path.dirname(this.path), 'r');
      try {
        await dir.sync();
      } finally {
        await dir.close();
      }
      this.lastError = null;
    } catch (err) {
      this.lastError = err as Error;
      this.onError(err as Error);
    }
  }
}
