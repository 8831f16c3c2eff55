// Idempotent XADD (Redis 8.6, IDMP / IDMPAUTO): per stream, per producer ID, the idempotent IDs (iids) of recent
// XADDs and the entry each one added, so a retried XADD with the same producer and iid answers the original ID
// and adds nothing. An iid is forgotten once it is older than the stream's IDMP-DURATION (seconds), or when the
// producer has more than IDMP-MAXSIZE of them (the oldest goes first). XCFGSET IDMP-* clears every producer's
// iids. The state is made durable by IDMP change records (one per mapping, see changeRecords.ts) and
// by checkpoints (exportIdmp / importIdmp).

import { createHash } from 'node:crypto';
import { formatId, parseStrictId, type StreamId } from './streamId';

export const IDMP_DEFAULT_DURATION = 100;
export const IDMP_DEFAULT_MAXSIZE = 100;
export const IDMP_MAX_DURATION = 86400;
export const IDMP_MAX_MAXSIZE = 10000;

interface Recorded {
  readonly id: StreamId;
  /** When it was recorded (ms, the command's clock). */
  readonly time: number;
}

/** A checkpoint's copy: settings (null: the server's), counters, and per producer [iid, id, time] oldest first. */
export interface IdmpState {
  duration: number | null;
  maxsize: number | null;
  added: number;
  duplicates: number;
  producers: [string, [string, string, number][]][];
}

export class IdmpTable {
  /** The stream's own IDMP-DURATION / IDMP-MAXSIZE (XCFGSET); null: the server's stream-idmp-* default. */
  duration: number | null = null;
  maxsize: number | null = null;
  /** iids-added and iids-duplicates (XINFO STREAM). */
  added = 0;
  duplicates = 0;
  /** Producer ID (latin1) -> iid (latin1) -> entry, in insertion order (a Map keeps it: oldest first). */
  private readonly producers = new Map<string, Map<string, Recorded>>();

  get pidsTracked(): number {
    return this.producers.size;
  }

  get iidsTracked(): number {
    let n = 0;
    for (const iids of this.producers.values()) n += iids.size;
    return n;
  }

  /** Drops the producer's iids older than `durationMs` at `now` (oldest first, so it stops at the first young one). */
  private expire(iids: Map<string, Recorded>, now: number, durationMs: number): void {
    for (const [iid, r] of iids) {
      if (now - r.time < durationMs) break;
      iids.delete(iid);
    }
  }

  /** The entry a live (pid, iid) added, or null; expired iids are dropped first. */
  lookup(pid: string, iid: string, now: number, durationSeconds: number): StreamId | null {
    const iids = this.producers.get(pid);
    if (!iids) return null;
    this.expire(iids, now, durationSeconds * 1000);
    if (iids.size === 0) {
      this.producers.delete(pid);
      return null;
    }
    return iids.get(iid)?.id ?? null;
  }

  /** Remembers that (pid, iid) added `id`; the producer's oldest iids beyond `maxsize` are evicted. */
  record(pid: string, iid: string, id: StreamId, now: number, maxsize: number): void {
    this.added++;
    let iids = this.producers.get(pid);
    if (!iids) this.producers.set(pid, (iids = new Map()));
    iids.delete(iid);
    iids.set(iid, { id, time: now });
    for (const oldest of iids.keys()) {
      if (iids.size <= maxsize) break;
      iids.delete(oldest);
    }
  }

  /** The ID (pid, iid) is recorded with, whatever its age (XIDMPRECORD's check), or null. */
  recorded(pid: string, iid: string): StreamId | null {
    return this.producers.get(pid)?.get(iid)?.id ?? null;
  }

  /** XCFGSET IDMP-*: every producer's iids are forgotten. */
  clear(): void {
    this.producers.clear();
  }

  exportState(): IdmpState {
    const producers: IdmpState['producers'] = [];
    for (const [pid, iids] of this.producers) {
      producers.push([pid, [...iids].map(([iid, r]) => [iid, formatId(r.id), r.time] as [string, string, number])]);
    }
    return { duration: this.duration, maxsize: this.maxsize, added: this.added, duplicates: this.duplicates, producers };
  }

  static importState(state: IdmpState): IdmpTable {
    const t = new IdmpTable();
    t.duration = state.duration;
    t.maxsize = state.maxsize;
    t.added = state.added;
    t.duplicates = state.duplicates;
    for (const [pid, iids] of state.producers) {
      t.producers.set(pid, new Map(iids.map(([iid, id, time]) => [iid, { id: parseStrictId(id), time }])));
    }
    return t;
  }
}

/**
 * IDMPAUTO's iid: a digest of the entry's field-value pairs that does not depend on their order (the pairs are
 * sorted, each part length-prefixed so that ("ab","c") and ("a","bc") differ).
 */
export function autoIid(fields: readonly Buffer[]): string {
  const pairs: Buffer[] = [];
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const f = fields[i];
    const v = fields[i + 1];
    const b = Buffer.allocUnsafe(8 + f.length + v.length);
    b.writeUInt32BE(f.length, 0);
    f.copy(b, 4);
    b.writeUInt32BE(v.length, 4 + f.length);
    v.copy(b, 8 + f.length);
    pairs.push(b);
  }
  pairs.sort(Buffer.compare);
  const h = createHash('sha256');
  for (const p of pairs) h.update(p);
  return h.digest().toString('latin1');
}
