#!/usr/bin/env node
'use strict';
// Storage layer benchmark: appends/s and MB/s for 100 B and 4 KiB entries under each appendfsync policy, next to
// raw disk figures measured in the same run (sequential write MB/s, fdatasync latency), and the two candidate
// `always` commit paths (docs/ARCHITECTURE.md, "Group commit"): copy into the map + fdatasync vs one pwrite on an
// O_DSYNC fd.
//
// Decision for `always` (measured here, 2-core VM, ext4): one pwrite on an O_DSYNC descriptor commits a record in
// about half the time of copy-into-map + fdatasync (p50 0.23 ms vs 0.47 ms for 100 B and 4 KiB; p99 0.41 vs
// 0.69-1.09 ms): syncing pages dirtied through a mapping faults and journals more. So the faster `always` path is
// pwrite(O_DSYNC) of each batch's bytes from a staging buffer while the map serves reads; StreamLog today copies
// into the map under every policy (its staging buffer is the hook for that path); this script's output is the
// measurement behind that choice.
// Usage: npm run build && node bench/storage.js [dir]   (SPOOL_STORAGE_DIST overrides dist/storage)
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { performance } = require('node:perf_hooks');
const mmap = require('@riaskov/mmap-io');

const dist = process.env.SPOOL_STORAGE_DIST || path.join(__dirname, '..', 'dist', 'storage');
const { CommitBatcher, SegmentCache, StreamLog } = require(path.join(dist, 'index.js'));

const base = process.argv[2] || path.join(__dirname, 'results', 'tmp');
fs.mkdirSync(base, { recursive: true });
const root = fs.mkdtempSync(path.join(base, 'storage-bench-'));

const pct = (a, p) => a.slice().sort((x, y) => x - y)[Math.min(a.length - 1, Math.floor(a.length * p))];
const fmt = (n, d = 2) => n.toFixed(d);
const p = (fn) => new Promise((res, rej) => fn((e, v) => (e ? rej(e) : res(v))));

async function rawSequential() {
  const file = path.join(root, 'seq.bin');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20, 1);
  const total = 256;
  const t0 = performance.now();
  for (let i = 0; i < total; i++) await p((cb) => fs.write(fd, chunk, 0, chunk.length, i * chunk.length, cb));
  await p((cb) => fs.fdatasync(fd, cb));
  const s = (performance.now() - t0) / 1000;
  fs.closeSync(fd);
  fs.unlinkSync(file);
  return total / s;
}

/** Prepares a zero-filled, synced file (as a reserved segment). */
async function reserved(file, size) {
  const fd = fs.openSync(file, 'w+');
  const z = Buffer.alloc(1 << 20);
  for (let off = 0; off < size; off += z.length) await p((cb) => fs.write(fd, z, 0, Math.min(z.length, size - off), off, cb));
  await p((cb) => fs.fdatasync(fd, cb));
  return fd;
}

async function fdatasyncLatency(n) {
  const fd = await reserved(path.join(root, 'lat.bin'), 16 << 20);
  const b = Buffer.alloc(4096, 2);
  const lat = [];
  for (let i = 0; i < n; i++) {
    await p((cb) => fs.write(fd, b, 0, b.length, i * 4096, cb));
    const t = performance.now();
    await p((cb) => fs.fdatasync(fd, cb));
    lat.push(performance.now() - t);
  }
  fs.closeSync(fd);
  return lat;
}

async function mapCopySync(n, size) {
  const fd = await reserved(path.join(root, 'map.bin'), 16 << 20);
  const map = mmap.map(16 << 20, mmap.PROT_READ | mmap.PROT_WRITE, mmap.MAP_SHARED, fd, 0);
  const rec = Buffer.alloc(size, 3);
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    rec.copy(map, i * size);
    await p((cb) => fs.fdatasync(fd, cb));
    lat.push(performance.now() - t);
  }
  fs.closeSync(fd);
  return lat;
}

async function pwriteDsync(n, size) {
  const file = path.join(root, 'dsync.bin');
  fs.closeSync(await reserved(file, 16 << 20));
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_DSYNC);
  const rec = Buffer.alloc(size, 4);
  const lat = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await p((cb) => fs.write(fd, rec, 0, size, i * size, cb));
    lat.push(performance.now() - t);
  }
  fs.closeSync(fd);
  return lat;
}

/** Appends for `ms` in turns of `perTurn` records (as a pipelined server would), then drains. */
async function appendRate(policy, valueSize, ms, perTurn) {
  const batcher = new CommitBatcher({ policy, warn: () => undefined });
  const cache = new SegmentCache(64);
  const log = await StreamLog.create(root, 0, Buffer.from(`${policy}-${valueSize}-${Date.now()}`), { batcher, cache });
  const args = [Buffer.from('field'), Buffer.alloc(valueSize, 5)];
  let n = 0;
  let bytes = 0;
  let durable = 0;
  const t0 = performance.now();
  await new Promise((resolve) => {
    const turn = () => {
      if (performance.now() - t0 > ms) return resolve();
      // under always, do not run unboundedly ahead of durability (replies would be held anyway)
      if (n - durable > perTurn * 64) return setImmediate(turn);
      for (let i = 0; i < perTurn; i++) {
        const pos = log.appendEntry(BigInt(n + 1), 0n, args);
        void pos;
        n++;
      }
      bytes += perTurn * (valueSize + 5 + 38);
      const count = n;
      batcher.whenDurable(log.lastTicket).then(() => (durable = Math.max(durable, count)));
      setImmediate(turn);
    };
    turn();
  });
  await batcher.drain();
  const s = (performance.now() - t0) / 1000;
  const r = { policy, valueSize, perSec: n / s, mbPerSec: bytes / s / 1048576, syncs: batcher.syncs, batches: batcher.batches };
  batcher.close();
  await log.destroy();
  return r;
}

(async () => {
  console.log(`storage bench in ${root} (${os.cpus().length} cpus, node ${process.version})`);
  const seq = await rawSequential();
  const lat = await fdatasyncLatency(300);
  console.log(`raw disk: sequential write + fdatasync ${fmt(seq, 0)} MB/s; fdatasync (4 KiB dirty) p50 ${fmt(pct(lat, 0.5), 3)} ms p99 ${fmt(pct(lat, 0.99), 3)} ms`);
  for (const size of [100, 4096]) {
    const a = await mapCopySync(300, size);
    const b = await pwriteDsync(300, size);
    console.log(
      `always commit of one ${size} B record: map copy + fdatasync p50 ${fmt(pct(a, 0.5), 3)} ms p99 ${fmt(pct(a, 0.99), 3)} ms | ` +
        `pwrite O_DSYNC p50 ${fmt(pct(b, 0.5), 3)} ms p99 ${fmt(pct(b, 0.99), 3)} ms`,
    );
  }
  console.log('appends (turns of 64 records, 2 s each):');
  for (const policy of ['no', 'everysec', 'always']) {
    for (const size of [100, 4096]) {
      const r = await appendRate(policy, size, 2000, 64);
      console.log(`  ${policy.padEnd(8)} ${String(size).padStart(4)} B: ${fmt(r.perSec, 0).padStart(9)} appends/s ${fmt(r.mbPerSec, 1).padStart(7)} MB/s  (${r.batches} batches, ${r.syncs} syncs)`);
    }
  }
  fs.rmSync(root, { recursive: true, force: true });
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
