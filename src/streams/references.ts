// What the Redis 8.2 deletion policies (KEEPREF | DELREF | ACKED) decide about consumer-group references to an
// entry: whether some group still needs it, and dropping every group's reference to it. Shared by XDELEX,
// XACKDEL and the trims of XADD/XTRIM, so the three agree on what "referenced" means.

import type { ConsumerGroup } from './consumerGroup';
import type { Stream } from './stream';
import { compareIds, type StreamId } from './streamId';

/**
 * KEEPREF (the default): delete, leave PEL references as they are (what XDEL and Redis 7 trims do).
 * DELREF: delete and drop the entry from every group's PEL. ACKED: delete only entries no group still needs.
 */
export type RefPolicy = 'keepref' | 'delref' | 'acked';

/**
 * Whether some group still needs the entry: it is pending in a group's PEL, or a group has not been delivered
 * it yet (its last delivered ID is below it, so a later XREADGROUP > would serve it). A stream without groups
 * references nothing (Redis 8.2's test suite deletes with ACKED once the last group is destroyed).
 */
export function isReferenced(groups: ReadonlyMap<string, ConsumerGroup>, id: StreamId): boolean {
  for (const group of groups.values()) {
    if (compareIds(id, group.lastId) > 0) return true;
    if (group.pel.has(id)) return true;
  }
  return false;
}

/** Removes the entry from every group's PEL (and its consumer's); true when some group had it pending. */
export function dropReferences(groups: ReadonlyMap<string, ConsumerGroup>, id: StreamId): boolean {
  let dropped = false;
  for (const group of groups.values()) if (group.ack(id)) dropped = true;
  return dropped;
}

/** Per-ID outcome of XDELEX / XACKDEL: -1 no such entry (or, XACKDEL, not pending), 1 deleted, 2 still referenced. */
export type DeleteOutcome = -1 | 1 | 2;

/**
 * Deletes one entry under `policy`: ACKED keeps an entry some group still needs (2); DELREF drops every group's
 * reference, also when the entry itself is already gone (a dangling reference: the docs say DELREF still
 * removes those). The outcome is -1 when the stream has no such entry; `changed` says whether the stream or a
 * group changed (for WATCH).
 */
export function deleteWithPolicy(stream: Stream, id: StreamId, policy: RefPolicy): { outcome: DeleteOutcome; changed: boolean } {
  if (policy === 'acked' && stream.hasEntry(id) && isReferenced(stream.groups, id)) return { outcome: 2, changed: false };
  const dropped = policy === 'delref' && dropReferences(stream.groups, id);
  const deleted = stream.delete(id);
  return { outcome: deleted ? 1 : -1, changed: deleted || dropped };
}
