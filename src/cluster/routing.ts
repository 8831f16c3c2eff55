// Whether this node may run a request's keys, or which redirection the client gets instead: Redis's
// getNodeByQuery and clusterRedirectClient (cluster.c, 7.0). All keys must hash to one slot (CROSSSLOT), the
// slot must be assigned (CLUSTERDOWN) and served here (MOVED); a slot being migrated away sends the keys this
// node no longer holds to the target (ASK), a slot being imported is served to clients that said ASKING, and a
// multi-key request whose keys are split by a migration must be retried (TRYAGAIN). A replica sends every
// request to its master (MOVED) except the reads of a client that said READONLY. MIGRATE itself runs here
// whenever its slot is open (migrating or importing), so keys can move freely; a key a MIGRATE is sending right
// now is neither here nor there yet, so requests on it are retried (TRYAGAIN) too.

import { sameBytes } from '../util/bytes';
import { ClusterErr } from '../errors';
import { keyHashSlot } from './keySlot';
import type { ClusterNode, Topology } from './topology';


/**
 * The error reply redirecting a request whose key arguments are `keyLists` (one list per command: EXEC checks
 * every queued command together), or null when this node serves it. `hasKey` tells whether a key exists here.
 */
export function redirection(
  topology: Topology,
  keyLists: readonly (readonly Buffer[])[],
  hasKey: (key: Buffer) => boolean,
  asking: boolean,
  /** The command has the write flag (EXEC itself has not, as in Redis). */
  write: boolean,
  /** The command is MIGRATE: served here whenever its slot is open, as Redis's getNodeByQuery does. */
  migrate = false,
  /** Whether a key is being sent by a MIGRATE of this node (null: none is). */
  inFlight: ((key: Buffer) => boolean) | null = null,
  /** A READONLY client's request that writes nothing (for EXEC: no queued command writes). */
  readOnlyRequest = false,
): string | null {
  let firstKey: Buffer | null = null;
  let slot = 0;
  let owner: ClusterNode | null = null;
  let migrating = false;
  let importing = false;
  let multipleKeys = false;
  let missingKeys = 0;
  let keysInFlight = 0;
  for (const keys of keyLists) {
    for (const key of keys) {
      const keySlot = keyHashSlot(key);
      if (firstKey === null) {
        firstKey = key;
        slot = keySlot;
        owner = topology.owner[slot];
        if (owner === null) return ClusterErr.unbound;
        if (owner === topology.myself && topology.migrating.has(slot)) migrating = true;
        else if (topology.importing.has(slot)) importing = true;
      } else if (!sameBytes(firstKey, key)) {
        if (slot !== keySlot) return ClusterErr.crossSlot;
        multipleKeys = true;
      }
      if ((migrating || importing) && !hasKey(key)) missingKeys++;
      if (migrating && inFlight !== null && inFlight(key)) keysInFlight++;
    }
  }
  if (owner === null) return null;
  if (!topology.ok) {
    if (!topology.allowReadsWhenDown) return ClusterErr.down;
    if (write) return ClusterErr.downReadOnly;
  }
  if (migrate && (migrating || importing)) return null;
  if (keysInFlight > 0) return ClusterErr.tryAgain;
  if (migrating && missingKeys > 0) {
    if (multipleKeys) return ClusterErr.tryAgain;
    const target = topology.migrating.get(slot)!;
    return ClusterErr.ask(slot, target.host, target.port);
  }
  if (importing && asking) return multipleKeys && missingKeys > 0 ? ClusterErr.tryAgain : null;
  if (owner !== topology.myself) {
    // A replica serves its master's slots to READONLY clients' reads; anything else goes to the master.
    if (readOnlyRequest && topology.replicates(owner)) return null;
    return ClusterErr.moved(slot, owner.host, owner.port);
  }
  return null;
}
