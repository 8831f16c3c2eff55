// The crash simulator's model of a file system after a power loss (ALICE-style: what the storage layer reports
// through its I/O observer, src/storage/ioObserver.ts, is recorded as a trace; any point of the trace can then be
// turned into the files a power loss at that point could leave).
//
// What the model keeps and drops at a crash:
//   - file data: what an fdatasync covered (the writes reported before it started, once it succeeded) is kept;
//     every later write is pending. The page cache writes a dirty 4 KiB page back whole, at any time, with its
//     content of that moment: so per page, the crash keeps a PREFIX of the pending writes that touched it (none,
//     some, all), chosen per page by a strategy (all dropped, all kept, alternate pages, seeded random,
//     per file). Pages of different files (segments, the journal) are independent: any reordering across files.
//   - names: creations, renames, unlinks and directories made in a directory are kept once an fsync of that
//     directory covered them; the pending ones are kept as a prefix, per directory (a journaled file system
//     applies them in order; a rename is atomic). A tree removed (rm -rf) loses its names one at a time.
//   - truncations are pending operations too, kept or dropped by the strategy.
// Files are tracked as inodes: a descriptor writes to the inode it opened, whatever renames happen later.

import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { IoObserver } from '../../src/storage/ioObserver';

export const PAGE = 4096;

type FileOp = { write: true; pos: number; data: Buffer } | { write: false; length: number };
type NameOp = { kind: 'link'; name: string; ino: Inode } | { kind: 'unlink'; name: string } | { kind: 'rename'; from: string; to: string };

interface FileInode {
  dir: false;
  id: number;
  /** The synced content. */
  base: Buffer;
  pending: FileOp[];
  /** Operations made durable so far (pending holds the ones after them). */
  synced: number;
}

interface DirInode {
  dir: true;
  id: number;
  durable: Map<string, Inode>;
  live: Map<string, Inode>;
  pending: NameOp[];
  synced: number;
}

type Inode = FileInode | DirInode;

/** One recorded event: an I/O the storage layer reported, or a mark of the workload (an acknowledgement). */
export type TraceEvent =
  | { k: 'open'; fd: number; file: string; flags: string }
  | { k: 'close'; fd: number }
  | { k: 'write'; fd: number; pos: number; data: Buffer }
  | { k: 'syncStart'; fd: number; id: number }
  | { k: 'syncEnd'; id: number }
  | { k: 'truncate'; target: number | string; length: number }
  | { k: 'mkdir'; dir: string }
  | { k: 'rename'; from: string; to: string }
  | { k: 'unlink'; file: string }
  | { k: 'rm'; target: string }
  | { k: 'mark'; ticket: number }
  | { k: 'note'; note: string };

/** Records the I/O observer's reports (data copied at once: mappings and frame buffers are reused). */
export class TraceRecorder implements IoObserver {
  readonly events: TraceEvent[] = [];
  private syncs = 0;

  constructor(readonly root: string) {}

  private rel(p: string): string {
    const r = path.relative(this.root, p);
    if (r.startsWith('..') || path.isAbsolute(r)) throw new Error(`I/O outside the data directory: ${p}`);
    return r;
  }

