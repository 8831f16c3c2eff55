// One numbered database: a map from binary-safe key (bytes as a latin1 string) to its stream.
// Every modification goes through touch(), which WATCH (optimistic transactions) and blocked readers rely on.

import type { Stream } from '../streams/stream';

export type KeyListener = (db: Database, key: string) => void;

/** Optional observers of a database, for the storage layer. */
export interface DatabaseObserver {
  /** Every read or write access of a stream (readers may have to wait until its entries are durable). */
  accessed(stream: Stream): void;
  /** A stream moved to another key (RENAME). */
  renamed(db: Database, stream: Stream, to: string): void;
}

export class Database {
  /** Not readonly: SWAPDB exchanges it with another database's (swapWith). */
  private streams = new Map<string, Stream>();

  constructor(
    readonly index: number,
    /** Called on every modification of a key: marks WATCHers dirty. */
    private readonly onTouch: KeyListener,
    /** Called when a key may have data for blocked readers, or stopped existing (they then get an error). */
    private readonly onReady: KeyListener,
    private readonly observer: DatabaseObserver | null = null,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  get(key: string): Stream | undefined {
    const stream = this.streams.get(key);
    if (stream !== undefined && this.observer !== null) this.observer.accessed(stream);
    return stream;
  }

  /** Puts a recovered stream in place at start-up (no WATCH or blocked client can exist yet). */
  restore(key: string, stream: Stream): void {
    this.streams.set(key, stream);
  }

  has(key: string): boolean {
    return this.streams.has(key);
  }

  set(key: string, stream: Stream): void {
    this.streams.set(key, stream);
    this.touch(key);
  }

  delete(key: string): boolean {
    const stream = this.streams.get(key);
    if (stream === undefined) return false;
    this.streams.delete(key);
    stream.destroy();
    this.touch(key);
    this.signalReady(key);
    return true;
  }

  /** Moves a stream to another key (RENAME), replacing what was there. */
  rename(from: string, to: string): void {
    const stream = this.streams.get(from);
    if (stream === undefined) return;
    if (from === to) return;
    this.delete(to);
    this.streams.delete(from);
    this.streams.set(to, stream);
    stream.renamed(to);
    this.observer?.renamed(this, stream, to);
    this.touch(from);
    this.touch(to);
    this.signalReady(from);
    this.signalReady(to);
  }

  keys(): IterableIterator<string> {
    return this.streams.keys();
  }

  entries(): IterableIterator<[string, Stream]> {
    return this.streams.entries();
  }

  /**
   * SWAPDB: this database and `other` exchange their streams; each keeps its index, WATCHes and blocked clients
   * (Redis's dbSwapDatabases swaps the dicts only). Touching watchers and serving readers is the caller's job.
   */
  swapWith(other: Database): void {
    const mine = this.streams;
    this.streams = other.streams;
    other.streams = mine;
  }

  clear(): void {
    for (const key of [...this.streams.keys()]) this.delete(key);
  }

  touch(key: string): void {
    this.onTouch(this, key);
  }

  signalReady(key: string): void {
    this.onReady(this, key);
  }
}
