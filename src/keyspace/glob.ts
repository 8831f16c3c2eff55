// Glob-style matching exactly as Redis 7.0's stringmatchlen (src/util.c): `*`, `?`, `[abc]`, `[^a]`, `[a-z]`,
// `\x` escapes. Used by KEYS, SCAN MATCH, CONFIG GET and CLIENT filters. Works on latin1 strings (bytes 1:1).
//
// Two bounds keep hostile patterns from freezing the event loop (CVE-2022-36021), and they change results only
// where Redis's do, so replies stay identical:
// - once the rest of a pattern after a `*` has failed at every position of the remaining text, no earlier `*`
//   can help by swallowing more text, so the whole match fails at once (Redis's `skipLongerMatches`): this makes
//   `*a*a*a...b` polynomial instead of exponential;
// - more than 1000 nested `*` expansions count as no match (Redis's `nesting > 1000`), which also bounds the
//   recursion depth.
//
// The quirks of the C code are kept on purpose, since patterns reach us from clients that compare with Redis:
// bytes are signed chars in ranges (`[a-\xff]` is the range -1..97), `tolower` is the C locale's (ASCII only),
// a `\` inside a class compares case-sensitively, `[a-]` is the range `]`..`a`, and reading one byte past the
// pattern's end sees the NUL terminator.

const MAX_NESTING = 1000;

// Set when a `*` proved that the rest of the pattern matches nowhere in the rest of the text. One flag for the
// whole (synchronous, non-reentrant) match, reset per call, so matching allocates nothing.
let skipLongerMatches = false;

export function globMatch(pattern: string, text: string, nocase = false): boolean {
  skipLongerMatches = false;
  return matchFrom(pattern, 0, text, 0, nocase, 0);
}

/** The pattern byte at i, or 0 past the end (where the C code reads the string's NUL terminator). */
function byteAt(p: string, i: number): number {
  return i < p.length ? p.charCodeAt(i) : 0;
}

/** A byte as C's signed char: ranges compare these, so bytes >= 0x80 sort below NUL. */
function signedChar(b: number): number {
  return b > 127 ? b - 256 : b;
}

/** C-locale tolower: only A-Z change (Redis never sets LC_CTYPE). */
function asciiLower(b: number): number {
  return b >= 65 && b <= 90 ? b + 32 : b;
}

function sameByte(a: number, b: number, nocase: boolean): boolean {
  return nocase ? asciiLower(a) === asciiLower(b) : a === b;
}

function matchFrom(p: string, pi: number, s: string, si: number, nocase: boolean, nesting: number): boolean {
  if (nesting > MAX_NESTING) return false;
  const pend = p.length;
  const send = s.length;
  while (pi < pend && si < send) {
    const c = p.charCodeAt(pi);
    if (c === 0x2a /* * */) {
      while (pi < pend && byteAt(p, pi + 1) === 0x2a) pi++;
      if (pend - pi === 1) return true;
      while (si < send) {
        if (matchFrom(p, pi + 1, s, si, nocase, nesting + 1)) return true;
        if (skipLongerMatches) return false;
        si++;
      }
      skipLongerMatches = true;
      return false;
    } else if (c === 0x3f /* ? */) {
      si++;
    } else if (c === 0x5b /* [ */) {
      pi = classEnd(p, pi + 1, s.charCodeAt(si), nocase);
      if (pi < 0) return false;
      si++;
    } else {
      // `\x` matches x literally; a lone trailing `\` matches a backslash.
      if (c === 0x5c && pend - pi >= 2) pi++;
      if (!sameByte(p.charCodeAt(pi), s.charCodeAt(si), nocase)) return false;
      si++;
    }
    pi++;
    if (si === send) {
      while (byteAt(p, pi) === 0x2a) pi++;
      break;
    }
  }
  return pi >= pend && si === send;
}

/**
 * Matches byte `ch` against the class whose body starts at pi (just after `[`). Returns the index of the
 * class's closing `]` (or of the pattern's last byte when the class is unterminated), or -1 when ch is not in it.
 */
function classEnd(p: string, pi: number, ch: number, nocase: boolean): number {
  const pend = p.length;
  const negate = byteAt(p, pi) === 0x5e; /* ^ */
  if (negate) pi++;
  let matched = false;
  for (;;) {
    const c = byteAt(p, pi);
    if (c === 0x5c /* \ */ && pend - pi >= 2) {
      pi++;
      if (p.charCodeAt(pi) === ch) matched = true;
    } else if (c === 0x5d /* ] */ && pi < pend) {
      break;
    } else if (pi >= pend) {
      pi--; // unterminated: the pattern's end closes the class
      break;
    } else if (pend - pi >= 3 && byteAt(p, pi + 1) === 0x2d /* - */) {
      let start = signedChar(c);
      let end = signedChar(p.charCodeAt(pi + 2));
      if (start > end) [start, end] = [end, start];
      let x = signedChar(ch);
      if (nocase) {
        start = asciiLower(start);
        end = asciiLower(end);
        x = asciiLower(x);
      }
      pi += 2;
      if (x >= start && x <= end) matched = true;
    } else if (sameByte(c, ch, nocase)) {
      matched = true;
    }
    pi++;
  }
  return matched !== negate ? pi : -1;
}
