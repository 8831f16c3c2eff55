#!/usr/bin/env node
'use strict';
// Side-by-side benchmark: Spool against redis-server (AOF on, same appendfsync policy, own temp dir), both on
// loopback, driven by redis-benchmark (50 clients). Every case alternates Spool, Redis, Spool, Redis ... and
// reports medians and the Spool/Redis ratio: the machines are shared and noisy (DESIGN.md section 5), so only
// same-run ratios mean anything.
//
// Usage: npm run build && npm run bench [-- --quick]
//   --quick   fewer cases and rounds, smaller runs (finishes in under 2 minutes)
//   --rounds N, --seconds S   override rounds per server and target seconds per redis-benchmark run
// Writes bench/results/latest.{json,md,svg}. Needs redis-server and redis-benchmark on PATH.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const Parser = require('redis-parser');

const ROOT = path.join(__dirname, '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick');
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};
const ROUNDS = opt('--rounds', QUICK ? 2 : 3);
const TARGET_S = opt('--seconds', QUICK ? 1.6 : 3); // each measured redis-benchmark run aims at this duration
const CLIENTS = 50;
const MEM_ENTRIES = QUICK ? 200_000 : 1_000_000;
const MEM_STREAMS = 100;
const GROUP_ENTRIES = QUICK ? 20_000 : 100_000;
const PREFILL = 100_000;
const BENCH_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------- process control

const children = new Set();
const tempDirs = [];
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);

function cleanup() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {}
  }
  children.clear();
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
  tempDirs.length = 0;
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    log(`${sig}: stopping servers`);
    cleanup();
    process.exit(130);
  });
}

