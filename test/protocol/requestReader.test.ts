import { describe, expect, it } from 'vitest';
import { ProtocolError, RequestReader } from '../../src/protocol/requestReader';

function readAll(input: string | Buffer, chunkSize = Infinity): (string[] | Error)[] {
  const reader = new RequestReader({ maxBulkLength: 512 * 1024 * 1024 });
  const bytes = typeof input === 'string' ? Buffer.from(input, 'latin1') : input;
  const out: (string[] | Error)[] = [];
  for (let i = 0; i < bytes.length; i += Math.min(chunkSize, bytes.length)) {
    reader.feed(bytes.subarray(i, Math.min(bytes.length, i + chunkSize)));
    try {
      for (let req = reader.next(); req; req = reader.next()) out.push(req.args.map((a) => a.toString('latin1')));
    } catch (err) {
      out.push(err as Error);
      return out;
    }
  }
  return out;
}

function errorOf(input: string): string {
  const last = readAll(input).pop();
  expect(last).toBeInstanceOf(ProtocolError);
  return (last as ProtocolError).reply;
}

describe('RequestReader', () => {
  it('reads multibulk requests, also split into single bytes', () => {
    const input = '*3\r\n$4\r\nXADD\r\n$1\r\ns\r\n$1\r\n*\r\n*1\r\n$4\r\nPING\r\n';
    expect(readAll(input)).toEqual([['XADD', 's', '*'], ['PING']]);
    expect(readAll(input, 1)).toEqual([['XADD', 's', '*'], ['PING']]);
  });

  it('keeps binary bytes intact', () => {
    const value = Buffer.from([0, 13, 10, 255, 36]);
    const input = Buffer.concat([Buffer.from('*2\r\n$4\r\nECHO\r\n$5\r\n'), value, Buffer.from('\r\n')]);
    const reader = new RequestReader({ maxBulkLength: 1024 });
    reader.feed(input);
    expect(reader.next()!.args[1].equals(value)).toBe(true);
  });

  it('reads inline commands with quotes and escapes', () => {
    expect(readAll('PING\r\nECHO "a b\\x41\\n" \'c\\\'d\'\nSET  x   y\n')).toEqual([
      ['PING'],
      ['ECHO', 'a bA\n', "c'd"],
      ['SET', 'x', 'y'],
    ]);
  });

  it('skips empty lines and empty multibulks', () => {
    expect(readAll('\r\n*0\r\n*-1\r\nPING\r\n')).toEqual([['PING']]);
  });

  it('answers Redis protocol errors', () => {
    expect(errorOf('*x\r\n')).toBe('ERR Protocol error: invalid multibulk length');
    expect(errorOf('*9999999999\r\n')).toBe('ERR Protocol error: invalid multibulk length');
    expect(errorOf('*1\r\n*1\r\n')).toBe("ERR Protocol error: expected '$', got '*'");
    expect(errorOf('*1\r\n$-3\r\n')).toBe('ERR Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$9223372036854775808\r\n')).toBe('ERR Protocol error: invalid bulk length');
    expect(errorOf('*1\r\n$536870913\r\n')).toBe('ERR Protocol error: invalid bulk length');
    expect(errorOf('ECHO "abc\r\n')).toBe('ERR Protocol error: unbalanced quotes in request');
    expect(errorOf('ECHO "abc"def\r\n')).toBe('ERR Protocol error: unbalanced quotes in request');
    expect(errorOf('A'.repeat(70000))).toBe('ERR Protocol error: too big inline request');
    expect(errorOf('*' + '1'.repeat(70000))).toBe('ERR Protocol error: too big mbulk count string');
  });

  it('allocates nothing for a declared length until the bytes arrive', () => {
    const reader = new RequestReader({ maxBulkLength: 512 * 1024 * 1024 });
    reader.feed(Buffer.from('*2\r\n$4\r\nECHO\r\n$536870912\r\n'));
    expect(reader.next()).toBeUndefined();
    const before = process.memoryUsage().arrayBuffers;
    for (let i = 0; i < 10; i++) {
      reader.feed(Buffer.alloc(64 * 1024, 97));
      expect(reader.next()).toBeUndefined();
    }
    expect(reader.bufferedBytes).toBeLessThan(1024 * 1024);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 1024 * 1024);
  });

  it('gathers a large body arriving in many chunks', () => {
    const reader = new RequestReader({ maxBulkLength: 512 * 1024 * 1024 });
    const size = 3 * 1024 * 1024;
    reader.feed(Buffer.from(`*2\r\n$4\r\nECHO\r\n$${size}\r\n`));
    for (let sent = 0; sent < size; sent += 65536) {
      reader.feed(Buffer.alloc(Math.min(65536, size - sent), 98));
    }
    reader.feed(Buffer.from('\r\n*1\r\n$4\r\nPING\r\n'));
    const echo = reader.next()!.args;
    expect(echo[1].length).toBe(size);
    expect(reader.next()!.args.map(String)).toEqual(['PING']);
  });

  it('limits unauthenticated requests like Redis', () => {
    const reader = new RequestReader({ maxBulkLength: 1024 * 1024 });
    reader.authenticated = false;
    reader.feed(Buffer.from('*11\r\n'));
    expect(() => reader.next()).toThrow('ERR Protocol error: unauthenticated multibulk length');
  });
});
