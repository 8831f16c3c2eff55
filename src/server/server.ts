// The TCP listener and the wiring of one server instance: configuration, command registry, state, connections.
// startServer() is what main.ts and the tests call; several instances can live in one process.

import net from 'node:net';
import { ConfigStore } from '../config/configStore';
import { CommandRegistry } from '../commands/registry';
import { ALL_COMMANDS } from '../commands';
import { ReplyWriter } from '../protocol/replyWriter';
import { Connection } from './connection';
import { Dispatcher } from './dispatcher';
import { ServerState } from './serverState';
import { Err } from '../errors';

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
      for (const conn of connections.values()) conn.close();
      await Promise.all(listeners.map((l) => new Promise<void>((r) => l.close(() => r()))));
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
      shutdown: close,
    },
    start.clock,
  );
  state.configFile = start.configFile ?? '';
  const dispatcher = new Dispatcher(state);

  const onConnection = (socket: net.Socket) => {
    state.stats.totalConnections++;
    if (connections.size >= config.getNumber('maxclients')) {
      state.stats.rejectedConnections++;
      socket.end(`-${Err.maxClients}\r\n`);
      return;
    }
    const conn = new Connection(socket, state, dispatcher, (c) => connections.delete(c.state.id));
    connections.set(conn.state.id, conn);
    state.clients.set(conn.state.id, conn.state);
  };

  const port = config.getNumber('port');
  const addresses = config.get('bind').split(/\s+/).filter(Boolean);
  let boundPort = port;
  for (const address of addresses) {
    const listener = net.createServer({ noDelay: true }, onConnection);
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ port: boundPort, host: address.replace(/^-/, ''), backlog: 511 }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    const info = listener.address();
    if (info && typeof info === 'object') boundPort = info.port;
    listeners.push(listener);
  }
  state.boundPort = boundPort;
  return { port: boundPort, state, stopped, close };
}
