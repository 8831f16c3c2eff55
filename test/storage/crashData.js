'use strict';
// Deterministic entry values shared by the crash child and the test.
function valueFor(i) {
  const len = 10 + (i % 300);
  const b = Buffer.allocUnsafe(len);
  let x = (i * 2654435761) >>> 0;
  for (let k = 0; k < len; k++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[k] = x >>> 24;
  }
  return b;
}
module.exports = { valueFor };
