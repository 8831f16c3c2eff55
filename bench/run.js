#!/usr/bin/env node
'use strict';
// Side-by-side benchmark: Spool against redis-server (AOF on, same appendfsync policy, own temp dir), both on
// loopback, driven by redis-benchmark (50 clients). Every case alternates Spool, Redis, Spool, Redis ... and
// reports medians and the Spool/Redis ratio: benchmark machines are often shared and noisy (other jobs, CPU
// frequency, page cache), so only ratios from the same run mean anything.
//
// Usage: npm run build && npm run bench [-- --quick]
//   --quick   fewer cases and rounds, smaller runs (finishes in under 2 minutes)
//   --rounds N, --seconds S   override rounds per server and target seconds per redis-benchmark run
// Writes bench/results/latest.{json,md,svg}. Needs redis-server and redis-benchmark on PATH.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  DEFAULT_CLIENTS: CLIENTS,
  log,
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
  elapsedS,
  cleanup,
  benchArgs,
  track,
  freePort,
  waitPing,
} = require('./lib/servers');
const { spawn, spawnSync } = require('node:child_process');

const { quick: QUICK, opt } = benchArgs();
const ROUNDS = opt('--rounds', QUICK ? 2 : 3);
const TARGET_S = opt('--seconds', QUICK ? 1.6 : 3); // each measured redis-benchmark run aims at this duration
const MEM_ENTRIES = QUICK ? 200_000 : 1_000_000;
const MEM_STREAMS = 100;
const GROUP_ENTRIES = QUICK ? 20_000 : 100_000;
const PREFILL = 100_000;

// -------------------------------------------------------------------------------------------------- the cases

const results = { cases: [], memory: [], groupLoop: null, reference: null, efficiency: [] };
const VALUE_1K = 'v'.repeat(1024);
const VALUE_100 = 'x'.repeat(100);

// Progress: "case k of N" and an estimate of the time left from the average time of the cases done so far.
const POLICIES = QUICK ? ['everysec', 'always'] : ['always', 'everysec', 'no'];
/** xadd cases of every policy, 1 KiB, reference, two reads, group loop, per-command cost, memory and restart. */
const plannedCases = () => POLICIES.reduce((n, p) => n + xaddCases(p).length, 0) + 1 + 1 + 2 + 1 + 1 + 1;
const progress = { done: 0, total: 0, started: Date.now() };

function startCase(name) {
  const k = ++progress.done;
  const spent = (Date.now() - progress.started) / 1000;
  const left = k > 1 ? ((spent / (k - 1)) * (progress.total - k + 1)).toFixed(0) : '?';
  log(`case ${k} of ${progress.total}: ${name} (${spent.toFixed(0)} s so far, about ${left} s left)`);
}

/** Runs one redis-benchmark case on a Spool/Redis pair (same command line for both). */
function benchCase(pair, c) {
  return benchCaseWith(pair, c, () => c.command);
}

const prior = (redis, spool) => ({ redis, spool });

function xaddCases(policy) {
  const pipes = QUICK ? (policy === 'everysec' ? [1, 64] : policy === 'always' ? [1, 16] : []) : [1, 16, 64];
  const out = [];
  for (const pipeline of pipes) {
    const p = pipeline === 1 ? prior(40_000, 20_000) : prior(300_000, 60_000);
    out.push({ name: `XADD 1 stream P${pipeline} ${policy}`, group: 'xadd', pipeline, prior: p, command: ['XADD', 's', '*', 'f', '__rand_int__'], random: 1_000_000 });
  }
  const pipes1000 = QUICK ? (policy === 'everysec' ? [16] : []) : [1, 16, 64];
  for (const pipeline of pipes1000) {
    const p = pipeline === 1 ? prior(40_000, 20_000) : prior(250_000, 50_000);
    out.push({ name: `XADD 1000 streams P${pipeline} ${policy}`, group: 'xadd', pipeline, prior: p, command: ['XADD', 's:__rand_int__', '*', 'f', '__rand_int__'], random: 1000 });
  }
  return out;
}

async function prefillBig(s) {
  const half = PREFILL / 2;
  await redisBenchmark(s.port, { n: half, pipeline: 64, command: ['XADD', 'big', '*', 'f', VALUE_100] });
  const c = await Client.connect(s.port);
  const mid = await c.call('XADD', 'big', '*', 'f', 'middle');
  await redisBenchmark(s.port, { n: PREFILL - half - 1, pipeline: 64, command: ['XADD', 'big', '*', 'f', VALUE_100] });
  const len = await c.call('XLEN', 'big');
  c.close();
  return { mid: String(mid), len: Number(len) };
}

