#!/usr/bin/env node
'use strict';
// Soak run (issue 6): mixed producers, consumer groups, blocking readers and trimming against one Spool process
// for a bounded time, memory / fds / latency sampled; prints the report, writes bench/results/soak-<time>.json,
// and exits 1 when the verdict is "growing" or anything failed (errors, a lost acknowledged XADD, a crash).
// The load itself is bench/soakRunner.js (the CI test runs it in a short mode).
//
// Usage: npm run build && npm run soak [-- options]
//   --seconds N       run time (default 600; env SOAK_SECONDS)
//   --sample N        seconds between samples (default 5, 2 for runs under a minute)
//   --warmup N        seconds left out of the verdict (default 20% of the run, at most 60)
//   --rate N          XADD per second aimed at (default 3000)
//   --streams N, --producers N, --consumers N, --readers N, --maxlen N
//   --appendfsync P   passed to spool-server (always | everysec | no)
//   --io-threads N    passed to spool-server (1: no writer threads)
//   --segment-max-size S   passed to spool-server (default 2mb: segments roll over and are deleted often)
//   --no-json         do not write the JSON file
// SPOOL_ROOT=<checkout> runs another built checkout (e.g. a snapshot, so rebuilding this tree changes nothing).
const fs = require('node:fs');
const path = require('node:path');
const { runSoak, formatReport } = require('./soakRunner');

const argv = process.argv.slice(2);
function opt(name, dflt) {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v <= 0) {
    console.error(`${name} needs a positive number`);
    process.exit(2);
  }
  return v;
}

async function main() {
  const seconds = opt('--seconds', Number(process.env.SOAK_SECONDS) || 600);
  const serverArgs = [];
  const fsync = argv.indexOf('--appendfsync');
  if (fsync >= 0) serverArgs.push('--appendfsync', argv[fsync + 1]);
  const ioThreads = argv.indexOf('--io-threads');
  if (ioThreads >= 0) serverArgs.push('--io-threads', argv[ioThreads + 1]);
  const t0 = Date.now();
  const stamp = () => `[${((Date.now() - t0) / 1000).toFixed(0).padStart(4)}s]`;
  const result = await runSoak({
    seconds,
    sampleEvery: opt('--sample', seconds < 60 ? 2 : 5),
    warmup: argv.includes('--warmup') ? opt('--warmup', 0) : undefined,
    rate: opt('--rate', 3000),
    streams: opt('--streams', 4),
    producers: opt('--producers', 3),
    consumers: opt('--consumers', 3),
    readers: opt('--readers', 40),
    maxlen: opt('--maxlen', 5000),
    ...(argv.includes('--segment-max-size') ? { segmentMaxSize: argv[argv.indexOf('--segment-max-size') + 1] } : {}),
    serverArgs,
    log: (line) => process.stderr.write(`${stamp()} ${line}\n`),
  });
  console.log(formatReport(result));
  if (!argv.includes('--no-json')) {
    const dir = path.join(__dirname, 'results');
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, `soak-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(file, JSON.stringify(result, null, 2) + '\n');
    console.log(`written ${path.relative(process.cwd(), file)}`);
  }
  process.exit(result.ok ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