  opened(fd: number, file: string, flags: string): void {
    this.events.push({ k: 'open', fd, file: this.rel(file), flags });
  }
  closed(fd: number): void {
    this.events.push({ k: 'close', fd });
  }
  wrote(fd: number, pos: number, src: Uint8Array, from: number, to: number): void {
    this.events.push({ k: 'write', fd, pos, data: Buffer.from(src.subarray(from, to)) });
  }
  syncing(fd: number): () => void {
    const id = ++this.syncs;
    this.events.push({ k: 'syncStart', fd, id });
    return () => this.events.push({ k: 'syncEnd', id });
  }
  truncated(target: number | string, length: number): void {
    this.events.push({ k: 'truncate', target: typeof target === 'string' ? this.rel(target) : target, length });
  }
  made(dir: string): void {
    this.events.push({ k: 'mkdir', dir: this.rel(dir) });
  }
  renamed(from: string, to: string): void {
    this.events.push({ k: 'rename', from: this.rel(from), to: this.rel(to) });
  }
  unlinked(file: string): void {
    this.events.push({ k: 'unlink', file: this.rel(file) });
  }
  removed(target: string): void {
    this.events.push({ k: 'rm', target: this.rel(target) });
  }
  /** A workload mark: everything under `ticket` is acknowledged from here on. */
  mark(ticket: number): void {
    this.events.push({ k: 'mark', ticket });
  }
  /** A workload note: a directory operation started or was acknowledged (see crashSim.ts). */
  note(note: string): void {
    this.events.push({ k: 'note', note });
  }
}

/** How a crash treats what was not synced. Prefix counts: how many of the `n` pending operations are kept. */
export interface Strategy {
  name: string;
  /** Pending writes kept on page `page` of file `ino` (a prefix of the `n` that touched it). */
  page(ino: number, file: string, page: number, n: number): number;
  /** Pending name operations kept in a directory. */
  names(ino: number, n: number): number;
  /** Whether a pending truncation is kept. */
  truncation(ino: number): boolean;
}

const inJournal = (file: string): boolean => file.split(path.sep).includes('journal');

/** The strategies, each built for one crash image from a seeded random source. */
export function strategies(rand: () => number): Record<string, Strategy> {
  const int = (n: number): number => Math.floor(rand() * (n + 1));
  const perFile = new Map<number, boolean>();
  const coin = (ino: number): boolean => {
    if (!perFile.has(ino)) perFile.set(ino, rand() < 0.5);
    return perFile.get(ino)!;
  };
  return {
    'all-dropped': { name: 'all-dropped', page: () => 0, names: () => 0, truncation: () => false },
    'all-kept': { name: 'all-kept', page: (_i, _f, _p, n) => n, names: (_i, n) => n, truncation: () => true },
    'even-pages': { name: 'even-pages', page: (_i, _f, p, n) => (p % 2 === 0 ? n : 0), names: (_i, n) => int(n), truncation: () => rand() < 0.5 },
    'odd-pages': { name: 'odd-pages', page: (_i, _f, p, n) => (p % 2 === 1 ? n : 0), names: (_i, n) => int(n), truncation: () => rand() < 0.5 },
    random: { name: 'random', page: (_i, _f, _p, n) => int(n), names: (_i, n) => int(n), truncation: () => rand() < 0.5 },
    'whole-files': { name: 'whole-files', page: (i, _f, _p, n) => (coin(i) ? n : 0), names: (_i, n) => int(n), truncation: (i) => coin(i) },
    'segments-not-journal': { name: 'segments-not-journal', page: (_i, f, _p, n) => (inJournal(f) ? 0 : n), names: (_i, n) => n, truncation: () => true },
    'journal-not-segments': { name: 'journal-not-segments', page: (_i, f, _p, n) => (inJournal(f) ? n : 0), names: (_i, n) => n, truncation: () => false },
  };
}

/** The file system as the trace has built it so far; apply() events in order, image() at any point. */
export class FsModel {
  private nextId = 1;
  readonly root: DirInode = this.newDir();
  private readonly fds = new Map<number, { ino: Inode; file: string }>();
  private readonly syncsRunning = new Map<number, { ino: Inode; upTo: number }>();
  /** The highest ticket marked so far, and the notes so far. */
  acknowledged = 0;
  readonly notes = new Set<string>();

  private newDir(): DirInode {
    return { dir: true, id: this.nextId++, durable: new Map(), live: new Map(), pending: [], synced: 0 };
  }

