#!/usr/bin/env node
'use strict';
// Container health check (Dockerfile HEALTHCHECK, Kubernetes exec probes): sends PING to Spool on
// 127.0.0.1:$SPOOL_PORT (default 6379) and exits 0 when it answers +PONG, or -NOAUTH (alive, with requirepass
// set: the probe needs no password), 1 otherwise or after 3 s. Plain Node, no dependencies, no redis-cli needed.
const net = require('node:net');

const port = Number(process.env.SPOOL_PORT || 6379);
const host = process.env.SPOOL_HOST || '127.0.0.1';
const socket = net.connect({ port, host });
let reply = '';
const done = (ok, why) => {
  if (!ok) process.stderr.write(`spool healthcheck ${host}:${port}: ${why}\n`);
  socket.destroy();
  process.exit(ok ? 0 : 1);
};
socket.setTimeout(3000, () => done(false, 'timed out'));
socket.on('connect', () => socket.write('*1\r\n$4\r\nPING\r\n'));
socket.on('data', (d) => {
  reply += d.toString('latin1');
  const line = reply.split('\r\n')[0];
  if (reply.includes('\r\n')) done(line === '+PONG' || line.startsWith('-NOAUTH'), `unexpected reply ${JSON.stringify(line)}`);
});
socket.on('error', (err) => done(false, err.message));
socket.on('close', () => done(false, 'connection closed'));
