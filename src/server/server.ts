// The TCP listener and the wiring of one server instance: configuration, command registry, state, connections.
// startServer() is what main.ts and the tests call; several instances can live in one process.

import net from 'node:net';
import { ConfigStore } from '../config/configStore';
import { CommandRegistry } from '../commands/registry';
import { ALL_COMMANDS } from '../commands';
import { ReplyWriter } from '../protocol/replyWriter';
import { Connection } from './connection';
import { IoThreads } from './ioThreads';
import { Dispatcher } from './dispatcher';
import { ServerState } from './serverState';
import { Err } from '../errors';
import path from 'node:path';
import { Persistence, type Logger } from './persistence';
// Operations: protected-mode decision (unit-tested on its own), TLS and /metrics listeners.
import { protectedModeRefuses } from './protectedMode';
import { startOpsListeners } from './opsListeners';
import { openCluster } from '../cluster/clusterState';
import { redirectBlockedClients } from './clusterGate';
import { attachReplication } from './replication/setup';
import { followClusterMaster, SlotOwnersFeed } from './clusterReplica';
import { RDB_FULL_SYNC } from './replication/fullSync';

/**
 * Hardening: answers a refused connection with one error and closes it, as Redis does (write, then close).
 * Ending alone is not enough: nobody reads the socket, so the peer's FIN is never seen and the half-closed
 * socket would stay counted by the listener (close() would then never finish); and a peer that resets the
 * connection would emit an 'error' event with no listener, which throws.
 */
function refuse(socket: net.Socket, text: string): void {
  socket.on('error', () => socket.destroy());
  socket.end(`-${text}\r\n`, () => socket.destroy());
}

export interface RunningServer {
  readonly port: number;
  readonly state: ServerState;
  /** Resolves once the server has stopped (SHUTDOWN or close()). */
  readonly stopped: Promise<void>;
  close(): Promise<void>;
}

export interface StartOptions {
  /** Path of the config file, for CONFIG REWRITE and INFO config_file. */
  configFile?: string;
  clock?: () => number;
  /** Where start-up, recovery and storage warnings go (main.ts prints them). */
  log?: Logger;
}

