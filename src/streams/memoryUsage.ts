// MEMORY USAGE's number for a stream: Spool's estimate of the heap the stream holds. Entries are records in the
// mapped log (page cache, not heap) and are not counted; what is counted is what lives in the JavaScript heap
// because of the stream: its entry index and node table (typed arrays, by capacity), its consumer groups with
// their PELs (typed-array chunks) and consumers, its idempotency table, and the key. The fixed sizes below are
// estimates of V8 object overheads, not measurements: the number is meant to rank streams (redis-cli --memkeys)
// and to grow with what grows, not to add up to the process's RSS.

import type { ConsumerGroup } from './consumerGroup';
import type { Stream } from './stream';

/** The Stream object with its index, node table, entry store and settings objects, and its keyspace slot. */
const STREAM_OBJECT_BYTES = 512;
/** A consumer group object, its consumer map and slot tables. */
const GROUP_OBJECT_BYTES = 160;
/** A consumer object and its own (empty) PEL. */
const CONSUMER_OBJECT_BYTES = 96;
/** One remembered idempotent ID (map slot, entry object, ID). */
const IDMP_ENTRY_BYTES = 96;
/** A V8 string's header; its characters are one byte each (keys are latin1). */
const STRING_HEADER_BYTES = 16;

function stringBytes(s: string): number {
  return STRING_HEADER_BYTES + s.length;
}

function groupBytes(group: ConsumerGroup): number {
  let bytes = GROUP_OBJECT_BYTES + stringBytes(group.name) + group.pel.heapBytes;
  for (const consumer of group.consumers.values()) {
    bytes += CONSUMER_OBJECT_BYTES + stringBytes(consumer.name) + consumer.pel.heapBytes;
  }
  return bytes;
}

/** Estimated heap bytes of `stream` stored under `key` (see the header for what is counted). */
export function streamHeapBytes(key: string, stream: Stream): number {
  let bytes = STREAM_OBJECT_BYTES + stringBytes(key) + stream.indexHeapBytes;
  for (const group of stream.groups.values()) bytes += groupBytes(group);
  if (stream.idmp !== null) bytes += stream.idmp.iidsTracked * IDMP_ENTRY_BYTES;
  return bytes;
}
