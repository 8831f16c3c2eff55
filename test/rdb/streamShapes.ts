// Streams of many shapes, built by commands against any server (Redis or Spool), for the RDB tests: small ones,
// big ones (several nodes by entries and by bytes), deleted entries (flags and freed nodes), fields that listpack
// stores as integers, empty and binary values, and consumer groups with PELs, consumers and an unowned NACK.
import { nodeText, type Arg, type RespNode } from '../helpers/resp';

export type Builder = (args: Arg[]) => Promise<RespNode>;

export async function buildStreams(call: Builder): Promise<string[]> {
  const keys: string[] = [];
  const run = async (...args: Arg[]) => {
    const reply = await call(args);
    if (reply.type === '-') throw new Error(`${args.join(' ')}: ${nodeText(reply)}`);
    return reply;
  };
  await run('XADD', 'shapes:small', '1-1', 'f', 'v');
  keys.push('shapes:small');

  // Integers of every listpack width, empty and binary values, changing field sets.
  const k = 'shapes:fields';
  const values: Arg[] = ['0', '127', '128', '-1', '4095', '-4096', '32767', '-32768', '8388607', '2147483647', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '007', '-0', '', '1.5'];
  let seq = 1;
  for (const v of values) await run('XADD', k, `5-${seq++}`, 'n', v, '42', v);
  await run('XADD', k, `5-${seq++}`, 'other', 'x');
  await run('XADD', k, `5-${seq++}`, Buffer.from([0, 255, 13, 10]), Buffer.from([1, 2, 3, 0]));
  await run('XADD', k, `6-0`, 'n', 'x'.repeat(70), 'm', 'y'.repeat(5000));
  keys.push(k);

  // Many entries: nodes split by entry count, then by bytes, IDs far apart (big deltas).
  const big = 'shapes:big';
  for (let i = 1; i <= 250; i++) await run('XADD', big, `${1000 + i * 1000003}-${i % 3}`, 'a', String(i), 'b', 'v'.repeat(i % 40));
  for (let i = 0; i < 10; i++) await run('XADD', big, `1700000000000-${i}`, 'payload', 'p'.repeat(900 + i));
  keys.push(big);

  // Deletions: flagged entries, a whole node freed in the middle, the first entry deleted.
  const del = 'shapes:deleted';
  for (let i = 1; i <= 230; i++) await run('XADD', del, `${i}-0`, 'f', String(i));
  await run('XDEL', del, '1-0', '5-0', '50-0');
  const middle: Arg[] = [];
  for (let i = 101; i <= 200; i++) middle.push(`${i}-0`);
  await run('XDEL', del, ...middle);
  await run('XTRIM', del, 'MAXLEN', '=', '120');
  keys.push(del);

  // Groups: PELs, consumers, an unowned NACK, entries-read unknown, ack'd entries, a consumer without PEL.
  const g = 'shapes:groups';
  for (let i = 1; i <= 30; i++) await run('XADD', g, `${i}-0`, 'f', String(i));
  await run('XGROUP', 'CREATE', g, 'g1', '0');
  await run('XGROUP', 'CREATE', g, 'g2', '$');
  await run('XGROUP', 'CREATE', g, '123', '10-0');
  await run('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', g, '>');
  await run('XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '5', 'STREAMS', g, '>');
  await run('XREADGROUP', 'GROUP', 'g1', 'bob', 'STREAMS', g, '0');
  await run('XACK', g, 'g1', '2-0', '7-0');
  await run('XGROUP', 'CREATECONSUMER', g, 'g2', 'idle');
  await run('XREADGROUP', 'GROUP', '123', '77', 'COUNT', '3', 'STREAMS', g, '>');
  await run('XCLAIM', g, 'g1', 'carol', '0', '3-0', '4-0');
  await run('XDEL', g, '8-0');
  await run('XCLAIM', g, 'g2', 'dave', '0', '20-0', 'FORCE');
  keys.push(g);

  // Empty after deletes, with a group: no nodes, counters kept.
  const empty = 'shapes:empty';
  await run('XADD', empty, '3-3', 'f', 'v');
  await run('XGROUP', 'CREATE', empty, 'grp', '0');
  await run('XDEL', empty, '3-3');
  keys.push(empty);
  return keys;
}

/** The payload of a bulk string reply. */
export function bulk(node: RespNode): Buffer {
  if (node.type !== '$' || node.header.length === node.bytes.length) throw new Error(`expected a bulk reply, got ${node.bytes.toString('latin1')}`);
  return node.bytes.subarray(node.header.length, node.bytes.length - 2);
}

/** What the RDB tests compare between two servers for each key: XINFO STREAM FULL, XRANGE and XINFO GROUPS. */
export async function streamViews(call: Builder, keys: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const key of keys) {
    for (const cmd of [['XINFO', 'STREAM', key, 'FULL'], ['XRANGE', key, '-', '+'], ['XINFO', 'GROUPS', key]]) {
      out.push((await call(cmd)).bytes.toString('latin1'));
    }
  }
  return out;
}
