// The differential runner: the same script of commands against a real redis-server 7 and against Spool, each
// reply's bytes compared (after masking time-dependent values). Scripts are data; every script is one test
// per protocol (RESP2, RESP3), run on fresh connections after FLUSHALL.
//
// DIFF_PRINT=1 prints redis-server's transcript of every script.
// Set SPOOL_DIFF_TARGET=redis to run the "Spool" side on a second redis-server: that proves the harness and the
// scripts themselves (every test must pass that way).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from './redis';
import { startSpool, type SpoolHandle } from './spool';
import { RespConnection, encodeCommand, escapeBytes, serialize, type Arg, type RespNode } from './resp';
import { applyMasks, type Masker } from './mask';

export type { Arg } from './resp';

export interface StepObject {
  /** Client (connection) index; default 0. Clients are opened on first use. */
  c?: number;
  /** A command, sent as a multibulk request. A string is split on spaces. */
  cmd?: Arg[] | string;
  /** Raw bytes to send as they are (inline commands, malformed requests, hand-made pipelines). */
  raw?: Buffer | string;
  /** Replies to wait for: default 1 for cmd, 0 for raw. */
  replies?: number;
  /** Send now and collect the replies later with a { c, collect: n } step (blocking commands). */
  defer?: boolean;
  /** Collect n replies of earlier deferred commands on client c. */
  collect?: number;
  /** Record whether the server closed the connection within closeWaitMs (default 300 ms). */
  expectClose?: boolean;
  closeWaitMs?: number;
  /** Masks applied to each reply of this step before comparing. */
  mask?: Masker[];
  /** Wait this many ms (for BLOCK timeouts and IDLE thresholds). */
  sleep?: number;
  /** Wait until the server reports this many blocked clients (INFO clients), at most 2 s. */
  waitBlocked?: number;
  /** Reply timeout in ms (default 10000: generous for a loaded CI machine; no step legitimately waits long). */
  timeoutMs?: number;
  /** Close client c from our side (and forget it: a later step on c opens a new connection). */
  close?: boolean;
  /** Label shown in the transcript instead of the command. */
  label?: string;
}

export type Step = StepObject | Arg[] | string;

export interface Script {
  name: string;
  steps: Step[];
  /** Protocols to run in; default both. */
  protocols?: (2 | 3)[];
  /** Masks applied to every reply of the script. */
  mask?: Masker[];
  /** Commands run on a side connection after the script, also when it failed (undo CONFIG SET...). */
  after?: (Arg[] | string)[];
}

/** 'XADD s 1-1 f v' -> ['XADD','s','1-1','f','v']. Use an array for arguments with spaces or empty ones. */
export function split(cmd: string): string[] {
  return cmd.split(' ').filter((s) => s.length > 0);
}

function normalise(step: Step): StepObject {
  if (typeof step === 'string') return { cmd: split(step) };
  if (Array.isArray(step)) return { cmd: step };
  return step;
}

function argsOf(step: StepObject): Arg[] | null {
  if (step.cmd === undefined) return null;
  return typeof step.cmd === 'string' ? split(step.cmd) : step.cmd;
}

