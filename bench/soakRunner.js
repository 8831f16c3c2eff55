'use strict';
// The soak (issue 6): one Spool process under a mixed, steady load for a bounded time, sampled for memory, file
// descriptors and latency, then checked. Used by bench/soak.js (the CLI, default 10 minutes) and by the short
// CI run in test/hardening/soak.test.ts.
//
// Load (all on 127.0.0.1, against a Spool child process with its own temp --dir):
// - producers: pipelined XADD batches into the data streams at a paced rate; half the streams are capped on
//   XADD (MAXLEN ~), the other half are trimmed by a periodic XTRIM (MAXLEN ~ or MINID ~); each batch of the
//   first producer also adds one entry to an audit stream that is never trimmed;
// - a consumer group on every data stream: consumers XREADGROUP ... BLOCK and XACK what they got, one of them
//   "forgets" about 1% of its acks, and a claimer runs XAUTOCLAIM on idle entries every few seconds;
// - blocking readers: XREAD BLOCK following data streams from `$`, checking IDs only grow;
// - churn: a connection per second that blocks in XREAD BLOCK 0 and disconnects while blocked;
// - a probe each second: XADD then XRANGE of the new ID, timed (the latency figures).
// Samples every few seconds: VmRSS and RssAnon (/proc/PID/status), open fds (/proc/PID/fd), INFO used_memory,
// clients, PEL size, acknowledged XADDs, probe latency p50/p99 over the interval.
// At the end: every acknowledged XADD is checked (entries-added, last ID, retained entries, the whole audit
// stream), the server is stopped with SIGTERM (it must exit 0), and a verdict compares the last third of the
// samples after warm-up with the first third.
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const IORedis = require('ioredis');

const Redis = IORedis.Redis || IORedis.default || IORedis;
const ROOT = path.join(__dirname, '..');
const HOST = '127.0.0.1';

