// Glob-style matching as Redis's stringmatchlen: `*`, `?`, `[abc]`, `[^a]`, `[a-z]`, `\x` escapes.
// Used by KEYS, SCAN MATCH, CONFIG GET and CLIENT filters. Works on latin1 strings (bytes 1:1).

export function globMatch(pattern: string, text: string, nocase = false): boolean {
  return matchAt(pattern, 0, text, 0, nocase, 0);
}

function lower(c: string, nocase: boolean): string {
  return nocase ? c.toLowerCase() : c;
}

function matchAt(p: string, pi: number, s: string, si: number, nocase: boolean, depth: number): boolean {
  // Redis caps recursion to avoid pathological patterns; 1000 nested stars are more than any real pattern.
  if (depth > 1000) return false;
  while (pi < p.length) {
    const c = p[pi];
    if (c === '*') {
      while (pi + 1 < p.length && p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi + 1, s, k, nocase, depth + 1)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      si++;
      pi++;
      continue;
    }
    if (c === '[') {
      pi++;
      const negate = p[pi] === '^';
      if (negate) pi++;
      let matched = false;
      while (pi < p.length && p[pi] !== ']') {
        if (p[pi] === '\\' && pi + 1 < p.length) {
          pi++;
          if (lower(p[pi], nocase) === lower(s[si], nocase)) matched = true;
        } else if (pi + 2 < p.length && p[pi + 1] === '-' && p[pi + 2] !== ']') {
          let start = lower(p[pi], nocase);
          let end = lower(p[pi + 2], nocase);
          if (start > end) [start, end] = [end, start];
          const ch = lower(s[si], nocase);
          if (ch >= start && ch <= end) matched = true;
          pi += 2;
        } else if (lower(p[pi], nocase) === lower(s[si], nocase)) {
          matched = true;
        }
        pi++;
      }
      if (pi >= p.length) pi--; // unterminated class: Redis treats the end of the pattern as its end
      if (negate) matched = !matched;
      if (!matched) return false;
      pi++;
      si++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) pi++;
    if (lower(p[pi], nocase) !== lower(s[si], nocase)) return false;
    pi++;
    si++;
  }
  return si === s.length;
}
