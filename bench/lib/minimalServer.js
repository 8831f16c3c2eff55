#!/usr/bin/env node
'use strict';
// The least a Redis-protocol server in Node can do per XADD and still be honest: the bench's reference for
// what one Node core can take here. It frames each RESP request in place (offsets into the chunk, no view per
// argument), makes an `ms-seq` ID, copies the key and field/value bytes into a preallocated log buffer as a
// length-prefixed record, and answers the ID as a bulk string; one socket write per chunk read. No index, no
// durability, no other command (a one-argument request, the bench's PING, gets +PONG). Not a server to use: `node bench/lib/minimalServer.js PORT`.
const net = require('node:net');

const port = Number(process.argv[2]);
const LOG = Buffer.allocUnsafe(64 << 20);
let logAt = 0;
let lastMs = 0;
let seq = 0;

/** Index of the CR ending the line at `i`, or -1 when the line is incomplete. */
function lineEnd(b, i) {
  while (i < b.length && b[i] !== 13) i++;
  return i < b.length ? i : -1;
}

function decimal(b, from, to) {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + b[i] - 48;
  return n;
}

function serve(socket) {
  socket.setNoDelay(true);
  let rest = null;
  const out = Buffer.allocUnsafe(1 << 20);
  const starts = [];
  const ends = [];
  socket.on('data', (chunk) => {
    const b = rest ? Buffer.concat([rest, chunk]) : chunk;
    rest = null;
    let i = 0;
    let o = 0;
    while (i < b.length) {
      const begin = i;
      if (b[i] !== 42 /* * */) return socket.destroy();
      let e = lineEnd(b, i);
      if (e < 0) { rest = b.subarray(begin); break; }
      const argc = decimal(b, i + 1, e);
      i = e + 2;
      starts.length = ends.length = 0;
      let complete = true;
      for (let k = 0; k < argc; k++) {
        e = lineEnd(b, i);
        if (e < 0) { complete = false; break; }
        const len = decimal(b, i + 1, e);
        i = e + 2;
        if (i + len + 2 > b.length) { complete = false; break; }
        starts.push(i);
        ends.push(i + len);
        i += len + 2;
      }
      if (!complete) { rest = b.subarray(begin); break; }
      if (argc === 1) { o += out.write('+PONG\r\n', o, 'latin1'); continue; } // PING: the bench waits for it
      const now = Date.now();
      if (now > lastMs) { lastMs = now; seq = 0; } else seq++;
      if (logAt > LOG.length - (1 << 20)) logAt = 0;
      const record = logAt;
      logAt += 4;
      for (let k = 1; k < argc; k++) {
        if (k === 2) continue; // the ID argument: the record gets the generated one
        LOG.writeUInt32LE(ends[k] - starts[k], logAt);
        logAt += 4 + b.copy(LOG, logAt + 4, starts[k], ends[k]);
      }
      LOG.writeUInt32LE(logAt - record, record);
      const id = `${lastMs}-${seq}`;
      o += out.write(`$${id.length}\r\n${id}\r\n`, o, 'latin1');
      if (o > out.length - 256) { socket.write(Buffer.from(out.subarray(0, o))); o = 0; }
    }
    if (o > 0) socket.write(Buffer.from(out.subarray(0, o)));
  });
  socket.on('error', () => socket.destroy());
}

net.createServer(serve).listen(port, '127.0.0.1');
