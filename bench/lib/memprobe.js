'use strict';
// Preloaded into a Spool server by bench/durability.js (node --expose-gc --require bench/lib/memprobe.js) for
// its memory measurement only: on SIGUSR2 it runs a full GC (when exposed) and writes process.memoryUsage() and
// V8's heap statistics as JSON to $SPOOL_MEMPROBE_FILE. Nothing else about the server changes.
const fs = require('node:fs');
const v8 = require('node:v8');

const file = process.env.SPOOL_MEMPROBE_FILE;
if (file) {
  process.on('SIGUSR2', () => {
    if (typeof global.gc === 'function') {
      global.gc();
      global.gc();
    }
    const m = process.memoryUsage();
    const h = v8.getHeapStatistics();
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify({ at: Date.now(), gc: typeof global.gc === 'function', ...m, totalHeapSize: h.total_heap_size, usedHeapSize: h.used_heap_size }));
    fs.renameSync(tmp, file);
  });
}
