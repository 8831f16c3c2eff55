// Replication of consumer-group reads and claims: XREADGROUP, XCLAIM and XAUTOCLAIM never travel as sent (a
// replica's clock, idle times and PEL walk would make them act differently); each entry they delivered or
// claimed travels as the XCLAIM that puts it in the state it has now, a NOACK read as XGROUP SETID, a consumer
// created on the way as XGROUP CREATECONSUMER (Redis 7's t_stream.c does the same). Only called while replicas
// are fed (server.propagation set).

import type { ConsumerGroup } from '../streams/consumerGroup';
import type { StreamId } from '../streams/streamId';
import { consumerCreationOf, groupIdOf, xclaimOf } from '../streams/propagation';

export interface PropagationSink {
  alsoPropagate(db: number, args: Buffer[]): void;
}

export interface GroupTarget {
  readonly db: number;
  readonly key: Buffer;
  readonly groupName: Buffer;
  readonly group: ConsumerGroup;
  readonly consumer: Buffer;
}

/**
 * What reading `ids` did to the group: an XCLAIM per entry now pending (new deliveries, history re-deliveries,
 * CLAIM), then XGROUP SETID with ENTRIESREAD when the read served new entries (Redis 7.0 sends it whenever
 * last_id moved, NOACK or not, so entries-read agrees); `created`: the read created the consumer.
 */
export function propagateRead(sink: PropagationSink, t: GroupTarget, ids: readonly StreamId[], created: boolean, newEntries: boolean, now: number): void {
  if (created) sink.alsoPropagate(t.db, consumerCreationOf(t.key, t.groupName, t.consumer));
  for (const id of ids) if (t.group.pel.has(id)) sink.alsoPropagate(t.db, xclaimOf(t.key, t.groupName, t.group, id, now, t.consumer));
  if (newEntries) sink.alsoPropagate(t.db, groupIdOf(t.key, t.groupName, t.group));
}

/**
 * What XCLAIM/XAUTOCLAIM did: an XCLAIM per entry claimed or dropped (a dropped one's XCLAIM drops it on the
 * replica, its stream entry being gone there too), XGROUP SETID when only LASTID moved the group.
 */
export function propagateClaims(sink: PropagationSink, t: GroupTarget, ids: readonly StreamId[], lastIdMoved: boolean, now: number): void {
  for (const id of ids) sink.alsoPropagate(t.db, xclaimOf(t.key, t.groupName, t.group, id, now, t.consumer));
  if (lastIdMoved && ids.length === 0) sink.alsoPropagate(t.db, groupIdOf(t.key, t.groupName, t.group));
}
