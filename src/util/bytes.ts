// Small fixed-size stores and short copies into byte arrays, written as plain element stores. Buffer's
// writeUInt32LE validates its arguments on every call and TypedArray#set has a native call's fixed cost; on the
// per-entry path (a record header, a few short items, a reply header) those costs were most of the work
// (measured here: 14 ns per writeUInt32LE, 26 ns per set of a 1-byte item, against 2-5 ns as element stores).

/** Copies below this length go byte by byte; longer ones through TypedArray#set (one native memcpy). */
const SHORT_COPY = 16;

/** Writes `value` (a uint32, or any number taken modulo 2^32) little-endian at target[at .. at+4). */
export function storeU32LE(target: Uint8Array, at: number, value: number): void {
  target[at] = value;
  target[at + 1] = value >>> 8;
  target[at + 2] = value >>> 16;
  target[at + 3] = value >>> 24;
}

/** Copies source[start, end) to target[at ..]. */
export function copyBytes(target: Uint8Array, at: number, source: Uint8Array, start: number, end: number): void {
  const n = end - start;
  if (n <= SHORT_COPY) {
    for (let i = 0; i < n; i++) target[at + i] = source[start + i];
    return;
  }
  // A plain Uint8Array view: Buffer#subarray goes through the species lookup.
  target.set(start === 0 && end === source.length ? source : new Uint8Array(source.buffer, source.byteOffset + start, n), at);
}

/** Whether a and b hold the same bytes: short ones compared in a loop, longer ones by one native compare. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  const n = a.length;
  if (n !== b.length) return false;
  if (n > 32) return Buffer.compare(a, b) === 0;
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}
