#!/usr/bin/env node
'use strict';
// Durability benchmark: Spool against redis-server with `appendonly yes` at the same appendfsync policy, in the
// same run, both with their data in temp dirs on the same filesystem, both on 127.0.0.1.
//
//   1. XADD throughput and latency (redis-benchmark, 50 clients, 100-byte values, one stream) for
//      appendfsync always / everysec / no and pipeline 1 / 64. Per case: a warm-up run per server, then
//      Spool, Redis, Spool, Redis ... (medians), so machine noise affects both.
//   2. Restart time with ENTRIES (1M) x 100-byte entries in one stream (appendfsync everysec): spawn until the
//      server answers PING with PONG (and until XLEN returns the full count), after SIGKILL and after SIGTERM.
//      Redis runs with aof-use-rdb-preamble no and auto-aof-rewrite-percentage 0, so its restart is a replay of
//      the XADD commands in its AOF; it is then also measured after BGREWRITEAOF with the RDB preamble on (what a
//      default Redis 7 reaches once its AOF has grown past 64 MB and been rewritten).
//   3. Memory per entry after the load and after a restart, as growth from the empty server divided by the
//      entries: Spool's process.memoryUsage() after a full GC (heapUsed + arrayBuffers; the Spool of this phase
//      runs with --expose-gc --require bench/lib/memprobe.js, which answers SIGUSR2) against Redis's INFO
//      used_memory; both servers' INFO used_memory (Spool's: heapUsed + external, which counts the mapped
//      segments) and RssAnon from /proc/PID/status (anonymous resident memory, no file-backed mappings).
//
// Usage: npm run build && npm run bench:durability [-- --quick]
//   --quick       2 rounds, ~1.5 s runs, 256k entries for restart/memory (a few minutes)
//   --rounds N, --seconds S, --entries N   override
//   SPOOL_ROOT=/path/to/built/checkout    run that checkout's bin/spool-server.js instead of this one's
// Writes bench/results/durability-<YYYY-MM-DD>.{md,json} (quick: durability-<YYYY-MM-DD>-quick.*) and prints the
// Markdown.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  ROOT,
  SPOOL_ROOT,
  DEFAULT_CLIENTS: CLIENTS,
  TEMP_BASE,
  tempDir,
  log,
  elapsedS,
  sleep,
  Server,
  Client,
  redisBenchmark,
  median,
  startPair,
  stopPair,
  benchPair,
  checkPrerequisites,
  fmtRate,
  fmtMs,
  cleanup,
  benchArgs,
} = require('./lib/servers');

const { quick: QUICK, opt } = benchArgs();
const ROUNDS = opt('--rounds', QUICK ? 2 : 3);
const TARGET_S = opt('--seconds', QUICK ? 1.5 : 3);
const ENTRIES = opt('--entries', QUICK ? 256_000 : 1_000_000);
const RESTART_ROUNDS = QUICK ? 1 : 3;
const POLICIES = ['always', 'everysec', 'no'];
const PIPELINES = [1, 64];
const VALUE = 'x'.repeat(100);
const LOAD_TIMEOUT_MS = 300_000; // the bulk load of ENTRIES, per server
const RESTART_POLICY = 'everysec';
const REDIS_AOF_REPLAY_ARGS = ['--aof-use-rdb-preamble', 'no', '--auto-aof-rewrite-percentage', '0'];

const results = { throughput: [], redisAofRewrites: {}, restart: null, memory: null };

// ------------------------------------------------------------------------------------------ 1. throughput

async function throughput() {
  for (const policy of POLICIES) {
    const pair = await startPair(policy);
    try {
      for (const pipeline of PIPELINES) {
        const prior = pipeline === 1 ? { spool: 20_000, redis: 40_000 } : { spool: 60_000, redis: 250_000 };
        const c = { name: `XADD P${pipeline} ${policy}`, group: 'xadd', pipeline, prior, command: ['XADD', `d:p${pipeline}`, '*', 'f', VALUE] };
        results.throughput.push(await benchPair(pair, c, { rounds: ROUNDS, targetS: TARGET_S, clients: CLIENTS }));
      }
      // Redis (default auto-aof-rewrite settings here) may have rewritten its AOF in the background meanwhile.
      results.redisAofRewrites[policy] = Number((await pair[1].info('persistence')).aof_rewrites);
    } finally {
      await stopPair(pair);
    }
  }
}

// ------------------------------------------------------------------------------------ 2. restart and memory

