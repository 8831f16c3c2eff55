#!/usr/bin/env node
'use strict';
// Restart time, Spool against redis-server (AOF replay: aof-use-rdb-preamble no) in the same run: ENTRIES
// (default 1M) entries of 100 B spread over STREAMS (default 100) streams, appendfsync everysec. Each round
// restarts both servers after SIGKILL and after SIGTERM; a restart is timed from spawn until PING answers PONG,
// and the total XLEN is checked after each one. The ratio is Spool/Redis (below 1: Spool is back first).
//
// Usage: npm run build && node bench/restart.js [--entries N] [--streams N] [--rounds N] [--profile DIR]
//   --profile DIR   afterwards, one more SIGKILL restart of Spool under `node --cpu-prof` (profile in DIR, written
//                   at the SIGTERM that follows; read it with bench/profile-top.js)
const path = require('node:path');
const { log, sleep, Server, Client, redisBenchmark, median, benchArgs, checkPrerequisites } = require('./lib/servers');

const { argv, opt } = benchArgs();
const ENTRIES = opt('--entries', 1_000_000);
const STREAMS = opt('--streams', 100);
const ROUNDS = opt('--rounds', 2);
const profileAt = argv.indexOf('--profile');
const PROFILE_DIR = profileAt >= 0 ? path.resolve(argv[profileAt + 1]) : null;
const VALUE = 'x'.repeat(100);
const POLICY = 'everysec';

/** Sum of XLEN over the streams (keys r:000000000000 ... as redis-benchmark's -r makes them). */
async function totalLength(s) {
  const c = await Client.connect(s.port);
  try {
    const keys = await c.call('KEYS', 'r:*');
    let n = 0;
    for (const k of keys) n += Number(await c.call('XLEN', k));
    return n;
  } finally {
    c.close();
  }
}

async function restartOnce(s, signal, expected) {
  await sleep(1500); // settle; before SIGKILL also lets the everysec sync run
  await s.kill(signal);
  const ms = await s.start();
  const n = await totalLength(s);
  if (n !== expected) throw new Error(`${s.label} came back with ${n} entries after ${signal}, expected ${expected}`);
  log(`  ${s.label} after ${signal}: PONG after ${ms.toFixed(0)} ms`);
  return ms;
}

async function main() {
  checkPrerequisites();
  const pair = [new Server('spool', POLICY), new Server('redis', POLICY, { extraArgs: ['--aof-use-rdb-preamble', 'no', '--auto-aof-rewrite-percentage', '0'] })];
  const counts = {};
  for (const s of pair) {
    await s.start();
    log(`loading ${ENTRIES} x 100 B entries into ${STREAMS} streams on ${s.label}`);
    await redisBenchmark(s.port, { n: ENTRIES, pipeline: 64, random: STREAMS, command: ['XADD', 'r:__rand_int__', '*', 'f', VALUE], timeoutMs: 600_000 });
    counts[s.kind] = await totalLength(s);
  }
  const times = { spool: { SIGKILL: [], SIGTERM: [] }, redis: { SIGKILL: [], SIGTERM: [] } };
  for (let r = 0; r < ROUNDS; r++) {
    for (const signal of ['SIGKILL', 'SIGTERM']) {
      for (const s of pair) times[s.kind][signal].push(await restartOnce(s, signal, counts[s.kind]));
    }
  }
  for (const signal of ['SIGKILL', 'SIGTERM']) {
    const a = median(times.spool[signal]);
    const b = median(times.redis[signal]);
    console.log(`restart after ${signal}: Spool ${a.toFixed(0)} ms, Redis ${b.toFixed(0)} ms, ratio ${(a / b).toFixed(2)} (${counts.spool} entries, ${STREAMS} streams, median of ${ROUNDS})`);
  }
  if (PROFILE_DIR) {
    const spool = pair[0];
    await spool.kill('SIGKILL');
    spool.nodeFlags = ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR];
    const ms = await spool.start();
    log(`  profiled restart after SIGKILL: PONG after ${ms.toFixed(0)} ms; profile in ${PROFILE_DIR}`);
    await spool.kill('SIGTERM');
  }
  for (const s of pair) await s.kill('SIGTERM');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
