// Hostile and malformed requests, each sent on its own connection to Spool and to redis-server 7.0.15, whose
// replies (bytes) and fate (closed or kept open) must match. bench/fuzz.js reuses nothing from here on purpose:
// this list is the fixed, reviewed set.
import { encode } from './raw';

export interface HostileCase {
  name: string;
  bytes: Buffer;
  /** Set when Spool is known to differ from Redis (not owned by the protocol layer): only well-formedness is checked. */
  knownDifference?: string;
}

const s = (name: string, text: string): HostileCase => ({ name, bytes: Buffer.from(text, 'latin1') });

export const PROTOCOL_CASES: HostileCase[] = [
  s('multibulk 2^63', '*9223372036854775808\r\n'),
  s('multibulk 2^63-1', '*9223372036854775807\r\n'),
  s('multibulk 2^31', '*2147483648\r\n'),
  s('multibulk 2^31-1 then an inline', '*2147483647\r\nPING\r\n'),
  s('multibulk 2^20+1, nothing follows', '*1048577\r\n'),
  s('multibulk 20 nines', '*99999999999999999999\r\n'),
  s('multibulk 10^30', '*1000000000000000000000000000000\r\n'),
  s('multibulk -1', '*-1\r\nPING\r\n'),
  s('multibulk -5', '*-5\r\nPING\r\n'),
  s('multibulk 0', '*0\r\nPING\r\n'),
  s('multibulk +1', '*+1\r\n'),
  s('multibulk " 1"', '* 1\r\n'),
  s('multibulk 01', '*01\r\n$4\r\nPING\r\n'),
  s('multibulk abc', '*abc\r\n'),
  s('multibulk empty', '*\r\n'),
  s('multibulk -0', '*-0\r\n'),
  s('bulk 2^63', '*1\r\n$9223372036854775808\r\n'),
  s('bulk 2^63-1', '*1\r\n$9223372036854775807\r\n'),
  s('bulk 2^64', '*1\r\n$18446744073709551616\r\n'),
  s('bulk 512 MiB + 1', '*1\r\n$536870913\r\n'),
  s('bulk -1', '*1\r\n$-1\r\n'),
  s('bulk -0', '*1\r\n$-0\r\n'),
  s('bulk abc', '*1\r\n$abc\r\n'),
  s('bulk empty length', '*1\r\n$\r\n'),
  s('bulk 0', '*2\r\n$4\r\nECHO\r\n$0\r\n\r\n'),
  s('nested array', '*1\r\n*1\r\n$4\r\nPING\r\n'),
  s('simple string inside multibulk', '*1\r\n+PING\r\n'),
  s('integer inside multibulk', '*1\r\n:1\r\n'),
  s('+PING is an inline command', '+PING\r\n'),
  s('-ERR is an inline command', '-ERR x\r\n'),
  s(':1 is an inline command', ':1\r\n'),
  s('$4 is an inline command', '$4\r\nPING\r\n'),
  s('NUL inside an inline line', 'ECHO a\x00b\r\n'),
  s('NUL alone', '\x00\r\n'),
  s('NUL in inline, more lines behind', 'PING\x00\r\nPING\r\nPING\r\n'),
  s('NUL in inline, then 70 KB', 'PING\x00\r\n' + 'A'.repeat(70000) + '\r\n'),
  s('PING then NUL line', 'PING\r\nECHO a\x00b\r\n'),
  s('NUL in multibulk count', '*1\x00\r\n$4\r\nPING\r\n'),
  s('NUL in bulk length', '*1\r\n$4\x00\r\nPING\r\n'),
  s('NUL inside a bulk', '*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n'),
  s('bulk body not followed by CRLF', '*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n'),
  s('LF-only multibulk', '*1\n$4\nPING\n'),
  s('LF-only inline', 'PING\n'),
  s('CR inside an inline line', 'PING\rECHO\r\n'),
  s('inline 64 KiB + 1 without newline', 'A'.repeat(65537)),
  s('inline 64 KiB with newline', 'ECHO ' + 'A'.repeat(65530) + '\r\n'),
  s('inline 70000 bytes with newline', 'ECHO ' + 'A'.repeat(70000) + '\r\n'),
  s('multibulk count line 70000 digits', '*' + '1'.repeat(70000)),
  s('bulk length line 70000 digits', '*1\r\n$' + '1'.repeat(70000)),
  s('unbalanced double quote', 'ECHO "abc\r\n'),
  s('unbalanced single quote', "ECHO 'abc\r\n"),
  s('closing quote followed by a letter', 'ECHO "a"b\r\n'),
  s('inline escapes', 'ECHO "\\x41\\n\\q"\r\n'),
  s('empty quoted argument', 'ECHO ""\r\n'),
  s('tab separated inline', 'ECHO\tx\r\n'),
  s('spaces-only line', '   \r\n PING\r\n'),
  s('binary command name with NUL', '*1\r\n$3\r\n\xff\x00\x01\r\n'),
  s('binary inline command name', '\xff\xfe\r\n'),
  s('unknown command, CR LF in its name', '*1\r\n$5\r\nF\r\nOO\r\n'),
  s('unknown command, NUL in an argument', '*3\r\n$3\r\nFOO\r\n$3\r\na\x00b\r\n$1\r\nc\r\n'),
  s('unknown command, 200-byte name', '*1\r\n$200\r\n' + 'n'.repeat(200) + '\r\n'),
  s('unknown command, long arguments', '*3\r\n$3\r\nFOO\r\n$100\r\n' + 'a'.repeat(100) + '\r\n$100\r\n' + 'b'.repeat(100) + '\r\n'),
  s('unknown subcommand with NUL', '*2\r\n$6\r\nCLIENT\r\n$3\r\na\x00b\r\n'),
  s('CLIENT SETNAME with CR LF', '*3\r\n$6\r\nCLIENT\r\n$7\r\nSETNAME\r\n$3\r\na\r\n\r\n'),
  s('HELLO with garbage version', '*2\r\n$5\r\nHELLO\r\n$3\r\na\r\n\r\n'),
  s('SELECT 2^63', '*2\r\n$6\r\nSELECT\r\n$19\r\n9223372036854775808\r\n'),
  s('QUIT in a pipeline', 'PING\r\nQUIT\r\nPING\r\n'),
  s('bytes after a protocol error are ignored', '*x\r\nPING\r\n'),
  s('wrong arity inline', 'PING a b\r\n'),
];