/** Spool's process.memoryUsage() after a full GC, from bench/lib/memprobe.js (SIGUSR2, then its file). */
async function spoolProbe(s) {
  const file = s.env.SPOOL_MEMPROBE_FILE;
  fs.rmSync(file, { force: true });
  s.child.kill('SIGUSR2');
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8'));
    await sleep(20);
  }
  throw new Error('Spool memory probe did not answer');
}

async function memorySample(s) {
  const info = await s.info('memory');
  const sample = { usedMemory: Number(info.used_memory), usedMemoryRss: Number(info.used_memory_rss), rssAnonKiB: s.rssAnonKiB() };
  if (s.kind === 'spool') {
    const p = await spoolProbe(s);
    sample.rssAnonKiB = s.rssAnonKiB(); // after the GC the probe ran
    Object.assign(sample, { heapUsed: p.heapUsed, heapTotal: p.heapTotal, external: p.external, arrayBuffers: p.arrayBuffers, rss: p.rss, gc: p.gc });
  }
  return sample;
}

/** Allocated bytes (st_blocks) and apparent bytes of every file under dir but the server's own stdout log. */
function diskUsage(dir) {
  let allocated = 0;
  let apparent = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && !(d === dir && /^(spool|redis)\.log$/.test(e.name))) {
        const st = fs.statSync(p);
        allocated += st.blocks * 512;
        apparent += st.size;
      }
    }
  };
  walk(dir);
  return { allocated, apparent };
}

/** Stops s with signal (SIGKILL: after the everysec sync had time to run), starts it again; returns timings. */
async function restartOnce(s, signal, expected) {
  await sleep(1500); // settle; before SIGKILL also lets the everysec sync bring the last second to disk
  await s.kill(signal);
  const t = process.hrtime.bigint();
  const pingMs = await s.start();
  const c = await Client.connect(s.port);
  const len = Number(await c.call('XLEN', 'r'));
  const xlenMs = Number(process.hrtime.bigint() - t) / 1e6;
  c.close();
  if (len !== expected) throw new Error(`${s.label} came back with ${len} entries after ${signal}, expected ${expected}`);
  log(`  restart ${s.label} after ${signal}: PONG after ${pingMs.toFixed(0)} ms, XLEN ${len} after ${xlenMs.toFixed(0)} ms`);
  return { signal, pingMs, xlenMs };
}

/** Waits for Redis's background AOF rewrite (BGREWRITEAOF) to finish; bounded. */
async function bgRewriteAof(s) {
  const before = Number((await s.info('persistence')).aof_rewrites);
  const c = await Client.connect(s.port);
  await c.call('BGREWRITEAOF');
  c.close();
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const p = await s.info('persistence');
    if (Number(p.aof_rewrites) > before && p.aof_rewrite_in_progress === '0' && p.aof_rewrite_scheduled === '0') return;
    await sleep(100);
  }
  throw new Error('BGREWRITEAOF did not finish in 120 s');
}

