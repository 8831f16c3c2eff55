// Parallel socket writes for fan-outs (Redis's io-threads, for writes). When one step of the event loop produces
// replies for many connections at once (a thousand readers woken by one XADD, or every pipelining client released
// by one fsync under `always`), the cost is the write(2) calls, not the JavaScript: a loopback TCP write runs the
// receiver's TCP input and its wake-up inside the sender's system call (about 12 µs each on these machines).
// Writer threads take a share of those writes, straight on the sockets' descriptors.
//
// Why this is safe:
// - A batch runs synchronously on the main thread from start to end: the main thread claims items like the
//   writers do and then waits for the writers' last claimed writes. Sockets close only on the main thread and
//   the event loop does not turn during a batch, so no descriptor in it is closed or reused while a writer uses it.
// - Only a socket with nothing queued in Node (writableLength 0) is written directly, and a connection's later
//   writes in the same batch join its item, so bytes keep their order. What a direct write did not take (the
//   socket buffer is full, or an error such as EPIPE) goes through socket.write afterwards as usual: Node then
//   queues it, reports 'drain', or raises the error and closes the connection.
// - Items are claimed with one compare-and-swap on a word holding (count << 16 | next index), so a claim can only
//   succeed for the batch it read: a slow writer can never take an index of the next batch against its old count.

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';

/** A connection as the batch sees it. */
export interface DirectTarget {
  /**
   * The socket's descriptor when it may be written directly now (plain TCP, open, nothing queued in Node, not
   * closing), else -1.
   */
  directFd(): number;
  /** Writes bytes through the socket as usual (a direct write's rest, or an item not written directly). */
  writeRest(bytes: Buffer): void;
}

/** Fewer items than this in a batch are written by the main thread alone: waking a writer costs more. */
const MIN_PARALLEL = 8;
/** Items per parallel round: the index and the count share one 32-bit word (16 bits each, sign bit unused). */
const MAX_ITEMS = 0x7fff;
/** How long the main thread waits for a writer's claimed write before it gives the writer threads up. */
const WRITER_STALL_MS = 2000;
/** Bytes of reply data one parallel round can carry; items beyond it are written by the main thread. */
const ARENA_BYTES = 4 * 1024 * 1024;

// Control words (Int32Array indices).
const GENERATION = 0; // bumped to wake the writers
const WORK = 1; // count << 16 | next unclaimed index
const INFLIGHT = 2; // writers between waking and finishing their claims
const STOP = 3;
const CONTROL_WORDS = 4;

// The table: per item its descriptor, arena offset, length, then the result (bytes written, or -1: error).
const FD = 0;
const OFFSET = 1;
const LENGTH = 2;
const RESULT = 3;
const ITEM_WORDS = 4;

type Layout = Record<'GENERATION' | 'WORK' | 'INFLIGHT' | 'STOP' | 'FD' | 'OFFSET' | 'LENGTH' | 'RESULT' | 'ITEM_WORDS', number>;
const LAYOUT: Layout = { GENERATION, WORK, INFLIGHT, STOP, FD, OFFSET, LENGTH, RESULT, ITEM_WORDS };

/**
 * Claims items of the current round one by one and writes each; returns how many this thread wrote. Run by the
 * main thread and by every writer thread, so it uses nothing from its module but its arguments (see writerMain).
 */
function claimAndWrite(control: Int32Array, table: Int32Array, arena: Buffer, layout: Layout, nodeFs: typeof fs): number {
  let count = 0;
  for (;;) {
    const word = Atomics.load(control, layout.WORK);
    const next = word & 0xffff;
    if (next >= word >>> 16) return count;
    if (Atomics.compareExchange(control, layout.WORK, word, word + 1) !== word) continue;
    const at = next * layout.ITEM_WORDS;
    let written: number;
    try {
      written = nodeFs.writeSync(table[at + layout.FD], arena, table[at + layout.OFFSET], table[at + layout.LENGTH]);
    } catch (err) {
      written = (err as NodeJS.ErrnoException).code === 'EAGAIN' ? 0 : -1;
    }
    Atomics.store(table, at + layout.RESULT, written);
    count++;
  }
}

