// The request protocol itself: inline commands, pipelining, binary data, split frames and malformed requests.
// Every step sends raw bytes; replies and whether the server closed the connection are compared.
import { differentialSuite, pipeline, type Script, type StepObject } from '../helpers/differential';
import { encodeCommand } from '../helpers/resp';

const raw = (bytes: string | Buffer, replies = 1, extra: Partial<StepObject> = {}): StepObject => ({ raw: bytes, replies, ...extra });
const bad = (bytes: string | Buffer, replies = 1): StepObject => ({ raw: bytes, replies, expectClose: true });

const scripts: Script[] = [
  {
    name: 'inline commands',
    steps: [
      raw('PING\r\n'),
      raw('PING\n'),
      raw('ping hello\r\n'),
      raw('ECHO "hello world"\r\n'),
      raw("ECHO 'single quoted'\r\n"),
      raw('ECHO "esc\\x41\\n\\t\\"q\\""\r\n'),
      raw('   PING    \r\n'),
      raw('XADD s 1-0 f v\r\n'),
      raw('XRANGE s - +\r\n'),
      raw('ECHO ""\r\n'),
      raw("ECHO ''\r\n"),
      raw('NOSUCH a b\r\n'),
      raw('XADD\r\n'),
    ],
  },
  {
    name: 'empty inline lines are ignored',
    steps: [raw('\r\n', 0), raw('\n', 0), raw('   \r\n', 0), raw('PING\r\n')],
  },
  {
    name: 'inline pipeline in one write',
    steps: [raw('PING\r\nECHO a\r\nXADD s 1-0 f v\r\nXLEN s\r\n', 4)],
  },
  {
    name: 'mixed inline and multibulk in one write',
    steps: [raw(Buffer.concat([Buffer.from('PING\r\n'), encodeCommand(['ECHO', 'x']), Buffer.from('XLEN s\r\n')]), 3)],
  },
  {
    name: 'multibulk pipeline of 200 commands in one write',
    steps: [pipeline(Array.from({ length: 200 }, (_, i) => (i % 2 ? ['XLEN', 's'] : ['XADD', 's', `${i + 1}-0`, 'i', String(i)])))],
  },
  {
    name: 'a command split across many writes',
    steps: [
      ...(() => {
        const bytes = encodeCommand(['XADD', 's', '1-0', 'field', 'value']).toString('latin1');
        return bytes.split('').map((ch, i) => raw(ch, i === bytes.length - 1 ? 1 : 0, { label: 'byte by byte XADD s 1-0 field value' }));
      })(),
      raw('PI', 0),
      raw('NG\r', 0),
      raw('\n'),
    ],
  },
  {
    name: 'binary-safe bulk strings with CR LF and NUL inside',
    steps: [
      raw(encodeCommand(['XADD', Buffer.from('k\r\n\0'), '1-0', Buffer.from('\r\n'), Buffer.from([0, 0, 0xff])])),
      raw(encodeCommand(['XRANGE', Buffer.from('k\r\n\0'), '-', '+'])),
      raw(encodeCommand(['ECHO', Buffer.alloc(100000, 0x61)])),
    ],
  },
  {
    name: 'empty and negative multibulk counts are ignored',
    steps: [raw('*0\r\n', 0), raw('*-1\r\n', 0), raw('*-10\r\n', 0), raw('*1\r\n$4\r\nPING\r\n')],
  },
  {
    name: 'bulk without trailing CRLF check',
    steps: [raw('*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n', 2)],
  },
  { name: 'invalid multibulk length: not a number', steps: [raw('PING\r\n'), bad('*abc\r\n')] },
  { name: 'invalid multibulk length: too large', steps: [bad('*3000000000\r\n')] },
  { name: 'invalid multibulk length: trailing junk', steps: [bad('*1x\r\n$4\r\nPING\r\n')] },
  { name: "expected '$'", steps: [bad('*1\r\nPING\r\n')] },
  { name: "expected '$' got ':'", steps: [bad('*2\r\n$4\r\nECHO\r\n:1\r\n')] },
  { name: 'invalid bulk length: not a number', steps: [bad('*1\r\n$abc\r\n')] },
  { name: 'invalid bulk length: negative', steps: [bad('*1\r\n$-1\r\n')] },
  { name: 'invalid bulk length: over proto-max-bulk-len', steps: [bad('*1\r\n$600000000\r\n')] },
  { name: 'unbalanced quotes', steps: [bad('ECHO "abc\r\n')] },
  { name: 'unbalanced single quotes', steps: [bad("ECHO 'abc\r\n")] },
  { name: 'closing quote must be followed by a space', steps: [bad('ECHO "a"b\r\n')] },
  { name: 'too big inline request', steps: [bad(Buffer.alloc(70000, 0x61))] },
  { name: 'too big mbulk count string', steps: [bad(Buffer.concat([Buffer.from('*'), Buffer.alloc(70000, 0x31)]))] },
  { name: 'too big bulk count string', steps: [bad(Buffer.concat([Buffer.from('*1\r\n$'), Buffer.alloc(70000, 0x31)]))] },
  {
    name: 'protocol error after good commands in the same write',
    steps: [bad('PING\r\nECHO x\r\n*1\r\nFOO\r\n', 3)],
  },
  {
    name: 'RESP reply types sent as requests are protocol errors or inline',
    steps: [raw('+PING\r\n'), raw(':1\r\n'), raw('-ERR\r\n'), raw('$4\r\n'), raw('PING\r\n')],
  },
];

differentialSuite(scripts.map((s) => ({ protocols: [2 as const], ...s })));