const DEFAULTS = {
  seconds: 600,
  /** Seconds between samples. */
  sampleEvery: 5,
  /** Seconds at the start left out of the verdict (default: 20% of the run, at most 60). */
  warmup: undefined,
  /** XADD per second aimed at, all producers together (the probe and audit entries not counted). */
  rate: 3000,
  producers: 3,
  /** Entries per pipelined batch. */
  batch: 50,
  /** Data streams (half capped on XADD, half trimmed by XTRIM). */
  streams: 4,
  maxlen: 5000,
  /** MINID-trimmed streams keep about this many seconds of entries. */
  minidWindowSec: 5,
  consumers: 3,
  // Enough per stream (10 on each of 4) that one XADD wakes a fan-out the writer threads share (io-threads).
  readers: 40,
  /**
   * spool-server's segment-max-size. Small by default so that segments roll over and trimmed ones are deleted
   * many times during the run (with the 64mb default a stream only reaches its steady footprint after minutes,
   * and the soak would measure that ramp rather than leaks).
   */
  segmentMaxSize: '2mb',
  /** Extra spool-server arguments, e.g. ['--appendfsync', 'always']. */
  serverArgs: [],
  /** The checkout whose bin/spool-server.js and dist/ run (SPOOL_ROOT: a snapshot unaffected by rebuilds). */
  spoolRoot: process.env.SPOOL_ROOT ? path.resolve(process.env.SPOOL_ROOT) : ROOT,
  /** Verdict thresholds: relative growth of VmRSS and RssAnon, of used_memory, absolute growth of fds. */
  maxMemoryGrowth: 0.5,
  /** used_memory (V8 heap in use + external) includes garbage not yet collected: a sawtooth, judged looser. */
  maxHeapGrowth: 1.0,
  maxFdGrowth: 20,
  /** Progress lines (a function taking a string) or null. */
  log: null,
};

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, child, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('spool-server exited during start-up');
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, HOST, () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`spool-server did not listen on ${port} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** Kilobytes of VmRSS and RssAnon of a process (Linux). */
function readRss(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (name) => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text);
    return m ? Number(m[1]) : NaN;
  };
  return { rssKb: kb('VmRSS'), rssAnonKb: kb('RssAnon') };
}

function countFds(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** Files under `dir` the process has mapped (segments), and files and bytes under `dir` on disk. */
function storageFootprint(pid, dir) {
  const mapped = new Set();
  for (const line of fs.readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n')) {
    const at = line.indexOf(dir);
    if (at >= 0) mapped.add(line.slice(at).replace(/ \(deleted\)$/, '\0deleted'));
  }
  let files = 0;
  let bytes = 0;
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        files++;
        try {
          bytes += fs.statSync(p).size;
        } catch {
          // removed meanwhile
        }
      }
    }
  };
  walk(dir);
  const deleted = [...mapped].filter((m) => m.endsWith('\0deleted')).length;
  return { mappedFiles: mapped.size, mappedDeleted: deleted, diskFiles: files, diskBytes: bytes };
}

function infoFields(text) {
  const out = {};
  for (const line of text.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

const mean = (a) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : NaN);

/** Compares stream IDs given as "ms-seq" strings. */
function compareIds(a, b) {
  const [am, as] = a.split('-');
  const [bm, bs] = b.split('-');
  if (am.length !== bm.length) return am.length - bm.length;
  if (am !== bm) return am < bm ? -1 : 1;
  if (as.length !== bs.length) return as.length - bs.length;
  return as === bs ? 0 : as < bs ? -1 : 1;
}

/**
 * XREAD/XREADGROUP replies as [[key, entries], ...]: ioredis 6 speaks RESP3 (HELLO 3), where they are a map
 * that `call` hands back flattened as [key, entries, key, entries, ...].
 */
function streamsReply(res) {
  if (!res || res.length === 0 || Array.isArray(res[0])) return res;
  const out = [];
  for (let i = 0; i < res.length; i += 2) out.push([res[i], res[i + 1]]);
  return out;
}

/** The last `size` values pushed. */
class Ring {
  constructor(size) {
    this.size = size;
    this.items = [];
    this.next = 0;
  }
  push(x) {
    if (this.items.length < this.size) this.items.push(x);
    else this.items[this.next] = x;
    this.next = (this.next + 1) % this.size;
  }
  values() {
    return this.items.length < this.size ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
}

/**
 * Runs the soak. Returns { ok, verdict, samples, errors, checks, totals, ... }; never throws for a failure of
 * the server under test (that is reported in `errors`), only for a failure to start it.
 */
async function runSoak(options = {}) {
  const o = { ...DEFAULTS, ...options };
  const log = typeof o.log === 'function' ? o.log : () => undefined;
  const warmup = o.warmup ?? Math.min(60, o.seconds * 0.2);
  const errors = [];
  const errorCounts = new Map();
  const fail = (where, err) => {
    const msg = `${where}: ${err && err.message ? err.message : String(err)}`;
    errorCounts.set(where, (errorCounts.get(where) || 0) + 1);
    if (errors.length < 50) errors.push(msg);
    log(`error ${msg}`);
  };

  // ------------------------------------------------------------------------------------------- the server
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-soak-'));
  const port = await freePort();
  const serverArgs = ['--port', String(port), '--bind', HOST, '--dir', dir, '--segment-max-size', o.segmentMaxSize, ...o.serverArgs];
  const child = spawn(process.execPath, [path.join(o.spoolRoot, 'bin', 'spool-server.js'), ...serverArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: o.spoolRoot,
  });
  let serverOutput = '';
  const collect = (d) => {
    serverOutput = (serverOutput + d.toString('utf8')).slice(-16384);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let stopping = false;
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  exited.then((code) => {
    if (!stopping) fail('server', new Error(`spool-server exited (${code}) during the soak:\n${serverOutput.slice(-2000)}`));
  });
  try {
    await waitForPort(port, child);
  } catch (err) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`${err.message}\n${serverOutput}`);
  }
  const pid = child.pid;
  log(`spool-server pid ${pid} on ${HOST}:${port}, dir ${dir}`);

  const clients = [];
  const connect = async (name) => {
    const c = new Redis({
      host: HOST,
      port,
      lazyConnect: true,
      enableOfflineQueue: false,
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectionName: `soak-${name}`,
    });
    c.on('error', (err) => {
      if (!stopping) fail(`connection ${name}`, err);
    });
    await c.connect();
    clients.push(c);
    return c;
  };

  // ------------------------------------------------------------------------------------------- the streams
  const half = Math.max(1, Math.floor(o.streams / 2));
  const streams = Array.from({ length: o.streams }, (_, i) => ({
    key: i < half ? `soak:capped:${i}` : `soak:trimmed:${i}`,
    capped: i < half,
    /** Trimmed streams alternate MAXLEN ~ and MINID ~ in the periodic XTRIM. */
    trim: i < half ? 'xadd' : (i - half) % 2 === 0 ? 'maxlen' : 'minid',
    acked: 0,
    lastAcked: null,
    recent: new Ring(Math.max(4 * o.maxlen, 20000)),
  }));
  const audit = { key: 'soak:audit', ids: [] };
  const probeKey = 'soak:probe';

  const admin = await connect('admin');
  for (const s of streams) await admin.call('XGROUP', 'CREATE', s.key, 'soak', '$', 'MKSTREAM');

  const totals = { xaddAcked: 0, xaddErrors: 0, groupRead: 0, groupAcked: 0, autoclaimed: 0, autoclaimDeleted: 0, xreadEntries: 0, xtrimmed: 0, churn: 0, probes: 0 };
  let running = true;
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;
  const endAt = o.seconds;
  const workers = [];

  // ------------------------------------------------------------------------------------------- producers
  const perProducer = o.rate / o.producers;
  for (let p = 0; p < o.producers; p++) {
    workers.push(
      (async () => {
        const c = await connect(`producer-${p}`);
        const t0 = performance.now();
        let sent = 0;
        let n = 0;
        while (running) {
          const pipe = c.pipeline();
          const targets = [];
          for (let i = 0; i < o.batch; i++) {
            const s = streams[(n + i + p) % streams.length];
            const fields = ['p', String(p), 'n', String(n + i), 'pad', 'x'.repeat(16 + ((n + i) % 48))];
            if (s.capped) pipe.call('XADD', s.key, 'MAXLEN', '~', String(o.maxlen), '*', ...fields);
            else pipe.call('XADD', s.key, '*', ...fields);
            targets.push(s);
          }
          if (p === 0) {
            pipe.call('XADD', audit.key, '*', 'n', String(n));
            targets.push(audit);
          }
          n += o.batch;
          let results;
          try {
            results = await pipe.exec();
          } catch (err) {
            if (running) fail(`producer-${p}`, err);
            break;
          }
          for (let i = 0; i < results.length; i++) {
            const [err, id] = results[i];
            if (err) {
              totals.xaddErrors++;
              fail(`producer-${p} XADD`, err);
              continue;
            }
            const s = targets[i];
            if (s === audit) {
              audit.ids.push(id);
              continue;
            }
            s.acked++;
            totals.xaddAcked++;
            if (s.lastAcked === null || compareIds(id, s.lastAcked) > 0) s.lastAcked = id;
            s.recent.push(id);
          }
          sent += o.batch;
          // Paced to the rate; a producer that fell behind does not burst more than a second's worth.
          const due = t0 + (sent / perProducer) * 1000;
          const now = performance.now();
          if (due > now) await sleep(due - now);
          else if (now - due > 1000) sent = ((now - t0 - 1000) / 1000) * perProducer;
        }
      })(),
    );
  }

  // ------------------------------------------------------------------------------------------- consumer groups
  const keys = streams.map((s) => s.key);
  for (let k = 0; k < o.consumers; k++) {
    workers.push(
      (async () => {
        const name = `consumer-${k}`;
        const c = await connect(name);
        const forgetful = k === o.consumers - 1;
        let seq = 0;
        while (running) {
          try {
            const res = streamsReply(await c.call('XREADGROUP', 'GROUP', 'soak', name, 'COUNT', '200', 'BLOCK', '500', 'STREAMS', ...keys, ...keys.map(() => '>')));
            if (!res) continue;
            const pipe = c.pipeline();
            for (const [key, entries] of res) {
              const ids = [];
              for (const [id] of entries) {
                totals.groupRead++;
                // Deliberately left pending now and then, for XAUTOCLAIM to find.
                if (forgetful && seq++ % 100 === 0) continue;
                ids.push(id);
              }
              if (ids.length) pipe.call('XACK', key, 'soak', ...ids);
            }
            for (const [err, n] of await pipe.exec()) {
              if (err) fail(`${name} XACK`, err);
              else totals.groupAcked += Number(n);
            }
          } catch (err) {
            if (running) fail(name, err);
            if (!running || c.status === 'end') break;
          }
        }
      })(),
    );
  }
  workers.push(
    (async () => {
      const c = await connect('claimer');
      while (running) {
        await sleep(2000);
        if (!running) break;
        for (const s of streams) {
          try {
            let cursor = '0-0';
            for (let round = 0; round < 5; round++) {
              const [next, claimed, deleted] = await c.call('XAUTOCLAIM', s.key, 'soak', 'claimer', '1000', cursor, 'COUNT', '200');
              totals.autoclaimDeleted += deleted ? deleted.length : 0;
              const ids = claimed.filter((e) => e !== null).map((e) => e[0]);
              if (ids.length) totals.autoclaimed += Number(await c.call('XACK', s.key, 'soak', ...ids));
              cursor = next;
              if (cursor === '0-0') break;
            }
          } catch (err) {
            if (running) fail('claimer', err);
          }
        }
      }
    })(),
  );

  // ------------------------------------------------------------------------------------------- blocking readers
  for (let r = 0; r < o.readers; r++) {
    workers.push(
      (async () => {
        const name = `reader-${r}`;
        const c = await connect(name);
        const key = streams[r % streams.length].key;
        let last = '$';
        while (running) {
          try {
            const res = streamsReply(await c.call('XREAD', 'COUNT', '500', 'BLOCK', '500', 'STREAMS', key, last));
            if (!res) continue;
            for (const [, entries] of res) {
              for (const [id] of entries) {
                if (last !== '$' && compareIds(id, last) <= 0) fail(name, new Error(`XREAD went backwards: ${id} after ${last}`));
                last = id;
                totals.xreadEntries++;
              }
            }
          } catch (err) {
            if (running) fail(name, err);
            if (!running || c.status === 'end') break;
          }
        }
      })(),
    );
  }

  // ------------------------------------------------------------------------------------------- trimming
  workers.push(
    (async () => {
      const c = await connect('trimmer');
      while (running) {
        await sleep(1000);
        if (!running) break;
        for (const s of streams) {
          if (s.trim === 'xadd') continue;
          try {
            const args =
              s.trim === 'maxlen'
                ? ['MAXLEN', '~', String(o.maxlen)]
                : ['MINID', '~', `${Date.now() - o.minidWindowSec * 1000}-0`];
            totals.xtrimmed += Number(await c.call('XTRIM', s.key, ...args));
          } catch (err) {
            if (running) fail('trimmer', err);
          }
        }
      }
    })(),
  );

  // ------------------------------------------------------------------------------------------- churn
  workers.push(
    (async () => {
      while (running) {
        await sleep(1000);
        if (!running) break;
        await new Promise((resolve) => {
          const s = net.connect(port, HOST, () => {
            s.write('*6\r\n$5\r\nXREAD\r\n$5\r\nBLOCK\r\n$1\r\n0\r\n$7\r\nSTREAMS\r\n$10\r\nsoak:churn\r\n$1\r\n$\r\n');
            setTimeout(() => {
              s.destroy();
              totals.churn++;
              resolve();
            }, 50);
          });
          s.once('error', (err) => {
            if (running) fail('churn', err);
            resolve();
          });
        });
      }
    })(),
  );

  // ------------------------------------------------------------------------------------------- probe
  let latXadd = [];
  let latXrange = [];
  const allXadd = [];
  const allXrange = [];
  workers.push(
    (async () => {
      const c = await connect('probe');
      while (running) {
        try {
          let t = performance.now();
          const id = await c.call('XADD', probeKey, 'MAXLEN', '~', '1000', '*', 'at', String(Date.now()));
          const a = performance.now() - t;
          t = performance.now();
          const got = await c.call('XRANGE', probeKey, id, id);
          const b = performance.now() - t;
          if (!got || got.length !== 1 || got[0][0] !== id) fail('probe', new Error(`XRANGE ${id} ${id} did not return the entry just added`));
          latXadd.push(a);
          latXrange.push(b);
          allXadd.push(a);
          allXrange.push(b);
          totals.probes++;
        } catch (err) {
          if (running) fail('probe', err);
        }
        await sleep(1000);
      }
    })(),
  );

  // ------------------------------------------------------------------------------------------- sampling
  const samples = [];
  const monitor = await connect('monitor');
  let lastAcked = 0;
  let lastT = 0;
  const sample = async () => {
    const t = elapsed();
    const s = { t: Number(t.toFixed(1)) };
    try {
      Object.assign(s, readRss(pid));
      s.fds = countFds(pid);
      Object.assign(s, storageFootprint(pid, dir));
    } catch (err) {
      fail('sample /proc', err);
    }
    try {
      const info = infoFields(await monitor.call('INFO', 'memory'));
      s.usedMemory = Number(info.used_memory);
      const cl = infoFields(await monitor.call('INFO', 'clients'));
      s.clients = Number(cl.connected_clients);
      s.blocked = Number(cl.blocked_clients);
      let pel = 0;
      for (const st of streams) pel += Number((await monitor.call('XPENDING', st.key, 'soak'))[0]);
      s.pending = pel;
    } catch (err) {
      fail('sample INFO', err);
    }
    s.xaddAcked = totals.xaddAcked;
    s.xaddPerSec = t > lastT ? Math.round((totals.xaddAcked - lastAcked) / (t - lastT)) : 0;
    lastAcked = totals.xaddAcked;
    lastT = t;
    const xa = latXadd.sort((x, y) => x - y);
    const xr = latXrange.sort((x, y) => x - y);
    latXadd = [];
    latXrange = [];
    s.xaddP50 = Number(percentile(xa, 50).toFixed(2));
    s.xaddP99 = Number(percentile(xa, 99).toFixed(2));
    s.xrangeP50 = Number(percentile(xr, 50).toFixed(2));
    s.xrangeP99 = Number(percentile(xr, 99).toFixed(2));
    s.errors = errors.length;
    samples.push(s);
    log(formatSample(s));
  };
  log(SAMPLE_HEADER);
  while (elapsed() < endAt && errorCounts.get('server') === undefined) {
    const next = Math.min(endAt, (samples.length + 1) * o.sampleEvery);
    const wait = next * 1000 - (performance.now() - started);
    if (wait > 0) await sleep(wait);
    await sample();
  }

  // ------------------------------------------------------------------------------------------- stop and check
  running = false;
  const settled = await Promise.race([Promise.allSettled(workers).then(() => true), sleep(15000).then(() => false)]);
  if (!settled) fail('stop', new Error('load workers did not stop within 15 s'));
  for (const r of await Promise.allSettled(workers)) if (r.status === 'rejected') fail('worker', r.reason);

  const checks = { streams: [], audit: null };
  if (!errorCounts.has('server')) {
    try {
      for (const s of streams) {
        const info = await admin.call('XINFO', 'STREAM', s.key);
        const fields = {};
        for (let i = 0; i < info.length; i += 2) fields[info[i]] = info[i + 1];
        const entries = await admin.call('XRANGE', s.key, '-', '+');
        const retained = new Set(entries.map((e) => e[0]));
        const first = entries.length ? entries[0][0] : null;
        let expected = 0;
        let missing = 0;
        for (const id of s.recent.values()) {
          if (first === null || compareIds(id, first) < 0) continue;
          expected++;
          if (!retained.has(id)) missing++;
        }
        const check = {
          key: s.key,
          acked: s.acked,
          entriesAdded: Number(fields['entries-added']),
          lastGeneratedId: fields['last-generated-id'],
          lastAcked: s.lastAcked,
          length: Number(fields.length),
          retainedChecked: expected,
          missing,
        };
        checks.streams.push(check);
        if (check.entriesAdded !== s.acked) fail('check', new Error(`${s.key}: entries-added ${check.entriesAdded} != acknowledged XADDs ${s.acked}`));
        if (s.lastAcked !== null && check.lastGeneratedId !== s.lastAcked)
          fail('check', new Error(`${s.key}: last-generated-id ${check.lastGeneratedId} != last acknowledged ${s.lastAcked}`));
        if (missing > 0) fail('check', new Error(`${s.key}: ${missing} acknowledged entries newer than the trim point are missing`));
        if (s.capped && check.length > o.maxlen * 2) fail('check', new Error(`${s.key}: length ${check.length} far above MAXLEN ~ ${o.maxlen}`));
      }
      const auditEntries = await admin.call('XRANGE', audit.key, '-', '+');
      const got = auditEntries.map((e) => e[0]);
      const want = audit.ids.slice().sort(compareIds);
      let mismatch = got.length !== want.length;
      for (let i = 0; !mismatch && i < got.length; i++) mismatch = got[i] !== want[i];
      checks.audit = { acked: want.length, length: got.length, ok: !mismatch };
      if (mismatch) fail('check', new Error(`${audit.key}: ${want.length} acknowledged, ${got.length} readable, or IDs differ`));
    } catch (err) {
      fail('check', err);
    }
  }

  stopping = true;
  for (const c of clients) c.disconnect();
  let exitCode = child.exitCode ?? child.signalCode;
  if (exitCode === null) {
    child.kill('SIGTERM');
    exitCode = await Promise.race([exited, sleep(10000).then(() => 'timeout')]);
    if (exitCode === 'timeout') {
      child.kill('SIGKILL');
      await exited;
    }
  }
  if (exitCode !== 0 && !errorCounts.has('server')) fail('shutdown', new Error(`spool-server exited with ${exitCode} on SIGTERM:\n${serverOutput.slice(-2000)}`));
  fs.rmSync(dir, { recursive: true, force: true });

  const verdict = judge(samples, warmup, o);
  allXadd.sort((x, y) => x - y);
  allXrange.sort((x, y) => x - y);
  return {
    ok: errors.length === 0 && verdict.verdict !== 'growing',
    verdict,
    options: { ...o, log: undefined, spoolRoot: o.spoolRoot, warmup },
    durationSec: Number(elapsed().toFixed(1)),
    totals,
    latency: {
      xaddP50: percentile(allXadd, 50),
      xaddP99: percentile(allXadd, 99),
      xaddMax: allXadd.length ? allXadd[allXadd.length - 1] : NaN,
      xrangeP50: percentile(allXrange, 50),
      xrangeP99: percentile(allXrange, 99),
      xrangeMax: allXrange.length ? allXrange[allXrange.length - 1] : NaN,
    },
    samples,
    checks,
    errors,
    errorCounts: Object.fromEntries(errorCounts),
    serverExit: exitCode,
  };
}

/**
 * Flatness: the mean of the last third of the samples taken after warm-up against the mean of the first third.
 * VmRSS or RssAnon growing by more than maxMemoryGrowth, used_memory by more than maxHeapGrowth, or open fds by
 * more than maxFdGrowth makes the verdict "growing"; too few samples make it "inconclusive".
 */
function judge(samples, warmup, o) {
  const post = samples.filter((s) => s.t >= warmup);
  if (post.length < 6) return { verdict: 'inconclusive', reason: `${post.length} samples after ${warmup} s of warm-up (6 needed)`, flags: [] };
  const third = Math.floor(post.length / 3);
  const first = post.slice(0, third);
  const last = post.slice(post.length - third);
  const m = (arr, k) => mean(arr.map((s) => s[k]).filter((x) => Number.isFinite(x)));
  const metrics = {};
  const flags = [];
  for (const [k, label, limit] of [
    ['rssKb', 'VmRSS', o.maxMemoryGrowth],
    ['rssAnonKb', 'RssAnon', o.maxMemoryGrowth],
    ['usedMemory', 'used_memory', o.maxHeapGrowth],
  ]) {
    const a = m(first, k);
    const b = m(last, k);
    const growth = b / a - 1;
    metrics[k] = { first: a, last: b, growth };
    if (growth > limit) flags.push(`${label} grew ${(growth * 100).toFixed(0)}% (limit ${(limit * 100).toFixed(0)}%)`);
  }
  const fa = m(first, 'fds');
  const fb = m(last, 'fds');
  metrics.fds = { first: fa, last: fb, growth: fb - fa };
  if (fb - fa > o.maxFdGrowth) flags.push(`open fds grew by ${(fb - fa).toFixed(1)} (limit ${o.maxFdGrowth})`);
  // Latency is reported, not judged (a shared machine makes it noisy), but a large rise is worth a note.
  const pa = m(first, 'xaddP99');
  const pb = m(last, 'xaddP99');
  metrics.xaddP99 = { first: pa, last: pb, growth: pb / pa - 1 };
  const notes = [];
  if (pb > 3 * pa && pb > 10) notes.push(`probe XADD p99 rose from ${pa.toFixed(2)} to ${pb.toFixed(2)} ms`);
  return { verdict: flags.length ? 'growing' : 'flat', flags, notes, metrics, compared: { first: first.length, last: last.length, after: warmup } };
}

const SAMPLE_HEADER = '     t(s)  VmRSS(MB) RssAnon(MB)   fds  used_mem(MB)  mapped(del) disk files/MB clients blocked  pending    xadd/s  xadd p50/p99 ms   xrange p50/p99 ms  errors';

function formatSample(s) {
  const mb = (kb) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');
  const pair = (a, b) => `${Number.isFinite(a) ? a.toFixed(2) : '-'}/${Number.isFinite(b) ? b.toFixed(2) : '-'}`;
  return [
    s.t.toFixed(0).padStart(9),
    mb(s.rssKb).padStart(10),
    mb(s.rssAnonKb).padStart(11),
    String(s.fds ?? '-').padStart(5),
    (Number.isFinite(s.usedMemory) ? (s.usedMemory / 1048576).toFixed(1) : '-').padStart(13),
    `${s.mappedFiles ?? '-'}(${s.mappedDeleted ?? '-'})`.padStart(12),
    `${s.diskFiles ?? '-'}/${Number.isFinite(s.diskBytes) ? (s.diskBytes / 1048576).toFixed(0) : '-'}`.padStart(15),
    String(s.clients ?? '-').padStart(7),
    String(s.blocked ?? '-').padStart(7),
    String(s.pending ?? '-').padStart(8),
    String(s.xaddPerSec).padStart(9),
    pair(s.xaddP50, s.xaddP99).padStart(16),
    pair(s.xrangeP50, s.xrangeP99).padStart(19),
    String(s.errors).padStart(7),
  ].join(' ');
}

/** The report printed at the end: the sample table, totals, checks and the verdict. */
function formatReport(result) {
  const lines = [];
  const o = result.options;
  lines.push(`Spool soak: ${result.durationSec} s, target ${o.rate} XADD/s over ${o.streams} streams (${o.producers} producers, batch ${o.batch}), ${o.consumers} group consumers, ${o.readers} blocking readers, sample every ${o.sampleEvery} s, segment-max-size ${o.segmentMaxSize}${o.serverArgs.length ? `, server ${o.serverArgs.join(' ')}` : ''}`);
  lines.push('');
  lines.push(SAMPLE_HEADER);
  for (const s of result.samples) lines.push(formatSample(s));
  lines.push('');
  const t = result.totals;
  lines.push(`XADD acknowledged ${t.xaddAcked} (errors ${t.xaddErrors}); group read ${t.groupRead}, acked ${t.groupAcked}, autoclaimed ${t.autoclaimed} (deleted ${t.autoclaimDeleted}); XREAD entries ${t.xreadEntries}; XTRIM removed ${t.xtrimmed}; churn connections ${t.churn}; probes ${t.probes}`);
  const l = result.latency;
  lines.push(`probe latency over the run: XADD p50 ${l.xaddP50.toFixed(2)} ms, p99 ${l.xaddP99.toFixed(2)} ms, max ${l.xaddMax.toFixed(2)} ms; XRANGE p50 ${l.xrangeP50.toFixed(2)} ms, p99 ${l.xrangeP99.toFixed(2)} ms, max ${l.xrangeMax.toFixed(2)} ms`);
  for (const c of result.checks.streams) {
    lines.push(`check ${c.key}: acknowledged ${c.acked}, entries-added ${c.entriesAdded}, last ${c.lastGeneratedId}, length ${c.length}, ${c.retainedChecked} retained acknowledged entries checked, ${c.missing} missing`);
  }
  if (result.checks.audit) lines.push(`check soak:audit: ${result.checks.audit.acked} acknowledged, ${result.checks.audit.length} readable, ${result.checks.audit.ok ? 'identical' : 'DIFFERENT'}`);
  lines.push(`server exit on SIGTERM: ${result.serverExit}`);
  const v = result.verdict;
  if (v.metrics) {
    const g = (k, unit, scale = 1) => `${(v.metrics[k].first / scale).toFixed(1)} -> ${(v.metrics[k].last / scale).toFixed(1)} ${unit}`;
    lines.push(`flatness (mean of the first vs last third of the ${v.compared.first * 3}+ samples after ${v.compared.after.toFixed(0)} s): VmRSS ${g('rssKb', 'MB', 1024)} (${(v.metrics.rssKb.growth * 100).toFixed(1)}%), RssAnon ${g('rssAnonKb', 'MB', 1024)} (${(v.metrics.rssAnonKb.growth * 100).toFixed(1)}%), used_memory ${g('usedMemory', 'MB', 1048576)} (${(v.metrics.usedMemory.growth * 100).toFixed(1)}%), fds ${g('fds', '')}, probe XADD p99 ${g('xaddP99', 'ms')}`);
  }
  for (const n of v.notes || []) lines.push(`note: ${n}`);
  lines.push(`errors: ${result.errors.length}${result.errors.length ? '\n  ' + result.errors.slice(0, 10).join('\n  ') : ''}`);
  lines.push(`verdict: ${v.verdict.toUpperCase()}${v.flags.length ? ` (${v.flags.join('; ')})` : ''}${v.reason ? ` (${v.reason})` : ''}`);
  return lines.join('\n');
}

module.exports = { runSoak, judge, formatReport, DEFAULTS };
