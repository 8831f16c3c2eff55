// Statistics of clients unblocked with an error (group destroyed, key deleted, CLIENT UNBLOCK): INFO errorstats,
// commandstats and total_error_replies count them as redis-server 7.0 does. Each scenario runs against both
// servers and the counters it concerns are compared (INFO's other fields legitimately differ).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { RespConnection, nodeText, type Arg } from '../helpers/resp';
import { split } from '../helpers/differential';

/** The INFO lines the scenarios are about (usec values are timing: dropped). */
const COUNTED = /^(errorstat_|total_error_replies:|cmdstat_(xread|xreadgroup|client\|unblock|xgroup\|destroy|del|flushall|rename|swapdb):)/;

async function counters(c: RespConnection): Promise<string[]> {
  const lines: string[] = [];
  for (const section of ['errorstats', 'commandstats', 'stats']) {
    const text = nodeText(await c.call(['INFO', section])) ?? '';
    for (const line of text.split('\r\n')) {
      if (COUNTED.test(line)) lines.push(line.replace(/usec=[\d.]+,usec_per_call=[\d.]+,/, ''));
    }
  }
  return lines.sort();
}

async function waitBlocked(c: RespConnection, n: number): Promise<void> {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    const m = /blocked_clients:(\d+)/.exec(nodeText(await c.call(['INFO', 'clients'])) ?? '');
    if (m && Number(m[1]) >= n) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Scenario {
  name: string;
  setup: string[];
  /** The blocking command of the second client. */
  blocked: string;
  /** What the first client does to unblock it; `$id` is the blocked client's id. */
  unblock: string[];
}

const scenarios: Scenario[] = [
  { name: 'XREADGROUP unblocked by XGROUP DESTROY (NOGROUP)', setup: ['XGROUP CREATE mystream g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS mystream >', unblock: ['XGROUP DESTROY mystream g'] },
  { name: 'XREADGROUP unblocked by DEL of its key (UNBLOCKED)', setup: ['XGROUP CREATE s g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS s >', unblock: ['DEL s'] },
  { name: 'XREADGROUP unblocked by FLUSHALL', setup: ['XGROUP CREATE s g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS s >', unblock: ['FLUSHALL'] },
  { name: 'XREADGROUP unblocked by RENAME of its key', setup: ['XGROUP CREATE s g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS s >', unblock: ['RENAME s t'] },
  { name: 'XREADGROUP unblocked by SWAPDB with a database without its key', setup: ['XGROUP CREATE s g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS s >', unblock: ['SWAPDB 0 1'] },
  { name: 'XREADGROUP unblocked by CLIENT UNBLOCK ERROR', setup: ['XGROUP CREATE s g $ MKSTREAM'], blocked: 'XREADGROUP GROUP g Alice BLOCK 0 STREAMS s >', unblock: ['CLIENT UNBLOCK $id ERROR'] },
  { name: 'XREAD unblocked by CLIENT UNBLOCK ERROR', setup: [], blocked: 'XREAD BLOCK 0 STREAMS s $', unblock: ['CLIENT UNBLOCK $id ERROR'] },
  { name: 'XREAD unblocked by CLIENT UNBLOCK TIMEOUT', setup: [], blocked: 'XREAD BLOCK 0 STREAMS s $', unblock: ['CLIENT UNBLOCK $id TIMEOUT'] },
  { name: 'XREAD unblocked by CLIENT UNBLOCK (default TIMEOUT)', setup: [], blocked: 'XREAD BLOCK 0 STREAMS s $', unblock: ['CLIENT UNBLOCK $id'] },
  { name: 'XREAD served normally counts no failure', setup: [], blocked: 'XREAD BLOCK 0 STREAMS s $', unblock: ['XADD s 1-0 f v'] },
];

/** Runs a scenario; returns the replies and the counters afterwards. */
async function run(port: number, s: Scenario): Promise<string[]> {
  const a = await RespConnection.connect(port);
  const b = await RespConnection.connect(port);
  try {
    await a.call(['FLUSHALL']);
    for (const cmd of s.setup) await a.call(split(cmd));
    await a.call(['CONFIG', 'RESETSTAT']);
    const id = nodeText(await b.call(['CLIENT', 'ID']))!;
    b.sendCommand(split(s.blocked));
    await waitBlocked(a, 1);
    const out: string[] = [];
    for (const cmd of s.unblock) {
      const args: Arg[] = split(cmd).map((x) => (x === '$id' ? id : x));
      out.push(`${cmd} => ${(await a.call(args)).bytes.toString('latin1')}`);
    }
    const [reply] = await b.read(1, 5000);
    out.push(`blocked => ${reply!.bytes.toString('latin1')}`);
    return [...out, ...(await counters(a))];
  } finally {
    a.close();
    b.close();
  }
}

describe('errors given to unblocked clients are counted as in redis-server', () => {
  let redis: RunningRedis | undefined;
  let spool: SpoolHandle | undefined;
  beforeAll(async () => {
    redis = await startRedis();
    spool = await startSpool();
  });
  afterAll(async () => {
    await redis?.stop();
    await spool?.stop();
  });

  test.each(scenarios.map((s) => [s.name, s] as const))('%s', async (_name, s) => {
    const expected = await run(redis!.port, s);
    const actual = await run(spool!.port, s);
    expect(actual).toEqual(expected);
  });
});
