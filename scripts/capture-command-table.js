#!/usr/bin/env node
'use strict';
// Captures COMMAND INFO and COMMAND DOCS of a real redis-server 7 for the commands Spool implements, as typed
// RESP3 trees, into src/commands/redisCommandTable.json. COMMAND replies are then byte-identical to Redis in
// both protocols. Usage: node scripts/capture-command-table.js PORT cmd1 cmd2 ...
const net = require('net');
const fs = require('fs');
const path = require('path');

function parse(buf, pos) {
  const type = String.fromCharCode(buf[pos]);
  const eol = buf.indexOf('\r\n', pos);
  const line = buf.toString('latin1', pos + 1, eol);
  let next = eol + 2;
  const agg = (t, n) => {
    const items = [];
    for (let i = 0; i < n; i++) {
      const [v, p] = parse(buf, next);
      items.push(v);
      next = p;
    }
    return [{ t, v: items }, next];
  };
  switch (type) {
    case '+': return [{ t: 'simple', v: line }, next];
    case ':': return [{ t: 'int', v: Number(line) }, next];
    case '$': {
      const n = Number(line);
      if (n < 0) return [{ t: 'null' }, next];
      return [{ t: 'bulk', v: buf.toString('latin1', next, next + n) }, next + n + 2];
    }
    case '*': return agg('array', Number(line));
    case '~': return agg('set', Number(line));
    case '%': return agg('map', Number(line) * 2);
    case '_': return [{ t: 'null' }, next];
    default: throw new Error('unexpected RESP type ' + type);
  }
}

function complete(buf) {
  try { parse(buf, 0); return true; } catch { return false; }
}

async function query(port, args) {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let out = Buffer.alloc(0);
    const hello = '*2\r\n$5\r\nHELLO\r\n$1\r\n3\r\n';
    const cmd = `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
    s.write(hello + cmd);
    let skipped = false;
    s.on('data', (d) => {
      out = Buffer.concat([out, d]);
      if (!skipped) {
        if (!complete(out)) return;
        const [, p] = parse(out, 0);
        out = out.subarray(p);
        skipped = true;
      }
      if (out.length && complete(out)) { s.destroy(); resolve(parse(out, 0)[0]); }
    });
    s.on('error', reject);
  });
}

(async () => {
  const [port, ...names] = process.argv.slice(2);
  const table = {};
  for (const name of names) {
    const info = await query(Number(port), ['COMMAND', 'INFO', name]);
    const docs = await query(Number(port), ['COMMAND', 'DOCS', name]);
    if (info.v[0].t === 'null') continue;
    table[name] = { info: info.v[0], docs: docs.v[1] };
  }
  const file = path.join(__dirname, '..', 'src', 'commands', 'redisCommandTable.json');
  fs.writeFileSync(file, JSON.stringify(table) + '\n');
  console.log(`captured ${Object.keys(table).length} commands into ${file}`);
})();
