#!/usr/bin/env node
'use strict';
// Replication benchmark (issue #13): how fast a master takes XADDs while a replica follows it, and how far the
// replica falls behind, for Spool (master + replica) next to redis-server 7 (master + replica) in the same run.
// Both pairs run on 127.0.0.1 with AOF on at the same appendfsync (default everysec) on masters and replicas.
//
// Per case (one stream; 1000 streams with `-r 1000 XADD s:__rand_int__ * f v`), redis-benchmark drives the master
// (50 clients, pipeline 16, a fixed -n) while INFO replication is sampled every 50 ms on the master
// (master_repl_offset) and the replica (slave_repl_offset): lag = the difference in bytes of replication stream.
// After the load: the time until the replica's offset reaches the master's (catch-up). Spool and Redis alternate
// run by run (after one unrecorded warm-up run each) so machine noise hits both. At the end XLEN of a few keys
// and DBSIZE must match between each master and its replica.
//
// Usage: npm run build && npm run bench:replication [-- --quick] [--n N] [--rounds R] [--appendfsync POLICY]
// Writes bench/results/replication-latest.{md,json}. Needs redis-server and redis-benchmark on PATH.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { ROOT, log, sleep, elapsedS, cleanup, Server, Client, parseInfo, redisBenchmark, median, checkPrerequisites, fmtRate, benchArgs } = require('./lib/servers');

const { argv, quick: QUICK, opt } = benchArgs();
const N = opt('--n', QUICK ? 60_000 : 500_000); // XADDs per measured run (the same for both pairs)
const WARMUP_N = Math.max(5_000, Math.round(N / 5));
const ROUNDS = opt('--rounds', QUICK ? 1 : 3);
const POLICY = argv.includes('--appendfsync') ? argv[argv.indexOf('--appendfsync') + 1] : 'everysec';
const CLIENTS = 50;
const PIPELINE = 16;
const SAMPLE_MS = 50;
const CATCH_UP_POLL_MS = 2;
const CATCH_UP_TIMEOUT_MS = 60_000;
const SYNC_TIMEOUT_MS = 60_000;
const LOAD_TIMEOUT_MS = 120_000;
const WATCHDOG_MS = (QUICK ? 5 : 30) * 60_000;
// Redis waits 5 s by default before a diskless full sync to gather more replicas; only the initial (empty) sync
// is affected, nothing that is measured.
const REDIS_MASTER_ARGS = ['--repl-diskless-sync-delay', '0'];

const CASES = [
  { name: 'one stream', random: 0, command: ['XADD', 's:one', '*', 'f', 'v'] },
  { name: '1000 streams', random: 1000, command: ['XADD', 's:__rand_int__', '*', 'f', 'v'] },
];

// ------------------------------------------------------------------------------------------- pairs and offsets

const INFO_TIMEOUT_MS = 10_000;

/** INFO replication of a connected client, bounded: a server that stops answering fails the run. */
async function infoReplication(client) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`INFO replication got no answer in ${INFO_TIMEOUT_MS} ms`)), INFO_TIMEOUT_MS);
  });
  try {
    return parseInfo(String(await Promise.race([client.call('INFO', 'replication'), timeout])));
  } finally {
    clearTimeout(timer);
  }
}

const masterOffset = async (client) => Number((await infoReplication(client)).master_repl_offset);
const replicaOffset = async (client) => Number((await infoReplication(client)).slave_repl_offset);

/** Waits (bounded) until the replica's link is up, its sync is done and its offset equals the master's. */
async function waitInSync(pair) {
  const deadline = Date.now() + SYNC_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const r = await infoReplication(pair.replicaClient);
    const m = await masterOffset(pair.masterClient);
    if (r.master_link_status === 'up' && r.master_sync_in_progress === '0' && Number(r.slave_repl_offset) >= m) return;
    await sleep(50);
  }
  throw new Error(`${pair.label} replica did not get in sync with its master within ${SYNC_TIMEOUT_MS} ms`);
}

/** A master and its replica of one kind, started in `servers` (so the caller stops them even if this throws). */
async function startReplicatedPair(kind, servers) {
  const master = new Server(kind, POLICY, { extraArgs: kind === 'redis' ? REDIS_MASTER_ARGS : [] });
  servers.push(master);
  await master.start();
  const replica = new Server(kind, POLICY);
  servers.push(replica);
  await replica.start();
  const pair = { kind, label: master.label, master, replica, masterClient: await Client.connect(master.port), replicaClient: await Client.connect(replica.port) };
  await pair.replicaClient.call('REPLICAOF', '127.0.0.1', String(master.port));
  await waitInSync(pair);
  log(`${pair.label}: master :${master.port}, replica :${replica.port} in sync (appendfsync ${POLICY})`);
  return pair;
}

async function stopServers(servers) {
  // Replicas first (reverse start order), so none reconnects to a master that is going away; SIGKILL after 10 s.
  for (const s of [...servers].reverse()) await s.kill('SIGTERM');
}

// ---------------------------------------------------------------------------------------------- one measured run

