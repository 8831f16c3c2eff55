// The /metrics endpoint: a node:http server per address of `bind`, on `metrics-port`. GET /metrics answers in
// Prometheus's text format; GET /healthz answers 200 "ok" (a liveness/readiness probe that needs no Redis
// client). The endpoint has no authentication: bind it to a private address (README "Security").

import http from 'node:http';
import type { Registry } from 'prom-client';

export interface MetricsEndpoint {
  readonly port: number;
  readonly servers: http.Server[];
  close(): Promise<void>;
}

export function createHandler(registry: Registry): http.RequestListener {
  return (req, res) => {
    const url = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD' }).end();
      return;
    }
    if (url === '/healthz') {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok\n');
      return;
    }
    if (url !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (err: Error) => res.writeHead(500, { 'Content-Type': 'text/plain' }).end(`metrics collection failed: ${err.message}\n`),
    );
  };
}

/** Listens on every address (port 0: one ephemeral port, shared by the following addresses). */
export async function startMetricsEndpoint(registry: Registry, port: number, addresses: string[]): Promise<MetricsEndpoint> {
  const servers: http.Server[] = [];
  const handler = createHandler(registry);
  const close = () => Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  let bound = port;
  try {
    for (const address of addresses) {
      const server = http.createServer(handler);
      // A scrape is small and quick: do not keep idle keep-alive sockets around past close().
      server.keepAliveTimeout = 5000;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: bound, host: address }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      servers.push(server);
      const info = server.address();
      if (info && typeof info === 'object') bound = info.port;
    }
  } catch (err) {
    await close();
    const e = err as NodeJS.ErrnoException;
    e.message = `metrics-port ${port}: ${e.message}`;
    throw e;
  }
  return { port: bound, servers, close };
}
