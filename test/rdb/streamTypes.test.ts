// Stream values of the types other Redis versions write: RDB_TYPE_STREAM_LISTPACKS (15, Redis 5/6: no first ID,
// max deleted ID, entries added or groups' entries-read) and RDB_TYPE_STREAM_LISTPACKS_3 (21, Redis 7.2+:
// consumers' active-time). Payloads of both are made from streams of many shapes; a type 15 payload RESTOREd into
// Spool reads back as redis-server 7.0 reads the same payload, a type 21 one as the type 19 original.
import { describe, expect, it } from 'vitest';
import { useServerPair } from './serverPair';
import { RespConnection, nodeText } from '../helpers/resp';
import { crc64 } from '../../src/rdb/crc64';
import { restoreStreamValue } from '../../src/rdb/dump';
import { RdbWriter } from '../../src/rdb/primitives';
import { nodeListpack, type StreamValue } from '../../src/rdb/streamValue';
import { buildStreams, bulk, streamViews } from './streamShapes';

const pair = useServerPair();

/** A DUMP payload of `value` as a Redis 5/6 (type 15) or 7.2 (type 21) would write it. */
function payloadOfType(value: StreamValue, type: 15 | 21): Buffer {
  const w = new RdbWriter();
  w.byte(type);
  w.len(value.nodes.length);
  for (const node of value.nodes) {
    w.len(16);
    w.rawId(node.entries[0].id.ms, node.entries[0].id.seq);
    w.string(nodeListpack(node));
  }
  w.len(value.length);
  w.len(value.lastId.ms);
  w.len(value.lastId.seq);
  if (type === 21) {
    for (const id of [value.firstId, value.maxDeletedId]) {
      w.len(id.ms);
      w.len(id.seq);
    }
    w.len(value.entriesAdded);
  }
  w.len(value.groups.length);
  for (const g of value.groups) {
    w.string(g.name);
    w.len(g.lastId.ms);
    w.len(g.lastId.seq);
    if (type === 21) w.len(BigInt.asUintN(64, g.entriesRead));
    w.len(g.pending.length);
    for (const p of g.pending) {
      w.rawId(p.id.ms, p.id.seq);
      w.millis(p.deliveryTime);
      w.len(p.deliveryCount);
    }
    w.len(g.consumers.length);
    for (const c of g.consumers) {
      w.string(c.name);
      w.millis(c.seenTime);
      if (type === 21) w.millis(c.seenTime + 1);
      w.len(c.pending.length);
      for (const id of c.pending) w.rawId(id.ms, id.seq);
    }
  }
  w.byte(type === 21 ? 11 : 9);
  w.byte(0);
  const body = w.take();
  return Buffer.concat([body, crc64(body)]);
}

describe('older and newer stream types', () => {
  it('type 15 (Redis 5/6) restores as redis-server 7.0 restores it', async () => {
    const keys = await buildStreams((args) => pair.r.call(args));
    for (const key of keys) {
      const old = payloadOfType(restoreStreamValue(bulk(await pair.r.call(['DUMP', key]))), 15);
      expect(nodeText(await pair.r.call(['RESTORE', `v6:${key}`, '0', old]))).toBe('OK');
      expect(nodeText(await pair.s.call(['RESTORE', `v6:${key}`, '0', old]))).toBe('OK');
      const call = (c: RespConnection) => (args: string[]) => c.call(args);
      expect(await streamViews(call(pair.s), [`v6:${key}`]), key).toEqual(await streamViews(call(pair.r), [`v6:${key}`]));
    }
  });

  it('type 21 (Redis 7.2) restores as the type 19 original (active-time dropped)', async () => {
    const keys = await buildStreams((args) => pair.s.call(args));
    for (const key of keys) {
      const value = restoreStreamValue(bulk(await pair.s.call(['DUMP', key])));
      const newer = payloadOfType(value, 21);
      expect(restoreStreamValue(newer).groups.flatMap((g) => g.consumers.map((c) => c.activeTime))).toEqual(
        value.groups.flatMap((g) => g.consumers.map((c) => c.seenTime + 1)),
      );
      expect(nodeText(await pair.s.call(['RESTORE', `v72:${key}`, '0', newer]))).toBe('OK');
      const call = (args: string[]) => pair.s.call(args);
      expect(await streamViews(call, [`v72:${key}`]), key).toEqual(await streamViews(call, [key]));
    }
  });
});
