// The observable state of a Spool's databases, for comparing it before and after a restart: raw reply bytes
// of XINFO STREAM FULL, XINFO GROUPS, XRANGE, XINFO CONSUMERS and XPENDING per key (relative idle times masked).
import { RespConnection, serialize, escapeBytes, type Arg, type RespNode } from '../helpers/resp';

/** The content of a bulk string reply (binary-safe). */
export function blob(n: RespNode): Buffer {
  return n.bytes.subarray(n.header.length, n.bytes.length - 2);
}

export async function run(conn: RespConnection, cmds: Arg[][]): Promise<RespNode[]> {
  for (const c of cmds) conn.sendCommand(c);
  const replies = await conn.read(cmds.length, 20000);
  replies.forEach((r, i) => {
    if (r.type === '-') throw new Error(`${cmds[i].map(String).join(' ')} -> ${r.bytes.toString()}`);
  });
  return replies;
}

/** The state of the databases in `dbs`, as raw reply bytes per command (idle times masked where relative). */
export async function snapshot(conn: RespConnection, dbs: number[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const db of dbs) {
    await run(conn, [['SELECT', String(db)]]);
    const keysNode = (await run(conn, [['KEYS', '*']]))[0];
    const keys = (keysNode.children ?? []).map((k) => blob(k)).sort(Buffer.compare);
    out.set(`${db} KEYS`, escapeBytes(Buffer.concat(keys.map((k) => Buffer.concat([k, Buffer.from('|')])))));
    out.set(`${db} DBSIZE`, serialize((await run(conn, [['DBSIZE']]))[0]).toString('latin1'));
    for (const key of keys) {
      const name = `${db} ${escapeBytes(key)}`;
      const [full, groups, range] = await run(conn, [
        ['XINFO', 'STREAM', key, 'FULL', 'COUNT', '0'],
        ['XINFO', 'GROUPS', key],
        ['XRANGE', key, '-', '+'],
      ]);
      out.set(`${name} XINFO STREAM FULL`, escapeBytes(serialize(full)));
      out.set(`${name} XINFO GROUPS`, escapeBytes(serialize(groups)));
      out.set(`${name} XRANGE`, escapeBytes(serialize(range)));
      for (const g of groups.children ?? []) {
        const gname = blob(g.children![1]);
        const [consumers, pel] = await run(conn, [
          ['XINFO', 'CONSUMERS', key, gname],
          ['XPENDING', key, gname, '-', '+', '1000'],
        ]);
        // [name, pending, idle, inactive]: idle/inactive are now - recorded time: mask them
        const cons = (consumers.children ?? []).map((c) => {
          const kids = c.children!;
          return kids.map((k, i) => (i % 2 === 1 && /^(idle|inactive)$/.test(blob(kids[i - 1]).toString()) ? '*' : escapeBytes(serialize(k)))).join(',');
        });
        out.set(`${name} ${escapeBytes(gname)} XINFO CONSUMERS`, cons.join(';'));
        const pels = (pel.children ?? []).map((p) => {
          const k = p.children!;
          return [k[0], k[1], k[3]].map((x) => escapeBytes(serialize(x))).join(',');
        });
        out.set(`${name} ${escapeBytes(gname)} XPENDING`, pels.join(';'));
      }
    }
  }
  await run(conn, [['SELECT', '0']]);
  return out;
}
