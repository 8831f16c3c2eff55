// Cluster mode's check before a command runs, as Redis's processCommand: the key arguments of the request (for
// EXEC, of every queued command) go through the slot routing (src/cluster/routing.ts); commands without keys
// pass. Also consumes the one-shot ASKING flag. Called only while cluster mode is on.

import { keyArguments, type CommandRegistry, type Resolved } from '../commands/registry';
import { redirection } from '../cluster/routing';
import type { ClusterState } from '../cluster/clusterState';
import type { Database } from '../keyspace/database';
import type { ClientState } from './clientState';

/** Commands whose keys are found by reading their options (COMMAND INFO flag movablekeys). */
const MOVABLE_KEYS = new Set(['xread', 'xreadgroup']);

function keysOf(resolved: Resolved, args: Buffer[]): Buffer[] | null {
  const spec = resolved.spec;
  if (spec.firstKey > 0 || MOVABLE_KEYS.has(spec.name)) return keyArguments(spec, args);
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
  const keyLists: Buffer[][] = [];
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
      const keys = keysOf(r, queued.args);
      if (keys !== null) keyLists.push(keys);
    }
  } else {
    const keys = keysOf(resolved, args);
    if (keys === null) return null;
    keyLists.push(keys);
  }
  return redirection(cluster.topology, keyLists, (key) => db0.has(key.toString('latin1')), asking);
}
