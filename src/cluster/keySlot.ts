// Which of Redis Cluster's 16384 hash slots a key belongs to: CRC16 (XMODEM, Redis's crc16.c) of the key, or of
// its `{hash tag}`, modulo 16384, exactly as keyHashSlot in Redis's cluster.c. Every cluster client computes the
// same function, so a key goes to the node that owns its slot without asking.

export const CLUSTER_SLOTS = 16384;

/** CRC16 XMODEM (polynomial 0x1021, initial 0), one table lookup per byte. */
const TABLE = (() => {
  const t = new Uint16Array(256);
  for (let i = 0; i < 256; i++) {
    let crc = i << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    t[i] = crc;
  }
  return t;
})();

function crc16(key: Buffer, start: number, end: number): number {
  let crc = 0;
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ TABLE[((crc >> 8) ^ key[i]) & 0xff];
  return crc;
}

/**
 * The slot of `key`: when it holds a `{` followed later by a `}` with at least one byte between them, only the
 * bytes between the first `{` and the first `}` after it are hashed (so `{user1}:a` and `{user1}:b` share a
 * slot); an empty tag `{}` hashes the whole key.
 */
export function keyHashSlot(key: Buffer): number {
  const n = key.length;
  let open = -1;
  for (let i = 0; i < n; i++) {
    if (key[i] === 0x7b) {
      open = i;
      break;
    }
  }
  if (open < 0) return crc16(key, 0, n) & 0x3fff;
  let close = -1;
  for (let i = open + 1; i < n; i++) {
    if (key[i] === 0x7d) {
      close = i;
      break;
    }
  }
  if (close < 0 || close === open + 1) return crc16(key, 0, n) & 0x3fff;
  return crc16(key, open + 1, close) & 0x3fff;
}

/** keyHashSlot of a key held as a latin1 string (the keyspace's form). */
export function keySlotOf(key: string): number {
  return keyHashSlot(Buffer.from(key, 'latin1'));
}
