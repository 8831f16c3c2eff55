#!/usr/bin/env node
'use strict';
// spool-check DIR [--fix]: verifies every stream log under DIR (a data directory, or one stream directory) and
// prints a report naming each stream by its key, like redis-check-aof. Exit 0: all logs clean (a torn tail or
// partial batch, which start-up cuts by itself, is reported but clean). Exit 1: corruption before the tail found
// (without --fix). --fix replaces each damaged region by padding (or zeros at a segment's end), keeping every
// valid record after it, cuts a torn tail, and lists the offsets and byte counts it dropped. The logic is
// src/storage/checkTool.ts, run from its compiled form: run `npm run build` first.
const path = require('node:path');

const distDir = process.env.SPOOL_STORAGE_DIST || path.join(__dirname, '..', 'dist', 'storage');
let tool;
try {
  tool = require(path.join(distDir, 'checkTool.js'));
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
    return 2;
  }
  let result;
  try {
    result = await tool.checkLogs(target, fix);
  } catch (e) {
    if (e.code !== 'ENOENT') throw e;
    console.error(`spool-check: ${path.resolve(target)} does not exist`);
    return 2;
  }
  for (const line of result.lines) console.log(line);
  return result.code;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(`spool-check: ${e.stack || e.message}`);
    process.exit(2);
  },
);
