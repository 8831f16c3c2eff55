// The slow log model (src/server/slowLog.ts) and MONITOR's quoting (src/server/monitors.ts) on their own: the
// threshold follows CONFIG SET as a plain number (Infinity while off), entries are cut as Redis's
// slowlogCreateEntry cuts them, and arguments are quoted as sdscatrepr quotes them.
import { describe, expect, test } from 'vitest';
import { ConfigStore } from '../../src/config/configStore';
import { SlowLog, slowLogArgs } from '../../src/server/slowLog';
import { reprArgument } from '../../src/server/monitors';

const client = { remoteAddress: '127.0.0.1:5555', name: 'n' };
const b = (s: string) => Buffer.from(s, 'latin1');

describe('SlowLog', () => {
  test('the threshold is the configured number, Infinity while negative, and follows CONFIG SET', () => {
    const config = new ConfigStore();
    const log = new SlowLog(config);
    expect(log.threshold).toBe(10000);
    config.trySet('slowlog-log-slower-than', '-1');
    expect(log.threshold).toBe(Infinity);
    config.trySet('slowlog-log-slower-than', '0');
    expect(log.threshold).toBe(0);
  });

  test('keeps the newest slowlog-max-len entries, newest first; ids go on after RESET', () => {
    const config = new ConfigStore(new Map([['slowlog-max-len', '2']]));
    const log = new SlowLog(config);
    for (let i = 0; i < 3; i++) log.push(client, [b('XLEN'), b(`k${i}`)], 12.7, 1_700_000_000_500);
    expect(log.length).toBe(2);
    const [newest, older] = log.newest(10);
    expect(newest.id).toBe(2);
    expect(older.id).toBe(1);
    expect(newest.args.map(String)).toEqual(['XLEN', 'k2']);
    expect(newest.time).toBe(1_700_000_000);
    expect(newest.duration).toBe(12);
    expect(newest.peer).toBe('127.0.0.1:5555');
    log.reset();
    expect(log.length).toBe(0);
    log.push(client, [b('PING')], 1, 0);
    expect(log.newest(1)[0].id).toBe(3);
    config.trySet('slowlog-max-len', '0');
    expect(log.length).toBe(0);
  });

  test('entries keep copies: the request buffer may be reused', () => {
    const input = b('XADD');
    const log = new SlowLog(new ConfigStore());
    log.push(client, [input], 1, 0);
    input.fill(0x78);
    expect(String(log.newest(1)[0].args[0])).toBe('XADD');
  });

  test('arguments are cut to 32 (the last one counting the rest) and each to 128 bytes', () => {
    const many = Array.from({ length: 40 }, (_, i) => b(`a${i}`));
    const cut = slowLogArgs(many);
    expect(cut).toHaveLength(32);
    expect(String(cut[30])).toBe('a30');
    expect(String(cut[31])).toBe('... (9 more arguments)');
    expect(slowLogArgs(many.slice(0, 32))).toHaveLength(32);
    const long = slowLogArgs([b('x'.repeat(200)), b('y'.repeat(128))]);
    expect(String(long[0])).toBe(`${'x'.repeat(128)}... (72 more bytes)`);
    expect(String(long[1])).toBe('y'.repeat(128));
  });
});

describe('MONITOR quoting', () => {
  test('as sdscatrepr: escapes, printable ASCII as is, \\xHH for the rest', () => {
    expect(reprArgument(b('plain text'))).toBe('"plain text"');
    expect(reprArgument(b('"\\\n\r\t\x07\x08'))).toBe('"\\"\\\\\\n\\r\\t\\a\\b"');
    expect(reprArgument(Buffer.from([0x00, 0x1f, 0x7f, 0x80, 0xff]))).toBe('"\\x00\\x1f\\x7f\\x80\\xff"');
    expect(reprArgument(b(''))).toBe('""');
  });
});
