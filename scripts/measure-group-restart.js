#!/usr/bin/env node
'use strict';
// Restart time of a group-heavy log after SIGKILL (no shutdown checkpoint: every record is replayed): N entries
// on one stream, each read by XREADGROUP (COUNT 1, four consumers) and acknowledged by XACK, so the log holds
// N ENTRY, N read and N ack records. The stream's index snapshot (taken in the background while loading) is
// removed before each restart, so the whole log is replayed. Times spawn -> PING and the recovery time the server
// logs. Compares builds: give each build's root directory (its bin/spool-server.js and dist/ are used).
//
// Usage: node scripts/measure-group-restart.js [--entries N] [--restarts N] ROOT [ROOT ...]

const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync } = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { benchArgs, freePort } = require('../bench/lib/servers');

const { argv, opt } = benchArgs();
const ENTRIES = opt('--entries', 200_000);
const RESTARTS = opt('--restarts', 3);
/** The build roots: the arguments that are neither an option nor its value. */
const given = argv.filter((a, i) => !a.startsWith('--') && !(i > 0 && argv[i - 1].startsWith('--')));
const roots = given.length > 0 ? given.map((r) => path.resolve(r)) : [path.resolve(__dirname, '..')];

function resp(args) {
  let out = `*${args.length}\r\n`;
  for (const a of args) out += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return out;
}

/** Sends `commands` pipelined and resolves once as many replies (counted by top-level type byte) came back. */
function pipeline(port, commands) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    let pending = Buffer.alloc(0);
    let replies = 0;
    // Replies here are simple: integers, bulk IDs, status, or XREADGROUP arrays; count them with a tiny parser.
    const skip = (buf, at) => {
      const eol = buf.indexOf('\r\n', at);
      if (eol < 0) return -1;
      const type = buf[at];
      const n = Number(buf.toString('latin1', at + 1, eol));
      let p = eol + 2;
      if (type === 0x24 /* $ */) return n < 0 ? p : p + n + 2 <= buf.length ? p + n + 2 : -1;
      if (type === 0x2a /* * */) {
        for (let i = 0; i < n; i++) {
          p = skip(buf, p);
          if (p < 0) return -1;
        }
        return p;
      }
      return p;
    };
    sock.on('data', (d) => {
      pending = pending.length ? Buffer.concat([pending, d]) : d;
      let at = 0;
      for (;;) {
        if (at >= pending.length) break;
        const next = skip(pending, at);
        if (next < 0) break;
        if (pending[at] === 0x2d) return reject(new Error(pending.toString('latin1', at, pending.indexOf('\r\n', at))));
        at = next;
        replies++;
      }
      pending = pending.subarray(at);
      if (replies === commands.length) {
        sock.end();
        resolve();
      }
    });
    sock.on('error', reject);
    sock.write(commands.map(resp).join(''));
  });
}

function start(root, dir, port) {
  const child = spawn(process.execPath, [path.join(root, 'bin', 'spool-server.js'), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const began = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + 300_000;
    const tryPing = () => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => s.write('PING\r\n'));
      s.on('data', (d) => {
        s.destroy();
        if (d.toString().startsWith('+PONG')) {
          const ms = Number(process.hrtime.bigint() - began) / 1e6;
          const logged = /([0-9.]+) seconds/.exec(output);
          resolve({ child, ms, recoveryMs: logged ? Number(logged[1]) * 1000 : NaN, cpuMs: cpuMsOf(child.pid) });
        } else setTimeout(tryPing, 20);
      });
      s.on('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`no PONG: ${output}`));
        else setTimeout(tryPing, 20);
      });
    };
    tryPing();
  });
}

/** CPU time (user + system) the process used so far, ms (Linux /proc; NaN elsewhere): less noisy than wall time. */
function cpuMsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

function kill(child) {
  return new Promise((resolve) => {
    child.once('exit', resolve);
    child.kill('SIGKILL');
  });
}

async function measure(root) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'spool-restart-'));
  const port = await freePort();
  try {
    let { child } = await start(root, dir, port);
    await pipeline(port, [['XGROUP', 'CREATE', 's', 'g', '0', 'MKSTREAM']]);
    const BATCH = 2000;
    for (let i = 0; i < ENTRIES; i += BATCH) {
      const cmds = [];
      for (let j = i; j < Math.min(ENTRIES, i + BATCH); j++) {
        const id = `${j + 1}-1`;
        cmds.push(['XADD', 's', id, 'f', 'v'.repeat(20)]);
        cmds.push(['XREADGROUP', 'GROUP', 'g', `c${j % 4}`, 'COUNT', '1', 'STREAMS', 's', '>']);
        cmds.push(['XACK', 's', 'g', id]);
      }
      await pipeline(port, cmds);
    }
    await new Promise((r) => setTimeout(r, 1500)); // the everysec sync
    const times = [];
    for (let r = 0; r < RESTARTS; r++) {
      await kill(child);
      for (const d of readdirSync(dir)) rmSync(path.join(dir, d, 'SNAPSHOT'), { force: true });
      const s = await start(root, dir, port);
      child = s.child;
      times.push(s);
    }
    await kill(child);
    return times;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  for (const root of roots) {
    const times = await measure(root);
    const fmt = (xs) => xs.map((x) => x.toFixed(0)).join(', ');
    console.log(
      `${root}: ${ENTRIES} x (XADD + XREADGROUP + XACK), SIGKILL restarts: PONG after [${fmt(times.map((t) => t.ms))}] ms, ` +
        `recovery logged [${fmt(times.map((t) => t.recoveryMs))}] ms, server CPU at PONG [${fmt(times.map((t) => t.cpuMs))}] ms`,
    );
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