async function restartAndMemory() {
  const spool = new Server('spool', RESTART_POLICY, {
    nodeFlags: ['--expose-gc', '--require', path.join(__dirname, 'lib', 'memprobe.js')],
    env: { SPOOL_MEMPROBE_FILE: path.join(tempDir('memprobe'), 'memory.json') },
  });
  const redis = new Server('redis', RESTART_POLICY, { extraArgs: REDIS_AOF_REPLAY_ARGS });
  const pair = [spool, redis];
  const out = {};
  for (const s of pair) {
    const emptyStartMs = await s.start();
    await sleep(500);
    const before = await memorySample(s);
    log(`  loading ${ENTRIES} x 100 B entries into one stream on ${s.label} (P64, ${CLIENTS} clients)`);
    const load = await redisBenchmark(s.port, { n: ENTRIES, pipeline: 64, command: ['XADD', 'r', '*', 'f', VALUE], timeoutMs: LOAD_TIMEOUT_MS });
    const c = await Client.connect(s.port);
    const len = Number(await c.call('XLEN', 'r')); // redis-benchmark -P rounds n up to whole pipelines
    c.close();
    if (len < ENTRIES || len >= ENTRIES + CLIENTS * 64) throw new Error(`${s.label}: XLEN ${len} after loading ${ENTRIES}`);
    await sleep(1500); // let commit batches, the everysec sync and GC settle before reading memory
    const after = await memorySample(s);
    out[s.kind] = { entries: len, emptyStartMs, loadRps: load.rps, loadSeconds: load.seconds, before, after, restarts: [] };
    log(`  ${s.label}: loaded at ${Math.round(load.rps)}/s; used_memory +${((after.usedMemory - before.usedMemory) / 2 ** 20).toFixed(1)} MiB, RssAnon +${((after.rssAnonKiB - before.rssAnonKiB) / 1024).toFixed(1)} MiB`);
  }
  // Alternate the servers: the first SIGKILL of each is a crash right after the bulk load (never shut down cleanly).
  for (let r = 0; r < RESTART_ROUNDS; r++) {
    for (const signal of ['SIGKILL', 'SIGTERM']) {
      for (const s of pair) out[s.kind].restarts.push({ round: r + 1, ...(await restartOnce(s, signal, out[s.kind].entries)) });
    }
    if (r === 0) {
      for (const s of pair) {
        await sleep(1500);
        out[s.kind].afterRestart = await memorySample(s);
      }
    }
  }
  for (const s of pair) out[s.kind].disk = diskUsage(s.dir);
  // Redis again, after a rewrite to an RDB-preamble base (what a default Redis 7 loads once it has rewritten).
  const rdb = [];
  {
    const c = await Client.connect(redis.port);
    await c.call('CONFIG', 'SET', 'aof-use-rdb-preamble', 'yes');
    c.close();
    await bgRewriteAof(redis);
    out.redis.diskRdbPreamble = diskUsage(redis.dir);
    for (let r = 0; r < RESTART_ROUNDS; r++) rdb.push(await restartOnce(redis, 'SIGTERM', out.redis.entries));
    out.redis.restartsRdbPreamble = rdb;
  }
  await stopPair(pair);
  for (const kind of ['spool', 'redis']) {
    const x = out[kind];
    const med = (signal, key) => median(x.restarts.filter((e) => e.signal === signal).map((e) => e[key]));
    x.restartKillPingMs = med('SIGKILL', 'pingMs');
    x.restartKillXlenMs = med('SIGKILL', 'xlenMs');
    x.restartTermPingMs = med('SIGTERM', 'pingMs');
    x.restartTermXlenMs = med('SIGTERM', 'xlenMs');
    x.firstKillPingMs = x.restarts[0].pingMs;
    if (kind === 'spool') {
      // What the process owns in JS: the V8 heap plus ArrayBuffer memory (typed arrays, Buffers), not mappings.
      const own = (m) => m.heapUsed + m.arrayBuffers;
      x.heapPerEntry = (own(x.after) - own(x.before)) / x.entries;
      x.heapPerEntryAfterRestart = (own(x.afterRestart) - own(x.before)) / x.entries;
      x.heapUsedPerEntry = (x.after.heapUsed - x.before.heapUsed) / x.entries;
      x.externalPerEntry = (x.after.external - x.before.external) / x.entries;
    }
    x.usedMemoryPerEntry = (x.after.usedMemory - x.before.usedMemory) / x.entries;
    x.rssAnonPerEntry = ((x.after.rssAnonKiB - x.before.rssAnonKiB) * 1024) / x.entries;
    x.usedMemoryPerEntryAfterRestart = (x.afterRestart.usedMemory - x.before.usedMemory) / x.entries;
    x.rssAnonPerEntryAfterRestart = ((x.afterRestart.rssAnonKiB - x.before.rssAnonKiB) * 1024) / x.entries;
  }
  out.redis.restartRdbPreamblePingMs = median(rdb.map((e) => e.pingMs));
  out.redis.restartRdbPreambleXlenMs = median(rdb.map((e) => e.xlenMs));
  results.restart = { entries: ENTRIES, valueBytes: VALUE.length, policy: RESTART_POLICY, rounds: RESTART_ROUNDS, redisArgs: REDIS_AOF_REPLAY_ARGS, spool: out.spool, redis: out.redis };
}

// ----------------------------------------------------------------------------------------------------- output

