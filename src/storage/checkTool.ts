// spool-check (bin/spool-check.js is a thin wrapper over this, compiled to dist/storage): verifies every stream
// log under a data directory (or one stream directory), like redis-check-aof, and with `fix` repairs them:
// corruption before the tail is neutralised keeping the valid records after it (salvage.ts), then a torn tail or
// partial batch is cut (recovery.ts). Each stream is named by its key, decoded from its directory name.

import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { readStreamKey } from './fileNames';
import { describeReport, listStreamDirs, recoverStream } from './recovery';
import { describeSalvage, salvageStream } from './salvage';

/** A key as redis-cli quotes one: printable ASCII as is, the rest escaped (\n, \r, \t, \xHH, \\, \"). */
export function quoteKey(key: Buffer): string {
  let out = '"';
  for (const byte of key) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte === 0x22) out += '\\"';
    else if (byte === 0x0a) out += '\\n';
    else if (byte === 0x0d) out += '\\r';
    else if (byte === 0x09) out += '\\t';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return `${out}"`;
}

/** The stream a directory holds, as a report line names it. */
async function describeStream(dir: string): Promise<string> {
  try {
    const { db, key } = await readStreamKey(dir);
    return `stream ${quoteKey(key)} (db ${db})`;
  } catch (err) {
    return `stream of unknown key (${(err as Error).message})`;
  }
}

export interface CheckResult {
  /** Process exit code: 0 clean (or fixed), 1 corruption found without fix. */
  code: number;
  lines: string[];
}

/** Checks (and with `fix` repairs) the stream logs at `target`. Throws when `target` does not exist. */
export async function checkLogs(target: string, fix: boolean): Promise<CheckResult> {
  const abs = path.resolve(target);
  await fsp.access(abs);
  let dirs = (await listStreamDirs(abs)).map((d) => d.dir);
  if (dirs.length === 0 && (await fsp.readdir(abs)).some((n) => n.endsWith('.log'))) dirs = [abs];
  const lines: string[] = [];
  let corrupt = 0;
  let cut = 0;
  for (const dir of dirs) {
    // Corruption before the tail: find each damaged region (with fix: neutralise it, keeping what follows).
    const salvage = await salvageStream(dir, !fix);
    const r = await recoverStream(dir, null, fix ? 'fix' : 'check');
    const described = describeReport(r).split('\n');
    // Without fix, the scan stopped at the first damage and would cut there; what fix does instead is the salvage
    // (its lines below), so the cut it would have made is not shown.
    const shown = !fix && salvage.regions.length > 0 ? described.slice(0, 1) : described;
    lines.push(`${await describeStream(dir)}: ${shown[0]}`, ...shown.slice(1));
    lines.push(...describeSalvage(salvage));
    if (r.corruption || salvage.regions.length > 0) corrupt++;
    if (r.tornTail || r.partialBatch || r.corruption || salvage.regions.length > 0) cut++;
  }
  const summary = `${dirs.length} stream log(s) checked: ${corrupt} corrupt, ${cut} with data dropped or to drop`;
  if (fix) {
    lines.push(`${summary}; ${cut ? 'fixed (damaged bytes dropped, valid records kept)' : 'nothing to fix'}`);
    return { code: 0, lines };
  }
  lines.push(corrupt ? `${summary}. Repair with: spool-check --fix ${target}` : `${summary}. OK`);
  return { code: corrupt ? 1 : 0, lines };
}
