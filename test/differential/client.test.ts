// CLIENT HELP, COMMAND INFO client and COMMAND DOCS client tell the same story as the CLIENT subcommands that
// answer: every subcommand listed exists, every one that exists is listed, and each help entry Redis 7.0.15 also
// has reads exactly as Redis's (SETINFO and NO-TOUCH are Redis 7.2 subcommands, listed in 7.2's words).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startRedis, type RunningRedis } from '../helpers/redis';
import { RespConnection, nodeText, type RespNode } from '../helpers/resp';
import { startSpool, type SpoolHandle } from '../helpers/spool';

let redis: RunningRedis;
let spool: SpoolHandle;
let toRedis: RespConnection;
let toSpool: RespConnection;

beforeAll(async () => {
  [redis, spool] = await Promise.all([startRedis(), startSpool()]);
  [toRedis, toSpool] = await Promise.all([RespConnection.connect(redis.port), RespConnection.connect(spool.port)]);
});

afterAll(async () => {
  toRedis?.close();
  toSpool?.close();
  await Promise.all([redis?.stop(), spool?.stop()]);
});

/** CLIENT HELP as title + entries (an unindented line and its indented ones), merged by subcommand name. */
async function helpEntries(conn: RespConnection): Promise<{ title: string; entries: Map<string, string[]> }> {
  const lines = (await conn.call(['CLIENT', 'HELP'])).children!.map((n) => nodeText(n)!);
  const entries = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of lines.slice(1)) {
    if (!line.startsWith(' ')) {
      const name = line.split(' ')[0].toLowerCase();
      current = entries.get(name) ?? [];
      entries.set(name, current);
    }
    current.push(line);
  }
  return { title: lines[0], entries };
}

/** Subcommand names (without `client|`) in COMMAND INFO client. */
async function infoSubcommands(conn: RespConnection): Promise<string[]> {
  const info = (await conn.call(['COMMAND', 'INFO', 'client'])).children![0];
  return info.children![9].children!.map((sub: RespNode) => nodeText(sub.children![0])!.replace(/^client\|/, '')).sort();
}

/** Subcommand names (without `client|`) in COMMAND DOCS client. */
async function docsSubcommands(conn: RespConnection): Promise<string[]> {
  const docs = (await conn.call(['COMMAND', 'DOCS', 'client'])).children![1].children!;
  const i = docs.findIndex((n) => nodeText(n) === 'subcommands');
  return docs[i + 1].children!.filter((_, j) => j % 2 === 0).map((n) => nodeText(n)!.replace(/^client\|/, '')).sort();
}

const unknownSubcommand = (reply: RespNode) => /^ERR unknown subcommand /.test(nodeText(reply) ?? '');

describe('CLIENT subcommands: help, COMMAND INFO and COMMAND DOCS list exactly what exists', () => {
  test('CLIENT HELP lists every subcommand Spool has, and only those', async () => {
    const { entries } = await helpEntries(toSpool);
    expect([...entries.keys()].sort()).toEqual(await infoSubcommands(toSpool));
  });

  test('COMMAND INFO client and COMMAND DOCS client list the same subcommands, each of which answers', async () => {
    const listed = await infoSubcommands(toSpool);
    expect(await docsSubcommands(toSpool)).toEqual(listed);
    for (const sub of listed) {
      const reply = await toSpool.call(['CLIENT', sub.toUpperCase()]);
      expect(unknownSubcommand(reply), `CLIENT ${sub}: ${nodeText(reply)}`).toBe(false);
    }
  });

  test('help entries Redis also has read exactly as redis-server 7.0.15; the ones Spool lacks are unknown subcommands', async () => {
    const [mine, theirs] = await Promise.all([helpEntries(toSpool), helpEntries(toRedis)]);
    expect(mine.title).toBe(theirs.title);
    for (const [name, lines] of mine.entries) if (theirs.entries.has(name)) expect(lines, name).toEqual(theirs.entries.get(name));
    const missing = [...theirs.entries.keys()].filter((name) => !mine.entries.has(name));
    expect(missing.sort()).toEqual(['caching', 'getredir', 'tracking', 'trackinginfo']);
    for (const name of missing) expect(unknownSubcommand(await toSpool.call(['CLIENT', name.toUpperCase()])), name).toBe(true);
    // Spool's extra entries are subcommands Redis 7.0.15 does not have at all.
    const extra = [...mine.entries.keys()].filter((name) => !theirs.entries.has(name));
    expect(extra.sort()).toEqual(['no-touch', 'setinfo']);
    for (const name of extra) expect(unknownSubcommand(await toRedis.call(['CLIENT', name.toUpperCase()])), name).toBe(true);
  });
});