const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');
const fmtS = (ms) => (Number.isFinite(ms) ? (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`) : 'n/a');
const fmtMiB = (b) => `${(b / 2 ** 20).toFixed(1)} MiB`;
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : 'n/a');

function markdown(meta) {
  const L = [];
  L.push(`Run ${meta.date} (${meta.mode}; ${meta.rounds} measured rounds per server and case, medians), ${meta.cpus} CPUs (${meta.machineNote}), Node ${meta.node}, ${meta.redisVersion}.`);
  L.push(`Spool ${meta.spoolVersion}; data dirs: temp dirs on one ${meta.filesystem.type} filesystem (${meta.filesystem.sameDevice ? 'same device' : 'DIFFERENT devices'}), 127.0.0.1 only.`);
  L.push('');
  L.push(`XADD into one stream, 100-byte value, redis-benchmark with ${CLIENTS} clients; Spool and Redis alternate run by run. Redis: \`appendonly yes\`, same \`appendfsync\`, default rewrite settings. Latency is redis-benchmark's per-request latency (with pipelining: the whole pipeline's round trip).`);
  L.push('');
  L.push('| appendfsync | pipeline | Spool ops/s | Redis ops/s | Spool/Redis | Spool p50 / p99 ms | Redis p50 / p99 ms |');
  L.push('|---|---:|---:|---:|---:|---:|---:|');
  for (const c of results.throughput) {
    L.push(`| ${c.policy} | ${c.pipeline} | ${fmtRate(c.spool.rps)} | ${fmtRate(c.redis.rps)} | ${c.ratio.toFixed(2)} | ${fmtMs(c.spool.p50)} / ${fmtMs(c.spool.p99)} | ${fmtMs(c.redis.p50)} / ${fmtMs(c.redis.p99)} |`);
  }
  const rw = Object.entries(results.redisAofRewrites).filter(([, n]) => n > 0);
  if (rw.length) L.push('', `Redis rewrote its AOF in the background during these runs (${rw.map(([p, n]) => `${p}: ${n}x`).join(', ')}).`);
  const r = results.restart;
  if (r) {
    const s = r.spool;
    const d = r.redis;
    L.push('');
    const n = r.spool.entries === r.redis.entries ? fmtInt(r.spool.entries) : `${fmtInt(r.spool.entries)} (Spool) / ${fmtInt(r.redis.entries)} (Redis)`;
    L.push(`${n} entries x ${r.valueBytes} B in one stream, appendfsync ${r.policy}; restart = spawn until PING answers PONG (median of ${r.rounds}; XLEN checked after every restart). Redis restarts replay its AOF (\`aof-use-rdb-preamble no\`, \`auto-aof-rewrite-percentage 0\`: every XADD is replayed); the RDB-preamble row is after \`BGREWRITEAOF\` with the preamble on.`);
    L.push('');
    L.push('| | Spool | Redis | Spool/Redis |');
    L.push('|---|---:|---:|---:|');
    L.push(`| Bulk load rate (P64) | ${fmtRate(s.loadRps)}/s | ${fmtRate(d.loadRps)}/s | ${ratio(s.loadRps, d.loadRps)} |`);
    L.push(`| Start, empty dir | ${fmtS(s.emptyStartMs)} | ${fmtS(d.emptyStartMs)} | ${ratio(s.emptyStartMs, d.emptyStartMs)} |`);
    L.push(`| Restart after SIGKILL (first: crash right after the load) | ${fmtS(s.restartKillPingMs)} (first ${fmtS(s.firstKillPingMs)}) | ${fmtS(d.restartKillPingMs)} (first ${fmtS(d.firstKillPingMs)}) | ${ratio(s.restartKillPingMs, d.restartKillPingMs)} |`);
    L.push(`| Restart after SIGTERM | ${fmtS(s.restartTermPingMs)} | ${fmtS(d.restartTermPingMs)} | ${ratio(s.restartTermPingMs, d.restartTermPingMs)} |`);
    L.push(`| Restart after SIGTERM, Redis AOF with RDB preamble | ${fmtS(s.restartTermPingMs)} | ${fmtS(d.restartRdbPreamblePingMs)} | ${ratio(s.restartTermPingMs, d.restartRdbPreamblePingMs)} |`);
    L.push(`| Data on disk (allocated; apparent) | ${fmtMiB(s.disk.allocated)}; ${fmtMiB(s.disk.apparent)} | ${fmtMiB(d.disk.allocated)}; ${fmtMiB(d.disk.apparent)} (RDB preamble: ${fmtMiB(d.diskRdbPreamble.allocated)}) | ${ratio(s.disk.allocated, d.disk.allocated)} |`);
    L.push(`| Heap per entry: Spool V8 heapUsed + arrayBuffers after a full GC, Redis used_memory | ${s.heapPerEntry.toFixed(0)} B | ${d.usedMemoryPerEntry.toFixed(0)} B | ${ratio(s.heapPerEntry, d.usedMemoryPerEntry)} |`);
    L.push(`| Heap per entry, same, after a restart | ${s.heapPerEntryAfterRestart.toFixed(0)} B | ${d.usedMemoryPerEntryAfterRestart.toFixed(0)} B | ${ratio(s.heapPerEntryAfterRestart, d.usedMemoryPerEntryAfterRestart)} |`);
    L.push(`| INFO used_memory per entry (growth after the load) | ${s.usedMemoryPerEntry.toFixed(0)} B | ${d.usedMemoryPerEntry.toFixed(0)} B | ${ratio(s.usedMemoryPerEntry, d.usedMemoryPerEntry)} |`);
    L.push(`| RssAnon per entry (growth after the load) | ${s.rssAnonPerEntry.toFixed(0)} B | ${d.rssAnonPerEntry.toFixed(0)} B | ${ratio(s.rssAnonPerEntry, d.rssAnonPerEntry)} |`);
    L.push(`| RssAnon per entry after a restart | ${s.rssAnonPerEntryAfterRestart.toFixed(0)} B | ${d.rssAnonPerEntryAfterRestart.toFixed(0)} B | ${ratio(s.rssAnonPerEntryAfterRestart, d.rssAnonPerEntryAfterRestart)} |`);
    L.push('');
    L.push(
      "Throughput ratios above 1 favour Spool; time, disk and memory ratios above 1 favour Redis. Memory is growth from the empty server divided by the entries. Spool's heap figure (V8 heapUsed + arrayBuffers) comes from process.memoryUsage() after global.gc() (the server preloads bench/lib/memprobe.js with --expose-gc for this phase only); its INFO used_memory is heapUsed + external, and external also counts the mapped segment files. Redis's used_memory is its allocator's count. RssAnon (/proc/PID/status) is anonymous resident memory: it excludes file-backed mappings such as Spool's segments.",
    );
  }
  return L.join('\n') + '\n';
}

