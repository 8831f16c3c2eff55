// The listeners beside the plain TCP one, started and stopped with the server (server.ts calls this once its
// TCP listeners are up): the TLS port and the Prometheus /metrics endpoint. Each is off when its port is 0.
// Returned as net.Servers (tls.Server and http.Server are ones): server.ts closes them with its own.
// The metrics modules (prom-client) load only when the endpoint is on: loading them took a large part of every
// start, spawn to first PONG.

import type net from 'node:net';
import type { ServerState } from './serverState';
import { listenTls } from './tlsListener';

export async function startOpsListeners(
  state: ServerState,
  addresses: string[],
  onConnection: (socket: net.Socket) => void,
): Promise<net.Server[]> {
  const config = state.config;
  const servers: net.Server[] = [];
  try {
    if (config.getNumber('tls-port') > 0) servers.push(...(await listenTls(config, addresses, onConnection)));
    const metricsPort = config.getNumber('metrics-port');
    if (metricsPort > 0) {
      const { buildRegistry } = await import('../metrics/registry');
      const { startMetricsEndpoint } = await import('../metrics/httpEndpoint');
      const endpoint = await startMetricsEndpoint(buildRegistry(state), metricsPort, addresses);
      servers.push(...endpoint.servers);
    }
  } catch (err) {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    throw err;
  }
  return servers;
}