/**
 * Loads the pair's master with n XADDs of case c while sampling the lag every SAMPLE_MS, then measures the
 * catch-up. Returns {rps, p50, p99, seconds, lagMax, lagMedian, samples, catchUpMs, bytesPerXadd}.
 */
async function measureRun(pair, c, n) {
  const { masterClient: mc, replicaClient: rc } = pair;
  const offsetBefore = await masterOffset(mc);
  const lags = [];
  let loadEnd = 0n;
  let loading = true;
  const load = redisBenchmark(pair.master.port, { n, pipeline: PIPELINE, random: c.random, command: c.command, clients: CLIENTS, timeoutMs: LOAD_TIMEOUT_MS }).finally(() => {
    loadEnd = process.hrtime.bigint();
    loading = false;
  });
  const sampler = (async () => {
    while (loading) {
      const t = Date.now();
      // Both asked at once; they are not one atomic read, so a sample may be slightly off (never below 0).
      const [m, r] = await Promise.all([masterOffset(mc), replicaOffset(rc)]);
      if (loading) lags.push(Math.max(0, m - r));
      await sleep(Math.max(0, SAMPLE_MS - (Date.now() - t)));
    }
  })();
  try {
    const res = await load;
    const target = await masterOffset(mc);
    let catchUpMs = NaN;
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if ((await replicaOffset(rc)) >= target) {
        catchUpMs = Number(process.hrtime.bigint() - loadEnd) / 1e6;
        break;
      }
      await sleep(CATCH_UP_POLL_MS);
    }
    if (!Number.isFinite(catchUpMs)) throw new Error(`${pair.label} replica did not reach offset ${target} within ${CATCH_UP_TIMEOUT_MS} ms after the load`);
    return {
      rps: res.rps,
      p50: res.p50,
      p99: res.p99,
      seconds: +res.seconds.toFixed(2),
      lagMax: lags.length ? Math.max(...lags) : NaN,
      lagMedian: median(lags),
      samples: lags.length,
      catchUpMs: +catchUpMs.toFixed(1),
      bytesPerXadd: +((target - offsetBefore) / n).toFixed(1),
    };
  } finally {
    loading = false;
    await sampler.catch(() => {});
  }
}

/** XLEN of a few keys (the one-stream key and some of the 1000) and DBSIZE must match on master and replica. */
async function checkReplicaData(pair) {
  const scan = await pair.masterClient.call('SCAN', '0', 'MATCH', 's:0*', 'COUNT', '200');
  const keys = ['s:one', ...scan[1].map(String).slice(0, 4)];
  const checked = [];
  for (const key of [...keys, null]) {
    const args = key === null ? ['DBSIZE'] : ['XLEN', key];
    const m = Number(await pair.masterClient.call(...args));
    const r = Number(await pair.replicaClient.call(...args));
    if (m !== r) throw new Error(`${pair.label}: ${args.join(' ')} is ${m} on the master but ${r} on the replica`);
    checked.push({ check: args.join(' '), value: m });
  }
  log(`${pair.label}: replica matches master (${checked.map((x) => `${x.check}=${x.value}`).join(', ')})`);
  return checked;
}

// ---------------------------------------------------------------------------------------------------- the runs

function summarize(runs) {
  return {
    rps: median(runs.map((r) => r.rps)),
    lagMax: Math.max(...runs.map((r) => r.lagMax)),
    lagMedian: median(runs.map((r) => r.lagMedian)),
    catchUpMs: median(runs.map((r) => r.catchUpMs)),
    bytesPerXadd: median(runs.map((r) => r.bytesPerXadd)),
    samples: median(runs.map((r) => r.samples)),
    runs,
  };
}

async function runAll(pairs) {
  for (const c of CASES) {
    for (const pair of pairs) {
      const w = await measureRun(pair, c, WARMUP_N);
      log(`  ${c.name}  ${pair.label.padEnd(5)} warm-up: ${Math.round(w.rps)}/s`);
    }
  }
  const runs = {};
  for (const c of CASES) runs[c.name] = { spool: [], redis: [] };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CASES) {
      for (const pair of pairs) {
        const r = await measureRun(pair, c, N);
        runs[c.name][pair.kind].push(r);
        log(`  ${c.name}  ${pair.label.padEnd(5)} round ${round}: ${Math.round(r.rps)}/s (${r.seconds} s), lag max ${r.lagMax} B, median ${r.lagMedian} B (${r.samples} samples), catch-up ${r.catchUpMs} ms`);
      }
    }
  }
  return CASES.map((c) => ({ name: c.name, command: c.command.join(' '), random: c.random, spool: summarize(runs[c.name].spool), redis: summarize(runs[c.name].redis) }));
}

// ------------------------------------------------------------------------------------------------------ output

const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');
const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : 'n/a');

