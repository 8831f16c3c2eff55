#!/usr/bin/env node
'use strict';
// Wake-up latency: N clients blocked in `XREAD BLOCK 0 STREAMS wake $` on one stream, one XADD, time until every
// client has its reply. Spool (built in dist/, bin/spool-server.js) and a private redis-server 7 (same machine,
// same run) are measured in alternating rounds; compare the ratio, not absolute figures (shared machines vary).
// Usage: npm run build && node bench/wake.js [clients=1000] [rounds=15]
// The measuring client is bench/wakeClient.c, compiled with `cc` into a temp dir, when a C compiler is there: a
// Node client spends about 10 µs of its own per socket read, so with 1,000 readers it measures itself about as
// much as the server. WAKE_CLIENT=node uses the Node client below (also the fallback without `cc`).
// Profiling: SPOOL_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' node bench/wake.js (Spool then stops with
// SIGTERM so the profile is written); WAKE_ONLY=spool skips redis-server; WAKE_FIRST=redis starts each pair of
// rounds with redis-server; WAKE_SPOOL_OUTPUT=1 shows Spool's stdout/stderr; WAKE_SPOOL_ARGS='--io-threads 1'
// passes options to Spool.
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

// SPOOL_ROOT=<checkout> measures another built checkout (e.g. a snapshot of an earlier commit).
const SPOOL_ROOT = process.env.SPOOL_ROOT ? path.resolve(process.env.SPOOL_ROOT) : path.join(__dirname, '..');
const CLIENTS = Number(process.argv[2] || 1000);
// 15 rounds: the first few of each server are cold (JIT, socket buffers); the median is the steady state, and the
// first round is printed on its own so the cold cost stays visible.
const ROUNDS = Number(process.argv[3] || 15);
const enc = (...a) => Buffer.from(`*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join(''));

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

function connect(port) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Resolves when `socket` has received at least one complete reply ending in CRLF (blocked XREAD replies are small). */
function firstReply(socket) {
  return new Promise((resolve) => {
    let got = 0;
    const onData = (d) => {
      got += d.length;
      if (d[d.length - 2] === 13 && d[d.length - 1] === 10) {
        socket.off('data', onData);
        resolve(got);
      }
    };
    socket.on('data', onData);
  });
}

async function blockedCount(port) {
  const s = await connect(port);
  const text = await new Promise((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(enc('INFO', 'clients'));
  });
  s.destroy();
  return Number(/blocked_clients:(\d+)/.exec(text)[1]);
}

async function round(port, clients, writer, key) {
  for (const c of clients) c.write(enc('XREAD', 'BLOCK', '0', 'STREAMS', key, '$'));
  const deadline = Date.now() + 10000;
  while ((await blockedCount(port)) < clients.length) {
    if (Date.now() > deadline) throw new Error('clients did not all block');
    await new Promise((r) => setTimeout(r, 10));
  }
  const replies = clients.map(firstReply);
  const t0 = process.hrtime.bigint();
  writer.write(enc('XADD', key, '*', 'k', 'v'));
  await Promise.all(replies);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function setup(port) {
  const clients = [];
  for (let i = 0; i < CLIENTS; i += 200) clients.push(...(await Promise.all(Array.from({ length: Math.min(200, CLIENTS - i) }, () => connect(port)))));
  const writer = await connect(port);
  writer.on('data', () => undefined);
  return { port, clients, writer };
}

function teardown(set) {
  for (const c of set.clients) c.destroy();
  set.writer.destroy();
}

/** Compiles bench/wakeClient.c into `dir`; null when there is no C compiler. */
function compileClient(dir) {
  const out = path.join(dir, 'wakeClient');
  try {
    execFileSync('cc', ['-O2', '-o', out, path.join(__dirname, 'wakeClient.c')], { stdio: ['ignore', 'ignore', 'inherit'] });
    return out;
  } catch {
    console.error('no C compiler (cc): measuring with the Node client');
    return null;
  }
}

async function main() {
  const limit = Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim()) || 1024;
  if (limit < CLIENTS * 2 + 256) {
    console.error(`ulimit -n is ${limit}: too low for ${CLIENTS} clients; run with fewer clients`);
    process.exit(1);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spool-wake-'));
  // Both servers run as child processes, so this measuring client costs them the same.
  const spoolPort = await freePort();
  const nodeArgs = (process.env.SPOOL_NODE_ARGS || '').split(/\s+/).filter(Boolean);
  const spool = spawn(process.execPath, [...nodeArgs, path.join(SPOOL_ROOT, 'bin', 'spool-server.js'), '--port', String(spoolPort), '--bind', '127.0.0.1', '--dir', path.join(dir, 'spool'), '--maxclients', '20000', ...(process.env.WAKE_SPOOL_ARGS || '').split(/\s+/).filter(Boolean)], { stdio: process.env.WAKE_SPOOL_OUTPUT ? ['ignore', 'inherit', 'inherit'] : 'ignore' });
  const redisPort = await freePort();
  const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxclients', '20000'], { stdio: 'ignore' });
  try {
    for (const port of [spoolPort, redisPort]) {
      for (let i = 0; ; i++) {
        try {
          (await connect(port)).destroy();
          break;
        } catch (e) {
          if (i > 400) throw e;
          await new Promise((r) => setTimeout(r, 25));
        }
      }
    }
    // Rounds alternate between the servers, so neither is measured with a colder measuring client (this
    // process's own code warms up as it goes) or in a quieter moment of a shared machine.
    const servers = [{ label: 'spool', port: spoolPort }];
    if (process.env.WAKE_ONLY !== 'spool') servers.push({ label: 'redis', port: redisPort });
    if (process.env.WAKE_FIRST === 'redis') servers.reverse();
    const cClient = process.env.WAKE_CLIENT === 'node' ? null : compileClient(dir);
    if (cClient !== null) {
      const out = execFileSync(cClient, [String(CLIENTS), String(ROUNDS), ...servers.map((x) => String(x.port))], { encoding: 'utf8', timeout: 600000 });
      out.trim().split('\n').forEach((line, i) => (servers[i].times = line.trim().split(/\s+/).map(Number)));
    } else {
      for (const srv of servers) {
        srv.set = await setup(srv.port);
        srv.times = [];
      }
      for (let r = 0; r < ROUNDS; r++) {
        for (const srv of servers) srv.times.push(await round(srv.port, srv.set.clients, srv.set.writer, `wake-${srv.label}`));
      }
      for (const srv of servers) teardown(srv.set);
    }
    const client = cClient !== null ? 'the C client bench/wakeClient.c' : 'a Node client (WAKE_CLIENT=node, or no cc): its own reading is included';
    const s = servers.find((x) => x.label === 'spool').times;
    const r = servers.find((x) => x.label === 'redis')?.times ?? [NaN];
    const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const f = (a) => a.map((x) => x.toFixed(1)).join(', ');
    console.log(`${CLIENTS} clients blocked in XREAD, woken by one XADD (ms until every client has its reply):`);
    console.log(`  spool: median ${med(s).toFixed(1)} ms, first round ${s[0].toFixed(1)} ms  [${f(s)}]`);
    if (servers.length > 1) {
      console.log(`  redis: median ${med(r).toFixed(1)} ms, first round ${r[0].toFixed(1)} ms  [${f(r)}]`);
      console.log(`  spool/redis: ${(med(s) / med(r)).toFixed(2)}x (both servers are child processes; measured with ${client})`);
    }
  } finally {
    redis.kill('SIGKILL');
    if (nodeArgs.length > 0) {
      const exited = new Promise((r) => spool.once('exit', r));
      spool.kill('SIGTERM');
      await exited;
    } else {
      spool.kill('SIGKILL');
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
