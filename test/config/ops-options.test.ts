// Operations options and the structured logger: option table entries (defaults, checks, CONFIG SET), Redis
// loglevel names mapped to pino levels, JSON lines, following CONFIG SET loglevel, and error replies logged
// at debug level only while debug is on.
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { ConfigStore } from '../../src/config/configStore';
import { findOption } from '../../src/config/options';
import { createLogger, pinoLevel } from '../../src/server/logger';
import { ServerStats } from '../../src/server/serverState';

function capture(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return { stream, lines: () => chunks.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

describe('operations options', () => {
  test('defaults and checks', () => {
    const c = new ConfigStore();
    expect(c.get('metrics-port')).toBe('0');
    expect(c.get('metrics-max-streams')).toBe('1000');
    expect(c.get('tls-port')).toBe('0');
    expect(c.get('tls-auth-clients')).toBe('yes');
    expect(c.trySet('tls-auth-clients', 'OPTIONAL', true)).toBeNull();
    expect(c.get('tls-auth-clients')).toBe('optional');
    expect(c.trySet('tls-auth-clients', 'maybe', true)).toMatch(/must be one of the following: yes, no, optional/);
    expect(c.trySet('metrics-port', '70000', true)).toMatch(/between 0 and 65535/);
    // listeners are fixed at start-up; the series bound follows CONFIG SET
    expect(c.trySet('metrics-port', '9121')).toBe("can't set immutable config");
    expect(c.trySet('tls-port', '6380')).toBe("can't set immutable config");
    expect(c.trySet('metrics-max-streams', '5')).toBeNull();
    for (const name of ['metrics-port', 'metrics-max-streams', 'tls-port', 'tls-cert-file', 'tls-key-file', 'tls-ca-cert-file', 'tls-auth-clients'])
      expect(findOption(name)?.doc.length).toBeGreaterThan(10);
  });
});

describe('structured logger', () => {
  test('Redis loglevel names map to pino levels', () => {
    expect(pinoLevel('debug')).toBe('debug');
    expect(pinoLevel('verbose')).toBe('debug');
    expect(pinoLevel('notice')).toBe('info');
    expect(pinoLevel('warning')).toBe('warn');
    expect(pinoLevel('nothing')).toBe('silent');
    expect(pinoLevel('WARNING')).toBe('warn');
  });

  test('JSON lines with level names, pid and time; the (level, message) callback maps notice/warning', () => {
    const out = capture();
    const logger = createLogger({ level: 'notice', stream: out.stream });
    logger.log('notice', 'recovered 3 streams');
    logger.log('warning', 'recovery: cut a torn tail');
    logger.pino.debug('not shown at notice');
    const lines = out.lines();
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ level: 'info', msg: 'recovered 3 streams', pid: process.pid });
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'recovery: cut a torn tail' });
    expect(typeof lines[0].time).toBe('string');
  });

  test('follows CONFIG SET loglevel; error replies are logged at debug only while debug is on', () => {
    const out = capture();
    const logger = createLogger({ level: 'warning', stream: out.stream });
    const config = new ConfigStore(new Map([['loglevel', 'warning']]));
    const stats = new ServerStats();
    logger.follow(config, stats);
    expect(stats.onErrorReply).toBeNull(); // nothing on the error path while debug is off
    logger.log('notice', 'hidden');
    stats.error('WRONGTYPE');
    expect(out.lines()).toHaveLength(0);

    config.trySet('loglevel', 'debug');
    expect(logger.debugEnabled).toBe(true);
    stats.error('NOAUTH');
    logger.log('notice', 'shown');
    expect(out.lines()).toEqual([
      expect.objectContaining({ level: 'debug', event: 'error_reply', code: 'NOAUTH' }),
      expect.objectContaining({ level: 'info', msg: 'shown' }),
    ]);

    config.trySet('loglevel', 'nothing');
    expect(stats.onErrorReply).toBeNull();
    logger.log('warning', 'silent');
    expect(out.lines()).toHaveLength(2);
  });
});
