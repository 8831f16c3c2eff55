// Integer parsing with Redis's string2ll rules: optional '-', no '+', no spaces, no leading zeros, at most
// 20 characters, within int64. Used for protocol lengths and, through the argument reader, command arguments.

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Parses bytes [start, end) of buf as an int64. Returns null when malformed or out of range. Values beyond
 * 2^53 come back as the nearest double: callers compare them against limits, never do arithmetic with them
 * (use parseInt64 for exact values).
 */
export function parseStrictInteger(buf: Buffer, start = 0, end = buf.length): number | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let i = start;
  let negative = false;
  if (buf[i] === 0x2d) {
    negative = true;
    i++;
    if (i === end) return null;
  }
  if (buf[i] === 0x30) return len === 1 ? 0 : null;
  if (len - (negative ? 1 : 0) > 15) {
    const exact = parseInt64(buf.subarray(start, end));
    return exact === null ? null : Number(exact);
  }
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i] - 0x30;
    if (c < 0 || c > 9) return null;
    value = value * 10 + c;
  }
  return negative ? -value : value;
}

/** Exact int64 parse with string2ll rules. */
export function parseInt64(arg: Buffer | string): bigint | null {
  const s = typeof arg === 'string' ? arg : arg.toString('latin1');
  if (!/^(0|-?[1-9][0-9]{0,19})$/.test(s)) return null;
  const v = BigInt(s);
  return v > INT64_MAX || v < INT64_MIN ? null : v;
}

/** Exact uint64 parse (stream ID parts): digits only, leading zeros allowed as strtoull allows them. */
export function parseUint64(s: string): bigint | null {
  if (s.length === 0 || s.length > 20 && !/^0+[0-9]{1,20}$/.test(s)) return null;
  if (!/^[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v > 18446744073709551615n ? null : v;
}
