#!/usr/bin/env node
'use strict';
// spool-check DIR [--fix]: verifies every stream log under DIR (a data directory, or one stream directory) and
// prints a report, like redis-check-aof. Exit 0: all logs clean (a torn tail or partial batch, which start-up
// cuts by itself, is reported but clean). Exit 1: corruption before the tail found (without --fix).
// --fix truncates each damaged log at its first bad record (dropping everything after it) and removes the
// segment files after that point. Uses the compiled storage layer: run `npm run build` first.
const path = require('node:path');
const fs = require('node:fs');

const distDir = process.env.SPOOL_STORAGE_DIST || path.join(__dirname, '..', 'dist', 'storage');
let storage;
try {
  storage = require(path.join(distDir, 'recovery.js'));
} catch (e) {
  console.error(`spool-check: cannot load the storage layer from ${distDir} (run \`npm run build\`): ${e.message}`);
  process.exit(2);
}

async function main() {
  const args = process.argv.slice(2);
  const fix = args.includes('--fix');
  const target = args.find((a) => !a.startsWith('--'));
  if (!target) {
    console.error('Usage: spool-check DIR [--fix]');
    process.exit(2);
  }
  const abs = path.resolve(target);
  if (!fs.existsSync(abs)) {
    console.error(`spool-check: ${abs} does not exist`);
    process.exit(2);
  }
  let dirs = (await storage.listStreamDirs(abs)).map((d) => d.dir);
  if (dirs.length === 0 && fs.readdirSync(abs).some((n) => n.endsWith('.log'))) dirs = [abs];
  let corrupt = 0;
  let cut = 0;
  for (const dir of dirs) {
    const r = await storage.recoverStream(dir, null, fix ? 'fix' : 'check');
    console.log(storage.describeReport(r));
    if (r.corruption) corrupt++;
    if (r.tornTail || r.partialBatch || r.corruption) cut++;
  }
  const summary = `${dirs.length} stream log(s) checked: ${corrupt} corrupt, ${cut} with data after the last valid record`;
  if (fix) {
    console.log(`${summary}; ${cut ? 'fixed (truncated at the first bad record)' : 'nothing to fix'}`);
    return 0;
  }
  console.log(corrupt ? `${summary}. Repair with: spool-check --fix ${target}` : `${summary}. OK`);
  return corrupt ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`spool-check: ${e.stack || e.message}`);
    process.exit(2);
  },
);
