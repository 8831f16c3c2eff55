// Masking of time-dependent values before replies are compared. A masked node keeps its RESP type (so an
// integer where Redis sends an integer is still checked) and loses only its value.
import { nodeText, type RespNode } from './resp';

export type Masker = (node: RespNode) => void;

function walk(node: RespNode, visit: (n: RespNode) => void): void {
  visit(node);
  for (const c of node.children ?? []) walk(c, visit);
}

/** In every map, and every flat key/value array, masks the value that follows any of these keys. */
export function maskKeys(...keys: string[]): Masker {
  const set = new Set(keys);
  return (root) =>
    walk(root, (n) => {
      if (!n.children || (n.type !== '%' && n.type !== '*')) return;
      const ch = n.children;
      if (n.type === '*' && ch.length % 2 !== 0) return;
      for (let i = 0; i + 1 < ch.length; i += 2) {
        const k = nodeText(ch[i]!);
        if (k !== null && set.has(k)) ch[i + 1]!.masked = true;
      }
    });
}

/**
 * Masks the node at a path of child indexes; '*' matches every child at that level. For a RESP3 map the
 * index counts keys and values alike (key 0 = 0, value 0 = 1, ...), as in the flat RESP2 array.
 */
export function maskPath(...path: (number | '*')[]): Masker {
  const go = (n: RespNode, depth: number) => {
    if (depth === path.length) {
      n.masked = true;
      return;
    }
    const step = path[depth]!;
    const ch = n.children ?? [];
    if (step === '*') ch.forEach((c) => go(c, depth + 1));
    else if (ch[step]) go(ch[step]!, depth + 1);
  };
  return (root) => go(root, 0);
}

/** Masks the value under key `key` (anywhere) and then the path below it. */
export function maskUnderKey(key: string, ...path: (number | '*')[]): Masker {
  const inner = maskPath(...path);
  return (root) =>
    walk(root, (n) => {
      if (!n.children || (n.type !== '%' && n.type !== '*')) return;
      for (let i = 0; i + 1 < n.children.length; i += 2) {
        if (nodeText(n.children[i]!) === key) inner(n.children[i + 1]!);
      }
    });
}

const CLOCK_ID = /^\d{13,}-\d+$/;

/** Masks every stream ID that was made from the clock (`*`, `ms-*`): 13+ digit milliseconds. */
export const maskClockIds: Masker = (root) =>
  walk(root, (n) => {
    const t = nodeText(n);
    if (t !== null && CLOCK_ID.test(t)) n.masked = true;
  });

/** Masks every integer reply in the tree. */
export const maskIntegers: Masker = (root) =>
  walk(root, (n) => {
    if (n.type === ':') n.masked = true;
  });

/** Masks the whole reply, keeping only its type byte (a shape check of the top level). */
export const maskAll: Masker = (root) => {
  root.masked = true;
};

/** Time-dependent fields of XINFO replies plus radix-tree-nodes, which depends on Redis's memory layout. */
export const maskXinfo: Masker = (root) => {
  maskKeys('idle', 'seen-time', 'active-time', 'inactive', 'radix-tree-nodes')(root);
  // XINFO STREAM FULL: group PEL entries are [id, consumer, delivery-time, count]; consumer PELs are
  // [id, delivery-time, count].
  walk(root, (n) => {
    if (!n.children || (n.type !== '%' && n.type !== '*')) return;
    for (let i = 0; i + 1 < n.children.length; i += 2) {
      if (nodeText(n.children[i]!) !== 'pending') continue;
      const pel = n.children[i + 1]!;
      for (const e of pel.children ?? []) {
        const ch = e.children ?? [];
        if (ch.length === 4) ch[2]!.masked = true;
        else if (ch.length === 3) ch[1]!.masked = true;
      }
    }
  });
};

/** XPENDING extended form: [id, consumer, idle, deliveries] per entry. */
export const maskPendingIdle: Masker = maskPath('*', 2);

/** Masks the value of the `id` key (HELLO) and nothing else. */
export const maskHelloId: Masker = maskKeys('id');

export function applyMasks(node: RespNode, masks: Masker[] | undefined): RespNode {
  for (const m of masks ?? []) m(node);
  return node;
}

/**
 * Sorts the children of the node at `path` by their bytes: for replies whose order is Redis's hash-table order
 * (KEYS, SCAN, CONFIG GET with a pattern), which no other implementation (not even another redis-server, whose
 * hash seed is random) reproduces. For a map, key/value pairs are sorted by key.
 */
export function sortAt(...path: number[]): Masker {
  return (root) => {
    let n: RespNode | undefined = root;
    for (const i of path) n = n?.children?.[i];
    if (!n?.children) return;
    if (n.type === '%' || n.type === '|') {
      const pairs: RespNode[][] = [];
      for (let i = 0; i + 1 < n.children.length; i += 2) pairs.push([n.children[i]!, n.children[i + 1]!]);
      pairs.sort((a, b) => Buffer.compare(a[0]!.bytes, b[0]!.bytes));
      n.children = pairs.flat();
    } else {
      n.children = [...n.children].sort((a, b) => Buffer.compare(a.bytes, b.bytes));
    }
    n.reordered = true;
  };
}

/** CONFIG GET with several parameters: sorts name/value pairs by name (RESP2 flat array or RESP3 map). */
export const sortPairs: Masker = (root) => {
  if (!root.children) return;
  const pairs: RespNode[][] = [];
  for (let i = 0; i + 1 < root.children.length; i += 2) pairs.push([root.children[i]!, root.children[i + 1]!]);
  pairs.sort((a, b) => Buffer.compare(a[0]!.bytes, b[0]!.bytes));
  root.children = pairs.flat();
  root.reordered = true;
};

/** Sorts (as sortPairs) the name/value pairs under every `key` entry: COMMAND DOCS subcommands (dict order). */
export function sortPairsUnderKey(key: string): Masker {
  return (root) =>
    walk(root, (n) => {
      if (!n.children || (n.type !== '%' && n.type !== '*')) return;
      for (let i = 0; i + 1 < n.children.length; i += 2) {
        if (nodeText(n.children[i]!) === key) sortPairs(n.children[i + 1]!);
      }
    });
}
