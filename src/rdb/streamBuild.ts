// Between Spool's Stream and the plain StreamValue of an RDB: streamValueOf reads a stream's node layout,
// entries (flagged ones too), counters and groups; fillStream makes a Spool stream of a decoded value, with
// the node layout, flags and groups exactly as the value has them (so XINFO STREAM FULL and `~` trimming match
// the Redis that dumped it). RESTORE and RDB loading share it (server/restoredStream.ts).

import type { GroupState } from '../streams/consumerGroup';
import { intElementSize } from '../streams/nodeModel';
import type { Stream, StreamState } from '../streams/stream';
import { formatId, type StreamId } from '../streams/streamId';
import { RdbFormatError, type RdbWriter } from './primitives';
import { writeStreamMeta, writeStreamNodes, type StreamValue, type StreamValueConsumer, type StreamValueGroup, type StreamValueNode } from './streamValue';

/** The stream's listpack nodes, one at a time. Entry bytes are views into the store: encode before the next write. */
export function* streamNodes(stream: Stream): Generator<StreamValueNode> {
  for (const [start, end] of stream.nodeRanges()) {
    const entries = [];
    for (let abs = start; abs < end; abs++) {
      entries.push({ id: stream.idAt(abs), deleted: stream.deletedAt(abs), fields: stream.fieldsAtPosition(abs) });
    }
    yield { entries, lpBytes: 0 };
  }
}

/** rdbSaveObject for a Spool stream, node by node: a long stream's entries are never all materialized at once. */
export function writeStreamOf(out: RdbWriter, stream: Stream): void {
  writeStreamNodes(out, stream.nodeCount, streamNodes(stream));
  writeStreamMeta(out, streamMetaOf(stream));
}

/** Everything of `stream` an RDB holds, its nodes included (see streamMetaOf and streamNodes to stream them). */
export function streamValueOf(stream: Stream): StreamValue {
  return { ...streamMetaOf(stream), nodes: [...streamNodes(stream)] };
}

/** Everything of `stream` an RDB holds but its nodes. */
export function streamMetaOf(stream: Stream): Omit<StreamValue, 'nodes'> {
  const groups: StreamValueGroup[] = [];
  for (const group of stream.groups.values()) {
    const pending: StreamValueGroup['pending'] = [];
    group.pel.forEach(null, null, (e) => {
      pending.push({ id: e.id, deliveryTime: e.deliveryTime, deliveryCount: e.deliveryCount });
    });
    const consumers: StreamValueConsumer[] = [];
    for (const c of group.consumers.values()) {
      const ids: StreamId[] = [];
      c.pel.forEach(null, null, (e) => {
        ids.push(e.id);
      });
      consumers.push({ name: Buffer.from(c.name, 'latin1'), seenTime: c.seenTime, pending: ids });
    }
    groups.push({ name: Buffer.from(group.name, 'latin1'), lastId: group.lastId, entriesRead: group.entriesRead, pending, consumers });
  }
  return {
    length: stream.length,
    lastId: stream.lastId,
    firstId: stream.recordedFirstId,
    maxDeletedId: stream.maxDeletedId,
    entriesAdded: stream.entriesAdded,
    groups,
  };
}

/** The checkpoint state (see streams/checkpoint.ts) that gives a stream holding the value's entries its layout. */
function stateOf(value: StreamValue): StreamState {
  const deleted: number[] = [];
  const nodes: number[] = [];
  let rank = 0;
  for (const node of value.nodes) {
    const start = rank;
    let live = 0;
    for (const e of node.entries) {
      if (e.deleted) deleted.push(rank);
      else live++;
      rank++;
    }
    const flagged = node.entries.length - live;
    // NodeTable keeps the listpack size without its two master counters (their encoded size changes).
    nodes.push(start, rank, live, flagged, node.lpBytes - intElementSize(live) - intElementSize(flagged));
  }
  return {
    lastId: formatId(value.lastId),
    maxDeletedId: formatId(value.maxDeletedId),
    entriesAdded: value.entriesAdded.toString(),
    firstId: formatId(value.firstId),
    live: value.length,
    entries: rank,
    deleted,
    nodes,
    groups: value.groups.map(groupState),
  };
}

function groupState(g: StreamValueGroup): GroupState {
  const owners = new Map<string, number>();
  const consumers: [string, number, number][] = g.consumers.map((c, slot) => {
    for (const id of c.pending) owners.set(formatId(id), slot);
    return [c.name.toString('latin1'), slot, c.seenTime];
  });
  const pel: [string, number, string, number][] = g.pending.map((p) => {
    const id = formatId(p.id);
    return [id, p.deliveryTime, p.deliveryCount.toString(), owners.get(id) ?? -1];
  });
  return { name: g.name.toString('latin1'), lastId: formatId(g.lastId), entriesRead: g.entriesRead.toString(), consumers, pel };
}

/**
 * Fills an empty stream with the value: entries appended in order (a durable stream's ENTRY records land in its
 * log), then the layout, flags, counters and groups. Throws RdbFormatError when the value's entries cannot form
 * a stream (the caller destroys the stream then).
 */
export function fillStream(stream: Stream, value: StreamValue): void {
  try {
    for (const node of value.nodes) {
      for (const e of node.entries) {
        if (e.fields.length === 0 || e.fields.length % 2 !== 0) throw new RdbFormatError('stream entry without fields');
        stream.append(e.fields, { id: e.id, seqGiven: true }, 0);
      }
    }
    stream.importState(stateOf(value));
  } catch (err) {
    if (err instanceof RdbFormatError) throw err;
    throw new RdbFormatError((err as Error).message);
  }
}
