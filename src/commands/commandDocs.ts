// COMMAND INFO / COMMAND DOCS replies. For commands Redis 7 has, the reply is replayed from the table captured
// from a real redis-server (scripts/capture-command-table.js), so clients such as redis-cli see Redis's exact
// key specs, tips and argument docs; for Spool's own commands it is built from the CommandSpec.

import type { ReplyWriter } from '../protocol/replyWriter';
import type { CommandSpec } from './types';
import table from './redisCommandTable.json';

export type RespTree =
  | { t: 'simple' | 'bulk'; v: string }
  | { t: 'int'; v: number }
  | { t: 'null' }
  | { t: 'array' | 'set' | 'map'; v: RespTree[] };

interface Captured {
  info: RespTree;
  docs: RespTree;
}

const CAPTURED = table as unknown as Record<string, Captured>;

export function writeTree(reply: ReplyWriter, node: RespTree): void {
  switch (node.t) {
    case 'simple':
      return reply.simple(node.v);
    case 'bulk':
      return reply.bulk(Buffer.from(node.v, 'latin1'));
    case 'int':
      return reply.integer(node.v);
    case 'null':
      return reply.nullBulk();
    case 'array':
      reply.array(node.v.length);
      break;
    case 'set':
      reply.set(node.v.length);
      break;
    case 'map':
      reply.map(node.v.length / 2);
      break;
  }
  for (const child of node.v) writeTree(reply, child);
}

/** Redis's COMMAND INFO tree for a command or a `container|sub` subcommand, when it was captured. */
function capturedInfo(name: string): RespTree | undefined {
  const bar = name.indexOf('|');
  if (bar < 0) return CAPTURED[name]?.info;
  const container = CAPTURED[name.slice(0, bar)]?.info;
  if (!container || container.t !== 'array') return undefined;
  const subs = container.v[9];
  if (subs.t !== 'set' && subs.t !== 'array') return undefined;
  return subs.v.find((n) => n.t === 'array' && n.v[0].t === 'bulk' && n.v[0].v === name);
}

/** The captured tree when Redis has the command with the same arity, else one built from the spec. */
export function commandInfoTree(spec: CommandSpec): RespTree {
  const captured = capturedInfo(spec.name);
  if (captured && captured.t === 'array' && captured.v[1].t === 'int' && captured.v[1].v === spec.arity) {
    return withSubcommands(captured, spec);
  }
  return {
    t: 'array',
    v: [
      { t: 'bulk', v: spec.name },
      { t: 'int', v: spec.arity },
      { t: 'set', v: spec.flags.map((f) => ({ t: 'simple', v: f }) as RespTree) },
      { t: 'int', v: spec.firstKey },
      { t: 'int', v: spec.lastKey },
      { t: 'int', v: spec.keyStep },
      { t: 'set', v: spec.aclCategories.map((c) => ({ t: 'simple', v: c }) as RespTree) },
      { t: 'set', v: [] },
      { t: 'set', v: [] },
      { t: 'set', v: (spec.subcommands ?? []).map(commandInfoTree) },
    ],
  };
}

/** Replaces the captured subcommand list with Spool's own (which may add 7.2 subcommands such as SETINFO). */
function withSubcommands(info: RespTree, spec: CommandSpec): RespTree {
  if (info.t !== 'array') return info;
  if (!spec.subcommands) return info;
  const fromRedis = info.v[9].t === 'set' || info.v[9].t === 'array' ? info.v[9].v : [];
  const subs = spec.subcommands.map((sub) => {
    const found = fromRedis.find((n) => n.t === 'array' && n.v[0].t === 'bulk' && n.v[0].v === sub.name);
    return found ?? commandInfoTree(sub);
  });
  return { t: 'array', v: [...info.v.slice(0, 9), { t: info.v[9].t as 'set', v: subs }] };
}

export function commandDocsTree(spec: CommandSpec): RespTree {
  const bar = spec.name.indexOf('|');
  if (bar >= 0) return subDocs(spec.name.slice(0, bar), spec);
  const captured = CAPTURED[spec.name];
  if (captured && !spec.subcommands) return captured.docs;
  let fields: RespTree[];
  if (captured && captured.docs.t === 'map') {
    fields = [];
    for (let i = 0; i < captured.docs.v.length; i += 2) {
      const k = captured.docs.v[i];
      if (k.t === 'bulk' && k.v === 'subcommands') continue;
      fields.push(k, captured.docs.v[i + 1]);
    }
  } else {
    fields = [
      { t: 'bulk', v: 'summary' },
      { t: 'bulk', v: spec.summary },
      { t: 'bulk', v: 'since' },
      { t: 'bulk', v: spec.since },
      { t: 'bulk', v: 'group' },
      { t: 'bulk', v: spec.group },
    ];
    if (spec.complexity) fields.push({ t: 'bulk', v: 'complexity' }, { t: 'bulk', v: spec.complexity });
  }
  if (spec.subcommands) {
    const subs: RespTree[] = [];
    for (const sub of spec.subcommands) subs.push({ t: 'bulk', v: sub.name }, subDocs(spec.name, sub));
    fields.push({ t: 'bulk', v: 'subcommands' }, { t: 'map', v: subs });
  }
  return { t: 'map', v: fields };
}

function subDocs(container: string, sub: CommandSpec): RespTree {
  const captured = CAPTURED[container];
  if (captured && captured.docs.t === 'map') {
    const i = captured.docs.v.findIndex((n) => n.t === 'bulk' && n.v === 'subcommands');
    if (i >= 0) {
      const subs = captured.docs.v[i + 1];
      if (subs.t === 'map') {
        const j = subs.v.findIndex((n) => n.t === 'bulk' && n.v === sub.name);
        if (j >= 0) return subs.v[j + 1];
      }
    }
  }
  return { t: 'map', v: [
    { t: 'bulk', v: 'summary' }, { t: 'bulk', v: sub.summary },
    { t: 'bulk', v: 'since' }, { t: 'bulk', v: sub.since },
    { t: 'bulk', v: 'group' }, { t: 'bulk', v: sub.group },
  ] };
}
