#!/usr/bin/env node
'use strict';
// Aggregates a V8 .cpuprofile (node --cpu-prof) by function: self time and inclusive time, top N.
// Usage: node bench/profile-top.js file.cpuprofile [N]
const fs = require('node:fs');
const path = require('node:path');
const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/profile-top.js file.cpuprofile [N]');
  process.exit(2);
}
const top = Number(topArg || 30);
const prof = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of prof.nodes) for (const c of n.children || []) parent.set(c, n.id);
const selfUs = new Map();
prof.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) || 0) + (prof.timeDeltas[i] || 0)));
const key = (n) => {
  const f = n.callFrame;
  const where = f.url ? `${path.basename(f.url)}:${f.lineNumber + 1}` : '';
  return `${f.functionName || '(anonymous)'} ${where}`.trim();
};
const self = new Map();
const total = new Map();
let all = 0;
for (const [id, us] of selfUs) {
  all += us;
  const n = byId.get(id);
  self.set(key(n), (self.get(key(n)) || 0) + us);
  // Inclusive: count each function once per sample stack.
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = key(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    total.set(k, (total.get(k) || 0) + us);
  }
}
const pct = (us) => ((100 * us) / all).toFixed(1).padStart(5);
console.log(`total ${(all / 1e6).toFixed(2)} s sampled`);
console.log('self%  total%  function');
for (const [k, us] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${pct(us)}  ${pct(total.get(k))}   ${k}`);