function track(child) {
  children.add(child);
  child.on('exit', () => children.delete(child));
  return child;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function tempDir(tag) {
  const base = path.join(os.tmpdir(), 'spool-bench');
  fs.mkdirSync(base, { recursive: true });
  const dir = fs.mkdtempSync(path.join(base, `${tag}-`));
  tempDirs.push(dir);
  return dir;
}

/** Resolves once the server at port answers PING with PONG; returns ms waited. */
async function waitPing(port, child, timeoutMs = 120_000) {
  const start = process.hrtime.bigint();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server on port ${port} exited with ${child.exitCode}`);
    const ok = await new Promise((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      let data = '';
      const done = (v) => {
        sock.destroy();
        resolve(v);
      };
      sock.setTimeout(2000, () => done(false));
      sock.on('error', () => done(false));
      sock.on('connect', () => sock.write('*1\r\n$4\r\nPING\r\n'));
      sock.on('data', (d) => {
        data += d.toString('latin1');
        if (data.includes('\r\n')) done(data.startsWith('+PONG'));
      });
    });
    if (ok) return Number(process.hrtime.bigint() - start) / 1e6;
    await sleep(10);
  }
  throw new Error(`server on port ${port} did not answer PING`);
}

/** A server under test: kind 'spool' or 'redis'. start() may be called again after kill() (same dir = restart). */
class Server {
  constructor(kind, policy) {
    this.kind = kind;
    this.policy = policy;
    this.dir = tempDir(`${kind}-${policy}`);
    this.child = null;
    this.port = 0;
  }

  get label() {
    return this.kind === 'spool' ? 'Spool' : 'Redis';
  }

  async start() {
    this.port = await freePort();
    const out = fs.openSync(path.join(this.dir, `${this.kind}.log`), 'a');
    const args =
      this.kind === 'spool'
        ? [path.join(ROOT, 'bin', 'spool-server.js'), '--port', String(this.port), '--dir', this.dir, '--appendfsync', this.policy]
        : ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', this.policy, '--save', '', '--daemonize', 'no', '--logfile', ''];
    const cmd = this.kind === 'spool' ? process.execPath : 'redis-server';
    const nodeFlags = this.kind === 'spool' && process.env.SPOOL_NODE_FLAGS ? process.env.SPOOL_NODE_FLAGS.split(' ') : [];
    this.child = track(spawn(cmd, [...nodeFlags, ...args], { stdio: ['ignore', out, out] }));
    fs.closeSync(out);
    return waitPing(this.port, this.child);
  }

  rssAnonKiB() {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'latin1');
    const m = /RssAnon:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : NaN;
  }

  async kill(signal = 'SIGKILL') {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------------------------------------ a tiny client

class Client {
  static connect(port) {
    return new Promise((resolve, reject) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      sock.once('error', reject);
      sock.once('connect', () => resolve(new Client(sock)));
    });
  }

  constructor(sock) {
    this.sock = sock;
    this.pending = [];
    this.parser = new Parser({
      returnReply: (r) => this.pending.shift().resolve(r),
      returnError: (e) => this.pending.shift().reject(e),
    });
    sock.on('data', (d) => this.parser.execute(d));
    sock.on('error', (e) => {
      for (const p of this.pending.splice(0)) p.reject(e);
    });
  }

  call(...args) {
    let out = `*${args.length}\r\n`;
    for (const a of args) {
      const s = String(a);
      out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      this.sock.write(out);
    });
  }

  close() {
    this.sock.destroy();
  }
}

// ------------------------------------------------------------------------------------------- redis-benchmark

/** Runs redis-benchmark once; returns {rps, p50, p99, seconds} (latencies in ms). */
function redisBenchmark(port, { n, pipeline = 1, random = 0, command }) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(CLIENTS), '-n', String(n), '-P', String(pipeline), '-q', '--csv'];
  if (random) args.push('-r', String(random));
  args.push(...command);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), BENCH_TIMEOUT_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const lines = out.trim().split('\n');
      const header = (lines[0] || '').split(',').map((s) => s.replace(/"/g, ''));
      const row = (lines[1] || '').split('","').map((s) => s.replace(/"/g, ''));
      const col = (name) => Number(row[header.indexOf(name)]);
      const rps = col('rps');
      if (code !== 0 || !Number.isFinite(rps) || rps <= 0) {
        reject(new Error(`redis-benchmark ${args.join(' ')} failed (${signal || code}): ${err.trim() || out.trim()}`));
        return;
      }
      resolve({ rps, p50: col('p50_latency_ms'), p99: col('p99_latency_ms'), seconds, n });
    });
  });
}

const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Requests for about `seconds` at `rps`, at least a few pipelines per client and a floor against noise. */
function sizeN(rps, seconds, pipeline) {
  const n = Math.round(rps * seconds);
  return Math.max(n, CLIENTS * pipeline * 4, 2000);
}

// -------------------------------------------------------------------------------------------------- the cases

const results = { cases: [], memory: [], groupLoop: null };
const VALUE_1K = 'v'.repeat(1024);
const VALUE_100 = 'x'.repeat(100);

/** Runs one redis-benchmark case on a Spool/Redis pair (same command line for both). */
function benchCase(pair, c) {
  return benchCaseWith(pair, c, () => c.command);
}

async function startPair(policy) {
  const pair = [new Server('spool', policy), new Server('redis', policy)];
  for (const s of pair) await s.start();
  log(`started Spool :${pair[0].port} and Redis :${pair[1].port} (appendfsync ${policy})`);
  return pair;
}

async function stopPair(pair) {
  for (const s of pair) await s.kill('SIGTERM');
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

/**
 * Runs one case: an unrecorded warm-up run per server (also the size probe; Spool's JIT warms up too), then
 * ROUNDS measured runs per server, alternating Spool, Redis, ... each sized from the previous rate to take
 * about TARGET_S seconds. commandFor gives each server its command line (read cases use per-server IDs).
 */
async function benchCaseWith(pair, c, commandFor) {
  const wrapped = pair.map((s) => ({ port: s.port, kind: s.kind, label: s.label, policy: s.policy, cmd: commandFor(s) }));
  const est = {};
  for (const s of wrapped) est[s.kind] = (await redisBenchmark(s.port, { ...c, command: s.cmd, n: sizeN(c.prior[s.kind], 0.35, c.pipeline) })).rps;
  const runs = { spool: [], redis: [] };
  for (let r = 0; r < ROUNDS; r++) {
    for (const s of wrapped) {
      const res = await redisBenchmark(s.port, { ...c, command: s.cmd, n: sizeN(est[s.kind], TARGET_S, c.pipeline) });
      est[s.kind] = res.rps;
      runs[s.kind].push(res);
      log(`  ${c.name}  ${s.label.padEnd(5)} round ${r + 1}: ${Math.round(res.rps)}/s (n=${res.n}, ${res.seconds.toFixed(1)} s, p50 ${res.p50} ms, p99 ${res.p99} ms)`);
    }
  }
  const summary = (xs) => ({
    rps: median(xs.map((x) => x.rps)),
    p50: median(xs.map((x) => x.p50)),
    p99: median(xs.map((x) => x.p99)),
    runs: xs.map((x) => ({ rps: x.rps, p50: x.p50, p99: x.p99, n: x.n, seconds: +x.seconds.toFixed(2) })),
  });
  const entry = { name: c.name, group: c.group, policy: pair[0].policy, pipeline: c.pipeline, spool: summary(runs.spool), redis: summary(runs.redis) };
  entry.ratio = entry.spool.rps / entry.redis.rps;
  results.cases.push(entry);
  log(`  => ${c.name}: Spool ${Math.round(entry.spool.rps)}/s, Redis ${Math.round(entry.redis.rps)}/s, ratio ${entry.ratio.toFixed(2)}`);
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

// ----------------------------------------------------------------------------------------------------- output

const fmtRate = (x) => (Number.isFinite(x) ? (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)) : 'n/a');
const fmtMs = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

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

function svg() {
  const cases = results.cases;
  const rowH = 34;
  const labelW = 330;
  const barW = 420;
  const top = 40;
  const width = labelW + barW + 130;
  const height = top + cases.length * rowH + 30;
  const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  const out = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#fff"/>`);
  out.push(`<text x="10" y="18" font-size="14" font-weight="bold">Spool vs Redis (AOF on), median throughput per case; bars scaled to the faster of the pair</text>`);
  out.push(`<rect x="${labelW}" y="26" width="10" height="10" fill="#2b7bb9"/><text x="${labelW + 14}" y="35">Spool</text>`);
  out.push(`<rect x="${labelW + 70}" y="26" width="10" height="10" fill="#d2463c"/><text x="${labelW + 84}" y="35">Redis</text>`);
  cases.forEach((c, i) => {
    const y = top + i * rowH;
    const max = Math.max(c.spool.rps, c.redis.rps) || 1;
    const unit = c.unit ? ` ${c.unit}` : '/s';
    out.push(`<text x="${labelW - 8}" y="${y + 17}" text-anchor="end">${esc(`${c.name}${c.name.includes(c.policy) ? '' : ` ${c.policy}`}`)}</text>`);
    const bars = [
      ['spool', '#2b7bb9', 2],
      ['redis', '#d2463c', 17],
    ];
    for (const [k, color, dy] of bars) {
      const w = Math.max(1, (c[k].rps / max) * barW);
      out.push(`<rect x="${labelW}" y="${y + dy}" width="${w.toFixed(1)}" height="13" fill="${color}"/>`);
      out.push(`<text x="${(labelW + w + 4).toFixed(1)}" y="${y + dy + 11}">${fmtRate(c[k].rps)}${esc(unit)}${k === 'spool' ? ` (x${c.ratio.toFixed(2)})` : ''}</text>`);
    }
  });
  out.push(`<text x="10" y="${height - 8}" fill="#555">Shared 2-core machine: noisy; compare ratios within one run.</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}

// ------------------------------------------------------------------------------------------------------- main

async function main() {
  for (const tool of ['redis-server', 'redis-benchmark']) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} not found on PATH`);
  }
  if (!fs.existsSync(path.join(ROOT, 'dist', 'main.js'))) throw new Error('dist/ missing: run `npm run build` first');
  const redisVersion = spawnSync('redis-server', ['--version']).stdout.toString().trim().split(' ').slice(0, 3).join(' ');
  log(`mode ${QUICK ? 'quick' : 'full'}: ${ROUNDS} rounds per server, ~${TARGET_S} s per redis-benchmark run`);

  for (const policy of QUICK ? ['everysec', 'always'] : ['always', 'everysec', 'no']) {
    const pair = await startPair(policy);
    try {
      for (const c of xaddCases(policy)) await benchCase(pair, c);
      if (policy === 'everysec') {
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
  log('memory and restart');
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
  fs.writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify({ meta, ...results }, null, 2) + '\n');
  fs.writeFileSync(path.join(outDir, 'latest.md'), markdown(meta));
  fs.writeFileSync(path.join(outDir, 'latest.svg'), svg());
  process.stdout.write(markdown(meta));
  log(`wrote bench/results/latest.{json,md,svg} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

main()
  .catch((err) => {
    log(`error: ${err && err.stack ? err.stack : err}`);
    process.exitCode = 1;
  })
  .finally(cleanup);