export async function startServer(
  options: Record<string, string> = {},
  start: StartOptions = {},
): Promise<RunningServer> {
  const config = new ConfigStore(new Map(Object.entries(options)));
  const registry = new CommandRegistry(ALL_COMMANDS);
  const connections = new Map<number, Connection>();
  let resolveStopped!: () => void;
  const stopped = new Promise<void>((r) => (resolveStopped = r));
  const listeners: net.Server[] = [];
  let closing: Promise<void> | null = null;

  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      // Stop accepting, let the batch in flight commit and its replies go out, then sync and close the logs.
      state.retention.close();
      state.clientPause.close();
      state.replication.close();
      const stopListening = Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
      await persistence.batcher.drain().catch(() => undefined);
      for (const conn of connections.values()) conn.flush();
      for (const conn of connections.values()) conn.close();
      await stopListening;
      await persistence.close().catch((err: Error) => logger('warning', `closing the stream logs: ${err.message}`));
      await state.cluster?.file.settled();
      resolveStopped();
    })();
    return closing;
  };

  const state = new ServerState(
    config,
    registry,
    {
      newWriter: (client) => new ReplyWriter(client.protocol),
      deliver: (client, reply, ticket) => connections.get(client.id)?.deliver(reply, ticket),
      push: (client, bytes) => connections.get(client.id)?.push(bytes),
      shutdown: close,
    },
    start.clock,
  );
  state.configFile = start.configFile ?? '';
  const logger: Logger = start.log ?? (() => undefined);
  state.log = logger;
  const dispatcher = new Dispatcher(state);
  const persistence = new Persistence(path.resolve(config.get('dir')), state, logger);
  // Cluster mode: the topology is loaded before anything listens, so no command runs unrouted.
  if (config.getBoolean('cluster-enabled')) {
    if (config.getNumber('port') === 0) throw new Error('cluster-enabled needs a fixed port (the topology names each node by its port)');
    // As Redis: a cluster node's master is the one its topology names (a `slave <master-id>` line).
    if (config.get('replicaof').trim() !== '') throw new Error('replicaof directive not allowed in cluster mode');
    state.cluster = await openCluster({
      file: path.resolve(config.get('dir'), config.get('cluster-config-file')),
      port: config.getNumber('port'),
      announceIp: config.get('cluster-announce-ip'),
      defaultHost: config.get('bind').split(/\s+/).filter(Boolean)[0]?.replace(/^-/, '') ?? '',
      onSaveError: (err) => logger('warning', `saving the cluster topology: ${err.message}`),
    });
    const slotOwners = new SlotOwnersFeed(state);
    state.cluster.onChange = () => {
      redirectBlockedClients(state);
      slotOwners.changed();
    };
    const topology = state.cluster.topology;
    const follow = (): void => {
      topology.requireFullCoverage = config.getBoolean('cluster-require-full-coverage');
      topology.allowReadsWhenDown = config.getBoolean('cluster-allow-reads-when-down');
    };
    follow();
    config.onChange((name) => {
      if (name === 'cluster-require-full-coverage' || name === 'cluster-allow-reads-when-down') follow();
    });
  }
  state.recovery = await persistence.recover(dispatcher); // kept for the recovery metrics
  state.persistence = persistence;
  state.durability = persistence;
  // Writer threads start once recovery succeeded (a failed start leaves none behind); close() stops them.
  state.ioThreads = new IoThreads(config.getNumber('io-threads') - 1, (message) => logger('warning', message));
  stopped.then(() => state.ioThreads.close());
  // One fsync can release the replies of every pipelining client: their socket writes are made as one batch.
  const releaseAll = (): void => {
    for (const conn of connections.values()) conn.releaseDurable();
  };
  persistence.onDurable(() => state.ioThreads.batch(releaseAll));
  // Retention's periodic check (maxage/maxbytes) starts once the logs are recovered.
  state.retention.start();

  const onConnection = (socket: net.Socket) => {
    state.stats.totalConnections++;
    if (connections.size >= config.getNumber('maxclients')) {
      state.stats.rejectedConnections++;
      refuse(socket, Err.maxClients);
      return;
    }
    if (protectedModeRefuses(config, socket.remoteAddress)) {
      state.stats.rejectedConnections++;
      refuse(socket, Err.protectedMode);
      return;
    }
    const conn = new Connection(socket, state, dispatcher, (c) => connections.delete(c.state.id));
    connections.set(conn.state.id, conn);
    state.clients.set(conn.state.id, conn.state);
  };

  // Idle clients are closed after `timeout` seconds, as Redis's clientsCron does; blocked clients have their own,
  // and Pub/Sub subscribers, which wait for messages, are never idle (Redis exempts CLIENT_PUBSUB too).
  const idleSweep = setInterval(() => {
    const limit = config.getNumber('timeout') * 1000;
    const now = state.clock();
    for (const conn of connections.values()) {
      // Hardening: a client over the soft output buffer limit is closed once soft-seconds pass, even while
      // it sends nothing (its socket is paused by backpressure, so no new reply would trigger the check).
      if (conn.checkOutputLimits(now)) continue;
      const c = conn.state;
      if (limit > 0 && c.blocked === null && !c.subscribed && now - c.lastInteraction > limit) conn.close();
    }
  }, 1000);
  idleSweep.unref();
  stopped.then(() => clearInterval(idleSweep));

  const port = config.getNumber('port');
  const addresses = config.get('bind').split(/\s+/).filter(Boolean);
  let boundPort = port;
  // Operations: a listener that cannot start (port taken) must not leave the others and the logs open.
  const failStart = async (err: unknown): Promise<never> => {
    await close();
    throw err;
  };
  for (const address of addresses) {
    const listener = net.createServer({ noDelay: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ port: boundPort, host: address.replace(/^-/, ''), backlog: 511 }, () => {
        listener.off('error', reject);
        resolve();
      });
    }).catch(failStart);
    const info = listener.address();
    if (info && typeof info === 'object') boundPort = info.port;
    listeners.push(listener);
  }
  state.boundPort = boundPort;
  // Replication: full resynchronizations through the RDB codec; `replicaof` connects now that the port is known
  // (REPLCONF listening-port).
  attachReplication(state, dispatcher, logger, RDB_FULL_SYNC);
  // Cluster mode: a node listed as a replica replicates its master from now on.
  followClusterMaster(state);
  // Operations: TLS port and /metrics endpoint (off when their port is 0); close() stops them with the rest.
  listeners.push(...(await startOpsListeners(state, addresses.map((a) => a.replace(/^-/, '')), onConnection).catch(failStart)));
  return { port: boundPort, state, stopped, close };
}
