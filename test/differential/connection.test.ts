// Connection-level commands: PING ECHO HELLO AUTH SELECT QUIT RESET CLIENT..., unknown commands, arity errors.
import { expect, test } from 'vitest';
import { describeSpool, differentialSuite, useSpool, type Script } from '../helpers/differential';
import { maskAll, maskHelloId, maskIntegers, maskKeys } from '../helpers/mask';
import { RespConnection, nodeText } from '../helpers/resp';

const scripts: Script[] = [
  {
    name: 'PING and ECHO',
    steps: ['PING', 'PING hello', ['PING', ''], 'PING a b', 'ECHO hi', ['ECHO', Buffer.from([0, 255, 13, 10])], 'ECHO', 'ECHO a b', 'ping', 'PiNg x'],
  },
  {
    name: 'unknown commands and their argument preview',
    steps: [
      'FOO',
      'FOO bar baz',
      ['FOO', 'a'.repeat(200), 'b'],
      ['FOO', 'with space', "it's", ''],
      ['FOO', Buffer.from([0, 1, 0xff, 10])],
      'FOO ' + Array.from({ length: 30 }, (_, i) => `arg${i}`).join(' '),
      'xadd2 s * f v',
      ['', 'x'],
      'NOSUCHCMD x a',
    ],
  },
  {
    name: 'wrong arity for many commands',
    steps: [
      'PING a b c', 'ECHO', 'SELECT', 'DEL', 'EXISTS', 'TYPE', 'RENAME a', 'KEYS', 'SCAN', 'DBSIZE x',
      'XLEN', 'XLEN a b', 'XACK s g', 'XDEL s', 'XTRIM s', 'XSETID s', 'XPENDING s', 'XCLAIM s g c 0', 'XAUTOCLAIM s g c 0',
      'XREAD', 'XREADGROUP', 'XINFO', 'XGROUP', 'MULTI x', 'EXEC x', 'DISCARD x', 'WATCH', 'UNWATCH x', 'CLIENT', 'CONFIG', 'CLIENT GETNAME x', 'CONFIG GET', 'CONFIG SET a',
      'HELLO 3 AUTH', 'AUTH', 'AUTH a b c', 'RESET x', 'FLUSHALL x y',
      { cmd: 'QUIT x', expectClose: true },
    ],
  },
  {
    name: 'HELLO replies and errors',
    protocols: [2],
    mask: [maskHelloId],
    steps: [
      { cmd: 'HELLO', mask: [maskHelloId] },
      { cmd: 'HELLO 2', mask: [maskHelloId] },
      'HELLO 4',
      'HELLO 1',
      'HELLO x',
      'HELLO 3 FOO',
      { cmd: 'HELLO 2 SETNAME myname', mask: [maskHelloId] },
      'CLIENT GETNAME',
      'HELLO 2 SETNAME',
      'HELLO 2 SETNAME bad\\x20name',
      ['HELLO', '2', 'SETNAME', 'bad name'],
      'HELLO 3 AUTH default wrong',
      { cmd: 'HELLO 3', mask: [maskHelloId] },
      'PING',
      { cmd: 'HELLO', mask: [maskHelloId] },
      { cmd: 'HELLO 2', mask: [maskHelloId] },
      'PING',
    ],
  },
  {
    name: 'AUTH without a password configured',
    steps: ['AUTH x', 'AUTH default x', 'AUTH nobody x', 'AUTH', 'PING'],
  },
  {
    name: 'AUTH with requirepass',
    steps: [
      'CONFIG SET requirepass secret',
      { c: 1, cmd: 'PING' },
      { c: 1, cmd: 'XADD s 1-0 f v' },
      { c: 1, cmd: 'FOO' },
      { c: 1, cmd: 'AUTH wrong' },
      { c: 1, cmd: 'AUTH default wrong' },
      { c: 1, cmd: 'AUTH secret' },
      { c: 1, cmd: 'PING' },
      { c: 2, cmd: 'AUTH default secret' },
      { c: 2, cmd: 'XADD s 1-0 f v' },
      { c: 3, cmd: 'HELLO 2 AUTH default wrong' },
      { c: 3, cmd: 'HELLO 2 AUTH default secret', mask: [maskHelloId] },
      ['CONFIG', 'SET', 'requirepass', ''],
      { c: 4, cmd: 'PING' },
    ],
    protocols: [2],
    after: [['CONFIG', 'SET', 'requirepass', '']],
  },
  {
    name: 'SELECT and RESET',
    steps: [
      'SELECT 3',
      'XADD s 1-0 f v',
      'CLIENT SETNAME n1',
      'MULTI',
      'RESET',
      'CLIENT GETNAME',
      'EXISTS s',
      'SELECT 3',
      'EXISTS s',
      'EXEC',
      'RESET',
      'PING',
    ],
  },
  {
    name: 'QUIT closes the connection after +OK',
    steps: ['PING', { cmd: 'QUIT', expectClose: true }],
  },
  {
    name: 'QUIT in a pipeline: later commands are not answered',
    steps: [{ raw: '*1\r\n$4\r\nPING\r\n*1\r\n$4\r\nQUIT\r\n*1\r\n$4\r\nPING\r\n', replies: 2, expectClose: true }],
  },
  {
    name: 'CLIENT SETNAME GETNAME',
    steps: [
      'CLIENT GETNAME',
      'CLIENT SETNAME alice',
      'CLIENT GETNAME',
      ['CLIENT', 'SETNAME', 'with space'],
      ['CLIENT', 'SETNAME', 'nl\n'],
      ['CLIENT', 'SETNAME', ''],
      'CLIENT GETNAME',
      'CLIENT SETNAME',
      'CLIENT GETNAME x',
      'client setname Bob',
      'CLIENT GETNAME',
    ],
  },
  {
    name: 'CLIENT ID INFO LIST (shapes)',
    steps: [
      { cmd: 'CLIENT ID', mask: [maskIntegers] },
      { cmd: 'CLIENT INFO', mask: [maskAll] },
      { cmd: 'CLIENT LIST', mask: [maskAll] },
      { cmd: 'CLIENT LIST TYPE normal', mask: [maskAll] },
      'CLIENT LIST TYPE foo',
      'CLIENT LIST ID abc',
      'CLIENT ID x',
    ],
  },
  {
    name: 'CLIENT KILL errors, NO-EVICT, unknown subcommands, HELP',
    steps: [
      'CLIENT KILL ID 99999999',
      'CLIENT KILL 1.2.3.4:5',
      'CLIENT KILL ID x',
      'CLIENT KILL FOO bar',
      'CLIENT KILL ADDR 1.2.3.4:5',
      'CLIENT KILL SKIPME yes',
      'CLIENT NO-EVICT on',
      'CLIENT NO-EVICT off',
      'CLIENT NO-EVICT maybe',
      'CLIENT FOO',
      'CLIENT REPLY ON',
    ],
  },
  {
    name: 'CLIENT REPLY OFF, SKIP and ON',
    steps: [
      // OFF: no reply to OFF nor to what follows (errors included) until ON answers +OK
      { raw: 'CLIENT REPLY OFF\r\nPING\r\nXADD s 1-0 f v\r\nXADD s 1-0 f v\r\nCLIENT REPLY ON\r\nXLEN s\r\n', replies: 2 },
      // SKIP: no reply to SKIP nor to the next command only
      { raw: 'CLIENT REPLY SKIP\r\nXADD s 2-0 f v\r\nXLEN s\r\n', replies: 1 },
      { raw: 'CLIENT REPLY SKIP\r\nNOSUCHCOMMAND\r\nECHO after\r\n', replies: 1 },
      // SKIP while OFF stays OFF
      { raw: 'CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nPING\r\nPING\r\nCLIENT REPLY ON\r\n', replies: 1 },
      'CLIENT REPLY MAYBE',
      { raw: 'CLIENT REPLY SKIP\r\nMULTI\r\nXADD s 3-0 f v\r\nEXEC\r\nXRANGE s - +\r\n', replies: 3 },
    ],
  },
  {
    name: 'CLIENT REPLY SKIP before a blocking read: its reply is dropped when served',
    steps: [
      'XADD s 1-0 f v',
      { c: 1, raw: 'CLIENT REPLY SKIP\r\nXREAD BLOCK 0 STREAMS s $\r\n', defer: true },
      { waitBlocked: 1 },
      'XADD s 2-0 f v',
      { c: 1, cmd: 'PING' },
    ],
  },
  {
    name: 'CLIENT KILL ADDR of another client',
    steps: [
      { c: 1, cmd: 'CLIENT SETNAME victim' },
      { cmd: 'CLIENT KILL SKIPME yes TYPE normal', mask: [maskIntegers] },
      { c: 1, cmd: 'PING', expectClose: true },
    ],
  },
];

