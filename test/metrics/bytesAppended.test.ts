// spool_bytes_appended_total counts the record bytes written into the stream logs (docs/ARCHITECTURE.md,
// "Record format"), not the segment bytes reserved for them: appends of known sizes, across segment
// roll-overs (segment-max-size 64kb, so sealed segments end with unused bytes), must add up exactly, and a
// deleted stream must not take its bytes back out of the counter.
import Redis from 'ioredis';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freePort } from '../helpers/ports';
import { startSpool, type SpoolHandle } from '../helpers/spool';
import { scrape, value } from './scrape';

/** An ENTRY record: 10-byte header, u64 ms, u64 seq, u32 item count, then per item u32 length + bytes. */
function entryRecordBytes(items: string[]): number {
  return 10 + 8 + 8 + 4 + items.reduce((a, item) => a + 4 + Buffer.byteLength(item), 0);
}

let spool: SpoolHandle;
let metricsPort: number;
let r: Redis;
beforeAll(async () => {
  metricsPort = await freePort();
  spool = await startSpool({ 'metrics-port': String(metricsPort), 'segment-initial-size': '64kb', 'segment-max-size': '64kb' });
  r = new Redis({ port: spool.port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0 });
  await r.connect();
});
afterAll(async () => {
  r?.disconnect();
  await spool?.stop();
});

const appended = async () => value((await scrape(metricsPort)).samples, 'spool_bytes_appended_total');

describe('spool_bytes_appended_total', () => {
  test('is the sum of the record sizes appended, across segment roll-overs, and survives a delete', async () => {
    expect(await appended()).toBe(0);

    await r.xadd('one', '1-1', 'f', 'v');
    let expected = entryRecordBytes(['f', 'v']);
    expect(await appended()).toBe(expected); // not the 64 KiB segment reserved for it

    // about 1 KB per entry, sizes varying, pipelined: several 64 KiB segments, each sealed with a tail unused
    const p = r.pipeline();
    for (let i = 1; i <= 300; i++) {
      const items = [`field${i % 10}`, 'x'.repeat(1000 + (i % 13))];
      p.xadd('big', `${i}-0`, ...items);
      expected += entryRecordBytes(items);
    }
    const results = await p.exec();
    expect(results!.every(([err]) => err === null)).toBe(true);
    const { samples } = await scrape(metricsPort);
    expect(value(samples, 'spool_bytes_appended_total')).toBe(expected);
    // the segment files hold more than the records: several segments, the last one not full
    expect(value(samples, 'spool_stream_size_bytes', { db: 'db0', stream: 'big' })).toBeGreaterThanOrEqual(4 * 65536);

    await r.del('big');
    expect(await appended()).toBe(expected);
    await r.xadd('one', '2-1', 'field', 'value');
    expect(await appended()).toBe(expected + entryRecordBytes(['field', 'value']));
  });
});