const NUMBERS = [
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '99999999999999999999999', '-1', '0', '1.5', '1e3', '+1',
  ' 1', '0x10', '', '007', '\x00',
];

/** Overflowing and malformed numbers in stream command arguments; every case uses its own key. */
export function streamNumberCases(): HostileCase[] {
  const out: HostileCase[] = [];
  let k = 0;
  for (const n of NUMBERS) {
    const q = JSON.stringify(n);
    const add = (name: string, build: (key: string) => Buffer[], knownDifference?: string) => {
      const key = `hk${k++}`;
      const setup = [encode('XADD', key, '1-1', 'f', 'v'), encode('XADD', key, '2-1', 'f', 'v')];
      out.push({ name: `${name} ${q}`, bytes: Buffer.concat([...setup, ...build(key)]), knownDifference });
    };
    add('XRANGE COUNT', (key) => [encode('XRANGE', key, '-', '+', 'COUNT', n)]);
    add('XREVRANGE COUNT', (key) => [encode('XREVRANGE', key, '+', '-', 'COUNT', n)]);
    add('XREAD COUNT', (key) => [encode('XREAD', 'COUNT', n, 'STREAMS', key, '0')]);
    add('XREAD BLOCK', (key) => [encode('XREAD', 'BLOCK', n, 'STREAMS', key, '0')]);
    add('XADD MAXLEN', (key) => [encode('XADD', key, 'MAXLEN', n, '3-1', 'f', 'v')]);
    add('XADD MAXLEN ~ LIMIT', (key) => [encode('XADD', key, 'MAXLEN', '~', '1', 'LIMIT', n, '3-1', 'f', 'v')]);
    add('XADD MINID', (key) => [encode('XADD', key, 'MINID', n, '3-1', 'f', 'v')]);
    add('XTRIM MAXLEN', (key) => [encode('XTRIM', key, 'MAXLEN', n)]);
    add('XADD ID ms', (key) => [encode('XADD', key, `${n}-1`, 'f', 'v')]);
    add('XADD ID seq', (key) => [encode('XADD', key, `3-${n}`, 'f', 'v')]);
    add('XRANGE start', (key) => [encode('XRANGE', key, n, '+')]);
    add('XDEL', (key) => [encode('XDEL', key, n)]);
    add('XSETID ENTRIESADDED', (key) => [encode('XSETID', key, '5-0', 'ENTRIESADDED', n, 'MAXDELETEDID', '0-0')]);
    const group = (key: string, ...cmds: Buffer[]) => [encode('XGROUP', 'CREATE', key, 'g', '0'), ...cmds];
    add('XPENDING count', (key) => group(key, encode('XPENDING', key, 'g', '-', '+', n)));
    add('XPENDING IDLE', (key) => group(key, encode('XPENDING', key, 'g', 'IDLE', n, '-', '+', '10')));
    add('XCLAIM min-idle / RETRYCOUNT', (key) =>
      group(key, encode('XCLAIM', key, 'g', 'c', n, '1-1'), encode('XCLAIM', key, 'g', 'c', '0', '1-1', 'RETRYCOUNT', n)));
    add('XAUTOCLAIM COUNT', (key) => group(key, encode('XAUTOCLAIM', key, 'g', 'c', '0', '0', 'COUNT', n)));
    add('XREADGROUP COUNT', (key) => group(key, encode('XREADGROUP', 'GROUP', 'g', 'c', 'COUNT', n, 'STREAMS', key, '>')));
    add('XINFO STREAM FULL COUNT', (key) => [encode('XINFO', 'STREAM', key, 'FULL', 'COUNT', n)]);
    add('XGROUP CREATE ENTRIESREAD', (key) => [encode('XGROUP', 'CREATE', key, 'g2', '0', 'ENTRIESREAD', n)]);
  }
  return out;
}