/**
 * A writer thread's body. It runs in a worker from its source text, together with claimAndWrite's (no module
 * file to locate, whether Spool runs from dist/ or from the TypeScript sources under the tests).
 */
function writerMain(): void {
  const { workerData } = require('node:worker_threads') as typeof import('node:worker_threads');
  const layout = workerData.layout as Layout;
  const control = new Int32Array(workerData.control as SharedArrayBuffer);
  const table = new Int32Array(workerData.table as SharedArrayBuffer);
  const arena = Buffer.from(workerData.arena as SharedArrayBuffer);
  const nodeFs = require('node:fs') as typeof fs;
  let seen = 0;
  for (;;) {
    Atomics.wait(control, layout.GENERATION, seen);
    seen = Atomics.load(control, layout.GENERATION);
    if (Atomics.load(control, layout.STOP) !== 0) return;
    Atomics.add(control, layout.INFLIGHT, 1);
    try {
      claimAndWrite(control, table, arena, layout, nodeFs);
    } finally {
      if (Atomics.sub(control, layout.INFLIGHT, 1) === 1) Atomics.notify(control, layout.INFLIGHT);
    }
  }
}

interface Item {
  target: DirectTarget;
  chunks: Buffer[];
}

/** The memory the main thread and the writers share. */
interface Shared {
  control: Int32Array;
  table: Int32Array;
  arena: Buffer;
}

export class IoThreads {
  /** Allocated only when there are writer threads (about 4.5 MiB). */
  private readonly shared: Shared | null = null;
  private readonly workers: Worker[] = [];
  private depth = 0;
  private readonly items = new Map<DirectTarget, Item>();
  /** Replies written by writer threads (INFO io_threaded_writes_processed). */
  threadedWrites = 0;

  /** `writers`: threads besides the main one (Redis's io-threads minus one); 0 writes everything on the main thread. */
  constructor(
    writers: number,
    private readonly warn: (message: string) => void = () => undefined,
  ) {
    if (writers <= 0) return;
    const shared = (this.shared = {
      control: new Int32Array(new SharedArrayBuffer(CONTROL_WORDS * 4)),
      table: new Int32Array(new SharedArrayBuffer(MAX_ITEMS * ITEM_WORDS * 4)),
      arena: Buffer.from(new SharedArrayBuffer(ARENA_BYTES)),
    });
    const workerData = { control: shared.control.buffer, table: shared.table.buffer, arena: shared.arena.buffer, layout: LAYOUT };
    for (let i = 0; i < writers; i++) {
      let worker: Worker;
      try {
        worker = new Worker(`${claimAndWrite.toString()}\n(${writerMain.toString()})()`, { eval: true, workerData });
      } catch (err) {
        // Threads are a speed-up, not a requirement: the main thread writes whatever no writer takes.
        warn(`io-threads: cannot start a writer thread (${(err as Error).message}); continuing with ${this.workers.length}`);
        break;
      }
      // A writer never keeps the process alive; one that fails leaves its share to the main thread, which
      // claims items too.
      worker.unref();
      worker.on('error', (err) => {
        warn(`io-threads: a writer thread failed: ${err.message}`);
        const at = this.workers.indexOf(worker);
        if (at >= 0) this.workers.splice(at, 1);
      });
      this.workers.push(worker);
    }
  }

  /** Writer threads running (INFO io_threads_active). */
  get active(): number {
    return this.workers.length;
  }

  /** Runs `fn` with a batch open: writes offered meanwhile are made together when the outermost batch ends. */
  batch(fn: () => void): void {
    this.depth++;
    try {
      fn();
    } finally {
      if (--this.depth === 0 && this.items.size > 0) this.run();
    }
  }