function describeStep(step: StepObject): string {
  if (step.label) return step.label;
  const args = argsOf(step);
  if (args) return args.map((a) => (typeof a === 'string' ? (/[\s"]|^$/.test(a) ? JSON.stringify(a) : a) : `<${escapeBytes(a)}>`)).join(' ');
  if (step.raw !== undefined) {
    const b = typeof step.raw === 'string' ? Buffer.from(step.raw, 'latin1') : step.raw;
    const s = escapeBytes(b);
    return `raw ${s.length > 80 ? `${s.slice(0, 80)}... (${b.length} bytes)` : s}`;
  }
  if (step.collect !== undefined) return `collect ${step.collect}`;
  if (step.sleep !== undefined) return `sleep ${step.sleep}`;
  if (step.waitBlocked !== undefined) return `wait for ${step.waitBlocked} blocked`;
  return '?';
}

function show(node: RespNode): string {
  const s = escapeBytes(serialize(node));
  return s.length > 2000 ? `${s.slice(0, 2000)}... (${s.length} chars)` : s;
}

async function blockedClients(control: RespConnection): Promise<number | null> {
  const reply = await control.call(['INFO', 'clients'], 2000);
  const text = reply.bytes.toString('latin1');
  const m = /blocked_clients:(\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * Runs a script against the server on `port` and returns its transcript: one line per reply or event,
 * `[c<n>] <command> => <reply bytes, escaped>`. Stops at the first error (timeout, early close), which is
 * recorded as the transcript's last line.
 */
export async function runScript(port: number, script: Script, protocol: 2 | 3): Promise<string[]> {
  const lines: string[] = [];
  const clients = new Map<number, RespConnection>();
  const deferred = new Map<number, string[]>();
  // A side connection for FLUSHALL, INFO polling and `after`; reopened if a script's CLIENT KILL closed it.
  let controlConn = await RespConnection.connect(port);
  const control = async (): Promise<RespConnection> => {
    if (controlConn.isClosed) controlConn = await RespConnection.connect(port);
    return controlConn;
  };
  const client = async (i: number): Promise<RespConnection> => {
    let c = clients.get(i);
    if (!c) {
      c = await RespConnection.connect(port);
      clients.set(i, c);
      if (protocol === 3) {
        const hello = await c.call(['HELLO', '3'], 5000);
        if (hello.type === '-') lines.push(`[c${i}] HELLO 3 (setup) => ${show(hello)}`);
      }
    }
    return c;
  };
  try {
    await (await control()).call(['FLUSHALL'], 5000);
    for (const raw of script.steps) {
      const step = normalise(raw);
      const ci = step.c ?? 0;
      const timeout = step.timeoutMs ?? 10000;
      if (step.sleep !== undefined) {
        await new Promise((r) => setTimeout(r, step.sleep));
        continue;
      }
      if (step.waitBlocked !== undefined) {
        const deadline = Date.now() + 2000;
        while (Date.now() < deadline) {
          const n = await blockedClients(await control());
          if (n === null || n >= step.waitBlocked) break;
          await new Promise((r) => setTimeout(r, 10));
        }
        // Give the server a moment either way: a reported block is registered, an unreported one may not be.
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      if (step.close) {
        clients.get(ci)?.close();
        clients.delete(ci);
        await new Promise((r) => setTimeout(r, 20)); // let the server see the close before the next step
        continue;
      }
      const conn = await client(ci);
      const label = describeStep(step);
      let want: number;
      if (step.collect !== undefined) {
        want = step.collect;
      } else {
        const args = argsOf(step);
        if (args) conn.sendCommand(args);
        else if (step.raw !== undefined) conn.send(step.raw);
        want = step.replies ?? (args ? 1 : 0);
        if (step.defer) {
          const q = deferred.get(ci) ?? [];
          for (let i = 0; i < want; i++) q.push(label);
          deferred.set(ci, q);
          continue;
        }
      }
      const labels = step.collect !== undefined ? (deferred.get(ci) ?? []).splice(0, want) : Array(want).fill(label);
      if (want > 0) {
        let replies: RespNode[];
        try {
          replies = await conn.read(want, timeout);
        } catch (err) {
          const got = (err as { replies?: RespNode[] }).replies ?? [];
          got.forEach((r, i) => lines.push(`[c${ci}] ${labels[i] ?? label} => ${show(applyMasks(r, [...(script.mask ?? []), ...(step.mask ?? [])]))}`));
          lines.push(`[c${ci}] ${label} => ERROR ${(err as Error).message.replace(/:.*$/s, '')}`);
          if (!step.expectClose) return lines;
          replies = [];
        }
        replies.forEach((r, i) => {
          applyMasks(r, [...(script.mask ?? []), ...(step.mask ?? [])]);
          lines.push(`[c${ci}] ${labels[i] ?? label} => ${show(r)}`);
        });
      } else if (!step.expectClose) {
        lines.push(`[c${ci}] ${label} => (no reply awaited)`);
      }
      if (step.expectClose) {
        const closed = await conn.waitClosed(step.closeWaitMs ?? 300);
        const extra = conn.take();
        const rest = extra.map((r) => show(r)).join(' | ');
        lines.push(`[c${ci}] ${closed ? 'connection closed' : 'connection still open'}${rest ? ` (then ${rest})` : ''}`);
        if (closed) clients.delete(ci);
      }
    }
    // Nothing may be left over: an extra reply means a command answered twice.
    await new Promise((r) => setImmediate(r));
    for (const [i, c] of clients) {
      const extra = c.take();
      if (extra.length) lines.push(`[c${i}] unexpected extra replies: ${extra.map((r) => show(r)).join(' | ')}`);
    }
    return lines;
  } finally {
    for (const c of clients.values()) c.close();
    for (const cmd of script.after ?? []) {
      await control()
        .then((c) => c.call(typeof cmd === 'string' ? split(cmd) : cmd, 5000))
        .catch(() => undefined);
    }
    controlConn.close();
  }
}

export interface DiffTargets {
  redis: number;
  spool: number;
}

/**
 * Declares one vitest test per script and protocol. The servers are started once per file (beforeAll).
 */
export function differentialSuite(scripts: Script[], opts: { spoolOptions?: Record<string, string>; redisArgs?: string[] } = {}): void {
  let redis: RunningRedis | undefined;
  let spool: SpoolHandle | RunningRedis | undefined;
  let spoolError: unknown;
  const names = new Set<string>();
  for (const s of scripts) {
    if (names.has(s.name)) throw new Error(`duplicate script name: ${s.name}`);
    names.add(s.name);
  }

  beforeAll(async () => {
    redis = await startRedis(opts.redisArgs);
    try {
      spool = process.env.SPOOL_DIFF_TARGET === 'redis' ? await startRedis(opts.redisArgs) : await startSpool(opts.spoolOptions);
    } catch (err) {
      spoolError = err; // reported by every test, so the file still lists what it covers
    }
  });
  afterAll(async () => {
    await redis?.stop();
    await spool?.stop();
  });

  const cases: [string, Script, 2 | 3][] = [];
  for (const s of scripts) for (const p of s.protocols ?? [2, 3]) cases.push([`${s.name} (RESP${p})`, s, p]);

  test.each(cases)('%s', async (_name, script, protocol) => {
    if (!spool) throw new Error(`Spool did not start: ${spoolError instanceof Error ? (spoolError.stack ?? spoolError.message) : String(spoolError)}`);
    const expected = await runScript(redis!.port, script, protocol);
    const actual = await runScript(spool.port, script, protocol);
    if (process.env.DIFF_PRINT) console.log(`--- ${script.name} (RESP${protocol})\n${expected.join('\n')}`);
    // Line by line, so vitest's diff points at the first reply that differs (redis-server = expected); the
    // message also names the first difference, for reports that show only the message.
    let first = '';
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (expected[i] !== actual[i]) {
        const cut = (x: string | undefined) => (x === undefined ? '(nothing)' : x.length > 400 ? `${x.slice(0, 400)}...` : x);
        first = `\n  first difference at line ${i + 1}:\n    redis: ${cut(expected[i])}\n    spool: ${cut(actual[i])}\n`;
        break;
      }
    }
    expect(actual, `replies differ from redis-server 7 in "${script.name}" (RESP${protocol})${first}`).toEqual(expected);
  });
}

/** One raw step that pipelines all these commands in one write and waits for all their replies. */
export function pipeline(cmds: (Arg[] | string)[], extra: Partial<StepObject> = {}): StepObject {
  const args = cmds.map((c) => (typeof c === 'string' ? split(c) : c));
  const first = args[0]?.map(String).join(' ') ?? '';
  return {
    raw: Buffer.concat(args.map((a) => encodeCommand(a))),
    replies: args.length,
    label: `pipeline of ${args.length} (${first} ...)`,
    ...extra,
  };
}

/** n XADDs of `key` with IDs ms-0 for ms = from .. from+n-1, one field, pipelined. */
export function addMany(key: string, from: number, n: number, value = (i: number) => `v${i}`): StepObject {
  return pipeline(Array.from({ length: n }, (_, i) => ['XADD', key, `${from + i}-0`, 'f', value(i)]));
}

/**
 * For checks that are not differential (Spool-only behaviour, shapes of replies that legitimately differ):
 * starts one in-process Spool for the enclosing describe/file and returns a getter for its port.
 */
export function useSpool(options: Record<string, string> = {}): () => number {
  let spool: SpoolHandle | RunningRedis | undefined;
  beforeAll(async () => {
    spool = await startSpool(options);
  });
  afterAll(async () => {
    await spool?.stop();
  });
  return () => {
    if (!spool) throw new Error('Spool did not start');
    return spool.port;
  };
}

/** describe() for Spool-only checks; skipped when SPOOL_DIFF_TARGET=redis (harness self-test mode). */
export const describeSpool: typeof describe = process.env.SPOOL_DIFF_TARGET === 'redis' ? describe.skip : describe;
