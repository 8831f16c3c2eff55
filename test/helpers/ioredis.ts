// ioredis clients for the integration suites: connected to 127.0.0.1 without retries or an offline queue (a
// failure shows at once), in the protocol asked for, and disconnected after each test.
import Redis from 'ioredis';
import { afterEach } from 'vitest';

/** Registers an afterEach that disconnects them; returns the function that opens one. */
export function useIoredis(port: () => number): (protocol?: 2 | 3) => Promise<Redis> {
  const clients: Redis[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  return async (protocol = 2) => {
    const r = new Redis({ port: port(), host: '127.0.0.1', protocol, lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null });
    clients.push(r);
    await r.connect();
    return r;
  };
}