  /**
   * Queues `bytes` for `target` in the open batch. False when the caller must write them itself: no batch is open,
   * there are no writer threads, or the socket cannot be written directly and has nothing queued here.
   */
  offer(target: DirectTarget, bytes: Buffer): boolean {
    if (this.depth === 0 || this.workers.length === 0) return false;
    const item = this.items.get(target);
    if (item !== undefined) {
      item.chunks.push(bytes);
      return true;
    }
    if (target.directFd() < 0) return false;
    this.items.set(target, { target, chunks: [bytes] });
    return true;
  }

  /** Takes back what `target` has queued, for a caller that must write it before doing something else (end). */
  take(target: DirectTarget): Buffer | null {
    const item = this.items.get(target);
    if (item === undefined) return null;
    this.items.delete(target);
    return join(item.chunks);
  }

  private run(): void {
    const items = [...this.items.values()];
    this.items.clear();
    for (let from = 0; from < items.length; from += MAX_ITEMS) this.round(items.slice(from, from + MAX_ITEMS));
  }

  private round(items: Item[]): void {
    const { control, table, arena } = this.shared!;
    const direct: { target: DirectTarget; bytes: Buffer }[] = [];
    const offsets = new Map<Buffer, number>();
    let used = 0;
    for (const { target, chunks } of items) {
      const bytes = join(chunks);
      const fd = target.directFd();
      // Shared replies (one encoded reply for every reader woken alike) are copied into the arena once.
      let offset = offsets.get(bytes);
      if (offset === undefined && fd >= 0 && used + bytes.length <= ARENA_BYTES && items.length >= MIN_PARALLEL) {
        offset = used;
        bytes.copy(arena, offset);
        used += bytes.length;
        offsets.set(bytes, offset);
      }
      if (fd < 0 || offset === undefined) {
        target.writeRest(bytes);
        continue;
      }
      const at = direct.length * ITEM_WORDS;
      table[at + FD] = fd;
      table[at + OFFSET] = offset;
      table[at + LENGTH] = bytes.length;
      table[at + RESULT] = 0;
      direct.push({ target, bytes });
    }
    if (direct.length === 0) return;
    Atomics.store(control, WORK, direct.length << 16);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
    const mine = claimAndWrite(control, table, arena, LAYOUT, fs);
    // Claimed writes finish quickly (non-blocking sockets), and a writer's finally block ends its claims even when
    // it throws. Only a thread killed outright (out of memory) could hold one for good: past WRITER_STALL_MS the
    // pool is given up, rather than the server hanging, and the main thread writes everything from then on.
    const stallDeadline = Date.now() + WRITER_STALL_MS;
    for (let busy = Atomics.load(control, INFLIGHT); busy !== 0; busy = Atomics.load(control, INFLIGHT)) {
      if (Date.now() > stallDeadline) {
        this.warn(`io-threads: a writer thread stopped answering; writing on the main thread from now on`);
        for (const worker of this.workers) void worker.terminate();
        this.workers.length = 0;
        break;
      }
      Atomics.wait(control, INFLIGHT, busy, 100);
    }
    this.threadedWrites += direct.length - mine;
    for (let i = 0; i < direct.length; i++) {
      const written = Atomics.load(table, i * ITEM_WORDS + RESULT);
      const { target, bytes } = direct[i];
      // An error is left to the socket: writing the rest through it raises the error the usual way.
      if (written < bytes.length) target.writeRest(written > 0 ? bytes.subarray(written) : bytes);
    }
  }

  /** Stops the writer threads. */
  close(): void {
    this.workers.length = 0;
    if (this.shared === null) return;
    const { control } = this.shared;
    Atomics.store(control, STOP, 1);
    Atomics.add(control, GENERATION, 1);
    Atomics.notify(control, GENERATION);
  }
}

function join(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}