function filesystemInfo() {
  fs.mkdirSync(TEMP_BASE, { recursive: true });
  const probe = [tempDir('spool-probe'), tempDir('redis-probe')]; // named as the servers' dirs are
  const fsType = (d) => spawnSync('findmnt', ['-n', '-o', 'FSTYPE', '-T', d]).stdout?.toString().trim() || spawnSync('stat', ['-f', '-c', '%T', d]).stdout?.toString().trim();
  const type = fsType(probe[0]) || 'unknown';
  return { base: TEMP_BASE, type, sameDevice: fs.statSync(probe[0]).dev === fs.statSync(probe[1]).dev };
}

function spoolVersion() {
  const git = (...a) => spawnSync('git', ['-C', ROOT, ...a]).stdout.toString().trim();
  if (SPOOL_ROOT !== ROOT) return `from ${SPOOL_ROOT}${process.env.SPOOL_LABEL ? ` (${process.env.SPOOL_LABEL})` : ''}`;
  const dirty = git('status', '--porcelain', '--', 'src').length > 0;
  return `${git('rev-parse', '--short', 'HEAD')}${dirty ? ' + uncommitted src changes' : ''}`;
}

// ------------------------------------------------------------------------------------------------------- main

async function main() {
  const redisVersion = checkPrerequisites();
  const filesystem = filesystemInfo();
  log(`mode ${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds, ~${TARGET_S} s per run, ${ENTRIES} entries for restart/memory; data under ${filesystem.base} (${filesystem.type})`);
  await throughput();
  log('restart and memory');
  await restartAndMemory();

  const date = new Date();
  const meta = {
    date: date.toISOString(),
    mode: QUICK ? 'quick' : 'full',
    rounds: ROUNDS,
    targetSecondsPerRun: TARGET_S,
    clients: CLIENTS,
    valueBytes: VALUE.length,
    entries: ENTRIES,
    cpus: os.cpus().length,
    machineNote: 'shared, noisy: other jobs use the CPU concurrently',
    node: process.version,
    redisVersion,
    spoolVersion: spoolVersion(),
    filesystem,
    seconds: Math.round(elapsedS()),
  };
  const md = markdown(meta);
  const outDir = path.join(__dirname, 'results');
  const base = path.join(outDir, `durability-${date.toISOString().slice(0, 10)}${QUICK ? '-quick' : ''}`);
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(`${base}.json`, JSON.stringify({ meta, ...results }, null, 2) + '\n');
  fs.writeFileSync(`${base}.md`, md);
  process.stdout.write(md);
  log(`wrote ${path.relative(ROOT, base)}.{md,json} in ${elapsedS().toFixed(0)} s`);
}

main()
  .catch((err) => {
    log(`error: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
