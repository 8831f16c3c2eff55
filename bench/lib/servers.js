'use strict';
// Shared pieces of the side-by-side benchmarks (bench/run.js, bench/durability.js): starting Spool and
// redis-server on free loopback ports in their own temp dirs, a tiny RESP client, redis-benchmark as the load
// generator, and the alternating Spool/Redis measurement loop. Children and temp dirs are tracked and removed
// when the process exits (also on SIGINT/SIGTERM).
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const Parser = require('redis-parser');

const ROOT = path.join(__dirname, '..', '..');
// The Spool checkout to run (bin/spool-server.js and its dist/): this repository unless SPOOL_ROOT names another
// built checkout (e.g. a snapshot of a commit, so a rebuild of this tree during a long run changes nothing).
const SPOOL_ROOT = process.env.SPOOL_ROOT ? path.resolve(process.env.SPOOL_ROOT) : ROOT;
const DEFAULT_CLIENTS = 50;
const BENCH_TIMEOUT_MS = 30_000;

// ---------------------------------------------------------------------------------------------- process control

const children = new Set();
const tempDirs = [];
const t0 = Date.now();
const log = (msg) => process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
const elapsedS = () => (Date.now() - t0) / 1000;

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

const TEMP_BASE = path.join(os.tmpdir(), 'spool-bench');

