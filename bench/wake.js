#!/usr/bin/env node
'use strict';
// Wake-up latency: N clients blocked in `XREAD BLOCK 0 STREAMS wake $` on one stream, one XADD, time until every
// client has its reply. Spool (built in dist/, bin/spool-server.js) and a private redis-server 7 (same machine,
// same run) are measured alternately; compare the ratio, not absolute figures (shared machines vary).
// Usage: npm run build && node bench/wake.js [clients=1000] [rounds=5]
const net = require('node:net');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, execFileSync } = require('node:child_process');

const CLIENTS = Number(process.argv[2] || 1000);
const ROUNDS = Number(process.argv[3] || 5);
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

async function measure(port, label) {
  const clients = [];
  for (let i = 0; i < CLIENTS; i += 200) clients.push(...(await Promise.all(Array.from({ length: Math.min(200, CLIENTS - i) }, () => connect(port)))));
  const writer = await connect(port);
  writer.on('data', () => undefined);
  const times = [];
  for (let r = 0; r < ROUNDS; r++) times.push(await round(port, clients, writer, `wake-${label}`));
  for (const c of clients) c.destroy();
  writer.destroy();
  return times;
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
  const spool = spawn(process.execPath, [path.join(__dirname, '..', 'bin', 'spool-server.js'), '--port', String(spoolPort), '--bind', '127.0.0.1', '--dir', path.join(dir, 'spool'), '--maxclients', '20000'], { stdio: 'ignore' });
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
    const s = await measure(spoolPort, 'spool');
    const r = await measure(redisPort, 'redis');
    const med = (a) => a.slice().sort((x, y) => x - y)[Math.floor(a.length / 2)];
    const f = (a) => a.map((x) => x.toFixed(1)).join(', ');
    console.log(`${CLIENTS} clients blocked in XREAD, woken by one XADD (ms until every client has its reply):`);
    console.log(`  spool: median ${med(s).toFixed(1)} ms  [${f(s)}]`);
    console.log(`  redis: median ${med(r).toFixed(1)} ms  [${f(r)}]`);
    console.log(`  spool/redis: ${(med(s) / med(r)).toFixed(2)}x (both servers are child processes; figures include this Node client's reading)`);
  } finally {
    redis.kill('SIGKILL');
    spool.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
