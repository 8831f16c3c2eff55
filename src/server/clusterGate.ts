// Cluster mode's check before a command runs, as Redis's processCommand: the key arguments of the request (for
// EXEC, of every queued command) go through the slot routing (src/cluster/routing.ts); commands without keys
// pass. Also consumes the one-shot ASKING flag. Keys of commands with a `keys` function (MIGRATE) come from it. Called only while cluster mode is on.

import { keyArguments, type CommandRegistry, type Resolved } from '../commands/registry';
import { redirection } from '../cluster/routing';
import { keyHashSlot, keySlotOf } from '../cluster/keySlot';
import { ClusterErr } from '../errors';
import type { ClusterState } from '../cluster/clusterState';
import type { Database } from '../keyspace/database';
import type { ClientState } from './clientState';
import type { ServerState } from './serverState';

/** Commands whose keys are found by reading their options (COMMAND INFO flag movablekeys). */
const MOVABLE_KEYS = new Set(['xread', 'xreadgroup']);

function keysOf(resolved: Resolved, args: Buffer[]): Buffer[] | null {
  const spec = resolved.spec;
  if (spec.firstKey > 0 || spec.keys !== undefined || MOVABLE_KEYS.has(spec.name)) return keyArguments(spec, args);
  return null;
}

/** The redirection error for this request, or null when this node runs it. */
export function clusterRedirection(
  cluster: ClusterState,
  registry: CommandRegistry,
  client: ClientState,
  db0: Database,
  resolved: Resolved,
  args: Buffer[],
): string | null {
  const asking = client.asking;
  // Redis's resetClient: ASKING lasts for the next command only, or until EXEC once MULTI started.
  const name = resolved.spec.name;
  if (client.multi === null && name !== 'asking' && name !== 'multi') client.asking = false;
  // What our master sends is run whatever the slot (Redis's processCommand skips the redirection for it).
  if (client.replicationRole === 'master') return null;
  const spec = resolved.spec;
  if (spec.firstKey > 0 && spec.lastKey === spec.firstKey && spec.keys === undefined) {
    // One key (XADD, XRANGE, XACK...), the common case: a slot served here and not being migrated needs no
    // key lists (what redirection() would conclude too).
    const topology = cluster.topology;
    const slot = keyHashSlot(args[spec.firstKey]);
    if (topology.owner[slot] === topology.myself && topology.ok && !topology.migrating.has(slot)) return null;
  }
  const keyLists: Buffer[][] = [];
  // Redis's is_write_command: the command writes, or it is an EXEC with a queued command that writes.
  let writes = resolved.traits.write;
  if (name === 'exec') {
    if (client.multi === null) return null;
    client.asking = false; // the transaction ends with this EXEC
    for (const queued of client.multi) {
      let r: Resolved;
      try {
        r = registry.resolve(queued.args);
      } catch {
        continue; // rejected when queued: EXEC aborts anyway
      }
      if (r.traits.write) writes = true;
      const keys = keysOf(r, queued.args);
      if (keys !== null) keyLists.push(keys);
    }
  } else {
    const keys = keysOf(resolved, args);
    if (keys === null) return null;
    keyLists.push(keys);
  }
  const inFlight = cluster.keysInFlight.size > 0 ? (key: Buffer) => cluster.keysInFlight.has(key.toString('latin1')) : null;
  return redirection(
    cluster.topology,
    keyLists,
    (key) => db0.has(key.toString('latin1')),
    // RESTORE-ASKING acts as if ASKING was sent (Redis's CMD_ASKING flag): what a migrating MIGRATE sends.
    asking || name === 'restore-asking',
    resolved.traits.write,
    name === 'migrate',
    inFlight,
    client.readonlyCluster && !writes,
  );
}

/**
 * After a topology change, as Redis's clusterRedirectBlockedClientIfNeeded: a client blocked on keys (XREAD,
 * XREADGROUP BLOCK) gets -CLUSTERDOWN while the cluster is down, and -MOVED (or -CLUSTERDOWN for an unassigned
 * slot) once its slot is neither served nor being imported here; otherwise it keeps waiting.
 */
export function redirectBlockedClients(server: ServerState): void {
  const topology = server.cluster!.topology;
  for (const client of server.clients.values()) {
    const entry = client.blocked;
    if (entry === null || entry.request.keys.length === 0) continue;
    let error: string | null = null;
    if (!topology.ok) error = ClusterErr.down;
    else {
      // All keys of a request share one slot (checked when it was sent): the first one tells.
      const slot = keySlotOf(entry.request.keys[0]);
      const owner = topology.owner[slot];
      // A READONLY client's blocked read (XREAD) stays on the replica of the slot's master, as in Redis.
      const servedHere = owner === topology.myself || (owner !== null && client.readonlyCluster && topology.replicates(owner));
      if (!servedHere && !topology.importing.has(slot))
        error = owner === null ? ClusterErr.unbound : ClusterErr.moved(slot, owner.host, owner.port);
    }
    if (error !== null) server.blocking.fail(entry, error);
  }
}