function tempDir(tag) {
  fs.mkdirSync(TEMP_BASE, { recursive: true });
  const dir = fs.mkdtempSync(path.join(TEMP_BASE, `${tag}-`));
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

/**
 * A server under test: kind 'spool' or 'redis', with AOF on (Redis) at the given appendfsync policy, in its own
 * temp dir. start() may be called again after kill() (same dir = restart). extraArgs are appended to the
 * server's command line (e.g. Redis's --aof-use-rdb-preamble no).
 */
class Server {
  constructor(kind, policy, { extraArgs = [], nodeFlags = [], env = null } = {}) {
    this.kind = kind;
    this.policy = policy;
    // BENCH_SPOOL_ARGS (e.g. '--io-threads 1') adds Spool options to every run, to compare settings.
    this.extraArgs = kind === 'spool' ? [...extraArgs, ...(process.env.BENCH_SPOOL_ARGS || '').split(/\s+/).filter(Boolean)] : extraArgs;
    this.nodeFlags = nodeFlags; // Spool only: flags for node before the script (SPOOL_NODE_FLAGS adds more)
    this.env = env; // extra environment variables for the server process
    this.dir = tempDir(`${kind}-${policy}`);
    this.child = null;
    this.port = 0;
  }

  get label() {
    return this.kind === 'spool' ? 'Spool' : 'Redis';
  }

  /** Spawns the server and resolves with the ms from spawn until it answers PING. */
  async start() {
    this.port = await freePort();
    const out = fs.openSync(path.join(this.dir, `${this.kind}.log`), 'a');
    const args =
      this.kind === 'spool'
        ? [path.join(SPOOL_ROOT, 'bin', 'spool-server.js'), '--port', String(this.port), '--dir', this.dir, '--appendfsync', this.policy]
        : ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--appendonly', 'yes', '--appendfsync', this.policy, '--save', '', '--daemonize', 'no', '--logfile', ''];
    const cmd = this.kind === 'spool' ? process.execPath : 'redis-server';
    const nodeFlags = this.kind !== 'spool' ? [] : [...this.nodeFlags, ...(process.env.SPOOL_NODE_FLAGS ? process.env.SPOOL_NODE_FLAGS.split(' ') : [])];
    const env = this.env ? { ...process.env, ...this.env } : process.env;
    this.child = track(spawn(cmd, [...nodeFlags, ...args, ...this.extraArgs], { stdio: ['ignore', out, out], env }));
    fs.closeSync(out);
    return waitPing(this.port, this.child);
  }

  /** Anonymous resident memory of the server process (heap, malloc arenas; not file-backed mappings), KiB. */
  rssAnonKiB() {
    const status = fs.readFileSync(`/proc/${this.child.pid}/status`, 'latin1');
    const m = /RssAnon:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : NaN;
  }

  /** INFO <section> as an object of strings. */
  async info(section) {
    const c = await Client.connect(this.port);
    try {
      return parseInfo(String(await c.call('INFO', section)));
    } finally {
      c.close();
    }
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

function parseInfo(text) {
  const out = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
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

/** Runs redis-benchmark once (bounded: n requests, killed after timeoutMs); returns {rps, p50, p99, seconds, n}. */
function redisBenchmark(port, { n, pipeline = 1, random = 0, command, clients = DEFAULT_CLIENTS, timeoutMs = BENCH_TIMEOUT_MS }) {
  const args = ['-h', '127.0.0.1', '-p', String(port), '-c', String(clients), '-n', String(n), '-P', String(pipeline), '-q', '--csv'];
  if (random) args.push('-r', String(random));
  args.push(...command);
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = track(spawn('redis-benchmark', args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const lines = out.trim().split('\n');
      const header = (lines[0] || '').split(',').map((s) => s.replace(/"/g, ''));
      const row = (lines[1] || '').split('","').map((s) => s.replace(/"/g, ''));
      const col = (name) => Number(row[header.indexOf(name)]);
      const rps = col('rps');
      if (code !== 0 || !Number.isFinite(rps) || rps <= 0) {
        const shown = args.map((a) => (a.length > 40 ? `${a.slice(0, 12)}...(${a.length} B)` : a)).join(' ');
        reject(new Error(`redis-benchmark ${shown} failed (${signal || code}): ${err.trim() || out.trim()}`));
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
function sizeN(rps, seconds, pipeline, clients = DEFAULT_CLIENTS) {
  const n = Math.round(rps * seconds);
  return Math.max(n, clients * pipeline * 4, 2000);
}

/** Starts a Spool and a Redis server at the same policy (Spool first, as in every case). */
async function startPair(policy, { redisArgs = [], spoolArgs = [] } = {}) {
  const pair = [new Server('spool', policy, { extraArgs: spoolArgs }), new Server('redis', policy, { extraArgs: redisArgs })];
  for (const s of pair) await s.start();
  log(`started Spool :${pair[0].port} and Redis :${pair[1].port} (appendfsync ${policy})`);
  return pair;
}

async function stopPair(pair) {
  for (const s of pair) await s.kill('SIGTERM');
}

/**
 * Runs one redis-benchmark case on a Spool/Redis pair: an unrecorded warm-up run per server (also the size probe;
 * Spool's JIT warms up too), then `rounds` measured runs per server, alternating Spool, Redis, Spool, Redis ...
 * so machine noise hits both; each run is sized from the previous rate to take about targetS seconds.
 * c: {name, group, pipeline, prior: {spool, redis} (rate guesses for the warm-up), random?, command}.
 * commandFor(server) gives each server its command line (default c.command). Returns the case summary (medians).
 */
async function benchPair(pair, c, { rounds, targetS, clients = DEFAULT_CLIENTS, commandFor = () => c.command }) {
  const wrapped = pair.map((s) => ({ port: s.port, kind: s.kind, label: s.label, policy: s.policy, cmd: commandFor(s) }));
  const est = {};
  for (const s of wrapped) est[s.kind] = (await redisBenchmark(s.port, { ...c, clients, command: s.cmd, n: sizeN(c.prior[s.kind], 0.35, c.pipeline, clients) })).rps;
  const runs = { spool: [], redis: [] };
  for (let r = 0; r < rounds; r++) {
    for (const s of wrapped) {
      const res = await redisBenchmark(s.port, { ...c, clients, command: s.cmd, n: sizeN(est[s.kind], targetS, c.pipeline, clients) });
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
  log(`  => ${c.name}: Spool ${Math.round(entry.spool.rps)}/s, Redis ${Math.round(entry.redis.rps)}/s, ratio ${entry.ratio.toFixed(2)}`);
  return entry;
}

// ------------------------------------------------------------------------------------------------------ misc

/** Throws unless redis-server and redis-benchmark are on PATH and dist/ is built; returns Redis's version line. */
function checkPrerequisites() {
  for (const tool of ['redis-server', 'redis-benchmark']) {
    if (spawnSync(tool, ['--version']).status !== 0) throw new Error(`${tool} not found on PATH`);
  }
  if (!fs.existsSync(path.join(SPOOL_ROOT, 'dist', 'main.js'))) throw new Error(`${SPOOL_ROOT}/dist missing: run \`npm run build\` first`);
  return spawnSync('redis-server', ['--version']).stdout.toString().trim().split(' ').slice(0, 3).join(' ');
}

const fmtRate = (x) => (Number.isFinite(x) ? (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)) : 'n/a');
const fmtMs = (x) => (Number.isFinite(x) ? x.toFixed(2) : 'n/a');

/** Command-line options shared by the benches: `--quick`, and `opt('--name', default)` for numeric options. */
function benchArgs(argv = process.argv.slice(2)) {
  const opt = (name, dflt) => {
    const i = argv.indexOf(name);
    return i >= 0 ? Number(argv[i + 1]) : dflt;
  };
  return { argv, quick: argv.includes('--quick'), opt };
}

module.exports = {
  benchArgs,
  ROOT,
  SPOOL_ROOT,
  DEFAULT_CLIENTS,
  TEMP_BASE,
  log,
  elapsedS,
  cleanup,
  track,
  sleep,
  freePort,
  tempDir,
  waitPing,
  Server,
  Client,
  parseInfo,
  redisBenchmark,
  median,
  sizeN,
  startPair,
  stopPair,
  benchPair,
  checkPrerequisites,
  fmtRate,
  fmtMs,
};
