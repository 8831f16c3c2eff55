// XADD load with a model of what was sent and what was acknowledged, and the check of a restarted server
// against it. Shared by the SIGKILL suite (crash.test.ts) and the SIGTERM suite (sigterm.test.ts).
import type Redis from 'ioredis';
import { expect } from 'vitest';
import { binaryValue, rng } from './helpers';

export interface Sent {
  key: string;
  client: number;
  tag: string;
  fields: Buffer[];
  explicit: string | null;
  /** The ID in the reply, once acknowledged. */
  id: string | null;
  error: string | null;
}

export interface Entry {
  id: string;
  fields: Buffer[];
}

const CONNECTION_GONE = /Connection is closed|ECONNRESET|EPIPE|ECONNREFUSED|Stream isn't writeable|socket/i;

export class XaddLoad {
  /** What each key is known to hold (verified after the last restart). */
  readonly baseline = new Map<string, Entry[]>();
  /** Sent since the last verification, per key, in send order (one connection's sends keep their order). */
  sent = new Map<string, Sent[]>();
  private explicitMs = new Map<string, bigint>();
  private stopFlag = false;
  private round = 0;
  /** Errors other than "the server went away": these fail the test. */
  readonly unexpected: string[] = [];

  constructor(
    readonly starKeys: string[],
    readonly clients: number,
    readonly seed: number,
  ) {
    for (const k of this.allKeys()) this.baseline.set(k, []);
  }

  explicitKey(c: number): string {
    return `x:${c}:\r\n\0`;
  }

  allKeys(): string[] {
    return [...this.starKeys, ...Array.from({ length: this.clients }, (_, c) => this.explicitKey(c))];
  }

  stop(): void {
    this.stopFlag = true;
  }

  /** Runs `clients` pipelining loops until stop() or the connections die. */
  async run(conns: Redis[], depth = 32): Promise<void> {
    this.stopFlag = false;
    this.round++;
    await Promise.all(conns.map((c, i) => this.loop(c, i, depth)));
  }

  private async loop(conn: Redis, c: number, depth: number): Promise<void> {
    const r = rng(this.seed * 1000 + this.round * 31 + c);
    let n = 0;
    while (!this.stopFlag) {
      const batch: Promise<void>[] = [];
      let dead = false;
      for (let i = 0; i < depth; i++) {
        const explicit = r() < 0.3;
        const key = explicit ? this.explicitKey(c) : this.starKeys[Math.floor(r() * this.starKeys.length)];
        let id: string | null = null;
        if (explicit) {
          const ms = (this.explicitMs.get(key) ?? 0n) + 1n;
          this.explicitMs.set(key, ms);
          id = `${ms}-${c + 1}`;
        }
        const tag = `${this.round}:${c}:${n++}`;
        const fields: Buffer[] = [Buffer.from('tag'), Buffer.from(tag), Buffer.from('v\r\n\0'), binaryValue(r)];
        if (r() < 0.3) fields.push(Buffer.from([0, 13, 10]), binaryValue(r));
        const s: Sent = { key, client: c, tag, fields, explicit: id, id: null, error: null };
        let list = this.sent.get(key);
        if (!list) this.sent.set(key, (list = []));
        list.push(s);
        batch.push(
          conn.xaddBuffer(key, id ?? '*', ...fields).then(
            (reply) => {
              s.id = reply!.toString();
            },
            (err: Error) => {
              s.error = err.message;
              if (CONNECTION_GONE.test(err.message)) dead = true;
              else this.unexpected.push(`${key} ${tag}: ${err.message}`);
            },
          ),
        );
      }
      await Promise.all(batch);
      if (dead) return;
    }
  }

  acknowledged(): number {
    let n = 0;
    for (const list of this.sent.values()) for (const s of list) if (s.id) n++;
    return n;
  }

  /**
   * Checks a restarted server: per key, the baseline, then for each client a prefix of what it sent (at least
   * everything acknowledged), byte for byte, with the acknowledged IDs; nothing else. The state found becomes
   * the new baseline.
   */
  async verify(conn: Redis, context: string): Promise<void> {
    expect(this.unexpected, `${context}: unexpected errors`).toEqual([]);
    for (const key of this.allKeys()) {
      const raw = (await conn.xrangeBuffer(key, '-', '+')) as unknown as [Buffer, Buffer[]][];
      const found: Entry[] = raw.map(([id, fields]) => ({ id: id.toString(), fields }));
      const where = `${context} key ${JSON.stringify(key)}`;
      const base = this.baseline.get(key)!;
      expect(found.length, `${where}: fewer entries than before the crash`).toBeGreaterThanOrEqual(base.length);
      for (let i = 0; i < base.length; i++) {
        expect(found[i].id, `${where} entry ${i}`).toBe(base[i].id);
        expect(sameFields(found[i].fields, base[i].fields), `${where} entry ${i} fields`).toBe(true);
      }
      const sent = this.sent.get(key) ?? [];
      const byTag = new Map(sent.map((s) => [s.tag, s]));
      const seenPerClient = new Map<number, number>();
      const order = new Map<number, Sent[]>();
      for (const s of sent) {
        let l = order.get(s.client);
        if (!l) order.set(s.client, (l = []));
        l.push(s);
      }
      for (let i = base.length; i < found.length; i++) {
        const e = found[i];
        const tag = e.fields[1]?.toString();
        const s = byTag.get(tag);
        expect(s, `${where}: entry ${e.id} (tag ${tag}) was never sent`).toBeDefined();
        expect(sameFields(e.fields, s!.fields), `${where}: entry ${e.id} differs from what was sent`).toBe(true);
        if (s!.id) expect(e.id, `${where}: ${tag} acknowledged with another ID`).toBe(s!.id);
        if (s!.explicit) expect(e.id).toBe(s!.explicit);
        // per client, what is present is a prefix of what it sent, in its order
        const k = seenPerClient.get(s!.client) ?? 0;
        expect(order.get(s!.client)![k].tag, `${where}: client ${s!.client} entries out of order or with a gap`).toBe(tag);
        seenPerClient.set(s!.client, k + 1);
      }
      for (const [c, l] of order) {
        const present = seenPerClient.get(c) ?? 0;
        for (let k = present; k < l.length; k++) {
          expect(l[k].id, `${where}: acknowledged entry ${l[k].tag} (${l[k].id}) lost`).toBeNull();
        }
      }
      expect(await conn.xlen(key)).toBe(found.length);
      this.baseline.set(key, found);
      // explicit IDs continue after what is there
      if (key.startsWith('x:') && found.length) this.explicitMs.set(key, BigInt(found[found.length - 1].id.split('-')[0]));
      else if (key.startsWith('x:')) this.explicitMs.set(key, 0n);
    }
    this.sent = new Map();
  }
}

export function sameFields(a: Buffer[], b: Buffer[]): boolean {
  return a.length === b.length && a.every((x, i) => x.equals(b[i]));
}
