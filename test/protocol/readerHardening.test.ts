// Request reader corner cases found while hardening (the end-to-end comparison with redis-server is in
// test/hardening/hostile.test.ts).
import { describe, expect, it } from 'vitest';
import { ProtocolError, RequestReader } from '../../src/protocol/requestReader';

function reader(): RequestReader {
  return new RequestReader({ maxBulkLength: 512 * 1024 * 1024 });
}

describe('RequestReader: NUL bytes hide line ends, as strchr() does in Redis', () => {
  it('an inline line with a NUL waits for more input, then fails at 64 KiB', () => {
    const r = reader();
    r.feed(Buffer.from('ECHO a\x00b\r\nPING\r\n', 'latin1'));
    expect(r.next()).toBeUndefined();
    r.feed(Buffer.alloc(64 * 1024, 65));
    expect(() => r.next()).toThrow(new ProtocolError('ERR Protocol error: too big inline request'));
  });

  it('a NUL in a multibulk or bulk length line does the same with the header texts', () => {
    const a = reader();
    a.feed(Buffer.from('*1\x00\r\n$4\r\nPING\r\n', 'latin1'));
    expect(a.next()).toBeUndefined();
    a.feed(Buffer.alloc(70000, 49));
    expect(() => a.next()).toThrow('too big mbulk count string');
    const b = reader();
    b.feed(Buffer.from('*1\r\n$4\x00\r\nPING\r\n', 'latin1'));
    expect(b.next()).toBeUndefined();
    b.feed(Buffer.alloc(70000, 49));
    expect(() => b.next()).toThrow('too big bulk count string');
  });

  it('the same whether the NUL is near the line start or far into a long line (byte loop, then native search)', () => {
    for (const at of [0, 5, 31, 32, 33, 100, 5000]) {
      const r = reader();
      const line = `ECHO ${'a'.repeat(at)}\x00b\r\nPING\r\n`;
      r.feed(Buffer.from(line, 'latin1'));
      expect(r.next(), `NUL at ${at}`).toBeUndefined();
      // Without the NUL the same lines are two requests.
      const ok = reader();
      ok.feed(Buffer.from(line.replace('\x00', '_'), 'latin1'));
      expect(ok.next()!.args.map(String)).toEqual(['ECHO', `${'a'.repeat(at)}_b`]);
      expect(ok.next()!.args.map(String)).toEqual(['PING']);
    }
  });

  it('NUL inside bulk bodies and after a complete line is ordinary data', () => {
    const r = reader();
    r.feed(Buffer.from('PING\r\n*2\r\n$4\r\nECHO\r\n$3\r\na\x00b\r\n', 'latin1'));
    expect(r.next()!.args.map(String)).toEqual(['PING']);
    expect(r.next()!.args[1].equals(Buffer.from('a\x00b', 'latin1'))).toBe(true);
  });
});
