#!/usr/bin/env node
'use strict';
// Longer fuzzing: runs the property suite (test/hardening/property.test.ts: request reader round-trips and random
// bytes, random stream-command argument vectors and random bytes against a live server) with a random seed
// and many more runs than CI. Prints the seed first: `SPOOL_FUZZ_SEED=<seed> npx vitest run
// test/hardening/property.test.ts` replays a failure (fast-check also prints the shrunk counterexample).
// Usage: node bench/fuzz.js [scale=50] [seed=random]
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const scale = Number(process.argv[2] || 50);
const seed = process.argv[3] !== undefined ? Number(process.argv[3]) : Math.floor(Math.random() * 2 ** 31);
console.log(`fuzz: seed ${seed}, scale ${scale}x the CI run counts`);
const started = Date.now();
const r = spawnSync('npx', ['vitest', 'run', 'test/hardening/property.test.ts', '--testTimeout', String(60000 * Math.max(1, scale)), '--reporter', 'default'], {
  cwd: path.join(__dirname, '..'),
  stdio: 'inherit',
  env: { ...process.env, SPOOL_FUZZ_SEED: String(seed), SPOOL_FUZZ_SCALE: String(scale) },
});
console.log(`fuzz: ${r.status === 0 ? 'passed' : 'FAILED'} in ${((Date.now() - started) / 1000).toFixed(1)} s (seed ${seed})`);
process.exit(r.status ?? 1);
