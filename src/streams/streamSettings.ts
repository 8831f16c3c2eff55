// Per-stream settings beyond Redis (XCFGSET / XCFGGET): the stream's own appendfsync policy and its retention
// bounds by age (maxage, milliseconds of entry-ID time) and by bytes (maxbytes, sum of the field and value lengths
// of the live entries). An option not set on the stream follows the server: `appendfsync`, `stream-maxage`,
// `stream-maxbytes`. The settings live on the Stream (stream.settingsOverride) and are persisted as a SETTINGS change
// record in the stream's log (changeRecords.ts); streamSettingsArgs() gives the XCFGSET that recreates them (checkpoints).

import { CommandError, Err, CfgErr } from '../errors';
import { findOption, parseMemory } from '../config/options';
import type { FsyncPolicy } from '../storage';
import type { Stream } from './stream';

/** A stream's own settings; an absent option follows the server's value. */
export interface StreamOverrides {
  appendfsync?: FsyncPolicy;
  /** Milliseconds, 0 = off (even when the server sets stream-maxage). */
  maxage?: number;
  /** Bytes, 0 = off (even when the server sets stream-maxbytes). */
  maxbytes?: number;
}

export type StreamOptionName = keyof StreamOverrides;

/** In the order XCFGGET reports them. */
export const STREAM_OPTIONS: readonly StreamOptionName[] = ['appendfsync', 'maxage', 'maxbytes'];

/** The server option's values (one list for both). */
const FSYNC_VALUES: readonly string[] = findOption('appendfsync')!.values!;
const MAX_VALUE = Number.MAX_SAFE_INTEGER;
/** The value that removes a stream's own setting (the option follows the server again). */
export const DEFAULT_VALUE = 'default';

/** One parsed XCFGSET: per option, the new value or null (`default`: clear the stream's own value). */
export type StreamSettingsChange = Map<StreamOptionName, string | number | null>;

function isOption(name: string): name is StreamOptionName {
  return (STREAM_OPTIONS as readonly string[]).includes(name);
}

function parseValue(option: StreamOptionName, raw: string): string | number | null {
  const v = raw.toLowerCase();
  if (v === DEFAULT_VALUE) return null;
  if (option === 'appendfsync') {
    if (!FSYNC_VALUES.includes(v)) throw new CommandError(CfgErr.failed(option, CfgErr.fsyncValues));
    return v;
  }
  // maxage: plain milliseconds; maxbytes: bytes with redis.conf units (1k = 1000, 1kb = 1024).
  const n = option === 'maxbytes' ? parseMemory(raw) : /^[0-9]+$/.test(raw) ? Number(raw) : null;
  if (n === null || !Number.isSafeInteger(n)) throw new CommandError(CfgErr.failed(option, CfgErr.notInteger));
  if (n < 0 || n > MAX_VALUE) throw new CommandError(CfgErr.failed(option, CfgErr.range(MAX_VALUE)));
  return n;
}

/**
 * Checks every `option value` pair of XCFGSET (all before any is applied, as CONFIG SET): an odd count is an
 * arity error, an unknown or repeated option or a bad value an error naming it. Option names are
 * case-insensitive.
 */
export function parseStreamSettings(pairs: readonly Buffer[]): StreamSettingsChange {
  if (pairs.length === 0 || pairs.length % 2 !== 0) throw new CommandError(Err.wrongArity('xcfgset'));
  const change: StreamSettingsChange = new Map();
  for (let i = 0; i < pairs.length; i += 2) {
    const raw = pairs[i].toString('latin1');
    const name = raw.toLowerCase();
    if (!isOption(name)) throw new CommandError(CfgErr.unknownOption(raw));
    if (change.has(name)) throw new CommandError(CfgErr.failed(raw, CfgErr.duplicate));
    change.set(name, parseValue(name, pairs[i + 1].toString('latin1')));
  }
  return change;
}

/** The settings after `change`; null when no option is the stream's own any more. */
export function applyStreamSettings(current: StreamOverrides | null, change: StreamSettingsChange): StreamOverrides | null {
  const next: StreamOverrides = { ...(current ?? {}) };
  for (const [name, value] of change) {
    if (value === null) delete next[name];
    else if (name === 'appendfsync') next.appendfsync = value as FsyncPolicy;
    else next[name] = value as number;
  }
  return STREAM_OPTIONS.some((o) => next[o] !== undefined) ? next : null;
}

/** XCFGGET's pairs: every option with the stream's own value, or `default` where it follows the server. */
export function formatStreamSettings(o: StreamOverrides | null): [string, string][] {
  return STREAM_OPTIONS.map((name) => [name, o?.[name] !== undefined ? String(o[name]) : DEFAULT_VALUE]);
}

const XCFGSET = Buffer.from('XCFGSET');

/**
 * The commands that recreate `stream`'s own settings (for a checkpoint writer): one XCFGSET with every option
 * the stream sets, or none when it follows the server in everything.
 */
export function streamSettingsArgs(stream: Stream): Buffer[][] {
  const o = stream.settingsOverride;
  if (o === null) return [];
  const args: Buffer[] = [XCFGSET, Buffer.from(stream.key, 'latin1')];
  for (const name of STREAM_OPTIONS) {
    const v = o[name];
    if (v !== undefined) args.push(Buffer.from(name), Buffer.from(String(v)));
  }
  return args.length > 2 ? [args] : [];
}