  private lookup(rel: string): Inode | undefined {
    let cur: Inode = this.root;
    for (const part of rel.split(path.sep).filter((p) => p !== '')) {
      if (!cur.dir) return undefined;
      const next = cur.live.get(part);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  private parentOf(rel: string): { dir: DirInode; name: string } {
    const parent = this.lookup(path.dirname(rel) === '.' ? '' : path.dirname(rel));
    if (!parent || !parent.dir) throw new Error(`no directory for ${rel}`);
    return { dir: parent, name: path.basename(rel) };
  }

  private nameOp(dir: DirInode, op: NameOp): void {
    applyName(dir.live, op);
    dir.pending.push(op);
  }

  apply(e: TraceEvent): void {
    switch (e.k) {
      case 'open': {
        let ino = this.lookup(e.file);
        if (!ino) {
          if (!e.flags.includes('w')) throw new Error(`open of a file the trace never created: ${e.file}`);
          const { dir, name } = this.parentOf(e.file);
          ino = { dir: false, id: this.nextId++, base: Buffer.alloc(0), pending: [], synced: 0 };
          this.nameOp(dir, { kind: 'link', name, ino });
        } else if (!ino.dir && e.flags.startsWith('w')) ino.pending.push({ write: false, length: 0 });
        this.fds.set(e.fd, { ino, file: e.file });
        return;
      }
      case 'close':
        this.fds.delete(e.fd);
        return;
      case 'write':
        this.file(e.fd).pending.push({ write: true, pos: e.pos, data: e.data });
        return;
      case 'syncStart': {
        const ino = this.fds.get(e.fd)?.ino;
        if (!ino) throw new Error(`sync of an unreported descriptor ${e.fd}`);
        this.syncsRunning.set(e.id, { ino, upTo: ino.synced + ino.pending.length });
        return;
      }
      case 'syncEnd': {
        const s = this.syncsRunning.get(e.id)!;
        this.syncsRunning.delete(e.id);
        const ino = s.ino;
        // what it covers, less what a sync that ended earlier already made durable
        const n = s.upTo - ino.synced;
        if (n <= 0) return;
        if (ino.dir) for (const op of ino.pending.splice(0, n)) applyName(ino.durable, op);
        else ino.base = contentOf(ino.base, ino.pending.splice(0, n));
        ino.synced += n;
        return;
      }
      case 'truncate': {
        const ino = typeof e.target === 'number' ? this.file(e.target) : this.lookup(e.target);
        if (!ino || ino.dir) throw new Error(`truncation of an unknown file ${String(e.target)}`);
        ino.pending.push({ write: false, length: e.length });
        return;
      }
      case 'mkdir': {
        let sofar = '';
        for (const part of e.dir.split(path.sep)) {
          const next = sofar === '' ? part : path.join(sofar, part);
          if (!this.lookup(next)) {
            const { dir } = this.parentOf(next);
            this.nameOp(dir, { kind: 'link', name: part, ino: this.newDir() });
          }
          sofar = next;
        }
        return;
      }
      case 'rename': {
        const from = this.parentOf(e.from);
        const to = this.parentOf(e.to);
        if (from.dir !== to.dir) throw new Error(`rename across directories: ${e.from} -> ${e.to}`);
        this.nameOp(from.dir, { kind: 'rename', from: from.name, to: to.name });
        return;
      }
      case 'unlink':
      case 'rm': {
        const rel = e.k === 'unlink' ? e.file : e.target;
        const ino = this.lookup(rel);
        if (!ino) return; // rm -f of nothing
        // rm -rf unlinks what a directory holds one name at a time before the directory itself
        if (ino.dir) this.emptyTree(ino);
        const { dir, name } = this.parentOf(rel);
        this.nameOp(dir, { kind: 'unlink', name });
        return;
      }
      case 'mark':
        this.acknowledged = Math.max(this.acknowledged, e.ticket);
        return;
      case 'note':
        this.notes.add(e.note);
        return;
    }
  }

  private emptyTree(dir: DirInode): void {
    for (const [name, ino] of [...dir.live]) {
      if (ino.dir) this.emptyTree(ino);
      this.nameOp(dir, { kind: 'unlink', name });
    }
  }

  private file(fd: number): FileInode {
    const ino = this.fds.get(fd)?.ino;
    if (!ino || ino.dir) throw new Error(`write to an unreported descriptor ${fd}`);
    return ino;
  }

  /** Writes into `target` (an empty directory) the files a power loss now could leave, under `strategy`. */
  image(target: string, strategy: Strategy): void {
    const seen = new Set<Inode>();
    const build = (dir: DirInode, at: string, rel: string): void => {
      const names = new Map(dir.durable);
      const keep = strategy.names(dir.id, dir.pending.length);
      for (const op of dir.pending.slice(0, keep)) applyName(names, op);
      for (const [name, ino] of names) {
        if (seen.has(ino)) continue; // a hard link the model does not make: keep the first
        seen.add(ino);
        const p = path.join(at, name);
        const r = rel === '' ? name : path.join(rel, name);
        if (ino.dir) {
          mkdirSync(p);
          build(ino, p, r);
        } else writeFileSync(p, crashedContent(ino, r, strategy));
      }
    };
    build(this.root, target, '');
  }
}

function applyName(names: Map<string, Inode>, op: NameOp): void {
  if (op.kind === 'link') names.set(op.name, op.ino);
  else if (op.kind === 'unlink') names.delete(op.name);
  else {
    const ino = names.get(op.from);
    if (ino === undefined) return; // its creation was not kept
    names.delete(op.from);
    names.set(op.to, ino);
  }
}

/** `base` with every operation of `ops` applied in order (a copy). */
function contentOf(base: Buffer, ops: FileOp[]): Buffer {
  let out = Buffer.from(base);
  let len = base.length;
  const ensure = (n: number): void => {
    if (n <= out.length) return;
    const g = Buffer.alloc(Math.max(n, out.length * 2));
    out.copy(g);
    out = g;
  };
  for (const op of ops) {
    if (op.write) {
      ensure(op.pos + op.data.length);
      op.data.copy(out, op.pos);
      len = Math.max(len, op.pos + op.data.length);
    } else {
      if (op.length < len) out.fill(0, op.length, len);
      ensure(op.length);
      len = op.length;
    }
  }
  return out.subarray(0, len);
}

/** A file's content after a crash: its synced base, then per page the prefix of pending writes the strategy keeps. */
function crashedContent(ino: FileInode, rel: string, strategy: Strategy): Buffer {
  if (ino.pending.length === 0) return ino.base;
  // per page: how many pending writes touched it, then how many of those are kept
  const touched = new Map<number, number>();
  for (const op of ino.pending) {
    if (!op.write || op.data.length === 0) continue;
    for (let p = Math.floor(op.pos / PAGE); p * PAGE < op.pos + op.data.length; p++) touched.set(p, (touched.get(p) ?? 0) + 1);
  }
  const kept = new Map<number, number>();
  for (const [p, n] of touched) kept.set(p, strategy.page(ino.id, rel, p, n));
  const seen = new Map<number, number>();
  const ops: FileOp[] = [];
  for (const op of ino.pending) {
    if (!op.write) {
      if (strategy.truncation(ino.id)) ops.push(op);
      continue;
    }
    // the parts of this write on pages that keep it
    for (let p = Math.floor(op.pos / PAGE); p * PAGE < op.pos + op.data.length; p++) {
      const k = seen.get(p) ?? 0;
      seen.set(p, k + 1);
      if (k >= kept.get(p)!) continue;
      const from = Math.max(op.pos, p * PAGE);
      const to = Math.min(op.pos + op.data.length, (p + 1) * PAGE);
      ops.push({ write: true, pos: from, data: op.data.subarray(from - op.pos, to - op.pos) });
    }
  }
  return contentOf(ino.base, ops);
}
