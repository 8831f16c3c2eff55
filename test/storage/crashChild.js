// Child process of crash.test.ts: appends entries under appendfsync always and prints "ACK n" once the first
// n entries are durable (what a server would acknowledge), until it is killed.
'use strict';
const path = require('node:path');
const dist = process.env.SPOOL_STORAGE_DIST;
const { CommitBatcher, SegmentCache, StreamLog } = require(path.join(dist, 'index.js'));
const { valueFor } = require('./crashData.js');

const dir = process.argv[2];
(async () => {
  const batcher = new CommitBatcher({ policy: 'always' });
  const cache = new SegmentCache(16);
  const log = await StreamLog.create(dir, 0, Buffer.from('crash'), {
    batcher, cache, initialSegmentSize: 64 * 1024, maxSegmentSize: 256 * 1024,
  });
  process.stdout.write('READY\n');
  let i = 0;
  let acked = 0;
  const field = Buffer.from('f');
  const turn = () => {
    if (i - acked > 20000) return void setTimeout(turn, 1);
    const upTo = i + 1 + (i % 37);
    for (; i < upTo; i++) log.appendEntry(BigInt(i), 7n, [field, valueFor(i)]);
    const count = i;
    batcher.whenDurable(log.lastTicket).then(() => {
      if (count > acked) {
        acked = count;
        process.stdout.write(`ACK ${count}\n`);
      }
    });
    setImmediate(turn);
  };
  turn();
})();