/** Database the glob cases use, so their KEYS and SCAN see only the keys below, whatever other cases created. */
const GLOB_DB = '9';

/** Long keys that make an unbounded glob matcher backtrack exponentially (CVE-2022-36021's family). */
export const GLOB_KEYS = ['a'.repeat(30), 'a'.repeat(60) + 'c', 'ab'.repeat(500), 'x'.repeat(1100)];

/** Puts GLOB_KEYS in GLOB_DB (explicit IDs, so both servers reply the same bytes). */
export function globSetup(): HostileCase {
  const adds = GLOB_KEYS.map((k) => encode('XADD', k, '1-1', 'f', 'v'));
  return { name: 'glob keys setup', bytes: Buffer.concat([encode('SELECT', GLOB_DB), encode('FLUSHDB'), ...adds]) };
}

/**
 * Pathological KEYS / SCAN MATCH / CONFIG GET / COMMAND LIST patterns over GLOB_KEYS: each answers at once in Redis
 * (bounded matcher); every reply holds at most one key, so hash-table order does not matter.
 */
export function globCases(): HostileCase[] {
  const stars = (unit: string, n: number, tail: string) => unit.repeat(n) + tail;
  const keys = (name: string, pattern: string): HostileCase => ({
    name: `KEYS ${name}`,
    bytes: Buffer.concat([encode('SELECT', GLOB_DB), encode('KEYS', pattern)]),
  });
  return [
    keys('*a x9 *b (matches the 1000-byte key)', stars('*a', 9, '*b')),
    keys('*a x14 *b', stars('*a', 14, '*b')),
    keys('*a x40 *c (matches the 61-byte key)', stars('*a', 40, '*c')),
    keys('*a x12 *d (matches nothing)', stars('*a', 12, '*d')),
    keys('*? x40 *z', stars('*?', 40, '*z')),
    keys('*[a-b] x15 *q', stars('*[a-b]', 15, '*q')),
    keys('*[^x] x15 *q', stars('*[^x]', 15, '*q')),
    keys('*\\a x15 *q', stars('*\\a', 15, '*q')),
    keys('*x x1000 (nesting at the limit)', stars('*x', 1000, '')),
    keys('*x x1001 (nesting over the limit)', stars('*x', 1001, '')),
    keys('x* x1001', stars('x*', 1001, '')),
    {
      name: 'SCAN MATCH *a x14 *b',
      bytes: Buffer.concat([encode('SELECT', GLOB_DB), encode('SCAN', '0', 'MATCH', stars('*a', 14, '*b'), 'COUNT', '1000')]),
    },
    { name: 'CONFIG GET *a x12 *z', bytes: encode('CONFIG', 'GET', stars('*a', 12, '*z')) },
    { name: 'COMMAND LIST FILTERBY PATTERN *e x12 *z', bytes: encode('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', stars('*e', 12, '*z')) },
  ];
}
