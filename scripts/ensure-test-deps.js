#!/usr/bin/env node
'use strict';
// pretest: makes sure the tools the test suites run are installed: redis-server 7 (the differential suites'
// reference), redis-cli and redis-benchmark (Debian packages redis-server and redis-tools), redis-sentinel. As
// root with apt it installs them, without starting the Debian services; otherwise it says exactly what to install
// and exits 1.
// Plain Node, no dependencies: it runs before anything else is known to work.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');

const TOOLS = [
  { bin: 'redis-server', pkg: 'redis-server' },
  { bin: 'redis-cli', pkg: 'redis-tools' },
  { bin: 'redis-benchmark', pkg: 'redis-tools' },
  // test/server/ops-tls.test.ts makes a throw-away CA and certificates with it.
  { bin: 'openssl', pkg: 'openssl' },
  // test/integration/sentinel.test.ts: sentinels finding each other through Spool's Pub/Sub.
  // test/integration/sentinelFailover.test.ts runs three Sentinels against Spool.
  { bin: 'redis-sentinel', pkg: 'redis-sentinel' },
];
// redis-py for the client compatibility test (Debian's python3-redis, for the system python3).
const MIN_MAJOR = 7;

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

function which(bin) {
  const r = run('sh', ['-c', `command -v ${bin}`]);
  return r.status === 0 ? r.stdout.trim() : null;
}

function redisMajor() {
  const r = run('redis-server', ['--version']);
  const m = /v=(\d+)\./.exec(r.stdout || '');
  return m ? Number(m[1]) : null;
}

function missing() {
  const out = [];
  for (const t of TOOLS) if (!which(t.bin)) out.push(t);
  return out;
}

function problems() {
  const list = missing().map((t) => `${t.bin} (package ${t.pkg}) is not installed`);
  if (which('redis-server')) {
    const major = redisMajor();
    if (major === null || major < MIN_MAJOR) list.push(`redis-server ${MIN_MAJOR}.x is needed, found: ${run('redis-server', ['--version']).stdout.trim()}`);
  }
  if (run('/usr/bin/python3', ['-c', 'import redis']).status !== 0) list.push('redis-py (package python3-redis) is not installed');
  return list;
}

function aptInstall() {
  // policy-rc.d exit 101 tells invoke-rc.d (and deb-systemd-invoke) not to start services while installing:
  // the tests start their own private redis-server on a free port, never the system one.
  const policy = '/usr/sbin/policy-rc.d';
  const hadPolicy = fs.existsSync(policy);
  if (!hadPolicy) fs.writeFileSync(policy, '#!/bin/sh\n# written by spool scripts/ensure-test-deps.js during apt-get install\nexit 101\n', { mode: 0o755 });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  try {
    console.log('ensure-test-deps: apt-get update');
    let r = run('apt-get', ['update'], { stdio: 'inherit', env });
    if (r.status !== 0) return false;
    console.log('ensure-test-deps: apt-get install -y redis-server redis-tools redis-sentinel python3-redis openssl');
    r = run('apt-get', ['install', '-y', '--no-install-recommends', 'redis-server', 'redis-tools', 'redis-sentinel', 'python3-redis', 'openssl'], { stdio: 'inherit', env });
    return r.status === 0;
  } finally {
    if (!hadPolicy) fs.rmSync(policy, { force: true });
    // If a service got started anyway (a system with a running init), stop it: it would hold port 6379.
    for (const service of ['redis-server', 'redis-sentinel']) {
      if (which('systemctl')) run('systemctl', ['stop', service], { stdio: 'ignore' });
      if (which('service')) run('service', [service, 'stop'], { stdio: 'ignore' });
    }
  }
}

function main() {
  let list = problems();
  if (list.length === 0) return 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && which('apt-get')) {
    console.log(`ensure-test-deps: ${list.join('; ')}: installing from Debian`);
    if (aptInstall()) list = problems();
    if (list.length === 0) {
      console.log(`ensure-test-deps: ok (${run('redis-server', ['--version']).stdout.trim()})`);
      return 0;
    }
  }
  console.error('ensure-test-deps: the tests need tools that are missing:');
  for (const p of list) console.error(`  - ${p}`);
  console.error('Install them (Debian/Ubuntu) with:');
  console.error('  sudo apt-get update && sudo apt-get install -y redis-server redis-tools redis-sentinel python3-redis openssl');
  console.error('(redis-server 7.x; the tests start their own server on a free port: the system service is not needed,');
  console.error(' `sudo systemctl disable --now redis-server` if you do not want it running.)');
  return 1;
}

process.exit(main());