function markdown(meta, cases) {
  const L = [];
  L.push(`Run ${meta.date} (${meta.mode}; ${meta.rounds} measured round(s) per pair and case, medians), ${meta.cpus} CPUs (shared, noisy), Node ${meta.node}, ${meta.redisVersion}, Spool ${meta.spoolVersion}.`);
  L.push('');
  L.push(
    `Spool master + Spool replica next to redis-server master + redis-server replica, all on 127.0.0.1, AOF on with \`appendfsync ${meta.policy}\` on all four. redis-benchmark drives each master with ${meta.n.toLocaleString('en')} XADDs per run (${meta.clients} clients, pipeline ${meta.pipeline}); the pairs alternate run by run. Lag: master \`master_repl_offset\` minus replica \`slave_repl_offset\` (INFO replication), sampled every ${meta.sampleMs} ms during the load: the largest sample and the median sample, in bytes of replication stream. Catch-up: from the end of the load until the replica's offset reaches the master's.`,
  );
  L.push('');
  L.push('| case | measure | Spool | Redis | Spool/Redis |');
  L.push('|---|---|---:|---:|---:|');
  for (const c of cases) {
    const s = c.spool;
    const r = c.redis;
    L.push(`| ${c.name} | master XADD/s | ${fmtRate(s.rps)} | ${fmtRate(r.rps)} | ${ratio(s.rps, r.rps)} |`);
    L.push(`| ${c.name} | lag max (bytes) | ${fmtInt(s.lagMax)} | ${fmtInt(r.lagMax)} | ${ratio(s.lagMax, r.lagMax)} |`);
    L.push(`| ${c.name} | lag median (bytes) | ${fmtInt(s.lagMedian)} | ${fmtInt(r.lagMedian)} | ${ratio(s.lagMedian, r.lagMedian)} |`);
    L.push(`| ${c.name} | lag samples per run | ${fmtInt(s.samples)} | ${fmtInt(r.samples)} | |`);
    L.push(`| ${c.name} | catch-up after the load (ms) | ${s.catchUpMs.toFixed(1)} | ${r.catchUpMs.toFixed(1)} | ${ratio(s.catchUpMs, r.catchUpMs)} |`);
    L.push(`| ${c.name} | replication stream bytes per XADD | ${s.bytesPerXadd.toFixed(1)} | ${r.bytesPerXadd.toFixed(1)} | ${ratio(s.bytesPerXadd, r.bytesPerXadd)} |`);
  }
  L.push('');
  L.push(`Throughput ratios above 1 favour Spool; lag and catch-up ratios above 1 favour Redis. Lag counts bytes of each server's own replication stream (the last row gives its size per XADD). After the runs, XLEN of ${meta.checked.spool.length - 1} keys and DBSIZE matched between each master and its replica.`);
  return L.join('\n') + '\n';
}

function spoolVersion() {
  const git = (...a) => spawnSync('git', ['-C', ROOT, ...a]).stdout.toString().trim();
  return `${git('rev-parse', '--short', 'HEAD')}${git('status', '--porcelain', '--', 'src').length > 0 ? ' + uncommitted src changes' : ''}`;
}

// -------------------------------------------------------------------------------------------------------- main

async function main() {
  // The whole run is bounded too: past WATCHDOG_MS every child is killed (cleanup) and the process exits.
  setTimeout(() => {
    log(`still running after ${WATCHDOG_MS / 1000} s: stopping`);
    cleanup();
    process.exit(1);
  }, WATCHDOG_MS).unref();
  const redisVersion = checkPrerequisites();
  log(`mode ${QUICK ? 'quick' : 'full'}: ${ROUNDS} round(s), n=${N} per run (warm-up ${WARMUP_N}), appendfsync ${POLICY}`);
  const servers = [];
  const pairs = [];
  try {
    pairs.push(await startReplicatedPair('spool', servers));
    pairs.push(await startReplicatedPair('redis', servers));
    const cases = await runAll(pairs);
    const checked = {};
    for (const pair of pairs) checked[pair.kind] = await checkReplicaData(pair);
    const meta = {
      date: new Date().toISOString(),
      policy: POLICY,
      mode: QUICK ? 'quick' : 'full',
      n: N,
      rounds: ROUNDS,
      warmupN: WARMUP_N,
      clients: CLIENTS,
      pipeline: PIPELINE,
      sampleMs: SAMPLE_MS,
      redisMasterArgs: REDIS_MASTER_ARGS,
      cpus: os.cpus().length,
      node: process.version,
      redisVersion,
      spoolVersion: spoolVersion(),
      checked,
      seconds: Math.round(elapsedS()),
    };
    const md = markdown(meta, cases);
    const base = path.join(__dirname, 'results', 'replication-latest');
    fs.mkdirSync(path.dirname(base), { recursive: true });
    fs.writeFileSync(`${base}.json`, JSON.stringify({ meta, cases }, null, 2) + '\n');
    fs.writeFileSync(`${base}.md`, md);
    process.stdout.write(md);
    log(`wrote ${path.relative(ROOT, base)}.{md,json} in ${elapsedS().toFixed(0)} s`);
  } finally {
    for (const pair of pairs) {
      pair.masterClient.close();
      pair.replicaClient.close();
    }
    await stopServers(servers);
  }
}

main()
  .catch((err) => {
    log(`error: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