differentialSuite(scripts);

describeSpool('Spool-only connection behaviour', () => {
  const port = useSpool();

  test('CLIENT SETINFO and NO-TOUCH are accepted (Redis 7.2 subcommands that clients send)', async () => {
    const c = await RespConnection.connect(port());
    try {
      expect(nodeText(await c.call(['CLIENT', 'SETINFO', 'lib-name', 'ioredis']))).toBe('OK');
      expect(nodeText(await c.call(['CLIENT', 'SETINFO', 'lib-ver', '6.0.0']))).toBe('OK');
      const bad = await c.call(['CLIENT', 'SETINFO', 'foo', 'x']);
      expect(bad.type).toBe('-');
      expect(nodeText(await c.call(['CLIENT', 'NO-TOUCH', 'on']))).toBe('OK');
    } finally {
      c.close();
    }
  });

  test('CLIENT INFO and LIST have the Redis fields', async () => {
    const c = await RespConnection.connect(port());
    try {
      await c.call(['CLIENT', 'SETNAME', 'probe']);
      const info = nodeText(await c.call(['CLIENT', 'INFO'])) ?? '';
      for (const f of ['id=', 'addr=127.0.0.1:', 'laddr=', 'fd=', 'name=probe', 'age=', 'idle=', 'flags=', 'db=0', 'cmd=client|info', 'user=default', 'resp=2']) {
        expect(info).toContain(f);
      }
      expect(info.endsWith('\n')).toBe(true);
      const list = nodeText(await c.call(['CLIENT', 'LIST'])) ?? '';
      expect(list).toMatch(/^id=\d+ addr=127\.0\.0\.1:\d+ /m);
      expect(list).toContain('name=probe');
      const id = await c.call(['CLIENT', 'ID']);
      expect(id.type).toBe(':');
      expect(info).toContain(`id=${nodeText(id)} `);
    } finally {
      c.close();
    }
  });

  test('HELLO 3 reports redis 7 and the client id', async () => {
    const c = await RespConnection.connect(port());
    try {
      const hello = await c.call(['HELLO', '3']);
      expect(hello.type).toBe('%');
      const kv = new Map<string, string | null>();
      const ch = hello.children!;
      for (let i = 0; i < ch.length; i += 2) kv.set(nodeText(ch[i]!)!, nodeText(ch[i + 1]!));
      expect(kv.get('server')).toBe('redis');
      expect(kv.get('version')).toMatch(/^7\./);
      expect(kv.get('proto')).toBe('3');
      expect(kv.get('mode')).toBe('standalone');
      expect(kv.get('role')).toBe('master');
      const id = await c.call(['CLIENT', 'ID']);
      expect(kv.get('id')).toBe(nodeText(id));
      maskKeys('id')(hello);
    } finally {
      c.close();
    }
  });
});