/** XREADGROUP COUNT 10 + XACK of what was read, by 10 concurrent consumers, until GROUP_ENTRIES are acked. */
async function groupLoop(s) {
  const group = `g${Date.now()}`;
  const admin = await Client.connect(s.port);
  await admin.call('XGROUP', 'CREATE', 'big', group, '0');
  admin.close();
  let acked = 0;
  const started = process.hrtime.bigint();
  const consumers = await Promise.all(Array.from({ length: 10 }, () => Client.connect(s.port)));
  await Promise.all(
    consumers.map(async (c, i) => {
      while (acked < GROUP_ENTRIES) {
        const reply = await c.call('XREADGROUP', 'GROUP', group, `c${i}`, 'COUNT', '10', 'STREAMS', 'big', '>');
        if (!reply) break;
        const ids = reply[0][1].map((e) => String(e[0]));
        if (ids.length === 0) break;
        acked += Number(await c.call('XACK', 'big', group, ...ids));
      }
      c.close();
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  return acked / seconds;
}

async function readCases(pair) {
  const mids = {};
  for (const s of pair) {
    log(`  prefilling ${PREFILL} entries into 'big' on ${s.label}`);
    mids[s.kind] = await prefillBig(s);
  }
  // Read from the middle of the stream (an ID recorded during the prefill), not from its first entry.
  const withMid = (kind, cmd) => cmd.map((a) => (a === '$MID' ? mids[kind].mid : a));
  for (const c of [
    { name: 'XRANGE COUNT 10 (100k stream)', command: ['XRANGE', 'big', '$MID', '+', 'COUNT', '10'] },
    { name: 'XREAD COUNT 10 (100k stream)', command: ['XREAD', 'COUNT', '10', 'STREAMS', 'big', '$MID'] },
  ]) {
    await benchCaseWith(pair, { ...c, group: 'read', pipeline: 16, prior: prior(200_000, 40_000) }, (s) => withMid(s.kind, c.command));
  }
  const loop = {};
  startCase('XREADGROUP COUNT 10 + XACK loop');
  for (let r = 0; r < (QUICK ? 1 : 2); r++) {
    for (const s of pair) {
      const rate = await groupLoop(s);
      (loop[s.kind] ||= []).push(rate);
      log(`  XREADGROUP+XACK loop ${s.label} round ${r + 1}: ${Math.round(rate)} entries/s`);
    }
  }
  const entry = {
    name: 'XREADGROUP COUNT 10 + XACK loop (10 clients)',
    group: 'read',
    policy: pair[0].policy,
    pipeline: 1,
    unit: 'entries/s',
    spool: { rps: median(loop.spool), runs: loop.spool.map((rps) => ({ rps })) },
    redis: { rps: median(loop.redis), runs: loop.redis.map((rps) => ({ rps })) },
  };
  entry.ratio = entry.spool.rps / entry.redis.rps;
  results.cases.push(entry);
}

/** Runs one case on the pair (Spool, Redis, Spool, Redis ...; see benchPair) and records it. */
async function benchCaseWith(pair, c, commandFor) {
  startCase(c.name);
  results.cases.push(await benchPair(pair, c, { rounds: ROUNDS, targetS: TARGET_S, clients: CLIENTS, commandFor }));
}

/** RssAnon growth for MEM_ENTRIES x 100 B in 100 streams, then SIGKILL and time the restart to PING. */
async function memoryAndRestart() {
  const policy = 'everysec';
  for (const kind of ['spool', 'redis']) {
    const s = new Server(kind, policy);
    await s.start();
    const before = s.rssAnonKiB();
    log(`  memory: loading ${MEM_ENTRIES} x 100 B entries into ${MEM_STREAMS} streams on ${s.label}`);
    const load = await redisBenchmark(s.port, { n: MEM_ENTRIES, pipeline: 64, random: MEM_STREAMS, command: ['XADD', 'm:__rand_int__', '*', 'f', VALUE_100] });
    await sleep(500); // let the server settle (commit batches, GC) before reading RSS
    const after = s.rssAnonKiB();
    const c = await Client.connect(s.port);
    const dbsize = Number(await c.call('DBSIZE'));
    c.close();
    await sleep(1500); // everysec: the last second reaches the disk before the kill
    await s.kill('SIGKILL');
    const restartMs = await s.start();
    const c2 = await Client.connect(s.port);
    const dbsizeAfter = Number(await c2.call('DBSIZE'));
    let entriesAfter = 0;
    for (let i = 0; i < MEM_STREAMS; i++) entriesAfter += Number(await c2.call('XLEN', `m:${String(i).padStart(12, '0')}`).catch(() => 0));
    c2.close();
    const rssAfterRestart = s.rssAnonKiB();
    await s.kill('SIGTERM');
    const entry = {
      kind,
      entries: MEM_ENTRIES,
      streams: dbsize,
      loadRps: load.rps,
      rssAnonBeforeKiB: before,
      rssAnonAfterKiB: after,
      growthMiB: (after - before) / 1024,
      growthPer1MMiB: ((after - before) / 1024) * (1_000_000 / MEM_ENTRIES),
      restartMs,
      streamsAfterRestart: dbsizeAfter,
      entriesAfterRestart: entriesAfter,
      rssAnonAfterRestartKiB: rssAfterRestart,
    };
    results.memory.push(entry);
    log(`  memory ${s.label}: RssAnon +${entry.growthMiB.toFixed(1)} MiB for ${MEM_ENTRIES} entries (${dbsize} streams); restart after SIGKILL ${restartMs.toFixed(0)} ms, ${entriesAfter} entries back`);
  }
}

/** The minimal Node server (lib/minimalServer.js): what one Node core can take for XADD here. */
async function startMinimal() {
  const port = await freePort();
  const child = track(spawn(process.execPath, [path.join(__dirname, 'lib', 'minimalServer.js'), String(port)], { stdio: 'ignore' }));
  await waitPing(port, child);
  return { port, kind: 'redis', label: 'Minimal', policy: 'everysec', child };
}

/** XADD P64 on Spool (everysec) against the minimal Node server, alternating, as the other cases. */
async function referenceCase(pair) {
  startCase('XADD P64 against the minimal Node server');
  const spool = pair.find((s) => s.kind === 'spool');
  const minimal = await startMinimal();
  try {
    const c = { name: 'XADD 1 stream P64 everysec', pipeline: 64, random: 1_000_000, prior: prior(600_000, 200_000), command: ['XADD', 'ref', '*', 'f', '__rand_int__'] };
    const entry = await benchPair([spool, minimal], c, { rounds: ROUNDS, targetS: TARGET_S, clients: CLIENTS });
    results.reference = { name: c.name, spool: entry.spool.rps, minimal: entry.redis.rps, ratio: entry.ratio };
  } finally {
    minimal.child.kill('SIGKILL');
  }
}

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/** User + system CPU seconds of a process so far. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/** Young-generation collections (V8 scavenges) Spool logged so far under --trace-gc. */
function scavenges(server) {
  const text = fs.readFileSync(path.join(server.dir, 'spool.log'), 'latin1');
  return (text.match(/Scavenge/g) || []).length;
}

/**
 * Per-command cost, independent of how busy the machine is: the server's CPU time per command (Spool and
 * Redis) and Spool's young-generation collections per million commands (how much the command path
 * allocates), for a fixed number of XADD P64 and XRANGE COUNT 10 P16.
 */
async function efficiency() {
  const cases = [
    { name: 'XADD 1 stream P64', n: QUICK ? 300_000 : 1_000_000, pipeline: 64, random: 1_000_000, command: ['XADD', 's', '*', 'f', '__rand_int__'] },
    { name: 'XRANGE COUNT 10 P16 (100 B values)', n: QUICK ? 100_000 : 300_000, pipeline: 16, command: ['XRANGE', 'big', '-', '+', 'COUNT', '10'] },
  ];
  const servers = [new Server('spool', 'everysec', { nodeFlags: ['--trace-gc'] }), new Server('redis', 'everysec')];
  for (const s of servers) await s.start();
  try {
    for (const s of servers) await redisBenchmark(s.port, { n: 20_000, pipeline: 64, command: ['XADD', 'big', '*', 'f', VALUE_100] });
    for (const c of cases) {
      const row = { name: c.name, n: c.n };
      for (const s of servers) {
        await redisBenchmark(s.port, { ...c, n: Math.ceil(c.n / 4) }); // warm-up (JIT)
        const gcBefore = s.kind === 'spool' ? scavenges(s) : 0;
        const cpuBefore = cpuSeconds(s.child.pid);
        await redisBenchmark(s.port, c);
        row[s.kind] = { cpuUsPerCommand: ((cpuSeconds(s.child.pid) - cpuBefore) / c.n) * 1e6 };
        if (s.kind === 'spool') row.spool.scavengesPer1M = ((scavenges(s) - gcBefore) / c.n) * 1e6;
      }
      row.ratio = row.spool.cpuUsPerCommand / row.redis.cpuUsPerCommand;
      results.efficiency.push(row);
      log(`  efficiency ${c.name}: CPU per command Spool ${row.spool.cpuUsPerCommand.toFixed(2)} us, Redis ${row.redis.cpuUsPerCommand.toFixed(2)} us; Spool ${row.spool.scavengesPer1M.toFixed(0)} young-generation GCs per 1M`);
    }
  } finally {
    for (const s of servers) await s.kill('SIGTERM');
  }
}

// ----------------------------------------------------------------------------------------------------- output

function markdown(meta) {
  const lines = [];
  lines.push(`Run ${meta.date} (${meta.mode}, ${meta.rounds} rounds per server, medians), ${meta.cpus} CPUs, Node ${meta.node}, ${meta.redisVersion}, ${CLIENTS} clients.`);
  lines.push('Shared machine, other jobs running: figures are noisy, compare the Spool/Redis ratio of the same run.');
  lines.push('');
  lines.push('| Case | appendfsync | Spool | Redis | Spool/Redis |');
  lines.push('|---|---|---:|---:|---:|');
  for (const c of results.cases) {
    const unit = c.unit ? ` ${c.unit}` : '/s';
    lines.push(`| ${c.name} | ${c.policy} | ${fmtRate(c.spool.rps)}${unit} | ${fmtRate(c.redis.rps)}${unit} | ${c.ratio.toFixed(2)} |`);
  }
  const lat = results.cases.filter((c) => c.group === 'xadd' && c.pipeline === 1 && c.policy === 'always');
  if (lat.length) {
    lines.push('');
    lines.push('| Latency (redis-benchmark, ms) | Spool p50 | Spool p99 | Redis p50 | Redis p99 |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const c of lat) lines.push(`| ${c.name} | ${fmtMs(c.spool.p50)} | ${fmtMs(c.spool.p99)} | ${fmtMs(c.redis.p50)} | ${fmtMs(c.redis.p99)} |`);
  }
  if (results.reference) {
    const r = results.reference;
    lines.push('');
    lines.push('| Against a minimal Node server (bench/lib/minimalServer.js) | Spool | Minimal | Spool/Minimal |');
    lines.push('|---|---:|---:|---:|');
    lines.push(`| ${r.name} | ${fmtRate(r.spool)}/s | ${fmtRate(r.minimal)}/s | ${r.ratio.toFixed(2)} |`);
  }
  if (results.efficiency.length) {
    lines.push('');
    lines.push('| Per command, fixed count (everysec) | Spool CPU | Redis CPU | Spool/Redis | Spool young-gen GCs per 1M |');
    lines.push('|---|---:|---:|---:|---:|');
    for (const e of results.efficiency) {
      lines.push(`| ${e.name} | ${e.spool.cpuUsPerCommand.toFixed(2)} us | ${e.redis.cpuUsPerCommand.toFixed(2)} us | ${e.ratio.toFixed(2)} | ${e.spool.scavengesPer1M.toFixed(0)} |`);
    }
  }
  if (results.memory.length) {
    const m = Object.fromEntries(results.memory.map((x) => [x.kind, x]));
    const row = (label, f) => `| ${label} | ${m.spool ? f(m.spool) : 'n/a'} | ${m.redis ? f(m.redis) : 'n/a'} |`;
    lines.push('');
    lines.push(`| ${MEM_ENTRIES.toLocaleString('en')} entries x 100 B in ${MEM_STREAMS} streams (everysec) | Spool | Redis |`);
    lines.push('|---|---:|---:|');
    lines.push(row('RssAnon growth', (x) => `${x.growthMiB.toFixed(1)} MiB`));
    if (MEM_ENTRIES !== 1_000_000) lines.push(row('RssAnon growth, scaled to 1M entries', (x) => `${x.growthPer1MMiB.toFixed(1)} MiB`));
    lines.push(row('Restart after SIGKILL (spawn to PONG)', (x) => `${x.restartMs.toFixed(0)} ms`));
    lines.push(row('Entries back after restart', (x) => `${x.entriesAfterRestart.toLocaleString('en')}`));
  }
  return lines.join('\n') + '\n';
}

/**
 * One bar per case: the Spool/Redis ratio on one log scale from 0.1x to 10x around a 1.0x line, so cases of
 * very different rates (100k/s XADD, 10k entries/s group loop) compare at a glance. Absolute rates are labels.
 */
function svg() {
  const cases = results.cases;
  const rowH = 22;
  const labelW = 330;
  const barW = 440;
  const top = 52;
  const width = labelW + barW + 190;
  const height = top + cases.length * rowH + 34;
  const esc = (t) => String(t).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const x = (ratio) => labelW + ((Math.log10(Math.min(10, Math.max(0.1, ratio))) + 1) / 2) * barW;
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push('<rect width="100%" height="100%" fill="#fff"/>');
  out.push('<text x="10" y="18" font-size="14" font-weight="bold">Spool/Redis throughput ratio per case (median of rounds, same run; log scale)</text>');
  for (const tick of [0.1, 0.25, 0.5, 1, 2, 4, 10]) {
    const tx = x(tick).toFixed(1);
    out.push(`<line x1="${tx}" y1="${top - 8}" x2="${tx}" y2="${top + cases.length * rowH}" stroke="${tick === 1 ? '#000' : '#ddd'}"/>`);
    out.push(`<text x="${tx}" y="${top - 12}" text-anchor="middle">${tick}x</text>`);
  }
  cases.forEach((c, i) => {
    const y = top + i * rowH;
    const unit = c.unit ? ` ${c.unit}` : '/s';
    const from = x(1);
    const to = x(c.ratio);
    const color = c.ratio >= 1 ? '#2b7bb9' : '#d2463c';
    out.push(`<text x="${labelW - 8}" y="${y + 14}" text-anchor="end">${esc(`${c.name}${c.name.includes(c.policy) ? '' : ` ${c.policy}`}`)}</text>`);
    out.push(`<rect x="${Math.min(from, to).toFixed(1)}" y="${y + 4}" width="${Math.max(1, Math.abs(to - from)).toFixed(1)}" height="13" fill="${color}"/>`);
    out.push(`<text x="${labelW + barW + 8}" y="${y + 14}">x${c.ratio.toFixed(2)} (${fmtRate(c.spool.rps)} vs ${fmtRate(c.redis.rps)}${esc(unit)})</text>`);
  });
  out.push(`<text x="10" y="${height - 10}" fill="#555">Blue: Spool faster than Redis; red: slower. Shared 2-core machine: compare ratios within one run.</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------------------- main

async function main() {
  const redisVersion = checkPrerequisites();
  log(`mode ${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds per server, ~${TARGET_S} s per redis-benchmark run`);

  progress.total = plannedCases();
  progress.started = Date.now();
  for (const policy of POLICIES) {
    const pair = await startPair(policy);
    try {
      for (const c of xaddCases(policy)) await benchCase(pair, c);
      if (policy === 'everysec') {
        await referenceCase(pair);
        await benchCase(pair, {
          name: 'XADD 1 KiB value P16 everysec',
          group: 'xadd1k',
          pipeline: 16,
          prior: prior(150_000, 30_000),
          command: ['XADD', 's1k', '*', 'f', VALUE_1K],
        });
        await readCases(pair);
      }
    } finally {
      await stopPair(pair);
    }
  }
  startCase('per-command cost');
  await efficiency();
  startCase('memory and restart');
  await memoryAndRestart();

  const meta = {
    date: new Date().toISOString(),
    mode: QUICK ? 'quick' : 'full',
    rounds: ROUNDS,
    targetSecondsPerRun: TARGET_S,
    clients: CLIENTS,
    cpus: os.cpus().length,
    node: process.version,
    redisVersion,
    note: 'Shared 2-core machine with other jobs running: absolute figures are noisy; compare Spool/Redis ratios of the same run.',
  };
  const outDir = path.join(__dirname, 'results');
  fs.mkdirSync(outDir, { recursive: true });
  // A quick run never replaces the full run's files (the README shows those).
  const base = QUICK ? 'quick' : 'latest';
  fs.writeFileSync(path.join(outDir, `${base}.json`), JSON.stringify({ meta, ...results }, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, `${base}.md`), markdown(meta));
  fs.writeFileSync(path.join(outDir, `${base}.svg`), svg());
  process.stdout.write(markdown(meta));
  log(`wrote bench/results/${base}.{json,md,svg} in ${elapsedS().toFixed(0)} s`);
}

main()
  .catch((err) => {
    log(`error: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
